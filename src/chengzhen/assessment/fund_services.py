"""Incentive funds (以奖代补资金) as actions: allocate a pool among a published round's subjects
by one of the methods of ``funds`` (pure), read an allocation as the caller may see it, and
write it as the customary spreadsheet. Allocating checks the permission and writes the pool and
its rows with their audit records in one transaction; allocating an existing code again replaces
its rows (the old ones are deleted, audited like the new ones)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit.context import acting_for
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, require, restrict
from chengzhen.problems import Problem, Refused

from . import funds, rounds
from .models import FundAllocation, FundMethod, FundPool, Round, SubjectScore

FUND_CODE = rounds.ROUND_CODE  # letters, digits, - and _, up to 40: what the page and API addresses take


def grades_of(r: Round) -> list[str]:
    """The round's grades (等次), best first — what tier amounts are given for."""
    return [band.name for band in rounds.framework(r).grades.bands]


def standings_of(r: Round) -> list[funds.Standing]:
    """The round's stored results (SubjectScore of its scoring), in rank order."""
    return [funds.Standing(code=s.subject, name=s.subject_name, total=s.total, grade=s.grade, rank=s.rank,
                           vetoed=s.vetoed, prerequisite_failed=s.prerequisite_failed)
            for s in SubjectScore.objects.filter(scoring_id=r.scoring_id).order_by("rank", "subject")]


def allocate_fund(user, *, code: str, name: str, amount: Any, round: Round | str, method: str,
                  params: dict[str, Any] | None = None) -> FundPool:
    """Allocate a fund (分配奖补资金) of ``amount`` yuan (a number, or text such as ``6800万``) among
    the subjects of a published round. Supervisors and administrators only. Refused naming the
    field: a bad code, no name, an amount that is not a positive sum to the fen, an unpublished
    round, an unknown method or grade, a negative or non-numeric parameter, floors over the pool."""
    require(user, Action.EDIT, FundPool)
    r = round if isinstance(round, Round) else rounds.round_of(round)
    problems: list[Problem] = []
    code = (code or "").strip()
    if not FUND_CODE.fullmatch(code):
        problems.append(Problem(column="code", reason=_(
            "资金代码只能由字母、数字、- 和 _ 组成，至多 40 个字符，如 JBDB-2026")))
    if not (name or "").strip():
        problems.append(Problem(column="name", reason=_("须填写资金名称")))
    try:
        pool_amount = funds.parse_yuan(amount, "amount", allow_zero=False)
    except Refused as exc:
        problems += exc.problems
        pool_amount = None
    if not r.published or r.scoring_id is None:
        problems.append(Problem(column="round", reason=_(
            "考核轮次 %(code)s（%(name)s）尚未公布，不能据此分配奖补资金") % {"code": r.code, "name": r.name}))
    try:
        checked = funds.parse_params(method, params or {}, grades_of(r))
    except Refused as exc:
        problems += exc.problems
        checked = None
    if problems:
        raise Refused(problems)
    standings = standings_of(r)
    allocation = funds.allocate(method, pool_amount, standings, checked)
    units = {u.code: u for u in Unit.objects.filter(code__in=[s.code for s in standings])}
    missing = [s.code for s in standings if s.code not in units]
    if missing:
        raise Refused([Problem(column="round", reason=_("考核结果中的对象 %(codes)s 已不在单位目录中") % {
            "codes": "、".join(missing)})])
    try:
        return _store(user, code, name.strip(), pool_amount, r, method, checked, allocation, units)
    except IntegrityError:  # another allocation created the same code meanwhile
        raise Refused([Problem(column="code", reason=_("资金代码 %(code)s 正由他人同时分配，请刷新后重试") % {
            "code": code})]) from None


def _store(user, code: str, name: str, amount: Decimal, r: Round, method: str, checked: funds.FundParams,
           allocation: funds.Allocation, units: dict[str, Unit]) -> FundPool:
    with acting_for(user, "allocate_fund"), transaction.atomic():
        pool = FundPool.objects.select_for_update().filter(code=code).first()
        if pool is None:
            pool = FundPool(code=code)
        else:
            pool.allocations.all().delete()  # replaced: each old row's deletion is audited
        pool.name, pool.amount, pool.round, pool.method = name, amount, r, method
        pool.params, pool.remainder = checked.to_json(), allocation.remainder
        pool.allocated_by, pool.allocated_at = user, timezone.now()
        pool.save()
        FundAllocation.objects.bulk_create([
            FundAllocation(pool=pool, unit=units[share.standing.code], total=share.standing.total,
                           grade=share.standing.grade, rank=share.standing.rank, amount=share.amount,
                           basis=share.basis[:200])
            for share in allocation.shares])
    return pool


# ---- what people read --------------------------------------------------------------------------

def pool_of(code: str) -> FundPool:
    pool = FundPool.objects.select_related("round", "allocated_by").filter(code=code).first()
    if pool is None:
        raise Refused([Problem(reason=_("没有奖补资金 %(code)s") % {"code": code})])
    return pool


def visible_pools(user) -> QuerySet[FundPool]:
    """The pools a person sees: every role reads them (the pool is a rule of the game)."""
    return restrict(FundPool.objects.select_related("round"), user, Action.READ).order_by("-pk")


