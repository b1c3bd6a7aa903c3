"""Supervision in the admin: rule sets edited as YAML, where saving makes a new version
(history is never rewritten); the holiday calendar; escalations, lights and deduction
candidates to look at (they are computed, or recorded through the pages)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from chengzhen.org.admin_base import ReadOnlyAdmin, ScopedAdmin
from chengzhen.problems import Refused

from . import services
from .models import (
    Bulletin,
    BulletinSetting,
    CalendarDay,
    DeductionCandidate,
    Escalation,
    Light,
    RuleSet,
    RuleSetVersion,
)
from .rules import RuleSetError, parse_rule_set


class RuleSetForm(forms.ModelForm):
    source = forms.CharField(label="规则（YAML）", widget=forms.Textarea(attrs={"rows": 40, "cols": 100,
                                                                           "spellcheck": "false"}))
    note = forms.CharField(label="修改说明", max_length=200, required=False)
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = RuleSet
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        latest = self.instance.latest() if self.instance.pk else None
        if latest is not None:
            self.fields["source"].initial = latest.source
            self.fields["opened_version"].initial = latest.number

    def clean(self):
        data = super().clean()
        text = data.get("source") or ""
        try:
            parsed = parse_rule_set(text)
        except RuleSetError as exc:
            raise forms.ValidationError([f"第 {line} 行：{reason}" if line else reason
                                         for line, reason in exc.problems]) from None
        if self.instance.pk:
            if parsed.code != self.instance.code:
                raise forms.ValidationError(f"规则集代码应仍为 {self.instance.code}（改代码请新建规则集）")
            latest = self.instance.latest()
            opened = data.get("opened_version")
            if latest is not None and opened is not None and opened != latest.number:
                raise forms.ValidationError(
                    f"规则集已有新版本（打开时为第 {opened} 版，现为第 {latest.number} 版），请重新打开后再改。")
        elif RuleSet.objects.filter(code=parsed.code).exists():
            raise forms.ValidationError(f"规则集 {parsed.code} 已存在，请在其页面修改")
        return data


@admin.register(RuleSet)
class RuleSetAdmin(ScopedAdmin):
    form = RuleSetForm
    list_display = ["code", "name", "latest_version"]
    fields = ["source", "note", "opened_version", "history"]
    readonly_fields = ["history"]

    @admin.display(description="版本历史")
    def history(self, obj) -> str:
        if not obj.pk:
            return "—"
        rows = obj.versions.select_related("created_by").order_by("-number")
        return format_html_join(mark_safe("<br>"), "第 {} 版 · {} · {} · {}", (
            (v.number, v.created_at.strftime("%Y-%m-%d %H:%M"), v.created_by or "系统", v.note or "—")
            for v in rows))

    @admin.display(description="最新版本")
    def latest_version(self, obj) -> str:
        latest = obj.latest()
        return str(latest.number) if latest else "—"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # programmes and stored lights name their versions

    def save_model(self, request, obj, form, change) -> None:
        try:
            version, _created = services.import_rule_set(
                request.user, form.cleaned_data["source"], source="admin",
                note=form.cleaned_data.get("note") or "", code=obj.code if change else None)
        except Refused as exc:  # checked in the form; a race may still refuse it
            raise PermissionDenied("; ".join(str(p) for p in exc.problems)) from None
        obj.pk = version.rule_set_id
        obj.refresh_from_db()


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "note", "created_by", "created_at"]
    list_filter = ["rule_set"]
    readonly_fields = ["rule_set", "number", "source", "note", "created_by", "created_at"]
    exclude = ["definition"]


@admin.register(CalendarDay)
class CalendarDayAdmin(ScopedAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "unit", "programme", "period", "status", "created_at"]
    list_filter = ["kind", "status"]
    exclude = ["changes"]


@admin.register(Light)
class LightAdmin(ReadOnlyAdmin):
    list_display = ["task", "name", "since", "deadline", "rule_version"]
    list_filter = ["level"]
    list_select_related = ["task", "rule_version__rule_set"]


@admin.register(DeductionCandidate)
class DeductionCandidateAdmin(ReadOnlyAdmin):
    list_display = ["task", "unit", "period", "level", "points", "on"]
    list_filter = ["level", "period"]
    list_select_related = ["task", "unit"]


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    """Bulletins are generated, edited and issued on their pages (the admin only shows them):
    an issued one is frozen on every path."""

    list_display = ["__str__", "programme", "period_from", "period_to", "status", "issued_on"]
    list_filter = ["status", "source"]
    exclude = ["figures"]


@admin.register(BulletinSetting)
class BulletinSettingAdmin(ScopedAdmin):
    list_display = ["programme", "cycle", "masthead", "commend_count"]


from . import inspection_admin  # noqa: E402,F401 - registers its models
