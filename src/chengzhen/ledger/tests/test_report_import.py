"""The period's progress-report sheet: all or nothing, corrections supersede."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger.models import ProgressReport
from chengzhen.ledger.report_import import import_reports
from chengzhen.problems import Refused

HEADER = ["序号", "任务编号", "报送单位", "形象进度（%）", "本期完成投资（万元）", "进展情况",
          "存在问题", "下步打算", "需协调事项"]


def write(path, rows):
    wb = Workbook()
    ws = wb.active
    ws.title = "5月进度"
    ws.append(["2026年5月重点镇建设进度报送表"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_reports_import_and_correction(county, make_task, tmp_path):
    make_task("A1", coop=("dept",))
    make_task("A2")
    path = write(tmp_path / "r.xlsx", [
        [1, "A1", None, 30, 12.5, "路基完成", "", "铺设面层", ""],
        [2, "A1", "县住建局", "20%", 0, "配合审批", "", "", ""],
        [3, "A2", "青山镇", 10, "5万", "", "雨季影响", "", "请财政局拨付资金"],
    ])
    result = import_reports(county.users["supervisor"], county.programme, path, period="2026-05")
    assert (result.created, result.superseded) == (3, 0)
    a1 = ProgressReport.objects.get(task__code="A1", reporting_unit=county.units["town_a"])
    assert (a1.physical_progress, a1.investment) == (Decimal("30.00"), Decimal("125000.00"))
    assert a1.reporter == county.users["supervisor"]
    fix = write(tmp_path / "fix.xlsx", [[1, "A1", "青山镇", 35, 12.5, "更正", "", "", ""]])
    result = import_reports(county.users["editor_a"], county.programme, fix, period="2026-05")
    assert (result.created, result.superseded) == (0, 1)
    current = ProgressReport.objects.get(task__code="A1", reporting_unit=county.units["town_a"],
                                         is_current=True)
    assert current.physical_progress == 35 and current.supersedes == a1


def test_reports_import_refuses_everything_on_any_problem(county, make_task, tmp_path):
    make_task("A1")
    make_task("B1", lead="town_b")
    path = write(tmp_path / "r.xlsx", [
        [1, "A1", None, 30, 1, "", "", "", ""],
        [2, "B1", None, 30, 1, "", "", "", ""],
        [3, "ZZ", None, 130, -1, "", "", "", ""],
    ])
    before = (ProgressReport.objects.count(), AuditRecord.objects.count())
    with pytest.raises(Refused) as exc:
        import_reports(county.users["editor_a"], county.programme, path, period="2026-05")
    assert [str(p) for p in exc.value.problems] == [
        "r.xlsx:5月进度:4:报送单位: editor_a 无权以 白河镇人民政府 名义报送 B1",
        "r.xlsx:5月进度:5:任务编号: 任务编号 ZZ 不在“2026年重点镇建设”中",
        "r.xlsx:5月进度:5:形象进度（%）: 形象进度应在 0–100 之间：130",
        "r.xlsx:5月进度:5:本期完成投资（万元）: 金额不能为负数：-1",
    ]
    assert (ProgressReport.objects.count(), AuditRecord.objects.count()) == before


def test_reports_import_refuses_a_unit_not_on_the_task(county, make_task, tmp_path):
    make_task("A1")
    path = write(tmp_path / "r.xlsx", [[1, "A1", "白河镇", 30, 1, "", "", "", ""]])
    before = (ProgressReport.objects.count(), AuditRecord.objects.count())
    with pytest.raises(Refused) as exc:
        import_reports(county.users["supervisor"], county.programme, path, period="2026-05")
    assert [str(p) for p in exc.value.problems] == [
        "r.xlsx:5月进度:3:报送单位: 白河镇人民政府 不是任务 A1 的牵头单位或配合单位"]
    assert (ProgressReport.objects.count(), AuditRecord.objects.count()) == before


def test_reports_import_command_dry_run_then_apply(county, make_task, tmp_path, capsys):
    make_task("A1")
    path = write(tmp_path / "r.xlsx", [[1, "A1", None, 30, 12.5, "路基完成", "", "", ""]])
    args = ["ledger", "reports-import", str(path), "--programme", "ZDZ2026",
            "--period", "2026-05", "--as", "editor_a"]
    call_command(*args, "--dry-run")
    assert ProgressReport.objects.count() == 0
    assert "检查通过（未写入）：新报送 1 条，更正 0 条" in capsys.readouterr().out
    call_command(*args)
    assert "已导入：新报送 1 条，更正 0 条" in capsys.readouterr().out
    call_command(*args)
    assert "已导入：新报送 0 条，更正 1 条" in capsys.readouterr().out
    assert ProgressReport.objects.filter(task__code="A1").count() == 2
