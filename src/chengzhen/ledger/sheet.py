"""Reading the ledger's spreadsheet layout (pure: no Django).

Columns are found by their Chinese or English name in any order, in the customary layout
(title, date line, two-row header) or a plain one-header layout; unknown columns are ignored
and computed columns (累计完成投资, 序时进度, 亮灯状态 …) are recognised and ignored. Cells are
parsed into typed values, each problem named by row and column.

Cell conventions (also in the README and docs/ledger.md):

- money: numbers are 万元 (a header saying （元） or （亿元） changes that); text may say
  ``12万``, ``12万元``, ``120000元``, ``1.2亿``; negative amounts are refused;
- dates: real Excel dates (either date system), ``2026-03-31``, ``2026/3/31``,
  ``2026.3.31``, ``2026年3月31日``, ``20260331``;
- 配合单位: separated by ``、`` (also accepted: ，,;；/ and line breaks);
- 时间节点: one per line, ``名称：2026-03-31``, done ones ``名称：2026-03-31（完成于2026-03-28）``;
- 年度计划投资: one column per year, ``2026年计划投资（万元）``; a plain ``年度计划投资`` is the
  programme's first year;
- 上级任务: the parent's 任务编号.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from chengzhen.problems import Problem

FEN = Decimal("0.01")
STATUS_LABELS = {"未启动": "not_started", "推进中": "in_progress", "已完成": "completed",
                 "已销号": "closed", "not_started": "not_started",
                 "in_progress": "in_progress", "completed": "completed", "closed": "closed",
                 "进行中": "in_progress", "在建": "in_progress", "完成": "completed",
                 "销号": "closed", "未开工": "not_started"}
STATUS_NAMES = {"not_started": "未启动", "in_progress": "推进中", "completed": "已完成",
                "closed": "已销号"}


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # the Chinese header written on export
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text | date | money | int | decimal | units | nodes | status
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field("seq", "序号", ("no", "序"), kind="int"),
    Field("code", "任务编号", ("编号", "项目编号", "task_code"), required=True),
    Field("name", "任务名称", ("项目名称", "工作任务", "任务"), required=True),
    Field("category", "任务类别", ("类别", "项目类别", "类型")),
    Field("requirement", "目标任务/工作要求", ("目标任务", "工作要求", "建设内容", "目标要求",
                                         "目标任务及工作要求", "建设内容及规模")),
    Field("responsible_leader", "责任领导", ("分管领导", "责任领导(分管领导)", "县级责任领导")),
    Field("lead_unit", "牵头单位", ("责任单位", "牵头责任单位", "主体责任单位"), kind="unit",
          required=True),
    Field("cooperating_units", "配合单位", ("配合(责任)单位", "协办单位", "配合责任单位"),
          kind="units"),
    Field("responsible_person", "具体责任人", ("责任人", "联系人")),
    Field("responsible_phone", "联系电话", ("电话", "手机", "联系方式")),
    Field("responsible_user", "责任人账号", ("账号", "用户名")),
    Field("start_date", "开始时间", ("开工时间", "开始日期", "起始时间"), kind="date",
          required=True),
    Field("due_date", "完成时限", ("完成时间", "截止时间", "完成日期", "截止日期"), kind="date",
          required=True),
    Field("time_nodes", "时间节点", ("节点", "时间节点安排", "节点安排"), kind="nodes"),
    Field("planned_total_investment", "计划总投资", ("总投资",), kind="money"),
    Field("opening_completed_investment", "期初已完成投资", ("以前年度完成投资", "期初完成投资"),
          kind="money"),
    Field("status", "完成状态", ("状态", "进展状态"), kind="status"),
    Field("weight", "权重", (), kind="decimal"),
    Field("parent", "上级任务编号", ("上级任务", "所属任务", "父任务编号"), kind="text"),
    Field("notes", "备注", ("说明",)),
)
BY_KEY = {f.key: f for f in FIELDS}
# Shown on export, ignored on import: they are computed from facts, never typed.
COMPUTED = ("累计完成投资", "本年完成投资", "本月完成投资", "投资完成率", "序时进度", "形象进度",
            "滞后", "超期天数", "亮灯状态", "亮灯原因", "更新日期", "进展情况", "存在问题", "下步打算",
            "需协调事项", "佐证材料", "lagging", "days_overdue", "time_progress",
            "physical_progress", "cumulative_investment", "year_investment", "investment_rate")
ANNUAL = re.compile(r"^(?:(\d{4})年?度?计划投资|年度计划投资(?:\D*?(\d{4})年?)?|annual_plan_(\d{4}))$")
MONEY_UNIT = re.compile(r"[（(]\s*(万元|元|亿元)\s*[)）]")
_PAREN = re.compile(r"[（(][^）)]*[)）]")
_MONEY_FACTORS = {"亿元": Decimal(100000000), "亿": Decimal(100000000), "万元": Decimal(10000),
                  "万": Decimal(10000), "元": Decimal(1)}


def normalise_header(text: Any) -> str:
    """Header text without spaces, line breaks, and with half-width brackets."""
    s = str(text or "").strip()
    s = s.replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", s)


def _names(f: Field) -> set[str]:
    return {normalise_header(n) for n in (f.label, f.key, *f.aliases)}


REPORT_FIELDS: tuple[Field, ...] = (
    Field("code", "任务编号", ("编号", "项目编号", "task_code"), required=True),
    Field("name", "任务名称", ("项目名称",)),
    Field("unit", "报送单位", ("填报单位", "责任单位", "reporting_unit"), kind="unit"),
    Field("physical_progress", "形象进度", ("形象进度(%)", "完成进度", "进度"), kind="percent",
          required=True),
    Field("investment", "本期完成投资", ("本月完成投资", "本季完成投资", "完成投资"),
          kind="money"),
    Field("progress_text", "进展情况", ("工作进展", "进展")),
    Field("problems", "存在问题", ("问题",)),
    Field("next_steps", "下步打算", ("下步打算(措施)", "下一步打算", "下步措施")),
    Field("coordination", "需协调事项", ("需协调解决的问题", "协调事项")),
)
_LOOKUPS: dict[tuple[Field, ...], dict[str, str]] = {}


def _lookup(fields: tuple[Field, ...]) -> dict[str, str]:
    if fields not in _LOOKUPS:
        table = {}
        for f in fields:
            for n in _names(f):
                table[n] = f.key
                table[n.lower()] = f.key
        _LOOKUPS[fields] = table
    return _LOOKUPS[fields]


_COMPUTED = {normalise_header(c) for c in COMPUTED} | {c.lower() for c in COMPUTED}


@dataclass(frozen=True)
class ColumnMatch:
    index: int  # 0-based column index in the sheet
    header: str  # as written
    key: str  # field key, "annual_plan", or "" for ignored/computed
    year: int | None = None  # annual plan year
    money_factor: Decimal = Decimal(10000)  # header unit → yuan


def unit_factor(header: Any) -> Decimal | None:
    """Yuan per number for a header that names its money unit (（万元）, （元）, （亿元））."""
    unit = MONEY_UNIT.search(str(header or ""))
    return _MONEY_FACTORS[unit[1]] if unit else None


def match_header(header: Any, default_year: int, fields: tuple[Field, ...] = FIELDS
                 ) -> tuple[str, int | None, Decimal] | None:
    """(key, year, money factor) for a header, ``("", None, factor)`` if computed, None if
    unknown."""
    raw = normalise_header(header)
    if not raw:
        return None
    factor = unit_factor(header) or Decimal(10000)
    bare = _PAREN.sub("", raw)
    lookup = _lookup(fields)
    for candidate in (raw, bare, raw.lower(), bare.lower()):
        if candidate in lookup:
            return lookup[candidate], None, factor
    if fields is not FIELDS:
        computed = bare in _COMPUTED or raw in _COMPUTED
        return ("", None, factor) if computed else None
    m = ANNUAL.match(bare) or ANNUAL.match(bare.lower())
    if m:
        in_brackets = re.search(r"\((\d{4})年?度?\)", raw)  # 年度计划投资（2027年）
        year = next((int(g) for g in m.groups() if g),
                    int(in_brackets[1]) if in_brackets else default_year)
        return "annual_plan", year, factor
    if bare in _COMPUTED or raw in _COMPUTED or bare.lower() in _COMPUTED:
        return "", None, factor
    return None


@dataclass
class Header:
    data_start: int  # 0-based index of the first data row
    header_row: int  # 1-based row number of the (last) header row
    columns: list[ColumnMatch] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # unknown columns
    computed: list[str] = field(default_factory=list)  # recognised computed columns
    problems: list[Problem] = field(default_factory=list)


def find_header(rows: Sequence[Sequence[Any]], file: str, sheet: str,
                default_year: int, scan: int = 12,
                fields: tuple[Field, ...] = FIELDS) -> Header:
    """Locate the header (one row, or two with group headers) and match its columns."""
    best, best_hits = None, 0
    for i in range(min(scan, len(rows))):
        hits = sum(1 for v in rows[i] if match_header(v, default_year, fields) not in (None,))
        if hits > best_hits:
            best, best_hits = i, hits
    if best is None or best_hits < 2:
        return Header(0, 0, problems=[Problem(file, sheet, None, "", (
            "找不到表头：前几行中没有“任务编号”“任务名称”“牵头单位”等列名"))])
    top = rows[best]
    second = rows[best + 1] if best + 1 < len(rows) else ()
    second_hits = sum(1 for v in second if match_header(v, default_year, fields) is not None)
    two_rows = second_hits > 0 and not _looks_like_data(second)
    width = max(len(top), len(second) if two_rows else 0)
    header = Header(best + (2 if two_rows else 1), best + (2 if two_rows else 1))
    seen: dict[tuple[str, int | None], str] = {}
    group = None
    for c in range(width):
        upper = top[c] if c < len(top) else None
        lower = second[c] if two_rows and c < len(second) else None
        if upper not in (None, ""):
            group = upper
        text = lower if lower not in (None, "") else upper
        if text in (None, ""):
            continue
        matched = match_header(text, default_year, fields)
        if matched is None and lower not in (None, "") and group:
            matched = match_header(f"{group}{lower}", default_year, fields)
        if matched is None:
            header.ignored.append(str(text).strip())
            continue
        key, year, factor = matched
        if lower not in (None, "") and unit_factor(lower) is None:
            factor = unit_factor(group) or factor  # 投资（万元） over 计划总投资
        if key == "":
            header.computed.append(str(text).strip())
            continue
        if (key, year) in seen:
            header.problems.append(Problem(file, sheet, header.header_row, str(text).strip(), (
                f"列重复：与“{seen[(key, year)]}”是同一列")))
            continue
        seen[(key, year)] = str(text).strip()
        header.columns.append(ColumnMatch(c, str(text).strip(), key, year, factor))
    present = {m.key for m in header.columns}
    for f in fields:
        if f.required and f.key not in present:
            header.problems.append(Problem(file, sheet, header.header_row, f.label,
                                           "缺少必填列"))
    return header


def _looks_like_data(row: Sequence[Any]) -> bool:
    return any(isinstance(v, (int, float, dt.date)) and not isinstance(v, bool) for v in row)


# ---- cells ------------------------------------------------------------------------------

class CellError(ValueError):
    """A cell that cannot be read; the message is the reason shown to people."""


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any, epoch: dt.datetime | None = None) -> dt.date | None:
    """A date from a cell: Excel date, serial number (with the workbook's epoch) or text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        base = epoch or dt.datetime(1899, 12, 30)
        if base.year == 1899 and value < 61:
            base = dt.datetime(1899, 12, 31)  # Excel's phantom 1900-02-29
        if not 1 <= value < 2958466:
            raise CellError(f"日期序号 {value} 超出范围")
        return (base + dt.timedelta(days=int(value))).date()
    text = str(value).strip().replace(" ", "")
    text = text.split("T")[0] if re.match(r"^\d{4}-\d{2}-\d{2}T", text) else text
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise CellError(f"日期 {value!r} 不存在") from None
    m = re.match(r"^(\d{4}-\d{2}-\d{2})\s*00:00(:00)?$", str(value).strip())
    if m:
        return dt.date.fromisoformat(m[1])
    raise CellError(f"无法识别的日期 {value!r}，请写作 2026-03-31 或 2026年3月31日")


_MONEY_TEXT = re.compile(r"^([+-]?\d+(?:\.\d+)?)(亿元|亿|万元|万|元)?$")


def parse_money(value: Any, factor: Decimal = Decimal(10000)) -> Decimal | None:
    """Yuan, to the fen, from a cell whose bare numbers are in units of ``factor`` yuan."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(f"金额 {value!r} 不是数字")
    if isinstance(value, (int, float, Decimal)):
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        amount *= factor
    else:
        text = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
        m = _MONEY_TEXT.match(text)
        if not m:
            raise CellError(f"无法识别的金额 {value!r}，请填数字（万元）或写作 12万、120000元")
        amount = Decimal(m[1]) * (_MONEY_FACTORS[m[2]] if m[2] else factor)
    if amount < 0:
        raise CellError(f"金额不能为负数：{shown(value)}")
    return amount.quantize(FEN)


def shown(value: Any) -> str:
    """A cell value as people typed it (readers give 5.0 for a typed 5)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def yuan_to_wan(amount: Decimal) -> str:
    """万元 text for a yuan amount: up to six decimals, no trailing zeros (exact to the fen)."""
    text = format((Decimal(amount) / 10000).quantize(Decimal("0.000001")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise CellError(f"{value!r} 不是数字") from None
    if number < 0:
        raise CellError(f"不能为负数：{shown(value)}")
    return number


def parse_seq(value: Any) -> int:
    """序号: a whole number; blank is 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise CellError(f"序号 {value!r} 应为整数") from None
    if number != number.to_integral_value() or number < 0:
        raise CellError(f"序号 {value!r} 应为非负整数")
    return int(number)


def parse_percent(value: Any) -> Decimal | None:
    """形象进度 in percent: ``35``, ``35%`` or ``35.5``; 0–100."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().rstrip("%％") if isinstance(value, str) else value
    try:
        number = Decimal(repr(text)) if isinstance(text, float) else Decimal(str(text))
    except InvalidOperation:
        raise CellError(f"形象进度 {value!r} 不是数字") from None
    if not 0 <= number <= 100:
        raise CellError(f"形象进度应在 0–100 之间：{shown(value)}")
    return number.quantize(FEN)


def parse_status(value: Any) -> tuple[str | None, str | None]:
    """(status, warning). 滞后 is computed, so it is read as 推进中 with a warning."""
    if value is None or not str(value).strip():
        return None, None
    text = str(value).strip()
    if text == "滞后":
        return "in_progress", "完成状态“滞后”由系统计算，按“推进中”导入"
    if text in STATUS_LABELS:
        return STATUS_LABELS[text], None
    raise CellError(f"未知的完成状态 {text!r}，应为 未启动、推进中、已完成 或 已销号")


_UNIT_SPLIT = re.compile(r"[、，,;；/\n]+")


def split_units(value: Any) -> list[str]:
    """配合单位 names, in order, without blanks or repeats."""
    if value is None:
        return []
    return list(dict.fromkeys(p.strip() for p in _UNIT_SPLIT.split(str(value)) if p.strip()))


@dataclass(frozen=True)
class NodeSpec:
    name: str
    planned_date: dt.date
    done_on: dt.date | None = None


_NODE = re.compile(r"^(?P<name>.+?)[：:]\s*(?P<date>[^（(]+?)\s*(?:[（(]\s*(?:完成于|完成|已完成)"
                   r"\s*[：:]?\s*(?P<done>[^）)]+?)\s*[)）])?$")


_BULLET = re.compile(r"^(?:[•·▪●◆]\s*|[-*]\s+)")
_NUMBERED = re.compile(r"^[（(]?(\d{1,2})\s*[.、)）]\s*(?!\d)")


def _list_items(value: Any) -> list[str]:
    """A cell's lines without blanks, bullets, or list numbering (1. 2. 3. — only when every
    line is numbered in order, so a name such as ``3号楼封顶`` keeps its digit)."""
    lines = [_BULLET.sub("", line.strip()) for line in str(value).splitlines() if line.strip()]
    numbers = [_NUMBERED.match(line) for line in lines]
    if lines and all(numbers) and [int(m[1]) for m in numbers] == list(range(1, len(lines) + 1)):
        lines = [line[m.end():] for line, m in zip(lines, numbers, strict=True)]
    return [line.strip() for line in lines if line.strip()]


def parse_nodes(value: Any, epoch: dt.datetime | None = None) -> list[NodeSpec]:
    """时间节点: one per line, ``名称：日期`` or ``名称：日期（完成于日期）``."""
    if value is None or not str(value).strip():
        return []
    nodes = []
    for line in _list_items(value):
        m = _NODE.match(line)
        if not m:
            raise CellError(f"时间节点 {line!r} 应写作“名称：2026-03-31”，每行一个")
        nodes.append(NodeSpec(m["name"].strip(), parse_date(m["date"].strip(), epoch),
                              parse_date(m["done"].strip(), epoch) if m["done"] else None))
    return nodes


def format_nodes(nodes: Sequence[NodeSpec]) -> str:
    """The inverse of ``parse_nodes``."""
    return "\n".join(
        f"{n.name}：{n.planned_date.isoformat()}"
        + (f"（完成于{n.done_on.isoformat()}）" if n.done_on else "")
        for n in nodes
    )


def clean_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return str(value).strip()


@dataclass
class TaskRow:
    """One ledger row, parsed; only the columns present in the sheet are set in ``values``."""

    row: int
    values: dict[str, Any] = field(default_factory=dict)
    annual_plans: dict[int, Decimal | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def parse_rows(rows: Sequence[Sequence[Any]], header: Header, file: str, sheet: str,
               epoch: dt.datetime | None, fields: tuple[Field, ...] = FIELDS,
               ) -> tuple[list[TaskRow], list[Problem]]:
    """Parse every data row; returns the rows and every problem found (empty rows skipped)."""
    by_key = {f.key: f for f in fields}
    out: list[TaskRow] = []
    problems: list[Problem] = []
    for index in range(header.data_start, len(rows)):
        values = rows[index]
        if not any(v is not None and str(v).strip() != "" for v in values):
            continue
        row_no = index + 1
        task = TaskRow(row_no)
        for col in header.columns:
            raw = values[col.index] if col.index < len(values) else None
            try:
                if col.key == "annual_plan":
                    task.annual_plans[col.year] = parse_money(raw, col.money_factor)
                    continue
                f = by_key[col.key]
                if f.kind == "date":
                    parsed = parse_date(raw, epoch)
                elif f.kind == "money":
                    parsed = parse_money(raw, col.money_factor)
                elif f.kind == "decimal":
                    parsed = parse_decimal(raw)
                elif f.kind == "int":
                    parsed = parse_seq(raw)
                elif f.kind == "percent":
                    parsed = parse_percent(raw)
                elif f.kind == "units":
                    parsed = split_units(raw)
                elif f.kind == "nodes":
                    parsed = parse_nodes(raw, epoch)
                elif f.kind == "status":
                    parsed, warning = parse_status(raw)
                    if warning:
                        task.warnings.append(f"{file}:{sheet}:{row_no}:{col.header}: {warning}")
                else:
                    parsed = clean_text(raw)
                if f.required and parsed in (None, "", []):
                    raise CellError("必填项为空")
                task.values[col.key] = parsed
            except CellError as exc:
                problems.append(Problem(file, sheet, row_no, col.header, str(exc)))
        out.append(task)
    return out, problems
