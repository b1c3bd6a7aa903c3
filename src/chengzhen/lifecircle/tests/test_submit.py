"""Coverage of a real ``chengzhen lifecircle run`` submitted to an assessment round with
``chengzhen lifecircle submit``: one value per town equal to coverage.csv's rate × 100 with the
evidence attached, refused as a whole (nothing stored, no file left) for another town's person, an
unknown area, an indicator not in percent or one refusal half-way; resubmitting gives a new version,
not a second value or a second copy of the files. And the pure reading of coverage.csv."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chengzhen.lifecircle import results
from chengzhen.lifecircle.tests.test_run import LAT0, LON0, STEP, _grid, _tables
from chengzhen.problems import Refused

FW = """\
code: LCT
version: "1"
name: 生活圈测试体系
status: sample
sources: [测试]
nodes:
  - code: S
    name: 生活圈
    points: 100
    children:
      - {code: S1, name: 5分钟生活圈幼儿园覆盖率, points: 50, unit: "%", range: [0, %(high)s],
         rule: {type: proportional, full_at: 100}}
      - {code: S2, name: 公共服务设施投资, points: 50, unit: 万元, range: [0, 100000],
         rule: {type: linear, floor: 0, target: 5000}}
"""
TOWNS = ("青山镇", "白河镇")  # the county fixture's town_a and town_b, by their short names


def _town_areas(path: Path, names=TOWNS) -> Path:
    """Two area polygons splitting the street grid west | east, named after the two towns."""
    half, w, e, s_, n_ = LON0 + 3.5 * STEP, LON0 - 0.01, LON0 + 0.02, LAT0 - 0.01, LAT0 + 0.02
    rings = [[[w, s_], [half, s_], [half, n_], [w, n_]], [[half, s_], [e, s_], [e, n_], [half, n_]]]
    feats = [{"type": "Feature", "properties": {"名称": name},
              "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}} for name, ring in zip(names, rings,
                                                                                                       strict=True)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """One real run (GB 50180-2018, node snap, two town areas) shared by the module's tests."""
    base = tmp_path_factory.mktemp("lifecircle-submit")
    _grid(base / "net.geojson")
    _tables(base)
    _town_areas(base / "areas.geojson")
    call_command("lifecircle", "run", "--network", str(base / "net.geojson"), "--facilities", str(base / "f.csv"),
                 "--homes", str(base / "h.csv"), "--crs", "GCJ-02", "--preset", "gb50180-2018", "--snap", "node",
                 "--areas", str(base / "areas.geojson"), "-o", str(base / "out"), stdout=io.StringIO(),
                 stderr=io.StringIO())
    return base / "out"


def _rates(run_dir: Path, type_code: str = "kindergarten", circle: str = "5") -> dict[str, Decimal]:
    rows = csv.DictReader(io.StringIO((run_dir / "coverage.csv").read_text(encoding="utf-8-sig")))
    return {r["area"]: Decimal(r["rate"]) * 100 for r in rows if r["type"] == type_code and r["circle"] == circle}


def _round(county, high: str = "100", subjects=("town_a", "town_b"), code: str = "LC-2026"):
    from chengzhen.assessment import rounds, services
    from chengzhen.assessment.framework import load_framework
    from chengzhen.assessment.models import FrameworkVersion

    sup = county.users["supervisor"]
    if not FrameworkVersion.objects.filter(framework__code="LCT", label="1").exists():
        services.import_framework(sup, load_framework(FW.replace("%(high)s", high)))
    return rounds.create_round(
        sup, code=code, name="2026年度生活圈测试考核", framework_name="LCT@1",
        unit_codes=[county.units[k].code for k in subjects], year=2026, period_from=dt.date(2026, 1, 1),
        period_to=dt.date(2026, 12, 31), submit_by=dt.date(2026, 12, 20))


