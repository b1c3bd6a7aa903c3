"""Importing a ledger spreadsheet into a programme (台账导入).

All or nothing: the sheet is read and every row checked — cells, units, parents, dates,
duplicates and the importing person's permission on each row — before anything is written;
any problem refuses the whole file with every problem listed. Rows upsert by 任务编号 and
only the columns present in the sheet are changed. A dry run reports, per row, create,
update (field: before → after) or unchanged, and writes nothing. Writes go through the
tracked models' bulk paths, so every change is in the audit chain.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_noop

from chengzhen.audit.context import acting_for
from chengzhen.documents.spreadsheet import read_sheet
from chengzhen.org.access import Action, TaskScope, may_on_task
from chengzhen.org.models import Unit, User
from chengzhen.org.permissions import can, grants_for
from chengzhen.problems import Problem, Refused

from . import sheet as S
from .models import AnnualPlan, Cooperation, Task, TimeNode

SCALARS = ("seq", "name", "category", "requirement", "responsible_leader", "responsible_person",
           "responsible_phone", "responsible_user_id", "start_date", "due_date",
           "planned_total_investment", "opening_completed_investment", "status", "weight", "notes")
DEFAULTS: dict[str, Any] = {"category": "", "requirement": "", "responsible_leader": "",
                            "responsible_person": "", "responsible_phone": "", "notes": "",
                            "planned_total_investment": Decimal("0.00"),
                            "opening_completed_investment": Decimal("0.00"),
                            "status": "not_started", "weight": None, "responsible_user_id": None}


@dataclass
class RowPlan:
    row: int
    code: str
    action: str  # create | update | unchanged
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # label, before, after


@dataclass
class ImportResult:
    file: str
    sheet: str
    rows: list[RowPlan] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applied: bool = False
    versions: dict[str, int | None] = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


class UnitIndex:
    """Units looked up by code, full name or short name."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[Unit]] = defaultdict(list)
        self.by_id: dict[int, Unit] = {}
        for unit in Unit.objects.only("id", "code", "name", "short_name", "path"):
            self.by_id[unit.pk] = unit
            for key in {unit.code, unit.name, unit.short_name} - {""}:
                self.by_key[key].append(unit)
        # worked out once: a sheet names the same few units thousands of times
        self.unique = {k: units[0] for k, units in self.by_key.items() if len(units) == 1}

    def find(self, text: str) -> Unit:
        key = text.strip()
        unit = self.unique.get(key)
        if unit is not None:
            return unit
        found = self.by_key.get(key, [])
        if not found:
            raise S.CellError(f"未知单位 {text!r}（请填写单位全称、简称或单位代码）")
        names = "、".join(f"{u.name}（{u.code}）" for u in sorted(found, key=lambda u: u.code))
        raise S.CellError(f"单位 {text!r} 对应多个单位：{names}，请填写全称或代码")


@dataclass(frozen=True)
class Link:
    pk: int
    unit_id: int
    seq: int


@dataclass(frozen=True)
class NodeRow:
    pk: int
    seq: int
    name: str
    planned_date: dt.date
    done_on: dt.date | None


@dataclass
class _State:
    """A task's entered values after the row is applied (for checks and the diff)."""

    values: dict[str, Any]
    lead: Unit
    coops: list[Unit]
    nodes: list[S.NodeSpec]
    plans: dict[int, Decimal | None]
    parent_code: str | None


