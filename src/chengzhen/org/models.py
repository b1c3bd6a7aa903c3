"""Organisation: administrative divisions (行政区划), units, people and memberships.

Units form a tree; each unit stores its materialised ``path`` of codes (``/CZ/CZ-ZJJ/``) so that "this
unit and everything beneath it" is one indexed ``startswith`` filter on both databases.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction

from chengzhen.audit.tracking import TrackedModel, TrackedQuerySet

from .choices import DivisionLevel, Role, UnitKind

twelve_digits = RegexValidator(r"^\d{12}$", "统计用区划代码为12位数字")
unit_code = RegexValidator(r"^[A-Za-z0-9_.-]+$", "单位代码只能包含字母、数字、下划线、点和连字符")
six_digits = RegexValidator(r"^\d{6}$", "GB/T 2260 代码为6位数字")


class Division(TrackedModel):
    """An administrative division (行政区划): city → county/district → town/street → village."""

    code = models.CharField("统计用区划代码", max_length=12, unique=True, validators=[twelve_digits])
    gb2260 = models.CharField(
        "GB/T 2260 代码", max_length=6, blank=True, validators=[six_digits],
        help_text="县级及以上区划的6位代码",
    )
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=10, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return self.name


class Unit(TrackedModel):
    """A unit (单位): department, town government, street office … with a unique code.

    A town government uses its division's 12-digit code.
    """

    code = models.CharField("单位代码", max_length=32, unique=True, validators=[unit_code])
    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=50, blank=True)
    head_name = models.CharField("主要负责人", max_length=50, blank=True,
                                 help_text="约谈的对象（单位主要负责人）")
    kind = models.CharField("类型", max_length=12, choices=UnitKind.choices)
    division = models.ForeignKey(
        Division, models.PROTECT, null=True, blank=True, related_name="units", verbose_name="所在区划"
    )
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级单位"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["path"]
        verbose_name = "单位"
        verbose_name_plural = "单位"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The path is built from codes, so it is known before the first write.
        with transaction.atomic():
            old_path = self.path
            self.path = (self.parent.path if self.parent_id else "/") + f"{self.code}/"
            if old_path and self.parent_id and self.parent.path.startswith(old_path):
                raise ValidationError({"parent": f"{self.parent} 是 {self} 的下级单位，不能作为其上级"})
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = set(kwargs["update_fields"]) | {"path"}
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                for child in Unit.objects.filter(parent=self):
                    child.save()  # re-derives its own path and its descendants'


class PersonManager(UserManager.from_queryset(TrackedQuerySet)):
    pass


class User(TrackedModel, AbstractUser):
    """A person who logs in (人员). ``full_name`` is the name as written in Chinese."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    unit = models.ForeignKey(
        Unit, models.SET_NULL, null=True, blank=True, related_name="staff", verbose_name="所在单位"
    )

    objects = PersonManager()
    audit_exclude = ("password", "last_login")

    class Meta(AbstractUser.Meta):
        verbose_name = "人员"
        verbose_name_plural = "人员"

    def __str__(self) -> str:
        return self.full_name or self.username


def system_user(username: str | None = None) -> User:
    """The named system account commands run as without ``--as`` (created if missing).

    It cannot log in: inactive, with an unusable password.
    """
    from django.conf import settings

    name = username or settings.CHENGZHEN_SYSTEM_USERNAME
    user = User.objects.filter(username=name).first()
    if user is None:
        user = User(username=name, full_name="系统", is_active=False)
        user.set_unusable_password()
        user.save()
    return user


class Membership(TrackedModel):
    """A person's role on a unit (任职/授权): covers the unit's subtree of units,
    limited to the programmes listed (all programmes when none are listed)."""

    user = models.ForeignKey(User, models.CASCADE, related_name="memberships", verbose_name="人员")
    role = models.CharField("角色", max_length=12, choices=Role.choices)
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="memberships", verbose_name="单位")

    class Meta:
        verbose_name = "授权"
        verbose_name_plural = "授权"
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


class MembershipProgramme(TrackedModel):
    """One programme a membership is limited to."""

    membership = models.ForeignKey(Membership, models.CASCADE, related_name="programme_links")
    programme = models.ForeignKey(
        "programmes.Programme", models.CASCADE, related_name="membership_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "programme"], name="membership_prog_unique")
        ]
