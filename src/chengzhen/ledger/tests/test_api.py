"""The REST API: tokens, the same permission function and filters, ETag/If-Match, JSON errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger.models import ProgressReport, Task, TimeNode


@pytest.fixture
def api(county):
    def as_user(name: str | None) -> APIClient:
        client = APIClient()
        if name:
            token, _ = Token.objects.get_or_create(user=county.users[name])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client
    return as_user


@pytest.fixture
def tasks(make_task):
    a = make_task("A1", coop=("dept",), category="基础设施")
    b = make_task("B1", lead="town_b")
    TimeNode.objects.create(task=a, seq=1, name="开工", planned_date=dt.date(2026, 3, 1))
    return {"a": a, "b": b}


def test_anonymous_is_refused_with_json(api, tasks):
    response = api(None).get("/api/tasks/")
    assert response.status_code in (401, 403) and "detail" in response.json()


def test_list_is_restricted_and_filtered(api, tasks):
    assert [t["code"] for t in api("editor_b").get("/api/tasks/").json()["results"]] == ["B1"]
    rows = api("supervisor").get("/api/tasks/?category=基础设施").json()["results"]
    assert [t["code"] for t in rows] == ["A1"]
    assert rows[0]["cooperating_units"] == ["ZJJ"] and rows[0]["lead_unit"] == "411300101000"
    bad = api("supervisor").get("/api/tasks/?status=nope&sort=evil")
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"status", "sort"}


@pytest.mark.parametrize("who,own,other", [
    ("editor_a", 200, 404), ("editor_b", 404, 200), ("leader", 200, 200),
    ("inspector", 200, 200), ("supervisor", 200, 200), ("editor_dept", 200, 404),
])
def test_read_permissions_per_role(api, tasks, who, own, other):
    client = api(who)
    assert client.get(f"/api/tasks/{tasks['a'].pk}/").status_code == own
    assert client.get(f"/api/tasks/{tasks['b'].pk}/").status_code == other
    assert client.get(f"/api/tasks/{tasks['a'].pk}/reports/").status_code == own


def test_etag_and_if_match(api, tasks):
    client = api("editor_a")
    url = f"/api/tasks/{tasks['a'].pk}/"
    got = client.get(url)
    assert got["ETag"] == '"1"'
    assert client.patch(url, {"name": "无条件修改"}, format="json").status_code == 428
    ok = client.patch(url, {"name": "经 API 修改"}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200 and ok["ETag"] == '"2"' and ok.json()["name"] == "经 API 修改"
    stale = client.patch(url, {"name": "过期的修改"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and "detail" in stale.json()
    assert Task.objects.get(pk=tasks["a"].pk).name == "经 API 修改"
    record = AuditRecord.objects.filter(model="ledger.task", action="update").get()
    assert record.actor_username == "editor_a"
    assert json.loads(record.content)["source"].startswith("request:")


def test_refused_edits_are_4xx_json(api, tasks):
    client = api("editor_a")
    url = f"/api/tasks/{tasks['a'].pk}/"
    bad_json = client.generic("PATCH", url, "{not json", content_type="application/json",
                              HTTP_IF_MATCH='"1"')
    assert bad_json.status_code == 400 and "detail" in bad_json.json()
    wrong_type = client.patch(url, {"due_date": "下个月", "weight": "重"}, format="json",
                              HTTP_IF_MATCH='"1"')
    assert wrong_type.status_code == 400
    assert {e["field"] for e in wrong_type.json()["errors"]} == {"due_date", "weight"}
    rule = client.patch(url, {"due_date": "2025-01-01"}, format="json", HTTP_IF_MATCH='"1"')
    assert rule.status_code == 400 and "早于开始时间" in rule.json()["detail"]
    other = api("editor_b").patch(f"/api/tasks/{tasks['a'].pk}/", {"name": "x"}, format="json",
                                  HTTP_IF_MATCH='"1"')
    assert other.status_code == 404
    leader = api("leader").patch(url, {"name": "x"}, format="json", HTTP_IF_MATCH='"1"')
    assert leader.status_code == 403
    assert Task.objects.get(pk=tasks["a"].pk).version == 1


def test_report_and_node_through_the_api(api, tasks):
    url = f"/api/tasks/{tasks['a'].pk}/reports/"
    created = api("editor_dept").post(url, {"period": "2026-05", "unit": "ZJJ",
                                            "physical_progress": "30"}, format="json")
    assert created.status_code == 201 and created.json()["reporting_unit"] == "ZJJ"
    again = api("editor_dept").post(url, {"period": "2026-05", "unit": "ZJJ",
                                          "physical_progress": "35"}, format="json")
    assert again.status_code == 400
    wrong_unit = api("editor_dept").post(url, {"period": "2026-05", "unit": "411300101000",
                                               "physical_progress": "35"}, format="json")
    assert wrong_unit.status_code == 403
    assert ProgressReport.objects.count() == 1
    node = TimeNode.objects.get()
    assert api("editor_b").post(f"/api/time-nodes/{node.pk}/done/", {"done_on": "2026-03-02"},
                                format="json").status_code == 404
    done = api("editor_a").post(f"/api/time-nodes/{node.pk}/done/", {"done_on": "2026-03-02"},
                                format="json")
    assert done.status_code == 200 and done.json()["done_on"] == "2026-03-02"
    history = api("supervisor").get(f"/api/tasks/{tasks['a'].pk}/audit/").json()["results"]
    assert history and history[-1]["content"]["action"] == "create"


def test_reference_data_and_people_are_limited(api, county, tasks):
    client = api("editor_a")
    people = client.get("/api/people/").json()["results"]
    assert set(people[0]) == {"username", "full_name", "unit"}
    assert client.get("/api/units/ZJJ/").json()["name"] == "县住房和城乡建设局"
    assert client.get("/api/programmes/ZDZ2026/").status_code == 200


def test_openapi_document_is_served(api, tasks):
    response = api("editor_a").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    doc = json.loads(response.content)
    assert doc["openapi"].startswith("3.") and "/api/tasks/{id}/" in doc["paths"]


def test_list_query_count_does_not_grow(api, make_task, django_assert_max_num_queries):
    for i in range(40):
        make_task(f"Q{i:02d}", coop=("dept", "town_b"))
    client = api("supervisor")
    with django_assert_max_num_queries(8):
        assert client.get("/api/tasks/").status_code == 200


ENDPOINTS = [
    "/api/tasks/{task}/", "/api/tasks/{task}/reports/", "/api/tasks/{task}/audit/",
    "/api/tasks/{task}/time-nodes/", "/api/reports/{report}/", "/api/time-nodes/{node}/",
    "/api/evidence/{evidence}/",
]
ROLES = {  # who may read a task led by 青山镇 (own) and one led by 白河镇 (other)
    "admin": (200, 200), "supervisor": (200, 200), "leader": (200, 200),
    "inspector": (200, 200), "editor_a": (200, 404), "editor_b": (404, 200),
}


@pytest.fixture
def records(county, tasks):
    from chengzhen.ledger import services

    out = {}
    for key, unit in (("a", "town_a"), ("b", "town_b")):
        task = tasks[key]
        report = services.submit_report(county.users["admin"], task, period="2026-05",
                                        unit=county.units[unit], physical_progress=10)
        evidence = services.attach_evidence(county.users["admin"], report, b"%PDF-1.7 x",
                                            "验收.pdf")
        node = TimeNode.objects.create(task=task, seq=9, name="验收",
                                       planned_date=dt.date(2026, 9, 1))
        out[key] = {"task": task.pk, "report": report.pk, "node": node.pk,
                    "evidence": evidence.pk}
    return out


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_read_matrix_role_by_endpoint(api, records, role, endpoint):
    client = api(role)
    own, other = ROLES[role]
    assert client.get(endpoint.format(**records["a"])).status_code == own
    assert client.get(endpoint.format(**records["b"])).status_code == other


def test_org_endpoints_follow_the_permission_function(api, county):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from chengzhen.org.models import User
    from chengzhen.programmes.models import Target

    Target.objects.create(programme=county.programme, level="annual", name="道路",
                          subject_unit=county.units["town_a"])
    Target.objects.create(programme=county.other_programme, level="annual", name="风貌",
                          subject_unit=county.units["town_a"])
    limited = api("editor_a_p1")  # a liaison limited to the first programme
    assert [p["code"] for p in limited.get("/api/programmes/").json()["results"]] == ["ZDZ2026"]
    assert limited.get("/api/programmes/MLCZ2026/").status_code == 404
    assert [t["name"] for t in limited.get("/api/targets/").json()["results"]] == ["道路"]
    assert len(api("editor_a").get("/api/targets/").json()["results"]) == 2
    # the directory: every unit, for any role (task records name units across the county)
    assert limited.get("/api/units/411300102000/").status_code == 200
    # someone without any role sees nothing, not even the directory
    roleless = User.objects.create_user(username="visitor", password="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=roleless).key}")
    for path in ("/api/divisions/", "/api/units/", "/api/people/", "/api/programmes/",
                 "/api/targets/", "/api/tasks/", "/api/reports/"):
        response = client.get(path)
        assert response.status_code == 200 and response.json()["results"] == [], path


LIST_ENDPOINTS = ["/api/tasks/", "/api/tasks/?lagging=1&sort=lag", "/api/reports/",
                  "/api/units/", "/api/people/", "/api/divisions/", "/api/programmes/",
                  "/api/targets/", "/api/tasks/{task}/reports/", "/api/tasks/{task}/audit/",
                  "/api/tasks/{task}/time-nodes/"]


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_every_list_endpoint_has_a_fixed_query_count(api, county, make_task, path,
                                                     django_assert_max_num_queries):
    """Ten rows or forty: the same handful of queries (no query per row)."""
    from chengzhen.ledger import services
    from chengzhen.org.models import User
    from chengzhen.programmes.models import Target

    def grow(n: int, start: int) -> int:
        task = None
        for i in range(start, start + n):
            task = make_task(f"N{i:03d}", coop=("dept", "town_b"))
            report = services.submit_report(county.users["admin"], task, period="2026-05",
                                            unit=county.units["town_a"], physical_progress=i % 90)
            services.attach_evidence(county.users["admin"], report, b"%PDF-1.7 x", f"{i}.pdf")
            TimeNode.objects.create(task=task, seq=i, name=f"节点{i}",
                                    planned_date=dt.date(2026, 9, 1))
            Target.objects.create(programme=county.programme, level="annual", name=f"目标{i}",
                                  subject_unit=county.units["town_a"])
            User.objects.create_user(username=f"p{i}", password="x",
                                     unit=county.units["town_a"])
        return task.pk

    client = api("supervisor")
    counts = []
    for n, start in ((10, 0), (30, 10)):
        pk = grow(n, start)
        url = path.format(task=pk)
        with django_assert_max_num_queries(12) as captured:
            assert client.get(url).status_code == 200, url
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], (path, counts)


def test_task_time_nodes_are_a_page_like_every_list(api, tasks):
    """Found by schemathesis: the list was a bare array where the document says a page."""
    body = api("editor_a").get(f"/api/tasks/{tasks['a'].pk}/time-nodes/").json()
    assert body["count"] == 1 and body["results"][0]["name"] == "开工"
    assert api("editor_a").get(f"/api/tasks/{tasks['a'].pk}/time-nodes/?page=9").status_code == 404


def test_a_nul_character_in_a_filter_is_refused_not_a_server_error(county, client):
    client.force_login(county.users["supervisor"])
    for name in ("unit", "programme", "q", "person", "category", "light"):
        response = client.get("/api/tasks/", {name: "a\x00b"})
        assert response.status_code == 400, name
        assert response.json()["errors"][0]["field"] == name
    assert client.get("/ledger/", {"unit": "\x00"}).status_code == 200  # the page names it
