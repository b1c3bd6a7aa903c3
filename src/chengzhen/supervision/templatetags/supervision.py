"""The task page's light panel (亮灯): the light, its reasons, its rule set and its history."""

from django import template

from ..models import Light
from ..views import light_history

register = template.Library()


@register.inclusion_tag("supervision/_light_panel.html")
def light_panel(task) -> dict:
    light = Light.objects.filter(task=task).select_related("rule_version__rule_set").first()
    return {"light": light, "history": light_history(task)}
