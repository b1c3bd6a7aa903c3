"""``chengzhen weights …`` on real files: CSV with a BOM, tab-separated, GBK, names optional, .xlsx;
exit codes and messages; --save stores the weight set with its inputs; --framework/--node makes a
new framework version whose children's points are the weights × the node's points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from chengzhen.assessment import services
from chengzhen.assessment.framework import load_framework
from chengzhen.assessment.models import FrameworkVersion, WeightSet

CHENGZHEN = str(Path(sys.executable).parent / "chengzhen")

FW = """\
code: WT
version: "1"
name: 赋权测试体系
status: sample
sources: [测试]
nodes:
  - code: A
    name: 建设
    points: 60
    children:
      - {code: A1, name: 建成区绿地率, points: 30, unit: "%", range: [0, 100],
         rule: {type: linear, floor: 30, target: 40}}
      - {code: A2, name: 市容问题, points: 30, unit: 处, direction: lower,
         rule: {type: deduction, per: 5}}
  - code: B
    name: 管理
    points: 40
    children:
      - code: B1
        name: 台账
        points: 20
        children:
          - {code: B1a, name: 台账完整, points: 10, unit: "%", rule: {type: proportional}}
          - {code: B1b, name: 台账及时, points: 10, unit: "%", rule: {type: threshold, target: 90, partial: 4}}
      - {code: B2, name: 满意度, points: 20, unit: "%", rule: {type: proportional}}