def import_ledger(user, programme, path: str | Path, *, display_name: str | None = None,
                  dry_run: bool = False, expected_versions: dict[str, int | None] | None = None,
                  progress=None) -> ImportResult:
    """Check a ledger sheet and, unless ``dry_run``, apply it. Raises ``Refused`` or
    ``PermissionDenied``; on refusal nothing is written.

    ``expected_versions`` (task code → version seen in a preview, None for "did not exist")
    refuses the apply if any previewed task changed in between. A result's
    ``versions`` gives that map for the rows it planned. ``progress(stage, done, total)``,
    if given, hears of each stage (outside the transaction, so others can see it).
    """
    report = progress or (lambda *args, **kwargs: None)
    if not can(user, Action.IMPORT, programme):
        raise PermissionDenied(f"{user} 无权向“{programme.name}”导入台账")
    path = Path(path)
    report(gettext_noop("读取文件"), 0, 0)  # stages are msgids: the job page translates them
    data = read_sheet(path, display_name or path.name, settings.CHENGZHEN_MAX_UPLOAD_BYTES)
    header = S.find_header(data.rows, data.file, data.sheet, programme.start_date.year)
    if header.problems:
        raise Refused(header.problems)
    rows, problems = S.parse_rows(data.rows, header, data.file, data.sheet, data.epoch)
    result = ImportResult(data.file, data.sheet, ignored=header.ignored,
                          computed=header.computed)
    for r in rows:
        result.warnings.extend(r.warnings)
    cols = {c.key: c.header for c in header.columns}
    report(gettext_noop("校验并写入"), 0, len(rows))
    # Plan and apply in one transaction, the programme's tasks locked, so nothing read for
    # the plan can change before it is written (SQLite: the immediate transaction's lock).
    with acting_for(user, "import_ledger"), transaction.atomic():
        planner = _Planner(user, programme, data.file, data.sheet, cols, problems,
                           lock=not dry_run)
        plans = planner.plan(rows)
        if expected_versions is not None:
            planner.check_versions(expected_versions)
        if planner.problems:
            raise Refused(sorted(planner.problems, key=lambda p: (p.row or 0, p.column)))
        result.rows = [p for p, _ in plans]
        result.versions = {p.code: (planner.existing[p.code].version
                                    if p.code in planner.existing else None) for p, _ in plans}
        if not dry_run:
            planner.apply(plans)
            result.applied = True
    report(gettext_noop("完成"), len(result.rows), len(result.rows))
    return result


