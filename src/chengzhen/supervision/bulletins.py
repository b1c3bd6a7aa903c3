"""Bulletin actions (工作通报): generate a draft from the ledger and the lights, edit its text,
refresh its figures, issue it (签发: number, files, hashes, frozen), and the scheduled drafts.

The figures are defined in ``bulletin.py`` (pure); this module only reads the database as it
stood at the end of the day the bulletin is "as of" (截至): reports submitted by then (the
latest submission of each task, period and unit, so a later correction does not rewrite an
old bulletin), each task's light on that day (from the light history) and the reports due in
the period. Each action is one function, with the permission check and the audit in one
transaction (see ``ledger.services``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit.context import acting_for
from chengzhen.documents.files import folder
from chengzhen.ledger import progress
from chengzhen.ledger.choices import FINISHED_STATUSES
from chengzhen.ledger.models import AnnualPlan, ProgressReport, Task
from chengzhen.ledger.services import StaleEdit
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, require, restrict
from chengzhen.problems import Problem, Refused
from chengzhen.programmes.models import Programme

from . import bulletin as pure
from . import bulletin_files
from .models import (
    Accountability,
    AccountabilityKind,
    Bulletin,
    BulletinSetting,
    BulletinSource,
    BulletinStatus,
    LightChange,
    Notification,
    RuleSetVersion,
)

BULLETINS = "bulletins"  # issued bulletins' files, kept for good
CN_QUARTERS = "一二三四"


# -- periods ----------------------------------------------------------------------------------
def parse_span(text: str) -> tuple[dt.date, dt.date]:
    """``FROM..TO`` (each a date ``2026-11-01`` or a period ``2026-11``, ``2026-11-D1``,
    ``2026-Q4``: FROM takes its first day, TO its last), or one period alone."""
    text = (text or "").strip()
    left, sep, right = text.partition("..")
    if not sep:
        right = left
    try:
        start, end = _day(left, first=True), _day(right, first=False)
    except ValueError as exc:
        raise Refused([Problem(column="--period", reason=str(exc))]) from None
    if end < start:
        raise Refused([Problem(column="--period", reason=_("通报期止 %(to)s 早于通报期起 %(from)s")
                               % {"to": end, "from": start})])
    return start, end


def _day(text: str, *, first: bool) -> dt.date:
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        period = progress.parse_period(text)
    except ValueError:
        raise ValueError(_("%(text)r 应为日期（2026-11-01）或报送期（2026-11、2026-11-D1、2026-Q4）")
                         % {"text": text}) from None
    return period.first_day if first else period.last_day


def span_label(start: dt.date, end: dt.date) -> str:
    """How a bulletin names its period: 2026年11月上旬, 2026年11月, 2026年第四季度, or the dates."""
    for cycle in ("dekad", "monthly", "quarterly"):
        p = progress.period_of(start, cycle)
        if (p.first_day, p.last_day) == (start, end):
            if cycle == "dekad":
                return f"{start.year}年{start.month}月{progress.DEKAD_NAMES[(start.day - 1) // 10]}"
            if cycle == "monthly":
                return f"{start.year}年{start.month}月"
            return f"{start.year}年第{CN_QUARTERS[(start.month - 1) // 3]}季度"
    if start == end:
        return f"{start.year}年{start.month}月{start.day}日"
    tail = f"{end.month}月{end.day}日" if end.year == start.year else f"{end.year}年{end.month}月{end.day}日"
    return f"{start.year}年{start.month}月{start.day}日至{tail}"


def title_of(programme: Programme, start: dt.date, end: dt.date) -> str:
    """关于2026年11月上旬重点镇建设推进情况的通报: the programme's name without a year the
    period already gives."""
    label = span_label(start, end)
    name = programme.name
    year = f"{start.year}年"
    if label.startswith(year) and name.startswith(year):
        name = name[len(year):]
    return f"关于{label}{name}推进情况的通报"


# -- settings ---------------------------------------------------------------------------------
def setting_of(programme: Programme) -> BulletinSetting:
    """The programme's bulletin settings, or an unsaved one holding the defaults."""
    return BulletinSetting.objects.filter(programme=programme).first() or BulletinSetting(
        programme=programme)