def _submit(run_dir: Path, *extra: str, as_user: str = "supervisor", round_code: str = "LC-2026",
            indicator: str = "S1") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("lifecircle", "submit", str(run_dir), "--round", round_code, "--indicator", indicator,
                 "--type", "幼儿园", "--circle", "5", *extra, "--as", as_user, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _nothing_written(settings) -> None:
    from chengzhen.assessment.models import Value, ValueEvidence
    from chengzhen.audit.models import AuditRecord

    assert Value.objects.count() == 0 and ValueEvidence.objects.count() == 0
    assert not AuditRecord.objects.filter(action="submit_coverage").exists()
    assert _stored_files(settings) == []


def test_a_county_user_submits_every_town_and_resubmits_a_new_version(county, run_dir, settings):
    from chengzhen.assessment import rounds
    from chengzhen.assessment.models import Value, ValueStatus
    from chengzhen.audit.models import AuditRecord

    r = _round(county)
    said, notes = _submit(run_dir)
    expected = _rates(run_dir)
    assert "已报送 2 个考核数值" in said and "全部（整个测算范围）不报送" in notes
    values = {v.subject.short_name: v for v in Value.objects.filter(round=r).select_related("subject")}
    assert set(values) == set(TOWNS)
    for town, v in values.items():
        assert v.amount == expected[town].quantize(Decimal("0.01")) and v.unit == "%"
        assert v.node == "S1" and v.input == "value" and v.status == ValueStatus.SUBMITTED
        assert v.submitted_by == county.users["supervisor"] and not v.late
        assert f"{town} 5分钟生活圈居住区（幼儿园（kindergarten），服务距离 300 米）：覆盖人口" in v.evidence
        assert "预设 城市居住区规划设计标准（GB 50180-2018）（gb50180-2018）" in v.evidence
        assert sorted(f.name for f in v.files.all()) == ["coverage.xlsx", "map_kindergarten.png"]
        assert f"{v.amount_text}%" in said
    assert len(_stored_files(settings)) == 4
    event = AuditRecord.objects.get(action="submit_coverage")
    body = json.loads(event.content)
    cent = Decimal("0.01")
    assert body["detail"]["values"] == {v.subject.code: str(v.amount.quantize(cent)) for v in values.values()}

    # returned by a verifier, then the same run submitted again: a new version of the same values
    town_a = values[TOWNS[0]]
    rounds.verify_value(county.users["admin"], town_a, accept=False, reason="请附调查底图",
                        expected_version=town_a.version)
    _submit(run_dir)
    assert Value.objects.filter(round=r).count() == 2
    again = Value.objects.get(pk=town_a.pk)
    assert again.version > town_a.version and again.status == ValueStatus.SUBMITTED and again.return_reason == ""
    assert again.files.count() == 2 and len(_stored_files(settings)) == 4  # the same files are not stored twice
    texts = [e.text for e in rounds.history([again])[again.pk]]
    assert texts[0].startswith("报送") and any(t.startswith("退回") for t in texts)
    assert texts[-1] == f"重新报送 {again.amount_text} %，待核查"
    assert AuditRecord.objects.filter(action="submit_coverage").count() == 2


def test_a_town_person_may_not_submit_for_another_town(county, run_dir, settings):
    _round(county)
    with pytest.raises(CommandError, match="无权限.*白河镇"):
        _submit(run_dir, as_user="editor_a")
    _nothing_written(settings)


def test_an_area_outside_the_round_is_named_or_skipped_on_purpose(county, run_dir, settings):
    from chengzhen.assessment.models import Value

    _round(county, subjects=("town_a",))
    err = io.StringIO()
    with pytest.raises(CommandError, match="已拒绝：1 处问题"):
        call_command("lifecircle", "submit", str(run_dir), "--round", "LC-2026", "--indicator", "S1", "--type",
                     "kindergarten", "--circle", "5", "--as", "supervisor", stdout=io.StringIO(), stderr=err)
    assert "coverage.csv" in err.getvalue() and ":area: 区域“白河镇”不是考核轮次 LC-2026 的考核对象" in err.getvalue()
    _nothing_written(settings)
    said, notes = _submit(run_dir, "--skip-unknown-areas")
    assert "已报送 1 个考核数值" in said and "区域“白河镇”不是本轮考核对象，已忽略" in notes
    assert [v.subject.short_name for v in Value.objects.all()] == ["青山镇"]


def test_a_mapping_file_names_the_subjects(county, run_dir, tmp_path):
    from chengzhen.assessment.models import Value

    _round(county)
    swapped = tmp_path / "areas.csv"  # deliberately crossed: the mapping wins over the names
    swapped.write_text(f"area,unit_code\n青山镇,{county.units['town_b'].code}\n白河镇,{county.units['town_a'].code}\n",
                       encoding="utf-8-sig")
    _submit(run_dir, "--areas-map", str(swapped))
    expected = _rates(run_dir)
    got = {v.subject.short_name: v.amount for v in Value.objects.select_related("subject")}
    assert got == {"白河镇": expected["青山镇"], "青山镇": expected["白河镇"]}
    bad = tmp_path / "bad.csv"
    bad.write_text("area,unit\n青山镇,X\n", encoding="utf-8")
    with pytest.raises(CommandError):
        _submit(run_dir, "--areas-map", str(bad))


def test_an_indicator_not_in_percent_is_refused(county, run_dir, settings):
    _round(county)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("lifecircle", "submit", str(run_dir), "--round", "LC-2026", "--indicator", "S2", "--type",
                     "幼儿园", "--circle", "5", "--as", "supervisor", stdout=io.StringIO(), stderr=err)
    assert "的单位是 万元，生活圈覆盖率是百分比（%），单位不符" in err.getvalue()
    with pytest.raises(CommandError, match="已拒绝"):
        _submit(run_dir, "--circle", "15")
    _nothing_written(settings)


def test_a_refusal_half_way_leaves_no_value_and_no_file(county, run_dir, settings, tmp_path):
    """The first town (by code) gets the lower rate, which fits the leaf's range, the second the
    higher, which does not: submit_value refuses the second inside the transaction, and the first
    town's row and stored files go too."""
    expected = _rates(run_dir)
    low, high = sorted(TOWNS, key=lambda t: expected[t])
    assert expected[low] < expected[high]
    mapping = tmp_path / "areas.csv"
    mapping.write_text(f"area,unit_code\n{low},{county.units['town_a'].code}\n{high},{county.units['town_b'].code}\n",
                       encoding="utf-8")
    _round(county, high=str((expected[low] + expected[high]) / 2))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("lifecircle", "submit", str(run_dir), "--round", "LC-2026", "--indicator", "S1", "--type",
                     "幼儿园", "--circle", "5", "--areas-map", str(mapping), "--as", "supervisor",
                     stdout=io.StringIO(), stderr=err)
    assert "超出" in err.getvalue()
    _nothing_written(settings)


def test_the_shipped_beautiful_towns_leaf_takes_the_rate(county, run_dir):
    """mlcz-2020's 以镇区为中心的镇村生活圈覆盖行政村比例 is in %: the rate goes in as each town's value."""
    from chengzhen.assessment import rounds, services
    from chengzhen.assessment.framework import load_framework
    from chengzhen.assessment.models import FrameworkVersion, Value
    from chengzhen.assessment.shipped import FRAMEWORKS

    sup = county.users["supervisor"]
    if not FrameworkVersion.objects.filter(framework__code="MLCZ", label="2020").exists():
        services.import_framework(sup, load_framework((FRAMEWORKS / "mlcz-2020.yaml").read_text(encoding="utf-8")))
    rounds.create_round(sup, code="MLCZ-2026", name="2026年度美丽城镇评价", framework_name="MLCZ@2020",
                        unit_codes=[county.units["town_a"].code, county.units["town_b"].code], year=2026,
                        period_from=dt.date(2026, 1, 1), period_to=dt.date(2026, 12, 31),
                        submit_by=dt.date(2026, 12, 20))
    _submit(run_dir, round_code="MLCZ-2026", indicator="CXRH02")
    expected = _rates(run_dir)
    assert {v.subject.short_name: v.amount for v in Value.objects.filter(node="CXRH02").select_related("subject")} \
        == {t: expected[t] for t in TOWNS}


# ---- the pure reading of coverage.csv ------------------------------------------------------------

ROW = {"area": "青山镇", "type": "kindergarten", "circle": "5", "reach_m": "300", "homes": "3", "covered_homes": "1",
       "population": "90", "covered_population": "30", "rate": "0.33335"}


def test_rates_from_rows_are_percent_to_the_cent():
    [rate] = results.coverage_rates([ROW], "幼儿园", 5, measured_at=dt.datetime(2026, 5, 1, 9, 30))
    assert rate.amount == Decimal("33.34") and rate.area == "青山镇" and rate.type == "kindergarten"
    assert rate.derivation == ("青山镇 5分钟生活圈（幼儿园（kindergarten），服务距离 300 米）："
                               "覆盖人口 30 / 总人口 90，覆盖率 33.34%（住宅 1 / 3 处）；测算于 2026-05-01 09:30，"
                               "预设未记录（coverage.csv 不含预设名称）；来源 coverage.csv 第 2 行")
    # a type string the catalogue does not know is taken as the file writes it, or by its type_label:
    # the complete-circle rows (全部必配), whose reach is blank (each type has its own)
    [complete] = results.coverage_rates([{**ROW, "type": "全部必配", "rate": "0.1"}], "全部必配", "5分钟")
    assert complete.amount == Decimal("10.00")
    [complete] = results.coverage_rates([{**ROW, "type": "all_required", "type_label": "全部必配", "reach_m": "",
                                          "rate": "0.25"}], "全部必配", 5)
    assert complete.type == "all_required" and complete.amount == Decimal("25.00") and complete.reach_m is None
    said = "5分钟生活圈（全部必配（all_required），各类设施按各自服务距离）：覆盖人口 30 / 总人口 90"
    assert said in complete.derivation
    # 5 minutes at 300 m fits more than one shipped preset: the sentence does not pretend to know
    assert "预设未记录" in complete.derivation


def test_bad_coverage_files_are_refused_with_file_row_and_column(tmp_path):
    with pytest.raises(Refused, match="没有覆盖率文件 coverage.csv"):
        results.coverage_rates(tmp_path, "kindergarten", 5)
    (tmp_path / "coverage.csv").write_text("area,type,circle,homes,rate\n全部,kindergarten,5,3,0.5\n",
                                           encoding="utf-8-sig")
    with pytest.raises(Refused) as exc:
        results.coverage_rates(tmp_path, "kindergarten", 5)
    assert {(p.row, p.column) for p in exc.value.problems} == {
        (1, "reach_m"), (1, "covered_homes"), (1, "population"), (1, "covered_population")}
    with pytest.raises(Refused, match="没有设施类型 'bank'（有：kindergarten）"):
        results.coverage_rates([ROW], "bank", 5)
    with pytest.raises(Refused, match="没有 15 分钟生活圈（有：5 分钟）"):
        results.coverage_rates([ROW], "kindergarten", 15)
    empty = {**ROW, "area": "白河镇", "homes": "0", "covered_homes": "0", "population": "0",
             "covered_population": "0", "rate": ""}
    with pytest.raises(Refused) as exc:
        results.coverage_rates([ROW, empty], "kindergarten", 5)
    [p] = exc.value.problems
    assert (p.row, p.column) == (3, "population") and "区域“白河镇”没有人口" in p.reason
    assert len(results.coverage_rates([ROW, empty], "kindergarten", 5, areas=["青山镇"])) == 1
    with pytest.raises(Refused, match="rate"):
        results.coverage_rates([{**ROW, "rate": "1.5"}], "kindergarten", 5)
    with pytest.raises(Refused, match="服务距离是 300 米，文件中是 500 米"):
        results.coverage_rates([{**ROW, "reach_m": "500"}], "kindergarten", 5, preset="gb50180-2018")


def test_the_results_module_imports_no_django():
    code = ("import sys; import chengzhen.lifecircle.results; "
            "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
