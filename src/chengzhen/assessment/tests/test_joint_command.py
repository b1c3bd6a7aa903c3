"""``chengzhen joint merge`` on the shipped frameworks: the .xlsx read back with openpyxl (the green-
coverage row with each campaign's threshold and the binding maximum), with and without a subject,
and refusals exiting 1 with nothing written."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from chengzhen.assessment.joint_workbook import LONG_SHEET, MATRIX_SHEET
from chengzhen.assessment.models import SubjectProfile

CHENGZHEN = str(Path(sys.executable).parent / "chengzhen")
THREE = "YLCS@2005,WSCS@2000s,WMCS"


def call(*args: str) -> str:
    out = StringIO()
    call_command("joint", *args, stdout=out)
    return out.getvalue()


def matrix(path: Path) -> tuple[list, dict[str, list]]:
    ws = openpyxl.load_workbook(path)[MATRIX_SHEET]
    header = [ws.cell(3, c).value or ws.cell(4, c).value for c in range(1, ws.max_column + 1)]
    sub = [ws.cell(4, c).value for c in range(1, ws.max_column + 1)]
    header = [s if s else h for h, s in zip(header, sub, strict=True)]
    body = {row[1]: list(row) for row in ws.iter_rows(min_row=5, values_only=True) if row[0] is not None}
    return header, body


def column(header: list, prefix: str) -> int:
    return next(i for i, h in enumerate(header) if h and str(h).startswith(prefix))


@pytest.mark.django_db
def test_merge_per_class_without_a_subject(tmp_path):
    out = call("merge", "--frameworks", THREE, "-o", str(tmp_path / "merged.xlsx"))
    assert "已合并 3 个创建（WMCS@2020、WSCS@2000s、YLCS@2005）" in out and "未指定对象" in out
    header, body = matrix(tmp_path / "merged.xlsx")
    assert header[:4] == ["序号", "规范指标", "单位", "方向"]
    assert header[-5:] == ["约束门槛", "约束来源", "牵头单位", "配合单位", "冲突"]
    green = body["建成区绿化覆盖率"]
    wscs, ylcs = column(header, "国家卫生城市"), column(header, "国家园林城市")
    assert green[2] == "%" and green[3] == "越高越好"
    assert green[wscs] == "≥ 36%"
    assert green[ylcs].splitlines()[0] == "100万以上、南方 ≥ 36%" and "50万以下、南方 ≥ 40%" in green[ylcs]
    binding = green[header.index("约束门槛")].splitlines()
    assert "100万以上、北方 ≥ 36%" in binding and "50万以下、南方 ≥ 40%" in binding
    assert green[header.index("牵头单位")] == "市园林局"
    # one row per merged indicator: the names are unique and numbered 1…n
    ws = openpyxl.load_workbook(tmp_path / "merged.xlsx")[MATRIX_SHEET]
    numbers = [r[0] for r in ws.iter_rows(min_row=5, values_only=True)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(body) == len(numbers)
    long = openpyxl.load_workbook(tmp_path / "merged.xlsx")[LONG_SHEET]
    lines = [r for r in long.iter_rows(min_row=5, values_only=True) if r[1] == "green_coverage_rate"]
    ylcs_lines = [r for r in lines if r[3] == "国家园林城市基本指标"]
    assert len(ylcs_lines) == 6 and ("50万以下、北方", "≥", 38, "%") in [(r[5], r[7], r[8], r[9]) for r in ylcs_lines]


@pytest.mark.django_db
def test_merge_for_a_subject_takes_its_class_and_the_binding_max(county, tmp_path):
    SubjectProfile.objects.create(unit=county.units["town_a"], year=2026,
                                  attributes={"population_band": "under_500k", "climate": "north"})
    out = call("merge", "--frameworks", "WSCS,YLCS", "--subject", "411300101000", "--year", "2026",
               "-o", str(tmp_path / "m.xlsx"))
    assert "对象 411300101000（2026 年度）" in out
    header, body = matrix(tmp_path / "m.xlsx")
    green = body["建成区绿化覆盖率"]
    assert green[column(header, "国家园林城市")] == "≥ 38%（50万以下、北方）"
    assert green[column(header, "国家卫生城市")] == "≥ 36%"
    assert green[header.index("约束门槛")] == "≥ 38%"
    assert green[header.index("约束来源")] == "国家园林城市基本指标"
    park = body["人均公园绿地面积"]
    assert park[header.index("约束门槛")] == "≥ 8.5 平方米/人"
    long = openpyxl.load_workbook(tmp_path / "m.xlsx")[LONG_SHEET]
    bound = [r for r in long.iter_rows(min_row=5, values_only=True)
             if r[1] == "green_coverage_rate" and r[3] == "约束门槛"]
    assert [(r[7], r[8]) for r in bound] == [("≥", 38)]


def run(*args: str) -> subprocess.CompletedProcess:
    from chengzhen.ledger.tests.test_jobs import worker_env

    return subprocess.run([CHENGZHEN, "joint", *args], capture_output=True, text=True, env=worker_env(), timeout=120)


@pytest.mark.django_db(transaction=True)  # the subprocess needs the database free of an open transaction
def test_refusals_exit_1_and_write_nothing(county, tmp_path):
    target = tmp_path / "m.xlsx"
    out = run("merge", "--frameworks", "YLCS,YLCS@2005", "-o", str(target))
    assert out.returncode == 1 and "YLCS@2005: 测评体系 YLCS@2005 重复列出" in out.stderr
    out = run("merge", "--frameworks", "WSCS,NOPE", "-o", str(target))
    assert out.returncode == 1 and "没有测评体系 NOPE" in out.stderr
    # the subject has no profile for the year
    out = run("merge", "--frameworks", "YLCS,WSCS", "--subject", "411300101000", "--year", "2026", "-o", str(target))
    assert out.returncode == 1 and "--subject: 对象 411300101000 没有 2026 年度的对象属性" in out.stderr
    # a profile lacking the class a threshold needs: named with the framework and the indicator
    SubjectProfile.objects.create(unit=county.units["town_a"], year=2026, attributes={"population_band": "over_1m"})
    out = run("merge", "--frameworks", "YLCS,WSCS", "--subject", "411300101000", "--year", "2026", "-o", str(target))
    assert out.returncode == 1
    assert "YLCS@2005:A 基本指标 › A01 人均公共绿地: 门槛按对象类别取值，对象 411300101000 的属性 climate" in out.stderr
    assert not target.exists()
    with pytest.raises(CommandError):
        call("merge", "--frameworks", "YLCS", "-o", str(tmp_path / "m.csv"))
    out = run("merge", "--frameworks", "YLCS", "-o", str(target))
    assert out.returncode == 0 and target.exists()
