"""Money as offices read it: yuan shown in 万元 to two decimals."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def wan(yuan) -> str:
    """``2033042.41`` → ``203.30万元`` (English: ``203.30 ×10k yuan``); blank stays blank."""
    if yuan is None or yuan == "":
        return "—"
    amount = (Decimal(str(yuan)) / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return _("%(amount)s万元") % {"amount": f"{amount:,}"}
