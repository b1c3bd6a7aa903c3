"""Setting up a round (page, API), late submissions on the board, evidence through the API, the
board's actions through the API, and a published round that is scored again: checked, never
changed."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from chengzhen.assessment import rounds
from chengzhen.assessment.models import Round, Scoring, SubjectScore, Value, ValueEvidence
from chengzhen.assessment.tests.test_round_pages import _fill
from chengzhen.assessment.tests.test_rounds import FW, round_  # noqa: F401
from chengzhen.audit.models import AuditRecord
from chengzhen.ledger.tests.test_browser import jpeg
from chengzhen.problems import Refused

assert FW


def _api(county, username: str) -> APIClient:
    c = APIClient()
    c.force_authenticate(county.users[username])
    return c


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _form(county, **changes) -> dict:
    form = {"code": "RT-2027", "name": "2027年度测试考核", "framework": "RT@1", "year": "2027",
            "period_from": "2027-01-01", "period_to": "2027-12-31", "submit_by": "2027-12-20",
            "verify_by": "2027-12-28", "units": [county.units["town_a"].code, county.units["town_b"].code],
            "programme": "ZDZ2026", "previous": "RT-2026", "issuer": "示范县城镇化领导小组办公室",
            "requirements": "各镇对照短板限期整改。"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_a_supervisor_sets_up_a_round_on_the_page(client, county, round_):  # noqa: F811
    client.force_login(county.users["supervisor"])
    page = client.get("/assessment/rounds/").content.decode()
    assert 'id="round-form"' in page and "RT@1" in page and "青山镇（411300101000）" in page
    assert "县住建局" in page and "示范县人民政府（" not in page  # governments are not assessed
    for changes, said in (({"code": "RT 2027"}, "轮次代码只能由"), ({"code": "RT-2026"}, "已存在"),
                          ({"period_from": "2028-01-01"}, "考核期起日晚于止日"),
                          ({"verify_by": "2027-12-01"}, "核查截止早于填报截止"),
                          ({"units": None, "previous": ""}, "至少给出一个考核对象"),
                          ({"framework": "NOPE@9"}, "测评体系版本"), ({"year": "二〇二七"}, "对象属性年度")):
        response = client.post("/assessment/rounds/", _form(county, **changes))
        assert response.status_code == 400, changes
        assert said in _messages(response), (changes, _messages(response))
        assert 'id="new-round" open' in response.content.decode()
    assert not Round.objects.filter(code="RT-2027").exists()
    # the form starts from the latest round; with no subjects ticked, the previous round's are taken
    assert 'value="RT-2026" selected' in page and 'value="RT@1" selected' in page
    response = client.post("/assessment/rounds/", _form(county, units=None), follow=True)
    assert response.redirect_chain[-1][0] == "/assessment/rounds/RT-2027/"
    assert "已建立考核轮次 RT-2027：2 个考核对象" in _messages(response)
    r = Round.objects.get(code="RT-2027")
    assert (r.previous.code, r.programme.code, r.verify_by, r.year) == ("RT-2026", "ZDZ2026", dt.date(2027, 12, 28),
                                                                        2027)
    assert [u.code for u in rounds.subjects_of(r)] == [county.units["town_a"].code, county.units["town_b"].code]
    assert AuditRecord.objects.filter(model="assessment.round", object_pk=str(r.pk)).exists()
    # a town's liaison sees no form and may not post one
    client.force_login(county.users["editor_a"])
    assert 'id="round-form"' not in client.get("/assessment/rounds/").content.decode()
    assert client.post("/assessment/rounds/", _form(county, code="RT-2028")).status_code == 403
    assert not Round.objects.filter(code="RT-2028").exists()


def test_the_api_sets_up_a_round_and_runs_the_board(county, round_, make_task):  # noqa: F811
    sup, town = _api(county, "supervisor"), _api(county, "editor_a")
    body = {"code": "RT-2027", "name": "2027年度测试考核", "framework": "RT", "year": 2027,
            "period_from": "2027-01-01", "period_to": "2027-12-31", "submit_by": "2027-12-20",
            "subjects": [county.units["town_a"].code], "programme": "ZDZ2026"}
    assert town.post("/api/rounds/", body, format="json").status_code == 403
    for wrong, field in (({"subjects": ["NOPE"]}, "units"), ({"programme": "NOPE"}, "programme"),
                         ({"previous": "NOPE"}, "previous"), ({"code": "含 空格"}, "code"),
                         ({"period_to": "2026-12-31"}, "period"), ({"year": "x"}, "year")):
        response = sup.post("/api/rounds/", {**body, **wrong}, format="json")
        assert response.status_code == 400, (wrong, response.json())
        assert field in [e["field"] for e in response.json()["errors"]], (wrong, response.json())
    created = sup.post("/api/rounds/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["framework"] == "RT@1" and created.json()["subjects"] == [county.units["town_a"].code]

    # the board's actions: gather, score, publish (If-Match), score again = a check
    assert town.post("/api/rounds/RT-2026/gather/").status_code == 403
    make_task("P1", status="completed")
    _fill(county, Round.objects.get(code="RT-2026"))
    gathered = sup.post("/api/rounds/RT-2026/gather/").json()  # again: the facts have not moved
    assert (gathered["new"], gathered["changed"], gathered["unchanged"] + gathered["none"]) == (0, 0, 4), gathered
    assert town.post("/api/rounds/RT-2026/score/").status_code == 403
    scored = sup.post("/api/rounds/RT-2026/score/")
    assert scored.status_code == 200 and scored.json()["reproduced"] is False and scored.json()["subjects"] == 2
    detail = sup.get("/api/rounds/RT-2026/")
    assert sup.post("/api/rounds/RT-2026/publish/").status_code == 428
    assert sup.post("/api/rounds/RT-2026/publish/", HTTP_IF_MATCH='"0"').status_code == 412
    published = sup.post("/api/rounds/RT-2026/publish/", HTTP_IF_MATCH=detail["ETag"])
    assert published.status_code == 200 and published.json()["status"] == "published"
    again = sup.post("/api/rounds/RT-2026/score/").json()
    assert again == {"scoring": scored.json()["scoring"], "subjects": 2, "reproduced": True}


def test_values_given_after_the_deadline_are_marked_late(client, county, round_, make_task):  # noqa: F811
    today = timezone.localdate()
    town_a, town_b, sup = county.units["town_a"], county.units["town_b"], county.users["supervisor"]
    on_time = rounds.submit_value(county.users["editor_a"], round_, town_a, "A1", "value", "35")
    assert not on_time.late and not round_.overdue
    # the deadline was yesterday; this value came in the day before
    Round.objects.filter(pk=round_.pk).update(submit_by=today - dt.timedelta(days=1))
    Value.objects.filter(pk=on_time.pk).update(submitted_at=timezone.now() - dt.timedelta(days=2))
    r = Round.objects.get(pk=round_.pk)
    assert r.overdue
    late = rounds.submit_value(county.users["editor_a"], r, town_a, "A2", "value", "4000")
    assert late.late and not Value.objects.select_related("round").get(pk=on_time.pk).late
    make_task("P1", status="completed")
    rounds.gather_platform_values(sup, r)  # the platform's values are never late
    assert not any(v.late for v in Value.objects.filter(round=r, source="platform").select_related("round"))
    rows = {row["unit"].code: row for row in rounds.progress(r)}
    assert (rows[town_a.code]["late"], rows[town_a.code]["overdue"]) == (1, False)  # all given
    assert (rows[town_b.code]["late"], rows[town_b.code]["overdue"]) == (0, True)  # A1, A2 missing
    client.force_login(sup)
    board = client.get("/assessment/rounds/RT-2026/").content.decode()
    assert 'id="overdue"' in board
    row_b = board.split(f'data-code="{town_b.code}"')[1].split("</tr>")[0]
    assert "逾期" in row_b
    row_a = board.split(f'data-code="{town_a.code}"')[1].split("</tr>")[0]
    assert 'data-figure="late">1<' in row_a and "overdue" not in row_a
    queue = client.get("/assessment/rounds/RT-2026/queue/").content.decode()
    item = queue.split(f'id="v{late.pk}"')[1].split("</section>")[0]
    assert "逾期报送" in item and "逾期报送" not in queue.split(f'id="v{on_time.pk}"')[1].split("</section>")[0]
    detail = _api(county, "supervisor").get("/api/rounds/RT-2026/").json()
    assert {row["subject"]: (row["late"], row["overdue"]) for row in detail["progress"]} == {
        town_a.code: (1, False), town_b.code: (0, True)}
    assert _api(county, "supervisor").get(f"/api/values/{late.pk}/").json()["late"] is True


def test_the_api_takes_evidence_files_and_a_bad_one_leaves_nothing(client, county, round_):  # noqa: F811
    from chengzhen.ledger.services import evidence_path

    town = _api(county, "editor_a")
    url = "/api/rounds/RT-2026/values/"
    body = {"subject": county.units["town_a"].code, "node": "A1", "amount": "35.5", "evidence": "绿地现状图"}
    bad = town.post(url, {**body, "files": [SimpleUploadedFile("现状图.jpg", jpeg()),
                                            SimpleUploadedFile("说明.html", b"<html>x</html>")]}, format="multipart")
    assert bad.status_code == 400 and "说明.html" in str(bad.json())
    assert not Value.objects.filter(round=round_).exists() and not ValueEvidence.objects.exists()
    folder = evidence_path("x").parent
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))
    created = town.post(url, {**body, "files": [SimpleUploadedFile("现状图.jpg", jpeg()),
                                                SimpleUploadedFile("台账.pdf", b"%PDF-1.4 x")]}, format="multipart")
    assert created.status_code == 201, created.json()
    files = created.json()["files"]
    assert sorted(f["name"] for f in files) == ["台账.pdf", "现状图.jpg"]
    stored = ValueEvidence.objects.get(name="台账.pdf")
    assert evidence_path(stored.stored_name).read_bytes() == b"%PDF-1.4 x"
    # the supervisor downloads what the town sent; another town may not
    pdf = next(f["url"] for f in files if f["name"] == "台账.pdf")
    client.force_login(county.users["supervisor"])
    response = client.get(pdf)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 x"
    client.force_login(county.users["editor_b"])
    assert client.get(pdf).status_code in (403, 404)
    assert _api(county, "editor_b").get(f"/api/values/{created.json()['id']}/").status_code == 404


def test_a_published_round_scored_again_is_checked_not_changed(county, round_, make_task):  # noqa: F811
    sup = county.users["supervisor"]
    make_task("P1", status="completed")
    _fill(county, round_)
    first = rounds.score_round(sup, round_)
    r = rounds.publish_round(sup, Round.objects.get(pk=round_.pk))
    check = rounds.score_round(sup, Round.objects.get(pk=r.pk))
    assert check.reproduced and check.scoring.pk == first.scoring.pk
    assert Scoring.objects.filter(round=r).count() == 1
    assert AuditRecord.objects.filter(action="check_round_scores", object_pk=str(r.pk)).count() == 1
    # a stored score altered behind the platform's back is found, and the published one stays
    SubjectScore.objects.filter(scoring=first.scoring, subject=county.units["town_b"].code).update(total="99.00")
    with pytest.raises(Refused, match="白河镇 的总分不同"):
        rounds.score_round(sup, Round.objects.get(pk=r.pk))
    assert Round.objects.get(pk=r.pk).scoring_id == first.scoring.pk
    record = AuditRecord.objects.filter(action="check_round_scores").order_by("-pk").first()
    detail = json.loads(record.content)["detail"]
    assert detail["reproduced"] is False and "白河镇" in detail["differences"][0]
    # restored, it is reproduced again; an accepted value changed in the database is found too
    town_b_total = next(row["total"] for row in first.ranking if row["subject"] == county.units["town_b"].code)
    SubjectScore.objects.filter(scoring=first.scoring, subject=county.units["town_b"].code).update(total=town_b_total)
    out = io.StringIO()
    call_command("round", "score", "RT-2026", "--as", "supervisor", stdout=out)
    assert f"复核一致 RT-2026：已公布，重新计算 2 个对象的得分与评分记录 #{first.scoring.pk} 完全相同" in out.getvalue()
    Value.objects.filter(round=r, node="A1", subject=county.units["town_a"]).update(amount="39")
    with pytest.raises(Refused, match="考核数值与评分时不同"):
        rounds.score_round(sup, Round.objects.get(pk=r.pk))
    assert Scoring.objects.filter(round=r).count() == 1


def test_a_values_history_reads_as_what_happened(client, county, round_, make_task):  # noqa: F811
    town_a, sup, editor_a = county.units["town_a"], county.users["supervisor"], county.users["editor_a"]
    v = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "35.5", files=[("台账.pdf", b"%PDF-1.4 x")])
    v = rounds.verify_value(sup, v, accept=False, reason="请附绿地现状图", expected_version=v.version)
    v = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "36", files=[("现状图.jpg", jpeg())])
    v = rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    v = rounds.submit_value(editor_a, round_, town_a, "A1", "value", "37")
    make_task("P1", status="completed")
    rounds.gather_platform_values(sup, round_)
    expected = ["报送 35.5 %，待核查", "附佐证材料 台账.pdf", "退回：请附绿地现状图", "重新报送 36 %，待核查",
                "附佐证材料 现状图.jpg", "核查通过", "修改已核查的数值为 37 %，重新待核查"]
    history = _api(county, "supervisor").get(f"/api/values/{v.pk}/history/").json()
    assert [e["text"] for e in history] == expected
    assert [e["actor"] for e in history] == ["editor_a", "editor_a", "supervisor", "editor_a", "editor_a",
                                             "supervisor", "editor_a"]
    b1 = Value.objects.get(round=round_, subject=town_a, node="B1")
    assert [e["text"] for e in _api(county, "supervisor").get(f"/api/values/{b1.pk}/history/").json()] == [
        "平台取数 100 %，待核查"]
    assert _api(county, "editor_b").get(f"/api/values/{v.pk}/history/").status_code == 404
    # the same history on the town's to-do page and in the verifier's queue
    client.force_login(editor_a)
    page = client.get(f"/assessment/rounds/RT-2026/todo/{town_a.code}/").content.decode()
    row = page.split(f'id="v{v.pk}"')[1].split("</section>")[0]
    assert "履历（7 条）" in row and all(text in row for text in expected)
    client.force_login(sup)
    queue = client.get("/assessment/rounds/RT-2026/queue/").content.decode()
    item = queue.split(f'id="v{v.pk}"')[1].split("</section>")[0]
    assert "退回：请附绿地现状图" in item