def weights_of(setting: BulletinSetting) -> pure.Weights:
    default = settings.CHENGZHEN_BULLETIN_WEIGHTS
    values = [getattr(setting, f"weight_{name}") for name in ("completion", "schedule", "timeliness")]
    values = [Decimal(str(default[name])) if v is None else v
              for v, name in zip(values, ("completion", "schedule", "timeliness"), strict=True)]
    try:
        return pure.Weights(*values)
    except ValueError as exc:
        raise Refused([Problem(column=_("综合得分权重"), reason=str(exc))]) from None


def masthead_of(programme: Programme, setting: BulletinSetting) -> str:
    return setting.masthead or f"{programme.name}工作通报"


# -- reading the database as it stood at the cutoff -----------------------------------------
class _TaskRow(NamedTuple):
    """The columns of a task a bulletin reads."""

    pk: int
    code: str
    name: str
    category: str
    lead_unit_id: int
    status: str
    start_date: dt.date
    due_date: dt.date
    planned_total_investment: Decimal
    opening_completed_investment: Decimal


def _cutoff(as_of: dt.date) -> dt.datetime:
    """The end of ``as_of`` in the platform's time zone."""
    return timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))


def gather(programme: Programme, start: dt.date, end: dt.date, today: dt.date,
           weights: pure.Weights, commend_count: int,
           previous: Bulletin | None) -> pure.BulletinInputs:
    """The pure inputs of a bulletin: every leaf task of the programme (a parent task's
    figures are its children's), as known at the end of ``as_of``."""
    as_of = min(end, today)
    cutoff = _cutoff(as_of)
    year = as_of.year
    tz = timezone.get_current_timezone()
    has_children = Task.objects.filter(parent_id=OuterRef("pk"))
    # plain rows, not model instances: building 5,000 instances costs more than the query
    tasks = [_TaskRow(*row) for row in Task.objects.filter(programme=programme).exclude(
        Exists(has_children)).order_by("seq", "code").values_list(*_TaskRow._fields)]
    by_id = {t.pk: t for t in tasks}
    units = {u.pk: u for u in Unit.objects.filter(
        Q(pk__in=ProgressReport.objects.filter(task__programme=programme).values("reporting_unit_id"))
        | Q(pk__in={t.lead_unit_id for t in tasks})).only("pk", "code", "name", "short_name")}

    # the latest submission by the cutoff of each (task, period, unit), and the first
    latest: dict[tuple[int, str, int], tuple] = {}
    first_on: dict[tuple[int, str, int], dt.datetime] = {}
    rows = (ProgressReport.objects.filter(task__programme=programme, submitted_at__lt=cutoff)
            .order_by("submitted_at", "pk")
            .values_list("task_id", "period", "reporting_unit_id", "physical_progress",
                         "investment", "submitted_at", "problems", "coordination"))
    for row in rows.iterator(chunk_size=5000):
        key = row[:3]
        latest[key] = row
        first_on.setdefault(key, row[5])
    periods: dict[str, progress.Period] = {}

    def period(key: str) -> progress.Period | None:
        if key not in periods:
            try:
                periods[key] = progress.parse_period(key)
            except ValueError:
                periods[key] = None
        return periods[key]

    by_task: dict[int, list[tuple]] = defaultdict(list)
    for key, row in latest.items():
        p = period(key[1])
        if p is not None and p.first_day <= as_of:
            by_task[key[0]].append(row)
    plans = dict(AnnualPlan.objects.filter(task__programme=programme, year=year)
                 .values_list("task_id", "amount"))
    lights = _lights_at(programme, as_of)
    due = _reports_due(programme, tasks, start, as_of, latest, first_on, tz)
    facts = []
    for t in tasks:
        reports = by_task.get(t.pk, [])
        lead = [r for r in reports if r[2] == t.lead_unit_id]
        physical = max(lead, key=lambda r: (r[1], r[5]))[3] if lead else Decimal(0)
        year_done = sum((r[4] for r in reports if period(r[1]).year == year), Decimal(0))
        cumulative = t.opening_completed_investment + sum((r[4] for r in reports), Decimal(0))
        light = lights.get(t.pk)
        n_due, n_on_time = due.get(t.pk, (0, 0))
        lead_unit = units[t.lead_unit_id]
        facts.append(pure.TaskFacts(
            task_id=t.pk, code=t.code, name=t.name, category=t.category,
            unit_code=lead_unit.code, unit_name=lead_unit.short_name or lead_unit.name,
            status=t.status, start=t.start_date, due=t.due_date, physical_progress=physical,
            planned_total=t.planned_total_investment, year_plan=plans.get(t.pk, Decimal(0)),
            year_completed=year_done, cumulative=cumulative,
            reports_due=n_due, reports_on_time=n_on_time, **(light or {})))
    notes = []
    for key, row in sorted(latest.items(), key=lambda kv: kv[1][5]):
        submitted_on = row[5].astimezone(tz).date()
        if not (start <= submitted_on <= as_of) or not (row[6].strip() or row[7].strip()):
            continue
        task = by_id.get(key[0])
        if task is None:  # a parent task's own report
            continue
        unit = units.get(key[2])
        notes.append(pure.ReportNote(
            task_code=task.code, task_name=task.name, unit_code=unit.code if unit else "",
            unit_name=(unit.short_name or unit.name) if unit else "", period=key[1],
            problems=row[6].strip(), coordination=row[7].strip()))
    return pure.BulletinInputs(
        programme_name=programme.name, period_from=start, period_to=end, as_of=as_of,
        tasks=facts, notes=notes, weights=weights, commend_count=commend_count,
        previous=pure.Figures.from_json(previous.figures) if previous else None,
        previous_label=f"第{previous.number}期" if previous else "")


