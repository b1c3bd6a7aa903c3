"""Supervision through its real paths: the ``lights`` command (rule sets in and out, refusals
that change nothing, recompute), the admin (saving makes a new version), pages and API with
their permissions, and the nightly recompute in a real worker process."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger import services as ledger
from chengzhen.supervision.models import Escalation, Light, RuleSetVersion
from chengzhen.supervision.recompute import recompute

D = dt.date
RULESETS = Path(__file__).parents[1] / "rulesets"
CHENGZHEN = str(Path(sys.executable).parent / "chengzhen")


def run(*args, env=None):
    from chengzhen.ledger.tests.test_jobs import worker_env

    return subprocess.run([CHENGZHEN, *args], capture_output=True, text=True, env=env or worker_env(),
                          timeout=120)


@pytest.mark.django_db(transaction=True)
def test_rule_sets_in_and_out_through_the_command(county, tmp_path):
    out = run("lights", "rules", "list")
    assert out.returncode == 0
    assert out.stdout.splitlines() == ["default\t重点工作红黄绿灯\t1", "three-colour\t三色督查单\t1"]
    exported = tmp_path / "default.yaml"
    assert run("lights", "rules", "export", "default@1", "-o", str(exported)).returncode == 0
    text = exported.read_text(encoding="utf-8")
    assert text.startswith("# 导出自 default@1") and (RULESETS / "default.yaml").read_text("utf-8") in text
    # unchanged: no new version
    out = run("lights", "rules", "import", str(exported), "--as", "supervisor")
    assert (out.returncode, out.stdout.strip()) == (0, "内容未变，仍为 default@1")
    # a changed threshold: version 2, audited under the person named
    exported.write_text(text.replace("node_days_late: {gt: 15}", "node_days_late: {gt: 20}").replace(
        "gt: 0, lte: 15", "gt: 0, lte: 20"), encoding="utf-8")
    out = run("lights", "rules", "import", str(exported), "--as", "supervisor")
    assert (out.returncode, out.stdout.strip()) == (0, "已导入为 default@2"), out.stderr
    record = AuditRecord.objects.filter(model="supervision.rulesetversion").order_by("-seq").first()
    assert (record.actor_username, record.source) == ("supervisor", "command:lights rules")
    v1 = RuleSetVersion.objects.get(rule_set__code="default", number=1)
    assert v1.source == (RULESETS / "default.yaml").read_text("utf-8")  # history never rewritten


@pytest.mark.django_db(transaction=True)
def test_a_bad_rule_set_is_refused_with_line_and_reason_and_nothing_changes(county, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (RULESETS / "default.yaml").read_text("utf-8")
    bad.write_text(text.replace("    when: {days_overdue: {gt: 0}}", "    when: {days_overdue: {gt: 0}}\n"
                                "    colour: red").replace("level: blue\n", "level: azure\n"), "utf-8")
    before = (RuleSetVersion.objects.count(), AuditRecord.objects.count())
    out = run("lights", "rules", "import", str(bad), "--as", "supervisor")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert any(line.startswith("bad.yaml:") and "未知的字段 'colour'" in line for line in lines), lines
    assert any("等级 'azure' 未定义" in line for line in lines), lines
    assert "已拒绝" in lines[-1]
    assert (RuleSetVersion.objects.count(), AuditRecord.objects.count()) == before
    # a unit liaison may not change rule sets at all
    good = tmp_path / "good.yaml"
    good.write_text(text.replace("重点工作红黄绿灯\n", "重点工作红黄绿灯（改）\n"), "utf-8")
    out = run("lights", "rules", "import", str(good), "--as", "editor_a")
    assert out.returncode == 1 and "无权限" in out.stderr
    assert run("lights", "rules", "export", "nosuch", "-o", str(tmp_path / "x.yaml")).returncode == 1


@pytest.mark.django_db(transaction=True)
def test_recompute_command_and_a_programme_on_the_three_colour_set(county, make_task):
    from chengzhen.programmes.models import Programme

    Programme.objects.filter(pk=county.programme.pk).update(light_rules="three-colour")
    make_task("A1", status="in_progress", due_date=D(2026, 6, 1))
    Light.objects.all().delete()  # computed for today on creation; the command looks at 1 July
    out = run("lights", "recompute", "--programme", "ZDZ2026", "--date", "2026-07-01")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("重算 1 个计划 1 项任务的亮灯")
    light = Light.objects.select_related("rule_version__rule_set").get()
    assert (light.level, str(light.rule_version)) == ("orange", "three-colour@1")
    assert light.deadline == D(2026, 7, 15)  # ten working days
    assert run("lights", "recompute", "--programme", "NOPE").returncode == 1
    refused = run("lights", "recompute", "--as", "editor_a")
    assert refused.returncode == 1 and "无权限" in refused.stderr
    assert run("lights", "recompute", "--date", "2026-13-01").returncode == 1


def test_saving_a_rule_set_in_the_admin_makes_a_new_version(county, client):
    from chengzhen.supervision.models import RuleSet

    rs = RuleSet.objects.get(code="default")
    client.force_login(county.users["admin"])
    url = f"/admin/supervision/ruleset/{rs.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and "behind_red" in page.content.decode()
    source = rs.latest().source
    changed = source.replace("name: 重点工作红黄绿灯\n", "name: 重点工作红黄绿灯（2026版）\n")
    response = client.post(url, {"source": changed, "note": "改名", "opened_version": 1})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(rs.versions.order_by("number").values_list("number", "note")) == [(1, "随平台提供"), (2, "改名")]
    assert rs.versions.get(number=1).source == source
    # a bad edit shows its line and writes nothing
    response = client.post(url, {"source": source.replace("severity: 40", "severity: forty"),
                                 "opened_version": 2})
    assert response.status_code == 200 and "severity 应为整数" in response.content.decode()
    assert rs.versions.count() == 2
    # a unit liaison cannot edit rule sets (and cannot enter the admin at all)
    client.force_login(county.users["editor_a"])
    assert client.get(url).status_code in (302, 403)


@pytest.fixture
def escalated(county, make_task):
    """Two yellows of 青山镇 (a letter), three reds of 白河镇 (an interview)."""
    for code in ("Y1", "Y2"):
        make_task(code, status="in_progress")  # no June report by 25 June: yellow
    for code in ("R1", "R2", "R3"):
        make_task(code, lead="town_b", status="in_progress", due_date=D(2026, 6, 1))
    for code in ("Y1", "Y2"):
        ledger.submit_report(county.users["supervisor"], county_task(code), period="2026-05",
                             unit=county.units["town_a"], physical_progress=60)
    recompute(today=D(2026, 7, 1))
    return {e.kind: e for e in Escalation.objects.all()}


def county_task(code):
    from chengzhen.ledger.models import Task

    return Task.objects.get(code=code)


def test_a_unit_sees_its_own_lights_letters_and_interviews_only(county, escalated, client):
    letter, interview = escalated["letter"], escalated["interview"]
    client.force_login(county.users["editor_a"])
    listing = client.get("/supervision/").content.decode()
    assert letter.reference in listing and interview.reference not in listing
    assert client.get(f"/supervision/escalation/{interview.pk}/").status_code == 404
    download = client.get(f"/supervision/escalation/{letter.pk}/letter/")
    assert download.status_code == 200 and download["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml")
    lights = client.get("/api/lights/").json()
    assert {r["task_code"] for r in lights["results"]} == {"Y1", "Y2"}
    assert client.get(f"/api/lights/{county_task('R1').pk}/").status_code == 404
    assert [e["reference"] for e in client.get("/api/escalations/").json()["results"]] == [letter.reference]
    for url in ("/api/lights/?level=%00", "/api/lights/?programme=a%00", "/api/escalations/?kind=x"):
        assert client.get(url).status_code == 400, url
    tasks = client.get("/api/tasks/").json()["results"]
    assert {t["code"]: t["light"]["level"] for t in tasks} == {"Y1": "yellow", "Y2": "yellow"}
    rows = client.get("/ledger/").content.decode()
    assert "黄灯" in rows and "未按时报送2026-06进度" in rows  # the light and its reasons (title)
    assert '<option value="yellow">黄灯</option>' in rows  # the list filters by light
    assert [t["code"] for t in client.get("/api/tasks/?light=yellow").json()["results"]] == ["Y1", "Y2"]
    assert client.get("/api/tasks/?light=red").json()["count"] == 0
    assert "light" in client.get("/api/tasks/?light=%3Cb%3E").json()["errors"][0]["field"]

    client.force_login(county.users["editor_b"])
    assert client.get(f"/supervision/escalation/{letter.pk}/letter/").status_code == 404
    assert [e["kind"] for e in client.get("/api/escalations/").json()["results"]] == ["interview"]
    history = client.get(f"/api/lights/{county_task('R1').pk}/history/").json()
    assert [(h["from_level"], h["to_level"]) for h in history] == [("", "red")]


def test_interview_outcome_is_recorded_by_a_supervisor_only(county, escalated, client):
    interview = escalated["interview"]
    url = f"/supervision/escalation/{interview.pk}/"
    client.force_login(county.users["editor_b"])  # sees it, may not record it
    assert client.get(url).status_code == 200
    assert client.post(url, {"status": "held"}).status_code == 404
    api = f"/api/escalations/{interview.pk}/interview/"
    assert client.post(api, {"status": "held"}, content_type="application/json",
                       headers={"If-Match": '"1"'}).status_code == 403
    client.force_login(county.users["supervisor"])
    refused = client.post(url, {"status": "held", "head": "王镇长", "outcome": "", "expected_version": 1})
    assert "已约谈须填写约谈日期" in refused.content.decode()
    done = client.post(url, {"status": "held", "head": "王镇长", "held_on": "2026-07-10",
                             "outcome": "说明情况，限期整改", "expected_version": 1})
    assert done.status_code == 302
    interview.refresh_from_db()
    assert (interview.status, interview.head, interview.held_on) == ("held", "王镇长", D(2026, 7, 10))
    stale = client.post(api, {"status": "closed", "held_on": "2026-07-10"}, content_type="application/json",
                        headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    ok = client.post(api, {"status": "closed", "held_on": "2026-07-10"}, content_type="application/json",
                     headers={"If-Match": f'"{interview.version}"'})
    assert ok.status_code == 200 and ok.json()["status"] == "closed"


def test_notifications_page_unread_count_and_marking_read(county, escalated, client):
    client.force_login(county.users["editor_a"])
    home = client.get("/").content.decode()
    n = client.get("/api/notifications/?unread=1").json()["count"]
    assert n >= 3 and f'<span class="badge" aria-label="未读">{n}</span>' in home
    page = client.get("/supervision/notifications/").content.decode()
    assert "【黄灯】任务Y1" in page and "【督办函】县城镇化督〔2026〕1号" in page
    assert client.post("/api/notifications/read/", {}, content_type="application/json").json() == {
        "read": n, "unread": 0}
    assert 'class="badge"' not in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_nightly_recompute_runs_in_a_real_worker(county, running_programme, make_task):
    import crontask

    from chengzhen.ledger.tests.test_jobs import run_worker
    from chengzhen.supervision.tasks import recompute_all_lights

    jobs = {j.name: j.trigger for j in crontask.scheduler.get_jobs()}
    assert "hour='1', minute='10'" in str(jobs["recompute_all_lights"])
    task = make_task("W1", status="in_progress", due_date=D(2026, 6, 1))
    from chengzhen.ledger.queries import today_local

    today = today_local()
    for code in ("W2", "W3"):  # no report for the last period due: two yellows, a letter
        make_task(code, status="in_progress", start_date=today - dt.timedelta(days=30),
                  due_date=today + dt.timedelta(days=700))
    from chengzhen.supervision.models import LightChange

    Light.objects.all().delete()
    LightChange.objects.all().delete()
    recompute_all_lights.enqueue()
    run_worker()
    assert Light.objects.get(task=task).level == "red"
    letters = Escalation.objects.filter(kind="letter")
    assert letters.exists()
    assert all(e.file_name and len(e.file_sha256) == 64 for e in letters)  # written by the worker
    run = AuditRecord.objects.filter(action="lights_recompute").order_by("-seq").first()
    assert (run.actor_username, run.source) == ("system", "schedule:recompute_all_lights")
    assert json.loads(run.content)["detail"]["trigger"] == "schedule"


@pytest.mark.django_db(transaction=True)
def test_calendar_import_replaces_a_year_and_refuses_bad_days(county, tmp_path):
    from chengzhen.supervision.models import CalendarDay
    from chengzhen.supervision.services import work_calendar

    assert CalendarDay.objects.filter(date__year=2026).count() == 39  # shipped: 33 days off, 6 make-up working days
    cal = work_calendar()
    assert not cal.is_working_day(D(2026, 10, 1)) and cal.is_working_day(D(2026, 10, 10))
    good = tmp_path / "2027.yaml"
    good.write_text("year: 2027\nholidays:\n  元旦: [2027-01-01]\nworkdays: {}\n", "utf-8")
    out = run("lights", "calendar", "import", str(good), "--as", "supervisor")
    assert (out.returncode, out.stdout.strip()) == (0, "已导入 2027 年节假日与调休 1 天")
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nholidays:\n  元旦: [2027-01-01, 2026-12-31, 明天]\n", "utf-8")
    out = run("lights", "calendar", "import", str(bad), "--as", "supervisor")
    assert out.returncode == 1
    assert "bad.yaml:holidays: 元旦：2026-12-31 不在 2027 年" in out.stderr
    assert "'明天' 不是日期" in out.stderr
    assert CalendarDay.objects.filter(date__year=2027).count() == 1  # unchanged


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_each_recompute_their_tasks_once(county, make_task):
    from conftest import run_concurrently

    from chengzhen.supervision.models import LightChange

    tasks = [make_task(f"K{i}", status="in_progress") for i in range(4)]
    before = LightChange.objects.count()

    def submit(n: int) -> None:
        ledger.submit_report(county.users["supervisor"], tasks[n], period="2026-11",
                             unit=county.units["town_a"], physical_progress=100)

    assert run_concurrently(submit) == []
    assert set(Light.objects.filter(task__in=tasks).values_list("level", flat=True)) == {"green"}
    changes = LightChange.objects.filter(task__in=tasks).order_by("task_id", "pk")
    assert changes.count() - before == 4  # each task's one change, no duplicates


def test_admin_pages_of_supervision_open_for_an_administrator(county, escalated, client):
    from chengzhen.supervision.models import CalendarDay, DeductionCandidate

    client.force_login(county.users["admin"])
    pages = {
        "light": Light.objects.first().pk, "escalation": escalated["letter"].pk,
        "deductioncandidate": DeductionCandidate.objects.first().pk,
        "calendarday": CalendarDay.objects.first().pk,
        "rulesetversion": RuleSetVersion.objects.first().pk,
    }
    for model, pk in pages.items():
        assert client.get(f"/admin/supervision/{model}/").status_code == 200, model
        assert client.get(f"/admin/supervision/{model}/{pk}/change/").status_code == 200, model
    assert client.post(f"/admin/supervision/light/{pages['light']}/change/", {}).status_code == 403


def test_a_programme_naming_a_missing_rule_set_is_refused_in_the_admin(county, client):
    client.force_login(county.users["admin"])
    p = county.programme
    data = {"code": p.code, "name": p.name, "kind": p.kind, "start_date": "2026-01-01",
            "end_date": "2026-12-31", "owner_unit": p.owner_unit_id, "reporting_cycle": "monthly",
            "reporting_day": 25, "light_rules": "nosuch@3", "expected_version": p.version,
            "phases-TOTAL_FORMS": 0, "phases-INITIAL_FORMS": 0}
    page = client.post(f"/admin/programmes/programme/{p.pk}/change/", data)
    assert page.status_code == 200 and "没有亮灯规则集 nosuch@3" in page.content.decode()
    data["light_rules"] = "three-colour@1"
    assert client.post(f"/admin/programmes/programme/{p.pk}/change/", data).status_code == 302
    p.refresh_from_db()
    assert p.light_rules == "three-colour@1"


def test_the_supervisors_home_counts_each_units_lights_that_count(county, escalated, client):
    import re

    client.force_login(county.users["supervisor"])
    page = client.get("/").content.decode()
    rows = re.findall(r"<tr>\s*<td data-label=\"牵头单位\"><a [^>]*>([^<]+)</a></td>(.*?)</tr>", page, re.S)
    lit = {name: re.search(r'data-label="亮灯">(?:<span class="light red">)?(\d+)', cells)[1] for name, cells in rows}
    assert lit == {"白河镇": "3", "青山镇": "2"}
