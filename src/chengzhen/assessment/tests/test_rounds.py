"""Rounds through their services and the command: the verification workflow, values from the
platform equal to direct queries, scoring that freezes and reproduces, publication, reports."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from docx import Document
from openpyxl import load_workbook

from chengzhen.assessment import rounds, services
from chengzhen.assessment.framework import load_framework
from chengzhen.assessment.models import FrameworkVersion, Round, SubjectScore, Value, ValueStatus
from chengzhen.ledger.services import StaleEdit
from chengzhen.problems import Refused

CHENGZHEN = str(Path(sys.executable).parent / "chengzhen")
FW = """\
code: RT
version: "1"
name: 轮次测试体系
status: sample
sources: [测试]
nodes:
  - code: A
    name: 建设
    points: 60
    children:
      - {code: A1, name: 建成区绿地率, points: 30, unit: "%", range: [0, 100],
         rule: {type: linear, floor: 30, target: 40}}
      - {code: A2, name: 年度完成投资, points: 30, unit: 万元, range: [0, 100000],
         rule: {type: linear, floor: 0, target: 5000}}
  - code: B
    name: 台账
    points: 40
    children:
      - {code: B1, name: 任务完成率, points: 20, unit: "%", measure: ledger.completion_rate,
         rule: {type: proportional}}
      - {code: B2, name: 亮灯扣分, points: 20, unit: 处, measure: supervision.deductions,
         rule: {type: deduction, per: 5}}