def _lights_at(programme: Programme, as_of: dt.date) -> dict[int, dict]:
    """Each task's light on ``as_of``: the last change of its light on or before that day."""
    last = (LightChange.objects.filter(programme=programme, on__lte=as_of)
            .values("task_id").annotate(last=Max("id")).values("last"))
    changes = LightChange.objects.filter(pk__in=last).values_list(
        "task_id", "to_level", "reasons", "rule_version_id")
    from .services import rule_set_of

    rule_sets: dict[int, object] = {}
    out = {}
    for task_id, level_code, reasons, version_id in changes:
        if version_id not in rule_sets:
            rule_sets[version_id] = rule_set_of(RuleSetVersion.objects.get(pk=version_id))
        try:
            level = rule_sets[version_id].level(level_code)
        except KeyError:
            continue
        out[task_id] = {"light_level": level.code, "light_name": level.name,
                        "light_colour": level.colour, "light_severity": level.severity,
                        "light_counts": level.counts, "light_reasons": tuple(reasons)}
    return out


def _reports_due(programme: Programme, tasks: list[_TaskRow], start: dt.date, as_of: dt.date,
                 latest: dict, first_on: dict, tz) -> dict[int, tuple[int, int]]:
    """(due, on time) per task: the lead unit's reports for the programme's periods whose
    reporting day falls in the bulletin's period, by a task started by the period's end that is
    unfinished (or reported anyway); on time when first submitted by the reporting day."""
    cycle = programme.reporting_cycle
    due_periods = []
    p = progress.period_of(as_of, cycle)
    while True:
        deadline = progress.reporting_deadline(p, programme.reporting_day)
        if deadline < start:
            break
        if deadline <= as_of:
            due_periods.append((p, deadline))
        p = progress.previous_period(p, cycle)
    out: dict[int, tuple[int, int]] = {}
    for t in tasks:
        n = on_time = 0
        for p, deadline in due_periods:
            key = (t.pk, p.key, t.lead_unit_id)
            if t.start_date > p.last_day or (t.status in FINISHED_STATUSES and key not in latest):
                continue
            n += 1
            if key in first_on and first_on[key].astimezone(tz).date() <= deadline:
                on_time += 1
        if n:
            out[t.pk] = (n, on_time)
    return out


