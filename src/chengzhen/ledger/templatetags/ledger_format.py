"""Money as offices read it: yuan shown in 万元 to two decimals."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


@register.filter
def wan(yuan) -> str:
    """``2033042.41`` → ``203.30万元``; blank stays blank."""
    if yuan is None or yuan == "":
        return "—"
    amount = (Decimal(str(yuan)) / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{amount:,}万元"
