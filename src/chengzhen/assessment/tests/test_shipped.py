"""The indicator frameworks shipped with the platform (随平台提供的测评体系, data/frameworks/*.yaml).

Each file must load with the project's parser, and its YAML dump must load back to an equal
definition — otherwise what the platform stores would differ from what it shows or exports.
A few spot checks pin the numbers the sources give (so an edit that breaks them is noticed), and
every file is scored once with a subject that meets every target and one that misses them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chengzhen.assessment import engine
from chengzhen.assessment.framework import ByClass, Framework, FrameworkError, dump_framework, load_framework
from chengzhen.assessment.shipped import shipped_files

FILES = shipped_files()
EXPECTED = {
    "mlcz-2020",
    "zdz-2023",
    "ljxq-2020",
    "ylcs-2005",
    "wscs-2000s",
    "wmcs-2020",
    "wmcs-cycle",
    "stwm-2016",
    "qyly-2020",
}
# file names are CODE-VERSION in lower case; the one exception is named in the brief
FILE_NAMES = {"wmcs-cycle": "WMCSZH@2020"}


def _load(path: Path) -> Framework:
    try:
        return load_framework(path.read_text(encoding="utf-8"), path.name)
    except FrameworkError as exc:  # show every problem, not just the first
        pytest.fail("\n".join(exc.lines()))


def test_expected_files_are_shipped() -> None:
    assert EXPECTED <= {p.stem for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_loads_and_round_trips(path: Path) -> None:
    fw = _load(path)
    assert fw.status in ("complete", "sample")
    assert fw.sources
    dumped = dump_framework(fw)
    again = load_framework(dumped, f"{path.name} (dump)")
    assert again.as_dict() == fw.as_dict()
    assert dump_framework(again) == dumped


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_name_matches_code(path: Path) -> None:
    fw = _load(path)
    expected = FILE_NAMES.get(path.stem)
    if expected is None:
        assert path.stem == f"{fw.code}-{fw.version}".lower()
    else:
        assert fw.full_name == expected


def test_codes_are_unique() -> None:
    names = [_load(p).full_name for p in FILES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_leaf_has_a_rule_and_sample_items_are_flagged(path: Path) -> None:
    fw = _load(path)
    for leaf in fw.leaves():
        assert leaf.rule_type, leaf.code
    if fw.status == "sample":
        # a sample must say which of its numbers are defaults
        assert any(n.unverified for n in fw.walk())


def _fw(stem: str) -> Framework:
    return _load(next(p for p in FILES if p.stem == stem))


def test_ylcs_basic_table_by_class() -> None:
    fw = _fw("ylcs-2005")
    assert fw.total == 100
    target = fw.node("A01").params["target"]
    assert target.by == ("population_band", "climate")
    assert target.values == {
        "over_1m/south": 7.5,
        "over_1m/north": 7,
        "500k_1m/south": 8,
        "500k_1m/north": 7.5,
        "under_500k/south": 9,
        "under_500k/north": 8.5,
    }
    assert fw.node("A02").params["target"].values["under_500k/north"] == 34
    assert fw.node("A03").unverified  # the north values of 绿化覆盖率 are not in the source
    assert fw.node("B01").params["target"] == 4 and fw.node("B01").unit == "座/万人"


def test_qyly_totals() -> None:
    fw = _fw("qyly-2020")
    assert fw.total == 1000
    assert fw.node("JB").points == 1000
    assert fw.node("CX").bonus and fw.node("CX").points == 200
    assert fw.node("TZ").points == 90 and [c.points for c in fw.node("TZ").children] == [20, 25, 20, 15, 10]
    assert fw.node("ZC").points == 140
    assert fw.node("ZG01").rule_type == "prerequisite"
    assert all(c.rule_type == "veto" for c in fw.node("BY").children)


def test_wmcs_structure_and_cycle() -> None:
    fw = _fw("wmcs-2020")
    assert fw.total == 120
    assert fw.node("JB").points == 100 and len(fw.node("JB").children) == 7
    assert fw.node("TS").points == 20
    assert fw.node("QZ01").rule_type == "prerequisite"
    cycle = _fw("wmcs-cycle")
    (leaf,) = cycle.leaves()
    assert leaf.rule_type == "composite"
    assert [y["weight"] for y in leaf.params["years"]] == [0.15, 0.25, 0.6]


def test_zdz_has_deduction_bonus_and_veto() -> None:
    fw = _fw("zdz-2023")
    rules = {leaf.rule_type for leaf in fw.leaves()}
    assert {"deduction", "bonus", "veto"} <= rules
    assert fw.total == 100


def test_stwm_class_dependent_and_lower_is_better() -> None:
    fw = _fw("stwm-2016")
    assert fw.node("KJ01").params["target"].values == {"mountain": 33, "hill": 22, "plain": 16}
    energy = fw.node("JJ01")
    assert energy.direction == "lower" and energy.params["target"] == 0.7 and energy.unit == "吨标煤/万元"


def test_ljxq_ratio_and_targets() -> None:
    fw = _fw("ljxq-2020")
    start = fw.node("A01")
    assert start.formula is not None and start.formula.scale == 100
    assert fw.node("A02").rule_type == "proportional"
    assert fw.node("C01").params["target"] == 100
    assert fw.node("C02").params["target"] == 90


def test_mlcz_dimensions() -> None:
    fw = _fw("mlcz-2020")
    assert [c.code for c in fw.node("GX").children] == ["HJM", "SHM", "CYM", "RWM", "ZLM", "CXRH"]
    assert fw.node("GXH").bonus
    assert all(leaf.rule_type == "satisfaction" for leaf in fw.node("MYD").children)


def _pick(value, higher: bool) -> float:
    if isinstance(value, ByClass):  # the strictest class, so every class meets it
        options = [*value.values.values(), *([] if value.default is None else [value.default])]
        return max(options) if higher else min(options)
    return value


def _records(fw: Framework, subject: str, best: bool) -> list[tuple[str, str, str, float]]:
    """Values that meet (best) or miss (worst) every leaf of ``fw``, in each leaf's own terms."""
    out = []
    for n in fw.leaves():
        p, t, higher = n.params, n.rule_type, n.direction != "lower"
        if t == "composite":
            out += [(subject, n.code, y["label"], p["scale"] if best else 0.0) for y in p["years"]]
            continue
        if t == "satisfaction" and "options" in p:
            chosen = (max if best else min)(p["options"], key=p["options"].get)
            enough = float(max(p.get("min_responses", 0), 1))
            out += [(subject, n.code, o, enough if o == chosen else 0.0) for o in p["options"]]
            continue
        if t in ("threshold", "prerequisite"):
            target = _pick(p["target"], higher)
            v = target if best else target + (-1000 if higher else 1000)
        elif t == "linear":
            v = _pick(p["target"], higher) if best else _pick(p["floor"], not higher)
        elif t == "steps":
            bounds = [b for b, _ in p["steps"]]
            v = (max(bounds) if higher else min(bounds)) if best else (min(bounds) - 1 if higher else max(bounds) + 1)
        elif t == "satisfaction":
            v = 100.0 if best else 0.0
        elif t == "proportional":
            v = p["full_at"] if best else 0.0
        elif t in ("deduction", "veto"):
            v = 0.0 if best else 1e6
        elif t == "bonus":
            v = 1e6 if best else 0.0
        else:
            raise AssertionError(f"{n.code}: no test values for rule {t}")
        if n.formula is not None:
            out += [(subject, n.code, "numerator", v / n.formula.scale), (subject, n.code, "denominator", 1.0)]
        else:
            out.append((subject, n.code, n.inputs[0].code, v))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_full_marks_and_zero(path: Path) -> None:
    """A subject meeting every target gets every point (bonus caps included); one missing every target
    gets 0 and trips every veto and prerequisite — so targets, directions, ranges and steps agree."""
    fw = _load(path)
    subjects = ["best", "worst"]
    profile = {a: next(iter(attr.values)) for a, attr in fw.profile.items()}
    values = engine.Values.from_records(subjects, [*_records(fw, "best", True), *_records(fw, "worst", False)])
    result = engine.score(fw, subjects, dict.fromkeys(subjects, profile), values)
    bonus = sum(n.points for n in fw.walk() if n.is_leaf and n.bonus)
    assert result.total[0] == pytest.approx(fw.total + bonus)
    assert result.total[1] == pytest.approx(0)
    assert not result.vetoed[0] and not result.prerequisite_failed[0]
    for code, leaf in result.leaves.items():
        if leaf.node.awards_points:
            assert leaf.score[0] == pytest.approx(leaf.node.points), code
            assert leaf.score[1] == pytest.approx(0), code
        else:
            assert leaf.output.flag[1], code