# -- figures and files ----------------------------------------------------------------------
def figures_hash(figures: dict) -> str:
    """SHA-256 of the figures as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(figures, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def meta_of(b: Bulletin) -> bulletin_files.BulletinMeta:
    return bulletin_files.BulletinMeta(
        masthead=b.masthead, number=f"第{b.number}期" if b.number else "", title=b.title,
        issuer=b.issuer, date=b.issued_on, recipient=b.recipient, requirements=b.requirements)


def build_file(b: Bulletin, suffix: str) -> bytes:
    """The bulletin's .docx or .xlsx, built from its stored figures (a draft's on demand)."""
    build = bulletin_files.build_docx if suffix == ".docx" else bulletin_files.build_xlsx
    return build(figures_of(b), meta_of(b))


def figures_of(b: Bulletin) -> pure.Figures:
    """The bulletin's stored figures, parsed once per instance (the JSON round trip is exact,
    so the parsed figures are those that were computed)."""
    cached = getattr(b, "_parsed_figures", None)
    if cached is None or cached[0] != b.figures_sha256:
        cached = (b.figures_sha256, pure.Figures.from_json(b.figures))
        b._parsed_figures = cached
    return cached[1]


def file_name(b: Bulletin, suffix: str) -> str:
    """The name a downloaded file gets: 重点镇建设工作通报第3期.docx, …（草稿）附件.xlsx."""
    number = f"第{b.year}-{b.number}期" if b.number else "（草稿）"
    return f"{b.masthead}{number}{'附件' if suffix == '.xlsx' else ''}{suffix}"


def stored_path(b: Bulletin, suffix: str) -> Path | None:
    """An issued bulletin's stored file, checked against its hash; None if missing or altered."""
    name, digest = (b.docx_name, b.docx_sha256) if suffix == ".docx" else (b.xlsx_name, b.xlsx_sha256)
    if not name:
        return None
    path = folder(BULLETINS) / name
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        return None
    return path


def intact(b: Bulletin) -> bool:
    """Do the stored figures (and an issued bulletin's files) still match their hashes?"""
    if figures_hash(b.figures) != b.figures_sha256:
        return False
    return not b.issued or (stored_path(b, ".docx") is not None
                            and stored_path(b, ".xlsx") is not None)


# -- actions ---------------------------------------------------------------------------------
def _previous(programme: Programme, end: dt.date, exclude: int | None = None) -> Bulletin | None:
    qs = Bulletin.objects.filter(programme=programme, status=BulletinStatus.ISSUED, period_to__lt=end)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("-period_to", "-number").first()


def _figures(programme: Programme, start: dt.date, end: dt.date, today: dt.date,
             previous: Bulletin | None) -> tuple[pure.Figures, dict]:
    setting = setting_of(programme)
    commend = setting.commend_count if setting.commend_count is not None else \
        settings.CHENGZHEN_BULLETIN_COMMEND_COUNT
    inputs = gather(programme, start, end, today, weights_of(setting), commend, previous)
    figures = pure.compute(inputs)
    return figures, figures.to_json()


def generate(user, programme: Programme, start: dt.date, end: dt.date, *,
             source: str = BulletinSource.MANUAL, today: dt.date | None = None) -> Bulletin:
    """Generate a draft bulletin (生成通报草稿) of ``programme`` for ``start``–``end``."""
    today = today or timezone.localdate()
    with acting_for(user, "generate_bulletin"), transaction.atomic():
        draft = Bulletin(programme=programme, period_from=start, period_to=end)
        require(user, Action.EDIT, draft)
        if start > today:
            raise Refused([Problem(column="--period", reason=_("通报期 %(from)s 尚未开始")
                                   % {"from": start})])
        setting = setting_of(programme)
        previous = _previous(programme, end)
        parsed, figures = _figures(programme, start, end, today, previous)
        owner = programme.owner_unit
        draft.as_of = min(end, today)
        draft.source = source
        draft.year = draft.as_of.year
        draft.title = title_of(programme, start, end)
        draft.masthead = masthead_of(programme, setting)
        draft.issuer = owner.name
        draft.recipient = setting.recipient if setting.pk else "各责任单位"
        draft.requirements = setting.requirements
        draft.figures, draft.figures_sha256 = figures, figures_hash(figures)
        draft.previous = previous
        draft.created_by = user if user and user.pk else None
        draft.created_at = timezone.now()
        draft.save()
        draft._parsed_figures = (draft.figures_sha256, parsed)
    return draft


