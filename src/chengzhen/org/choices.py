"""Choice sets of the organisation room."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县/区")
    TOWN = "town", _("乡镇/街道")
    VILLAGE = "village", _("村/社区")


class UnitKind(models.TextChoices):
    GOVERNMENT = "government", _("人民政府")
    LEADING_GROUP_OFFICE = "office", _("领导小组办公室")
    DEPARTMENT = "department", _("部门")
    TOWN_GOVERNMENT = "town", _("乡镇人民政府")
    STREET_OFFICE = "street", _("街道办事处")
    OTHER = "other", _("其他单位")


class Role(models.TextChoices):
    """Roles a membership gives, with the Chinese office names staff use."""

    SUPERVISOR = "supervisor", _("督查（领导小组办公室）")
    UNIT_EDITOR = "unit_editor", _("责任单位联络员")
    LEADER = "leader", _("领导（只读）")
    INSPECTOR = "inspector", _("人大代表/政协委员")
    ADMINISTRATOR = "admin", _("系统管理员")