"""


def run(*args: str) -> subprocess.CompletedProcess:
    from chengzhen.ledger.tests.test_jobs import worker_env

    return subprocess.run([CHENGZHEN, "weights", *args], capture_output=True, text=True, env=worker_env(),
                          timeout=120)


def call(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("weights", *args, stdout=out)
    return out.getvalue()


def write(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.django_db(transaction=True)  # the subprocess needs the database free of an open transaction
def test_ahp_from_csv_with_bom_prints_weights_and_the_test(tmp_path):
    f = write(tmp_path / "判断矩阵.csv", ",建设,管理,服务\n建设,1,3,5\n管理,1/3,1,3\n服务,1/5,1/3,1\n")
    out = run("ahp", str(f))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "指标\t权重"
    assert lines[1].startswith("建设\t0.63") and lines[3].startswith("服务\t0.10")
    assert "λmax = 3.0385" in out.stdout and "RI = 0.58（Saaty" in out.stdout
    assert "通过一致性检验（CR = 0.0332 < 0.10）" in out.stdout


@pytest.mark.django_db(transaction=True)
def test_ahp_refusals_exit_1_naming_cr_the_pair_and_the_cell(tmp_path):
    f = write(tmp_path / "m.csv", "A,B,C\n1,9,1/9\n1/9,1,9\n9,1/9,1\n")  # names in the first row only
    out = run("ahp", str(f))
    assert out.returncode == 1
    assert "m.csv:2:" in out.stderr and "一致性检验未通过：CR =" in out.stderr and "最不一致的判断是" in out.stderr
    f = write(tmp_path / "n.csv", "A,B\n1,3\n1/2,1\n")
    out = run("ahp", str(f))
    assert out.returncode == 1 and "n.csv:3:A: 应为 A 对 B 的判断 3 的倒数（1/3），现为 0.5" in out.stderr
    f = write(tmp_path / "bad.csv", "A,B,C\n1,2,3\n1/2,1,y\n1/3,,1\n")
    out = run("ahp", str(f))
    assert out.returncode == 1 and "bad.csv:3:C: 不是数：'y'" in out.stderr and "bad.csv:4:B: 缺少数值" in out.stderr
    assert run("ahp", str(tmp_path / "none.csv")).returncode == 1


@pytest.mark.django_db
def test_entropy_tab_separated_gbk_with_direction_and_a_constant_column(tmp_path):
    f = write(tmp_path / "数据.txt", "对象\t绿地率\t投诉\t人口\t密度\n青山镇\t30\t5\t3\t0.8\n白河镇\t40\t2\t3\t1.0\n"
              "枫林镇\t35\t9\t3\t1.4\n方向\t+\t-\t+\t1.0\n", encoding="gbk")
    out = call("entropy", str(f))
    lines = out.splitlines()
    assert lines[0] == "指标\t权重\t信息熵 e\t差异系数 d"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:5]}
    assert rows["人口"][1] == "0.0000" and rows["人口"][2] == "1.0000"
    assert abs(sum(float(r[1]) for r in rows.values()) - 1) < 1e-3
    assert "提示：指标“人口”各对象取值相同，不提供区分信息，权重记为 0" in out
    assert "约定 0·ln 0=0" in out and "评价对象 3 个，指标 4 个" in out
    f = write(tmp_path / "one.csv", "甲,1,2\n")
    with pytest.raises(CommandError):
        call("entropy", str(f))


@pytest.mark.django_db
def test_topsis_with_weights_file_and_with_equal_weights(tmp_path):
    f = write(tmp_path / "aircraft.csv", "机型,速度,航程,载荷,费用,可靠性,机动性\nA1,2.0,1500,20000,5.5,5,9\n"
              "A2,2.5,2700,18000,6.5,3,5\nA3,1.8,2000,21000,4.5,7,7\nA4,2.2,1800,20000,5.0,5,5\n"
              "方向,+,+,+,-,+,+\n")
    w = write(tmp_path / "w.csv", "指标,权重\n速度,0.2\n航程,0.1\n载荷,0.1\n费用,0.1\n可靠性,0.2\n机动性,0.3\n")
    out = call("topsis", str(f), "--weights", str(w))
    lines = out.splitlines()
    assert lines[1] == "名次\t名称\t贴近度 C\tD+\tD−"
    assert [ln.split("\t")[1] for ln in lines[2:6]] == ["A1", "A3", "A4", "A2"]
    assert lines[2].startswith("1\tA1\t0.643")
    out = call("topsis", str(f))
    assert "未给权重，6 个指标等权（各 0.1667）" in out
    w2 = write(tmp_path / "w2.csv", "速度,1\n")
    with pytest.raises(CommandError):
        call("topsis", str(f), "--weights", str(w2))


@pytest.mark.django_db
def test_xlsx_input(tmp_path):
    wb = Workbook()
    ws = wb.active
    for row in (["", "甲", "乙"], ["甲", 1, 2], ["乙", 0.5, 1]):
        ws.append(row)
    wb.save(tmp_path / "m.xlsx")
    out = call("ahp", str(tmp_path / "m.xlsx"))
    assert "甲\t0.6667" in out and "乙\t0.3333" in out and "n ≤ 2" in out


def test_save_and_a_new_framework_version(county, tmp_path):
    sup = county.users["supervisor"]
    old = services.import_framework(sup, load_framework(FW)).version
    services.freeze(old, "测试：已评分")
    old_source = FrameworkVersion.objects.get(pk=old.pk).source
    f = write(tmp_path / "a.csv", "代码,A1,A2\nA1,1,3\nA2,1/3,1\n")
    out = call("ahp", str(f), "--save", "建设权重", "--framework", "WT@1", "--node", "A", "--as", "supervisor")
    assert "已保存权重 #" in out and "已生成测评体系新版本 WT@1-w1" in out
    ws = WeightSet.objects.get(name="建设权重")
    assert ws.method == "ahp" and ws.criteria == ["A1", "A2"] and ws.weights == ["0.750000", "0.250000"]
    assert ws.inputs["matrix"] == [[1.0, 3.0], [1 / 3, 1.0]] and ws.figures["cr"] == 0
    assert ws.created_by == sup and str(ws.framework_version) == "WT@1-w1"
    new = services.framework_of(ws.framework_version)
    assert new.node("A1").points == pytest.approx(45) and new.node("A2").points == pytest.approx(15)
    assert new.node("A2").rule["per"] == pytest.approx(2.5)  # 5 of 30 points → 2.5 of 15
    assert new.node("B1").points == 20  # untouched
    assert "建设权重" in ws.framework_version.note
    assert FrameworkVersion.objects.get(pk=old.pk).source == old_source  # the frozen old version unchanged
    # a nested block: names instead of codes, grandchildren and their point-valued parameters scaled
    f = write(tmp_path / "b.csv", "名称,台账,满意度\n台账,1,3\n满意度,1/3,1\n")
    call("ahp", str(f), "--save", "管理权重", "--framework", "WT@1", "--node", "B", "--as", "supervisor")
    new = services.framework_of(WeightSet.objects.get(name="管理权重").framework_version)
    assert new.version == "1-w2"
    assert new.node("B1").points == pytest.approx(30) and new.node("B1a").points == pytest.approx(15)
    assert new.node("B1b").rule["partial"] == pytest.approx(6)
    # unmatched names are refused and nothing is saved
    f = write(tmp_path / "c.csv", "名称,台账,其他\n台账,1,3\n其他,1/3,1\n")
    with pytest.raises(CommandError):
        call("ahp", str(f), "--save", "错的", "--framework", "WT@1", "--node", "B", "--as", "supervisor")
    assert not WeightSet.objects.filter(name="错的").exists()
    assert FrameworkVersion.objects.filter(framework__code="WT").count() == 3
    # a town's editor may not save weights
    with pytest.raises(CommandError, match="无权限"):
        call("ahp", str(f), "--save", "x", "--as", "editor_a")


def test_combine_saved_sets_and_files(county, tmp_path):
    a = write(tmp_path / "a.csv", ",X,Y\nX,1,3\nY,1/3,1\n")
    call("ahp", str(a), "--save", "主观", "--as", "supervisor")
    e = write(tmp_path / "e.csv", "对象,X,Y\n甲,1,10\n乙,2,20\n丙,3,40\n")
    call("entropy", str(e), "--save", "客观", "--as", "supervisor")
    ahp_id = WeightSet.objects.get(name="主观").pk
    out = call("combine", str(ahp_id), "客观", "--alpha", "0.4", "--save", "组合", "--as", "supervisor")
    assert "组合系数 α = 0.4" in out
    ws = WeightSet.objects.get(name="组合")
    objective = [float(w) for w in WeightSet.objects.get(name="客观").weights]
    expected = [0.4 * 0.75 + 0.6 * objective[0], 0.4 * 0.25 + 0.6 * objective[1]]
    assert [float(w) for w in ws.weights] == pytest.approx(expected, abs=1e-6)
    assert ws.method == "combined" and ws.inputs["alpha"] == 0.4
    w = write(tmp_path / "w.csv", "X,0.5\nY,0.5\n")
    out = call("combine", str(w), "客观")
    assert "组合系数 α = 0.5" in out
    with pytest.raises(CommandError):
        call("combine", str(w), "客观", "--alpha", "2")
    out = call("list")
    assert "主观\t层次分析法\t2" in out
