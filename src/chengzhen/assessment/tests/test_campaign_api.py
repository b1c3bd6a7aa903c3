"""Joint campaigns through the API: the campaigns listed, a plan merged (bad input 400 naming the
field, a town 403), read with its merged indicators, its workbook opened, a lead unit settled with
If-Match (428 without, 412 stale), merged again keeping it, a proposal confirmed, the tasks
previewed (nothing written) and made, and a town refused at every writing path."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from chengzhen.assessment import services as framework_services
from chengzhen.assessment.framework import load_framework
from chengzhen.assessment.models import JointPlan, MatchStatus, MeasureMatch
from chengzhen.ledger.models import Task
from chengzhen.org.models import Unit

from .test_campaigns import PROVINCIAL, _programme, campaigns  # noqa: F401 - the fixture

PLAN = {"code": "LC-2026", "name": "2026年创建合并指标", "campaigns": ["WSCS2026", "YLCS2026", "WMCS2026"],
        "subject": "411300", "year": 2026}


def test_a_plan_through_the_api(county, campaigns, api_as):  # noqa: F811
    sup, town = api_as("supervisor"), api_as("editor_a")
    listed = sup.get("/api/campaigns/").json()
    assert [c["code"] for c in listed] == ["WMCS2026", "WSCS2026", "YLCS2026"]
    assert {c["title"] for c in listed} == {"国家卫生城市", "国家园林城市", "全国文明城市"}

    for wrong, field in (({"code": "lc 2026"}, "code"), ({"campaigns": []}, "campaigns"),
                         ({"campaigns": ["NOPE"]}, "campaign"), ({"year": 2025}, "subject"),
                         ({"lead_rule": {"kind": "loudest"}}, "lead_rule")):
        response = sup.post("/api/joint-plans/", {**PLAN, **wrong}, format="json")
        assert response.status_code == 400, (wrong, response.json())
        body = response.json()
        assert any(field in (e["field"] or "") for e in body["errors"]), (wrong, body)
    assert town.post("/api/joint-plans/", PLAN, format="json").status_code == 403
    assert not JointPlan.objects.exists()

    made = sup.post("/api/joint-plans/", PLAN, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["indicators"] > 0 and made.json()["campaigns"] == sorted(PLAN["campaigns"])
    plan = town.get("/api/joint-plans/LC-2026/")  # anyone logged in reads, as on the pages
    assert plan.status_code == 200
    merged = {m["key"]: m for m in plan.json()["merged"]}
    green = merged["green_coverage_rate"]
    assert green["binding"].startswith("≥") and any(s["binding"] for s in green["sources"])
    lead = Unit.objects.get(code=green["lead_unit"])
    assert lead.short_name == "市园林局"
    assert sup.get("/api/joint-plans/NOPE/").status_code == 404

    data = sup.get("/api/joint-plans/LC-2026/file/")
    assert data.status_code == 200 and data["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(data.content))
    assert "建成区绿化覆盖率" in [c.value for r in wb.worksheets[0].iter_rows() for c in r]

    # 职责归口: settle with If-Match; merging again keeps it
    url = f"/api/merged-indicators/{green['id']}/settle/"
    other = Unit.objects.get(short_name="市城管局")
    body = {"lead_unit": other.code, "cooperating": [lead.code]}
    assert sup.post(url, body, format="json").status_code == 428
    assert sup.post(url, body, format="json", HTTP_IF_MATCH=f'"{green["version"] - 1}"').status_code == 412
    assert sup.post(url, {**body, "lead_unit": "NOPE"}, format="json",
                    HTTP_IF_MATCH=f'"{green["version"]}"').status_code == 400
    assert town.post(url, body, format="json", HTTP_IF_MATCH=f'"{green["version"]}"').status_code == 403
    settled = sup.post(url, body, format="json", HTTP_IF_MATCH=f'"{green["version"]}"')
    assert settled.status_code == 200, settled.json()
    assert settled.json()["lead_unit"] == other.code and settled.json()["cooperating"] == [lead.code]
    assert settled["ETag"] == f'"{settled.json()["version"]}"'
    preview = sup.get("/api/joint-plans/LC-2026/rerun/")
    assert preview.status_code == 200 and {c["action"] for c in preview.json()} == {"same"}
    assert town.get("/api/joint-plans/LC-2026/rerun/").status_code == 403
    assert sup.post("/api/joint-plans/LC-2026/rerun/").status_code == 200
    again = sup.get(f"/api/merged-indicators/{green['id']}/").json()
    assert again["lead_unit"] == other.code and again["settled_by"] == county.users["supervisor"].username

    # tasks: the preview writes nothing, then they are made; a town may do neither
    target = _programme(county, "LC2026", "2026年创建工作台账")
    assert sup.get("/api/joint-plans/LC-2026/tasks/?programme=NOPE").status_code == 400
    assert town.get(f"/api/joint-plans/LC-2026/tasks/?programme={target.code}").status_code == 403
    preview = sup.get(f"/api/joint-plans/LC-2026/tasks/?programme={target.code}")
    assert preview.status_code == 200
    steps = {s["key"]: s for s in preview.json()}
    assert steps["green_coverage_rate"]["action"] == "create"
    assert steps["green_coverage_rate"]["lead_unit"] == other.code
    assert not Task.objects.filter(programme=target).exists()
    assert town.post("/api/joint-plans/LC-2026/tasks/", {"programme": target.code}, format="json").status_code == 403
    done = sup.post("/api/joint-plans/LC-2026/tasks/", {"programme": target.code}, format="json")
    assert done.status_code == 200
    creates = [s for s in done.json() if s["action"] == "create"]
    assert Task.objects.filter(programme=target).count() == len(creates) > 0
    second = sup.post("/api/joint-plans/LC-2026/tasks/", {"programme": target.code}, format="json").json()
    assert not [s for s in second if s["action"] == "create"]  # made again: nothing doubled
    assert Task.objects.filter(programme=target).count() == len(creates)
    # per lead unit (职责归口): one task per unit in another programme; a wrong way is a 400 naming it
    grouped = _programme(county, "LC2026G", "2026年创建工作台账（归口）")
    for bad in (sup.get(f"/api/joint-plans/LC-2026/tasks/?programme={grouped.code}&per=x"),
                sup.post("/api/joint-plans/LC-2026/tasks/", {"programme": grouped.code, "per": "x"}, format="json")):
        assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == ["per"]
    done = sup.post("/api/joint-plans/LC-2026/tasks/", {"programme": grouped.code, "per": "lead_unit"},
                    format="json").json()
    groups = [s for s in done if s["members"]]
    assert groups and all(s["key"].startswith("LC-G-") for s in groups)
    assert Task.objects.filter(programme=grouped).count() == len(groups)
    assert "green_coverage_rate" in next(s["members"] for s in groups if s["lead_unit"] == other.code)


def test_proposals_are_decided_through_the_api(county, campaigns, api_as):  # noqa: F811
    from chengzhen.assessment import campaign_services as services

    sup_user = county.users["supervisor"]
    framework_services.import_framework(sup_user, load_framework(PROVINCIAL))
    services.bind_campaign(sup_user, _programme(county, "SJST2026", "省级生态园林城市创建"), "SJST", "省级生态园林城市")
    sup, town = api_as("supervisor"), api_as("editor_a")
    made = sup.post("/api/joint-plans/", {**PLAN, "campaigns": ["WSCS2026", "YLCS2026", "SJST2026"]}, format="json")
    assert made.status_code == 201, made.json()
    proposed = sup.get("/api/measure-matches/?status=proposed").json()["results"]
    mine = [m for m in proposed if m["framework"] == "SJST" and m["node"] == "A1"]
    assert mine and mine[0]["measure"] == "green_coverage_rate" and mine[0]["evidence"]
    url = f"/api/measure-matches/{mine[0]['id']}/decide/"
    version = sup.get(f"/api/measure-matches/{mine[0]['id']}/")["ETag"]
    assert sup.post(url, {"confirm": True}, format="json").status_code == 428
    assert town.post(url, {"confirm": True}, format="json", HTTP_IF_MATCH=version).status_code == 403
    decided = sup.post(url, {"confirm": True}, format="json", HTTP_IF_MATCH=version)
    assert decided.status_code == 200 and decided.json()["status"] == "confirmed"
    assert decided.json()["decided_by"] == sup_user.username and decided.json()["decided_at"]
    assert sup.post(url, {"confirm": False}, format="json", HTTP_IF_MATCH=version).status_code == 412
    assert not MeasureMatch.objects.filter(pk=mine[0]["id"], status=MatchStatus.PROPOSED).exists()
    assert sup.get("/api/measure-matches/?status=confirmed").json()["count"] == 1
    # merged again: the confirmed match puts the provincial indicator under the canonical measure
    assert sup.post("/api/joint-plans/LC-2026/rerun/").status_code == 200
    merged = {m["key"]: m for m in sup.get("/api/joint-plans/LC-2026/").json()["merged"]}
    assert "SJST:A1" not in merged and merged["green_coverage_rate"]["binding"] == "≥ 41%"
