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
