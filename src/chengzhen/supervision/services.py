"""Supervision actions: import and export light rule sets, import the holiday calendar, record
an interview. One function per action, permission and audit in one transaction (see
``ledger.services`` for the convention).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit.context import acting_for
from chengzhen.org.permissions import Action, can, require
from chengzhen.problems import Problem, Refused

from .models import CalendarDay, DayKind, Escalation, InterviewStatus, RuleSet, RuleSetVersion
from .rules import RuleSetError, build_rule_set, parse_rule_set
from .workdays import WorkCalendar, load_calendar

DEFAULT_RULE_SET = "default"


def _refused(exc: RuleSetError, source: str) -> Refused:
    return Refused([Problem(file=source, row=line, reason=reason) for line, reason in exc.problems])


def split_name(name: str) -> tuple[str, int | None]:
    """``CODE`` or ``CODE@VERSION`` as (code, version or None)."""
    code, _sep, number = (name or "").strip().partition("@")
    if number:
        if not number.isdigit() or int(number) < 1:
            raise Refused([Problem(reason=_("规则集 %(name)r：@ 后应为版本号") % {"name": name})])
        return code, int(number)
    return code, None


def resolve(name: str) -> RuleSetVersion:
    """The rule-set version ``CODE`` (its latest) or ``CODE@VERSION`` names."""
    code, number = split_name(name)
    versions = RuleSetVersion.objects.filter(rule_set__code=code).select_related("rule_set")
    version = (versions.filter(number=number) if number else versions.order_by("-number")).first()
    if version is None:
        raise Refused([Problem(reason=_("没有规则集 %(name)s") % {"name": name})])
    return version


def levels_in_use() -> list[tuple[str, str, bool]]:
    """(code, name, counts) of the levels in each rule set's latest version, most severe first
    — what the ledger list filters by and the home page counts, read from the rule sets
    rather than from the lights of every task."""
    latest = dict(RuleSetVersion.objects.order_by("rule_set__code", "number").values_list(
        "rule_set__code", "definition"))  # each code's last version wins
    levels = {}
    for definition in latest.values():
        for lv in definition.get("levels", []):
            levels.setdefault(lv["code"], (lv["severity"], lv["name"], bool(lv.get("counts"))))
    return [(code, name, counts) for code, (_sev, name, counts) in
            sorted(levels.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def rule_set_of(version: RuleSetVersion):
    """The parsed rule set a stored version holds."""
    return build_rule_set(version.definition, str(version))


def import_rule_set(user, text: str, *, source: str = "", note: str = "",
                    code: str | None = None) -> tuple[RuleSetVersion, bool]:
    """Store ``text`` (YAML) as the next version of its rule set; (version, created).

    An import whose rules equal the latest version's makes no new version. ``code``, when
    given (the admin's form for one rule set), must match the file's.
    """
    require(user, Action.EDIT, RuleSetVersion)
    try:
        parsed = parse_rule_set(text, source)
    except RuleSetError as exc:
        raise _refused(exc, source) from None
    if code is not None and parsed.code != code:
        raise Refused([Problem(file=source, row=None, reason=_(
            "文件中的规则集代码 %(found)s 与所编辑的 %(code)s 不符") % {"found": parsed.code, "code": code})])
    definition = parsed.as_dict()
    with acting_for(user, "import_rule_set"), transaction.atomic():
        rule_set = RuleSet.objects.select_for_update().filter(code=parsed.code).first()
        if rule_set is None:
            rule_set = RuleSet.objects.create(code=parsed.code, name=parsed.name)
        elif rule_set.name != parsed.name:
            rule_set.name = parsed.name
            rule_set.save()
        latest = rule_set.latest()
        if latest is not None and latest.definition == definition:
            return latest, False
        version = RuleSetVersion.objects.create(
            rule_set=rule_set, number=(latest.number + 1) if latest else 1, source=text,
            definition=definition, note=note[:200], created_by=user if user and user.pk else None,
            created_at=timezone.now())
    return version, True


def export_rule_set(name: str) -> str:
    """The YAML of ``CODE[@VERSION]`` as it was written, with a header naming the version."""
    version = resolve(name)
    header = f"# 导出自 {version}（{timezone.localtime(version.created_at):%Y-%m-%d %H:%M}）\n"
    return header + version.source


def import_rule_set_file(user, path: str | Path) -> tuple[RuleSetVersion, bool]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused([Problem(file=path.name, reason=_("无法读取：%(error)s") % {"error": exc})]) from None
    return import_rule_set(user, text, source=path.name)


# ---- the holiday calendar --------------------------------------------------------------------

def parse_calendar(text: str, source: str = "") -> list[tuple[dt.date, str, str]]:
    """(date, kind, name) rows from a calendar file (see ``data/calendar-2026.yaml``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise Refused([Problem(file=source, row=mark.line + 1 if mark else None,
                               reason=f"YAML 格式错误：{getattr(exc, 'problem', exc)}")]) from None
    problems, rows, seen = [], [], {}
    if not isinstance(data, dict) or not isinstance(data.get("year"), int):
        raise Refused([Problem(file=source, reason="日历文件应含 year（年份）及 holidays、workdays")])
    year = data["year"]
    for key in set(data) - {"year", "source", "holidays", "workdays"}:
        problems.append(Problem(file=source, reason=f"未知的字段 {key!r}"))
    for section, kind in (("holidays", DayKind.HOLIDAY), ("workdays", DayKind.WORKDAY)):
        groups = data.get(section) or {}
        if not isinstance(groups, dict):
            problems.append(Problem(file=source, column=section, reason="应为 名称: [日期, …]"))
            continue
        for name, days in groups.items():
            for day in days if isinstance(days, list) else [days]:
                if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                    problems.append(Problem(file=source, column=section,
                                            reason=f"{name}：{day!r} 不是日期（应写作 {year}-10-01）"))
                    continue
                if day.year != year:
                    problems.append(Problem(file=source, column=section,
                                            reason=f"{name}：{day} 不在 {year} 年"))
                    continue
                if day in seen:
                    problems.append(Problem(file=source, column=section,
                                            reason=f"{day} 重复（已列为 {seen[day]}）"))
                    continue
                seen[day] = name
                rows.append((day, str(kind), str(name)))
    if problems:
        raise Refused(problems)
    return rows


def import_calendar(user, text: str, *, source: str = "") -> tuple[int, int]:
    """Replace the calendar's days of the file's year; (days written, year)."""
    require(user, Action.EDIT, CalendarDay)
    rows = parse_calendar(text, source)
    year = yaml.safe_load(text)["year"]
    with acting_for(user, "import_calendar"), transaction.atomic():
        CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create([CalendarDay(date=d, kind=k, name=n) for d, k, n in rows])
    return len(rows), year


def work_calendar() -> WorkCalendar:
    """The platform's holiday and make-up-day calendar."""
    return load_calendar(CalendarDay.objects.values_list("date", "kind", "name"))


# ---- interviews ------------------------------------------------------------------------------

def record_interview(user, escalation: Escalation, *, expected_version: int, status: str,
                     head: str = "", held_on: dt.date | None = None, outcome: str = "") -> Escalation:
    """Record an interview's (约谈) outcome: who was interviewed, when, and what came of it."""
    from chengzhen.ledger.services import StaleEdit

    with acting_for(user, "record_interview"), transaction.atomic():
        current = Escalation.objects.select_for_update(of=("self",)).select_related("unit").get(
            pk=escalation.pk)
        require(user, Action.EDIT, current)
        if current.version != expected_version:
            raise StaleEdit(current, expected_version, current.version)
        problems = []
        if current.kind != "interview":
            problems.append(Problem(column="类型", reason=_("督办函没有约谈情况")))
        if status not in InterviewStatus.values:
            problems.append(Problem(column="状态", reason=_("未知状态 %(status)r") % {"status": status}))
        if status in (InterviewStatus.HELD, InterviewStatus.CLOSED) and held_on is None:
            problems.append(Problem(column="约谈日期", reason=_("已约谈须填写约谈日期")))
        if held_on and held_on > timezone.localdate():
            problems.append(Problem(column="约谈日期", reason=_("约谈日期不能晚于今天")))
        if problems:
            raise Refused(problems)
        current.status, current.head, current.held_on = status, head.strip()[:50], held_on
        current.outcome = outcome
        current.save()
    return current


def may_record(user, escalation: Escalation) -> bool:
    return escalation.kind == "interview" and can(user, Action.EDIT, escalation)
