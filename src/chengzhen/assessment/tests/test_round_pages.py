"""Round pages and API through Django's test client and DRF: a town submits a value with a file,
sees only its own to-do and (after publication) its own scorecard; the supervisor verifies in the
queue (a stale version is refused), gathers, scores and publishes with the board's buttons; the
API submits, verifies with If-Match (428 without, 412 stale) and hides others' scorecards."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from openpyxl import load_workbook

from chengzhen.assessment import rounds
from chengzhen.assessment.models import Round, RoundStatus, Value, ValueStatus
from chengzhen.assessment.tests.test_rounds import FW, round_  # noqa: F401
from chengzhen.assessment.workbook import V_CODE, V_VALUE
from chengzhen.ledger.tests.test_browser import jpeg

assert FW  # the small framework the round is set up on (A1, A2 filled in; B1, B2 from the platform)

BASE = "/assessment/rounds/RT-2026"


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _accept_all(sup, r) -> None:
    for v in Value.objects.filter(round=r, status=ValueStatus.SUBMITTED):
        rounds.verify_value(sup, v, accept=True, expected_version=v.version)


def _fill(county, r) -> None:
    """Every town's A1 and A2, accepted; then the platform's values, accepted."""
    sup = county.users["supervisor"]
    for unit, editor, a1, a2 in (("town_a", "editor_a", "38", "4000"), ("town_b", "editor_b", "32", "6000")):
        for code, amount in (("A1", a1), ("A2", a2)):
            rounds.submit_value(county.users[editor], r, county.units[unit], code, "value", amount)
    _accept_all(sup, r)
    rounds.gather_platform_values(sup, r)
    _accept_all(sup, r)


def test_a_town_submits_a_value_with_a_file_and_sees_only_its_own(client, county, round_):  # noqa: F811
    town_a, town_b = county.units["town_a"], county.units["town_b"]
    client.force_login(county.users["editor_a"])
    listing = _page(client, "/assessment/rounds/")
    assert "2026年度测试考核" in listing and f"{BASE}/todo/{town_a.code}/" in listing
    assert f"{BASE}/todo/{town_b.code}/" not in listing and f"{BASE}/queue/" not in listing
    page = _page(client, f"{BASE}/todo/{town_a.code}/")
    assert "A 建设 › A1 建成区绿地率" in page and "平台取数" in page and "台账任务完成率" in page
    url = f"{BASE}/todo/{town_a.code}/"
    response = client.post(url, {"node": "A1", "input": "value", "amount": "35.5", "unit": "%",
                                  "evidence": "绿地统计台账",
                                  "files": [SimpleUploadedFile("现状图.jpg", jpeg(), "image/jpeg")]}, follow=True)
    assert response.status_code == 200 and "已报送" in _messages(response)
    v = Value.objects.get(round=round_, subject=town_a, node="A1")
    assert v.amount == Decimal("35.5") and v.status == ValueStatus.SUBMITTED and v.files.count() == 1
    page = response.content.decode()
    assert "现状图.jpg" in page and "待核查" in page and f'name="expected_version" value="{v.version}"' in page
    # refused input: a message, nothing changed
    response = client.post(url, {"node": "A1", "input": "value", "amount": "350", "unit": "%",
                                  "expected_version": v.version})
    assert response.status_code == 400 and "超出" in _messages(response)
    assert 'value="350"' in response.content.decode()  # what was typed stays in the form
    response = client.post(url, {"node": "A1", "input": "value", "amount": "36", "expected_version": v.version - 1})
    assert response.status_code == 400 and "已被他人修改" in _messages(response)
    response = client.post(url, {"node": "B1", "input": "value", "amount": "80"})
    assert response.status_code == 400 and "由平台取数" in _messages(response)
    assert Value.objects.get(pk=v.pk).amount == Decimal("35.5")
    # another town's to-do, its scorecard, this value's file: not for town A / B
    assert client.get(f"{BASE}/todo/{town_b.code}/").status_code == 403
    other = {"node": "A1", "input": "value", "amount": "1"}
    assert client.post(f"{BASE}/todo/{town_b.code}/", other).status_code == 403
    assert client.get(f"{BASE}/scorecard/{town_b.code}/").status_code == 404
    assert client.get(f"{BASE}/scorecard/{town_a.code}/").status_code == 404  # not before publication
    assert client.get(f"{BASE}/queue/").status_code == 403
    assert client.get(f"{BASE}/").status_code == 302  # the board sends a town to its to-do
    assert client.get(f"{BASE}/ranking/").status_code == 403
    evidence = v.files.get()
    assert client.get(f"/assessment/evidence/{evidence.pk}/").status_code == 200
    client.force_login(county.users["editor_b"])
    assert client.get(f"/assessment/evidence/{evidence.pk}/").status_code == 404
    assert client.get(f"{BASE}/todo/{town_a.code}/").status_code == 403
    client.force_login(county.users["editor_dept"])  # not a subject of the round: does not see it
    assert "2026年度测试考核" not in _page(client, "/assessment/rounds/")
    assert client.get(f"{BASE}/").status_code == 404


def test_the_excel_template_goes_out_and_comes_back(client, county, round_):  # noqa: F811
    town_a = county.units["town_a"]
    client.force_login(county.users["editor_a"])
    response = client.get(f"{BASE}/todo/{town_a.code}/template/")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb.active
    header = next(row for row in ws.iter_rows() if any(c.value == V_CODE for c in row))
    cols = {c.value: c.column for c in header}
    codes = {ws.cell(r, cols[V_CODE]).value: r for r in range(header[0].row + 1, ws.max_row + 1)
             if ws.cell(r, cols[V_CODE]).value}
    assert set(codes) == {"A1", "A2"}  # what the platform fills in is left out
    ws.cell(codes["A1"], cols[V_VALUE]).value = 37
    ws.cell(codes["A2"], cols[V_VALUE]).value = 4500
    good = io.BytesIO()
    wb.save(good)
    upload = SimpleUploadedFile("填报.xlsx", good.getvalue())
    response = client.post(f"{BASE}/todo/{town_a.code}/import/", {"file": upload}, follow=True)
    assert "报送 2 项数值" in _messages(response)
    assert Value.objects.get(round=round_, subject=town_a, node="A2").amount == Decimal("4500")
    ws.cell(codes["A1"], cols[V_VALUE]).value = 370
    ws.cell(codes["A2"], cols[V_VALUE]).value = "很多"
    bad = io.BytesIO()
    wb.save(bad)
    response = client.post(f"{BASE}/todo/{town_a.code}/import/",
                           {"file": SimpleUploadedFile("填报.xlsx", bad.getvalue())}, follow=True)
    said = _messages(response)
    assert "超出" in said and "不是数值" in said  # every problem listed, nothing written
    assert Value.objects.get(round=round_, subject=town_a, node="A1").amount == Decimal("37")


def test_queue_board_buttons_and_the_published_scorecard(client, county, round_, make_task):  # noqa: F811
    town_a, town_b = county.units["town_a"], county.units["town_b"]
    sup, editor_a = county.users["supervisor"], county.users["editor_a"]
    make_task("P1", status="completed")
    v = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "38", evidence="绿地统计台账",
                            files=[("现状图.jpg", jpeg())])
    client.force_login(sup)
    page = _page(client, f"{BASE}/queue/")
    assert "青山镇" in page and "A1 建成区绿地率" in page and "38" in page and "现状图.jpg" in page
    assert "绿地统计台账" in page
    queue = f"{BASE}/queue/"
    response = client.post(queue, {"value": v.pk, "decision": "accept", "expected_version": v.version + 5},
                           follow=True)
    assert "已被他人修改" in _messages(response)
    assert Value.objects.get(pk=v.pk).status == ValueStatus.SUBMITTED  # nothing changed
    response = client.post(queue, {"value": v.pk, "decision": "return", "expected_version": v.version}, follow=True)
    assert "退回须写明原因" in _messages(response)
    response = client.post(queue, {"value": v.pk, "decision": "return", "reason": "请附绿地现状图",
                                   "expected_version": v.version}, follow=True)
    assert "已退回" in _messages(response) and Value.objects.get(pk=v.pk).status == ValueStatus.RETURNED
    client.force_login(editor_a)
    assert "请附绿地现状图" in _page(client, f"{BASE}/todo/{town_a.code}/")
    v = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "38")
    client.force_login(sup)
    response = client.post(queue, {"value": v.pk, "decision": "accept", "expected_version": v.version}, follow=True)
    assert "已核查" in _messages(response) and Value.objects.get(pk=v.pk).status == ValueStatus.ACCEPTED
    # the rest, then the board's buttons
    rounds.submit_value(editor_a, round_, town_a, "A2", "value", "4000")
    for code, amount in (("A1", "32"), ("A2", "6000")):
        rounds.submit_value(county.users["editor_b"], round_, town_b, code, "value", amount)
    _accept_all(sup, round_)
    board = _page(client, f"{BASE}/")
    assert 'id="gather-form"' in board and 'id="publish-form"' not in board
    response = client.post(f"{BASE}/gather/", follow=True)
    assert "平台取数完成" in _messages(response)
    page = _page(client, queue)
    assert "平台取数" in page and "末级任务" in page
    for value in Value.objects.filter(round=round_, status=ValueStatus.SUBMITTED):
        client.post(queue, {"value": value.pk, "decision": "accept", "expected_version": value.version})
    assert not Value.objects.filter(round=round_, status=ValueStatus.SUBMITTED).exists()
    response = client.post(f"{BASE}/score/", follow=True)
    assert "已评分" in _messages(response)
    r = Round.objects.get(pk=round_.pk)
    assert r.status == RoundStatus.SCORED
    client.force_login(editor_a)
    assert client.get(f"{BASE}/scorecard/{town_a.code}/").status_code == 404  # scored, not yet published
    client.force_login(sup)
    board = _page(client, f"{BASE}/")
    assert 'id="publish-form"' in board and 'id="download-docx"' in board
    response = client.post(f"{BASE}/publish/", {"expected_version": r.version - 1}, follow=True)
    assert "已被他人修改" in _messages(response) and Round.objects.get(pk=r.pk).status == RoundStatus.SCORED
    response = client.post(f"{BASE}/publish/", {"expected_version": r.version}, follow=True)
    assert "已公布" in _messages(response) and Round.objects.get(pk=r.pk).status == RoundStatus.PUBLISHED
    # the town reads its own scorecard, not another's, and not the (non-public) ranking
    client.force_login(editor_a)
    page = _page(client, f"{BASE}/scorecard/{town_a.code}/")
    assert 'id="total">88.00<' in page and "第 1 名 / 共 2 个" in page
    assert "建成区绿地率 38%，低于目标 40%，按线性规则得 24 分（满分 30 分）" in page
    assert 'data-code="A1"' in page and 'data-code="B"' in page
    assert client.get(f"{BASE}/scorecard/{town_b.code}/").status_code == 404
    assert client.get(f"{BASE}/ranking/").status_code == 403
    assert client.get(f"{BASE}/report/xlsx/").status_code == 403
    response = client.get(f"{BASE}/report/docx/")
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(b"".join(response.streaming_content))).paragraphs)
    assert "2026年度测试考核" in text
    todo = _page(client, f"{BASE}/todo/{town_a.code}/")
    assert 'id="closed"' in todo and "value-form" not in todo
    client.force_login(county.users["leader"])
    ranking = _page(client, f"{BASE}/ranking/")
    assert "青山镇" in ranking and "白河镇" in ranking and f"{BASE}/scorecard/{town_b.code}/" in ranking


def test_the_api_submits_verifies_and_hides_others_scorecards(api_as, county, round_, make_task):  # noqa: F811
    town_a, town_b = county.units["town_a"], county.units["town_b"]
    editor_a, sup = api_as("editor_a"), api_as("supervisor")
    assert [r["code"] for r in editor_a.get("/api/rounds/").json()["results"]] == ["RT-2026"]
    assert api_as("editor_dept").get("/api/rounds/").json()["results"] == []
    assert api_as("editor_dept").get("/api/rounds/RT-2026/").status_code == 404
    detail = sup.get("/api/rounds/RT-2026/").json()
    assert [row["subject"] for row in detail["progress"]] == [town_a.code, town_b.code]
    assert detail["progress"][0]["expected"] == 4 and detail["progress"][0]["missing"] == 4
    assert editor_a.get("/api/rounds/RT-2026/").json()["progress"] is None

    url = "/api/rounds/RT-2026/values/"
    body = {"subject": town_a.code, "node": "A1", "amount": "35.5", "evidence": "绿地统计台账"}
    created = editor_a.post(url, body, format="json")
    assert created.status_code == 201, created.json()
    value = created.json()
    assert value["status"] == "submitted" and value["unit"] == "%" and created["ETag"] == f'"{value["version"]}"'
    assert editor_a.post(url, {**body, "amount": "36"}, format="json").status_code == 428
    stale = editor_a.post(url, {**body, "amount": "36"}, format="json", HTTP_IF_MATCH=f'"{value["version"] - 1}"')
    assert stale.status_code == 412
    changed = editor_a.post(url, {**body, "amount": "36"}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert changed.status_code == 200 and Decimal(changed.json()["amount"]) == Decimal("36")
    for wrong, field in (({"node": "Z9"}, "node"), ({"node": "B1"}, "node"), ({"amount": "很多"}, "amount"),
                         ({"amount": "-5"}, "amount"), ({"subject": "NOPE"}, "subject"), ({"node": "A"}, "node")):
        response = editor_a.post(url, {**body, "node": "A2", **wrong}, format="json")
        assert response.status_code == 400, (wrong, response.json())
        assert field in [e["field"] for e in response.json()["errors"]], (wrong, response.json())
    assert editor_a.post(url, {"subject": town_a.code}, format="json").status_code == 400
    assert editor_a.post(url, {**body, "subject": town_b.code}, format="json").status_code == 403
    mine = editor_a.get(url, {"subject": town_a.code}).json()["results"]
    assert [(v["node"], v["amount"]) for v in mine] == [("A1", "36.000000")]
    assert api_as("editor_b").get(url).json()["results"] == []

    verify = f"/api/values/{value['id']}/verify/"
    current = sup.get(f"/api/values/{value['id']}/")
    assert current.status_code == 200
    assert sup.post(verify, {"accept": True}, format="json").status_code == 428
    assert sup.post(verify, {"accept": True}, format="json", HTTP_IF_MATCH=created["ETag"]).status_code == 412
    assert sup.post(verify, {"accept": False}, format="json", HTTP_IF_MATCH=current["ETag"]).status_code == 400
    assert editor_a.post(verify, {"accept": True}, format="json", HTTP_IF_MATCH=current["ETag"]).status_code == 403
    assert api_as("editor_b").post(verify, {"accept": True}, format="json",
                                HTTP_IF_MATCH=current["ETag"]).status_code == 404
    accepted = sup.post(verify, {"accept": True}, format="json", HTTP_IF_MATCH=current["ETag"])
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["verified_by"] == "supervisor"

    # scorecards: none before scoring, none for other towns, a town's own after publication
    assert sup.get(f"/api/rounds/RT-2026/scorecards/{town_a.code}/").status_code == 404
    make_task("P1", status="completed")
    r = Round.objects.get(pk=round_.pk)
    _fill(county, r)
    rounds.score_round(county.users["supervisor"], r)
    assert editor_a.get(f"/api/rounds/RT-2026/scorecards/{town_a.code}/").status_code == 404
    assert sup.get(f"/api/rounds/RT-2026/scorecards/{town_b.code}/").status_code == 200
    rounds.publish_round(county.users["supervisor"], Round.objects.get(pk=r.pk))
    card = editor_a.get(f"/api/rounds/RT-2026/scorecards/{town_a.code}/")
    assert card.status_code == 200
    card = card.json()
    assert card["total"] == "88.00" and card["rank"] == 1 and card["count"] == 2
    a1 = next(row for row in card["rows"] if row["code"] == "A1")
    assert a1["score"] == "24.00" and a1["points"] == 30 and "低于目标 40%" in a1["sentence"]
    assert editor_a.get(f"/api/rounds/RT-2026/scorecards/{town_b.code}/").status_code == 404
    assert editor_a.get("/api/rounds/RT-2026/ranking/").status_code == 403
    ranking = sup.get("/api/rounds/RT-2026/ranking/").json()
    assert [row["subject"] for row in ranking] == [town_a.code, town_b.code]
    assert ranking[0]["change"] == "—" and ranking[0]["scorecard"].endswith(f"/scorecards/{town_a.code}/")
    # a closed round refuses changes: 400 with the reason
    late = editor_a.post(url, {**body, "node": "A2", "amount": "1"}, format="json",
                         HTTP_IF_MATCH='"99"')
    assert late.status_code == 400 and "已评分" in late.json()["detail"]


def test_the_schema_documents_the_round_endpoints(client, county, tmp_path):
    client.force_login(county.users["supervisor"])
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in ("/api/rounds/", "/api/rounds/{code}/", "/api/rounds/{code}/values/",
                 "/api/rounds/{code}/scorecards/{unit}/", "/api/rounds/{code}/ranking/", "/api/values/{id}/verify/",
                 "/api/rounds/{code}/gather/", "/api/rounds/{code}/score/", "/api/rounds/{code}/publish/"):
        assert path in paths, path
    assert "post" in paths["/api/rounds/"]
    assert "multipart/form-data" in paths["/api/rounds/{code}/values/"]["post"]["requestBody"]["content"]
    # every choice set has its own name: the generator has nothing to warn about
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert {"200", "201", "400", "403", "412", "428"} <= set(paths["/api/rounds/{code}/values/"]["post"]["responses"])
    assert {"200", "400", "404", "412", "428"} <= set(paths["/api/values/{id}/verify/"]["post"]["responses"])