@dataclass
class FundTable:
    """An allocation as the caller sees it: the rows they may read (a town only its own), whether
    those are all the rows, and the pool's 合计 and 结余/缺口."""

    pool: FundPool
    rows: list[FundAllocation]
    complete: bool
    allocated: Decimal
    remainder: Decimal

    @property
    def remainder_label(self) -> str:
        return funds.balance_label(self.remainder)

    @property
    def method_name(self) -> str:
        return FundMethod(self.pool.method).label


def fund_table(user, pool: FundPool) -> FundTable:
    everything = FundAllocation.objects.filter(pool=pool)
    rows = list(restrict(everything, user, Action.READ).select_related("unit").order_by("rank", "unit__code"))
    return FundTable(pool=pool, rows=rows, complete=len(rows) == everything.count(),
                     allocated=(pool.amount - pool.remainder), remainder=pool.remainder)


def may_allocate(user) -> bool:
    return can(user, Action.EDIT, FundPool)


def published_rounds() -> QuerySet[Round]:
    return Round.objects.filter(status="published", scoring__isnull=False).order_by("-period_to", "code")


def params_text(pool: FundPool) -> str:
    """The method's parameters in words (各等次定额、保底、封顶 …)."""
    p = pool.params or {}
    parts = [f"{grade} {funds.yuan_text(Decimal(v))} 元" for grade, v in (p.get("tiers") or {}).items()]
    if p.get("floor"):
        parts.append(_("保底 %(v)s 元") % {"v": funds.yuan_text(Decimal(p["floor"]))})
    if p.get("cap"):
        parts.append(_("封顶 %(v)s 元") % {"v": funds.yuan_text(Decimal(p["cap"]))})
    if p.get("eligible_grades"):
        parts.append(_("参与等次 %(v)s") % {"v": "、".join(p["eligible_grades"])})
    if p.get("min_total"):
        parts.append(_("最低总分 %(v)s") % {"v": p["min_total"]})
    if p.get("exclude_flagged", True):
        parts.append(_("一票否决和未达前置条件的不予奖补"))
    return "；".join(parts)


# ---- the spreadsheet ---------------------------------------------------------------------------

def table_title(pool: FundPool) -> str:
    """e.g. 2026年度优先发展重点镇以奖代补资金分配表."""
    return pool.name if pool.name.endswith("分配表") else f"{pool.name}分配表"


def write_fund_xlsx(pool: FundPool, path: str | Path, rows: list[FundAllocation] | None = None,
                    date: dt.date | None = None) -> Path:
    """The allocation in the customary layout (built by the shared spreadsheet builder): title row,
    date line, 序号, 单位, 考核得分, 等次, 排名, 分配依据, 分配金额（元）, 折合（万元）, then 合计 and
    the 结余 or 缺口 line; frozen header; printed A4 landscape."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from chengzhen.documents.spreadsheet import Column, write_table

    if rows is None:
        rows = list(FundAllocation.objects.filter(pool=pool).select_related("unit").order_by("rank", "unit__code"))
    cols = [Column("序号", width=6, kind="int"), Column("单位", width=22),
            Column("考核得分", width=10, kind="number"), Column("等次", width=10), Column("排名", width=6, kind="int"),
            Column("分配依据", width=40, kind="multiline"), Column("分配金额（元）", width=18, kind="number"),
            Column("折合（万元）", width=14, kind="money")]
    body: list[list[Any]] = [[i, a.unit.short_name or a.unit.name, a.total, a.grade, a.rank, a.basis, a.amount,
                              a.amount] for i, a in enumerate(rows, start=1)]
    allocated = pool.amount - pool.remainder
    label = funds.balance_label(pool.remainder)
    body.append([None, "合计", None, None, None, "", allocated, allocated])
    body.append([None, label, None, None, None, f"资金总额 {funds.yuan_text(pool.amount)} 元减分配合计",
                 abs(pool.remainder), abs(pool.remainder)])
    day = date or timezone.localdate()
    date_line = (f"考核轮次：{pool.round.name}（{pool.round.code}）；资金总额 {funds.yuan_text(pool.amount)} 元；"
                 f"分配方式：{FundMethod(pool.method).label}；{day.year}年{day.month}月{day.day}日")
    wb = Workbook()
    ws = wb.active
    ws.title = "奖补资金分配"
    write_table(ws, table_title(pool), date_line, cols, body, numbered=False)
    last = ws.max_row
    for row in ws.iter_rows(min_row=5, max_row=last):
        if row[2].value is not None:
            row[2].number_format = "0.00"  # 考核得分 as stored, two decimals
        row[6].number_format = "#,##0.00"  # 分配金额（元）
        if row[0].row > last - 2:  # 合计 and 结余/缺口
            for cell in row:
                cell.font = Font(bold=True)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4  # a one-page table: A4 landscape, as allocations are filed
    path = Path(path)
    try:
        wb.save(str(path))
    except OSError as exc:
        raise Refused([Problem(file=str(path), reason=_("无法写入：%(error)s") % {"error": exc})]) from None
    return path