def _lock(b: Bulletin, user, expected_version: int) -> Bulletin:
    current = Bulletin.objects.select_for_update(of=("self",)).select_related(
        "programme__owner_unit").get(pk=b.pk)
    require(user, Action.EDIT, current)
    if current.issued:
        raise Refused([Problem(reason=_("%(b)s 已签发，不能修改") % {"b": current})])
    if current.version != expected_version:
        raise StaleEdit(current, expected_version, current.version)
    return current


EDITABLE = ("title", "recipient", "requirements")
LIMITS = {"title": 200, "recipient": 100, "requirements": 20000}


def edit(user, b: Bulletin, *, expected_version: int, **changes) -> Bulletin:
    """Edit a draft's title, 主送 or 下步工作要求 (plain text, never markup)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with acting_for(user, "edit_bulletin"), transaction.atomic():
        current = _lock(b, user, expected_version)
        problems = []
        for name, value in changes.items():
            value = (value or "").replace("\x00", "").strip()
            if name == "title" and not value:
                problems.append(Problem(column=_("标题"), reason=_("不能为空")))
            if len(value) > LIMITS[name]:
                problems.append(Problem(column=str(Bulletin._meta.get_field(name).verbose_name),
                                        reason=_("不能超过 %(n)s 字") % {"n": LIMITS[name]}))
            setattr(current, name, value)
        if problems:
            raise Refused(problems)
        current.save()
    return current


def refresh(user, b: Bulletin, *, expected_version: int, today: dt.date | None = None) -> Bulletin:
    """Recompute a draft's figures from today's data (重新计算)."""
    today = today or timezone.localdate()
    with acting_for(user, "refresh_bulletin"), transaction.atomic():
        current = _lock(b, user, expected_version)
        previous = _previous(current.programme, current.period_to, exclude=current.pk)
        parsed, figures = _figures(current.programme, current.period_from, current.period_to, today,
                                   previous)
        current.figures, current.figures_sha256 = figures, figures_hash(figures)
        current._parsed_figures = (current.figures_sha256, parsed)
        current.as_of = min(current.period_to, today)
        current.previous = previous
        current.save()
    return current


def issue(user, b: Bulletin, *, expected_version: int, issued_on: dt.date | None = None) -> Bulletin:
    """Issue a draft (签发): the next 期号 of its programme and year, taken under the
    programme's row lock (the unique constraint backs it), the .docx and .xlsx written from the
    stored figures and their hashes kept; then frozen. The units the bulletin commends and
    lists with lights get their 表扬 and 通报批评 records, naming the bulletin."""
    with acting_for(user, "issue_bulletin"), transaction.atomic():
        current = _lock(b, user, expected_version)
        if figures_hash(current.figures) != current.figures_sha256:
            raise Refused([Problem(reason=_("通报数据与其校验值不符，请重新计算后再签发"))])
        Programme.objects.select_for_update(of=("self",), no_key=True).get(pk=current.programme_id)
        taken = Bulletin.objects.filter(programme_id=current.programme_id, year=current.year,
                                        number__isnull=False).aggregate(n=Max("number"))["n"]
        current.number = (taken or 0) + 1
        current.issued_on = issued_on or timezone.localdate()
        current.issued_by = user if user and user.pk else None
        current.issued_at = timezone.now()
        written = []
        try:
            for suffix in (".docx", ".xlsx"):
                data = build_file(current, suffix)
                stored = f"{current.programme.code}-{current.year}-{current.number}-" \
                         f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
                path = folder(BULLETINS) / stored
                path.write_bytes(data)
                written.append(path)
                setattr(current, f"{suffix[1:]}_name", stored)
                setattr(current, f"{suffix[1:]}_sha256", hashlib.sha256(data).hexdigest())
            current.status = BulletinStatus.ISSUED
            current.save()
            _record_accountability(current, user)
        except Exception:
            for path in written:
                path.unlink(missing_ok=True)
            raise
    return current


def _record_accountability(b: Bulletin, user) -> None:
    figures = figures_of(b)
    units = {u.code: u for u in Unit.objects.filter(
        code__in={u.unit_code for u in figures.commended} | {t.unit_code for t in figures.red_list})}
    now = timezone.now()
    records = []
    label = f"{b.masthead}第{b.number}期"
    for row in figures.commended:
        if row.unit_code in units:
            records.append(Accountability(
                kind=AccountabilityKind.COMMEND, programme_id=b.programme_id,
                unit=units[row.unit_code], on=b.issued_on, bulletin=b,
                reason=f"{label}通报表扬（综合得分{row.composite}，排名第{row.rank}）",
                recorded_by=b.issued_by, recorded_at=now))
    lit: dict[str, list] = defaultdict(list)
    for t in figures.red_list:
        lit[t.unit_code].append(t)
    for code, tasks in sorted(lit.items()):
        if code in units:
            records.append(Accountability(
                kind=AccountabilityKind.CRITICISE, programme_id=b.programme_id, unit=units[code],
                on=b.issued_on, bulletin=b,
                reason=f"{label}亮灯通报：{len(tasks)}项任务亮灯",
                lights=[{"task": t.task_id, "code": t.code, "level": t.light_level,
                         "name": t.light_name} for t in tasks],
                recorded_by=b.issued_by, recorded_at=now))
    Accountability.objects.bulk_create(records)


# -- schedule --------------------------------------------------------------------------------
def due_span(setting: BulletinSetting, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The last whole 旬 or month before today, for a programme scheduling bulletins."""
    if not setting.cycle:
        return None
    last = progress.previous_period(progress.period_of(today, setting.cycle), setting.cycle)
    programme = setting.programme
    if last.last_day < programme.start_date or last.first_day > programme.end_date:
        return None
    return last.first_day, last.last_day


