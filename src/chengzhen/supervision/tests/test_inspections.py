"""Inspections (督查调研), rectification (督查整改) and accountability records (问责与表扬)
through their real paths: the services, the pages and the API over the test client, a real
database and real photo files (JPEGs made with Pillow, their EXIF stripped on upload)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger import services as ledger
from chengzhen.ledger.models import Task
from chengzhen.ledger.tests.test_evidence import photo_with_exif
from chengzhen.problems import Refused
from chengzhen.supervision import inspections
from chengzhen.supervision.models import (
    Accountability,
    Inspection,
    InspectionLink,
    InspectionPhoto,
    Light,
    Rectification,
)
from chengzhen.supervision.recompute import recompute

D = dt.date
NOV = D(2026, 11, 20)  # an odd month: the deputies' (人大)


def record(county, who="supervisor", kind="unannounced", held_on=NOV, links=(), **fields):
    values = {"place": "青山镇老街", "inspectors": "县督查室 张三、李四", "findings": "施工围挡破损\n扬尘未覆盖"}
    values.update(fields)
    return inspections.record_inspection(county.users[who], county.programme, kind=kind, held_on=held_on,
                                         links=links, **values)


def counts() -> tuple[int, ...]:
    return (Inspection.objects.count(), InspectionLink.objects.count(), InspectionPhoto.objects.count(),
            Rectification.objects.count(), Task.objects.count(), Accountability.objects.count(),
            AuditRecord.objects.count())


def photos_on_disk(settings) -> list:
    root = settings.MEDIA_ROOT / "inspections"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_supervisor_records_an_inspection_with_photos_through_the_page(county, make_task, client, settings):
    a1 = make_task("A1", coop=("dept",))
    client.force_login(county.users["supervisor"])
    form = client.get("/supervision/inspections/new/")
    assert form.status_code == 200
    assert [k for k, _label in form.context["form"].fields["kind"].choices] == ["unannounced", "npc", "cppcc"]
    response = client.post("/supervision/inspections/new/", {
        "kind": "unannounced", "programme": county.programme.pk, "held_on": "2026-11-20",
        "place": "青山镇老街<script>alert(1)</script>", "inspectors": "县督查室 张三",
        "findings": "围挡破损\n<b>扬尘</b>未覆盖", "units": [county.units["town_b"].pk], "tasks": "A1",
        "photos": [SimpleUploadedFile("现场.jpg", photo_with_exif(), "image/jpeg")]})
    assert response.status_code == 302, response.content.decode()[:3000]
    inspection = Inspection.objects.get()
    assert response["Location"] == f"/supervision/inspection/{inspection.pk}/"
    assert (inspection.kind, inspection.held_on, inspection.recorded_by) == (
        "unannounced", NOV, county.users["supervisor"])
    assert set(inspection.links.values_list("unit__code", "task__code")) == {
        ("411300101000", "A1"), ("411300102000", None)}  # the task's lead unit, and 白河镇 alone
    photo = InspectionPhoto.objects.get()
    assert photo.content_type == "image/jpeg" and photo.latitude == pytest.approx(35.76)
    assert photo.taken_at is not None and photo.stored_name.startswith("2026/")
    [stored] = photos_on_disk(settings)
    assert stored == settings.MEDIA_ROOT / "inspections" / photo.stored_name
    with Image.open(stored) as img:  # stored without any EXIF
        assert not img.getexif() and "exif" not in img.info
    record_ = AuditRecord.objects.filter(model="supervision.inspection").get()
    assert record_.actor_username == "supervisor"

    page = client.get(response["Location"]).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "&lt;b&gt;扬尘&lt;/b&gt;" in page
    assert f'href="/ledger/task/{a1.pk}/"' in page and f"/supervision/inspection/photo/{photo.pk}/" in page
    served = client.get(f"/supervision/inspection/photo/{photo.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    body = b"".join(served.streaming_content)
    assert b"PhoneMaker" not in body and "秘密软件".encode() not in body
    listing = client.get("/supervision/inspections/?kind=unannounced").content.decode()
    assert "&lt;script&gt;" in listing and "明察暗访" in listing
    assert "青山镇老街" not in client.get("/supervision/inspections/?kind=npc").content.decode()

    client.force_login(county.users["leader"])  # leaders read inspections
    assert client.get(f"/supervision/inspection/{inspection.pk}/").status_code == 200
    assert client.get(f"/supervision/inspection/photo/{photo.pk}/").status_code == 200
    client.force_login(county.users["editor_a"])
    assert client.get(f"/supervision/inspection/photo/{photo.pk}/").status_code == 404


def test_a_bad_photo_refuses_the_whole_inspection_and_leaves_no_file(county, client, settings):
    client.force_login(county.users["supervisor"])
    good = SimpleUploadedFile("一.jpg", photo_with_exif(), "image/jpeg")
    bad = SimpleUploadedFile("二.jpg", b"<html><body>hi</body></html>", "image/jpeg")
    pdf = SimpleUploadedFile("三.pdf", b"%PDF-1.7 test", "application/pdf")
    before = counts()
    for files in ([good, bad], [pdf]):
        response = client.post("/supervision/inspections/new/", {
            "kind": "unannounced", "programme": county.programme.pk, "held_on": "2026-11-20",
            "place": "老街", "inspectors": "张三", "findings": "围挡破损", "photos": files})
        assert response.status_code == 200
        text = response.content.decode()
        assert "现场照片" in text and ("按文件内容判断" in text or "只接受照片" in text)
    assert counts() == before and photos_on_disk(settings) == []


def test_an_inspector_records_investigations_but_not_unannounced_visits(county, client):
    inspector = county.users["inspector"]
    before = counts()
    with pytest.raises(PermissionDenied):
        record(county, "inspector", kind="unannounced")
    assert counts() == before
    npc = record(county, "inspector", kind="npc")
    assert npc.recorded_by == inspector
    client.force_login(inspector)
    form = client.get("/supervision/inspections/new/").context["form"]
    assert [k for k, _label in form.fields["kind"].choices] == ["npc", "cppcc"]
    refused = client.post("/supervision/inspections/new/", {
        "kind": "unannounced", "programme": county.programme.pk, "held_on": "2026-11-20",
        "place": "老街", "inspectors": "王代表", "findings": "路灯不亮"})
    assert refused.status_code == 200 and Inspection.objects.count() == 1
    api = client.post("/api/inspections/", {"kind": "unannounced", "programme": "ZDZ2026",
                                            "held_on": "2026-11-20", "place": "老街", "inspectors": "王代表",
                                            "findings": "路灯不亮"}, content_type="application/json")
    assert api.status_code == 403 and Inspection.objects.count() == 1
    # unit editors record none and see none
    with pytest.raises(PermissionDenied):
        record(county, "editor_a", kind="npc")
    client.force_login(county.users["editor_a"])
    assert client.get("/supervision/inspections/").status_code == 403
    assert client.get("/supervision/inspections/new/").status_code == 403


def test_a_unit_sees_its_own_rectification_as_a_ledger_task_and_nothing_of_the_inspection(
        county, make_task, client):
    a1 = make_task("A1")
    inspection = record(county, links=[(None, a1)])
    supervisor = county.users["supervisor"]
    mine = inspections.add_rectification(supervisor, inspection, unit=county.units["town_a"],
                                         requirement="修复围挡\n一周内完成", deadline=D(2026, 12, 20),
                                         source_task=a1)
    theirs = inspections.add_rectification(supervisor, inspection, unit=county.units["town_b"],
                                           requirement="清理渣土", deadline=D(2026, 12, 25))
    client.force_login(county.users["editor_a"])
    assert 'href="/supervision/inspections/"' not in client.get("/").content.decode()  # not in the menu
    assert client.get(f"/supervision/inspection/{inspection.pk}/").status_code == 404
    assert client.get(f"/supervision/inspection/{inspection.pk}/rectification/new/").status_code == 404
    assert client.get("/api/inspections/").json()["count"] == 0
    assert client.get(f"/api/inspections/{inspection.pk}/").status_code == 404
    ledger_page = client.get("/ledger/?q=ZG-").content.decode()
    assert mine.task.code in ledger_page and theirs.task.code not in ledger_page
    assert client.get(f"/ledger/task/{mine.task_id}/").status_code == 200
    assert client.get(f"/ledger/task/{theirs.task_id}/").status_code == 404
    rows = client.get("/api/rectifications/").json()["results"]
    assert [(r["task_code"], r["state"], r["state_display"]) for r in rows] == [(mine.task.code, "open", "整改中")]
    assert client.get(f"/api/rectifications/{theirs.pk}/").status_code == 404
    client.force_login(county.users["inspector"])
    assert 'href="/supervision/inspections/"' in client.get("/").content.decode()
    client.force_login(county.users["editor_a"])
    # the rectification is its task's: the unit reports on it like on any task
    report = ledger.submit_report(county.users["editor_a"], mine.task, period="2026-12",
                                  unit=county.units["town_a"], physical_progress=50)
    assert report.task_id == mine.task_id


def test_a_rectification_only_for_a_unit_in_the_recorders_reach(county, make_task):
    from django.core.exceptions import PermissionDenied

    from chengzhen.org.models import Membership, User

    inspection = record(county, links=[(county.units["town_a"], None)])
    town_supervisor = User.objects.create_user(username="sup_a", password="pw", full_name="青山镇督查")
    Membership.objects.create(user=town_supervisor, role="supervisor", unit=county.units["town_a"])
    before = Task.objects.count()
    with pytest.raises(PermissionDenied):
        inspections.add_rectification(town_supervisor, inspection, unit=county.units["town_b"],
                                      requirement="清理渣土", deadline=D(2026, 12, 25))
    assert Task.objects.count() == before
    ok = inspections.add_rectification(town_supervisor, inspection, unit=county.units["town_a"],
                                       requirement="修复围挡", deadline=D(2026, 12, 25))
    assert ok.task.lead_unit == county.units["town_a"]


@pytest.mark.django_db(transaction=True)
def test_the_rectification_task_is_made_right_lights_after_commit_and_closes_with_its_task(county, make_task):
    a1 = make_task("A1", coop=("dept",))
    inspector = county.users["inspector"]
    inspection = record(county, "inspector", kind="npc", links=[(None, a1)])
    first = inspections.add_rectification(
        inspector, inspection, unit=county.units["dept"], source_task=a1, deadline=D(2026, 11, 30),
        requirement="  \n" + "补齐验收资料" * 60 + "\n并报县住建局备案")
    task = Task.objects.get(pk=first.task_id)
    assert task.code == "ZG-2026-001" and task.programme == county.programme
    assert task.name.startswith("整改：补齐验收资料") and len(task.name) == 300
    assert "\n" not in task.name and task.requirement == first.requirement
    assert (task.category, task.lead_unit, task.start_date, task.due_date, task.status) == (
        "督查整改", county.units["dept"], NOV, D(2026, 11, 30), "in_progress")
    second = inspections.add_rectification(inspector, inspection, unit=county.units["town_a"],
                                           requirement="整理台账", deadline=D(2027, 1, 31))
    assert second.task.code == "ZG-2026-002" and second.task.name == "整改：整理台账"
    audit = AuditRecord.objects.filter(model="ledger.task", object_pk=str(task.pk)).get()
    assert (audit.actor_username, audit.source) == ("inspector", "service:add_rectification")
    # its light was computed once the transaction committed: overdue, so red
    light = Light.objects.get(task=task)
    assert light.level == "red"
    assert inspections.rectification_state(first) == "overdue"
    assert inspections.rectification_state(first).label == "已逾期"
    assert inspections.rectification_state(second) == "open"
    # the unit closes the task: the rectification is done
    ledger.update_task(county.users["editor_dept"], task, expected_version=task.version, status="completed")
    first.refresh_from_db()
    assert inspections.rectification_state(first) == "done"
    assert Light.objects.get(task=task).level != "red"
    assert list(Rectification.objects.filter(inspections.state_condition("done"))) == [first]
    assert list(Rectification.objects.filter(inspections.state_condition("open"))) == [second]


def test_the_inspection_page_shows_rectifications_with_state_and_task_link(
        county, make_task, client, django_capture_on_commit_callbacks):
    inspection = record(county)
    with django_capture_on_commit_callbacks(execute=True):
        r = inspections.add_rectification(county.users["supervisor"], inspection, unit=county.units["town_a"],
                                          requirement="修复<围挡>", deadline=D(2026, 11, 25))
    assert Light.objects.filter(task=r.task).exists()
    client.force_login(county.users["supervisor"])
    page = client.get(f"/supervision/inspection/{inspection.pk}/").content.decode()
    assert f'href="/ledger/task/{r.task_id}/"' in page and "ZG-2026-001" in page
    assert 'data-state="overdue">已逾期' in page and "修复&lt;围挡&gt;" in page
    ledger.update_task(county.users["editor_a"], r.task, expected_version=r.task.version, status="closed")
    page = client.get(f"/supervision/inspection/{inspection.pk}/").content.decode()
    assert 'data-state="done">已完成' in page
    api = client.get(f"/api/inspections/{inspection.pk}/").json()
    assert [(x["task_code"], x["state"]) for x in api["rectifications"]] == [("ZG-2026-001", "done")]
    assert client.get("/api/rectifications/?state=done").json()["count"] == 1
    assert client.get("/api/rectifications/?state=open").json()["count"] == 0


def test_a_rectification_through_the_page_and_its_refusals(county, make_task, client):
    a1 = make_task("A1")
    inspection = record(county, links=[(None, a1)])
    url = f"/supervision/inspection/{inspection.pk}/rectification/new/"
    client.force_login(county.users["leader"])  # reads, may not set requirements
    assert client.get(url).status_code == 403
    client.force_login(county.users["supervisor"])
    form = client.get(url).context["form"]
    assert list(form.fields["source_task"].queryset) == [a1]
    before = counts()
    early = client.post(url, {"unit": county.units["town_a"].pk, "requirement": "修复围挡",
                              "deadline": "2026-11-19", "source_task": a1.pk})
    assert early.status_code == 200
    assert "整改时限：整改时限 2026-11-19 早于督查日期 2026-11-20" in early.content.decode()
    wrong_unit = client.post(url, {"unit": county.units["town_b"].pk, "requirement": "修复围挡",
                                   "deadline": "2026-12-19", "source_task": a1.pk})
    assert "所涉任务：白河镇人民政府 不是任务 A1 的牵头单位或配合单位" in wrong_unit.content.decode()
    missing = client.post(url, {"unit": county.units["town_a"].pk, "requirement": "", "deadline": ""})
    assert missing.status_code == 200 and set(missing.context["form"].errors) == {"requirement", "deadline"}
    assert counts() == before
    done = client.post(url, {"unit": county.units["town_a"].pk, "requirement": "修复围挡",
                             "deadline": "2026-12-19", "source_task": a1.pk})
    assert done.status_code == 302
    r = Rectification.objects.get()
    assert (r.unit, r.source_task, r.task.code) == (county.units["town_a"], a1, "ZG-2026-001")


def test_bad_input_names_the_field_and_writes_nothing(county, make_task):
    a1 = make_task("A1")
    foreign = make_task("F1", programme=county.other_programme)
    supervisor = county.users["supervisor"]
    before = counts()

    def columns(call) -> set[str]:
        with pytest.raises(Refused) as exc:
            call()
        return {p.column for p in exc.value.problems}

    assert columns(lambda: record(county, links=[(None, foreign)])) == {"涉及任务"}
    assert columns(lambda: record(county, links=[(county.units["town_b"], a1)])) == {"涉及任务"}
    assert columns(lambda: record(county, place=" ", findings="", inspectors="x" * 301)) == {
        "地点", "发现问题", "参加人员"}
    assert columns(lambda: record(county, held_on=D(2099, 1, 1))) == {"日期"}
    assert columns(lambda: record(county, held_on=None, place="a\x00b")) == {"日期", "地点"}
    assert columns(lambda: record(county, kind="secret")) == {"类型"}
    inspection = record(county)
    before = counts()
    assert columns(lambda: inspections.add_rectification(
        supervisor, inspection, unit=county.units["town_a"], requirement="修复",
        deadline=D(2026, 11, 1))) == {"整改时限"}
    assert columns(lambda: inspections.add_rectification(
        supervisor, inspection, unit=county.units["town_a"], requirement="", deadline=None)) == {"整改要求", "整改时限"}
    assert columns(lambda: inspections.add_rectification(
        supervisor, inspection, unit=county.units["town_a"], requirement="修复", deadline=D(2026, 12, 1),
        source_task=foreign)) == {"所涉任务"}
    assert columns(lambda: inspections.record_accountability(
        supervisor, kind="praise", programme=county.programme, unit=county.units["town_a"], on=None,
        reason="", tasks=[foreign])) == {"类型", "日期", "事由", "所涉任务"}
    assert counts() == before


def test_an_accountability_record_keeps_the_lights_as_they_were(county, make_task, client):
    a1 = make_task("A1", status="in_progress", due_date=D(2026, 6, 1))
    make_task("B1", lead="town_b", status="in_progress", due_date=D(2026, 6, 1))
    recompute(today=D(2026, 7, 1))
    assert Light.objects.get(task=a1).level == "red"
    inspection = record(county)
    supervisor = county.users["supervisor"]
    with pytest.raises(PermissionDenied):
        inspections.record_accountability(county.users["editor_a"], kind="commend", programme=county.programme,
                                          unit=county.units["town_a"], on=D(2026, 11, 30), reason="自己表扬自己")
    rec = inspections.record_accountability(
        supervisor, kind="criticise", programme=county.programme, unit=county.units["town_a"], person="王镇长",
        on=D(2026, 11, 30), reason="A1 超期未完成，通报批评", tasks=[a1, a1], inspection=inspection)
    assert rec.lights == [{"task": a1.pk, "code": "A1", "level": "red", "name": "红灯"}]
    ledger.update_task(county.users["editor_a"], a1, expected_version=a1.version, status="completed")
    recompute(today=D(2026, 7, 2))
    assert Light.objects.get(task=a1).level != "red"
    rec.refresh_from_db()
    assert rec.lights[0]["level"] == "red"  # a snapshot, never recomputed
    assert list(inspections.accountability_for(county.programme, county.units["town_a"], 2026)) == [rec]
    assert not inspections.accountability_for(county.programme, county.units["town_b"]).exists()
    assert not inspections.accountability_for(county.programme, year=2025).exists()

    client.force_login(county.users["editor_a"])  # the unit reads its own record
    page = client.get("/supervision/accountabilities/").content.decode()
    assert "A1 超期未完成，通报批评" in page and "王镇长" in page and "红灯" in page
    assert f'/supervision/inspection/{inspection.pk}/' not in page  # it cannot read the inspection
    assert client.get("/supervision/accountabilities/new/").status_code == 403
    client.force_login(county.users["editor_b"])
    assert "A1 超期未完成" not in client.get("/supervision/accountabilities/").content.decode()
    assert client.get("/api/accountabilities/").json()["count"] == 0

    client.force_login(supervisor)  # the form, opened from the inspection
    form = client.get(f"/supervision/accountabilities/new/?inspection={inspection.pk}&programme=ZDZ2026")
    assert form.context["form"].initial["inspection"] == inspection.pk
    response = client.post("/supervision/accountabilities/new/", {
        "kind": "interview", "programme": county.programme.pk, "unit": county.units["town_b"].pk,
        "person": "", "on": "2026-11-30", "reason": "B1 超期", "tasks": "B1, NOPE"})
    assert response.status_code == 200 and "没有任务编号 NOPE" in response.content.decode()
    response = client.post("/supervision/accountabilities/new/", {
        "kind": "interview", "programme": county.programme.pk, "unit": county.units["town_b"].pk,
        "person": "", "on": "2026-11-30", "reason": "B1 超期", "tasks": "B1"})
    assert response.status_code == 302
    interview = Accountability.objects.get(kind="interview")
    assert interview.lights[0]["code"] == "B1" and interview.recorded_by == supervisor
    page = client.get("/supervision/accountabilities/?kind=interview").content.decode()
    assert "B1 超期" in page and "A1 超期未完成" not in page


def test_the_investigation_months_are_a_warning_not_a_refusal(county, client, settings):
    assert [inspections.rota(m) for m in (1, 2, 11, 12)] == ["npc", "cppcc", "npc", "cppcc"]
    with pytest.raises(ValueError):
        inspections.rota(13)
    october = record(county, "inspector", kind="npc", held_on=D(2026, 10, 15))  # an even month
    assert inspections.off_rota(october)
    assert not inspections.off_rota(record(county, "inspector", kind="cppcc", held_on=D(2026, 10, 15)))
    assert not inspections.off_rota(record(county, "inspector", kind="npc", held_on=NOV))
    assert not inspections.off_rota(record(county, kind="unannounced", held_on=D(2026, 10, 15)))
    client.force_login(county.users["inspector"])
    page = client.get(f"/supervision/inspection/{october.pk}/").content.decode()
    assert "注意：10月不是人大代表调研的月份" in page
    assert client.get("/supervision/inspections/").content.decode().count("非本月轮值") == 1
    api = {i["id"]: i["off_rota"] for i in client.get("/api/inspections/").json()["results"]}
    assert api[october.pk] is True and sum(api.values()) == 1
    settings.CHENGZHEN_INVESTIGATION_MONTHS = {"npc": "even", "cppcc": "odd"}
    assert not inspections.off_rota(october) and inspections.rota(1) == "cppcc"


def test_the_api_creates_and_lists_with_permissions(county, make_task, client):
    a1 = make_task("A1", coop=("dept",))
    foreign = make_task("F1", programme=county.other_programme)
    body = {"kind": "unannounced", "programme": "ZDZ2026", "held_on": "2026-11-20", "place": "老街",
            "inspectors": "督查室", "findings": "围挡破损", "links": [{"task": a1.pk}, {"unit": "ZJJ", "task": a1.pk},
                                                                   {"unit": "411300102000"}]}
    client.force_login(county.users["supervisor"])
    created = client.post("/api/inspections/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert [(li["unit"], li["task_code"]) for li in data["links"]] == [
        ("411300101000", "A1"), ("ZJJ", "A1"), ("411300102000", None)]
    assert data["off_rota"] is False and data["photos"] == [] and created["ETag"] == '"1"'
    before = counts()
    bad = client.post("/api/inspections/", {**body, "links": [{"task": foreign.pk}]}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "涉及任务"
    missing = client.post("/api/inspections/", {"kind": "npc"}, content_type="application/json")
    assert missing.status_code == 400
    assert {e["field"] for e in missing.json()["errors"]} >= {"programme", "held_on", "place", "findings"}
    for query in ("?kind=x", "?programme=a%00"):
        assert client.get(f"/api/inspections/{query}").status_code == 400, query
    assert counts() == before

    inspection_id = data["id"]
    client.force_login(county.users["inspector"])
    rect = client.post("/api/rectifications/", {"inspection": inspection_id, "unit": "411300101000",
                                                "requirement": "修复围挡", "deadline": "2026-12-31"},
                       content_type="application/json")
    assert rect.status_code == 403  # an unannounced visit is the supervisors' to follow up
    client.force_login(county.users["supervisor"])
    early = client.post("/api/rectifications/", {"inspection": inspection_id, "unit": "411300101000",
                                                 "requirement": "修复围挡", "deadline": "2026-11-01"},
                        content_type="application/json")
    assert early.status_code == 400 and early.json()["errors"][0]["field"] == "整改时限"
    rect = client.post("/api/rectifications/", {"inspection": inspection_id, "unit": "411300101000",
                                                "requirement": "修复围挡", "deadline": "2026-12-31",
                                                "source_task": a1.pk}, content_type="application/json")
    assert rect.status_code == 201 and rect.json()["state"] == "open" and rect.json()["task_code"] == "ZG-2026-001"
    acc = client.post("/api/accountabilities/", {"kind": "commend", "programme": "ZDZ2026", "unit": "ZJJ",
                                                 "on": "2026-11-30", "reason": "配合有力", "tasks": [a1.pk],
                                                 "inspection": inspection_id}, content_type="application/json")
    assert acc.status_code == 201, acc.json()
    assert acc.json()["lights"] == [{"task": a1.pk, "code": "A1", "level": "", "name": ""}]
    assert client.get("/api/accountabilities/?unit=ZJJ&year=2026&kind=commend").json()["count"] == 1
    assert client.get("/api/accountabilities/?year=2025").json()["count"] == 0
    assert client.get("/api/accountabilities/?year=abc").status_code == 400
    assert client.get(f"/api/rectifications/?inspection={inspection_id}").json()["count"] == 1

    client.force_login(county.users["leader"])
    assert client.get("/api/inspections/?kind=unannounced&programme=ZDZ2026").json()["count"] == 1
    assert client.get("/api/inspections/?programme=MLCZ2026").json()["count"] == 0
    assert client.post("/api/inspections/", body, content_type="application/json").status_code == 403
    client.force_login(county.users["editor_a"])
    assert client.get("/api/inspections/").json()["count"] == 0
    assert [r["task_code"] for r in client.get("/api/rectifications/").json()["results"]] == ["ZG-2026-001"]
    refused = client.post("/api/rectifications/", {"inspection": inspection_id, "unit": "411300101000",
                                                   "requirement": "x", "deadline": "2026-12-31"},
                          content_type="application/json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "inspection"  # unseen
    assert client.post("/api/accountabilities/", {"kind": "commend", "programme": "ZDZ2026",
                                                  "unit": "411300101000", "on": "2026-11-30", "reason": "x"},
                       content_type="application/json").status_code == 403
    assert client.get("/api/accountabilities/").json()["count"] == 0  # 住建局's record is not town_a's
    client.force_login(county.users["editor_dept"])
    assert client.get("/api/accountabilities/").json()["count"] == 1


def test_the_admin_shows_the_five_models(county, make_task, client):
    a1 = make_task("A1")
    inspection = record(county, links=[(None, a1)])
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(buf, "PNG")
    photo = inspections.attach_photo(county.users["supervisor"], inspection, buf.getvalue(), "图.png")
    r = inspections.add_rectification(county.users["supervisor"], inspection, unit=county.units["town_a"],
                                      requirement="修复", deadline=D(2026, 12, 31))
    acc = inspections.record_accountability(county.users["supervisor"], kind="adjust", programme=county.programme,
                                            unit=county.units["town_a"], on=D(2026, 11, 30), reason="调整分管领导")
    client.force_login(county.users["admin"])
    pages = {"inspection": inspection.pk, "inspectionlink": inspection.links.get().pk,
             "inspectionphoto": photo.pk, "rectification": r.pk, "accountability": acc.pk}
    for model, pk in pages.items():
        assert client.get(f"/admin/supervision/{model}/").status_code == 200, model
        assert client.get(f"/admin/supervision/{model}/{pk}/change/").status_code == 200, model
    assert client.post(f"/admin/supervision/rectification/{r.pk}/change/", {}).status_code == 403


def test_an_admin_link_must_name_a_task_of_the_inspections_programme(county, make_task, client):
    a1 = make_task("A1")
    foreign = make_task("F1", programme=county.other_programme)
    inspection = record(county)
    client.force_login(county.users["admin"])
    url = f"/admin/supervision/inspection/{inspection.pk}/change/"
    data = {"kind": "unannounced", "programme": county.programme.pk, "held_on": "2026-11-20", "place": "老街",
            "inspectors": "张三", "findings": "围挡破损", "expected_version": inspection.version,
            "links-TOTAL_FORMS": 1, "links-INITIAL_FORMS": 0, "links-0-unit": county.units["town_b"].pk,
            "links-0-task": a1.pk, "photos-TOTAL_FORMS": 0, "photos-INITIAL_FORMS": 0}
    page = client.post(url, data)
    assert page.status_code == 200 and "白河镇人民政府 不是任务 A1 的牵头单位或配合单位" in page.content.decode()
    page = client.post(url, {**data, "links-0-unit": county.units["town_a"].pk, "links-0-task": foreign.pk})
    assert page.status_code == 200 and "任务 F1 不在该督查调研的工作计划中" in page.content.decode()
    assert not InspectionLink.objects.exists()
    done = client.post(url, {**data, "links-0-unit": county.units["town_a"].pk})
    assert done.status_code == 302
    assert list(InspectionLink.objects.values_list("task__code", flat=True)) == ["A1"]
    # an inspector may not turn an investigation into an unannounced visit
    npc = record(county, "inspector", kind="npc")
    inspector = county.users["inspector"]
    inspector.is_staff = True
    inspector.save()
    client.force_login(inspector)
    changed = client.post(f"/admin/supervision/inspection/{npc.pk}/change/", {
        **data, "expected_version": npc.version, "links-TOTAL_FORMS": 0})
    assert changed.status_code == 403
    npc.refresh_from_db()
    assert npc.kind == "npc"


def test_list_queries_do_not_grow_with_the_rows(county, make_task, client, django_assert_max_num_queries):
    supervisor = county.users["supervisor"]
    for i in range(12):
        task = make_task(f"Q{i:02d}", coop=("dept",))
        inspection = record(county, links=[(None, task), (county.units["dept"], task)])
        inspections.add_rectification(supervisor, inspection, unit=county.units["town_a"], requirement="修复",
                                      deadline=D(2026, 12, 31), source_task=task)
        inspections.record_accountability(supervisor, kind="commend", programme=county.programme,
                                          unit=county.units["town_a"], on=D(2026, 11, 30), reason="好",
                                          tasks=[task], inspection=inspection)
    client.force_login(supervisor)
    for url in ("/api/inspections/", "/api/rectifications/", "/api/accountabilities/",
                "/supervision/inspections/", "/supervision/accountabilities/"):
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200, url
    one = Inspection.objects.first()
    with django_assert_max_num_queries(16):
        assert client.get(f"/supervision/inspection/{one.pk}/").status_code == 200
