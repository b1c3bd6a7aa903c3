"""Ledger pages through the real HTTP paths: filters, task page, report form, permissions."""

from __future__ import annotations

import datetime as dt

import pytest

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger.models import ProgressReport, TimeNode


@pytest.fixture
def tasks(county, make_task):
    made = {
        "a": make_task("A1", lead="town_a", coop=("dept",), category="基础设施",
                       requirement="镇区道路“白改黑”", responsible_person="王建国",
                       due_date=dt.date(2026, 12, 31)),
        "a2": make_task("A2", lead="village_a", category="公共服务", status="completed"),
        "b": make_task("B1", lead="town_b", due_date=dt.date(2026, 3, 31)),
    }
    TimeNode.objects.create(task=made["a"], seq=1, name="开工", planned_date=dt.date(2026, 3, 1))
    return made


def login(client, county, name):
    client.force_login(county.users[name])
    return client


def codes(response) -> list[str]:
    return [t.code for t in response.context["page"].object_list]


def test_login_page_and_lockout(county, client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    assert client.get("/").status_code == 302  # to the login page
    for _ in range(3):
        response = client.post("/login/", {"username": "editor_a", "password": "wrong"})
        assert "请输入正确的" in response.content.decode() or response.status_code == 200
    response = client.post("/login/", {"username": "editor_a", "password": "pw-editor_a"})
    assert "已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    admin_login = client.post("/admin/login/", {"username": "editor_a", "password": "pw-editor_a"})
    assert "已锁定" in admin_login.content.decode()  # the admin's login is no way around it
    actions = list(AuditRecord.objects.filter(actor_username="editor_a").values_list(
        "action", flat=True))
    assert actions == ["login_failed"] * 3 + ["login_locked"] * 2
    response = client.post("/login/", {"username": "editor_b", "password": "pw-editor_b"})
    assert response.status_code == 302 and client.session["_auth_user_id"]


def test_one_address_spraying_many_usernames_is_refused(county, client, settings):
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10, 4
    for name in ("editor_a", "editor_b", "leader", "nobody"):
        client.post("/login/", {"username": name, "password": "wrong"}, REMOTE_ADDR="10.1.1.1")
    refused = client.post("/login/", {"username": "supervisor", "password": "pw-supervisor"},
                          REMOTE_ADDR="10.1.1.1")
    assert "该地址登录失败次数过多" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    locked = AuditRecord.objects.filter(action="login_locked").get()
    assert '"address":"10.1.1.1"' in locked.content
    # another address is not held back by that one
    other = client.post("/login/", {"username": "supervisor", "password": "pw-supervisor"},
                        REMOTE_ADDR="10.2.2.2")
    assert other.status_code == 302 and client.session["_auth_user_id"]


def test_list_filters_in_the_database(county, tasks, client):
    login(client, county, "supervisor")
    assert codes(client.get("/ledger/")) == ["A1", "A2", "B1"]
    assert codes(client.get("/ledger/?unit=411300101000")) == ["A1", "A2"]  # town and village
    assert codes(client.get("/ledger/?status=completed")) == ["A2"]
    assert codes(client.get("/ledger/?q=白改黑")) == ["A1"]
    assert codes(client.get("/ledger/?q=a1")) == ["A1"]  # case-insensitive on both databases
    assert codes(client.get("/ledger/?category=公共服务")) == ["A2"]
    assert codes(client.get("/ledger/?person=王建国")) == ["A1"]
    assert codes(client.get("/ledger/?sort=due")) == ["B1", "A1", "A2"]
    bad = client.get("/ledger/?status=whatever&due_within=abc&sort=evil")
    assert bad.status_code == 200
    assert set(bad.context["f"].errors) == {"status", "due_within", "sort"}


def test_editor_sees_only_its_tasks(county, tasks, client):
    login(client, county, "editor_b")
    assert codes(client.get("/ledger/")) == ["B1"]
    assert client.get(f"/ledger/task/{tasks['a'].pk}/").status_code == 404
    assert client.get(f"/ledger/task/{tasks['a'].pk}/report/").status_code == 404
    node = TimeNode.objects.get()
    assert client.post(f"/ledger/node/{node.pk}/done/", {"done_on": "2026-03-02"}).status_code == 403
    assert TimeNode.objects.get().done_on is None


def test_task_page_shows_history(county, tasks, client):
    login(client, county, "editor_a")
    page = client.get(f"/ledger/task/{tasks['a'].pk}/").content.decode()
    assert "镇区道路“白改黑”" in page and "县住房和城乡建设局" in page and "开工" in page
    assert "变更记录" in page and "ledger.task:" in page


def test_report_form_submits_and_corrects(county, tasks, client):
    login(client, county, "editor_dept")  # a cooperating unit reports for itself
    url = f"/ledger/task/{tasks['a'].pk}/report/"
    form = client.get(url).context["form"]
    assert [c for c, _ in form.fields["unit"].choices] == ["ZJJ"]
    period = form.fields["period"].choices[0][0]
    data = {"period": period, "unit": "ZJJ", "physical_progress": "40",
            "investment_wan": "12.5", "progress_text": "完成审批"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, {**data, "physical_progress": "45"})
    assert "如需更正" in again.content.decode()
    assert client.post(url, {**data, "physical_progress": "45", "supersede": "on"}).status_code == 302
    reports = ProgressReport.objects.filter(task=tasks["a"]).order_by("submitted_at")
    assert [(r.physical_progress, r.is_current) for r in reports] == [(40, False), (45, True)]
    assert reports[0].investment == 125000
    bad = client.post(url, {**data, "physical_progress": "140", "investment_wan": "-1"})
    assert bad.status_code == 200 and ProgressReport.objects.filter(task=tasks["a"]).count() == 2


def test_node_completion(county, tasks, client):
    login(client, county, "editor_a")
    node = TimeNode.objects.get()
    client.post(f"/ledger/node/{node.pk}/done/", {"done_on": "2026-03-02"})
    assert TimeNode.objects.get().done_on == dt.date(2026, 3, 2)
    response = client.post(f"/ledger/node/{node.pk}/done/", {"done_on": "下个月"}, follow=True)
    assert "无法识别" in response.content.decode()


def test_list_and_detail_query_counts_do_not_grow(county, make_task, client,
                                                   django_assert_max_num_queries):
    for i in range(60):
        make_task(f"Q{i:02d}", coop=("dept", "town_b"))
    login(client, county, "supervisor")
    with django_assert_max_num_queries(11):  # incl. the lights for its filter, the unread count
        client.get("/ledger/?sort=lag")
    with django_assert_max_num_queries(15):  # a fixed set: lists, counts, the unit table, its light levels
        client.get("/")


def test_money_is_shown_in_wan(county, tasks, client):
    from chengzhen.ledger.templatetags.ledger_format import wan

    assert wan("2033042.41000000") == "203.30万元" and wan(None) == "—"
    login(client, county, "editor_a")
    page = client.get(f"/ledger/task/{tasks['a'].pk}/").content.decode()
    assert "100.00万元" in page  # planned total investment 1,000,000 yuan