class _Planner:
    def __init__(self, user, programme, file: str, sheet: str, cols: dict[str, str],
                 problems: list[Problem], lock: bool = False):
        self.user, self.programme = user, programme
        self.file, self.sheet, self.cols = file, sheet, cols
        self.problems = list(problems)
        self.units = UnitIndex()
        self.grants = grants_for(user)
        tasks = Task.objects.filter(programme=programme)
        if lock:
            # this table's rows only, in id order: no joined programme row is locked
            tasks = tasks.select_for_update(of=("self",)).order_by("pk")
        self.existing: dict[str, Task] = {t.code: t for t in tasks}
        self.usernames = dict(User.objects.values_list("username", "pk"))
        self.by_id = {t.pk: t for t in self.existing.values()}
        # links as plain tuples: building tens of thousands of model instances is the slow part
        self.coops: dict[int, list[Link]] = defaultdict(list)
        for pk, task_id, unit_id, seq in Cooperation.objects.filter(
                task__programme=programme).order_by("seq").values_list(
                "pk", "task_id", "unit_id", "seq"):
            self.coops[task_id].append(Link(pk, unit_id, seq))
        self.nodes: dict[int, list[NodeRow]] = defaultdict(list)
        for pk, task_id, seq, name, planned, done in TimeNode.objects.filter(
                task__programme=programme).order_by("seq", "planned_date").values_list(
                "pk", "task_id", "seq", "name", "planned_date", "done_on"):
            self.nodes[task_id].append(NodeRow(pk, seq, name, planned, done))
        self.plans: dict[int, dict[int, tuple[int, Decimal]]] = defaultdict(dict)
        for pk, task_id, year, amount in AnnualPlan.objects.filter(
                task__programme=programme).values_list("pk", "task_id", "year", "amount"):
            self.plans[task_id][year] = (pk, amount)

    def problem(self, row: int, key: str, reason: str) -> None:
        label = self.cols.get(key) or S.BY_KEY[key].label if key in S.BY_KEY else key
        self.problems.append(Problem(self.file, self.sheet, row, label, reason))

    def check_versions(self, expected: dict[str, int | None]) -> None:
        """Refuse when a task changed, appeared or vanished since the preview."""
        for code, version in expected.items():
            task = self.existing.get(code)
            now = task.version if task is not None else None
            if now != version:
                before = "不存在" if version is None else f"第 {version} 版"
                after = "已删除" if now is None else f"第 {now} 版"
                self.problems.append(Problem(self.file, self.sheet, None, "", (
                    f"任务 {code} 在预览后已被修改（预览时{before}，现为{after}），请重新预览")))

    # ---- planning ---------------------------------------------------------------------
    def plan(self, rows: list[S.TaskRow]) -> list[tuple[RowPlan, _State | None]]:
        first_row: dict[str, int] = {}
        states: dict[str, tuple[S.TaskRow, _State]] = {}
        for position, r in enumerate(rows, start=1):
            code = r.values.get("code", "")
            if not code:
                continue  # already a problem: required
            if code in first_row:
                self.problem(r.row, "code", f"任务编号 {code} 在文件中重复（第 {first_row[code]} 行已有）")
                continue
            first_row[code] = r.row
            state = self._state(r, self.existing.get(code), position)
            if state is not None:
                states[code] = (r, state)
        self._check_parents(states)
        out = []
        for code, (r, state) in states.items():
            out.append((self._diff(r.row, code, state), state))
        return out

    def _state(self, r: S.TaskRow, task: Task | None, position: int) -> _State | None:
        v = r.values
        if "responsible_user" in v:  # 责任人账号: a username, or blank for none
            name = v.pop("responsible_user")
            v["responsible_user_id"] = self.usernames.get(name) if name else None
            if name and v["responsible_user_id"] is None:
                self.problem(r.row, "responsible_user", f"没有用户名为 {name!r} 的账号")
                return None
        values = {}
        for name in SCALARS:
            if name in v and not (name == "status" and v[name] is None):
                values[name] = v[name]
            elif task is not None:
                values[name] = getattr(task, name)
            elif name == "seq":
                values[name] = position
            else:
                values[name] = DEFAULTS.get(name)
        if values.get("seq") is None:
            values["seq"] = 0
        for name in ("planned_total_investment", "opening_completed_investment"):
            if values[name] is None:
                values[name] = Decimal("0.00")  # a blank amount is nothing invested
        ok = True
        try:
            lead = self.units.find(v["lead_unit"]) if v.get("lead_unit") else (
                self.units.by_id[task.lead_unit_id] if task else None)
        except S.CellError as exc:
            self.problem(r.row, "lead_unit", str(exc))
            lead, ok = None, False
        coops: list[Unit] = []
        if "cooperating_units" in v:
            for name in v["cooperating_units"]:
                try:
                    coops.append(self.units.find(name))
                except S.CellError as exc:
                    self.problem(r.row, "cooperating_units", str(exc))
                    ok = False
        elif task is not None:
            coops = [self.units.by_id[c.unit_id] for c in self.coops[task.pk]]
        if lead is not None and any(u is lead for u in coops):  # the index holds one object a unit
            self.problem(r.row, "cooperating_units", f"牵头单位 {lead.name} 不能同时是配合单位")
            ok = False
        if not (values.get("name") and values.get("start_date") and values.get("due_date")):
            ok = False  # a required cell was empty or unreadable: reported when parsed
        start, due = values.get("start_date"), values.get("due_date")
        if isinstance(start, dt.date) and isinstance(due, dt.date) and due < start:
            self.problem(r.row, "due_date", f"完成时限 {due} 早于开始时间 {start}")
            ok = False
        nodes = v["time_nodes"] if "time_nodes" in v else (
            [S.NodeSpec(n.name, n.planned_date, n.done_on) for n in self.nodes[task.pk]]
            if task else [])
        if len({n.name for n in nodes}) != len(nodes):
            self.problem(r.row, "time_nodes", "同一任务的时间节点名称不能重复")
            ok = False
        plans = {y: a for y, (_, a) in self.plans[task.pk].items()} if task else {}
        plans.update(r.annual_plans)
        plans = {y: a for y, a in plans.items() if a is not None}
        parent_code = v.get("parent", None) if "parent" in v else (
            self.by_id[task.parent_id].code if task and task.parent_id else None)
        parent_code = parent_code or None
        if lead is not None and ok:
            scope = TaskScope(self.programme.pk, lead.path, tuple(u.path for u in coops))
            allowed = may_on_task(self.grants, Action.IMPORT, scope)
            if task is not None and allowed:
                old = TaskScope(self.programme.pk, self.units.by_id[task.lead_unit_id].path,
                                tuple(self.units.by_id[c.unit_id].path
                                      for c in self.coops[task.pk]))
                allowed = may_on_task(self.grants, Action.IMPORT, old)
            if not allowed:
                self.problem(r.row, "lead_unit", f"{self.user} 无权导入牵头单位为 {lead.name} 的任务")
                ok = False
        if not ok or lead is None:
            return None
        return _State(values, lead, coops, nodes, plans, parent_code)

    def _check_parents(self, states: dict[str, tuple[S.TaskRow, _State]]) -> None:
        def parent_of(code: str) -> str | None:
            if code in states:
                return states[code][1].parent_code
            task = self.existing.get(code)
            return self.by_id[task.parent_id].code if task and task.parent_id else None

        # Children in the file are checked on their own rows; children only in the database
        # would silently become a third level, so their parent may not get a parent itself.
        has_children = {parent_of(t.code) for t in self.existing.values()
                        if t.code not in states and t.parent_id}
        for code, (r, state) in states.items():
            p = state.parent_code
            if not p:
                continue
            if p == code:
                self.problem(r.row, "parent", "任务不能是自己的上级任务")
            elif p not in states and p not in self.existing:
                self.problem(r.row, "parent", f"上级任务编号 {p} 在本计划和文件中都不存在")
            elif parent_of(p):
                self.problem(r.row, "parent", f"上级任务 {p} 本身是子任务（台账只有两级）")
            elif code in has_children:
                self.problem(r.row, "parent", f"任务 {code} 已有子任务，不能再挂到 {p} 下")

    def _diff(self, row: int, code: str, s: _State) -> RowPlan:
        task = self.existing.get(code)
        if task is None:
            return RowPlan(row, code, "create")
        changes = []
        for name in SCALARS:
            before, after = getattr(task, name), s.values[name]
            if _norm(before) != _norm(after):
                if name == "responsible_user_id":
                    names = {pk: u for u, pk in self.usernames.items()}
                    before, after = names.get(before), names.get(after)
                changes.append((_label(name), _show(name, before), _show(name, after)))
        if task.lead_unit_id != s.lead.pk:
            changes.append(("牵头单位", self.units.by_id[task.lead_unit_id].name, s.lead.name))
        old_coops = [c.unit_id for c in self.coops[task.pk]]
        if old_coops != [u.pk for u in s.coops]:
            changes.append(("配合单位", "、".join(self.units.by_id[i].name for i in old_coops),
                            "、".join(u.name for u in s.coops)))
        old_nodes = [S.NodeSpec(n.name, n.planned_date, n.done_on) for n in self.nodes[task.pk]]
        if old_nodes != s.nodes:
            changes.append(("时间节点", S.format_nodes(old_nodes), S.format_nodes(s.nodes)))
        old_plans = {y: a for y, (_, a) in self.plans[task.pk].items()}
        for year in sorted(set(old_plans) | set(s.plans)):
            if old_plans.get(year) != s.plans.get(year):
                changes.append((f"{year}年计划投资", _wan(old_plans.get(year)),
                                _wan(s.plans.get(year))))
        old_parent = self.by_id[task.parent_id].code if task.parent_id else None
        if old_parent != s.parent_code:
            changes.append(("上级任务编号", old_parent or "", s.parent_code or ""))
        return RowPlan(row, code, "update" if changes else "unchanged", changes)

    # ---- applying ---------------------------------------------------------------------
    def apply(self, plans: list[tuple[RowPlan, _State]]) -> None:
        creates = [(p, s) for p, s in plans if p.action == "create"]
        updates = [(p, s) for p, s in plans if p.action == "update"]
        tasks: dict[str, Task] = dict(self.existing)
        new_top, new_child = [], []
        for p, s in creates:
            task = Task(programme=self.programme, code=p.code, lead_unit=s.lead, **s.values)
            tasks[p.code] = task
            (new_child if s.parent_code and s.parent_code not in self.existing
             else new_top).append((task, s))
        for batch in (new_top, new_child):
            for task, s in batch:
                task.parent = tasks[s.parent_code] if s.parent_code else None
            Task.objects.bulk_create([t for t, _ in batch], batch_size=1000)
        changed_fields: set[str] = set()
        changed: list[Task] = []
        for p, s in updates:
            task = self.existing[p.code]
            before = {n: getattr(task, n) for n in (*SCALARS, "lead_unit_id", "parent_id")}
            for name, value in s.values.items():
                setattr(task, name, value)
            task.lead_unit = s.lead
            task.parent = tasks[s.parent_code] if s.parent_code else None
            fields = {n for n in before if _norm(before[n]) != _norm(getattr(task, n))}
            if fields:
                changed_fields |= {f.removesuffix("_id") for f in fields}
                changed.append(task)
        if changed:
            Task.objects.bulk_update(changed, sorted(changed_fields), batch_size=1000)
        self._links([(tasks[p.code], s, p.action == "create") for p, s in creates + updates])

    def _links(self, items: list[tuple[Task, _State, bool]]) -> None:
        new_coops: list[dict] = []
        new_nodes: list[dict] = []
        new_plans: list[dict] = []
        node_updates, plan_updates = [], []
        drop_coops, drop_nodes, drop_plans = [], [], []
        for task, s, created in items:
            wanted = [u.pk for u in s.coops]
            old = [] if created else self.coops[task.pk]
            if [c.unit_id for c in old] != wanted:
                drop_coops += [c.pk for c in old]
                new_coops += [{"task_id": task.pk, "unit_id": u, "seq": i}
                              for i, u in enumerate(wanted)]
            old_nodes = {} if created else {n.name: n for n in self.nodes[task.pk]}
            for i, spec in enumerate(s.nodes, start=1):
                node = old_nodes.pop(spec.name, None)
                if node is None:
                    new_nodes.append({"task_id": task.pk, "seq": i, "name": spec.name,
                                      "planned_date": spec.planned_date,
                                      "done_on": spec.done_on})
                elif (node.seq, node.planned_date, node.done_on) != (
                        i, spec.planned_date, spec.done_on):
                    node_updates.append(TimeNode(pk=node.pk, task_id=task.pk, seq=i,
                                                 name=node.name, planned_date=spec.planned_date,
                                                 done_on=spec.done_on))
            drop_nodes += [n.pk for n in old_nodes.values()]
            old_plans = {} if created else dict(self.plans[task.pk])
            for year, amount in s.plans.items():
                found = old_plans.pop(year, None)
                if found is None:
                    new_plans.append({"task_id": task.pk, "year": year, "amount": amount})
                elif found[1] != amount:
                    plan_updates.append(AnnualPlan(pk=found[0], task_id=task.pk, year=year,
                                                   amount=amount))
            drop_plans += [pk for pk, _ in old_plans.values()]
        for model, pks in ((Cooperation, drop_coops), (TimeNode, drop_nodes),
                           (AnnualPlan, drop_plans)):
            if pks:
                model.objects.filter(pk__in=pks).delete()
        Cooperation.objects.insert_values(new_coops)
        TimeNode.objects.insert_values(new_nodes)
        AnnualPlan.objects.insert_values(new_plans)
        if node_updates:
            TimeNode.objects.bulk_update(node_updates, ["seq", "planned_date", "done_on"])
        if plan_updates:
            AnnualPlan.objects.bulk_update(plan_updates, ["amount"])


def _label(name: str) -> str:
    return S.BY_KEY[name.removesuffix("_id")].label


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize()
    if value is None:
        return None
    return value


def _wan(amount: Decimal | None) -> str:
    return "" if amount is None else f"{S.yuan_to_wan(amount)}万元"


def _show(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in ("planned_total_investment", "opening_completed_investment"):
        return _wan(value)
    if name == "status":
        return S.STATUS_NAMES.get(value, str(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
