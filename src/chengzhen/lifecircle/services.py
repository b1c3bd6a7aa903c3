"""Life-circle coverage submitted to an assessment round (生活圈覆盖率报送): one action, all or nothing.

``submit_coverage`` takes a run folder of ``chengzhen lifecircle run``, picks one facility type and
circle (``results.coverage_rates``), maps each area of the run to a subject of the round and submits
each area's rate as that subject's value through ``assessment.rounds.submit_value`` — so the
permission, the open round, the indicator's range, late marks, history and audit stay in the one
place that owns them. Everything happens in one transaction: an area that maps to no subject (unless
skipped on purpose), a subject the person may not report for, an indicator not in percent, or any
refusal from ``submit_value`` leaves the round as it was, evidence files included.

Areas map to subjects by an explicit mapping (``area_to_unit``: a dict or a CSV file ``area,unit_code``)
first, then by the unit's name, short name or code. The run's 全部 row (the whole study area) is
submitted only when the mapping names it or the run has no areas; homes outside every area polygon
(area "") never are.

Evidence attached to every value: ``coverage.xlsx`` (the table the figure is read from) and, when the
run drew one, ``map_<type>.png`` (the map of homes and gaps — the 布点图 the frameworks ask for).
Not ``homes.csv``: the evidence check takes photos, PDF and Office files only, it grows with the homes
(megabytes, copied onto every area's value) and lists single homes, while the figure is reproducible
from coverage.xlsx. A file already attached to the value with the same content is not attached again,
so submitting the same run twice gives a new version of each value, not a second copy of its files.
The derivation sentence goes into the value's 佐证说明 (``evidence`` text): ``submit_value`` keeps
``derivation`` for platform values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengzhen.assessment import rounds
from chengzhen.assessment import units as unit_table
from chengzhen.assessment.models import Round, Value
from chengzhen.audit.chain import record_event
from chengzhen.audit.context import acting_for
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can
from chengzhen.problems import Problem, Refused

from . import results
from .coverage import ALL

PERCENT = "%"
OUTSIDE = ("", "区域外")  # the homes outside every area polygon, as run.py has named them


@dataclass
class Submitted:
    """What ``submit_coverage`` did: the values (one per subject, in subject order), the areas left
    out and why, and the evidence file names."""

    values: list[Value]
    rates: dict[str, results.AreaRate]  # subject code → the area's rate it was given
    skipped: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def late(self) -> int:
        return sum(1 for v in self.values if v.late)


def submit_coverage(user, round: Round | str, *, folder: str | Path, node_code: str, input_code: str = "",
                    type_code: str, circle: int | str, area_to_unit: Mapping[str, str] | str | Path | None = None,
                    skip_unknown_areas: bool = False, preset: str | Path | None = None) -> Submitted:
    """Submit a run's coverage of ``type_code`` within ``circle`` minutes as each mapped subject's
    value of the leaf ``node_code`` (input ``input_code``; empty when the leaf has one); see the
    module docstring. Raises ``Refused`` or ``PermissionDenied`` with nothing written."""
    r = rounds.round_of(round) if isinstance(round, str) else round
    fw = rounds.framework(r)
    node, inp = rounds.leaf_input(fw, node_code, input_code)
    _check_percent(fw, node, inp)
    folder = Path(folder)
    table = results.read_coverage(folder)
    code, minutes = results.pick(table, type_code, circle)  # refused naming the types and circles the file has
    areas = [rec.area for rec in table.records if rec.type == code and rec.circle == minutes]
    mapping, map_file = _mapping(area_to_unit)
    subjects = rounds.subjects_of(r)
    chosen, skipped = _match(table, areas, mapping, map_file, subjects, r, skip_unknown_areas)
    chosen.sort(key=lambda pair: pair[1].code)
    rates = {a.area: a for a in results.coverage_rates(table, code, minutes, areas=[a for a, _u in chosen],
                                                       preset=preset)}
    denied = [u for _a, u in chosen if not can(user, Action.REPORT, Value(subject=u))]
    if denied:
        raise PermissionDenied(f"{user} 无权填报 {'、'.join(str(u) for u in denied)} 的考核数值，未做任何修改")
    files = _evidence(folder, code)
    written: list[Path] = []
    values: list[Value] = []
    try:
        with acting_for(user, "submit_coverage"), transaction.atomic():
            for area, unit in chosen:
                rate = rates[area]
                current = Value.objects.filter(round=r, subject=unit, node=node.code, input=inp.code).first()
                held = dict(current.files.values_list("pk", "sha256")) if current else {}
                value = rounds.submit_value(
                    user, r, unit, node.code, inp.code, rate.amount, unit=PERCENT, evidence=rate.derivation,
                    files=[(name, data) for name, data, sha in files if sha not in held.values()])
                written += _new_files(value, list(held))
                values.append(value)
            record_event("submit_coverage", "assessment.round", r.pk, round=r.code, node=node.code, input=inp.code,
                         folder=str(folder), coverage_sha256=_sha256(folder / results.COVERAGE_FILE),
                         type=code, circle=minutes,
                         values={u.code: str(rates[a].amount) for a, u in chosen}, skipped=skipped)
    except BaseException:
        for path in written:  # the rows rolled back; so do the files the earlier areas stored
            path.unlink(missing_ok=True)
        raise
    by_unit = {u.code: rates[a] for a, u in chosen}
    return Submitted(values, by_unit, skipped, [name for name, _d, _s in files])


def _check_percent(fw, node, inp) -> None:
    """The leaf input must be measured in percent (or a unit % converts to, such as ‰)."""
    where = fw.path_label(node.code)
    if node.measure:
        raise Refused([Problem(column="indicator", reason=f"{where} 由平台取数，不能用生活圈覆盖率填报")])
    if not inp.unit:
        raise Refused([Problem(column="indicator", reason=(
            f"{where} 的取值项 {inp.code} 没有单位；生活圈覆盖率是百分比（%），只能填报以 % 计的指标"))])
    try:
        unit_table.factor(PERCENT, inp.unit)
    except unit_table.UnitError:
        raise Refused([Problem(column="indicator", reason=(
            f"{where} 的单位是 {inp.unit}，生活圈覆盖率是百分比（%），单位不符"))]) from None


def _mapping(area_to_unit) -> tuple[dict[str, str], str]:
    if area_to_unit is None:
        return {}, ""
    if isinstance(area_to_unit, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in area_to_unit.items()}, "area_to_unit"
    return results.read_area_map(area_to_unit), str(area_to_unit)


def names_of(subjects: Iterable[Unit]) -> dict[str, set[str]]:
    """Each name, short name and code of the subjects → the codes it names: how areas find their
    subject by name."""
    by_name: dict[str, set[str]] = {}
    for u in subjects:
        for key in (u.name, u.short_name, u.code):
            if key:
                by_name.setdefault(key.strip(), set()).add(u.code)
    return by_name


def _match(table: results.CoverageTable, areas: list[str], mapping: dict[str, str], map_file: str,
           subjects: list[Unit], r: Round, skip_unknown: bool) -> tuple[list[tuple[str, Unit]], list[str]]:
    """(area, subject) pairs to submit, and notes on the areas left out; refused on areas that map
    to nothing (unless skipped), a mapping naming a unit outside the round, two areas on one subject."""
    by_code = {u.code: u for u in subjects}
    by_name = names_of(subjects)
    row_of = {rec.area: rec.row for rec in table.records}
    named = [a for a in areas if a != ALL and a not in OUTSIDE]
    problems, unknown, chosen, skipped = [], [], [], []
    for area in areas:
        if area in OUTSIDE:
            skipped.append("区域外的住宅（不在任何区域面内）不报送")
            continue
        if area == ALL and named and area not in mapping:
            skipped.append("全部（整个测算范围）不报送：各区域分别报送")
            continue
        if area in mapping:
            unit = by_code.get(mapping[area])
            if unit is None:
                problems.append(Problem(file=map_file, column="unit_code", reason=(
                    f"区域“{area}”对应的单位 {mapping[area]} 不是考核轮次 {r.code} 的考核对象")))
                continue
            chosen.append((area, unit))
            continue
        codes = by_name.get(area.strip(), set())
        if len(codes) > 1:
            problems.append(Problem(file=table.file, row=row_of[area], column="area", reason=(
                f"区域“{area}”对应多个考核对象（{'、'.join(sorted(codes))}），请用 --areas-map 指定")))
        elif codes:
            chosen.append((area, by_code[codes.pop()]))
        else:
            unknown.append(area)
    names = "、".join(u.short_name or u.name for u in subjects)
    if unknown and not skip_unknown:
        hint = "用 --areas-map 对应到单位代码，或加 --skip-unknown-areas 忽略" if named else (
            "测算没有分区域（--areas）：用 --areas-map 把“全部”对应到一个考核对象")
        problems += [Problem(file=table.file, row=row_of[a], column="area", reason=(
            f"区域“{a}”不是考核轮次 {r.code} 的考核对象（本轮对象：{names}）；{hint}")) for a in unknown]
    else:
        skipped += [f"区域“{a}”不是本轮考核对象，已忽略" for a in unknown]
    seen: dict[str, str] = {}
    for area, unit in chosen:
        if unit.code in seen:
            problems.append(Problem(file=table.file, row=row_of[area], column="area", reason=(
                f"区域“{seen[unit.code]}”和“{area}”都对应 {unit}，一个考核对象只能报送一个数值")))
        seen.setdefault(unit.code, area)
    if not problems and not chosen:
        problems.append(Problem(file=table.file, column="area", reason=f"没有可报送的区域（本轮对象：{names}）"))
    if problems:
        raise Refused(problems)
    return chosen, skipped


def _evidence(folder: Path, type_code: str) -> list[tuple[str, bytes, str]]:
    """(name, bytes, SHA-256 of what will be stored) of the evidence files; coverage.xlsx required."""
    from chengzhen.ledger import evidence

    wanted = [(folder / "coverage.xlsx", True), (folder / f"map_{type_code}.png", False)]
    out, problems = [], []
    for path, required in wanted:
        if not path.is_file():
            if required:
                problems.append(Problem(file=str(path), reason="缺少覆盖率表 coverage.xlsx（作为佐证材料附上）"))
            continue
        data = path.read_bytes()
        try:
            checked = evidence.check(data, path.name, settings.CHENGZHEN_MAX_EVIDENCE_BYTES)
        except evidence.EvidenceRefused as exc:
            problems.append(Problem(file=str(path), column="佐证材料", reason=str(exc)))
            continue
        out.append((path.name, data, checked.sha256))
    if problems:
        raise Refused(problems)
    return out


def _new_files(value: Value, held: list[int]) -> list[Path]:
    from chengzhen.ledger.services import evidence_path

    return [evidence_path(name) for name in value.files.exclude(pk__in=held).values_list("stored_name", flat=True)]


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


__all__ = ["Submitted", "submit_coverage"]
