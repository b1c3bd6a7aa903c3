"""Trial scoring (试评) through the command: a values sheet filled in Excel, a profiles sheet, the
ranking and scorecards read back from the files and equal to what was stored; re-scoring gives
the same Decimals; bad values refused with file, row and column, nothing stored."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from chengzhen.assessment import services, workbook
from chengzhen.assessment.framework import load_framework
from chengzhen.assessment.models import IndicatorScore, Scoring, SubjectScore
from chengzhen.audit.models import AuditRecord

CHENGZHEN = str(Path(sys.executable).parent / "chengzhen")
TOWNS = [("411300101000", "青山镇"), ("411300102000", "白河镇"), ("411300103000", "红石镇")]
# YLCS@2005: A01 人均公共绿地 (class table), A02 绿地率 (formula), A03 绿化覆盖率, B01–B05
VALUES = {
    "411300101000": {
        "A01": 9.2,
        ("A02", "numerator"): 350,
        ("A02", "denominator"): 1000,
        ("A03", "numerator"): 410,
        ("A03", "denominator"): 1000,
        ("B01", "numerator"): 42,
        ("B01", "denominator"): 10,
        "B02": 10,
        "B03": 95,
        "B04": 99,
        "B05": 99,
    },
    "411300102000": {
        "A01": 8.0,
        ("A02", "numerator"): 300,
        ("A02", "denominator"): 1000,
        ("A03", "numerator"): 360,
        ("A03", "denominator"): 1000,
        ("B01", "numerator"): 30,
        ("B01", "denominator"): 10,
        "B02": 12,
        "B03": 92,
        "B04": 98,
        "B05": 97,
    },
    "411300103000": {
        "A01": 7.9,
        ("A02", "numerator"): 0,
        ("A02", "denominator"): 0,
        ("A03", "numerator"): 350,
        ("A03", "denominator"): 1000,
        ("B01", "numerator"): 50,
        ("B01", "denominator"): 10,
        "B02": 8,
        "B03": 80,
        "B04": 99,
        "B05": 99,
    },
}
PROFILES = {
    "411300101000": ("50万以下", "南方"),
    "411300102000": ("50–100万", "北方"),
    "411300103000": ("100万以上", "南方"),
}


def fill_values(fw, path: Path, values=VALUES) -> None:
    workbook.write_values_template(fw, TOWNS, path)
    wb = load_workbook(path)
    ws = wb["数值填报"]
    header = {c.value: c.column for c in ws[3] if c.value}
    header.update({c.value: c.column for c in ws[4] if c.value})
    for row in ws.iter_rows(min_row=5):
        subject, code = row[header["对象代码"] - 1].value, row[header["指标代码"] - 1].value
        if subject is None:
            continue
        label = row[header["取值项"] - 1].value or ""
        key = code
        if str(label).startswith("分子"):
            key = (code, "numerator")
        elif str(label).startswith("分母"):
            key = (code, "denominator")
        row[header["数值"] - 1].value = values[subject].get(key)
    wb.save(path)


def fill_profiles(fw, path: Path) -> None:
    workbook.write_profiles_template(fw, TOWNS, path)
    wb = load_workbook(path)
    ws = wb.active
    header = {c.value: c.column - 1 for c in ws[3] if c.value}
    band, climate = header[fw.profile["population_band"].name], header[fw.profile["climate"].name]
    for row in ws.iter_rows(min_row=5):
        code = row[header["对象代码"]].value
        if code in PROFILES:
            row[band].value, row[climate].value = PROFILES[code]
    wb.save(path)


def run(*args):
    from chengzhen.ledger.tests.test_jobs import worker_env

    return subprocess.run([CHENGZHEN, *args], capture_output=True, text=True, env=worker_env(), timeout=120)


@pytest.mark.django_db(transaction=True)
def test_the_command_scores_a_values_sheet_and_the_files_hold_the_stored_numbers(county, tmp_path):
    fw = services.framework_of(services.resolve("YLCS@2005"))
    fill_values(fw, tmp_path / "values.xlsx")
    fill_profiles(fw, tmp_path / "profiles.xlsx")
    out = run(
        "framework",
        "score",
        "YLCS@2005",
        "--values",
        str(tmp_path / "values.xlsx"),
        "--profiles",
        str(tmp_path / "profiles.xlsx"),
        "-o",
        str(tmp_path / "out"),
        "--as",
        "supervisor",
    )
    assert out.returncode == 0, out.stderr
    scoring = Scoring.objects.get()
    assert scoring.run_by.username == "supervisor" and scoring.subjects == 3
    assert AuditRecord.objects.filter(action="score_framework", object_pk=str(scoring.pk)).exists()
    stored = {r.subject: r for r in SubjectScore.objects.filter(scoring=scoring)}
    # 青山镇 (small, south): 9.2 ≥ 9, 35% ≥ 35, 41 ≥ 40 → A full 60; B: 4.2 ≥ 4, 10 ≥ 9, 95 ≥ 90, 99, 99 → 40
    assert stored["411300101000"].total == Decimal("100.00") and stored["411300101000"].grade == "达标"
    # 红石镇: 7.9 ≥ 7.5 (large/south) yes; 绿地率 0 ÷ 0 → no value; 35 < 36
    ex = IndicatorScore.objects.get(scoring=scoring, subject="411300103000", node="A02")
    assert "分母“建成区面积”为 0" in ex.sentence and ex.score == 0
    ranking = load_workbook(tmp_path / "out" / "排名.xlsx").active
    rows = [[c.value for c in r] for r in ranking.iter_rows(min_row=5) if r[1].value]
    by_code = {r[1]: r for r in rows}
    for code, result in stored.items():
        assert Decimal(str(by_code[code][3])).quantize(Decimal("0.01")) == result.total
        assert by_code[code][4] == result.grade and by_code[code][0] == result.rank
    cards = load_workbook(tmp_path / "out" / "评分明细.xlsx").active
    sentences = [r[8].value for r in cards.iter_rows(min_row=5) if r[1].value]
    assert len(sentences) == 3 * 8
    assert (
        "建成区绿地率 30%（建成区各类城市绿地面积 300 ÷ 建成区面积 1000），未达到 ≥31%（50–100万、北方标准）"
        "的要求，得 0 分（满分 20 分）"
    ) in sentences
    assert stored["411300102000"].total == Decimal("64.00") and stored["411300102000"].grade == "未达标"
    assert "已评分 YLCS@2005：3 个对象" in out.stdout

    # the same inputs again: the same Decimals, grades and ranks
    out = run(
        "framework",
        "score",
        "YLCS@2005",
        "--values",
        str(tmp_path / "values.xlsx"),
        "--profiles",
        str(tmp_path / "profiles.xlsx"),
        "-o",
        str(tmp_path / "out2"),
        "--as",
        "supervisor",
    )
    assert out.returncode == 0, out.stderr
    first, second = Scoring.objects.order_by("pk")
    a = list(SubjectScore.objects.filter(scoring=first).values_list("subject", "total", "grade", "rank", "nodes"))
    b = list(SubjectScore.objects.filter(scoring=second).values_list("subject", "total", "grade", "rank", "nodes"))
    assert a == b
    sa = list(
        IndicatorScore.objects.filter(scoring=first)
        .order_by("subject", "node")
        .values_list("subject", "node", "score", "sentence")
    )
    sb = list(
        IndicatorScore.objects.filter(scoring=second)
        .order_by("subject", "node")
        .values_list("subject", "node", "score", "sentence")
    )
    assert sa == sb


@pytest.mark.django_db(transaction=True)
def test_bad_values_are_refused_with_their_row_and_nothing_is_stored(county, tmp_path):
    fw = services.framework_of(services.resolve("YLCS@2005"))
    bad = {k: dict(v) for k, v in VALUES.items()}
    bad["411300101000"]["B03"] = 950  # 用水普及率 950% — outside 0–100
    fill_values(fw, tmp_path / "values.xlsx", bad)
    fill_profiles(fw, tmp_path / "profiles.xlsx")
    out = run(
        "framework",
        "score",
        "YLCS@2005",
        "--values",
        str(tmp_path / "values.xlsx"),
        "--profiles",
        str(tmp_path / "profiles.xlsx"),
        "-o",
        str(tmp_path / "out"),
        "--as",
        "supervisor",
    )
    assert out.returncode == 1
    line = next(x for x in out.stderr.splitlines() if "950" in x)
    assert line.startswith("values.xlsx:数值填报:") and "超出取值范围" in line
    assert not Scoring.objects.exists() and not (tmp_path / "out").exists()
    # a subject without its class
    fill_values(fw, tmp_path / "values.xlsx")
    out = run(
        "framework",
        "score",
        "YLCS@2005",
        "--values",
        str(tmp_path / "values.xlsx"),
        "-o",
        str(tmp_path / "out"),
        "--as",
        "supervisor",
    )
    assert out.returncode == 1 and "对象 411300101000 的属性 population_band（城市人口规模）未填写" in out.stderr
    assert not Scoring.objects.exists()
    # a town may not score
    out = run(
        "framework",
        "score",
        "YLCS@2005",
        "--values",
        str(tmp_path / "values.xlsx"),
        "-o",
        str(tmp_path / "out"),
        "--as",
        "editor_a",
    )
    assert out.returncode == 1 and "无权限" in out.stderr


@pytest.mark.django_db
def test_money_off_by_ten_thousand_gets_a_hint(county, tmp_path):
    fw = load_framework("""\