"""


@pytest.fixture
def round_(county):
    sup = county.users["supervisor"]
    services.import_framework(sup, load_framework(FW))
    return rounds.create_round(
        sup, code="RT-2026", name="2026年度测试考核", framework_name="RT@1",
        unit_codes=[county.units["town_a"].code, county.units["town_b"].code], year=2026,
        period_from=dt.date(2026, 1, 1), period_to=dt.date(2026, 12, 31), submit_by=dt.date(2026, 12, 20),
        programme=county.programme)


def test_the_verification_workflow(county, round_):
    town_a, editor_a, sup = county.units["town_a"], county.users["editor_a"], county.users["supervisor"]
    v = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "35.5", evidence="绿地统计台账",
                            files=[("台账.pdf", b"%PDF-1.4 x")])
    assert v.status == ValueStatus.SUBMITTED and v.files.count() == 1
    # the submitter may not verify; a supervisor may, once, with the version read
    admin_as_submitter = rounds.submit_value(county.users["admin"], round_, town_a, "A2", "value", "3000")
    with pytest.raises(Refused, match="不能核查自己填报的数值"):
        rounds.verify_value(county.users["admin"], admin_as_submitter, accept=True,
                            expected_version=admin_as_submitter.version)
    with pytest.raises(PermissionDenied):
        rounds.verify_value(county.users["editor_b"], v, accept=True, expected_version=v.version)
    with pytest.raises(Refused, match="退回须写明原因"):
        rounds.verify_value(sup, v, accept=False, expected_version=v.version)
    returned = rounds.verify_value(sup, v, accept=False, reason="请附绿地现状图", expected_version=v.version)
    assert returned.status == ValueStatus.RETURNED and returned.return_reason == "请附绿地现状图"
    with pytest.raises(StaleEdit):  # a second verifier who read the old version
        rounds.verify_value(county.users["admin"], v, accept=True, expected_version=v.version)
    from chengzhen.ledger.tests.test_browser import jpeg

    again = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "36", files=[("现状图.jpg", jpeg())])
    assert again.files.count() == 2
    with pytest.raises(Refused, match="现状图.html"):
        rounds.submit_value(editor_a, round_, town_a, "A1", "value", "36", files=[("现状图.html", b"<html>")])
    assert again.status == ValueStatus.SUBMITTED and again.verified_by is None
    accepted = rounds.verify_value(sup, again, accept=True, expected_version=again.version)
    assert accepted.status == ValueStatus.ACCEPTED and accepted.verified_by == sup
    changed = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "37")
    assert changed.status == ValueStatus.SUBMITTED  # an edit after acceptance reopens
    # the history is the audit trail
    from chengzhen.audit.models import AuditRecord

    assert AuditRecord.objects.filter(model="assessment.value", object_pk=str(v.pk)).count() >= 5


def test_a_town_submits_only_its_own_and_only_what_people_fill_in(county, round_):
    with pytest.raises(PermissionDenied):
        rounds.submit_value(county.users["editor_a"], round_, county.units["town_b"], "A1", "value", "30")
    with pytest.raises(Refused, match="由平台取数"):
        rounds.submit_value(county.users["editor_a"], round_, county.units["town_a"], "B1", "value", "80")
    with pytest.raises(Refused, match="超出"):
        rounds.submit_value(county.users["editor_a"], round_, county.units["town_a"], "A1", "value", "350")
    # 元 written for 万元: converted (3,000 万元) — and a figure off by 10,000 in 万元 gets the hint
    v = rounds.submit_value(county.users["editor_a"], round_, county.units["town_a"], "A2", "value", "30000000",
                            unit="元")
    assert v.unit == "元"
    with pytest.raises(Refused, match="10000"):
        rounds.submit_value(county.users["editor_a"], round_, county.units["town_a"], "A2", "value", "30000000")
    with pytest.raises(Refused, match="数值过大"):  # a leaf without a range still fits the column
        rounds.submit_value(county.users["editor_a"], round_, county.units["town_a"], "A1", "value", "1e30")
    assert list(rounds.values_for(county.users["editor_b"], round_)) == []


def test_platform_values_equal_direct_queries(county, round_, make_task):
    from chengzhen.supervision.models import DeductionCandidate

    make_task("P1", status="completed", due_date=dt.date(2026, 6, 30))
    make_task("P2", status="in_progress", due_date=dt.date(2026, 9, 30))
    make_task("P3", status="closed", due_date=dt.date(2026, 3, 31))
    make_task("P4", lead="town_b", status="in_progress", due_date=dt.date(2026, 5, 31))
    counts = rounds.gather_platform_values(county.users["supervisor"], round_)
    assert counts["new"] >= 3
    b1 = Value.objects.get(round=round_, subject=county.units["town_a"], node="B1")
    from chengzhen.ledger.models import Task

    due = Task.objects.filter(programme=county.programme, lead_unit=county.units["town_a"],
                              due_date__lte=dt.date(2026, 12, 31), children__isnull=True)
    direct = Decimal(due.filter(status__in=("completed", "closed")).count() * 100) / due.count()
    assert b1.amount == direct.quantize(Decimal("0.000001")) and "末级任务 3 个" in b1.derivation
    b2 = Value.objects.get(round=round_, subject=county.units["town_b"], node="B2")
    assert b2.amount == DeductionCandidate.objects.filter(unit=county.units["town_b"]).count()
    assert b1.source == "platform" and b1.submitted_by is None
    # unchanged facts keep an accepted value accepted
    rounds.verify_value(county.users["supervisor"], b1, accept=True, expected_version=b1.version)
    assert rounds.gather_platform_values(county.users["supervisor"], round_)["unchanged"] >= 1
    assert Value.objects.get(pk=b1.pk).status == ValueStatus.ACCEPTED


def test_scoring_freezes_reproduces_and_publication_shows_only_ones_own(county, round_, make_task):
    sup, editor_a = county.users["supervisor"], county.users["editor_a"]
    make_task("P1", status="completed", due_date=dt.date(2026, 6, 30))
    for unit, a1, a2 in (("town_a", "38", "4000"), ("town_b", "32", "6000")):
        for code, amount in (("A1", a1), ("A2", a2)):
            v = rounds.submit_value(county.users["editor_a" if unit == "town_a" else "editor_b"], round_,
                                    county.units[unit], code, "value", amount)
            rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    rounds.gather_platform_values(sup, round_)
    for v in Value.objects.filter(round=round_, status=ValueStatus.SUBMITTED):
        rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    first = rounds.score_round(sup, round_)
    assert FrameworkVersion.objects.get(framework__code="RT").frozen
    r = Round.objects.get(pk=round_.pk)
    a = rounds.scorecard(r, county.units["town_a"])
    # A1 38 → 30·0.8 = 24; A2 4000 → 24; B1 100% → 20; B2 no deductions → 20
    assert a["result"].total == Decimal("88.00")
    sentences = [row["sentence"] for row in a["rows"] if row["leaf"]]
    assert "建成区绿地率 38%，低于目标 40%，按线性规则得 24 分（满分 30 分）" in sentences
    second = rounds.score_round(sup, r)
    keys = ("subject", "total", "grade", "rank", "nodes")
    assert (list(SubjectScore.objects.filter(scoring=first.scoring).values_list(*keys))
            == list(SubjectScore.objects.filter(scoring=second.scoring).values_list(*keys)))
    with pytest.raises(Refused, match="已评分"):
        rounds.submit_value(editor_a, r, county.units["town_a"], "A1", "value", "39")
    # before publication a town sees nothing; after, its own only
    assert not rounds.may_see(editor_a, r, county.units["town_a"])
    r = rounds.publish_round(sup, Round.objects.get(pk=r.pk))
    assert rounds.may_see(editor_a, r, county.units["town_a"])
    assert not rounds.may_see(editor_a, r, county.units["town_b"])
    assert rounds.may_see(sup, r, county.units["town_b"])
    from chengzhen.supervision.models import Notification

    assert Notification.objects.filter(recipient=editor_a, kind="assessment").exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_scores_publishes_and_reports(county, tmp_path):
    from chengzhen.ledger.tests.test_jobs import worker_env

    sup = county.users["supervisor"]
    services.import_framework(sup, load_framework(FW))
    run = lambda *a: subprocess.run([CHENGZHEN, *a], capture_output=True, text=True, env=worker_env(),  # noqa: E731
                                    timeout=120)
    out = run("round", "create", "RT-2026", "--name", "2026年度测试考核", "--framework", "RT@1", "--units",
              f"{county.units['town_a'].code},{county.units['town_b'].code}", "--year", "2026", "--period",
              "2026-01-01..2026-12-31", "--submit-by", "2026-12-20", "--programme", "ZDZ2026", "--as", "supervisor")
    assert out.returncode == 0, out.stderr
    r = Round.objects.get(code="RT-2026")
    for unit, amount in (("town_a", "38"), ("town_b", "32")):
        v = rounds.submit_value(county.users["admin"], r, county.units[unit], "A1", "value", amount)
        rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    assert run("round", "gather", "RT-2026", "--as", "supervisor").returncode == 0
    for v in Value.objects.filter(round=r, status=ValueStatus.SUBMITTED):
        rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    out = run("round", "score", "RT-2026", "--as", "supervisor")
    assert out.returncode == 0, out.stderr
    assert "1\t411300101000" in out.stdout
    assert run("round", "publish", "RT-2026", "--as", "supervisor").returncode == 0
    out = run("round", "report", "RT-2026", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    docx, xlsx = (Path(p) for p in out.stdout.split())
    text = "\n".join(p.text for p in Document(docx).paragraphs)
    assert "关于2026年度测试考核结果的通报" in text and "示例" in text
    cells = [c.text for t in Document(docx).tables for row in t.rows for c in row.cells]
    totals = {s.subject_name: s.total for s in SubjectScore.objects.filter(scoring=Round.objects.get(pk=r.pk).scoring)}
    for name, total in totals.items():
        assert name in cells and f"{total:.2f}" in cells
    ws = load_workbook(xlsx).active
    assert any(row[1].value == county.units["town_a"].code for row in ws.iter_rows(min_row=5))
    out = run("round", "list")
    assert out.stdout.startswith("RT-2026\t2026年度测试考核\tRT@1\tpublished\t2")
    assert run("round", "score", "NOPE", "--as", "supervisor").returncode == 1


def test_reminders_follow_the_rounds_schedule(county, round_):
    from chengzhen.supervision.models import Notification

    assert rounds.remind(dt.date(2026, 12, 16)) == 0  # four days before: not a reminder day
    sent = rounds.remind(dt.date(2026, 12, 17))  # remind_days (3) before 12-20
    assert sent == 3  # the liaisons: editor_a and editor_a_p1 (town_a), editor_b (town_b)
    note = Notification.objects.filter(recipient=county.users["editor_a"], kind="assessment").get()
    assert "还有 4 项数值未报送或被退回" in note.body and "2026-12-20" in note.body
    assert rounds.remind(dt.date(2026, 12, 17)) == 0  # once a day
    assert rounds.remind(dt.date(2026, 12, 20)) >= 1  # and on the day


def test_supervisors_hear_of_values_waiting_before_the_verification_deadline(county, round_):
    from chengzhen.supervision.models import Notification

    Round.objects.filter(pk=round_.pk).update(verify_by=dt.date(2026, 12, 28))
    assert rounds.remind(dt.date(2026, 12, 25)) == 0  # nothing waits for verification
    rounds.submit_value(county.users["editor_a"], round_, county.units["town_a"], "A1", "value", "35")
    rounds.submit_value(county.users["editor_b"], round_, county.units["town_b"], "A1", "value", "33")
    assert rounds.remind(dt.date(2026, 12, 24)) == 0  # four days before: not a reminder day
    assert rounds.remind(dt.date(2026, 12, 25)) == 1  # the one supervisor
    note = Notification.objects.get(recipient=county.users["supervisor"], kind="assessment")
    assert "还有 2 项数值待核查，核查截止 2026-12-28" in note.body and note.url.endswith("/RT-2026/queue/")
    assert rounds.remind(dt.date(2026, 12, 25)) == 0  # once a day
    assert rounds.remind(dt.date(2026, 12, 28)) == 1  # and on the day
