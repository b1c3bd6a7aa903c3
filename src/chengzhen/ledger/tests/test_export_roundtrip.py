"""Export → import reproduces every entered field; the file opens with the customary layout."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from chengzhen.audit.models import AuditRecord
from chengzhen.audit.verify import verify
from chengzhen.ledger.exporter import export_ledger
from chengzhen.ledger.importer import import_ledger
from chengzhen.ledger.models import AnnualPlan, Cooperation, Task, TimeNode
from chengzhen.ledger.services import submit_report
from chengzhen.org.models import Unit
from chengzhen.programmes.models import Programme

ENTERED = ("seq", "name", "category", "requirement", "responsible_leader", "lead_unit_id",
           "responsible_person", "responsible_phone", "responsible_user_id", "start_date",
           "due_date", "weight",
           "planned_total_investment", "opening_completed_investment", "status", "notes")


def snapshot(programme) -> dict:
    out = {}
    for t in Task.objects.filter(programme=programme):
        out[t.code] = (
            {f: getattr(t, f) for f in ENTERED},
            t.parent.code if t.parent_id else None,
            [c.unit_id for c in Cooperation.objects.filter(task=t).order_by("seq")],
            [(n.seq, n.name, n.planned_date, n.done_on)
             for n in TimeNode.objects.filter(task=t).order_by("seq")],
            {p.year: p.amount for p in AnnualPlan.objects.filter(task=t)},
        )
    return out


@pytest.fixture
def ledger(county, make_task):
    parent = make_task("K-001", seq=1, category="基础设施", requirement="=SUM(A1:A3) 不是公式",
                       responsible_leader="张建国（副县长）", responsible_person="+8613800000000",
                       responsible_phone="-0371-1234", notes="@备注\n第二行",
                       planned_total_investment=Decimal("123456789.01"),
                       opening_completed_investment=Decimal("0.01"), status="in_progress",
                       coop=("dept", "town_b"))
    make_task("K-001-1", seq=1, parent=parent, weight=Decimal("2.5"),
              planned_total_investment=Decimal("0.00"), status="completed", coop=("dept",))
    make_task("K-002", seq=2, lead="dept", due_date=dt.date(2027, 6, 30), status="not_started",
              responsible_user=county.users["editor_dept"],
              planned_total_investment=Decimal("98765.43"))
    t = Task.objects.get(code="K-001-1")
    TimeNode.objects.create(task=t, seq=1, name="开工", planned_date=dt.date(2026, 3, 1),
                            done_on=dt.date(2026, 3, 4))
    TimeNode.objects.create(task=t, seq=2, name="3号楼封顶", planned_date=dt.date(2026, 9, 30))
    TimeNode.objects.create(task=t, seq=3, name="竣工验收", planned_date=dt.date(2026, 11, 30))
    AnnualPlan.objects.create(task=parent, year=2026, amount=Decimal("100000000.99"))
    AnnualPlan.objects.create(task=parent, year=2027, amount=Decimal("23456788.02"))
    submit_report(county.users["editor_a"], parent, period="2026-05",
                  unit=county.units["town_a"], physical_progress="35", investment="1500000.50")
    return county


def test_round_trip_reproduces_every_entered_field(ledger, tmp_path):
    county = ledger
    path = tmp_path / "ledger.xlsx"
    n = export_ledger(county.users["supervisor"], county.programme, path,
                      today=dt.date(2026, 7, 1))
    assert n == 3
    empty = Programme.objects.create(
        code="EMPTY", name="空计划", kind="other", start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2027, 12, 31), owner_unit=county.units["office"])
    result = import_ledger(county.users["supervisor"], empty, path)
    assert [r.action for r in result.rows] == ["create"] * 3
    assert snapshot(empty) == snapshot(county.programme)
    again = import_ledger(county.users["supervisor"], empty, path, dry_run=True)
    assert [r.action for r in again.rows] == ["unchanged"] * 3
    assert verify().ok


def test_round_trip_with_a_unit_name_used_twice(ledger, tmp_path):
    """A name two units share is written as the unit's code, so the import finds it again."""
    county = ledger
    Unit.objects.create(code="DUP", name="白河镇人民政府", kind="other", parent=county.units["gov"])
    path = tmp_path / "ledger.xlsx"
    export_ledger(county.users["supervisor"], county.programme, path, today=dt.date(2026, 7, 1))
    ws = load_workbook(path).active
    assert ws["H5"].value == "县住房和城乡建设局、411300102000"
    empty = Programme.objects.create(
        code="EMPTY", name="空计划", kind="other", start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2027, 12, 31), owner_unit=county.units["office"])
    import_ledger(county.users["supervisor"], empty, path)
    assert snapshot(empty) == snapshot(county.programme)


def test_export_layout_numbers_and_text(ledger, tmp_path):
    path = tmp_path / "ledger.xlsx"
    export_ledger(ledger.users["supervisor"], ledger.programme, path, today=dt.date(2026, 7, 1))
    wb = load_workbook(path)
    ws = wb.active
    assert ws["A1"].value == "2026年重点镇建设工作台账"
    assert "A1:" in " ".join(str(r) for r in ws.merged_cells.ranges)
    assert ws["A2"].value == "截至 2026年7月1日"
    assert ws.freeze_panes == "C5"
    headers = {ws.cell(4, c).value or ws.cell(3, c).value: c for c in range(1, ws.max_column + 1)}
    assert ws.cell(3, headers["计划总投资"]).value == "投资（万元）"
    row = {h: ws.cell(5, c) for h, c in headers.items()}
    assert row["任务编号"].value == "K-001"
    assert row["计划总投资"].value == pytest.approx(12345.678901)
    assert row["计划总投资"].number_format == "#,##0.00####"
    assert row["开始时间"].is_date and row["开始时间"].value == dt.datetime(2026, 1, 1)
    assert row["累计完成投资"].value == pytest.approx(150.000050)
    assert row["形象进度"].value == 0  # a parent's is rolled up from its child, not yet reported
    assert row["序时进度"].value == pytest.approx(182 / 365)
    assert row["滞后"].value == "是"
    # formula-looking text is text, never a formula
    for header, text in (("目标任务/工作要求", "=SUM(A1:A3) 不是公式"),
                         ("具体责任人", "+8613800000000"), ("联系电话", "-0371-1234")):
        assert row[header].data_type == "s" and row[header].value == text
        assert row[header].quotePrefix
    assert row["配合单位"].value == "县住房和城乡建设局、白河镇人民政府"


def test_export_is_audited_and_limited_to_what_the_user_may_read(ledger, tmp_path, capsys):
    path = tmp_path / "a.xlsx"
    call_command("ledger", "export", "--programme", "ZDZ2026", "-o", str(path), "--as", "editor_b")
    assert "已导出 1 项任务" in capsys.readouterr().out  # only K-001, where 白河镇 cooperates
    event = AuditRecord.objects.filter(action="export").get()
    body = json.loads(event.content)
    assert (event.actor_username, body["detail"]["rows"], body["source"]) == (
        "editor_b", 1, "command:ledger export")
