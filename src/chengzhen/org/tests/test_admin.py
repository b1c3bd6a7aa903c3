"""The admin goes through the same permission function and audit, and refuses stale edits."""

from __future__ import annotations

import json

import pytest

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger.models import Task


def staff(county, name):
    user = county.users[name]
    user.is_staff = True
    user.save()
    return user


def task_form(task, **changes) -> dict:
    data = {
        "programme": task.programme_id, "code": task.code, "seq": task.seq, "name": task.name,
        "category": task.category, "requirement": task.requirement,
        "responsible_leader": task.responsible_leader, "lead_unit": task.lead_unit_id,
        "responsible_person": task.responsible_person,
        "responsible_phone": task.responsible_phone, "responsible_user": "",
        "start_date": task.start_date.isoformat(), "due_date": task.due_date.isoformat(),
        "weight": "", "planned_total_investment": str(task.planned_total_investment),
        "opening_completed_investment": str(task.opening_completed_investment),
        "status": task.status, "notes": task.notes, "parent": "",
        "expected_version": task.version,
    }
    for prefix in ("cooperations", "annual_plans", "time_nodes"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0,
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
    data.update(changes)
    return data


def url(task) -> str:
    return f"/admin/ledger/task/{task.pk}/change/"


def test_admin_edit_is_audited_under_the_user(county, make_task, client):
    task = make_task("A1")
    client.force_login(staff(county, "supervisor"))
    response = client.post(url(task), task_form(task, name="经后台修改"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Task.objects.get(pk=task.pk).name == "经后台修改"
    record = AuditRecord.objects.filter(model="ledger.task", action="update").get()
    body = json.loads(record.content)
    assert record.actor_username == "supervisor"
    assert body["source"].startswith("request:") and "/admin/ledger/task/" in body["source"]


def test_admin_refuses_a_stale_edit(county, make_task, client):
    task = make_task("A1")
    opened = task_form(task, name="我的修改")
    task.notes = "别人先改了"
    task.save()  # version 2
    client.force_login(staff(county, "supervisor"))
    response = client.post(url(task), opened)
    assert response.status_code == 200
    assert "已被他人修改" in response.content.decode()
    task.refresh_from_db()
    assert (task.name, task.notes) == ("任务A1", "别人先改了")


def test_admin_hides_other_units_tasks(county, make_task, client):
    mine, theirs = make_task("A1", lead="town_b"), make_task("B1", lead="town_a")
    client.force_login(staff(county, "editor_b"))
    listing = client.get("/admin/ledger/task/").content.decode()
    assert "A1" in listing and "任务B1" not in listing
    assert client.get(url(theirs)).status_code in (302, 403, 404)
    response = client.post(url(theirs), task_form(theirs, name="越权修改"))
    assert response.status_code in (302, 403, 404)
    assert Task.objects.get(pk=theirs.pk).name == "任务B1"
    assert client.get(url(mine)).status_code == 200


@pytest.mark.parametrize("who", ["leader", "inspector"])
def test_read_only_roles_cannot_change(county, make_task, client, who):
    task = make_task("A1")
    client.force_login(staff(county, who))
    client.post(url(task), task_form(task, name="只读角色修改"))
    assert Task.objects.get(pk=task.pk).name == "任务A1"


def test_audit_log_is_read_only_even_for_administrators(county, client):
    admin = staff(county, "admin")
    client.force_login(admin)
    assert client.get("/admin/audit/auditrecord/").status_code == 200
    seq = AuditRecord.objects.first().seq
    assert client.post(f"/admin/audit/auditrecord/{seq}/delete/", {"post": "yes"}).status_code == 403
    assert AuditRecord.objects.filter(seq=seq).exists()


# ---- who may enter ---------------------------------------------------------------------------

def test_who_may_enter_the_admin(county, client):
    from chengzhen.org.models import User

    admin_member = county.users["admin"]  # an admin membership, not staff
    assert not admin_member.is_staff
    client.force_login(admin_member)
    assert client.get("/admin/").status_code == 200
    client.force_login(User.objects.create_user(username="boss", password="x",
                                                is_superuser=True))  # superuser, not staff
    assert client.get("/admin/").status_code == 200
    client.force_login(staff(county, "editor_a"))  # staff with a role
    assert client.get("/admin/").status_code == 200
    client.force_login(county.users["editor_b"])  # a role but not staff
    assert client.get("/admin/").status_code == 302
    roleless = User.objects.create_user(username="clerk", password="x", is_staff=True)
    client.force_login(roleless)  # staff without any role
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/ledger/task/").status_code == 302


def test_admin_login_form_admits_administrators_by_membership(county, client):
    response = client.post("/admin/login/?next=/admin/",
                           {"username": "admin", "password": "pw-admin"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    refused = client.post("/admin/login/", {"username": "editor_b", "password": "pw-editor_b"})
    assert refused.status_code == 200  # a role alone is not enough: staff too


def test_menu_follows_the_permission_function(county, client):
    client.force_login(staff(county, "leader"))
    index = client.get("/admin/").content.decode()
    assert "/admin/ledger/task/" in index and "/admin/programmes/programme/" in index
    assert "/admin/org/user/" not in index and "/admin/org/membership/" not in index
    assert client.get("/admin/org/user/").status_code == 403
    assert client.get("/admin/ledger/task/add/").status_code == 403


def test_units_are_the_directory_readable_by_staff_changed_by_administrators(county, client):
    client.force_login(staff(county, "editor_a"))
    listing = client.get("/admin/org/unit/").content.decode()
    assert "青山村村民委员会" in listing and "白河镇人民政府" in listing
    town_b = county.units["town_b"]
    page = client.get(f"/admin/org/unit/{town_b.pk}/change/")
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # read-only
    before = town_b.name
    client.post(f"/admin/org/unit/{town_b.pk}/change/", {"name": "改名", "code": town_b.code})
    town_b.refresh_from_db()
    assert town_b.name == before


# ---- saves: audited, re-checked, validated ------------------------------------------------

def test_admin_create_is_audited_and_rechecked(county, make_task, client):
    editor = staff(county, "editor_a")
    client.force_login(editor)
    task = make_task("TMP")
    data = task_form(task, code="NEW1", name="后台新建")
    data.pop("expected_version")
    response = client.post("/admin/ledger/task/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Task.objects.get(code="NEW1")
    record = AuditRecord.objects.get(model="ledger.task", object_pk=str(created.pk))
    assert (record.action, record.actor_id) == ("create", editor.pk)
    # a task led by another unit is refused on save, and nothing is written
    before = AuditRecord.objects.count()
    data = dict(data, code="NEW2", lead_unit=county.units["town_b"].pk)
    response = client.post("/admin/ledger/task/add/", data)
    assert response.status_code == 403
    assert not Task.objects.filter(code="NEW2").exists()
    assert AuditRecord.objects.count() == before


def test_admin_applies_the_ledger_rules(county, make_task, client):
    top = make_task("TOP")
    child = make_task("TOP-1", parent=top)
    task = make_task("A1")
    client.force_login(staff(county, "supervisor"))
    response = client.post(url(task), task_form(task, parent=child.pk))
    assert response.status_code == 200
    assert "台账只有两级" in response.content.decode()
    assert Task.objects.get(pk=task.pk).parent_id is None


def test_admin_inline_change_is_audited_under_the_user(county, make_task, client):
    task = make_task("A1")
    supervisor = staff(county, "supervisor")
    client.force_login(supervisor)
    data = task_form(task)
    data.update({"cooperations-TOTAL_FORMS": 1, "cooperations-0-unit": county.units["dept"].pk,
                 "cooperations-0-seq": 0, "cooperations-0-task": task.pk})
    response = client.post(url(task), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    record = AuditRecord.objects.get(model="ledger.cooperation", action="create")
    assert record.actor_id == supervisor.pk and record.source.startswith("request:")


def test_inlines_are_read_only_where_the_task_is(county, make_task, client):
    task = make_task("A1", lead="town_b", coop=("town_a",))
    client.force_login(staff(county, "editor_a"))  # cooperates: may read, not edit
    page = client.get(url(task))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name"' not in html  # the task form is read-only
    assert "青山镇人民政府" in html  # the cooperating unit is shown …
    assert 'name="cooperations-0-unit"' not in html  # … but not as a field


def test_stale_edit_without_a_version_is_refused(county, make_task, client):
    task = make_task("A1")
    data = task_form(task, name="无版本号")
    data.pop("expected_version")
    client.force_login(staff(county, "supervisor"))
    response = client.post(url(task), data)
    assert response.status_code == 200 and "缺少打开时的版本号" in response.content.decode()
    assert Task.objects.get(pk=task.pk).name == "任务A1"


def test_programme_admin(county, client):
    programme = county.programme
    form = {"code": programme.code, "name": "2026年重点镇建设（修订）", "kind": programme.kind,
            "start_date": "2026-01-01", "end_date": "2026-12-31",
            "owner_unit": programme.owner_unit_id, "reporting_cycle": "monthly",
            "reporting_day": 20, "description": "", "expected_version": programme.version,
            "phases-TOTAL_FORMS": 0, "phases-INITIAL_FORMS": 0, "phases-MIN_NUM_FORMS": 0,
            "phases-MAX_NUM_FORMS": 1000}
    change = f"/admin/programmes/programme/{programme.pk}/change/"
    client.force_login(staff(county, "editor_a"))
    client.post(change, dict(form, name="越权修改"))
    programme.refresh_from_db()
    assert programme.name == "2026年重点镇建设"
    supervisor = staff(county, "supervisor")
    client.force_login(supervisor)
    assert client.post(change, form).status_code == 302
    programme.refresh_from_db()
    assert (programme.name, programme.reporting_day) == ("2026年重点镇建设（修订）", 20)
    record = AuditRecord.objects.filter(model="programmes.programme", action="update").get()
    assert record.actor_id == supervisor.pk


def test_reports_are_read_only_in_the_admin(county, make_task, client):
    from chengzhen.ledger import services
    from chengzhen.ledger.models import ProgressReport

    task = make_task("R1")
    services.submit_report(county.users["editor_a"], task, period="2026-05",
                           unit=county.units["town_a"], physical_progress="10")
    report = ProgressReport.objects.get()
    client.force_login(staff(county, "admin"))
    assert client.get(f"/admin/ledger/progressreport/{report.pk}/change/").status_code == 200
    assert client.post(f"/admin/ledger/progressreport/{report.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert client.get("/admin/ledger/progressreport/add/").status_code == 403
    assert ProgressReport.objects.filter(pk=report.pk).exists()
    listing = client.get("/admin/ledger/task/?lagging=1")  # computed columns and filter
    assert listing.status_code == 200 and "R1" in listing.content.decode()
