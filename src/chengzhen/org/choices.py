"""Choice sets of the organisation room."""

from django.db import models


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县/区"
    TOWN = "town", "乡镇/街道"
    VILLAGE = "village", "村/社区"


class UnitKind(models.TextChoices):
    GOVERNMENT = "government", "人民政府"
    LEADING_GROUP_OFFICE = "office", "领导小组办公室"
    DEPARTMENT = "department", "部门"
    TOWN_GOVERNMENT = "town", "乡镇人民政府"
    STREET_OFFICE = "street", "街道办事处"
    OTHER = "other", "其他单位"


class Role(models.TextChoices):
    """Roles a membership gives, with the Chinese office names staff use."""

    SUPERVISOR = "supervisor", "督查（领导小组办公室）"
    UNIT_EDITOR = "unit_editor", "责任单位联络员"
    LEADER = "leader", "领导（只读）"
    INSPECTOR = "inspector", "人大代表/政协委员"
    ADMINISTRATOR = "admin", "系统管理员"