def generate_scheduled(today: dt.date | None = None) -> list[Bulletin]:
    """定期通报: a draft for each scheduling programme's last whole period that has no bulletin
    yet, each announced to the supervisors over the programme's owner unit."""
    from chengzhen.org.models import system_user

    from .notify import Recipients
    from .tasks import send_notification_emails

    today = today or timezone.localdate()
    made = []
    for setting in BulletinSetting.objects.exclude(cycle="").select_related("programme__owner_unit"):
        span = due_span(setting, today)
        if span is None or Bulletin.objects.filter(
                programme=setting.programme, period_from=span[0], period_to=span[1]).exists():
            continue
        with transaction.atomic():
            draft = generate(system_user(), setting.programme, *span,
                             source=BulletinSource.SCHEDULE, today=today)
            now = timezone.now()
            recipients = Recipients(setting.programme).supervisors(setting.programme.owner_unit_id)
            from django.urls import reverse

            Notification.objects.bulk_create([
                Notification(recipient_id=uid, cause=f"bulletin:{draft.pk}", kind="bulletin",
                             title=f"{draft.masthead}（草稿）待审核签发",
                             body=f"{draft.title}：系统已按{setting.get_cycle_display()}生成草稿，请审核后签发。",
                             url=reverse("supervision:bulletin", args=[draft.pk]), created_at=now)
                for uid in recipients], ignore_conflicts=True)
            transaction.on_commit(lambda: send_notification_emails.enqueue())
        made.append(draft)
    return made


def visible(user):
    """The bulletins ``user`` may read: published ones, and drafts for supervisors and leaders."""
    return restrict(Bulletin.objects.select_related("programme"), user, Action.READ)
