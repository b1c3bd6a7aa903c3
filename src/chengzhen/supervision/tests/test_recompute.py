"""Recomputing lights against the real database: stored lights and their history, the audit
record per run, escalation letters (.docx read back) and interviews, deduction candidates,
notifications sent once, and lights following ledger changes."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import docx
import pytest

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger import services as ledger
from chengzhen.ledger.models import Task, TimeNode
from chengzhen.org.models import Unit
from chengzhen.supervision.letters import letter_path
from chengzhen.supervision.models import (
    DeductionCandidate,
    Escalation,
    Light,
    LightChange,
    Notification,
)
from chengzhen.supervision.notify import send_pending_emails
from chengzhen.supervision.recompute import recompute

D = dt.date
JULY_1 = D(2026, 7, 1)  # June's reports were due on 25 June (the programme's reporting day)


def report(county, task, period: str, progress: float, unit="town_a"):
    return ledger.submit_report(county.users["supervisor"], task, period=period,
                                unit=county.units[unit], physical_progress=progress)


@pytest.fixture
def tasks(county, make_task):
    """On 1 July 2026 (序时进度 182/365 = 49.9 %): T1 red (10 %), T2 red (overdue), T3 blue
    (closed), T4 green (60 %, reported), T5 yellow (no June report), T6 yellow (35 %)."""
    going = {"status": "in_progress"}
    t = {
        "T1": make_task("T1", **going), "T2": make_task("T2", due_date=D(2026, 6, 1), **going),
        "T3": make_task("T3", status="closed"), "T4": make_task("T4", **going),
        "T5": make_task("T5", **going), "T6": make_task("T6", lead="town_b", **going),
    }
    report(county, t["T1"], "2026-06", 10)
    report(county, t["T2"], "2026-06", 95)
    report(county, t["T4"], "2026-06", 60)
    report(county, t["T5"], "2026-05", 60)
    report(county, t["T6"], "2026-06", 35, unit="town_b")
    return t


def levels() -> dict[str, str]:
    return dict(Light.objects.values_list("task__code", "level"))


def test_lights_are_stored_with_reasons_rule_version_and_one_audit_record(county, tasks):
    before = AuditRecord.objects.filter(action="lights_recompute").count()
    result = recompute(today=JULY_1)
    assert levels() == {"T1": "red", "T2": "red", "T3": "blue", "T4": "green", "T5": "yellow",
                        "T6": "yellow"}
    t1 = Light.objects.select_related("rule_version__rule_set").get(task=tasks["T1"])
    assert t1.reasons == ["形象进度低于序时进度39.9个百分点（超过30个百分点）"]
    assert (str(t1.rule_version), t1.name, t1.colour, t1.since) == ("default@1", "红灯", "#d32f2f", JULY_1)
    assert Light.objects.get(task=tasks["T5"]).reasons == ["未按时报送2026-06进度（报送日2026-06-25）"]
    assert result.tasks == 6 and result.changed == 6
    runs = AuditRecord.objects.filter(action="lights_recompute").order_by("seq")
    assert runs.count() == before + 1
    detail = json.loads(runs.last().content)["detail"]
    assert detail["tasks"] == 6 and detail["versions"]["ZDZ2026"] == "default@1"
    assert detail["today"] == "2026-07-01"
    # the same day again: nothing changes, and it is still one record for the run
    again = recompute(today=JULY_1)
    assert again.changed == 0 and LightChange.objects.count() == 6


def test_every_change_of_level_is_kept_with_its_day(county, tasks, client):
    recompute(today=JULY_1)
    report(county, tasks["T1"], "2026-07", 55)  # now ahead of schedule
    recompute(today=D(2026, 7, 6))
    changes = list(LightChange.objects.filter(task=tasks["T1"]).order_by("pk").values_list(
        "from_level", "to_level", "on"))
    assert changes == [("", "red", JULY_1), ("red", "green", D(2026, 7, 6))]
    client.force_login(county.users["editor_a"])
    page = client.get(f"/ledger/task/{tasks['T1'].pk}/").content.decode()
    assert "红灯 → 绿灯" in page and "持续天数" in page


def test_two_yellows_bring_a_numbered_letter_naming_the_tasks(county, make_task, tasks):
    y2 = make_task("T7", status="in_progress")
    report(county, y2, "2026-05", 60)  # also no June report: a second yellow of 青山镇
    recompute(today=JULY_1)
    letters = Escalation.objects.filter(kind="letter")
    letter = letters.get(unit=county.units["town_a"])
    assert letter.reference == "县城镇化督〔2026〕1号" and letter.period == "2026-07"
    assert sorted(c.task.code for c in letter.changes.all()) == ["T5", "T7"]
    assert letter_path(letter) is None  # the worker (or the first download) writes the file
    path = letter_path(letter, write=True)
    data = path.read_bytes()
    letter.refresh_from_db()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == letter.file_sha256
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "县城镇化督〔2026〕1号" in text and "青山镇人民政府" in text
    cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
    assert "T5" in cells and "任务T7" in cells and "未按时报送2026-06进度（报送日2026-06-25）" in cells
    assert not letters.filter(unit=county.units["town_b"]).exists()  # one yellow only
    # recomputing makes no second letter from the same lights
    recompute(today=D(2026, 7, 2))
    assert letters.count() == 1


def test_three_reds_open_an_interview_for_the_units_head(county, make_task):
    Unit.objects.filter(pk=county.units["town_b"].pk).update(head_name="王镇长")
    for code in ("R1", "R2", "R3"):
        make_task(code, lead="town_b", due_date=D(2026, 6, 1))
    recompute(today=JULY_1)
    interview = Escalation.objects.get(kind="interview")
    assert (interview.unit, interview.head, interview.status) == (county.units["town_b"], "王镇长", "open")
    assert interview.changes.count() == 3
    assert interview.reference == "县城镇化约〔2026〕1号"


def test_deduction_candidates_once_per_task_period_and_level(county, tasks):
    recompute(today=JULY_1)
    got = set(DeductionCandidate.objects.values_list("task__code", "period", "level", "points"))
    assert got == {("T1", "2026-07", "red", Decimal("2.00")), ("T2", "2026-07", "red", Decimal("2.00")),
                   ("T5", "2026-07", "yellow", Decimal("1.00")), ("T6", "2026-07", "yellow", Decimal("1.00"))}
    # T4 falls behind and recovers and falls behind again in July: one candidate for July
    Task.objects.filter(pk=tasks["T4"].pk).update(due_date=D(2026, 7, 1))
    recompute(today=D(2026, 7, 2))
    report(county, tasks["T4"], "2026-07", 100)
    Task.objects.filter(pk=tasks["T4"].pk).update(status="completed")
    recompute(today=D(2026, 7, 3))
    Task.objects.filter(pk=tasks["T4"].pk).update(status="in_progress")
    recompute(today=D(2026, 7, 4))
    assert DeductionCandidate.objects.filter(task=tasks["T4"]).count() == 1
    assert LightChange.objects.filter(task=tasks["T4"], to_level="red").count() == 2


def test_notifications_go_to_the_liaison_and_supervisor_once(county, tasks, mailoutbox):
    county.users["editor_a"].email = "a@example.org"
    county.users["editor_a"].save()
    recompute(today=JULY_1)
    mine = Notification.objects.filter(recipient=county.users["editor_a"], kind="light")
    assert sorted(n.title for n in mine) == ["【红灯】任务T1", "【红灯】任务T2", "【黄灯】任务T5"]
    sup = Notification.objects.filter(recipient=county.users["supervisor"], kind="light")
    assert sup.count() == 4  # T1, T2, T5 and 白河镇's T6
    assert not Notification.objects.filter(recipient=county.users["editor_b"], task=tasks["T1"]).exists()
    total = Notification.objects.count()
    recompute(today=JULY_1)
    assert Notification.objects.count() == total  # nothing sent twice
    # e-mailed to those with an address (after the run's commit), each once
    assert send_pending_emails() == 3 and send_pending_emails() == 0
    assert sorted(m.subject for m in mailoutbox) == ["【红灯】任务T1", "【红灯】任务T2", "【黄灯】任务T5"]
    assert mailoutbox[0].to == ["a@example.org"]
    assert "http://127.0.0.1:8000/ledger/task/" in mailoutbox[0].body


def test_reminders_before_a_node_and_the_reporting_day_reach_the_responsible_person(county, make_task):
    task = make_task("N1", responsible_user=county.users["editor_a"])
    node = TimeNode.objects.create(task=task, name="主体完工", planned_date=D(2026, 6, 25))
    other = make_task("N2")  # no linked account: its lead unit's liaison
    recompute(today=D(2026, 6, 22))
    got = set(Notification.objects.filter(kind="reminder").values_list("recipient__username", "task__code", "title"))
    assert ("editor_a", "N1", "任务N1：时间节点“主体完工”将于 2026-06-25 到期") in got
    assert ("editor_a", "N1", "任务N1：2026-06 进度请于 2026-06-25 前报送") in got
    assert ("editor_a", "N2", "任务N2：2026-06 进度请于 2026-06-25 前报送") in got
    n = Notification.objects.count()
    recompute(today=D(2026, 6, 23))  # the same causes the next day: not again
    assert Notification.objects.count() == n
    TimeNode.objects.filter(pk=node.pk).update(planned_date=D(2026, 6, 26))  # a moved date reminds again
    recompute(today=D(2026, 6, 23))
    assert Notification.objects.filter(title__contains="2026-06-26 到期").count() == 1
    assert other.pk


@pytest.mark.django_db(transaction=True)
def test_lights_follow_ledger_changes(county, make_task):
    task = make_task("C1")
    assert Light.objects.get(task=task).level in {"yellow", "red", "green"}  # computed on creation
    ledger.update_task(county.users["editor_a"], task, expected_version=task.version,
                       status="closed")
    assert Light.objects.get(task=task).level == "blue"
    run = AuditRecord.objects.filter(action="lights_recompute").order_by("-seq").first()
    assert (run.actor_username, run.source) == ("editor_a", "service:update_task")
    assert json.loads(run.content)["detail"]["trigger"] == "change"


def test_the_ledger_export_shows_each_light_on_its_colour_and_imports_back_unchanged(county, tasks, tmp_path):
    from openpyxl import load_workbook

    from chengzhen.ledger.exporter import export_ledger
    from chengzhen.ledger.importer import import_ledger

    recompute(today=JULY_1)
    path = tmp_path / "台账.xlsx"
    export_ledger(county.users["supervisor"], county.programme, path, today=JULY_1)
    ws = load_workbook(path).active
    headers = {ws.cell(4, c).value: c for c in range(1, ws.max_column + 1)}
    assert ws.cell(3, headers["亮灯状态"]).value == "亮灯"  # the group above both columns
    rows = {ws.cell(r, 2).value: r for r in range(5, ws.max_row + 1)}
    red = ws.cell(rows["T1"], headers["亮灯状态"])
    assert red.value == "红灯" and red.fill.fgColor.rgb.endswith("D32F2F") and red.font.color.rgb.endswith("FFFFFF")
    yellow = ws.cell(rows["T5"], headers["亮灯状态"])
    assert yellow.value == "黄灯" and yellow.font.color.rgb.endswith("000000")  # dark text on yellow
    assert ws.cell(rows["T1"], headers["亮灯原因"]).value == "形象进度低于序时进度39.9个百分点（超过30个百分点）"
    result = import_ledger(county.users["supervisor"], county.programme, path, dry_run=True)
    assert result.count("unchanged") == len(tasks) and {"亮灯状态", "亮灯原因"} <= set(result.computed)