code: MONEY
version: "1"
name: 投资
status: sample
sources: [测试]
nodes:
  - {code: I1, name: 年度完成投资, points: 100, unit: 万元, range: [0, 500000],
     rule: {type: linear, floor: 0, target: 30000}}
""")
    workbook.write_values_template(fw, TOWNS[:1], tmp_path / "v.xlsx")
    wb = load_workbook(tmp_path / "v.xlsx")
    ws = wb["数值填报"]
    for row in ws.iter_rows(min_row=5):
        if row[1].value:
            row[6].value = 320000000  # yuan written where 万元 is asked
    wb.save(tmp_path / "v.xlsx")
    with pytest.raises(services.Refused) as info:
        workbook.read_values(fw, tmp_path / "v.xlsx", "v.xlsx")
    assert "10000" in str(info.value) and "万元" in str(info.value)


@pytest.mark.django_db(transaction=True)
def test_the_command_writes_the_sheets_to_fill_in_with_stored_profiles(county, tmp_path):
    from chengzhen.assessment.models import SubjectProfile

    SubjectProfile.objects.create(unit=county.units["town_a"], year=2026,
                                  attributes={"population_band": "under_500k", "climate": "south"})
    out = run("framework", "template", "YLCS@2005", "--units", "411300101000,411300102000", "--year", "2026",
              "-o", str(tmp_path / "填报.xlsx"))
    assert out.returncode == 0, out.stderr
    values_path, profiles_path = (Path(p) for p in out.stdout.split())
    assert profiles_path.name == "填报-对象属性.xlsx"
    fw = services.framework_of(services.resolve("YLCS@2005"))
    rows = [[c.value for c in r] for r in load_workbook(values_path)["数值填报"].iter_rows(min_row=5) if r[1].value]
    assert {r[1] for r in rows} == {"411300101000", "411300102000"} and {r[2] for r in rows} == {"青山镇", "白河镇"}
    assert len(rows) == 2 * sum(len(leaf.inputs) for leaf in fw.leaves())
    assert workbook.read_profiles(fw, profiles_path, profiles_path.name) == {
        "411300101000": {"population_band": "under_500k", "climate": "south"}, "411300102000": {}}
    out = run("framework", "template", "YLCS@2005", "--units", "NOPE", "-o", str(tmp_path / "x.xlsx"))
    assert out.returncode == 1 and "没有代码为 NOPE 的单位" in out.stderr
