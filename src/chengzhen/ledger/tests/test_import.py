"""Ledger import: every refusal names file, sheet, row, column and reason, and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from chengzhen.audit.models import AuditRecord
from chengzhen.audit.verify import verify
from chengzhen.ledger.importer import import_ledger
from chengzhen.ledger.models import AnnualPlan, Cooperation, Task, TimeNode
from chengzhen.org.models import Unit
from chengzhen.problems import Refused

HEADER = ["序号", "任务编号", "任务名称", "牵头单位", "配合单位", "开始时间", "完成时限",
          "计划总投资（万元）", "2026年计划投资", "时间节点", "完成状态", "上级任务编号"]


def row(code="A1", name="镇区道路改造", lead="青山镇", coop="县住建局", start="2026-01-01",
        due="2026-12-31", total=120, plan=100, nodes="开工：2026-03-01", status="推进中",
        parent=None, seq=1):
    return [seq, code, name, lead, coop, start, due, total, plan, nodes, status, parent]


def write(path: Path, rows, header=HEADER, customary=True, epoch=None) -> Path:
    wb = Workbook()
    if epoch is not None:
        wb.epoch = epoch
    ws = wb.active
    ws.title = "台账"
    if customary:
        ws.append(["2026年重点镇建设工作台账"])
        ws.append(["填报日期：2026年11月24日"])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def state() -> tuple[int, int, int]:
    return Task.objects.count(), TimeNode.objects.count(), AuditRecord.objects.count()


def refused(county, path, user="supervisor") -> list[str]:
    before = state()
    with pytest.raises(Refused) as exc:
        import_ledger(county.users[user], county.programme, path)
    assert state() == before  # nothing written, not even an audit record
    return [str(p) for p in exc.value.problems]


def test_import_creates_tasks_with_everything(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [
        row(),
        row("A1-1", "路基工程", coop="县住建局、白河镇", nodes="开工：2026-03-01（完成于2026-03-05）\n完工：2026/9/30",
            parent="A1", total="12万", plan="50000元", seq=2),
    ])
    result = import_ledger(county.users["supervisor"], county.programme, path)
    assert [r.action for r in result.rows] == ["create", "create"]
    a1, child = Task.objects.get(code="A1"), Task.objects.get(code="A1-1")
    assert a1.lead_unit == county.units["town_a"] and a1.status == "in_progress"
    assert a1.planned_total_investment == Decimal("1200000.00")
    assert child.parent == a1 and child.planned_total_investment == Decimal("120000.00")
    assert [c.unit.code for c in Cooperation.objects.filter(task=child).order_by("seq")] == [
        "ZJJ", "411300102000"]
    assert AnnualPlan.objects.get(task=child, year=2026).amount == Decimal("50000.00")
    nodes = list(TimeNode.objects.filter(task=child).order_by("seq"))
    assert [(n.name, n.planned_date, n.done_on) for n in nodes] == [
        ("开工", dt.date(2026, 3, 1), dt.date(2026, 3, 5)), ("完工", dt.date(2026, 9, 30), None)]
    actors = set(AuditRecord.objects.filter(model__startswith="ledger.").values_list(
        "actor_username", flat=True))
    assert actors == {"supervisor"}
    assert verify().ok


def test_dry_run_shows_create_update_unchanged_and_writes_nothing(county, tmp_path):
    import_ledger(county.users["supervisor"], county.programme,
                  write(tmp_path / "a.xlsx", [row("A1"), row("A2", seq=2)]))
    path = write(tmp_path / "b.xlsx", [row("A1"), row("A2", name="新名称", total=130, seq=2),
                                       row("A3", seq=3)])
    before = state()
    result = import_ledger(county.users["supervisor"], county.programme, path, dry_run=True)
    assert state() == before
    plans = {r.code: r for r in result.rows}
    assert plans["A1"].action == "unchanged"
    assert plans["A3"].action == "create"
    assert plans["A2"].action == "update"
    assert plans["A2"].changes == [("任务名称", "镇区道路改造", "新名称"),
                                   ("计划总投资", "120万元", "130万元")]


def test_dry_run_lists_ignored_and_computed_columns_and_status_warning(county, tmp_path):
    header = [*HEADER, "累计完成投资", "序时进度", "甲方意见"]
    path = write(tmp_path / "t.xlsx", [[*row(status="滞后"), 99, "50%", "同意"]], header=header)
    result = import_ledger(county.users["supervisor"], county.programme, path, dry_run=True)
    assert result.computed == ["累计完成投资", "序时进度"]
    assert result.ignored == ["甲方意见"]
    assert result.warnings == ["t.xlsx:台账:4:完成状态: 完成状态“滞后”由系统计算，按“推进中”导入"]


def test_plain_layout_english_headers_any_order(county, tmp_path):
    header = ["due_date", "code", "lead_unit", "start_date", "name"]
    path = write(tmp_path / "p.xlsx", [["2026/6/30", "E1", "411300101000", "2026年1月5日", "英文表头"]],
                 header=header, customary=False)
    import_ledger(county.users["supervisor"], county.programme, path)
    t = Task.objects.get(code="E1")
    assert (t.start_date, t.due_date, t.lead_unit.code) == (
        dt.date(2026, 1, 5), dt.date(2026, 6, 30), "411300101000")


def test_serial_numbers_in_date_columns_use_the_workbooks_date_system(county, tmp_path):
    # bare numbers (no date format): 46112 is 2026-03-31 in the 1900 system, 44650 in 1904
    import_ledger(county.users["supervisor"], county.programme,
                  write(tmp_path / "a.xlsx", [row("S1", start=46023, due=46112)]))
    import_ledger(county.users["supervisor"], county.programme,
                  write(tmp_path / "b.xlsx", [row("S2", start=44561, due=44650)],
                        epoch=CALENDAR_MAC_1904))
    for code in ("S1", "S2"):
        t = Task.objects.get(code=code)
        assert (t.start_date, t.due_date) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def test_1904_date_system(county, tmp_path):
    path = write(tmp_path / "mac.xlsx", [row(start=dt.date(2026, 2, 1), due=dt.date(2026, 8, 31))],
                 epoch=CALENDAR_MAC_1904)
    import_ledger(county.users["supervisor"], county.programme, path)
    t = Task.objects.get(code="A1")
    assert (t.start_date, t.due_date) == (dt.date(2026, 2, 1), dt.date(2026, 8, 31))


def test_refused_unknown_unit(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row(lead="不存在的镇")])
    assert refused(county, path) == [
        "t.xlsx:台账:4:牵头单位: 未知单位 '不存在的镇'（请填写单位全称、简称或单位代码）"]


def test_refused_ambiguous_unit(county, tmp_path):
    Unit.objects.create(code="DUP", name="县住建局", kind="other", parent=county.units["gov"])
    path = write(tmp_path / "t.xlsx", [row(coop="县住建局")])
    assert refused(county, path) == [
        "t.xlsx:台账:4:配合单位: 单位 '县住建局' 对应多个单位：县住建局（DUP）、"
        "县住房和城乡建设局（ZJJ），请填写全称或代码"]


def test_refused_unreadable_date(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row(due="下个月底")])
    assert refused(county, path) == [
        "t.xlsx:台账:4:完成时限: 无法识别的日期 '下个月底'，请写作 2026-03-31 或 2026年3月31日"]


def test_refused_due_before_start(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row(start="2026-06-01", due="2026-05-31")])
    assert refused(county, path) == [
        "t.xlsx:台账:4:完成时限: 完成时限 2026-05-31 早于开始时间 2026-06-01"]


def test_refused_code_duplicated_in_file(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row("A1"), row("A1", seq=2)])
    assert refused(county, path) == ["t.xlsx:台账:5:任务编号: 任务编号 A1 在文件中重复（第 4 行已有）"]


def test_refused_negative_money(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row(total=-5)])
    assert refused(county, path) == ["t.xlsx:台账:4:计划总投资（万元）: 金额不能为负数：-5"]


@pytest.mark.parametrize("column,cell", [
    ("任务编号", {"code": None}), ("任务名称", {"name": None}), ("牵头单位", {"lead": None}),
    ("开始时间", {"start": None}), ("完成时限", {"due": "  "}),
])
def test_refused_empty_required_field(county, tmp_path, column, cell):
    path = write(tmp_path / "t.xlsx", [row(**cell)])
    assert refused(county, path) == [f"t.xlsx:台账:4:{column}: 必填项为空"]


def test_refused_lists_every_problem(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row("A1", lead="火星"), row("A2", due="明年", seq=2),
                                       row("A3", total="-1", seq=3)])
    lines = refused(county, path)
    assert [line.split(":")[2] for line in lines] == ["4", "5", "6"]


def test_refused_unknown_parent(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row("A1"), row("B1", parent="ZZ", seq=2)])
    assert refused(county, path) == [
        "t.xlsx:台账:5:上级任务编号: 上级任务编号 ZZ 在本计划和文件中都不存在"]


def test_refused_sub_task_of_a_sub_task(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row("A1"), row("A1-1", parent="A1", seq=2),
                                       row("A1-1-1", parent="A1-1", seq=3)])
    assert refused(county, path) == [
        "t.xlsx:台账:6:上级任务编号: 上级任务 A1-1 本身是子任务（台账只有两级）"]


def test_refused_sub_task_under_an_existing_sub_task(county, tmp_path, make_task):
    make_task("P1", seq=1)
    make_task("P1-1", seq=2, parent=Task.objects.get(code="P1"))
    path = write(tmp_path / "t.xlsx", [row("X1", parent="P1-1")])
    assert refused(county, path) == [
        "t.xlsx:台账:4:上级任务编号: 上级任务 P1-1 本身是子任务（台账只有两级）"]


def test_refused_task_with_children_moved_under_a_parent(county, tmp_path, make_task):
    make_task("P1", seq=1)
    make_task("P1-1", seq=2, parent=Task.objects.get(code="P1"))
    make_task("Q1", seq=3)
    path = write(tmp_path / "t.xlsx", [row("P1", parent="Q1")])
    assert refused(county, path) == [
        "t.xlsx:台账:4:上级任务编号: 任务 P1 已有子任务，不能再挂到 Q1 下"]


def test_refused_row_outside_the_editors_units(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row("A1", lead="青山镇"), row("B1", lead="白河镇", seq=2)])
    assert refused(county, path, user="editor_a") == [
        "t.xlsx:台账:5:牵头单位: editor_a 无权导入牵头单位为 白河镇人民政府 的任务"]


def test_leader_may_not_import(county, tmp_path):
    with pytest.raises(PermissionDenied):
        import_ledger(county.users["leader"], county.programme,
                      write(tmp_path / "t.xlsx", [row()]))


def test_refused_macro_enabled_workbook(county, tmp_path):
    path = write(tmp_path / "m.xlsx", [row()])
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\x00macro")
    assert refused(county, path) == ["m.xlsx: 工作簿含有宏，不予接受，请另存为不含宏的 .xlsx"]
    xlsm = tmp_path / "m.xlsm"
    write(xlsm, [row()])
    assert refused(county, xlsm) == ["m.xlsm: 不接受含宏的工作簿（.xlsm 等），请另存为 .xlsx"]


def test_refused_oversized_file(county, tmp_path, settings):
    settings.CHENGZHEN_MAX_UPLOAD_BYTES = 1024
    path = write(tmp_path / "big.xlsx", [row()])
    assert refused(county, path) == [
        f"big.xlsx: 文件过大（{path.stat().st_size / 1024:.1f} KB），上限 1 KB"]


def test_refused_non_xlsx_file(county, tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_text("任务编号,任务名称\nA1,修路\n", encoding="utf-8")
    assert refused(county, path) == [
        "ledger.xlsx: 不是 .xlsx 工作簿（旧版 .xls、CSV 或其他文件请在 Excel 中另存为 .xlsx）"]


def test_update_changes_only_present_columns(county, tmp_path, make_task):
    task = make_task("A1", notes="原备注", category="基础设施")
    path = write(tmp_path / "t.xlsx", [["A1", "新名称"]], header=["任务编号", "任务名称"],
                 customary=False)
    with pytest.raises(Refused):  # required columns must be present in the sheet
        import_ledger(county.users["supervisor"], county.programme, path)
    header = ["任务编号", "任务名称", "牵头单位", "开始时间", "完成时限"]
    path = write(tmp_path / "t2.xlsx", [["A1", "新名称", "青山镇", "2026-01-01", "2026-12-31"]],
                 header=header, customary=False)
    import_ledger(county.users["supervisor"], county.programme, path)
    task.refresh_from_db()
    assert (task.name, task.notes, task.category) == ("新名称", "原备注", "基础设施")


def test_command_dry_run_and_refusal(county, tmp_path, capsys):
    good = write(tmp_path / "good.xlsx", [row()])
    call_command("ledger", "import", str(good), "--programme", "ZDZ2026", "--dry-run",
                 "--as", "supervisor")
    out = capsys.readouterr().out
    assert "第4行\tA1\t新增" in out and "预览（未写入）：新增 1 项" in out
    bad = write(tmp_path / "bad.xlsx", [row(lead="火星")])
    with pytest.raises(CommandError, match="已拒绝：1 处问题"):
        call_command("ledger", "import", str(bad), "--programme", "ZDZ2026", "--as", "supervisor")
    assert "bad.xlsx:台账:4:牵头单位: 未知单位 '火星'" in capsys.readouterr().err
    with pytest.raises(CommandError, match="--as"):
        call_command("ledger", "import", str(good), "--programme", "ZDZ2026", "--as", "nobody")


@pytest.mark.django_db(transaction=True)
def test_command_exit_code_from_the_shell(county, tmp_path):
    bad = write(tmp_path / "bad.xlsx", [row(due="下个月底"), row("A2", lead="火星", seq=2)])
    s = connection.settings_dict
    url = (f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
           if connection.vendor == "postgresql" else f"sqlite:///{s['NAME']}")
    chengzhen = os.path.join(os.path.dirname(sys.executable), "chengzhen")
    out = subprocess.run([chengzhen, "ledger", "import", str(bad), "--programme", "ZDZ2026"],
                         capture_output=True, text=True, env={**os.environ, "DATABASE_URL": url},
                         timeout=120)
    assert out.returncode == 1
    assert out.stderr.splitlines()[:2] == [
        "bad.xlsx:台账:4:完成时限: 无法识别的日期 '下个月底'，请写作 2026-03-31 或 2026年3月31日",
        "bad.xlsx:台账:5:牵头单位: 未知单位 '火星'（请填写单位全称、简称或单位代码）",
    ]
    usage = subprocess.run([chengzhen, "ledger", "import"], capture_output=True, text=True,
                           env={**os.environ, "DATABASE_URL": url}, timeout=120)
    assert usage.returncode == 2


def test_command_import_is_audited_under_the_as_user(county, tmp_path):
    path = write(tmp_path / "t.xlsx", [row("A1"), row("A2", seq=2)])
    call_command("ledger", "import", str(path), "--programme", "ZDZ2026", "--as", "editor_a")
    records = AuditRecord.objects.filter(model__startswith="ledger.")
    assert records.count() == 2 + 2 + 2 + 2  # tasks, cooperations, time nodes, annual plans
    assert {(r.actor_username, json.loads(r.content)["source"]) for r in records} == {
        ("editor_a", "command:ledger import")}


def test_command_dry_run_prints_create_update_unchanged(county, tmp_path, capsys):
    import_ledger(county.users["supervisor"], county.programme,
                  write(tmp_path / "a.xlsx", [row("A1"), row("A2", seq=2)]))
    header = [*HEADER, "累计完成投资", "甲方意见"]
    path = write(tmp_path / "b.xlsx", [
        [*row("A1"), 1, ""], [*row("A2", total="130万", coop="县住建局、白河镇", seq=2), 2, ""],
        [*row("A3", seq=3, status="滞后"), 3, "同意"]], header=header)
    before = state()
    call_command("ledger", "import", str(path), "--programme", "ZDZ2026", "--dry-run",
                 "--as", "supervisor")
    assert state() == before
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "第4行\tA1\t不变",
        "第5行\tA2\t修改",
        "\t\t计划总投资: 120万元 → 130万元",
        "\t\t配合单位: 县住房和城乡建设局 → 县住房和城乡建设局、白河镇人民政府",
        "第6行\tA3\t新增",
        "忽略计算列：累计完成投资（由系统计算，不导入）",
        "忽略未知列：甲方意见",
        "预览（未写入）：新增 1 项，修改 1 项，不变 1 项",
    ]
    assert err.splitlines() == ["注意：b.xlsx:台账:6:完成状态: 完成状态“滞后”由系统计算，按“推进中”导入"]


def test_import_locks_only_task_rows(county, make_task, tmp_path):
    """The import locks the programme's task rows, never the joined programme row (that would
    block every other writer's foreign-key check on it while the import holds the audit lock)."""
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (its immediate transactions serialise writers)")
    make_task("A1")
    path = write(tmp_path / "t.xlsx", [row()])
    with CaptureQueriesContext(connection) as queries:
        import_ledger(county.users["supervisor"], county.programme, path)
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert any("ledger_task" in sql for sql in locking)
    for sql in locking:
        assert " FOR UPDATE OF " in sql or " JOIN " not in sql, sql
