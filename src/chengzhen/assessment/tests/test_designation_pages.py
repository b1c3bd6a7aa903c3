"""Designations in the database: rules and grants (command, page), the review a publication
triggers (rectify, restore, fail again, revoke), notifications, the at-risk list, who sees what."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from chengzhen.assessment import designation_services as services
from chengzhen.assessment import rounds
from chengzhen.assessment.designations import add_months
from chengzhen.assessment.models import Designation, DesignationEvent, Round, SubjectScore, Value, ValueStatus
from chengzhen.assessment.tests.test_rounds import FW, round_  # noqa: F401
from chengzhen.audit.models import AuditRecord
from chengzhen.problems import Refused

assert FW


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _run_round(county, code: str, year: int, amounts: dict[str, tuple[str, str]], previous=None) -> Round:
    """A round on RT@1 for both towns: A1, A2 as given, B1/B2 from the platform; scored and published."""
    sup = county.users["supervisor"]
    r = previous if previous is not None and previous.code == code else rounds.create_round(
        sup, code=code, name=f"{year}年度测试考核", framework_name="RT@1",
        unit_codes=[county.units["town_a"].code, county.units["town_b"].code], year=year,
        period_from=dt.date(year, 1, 1), period_to=dt.date(year, 12, 31), submit_by=dt.date(year, 12, 20),
        programme=county.programme, previous=previous)
    for unit, editor in (("town_a", "editor_a"), ("town_b", "editor_b")):
        for node, amount in zip(("A1", "A2"), amounts[unit], strict=True):
            rounds.submit_value(county.users[editor], r, county.units[unit], node, "value", amount)
    rounds.gather_platform_values(sup, r)
    for v in Value.objects.filter(round=r, status=ValueStatus.SUBMITTED):
        rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    rounds.score_round(sup, Round.objects.get(pk=r.pk))
    return rounds.publish_round(sup, Round.objects.get(pk=r.pk))


@pytest.fixture
def titles(county, round_):  # noqa: F811
    """The rule (不合格 or below 60 fails, 6 months) and both towns holding the title."""
    _command("designation", "rule", "YXZDZ", "--title", "优先发展重点镇", "--framework", "RT", "--fail-grade",
             "不合格", "--pass-score", "60", "--months", "6", "--as", "supervisor")
    for unit in ("town_a", "town_b"):
        _command("designation", "grant", "YXZDZ", county.units[unit].code, "--decision", "示政发〔2026〕3号",
                 "--on", "2026-01-05", "--as", "supervisor")
    return services.rule_of("YXZDZ")


def _state(county, unit: str) -> Designation:
    return Designation.objects.filter(unit=county.units[unit]).order_by("-pk").first()


def test_a_failing_town_is_rectified_restored_fails_again_and_is_revoked(county, round_, titles, make_task):  # noqa: F811
    from chengzhen.supervision.models import Notification

    make_task("P1", status="completed")
    # 2026: 青山镇 88 (良好) keeps it; 白河镇 below 60 (no task of its own: B1 missing) → 整改期
    r1 = _run_round(county, "RT-2026", 2026, {"town_a": ("38", "4000"), "town_b": ("32", "6000")}, round_)
    b_total = SubjectScore.objects.get(scoring=r1.scoring, subject=county.units["town_b"].code).total
    assert b_total < Decimal("60")
    until = add_months(timezone.localdate(r1.published_at), 6)
    assert _state(county, "town_a").state == "held"
    b = _state(county, "town_b")
    assert (b.state, b.rectify_until) == ("rectifying", until)
    event = b.events.order_by("-pk").first()
    assert event.round == r1 and event.from_state == "held" and event.total == b_total
    assert event.reason.startswith("考核等次为不合格") and f"至 {until:%Y-%m-%d}" in event.reason
    assert event.rule == {"code": "YXZDZ", "fail_grades": ["不合格"], "pass_score": "60.00", "rectify_months": 6}
    note = Notification.objects.get(recipient=county.users["editor_b"], cause=f"designation:{event.pk}")
    assert "整改期" in note.title and note.url == f"/assessment/designations/{b.pk}/"
    assert not Notification.objects.filter(recipient=county.users["editor_a"], cause__startswith="designation:")
    # the designation's change is audited; reviewing the same round again records nothing new
    assert AuditRecord.objects.filter(model="assessment.designation", object_pk=str(b.pk)).count() >= 2
    events = DesignationEvent.objects.count()
    again = services.review_round(county.users["supervisor"], Round.objects.get(pk=r1.pk))
    assert (again.changed, again.unchanged, DesignationEvent.objects.count()) == ([], 0, events)

    # 2027: 白河镇 passes (a task of its own completed) → restored
    make_task("P2", lead="town_b", status="completed")
    r2 = _run_round(county, "RT-2027", 2027, {"town_a": ("38", "4000"), "town_b": ("36", "6000")}, r1)
    b = _state(county, "town_b")
    assert (b.state, b.rectify_until) == ("held", None)
    assert b.events.filter(round=r2).get().reason == "整改后达标，恢复资格"

    # 2028: it fails again → a new 整改期; 2029, whose period ends after the deadline, still failing → 取消资格
    r3 = _run_round(county, "RT-2028", 2028, {"town_a": ("38", "4000"), "town_b": ("30", "0")}, r2)
    assert _state(county, "town_b").state == "rectifying"
    Round.objects.filter(pk=r3.pk).update(published_at=timezone.make_aware(dt.datetime(2028, 11, 20, 9)))
    Designation.objects.filter(pk=b.pk).update(rectify_until=dt.date(2029, 5, 20))  # as r3's date gives
    _run_round(county, "RT-2029", 2029, {"town_a": ("38", "4000"), "town_b": ("30", "0")}, r3)
    b = _state(county, "town_b")
    assert (b.state, b.revoked_on) == ("revoked", timezone.localdate())
    assert "整改期满（2029-05-20）仍不达标" in b.events.order_by("-pk").first().reason
    # revoked is final: the old decision cannot bring it back, a new one can
    sup = county.users["supervisor"]
    with pytest.raises(Refused, match="重新授予须有新的决定"):
        services.grant(sup, titles, county.units["town_b"], granted_on=dt.date(2030, 1, 5),
                       decision="示政发〔2026〕3号")
    regranted = services.grant(sup, titles, county.units["town_b"], granted_on=dt.date(2030, 1, 5),
                               decision="示政发〔2030〕1号")
    assert regranted.state == "held" and regranted.events.get().reason == "按 示政发〔2030〕1号 重新授予"
    with pytest.raises(Refused, match="不能重复授予"):
        services.grant(sup, titles, county.units["town_b"], granted_on=dt.date(2030, 2, 1), decision="另一文号")


def test_the_at_risk_page_and_who_sees_what(client, county, round_, titles, make_task):  # noqa: F811
    make_task("P1", status="completed")
    _run_round(county, "RT-2026", 2026, {"town_a": ("38", "4000"), "town_b": ("32", "6000")}, round_)
    client.force_login(county.users["supervisor"])
    page = client.get("/assessment/designations/").content.decode()
    risk = page.split('id="at-risk"')[1].split("</table>")[0]
    assert "白河镇" in risk and "青山镇" not in risk and "剩 " in risk
    assert 'id="grant-form"' in page and "等次为不合格或总分低于 60 分为不达标" in page
    b = _state(county, "town_b")
    detail = client.get(f"/assessment/designations/{b.pk}/").content.decode()
    assert "2026年度测试考核" in detail and "整改期" in detail and "按 示政发〔2026〕3号 授予" in detail
    board = client.get("/assessment/rounds/RT-2026/").content.decode()
    changes = board.split('id="designation-changes"')[1].split("</table>")[0]
    assert board.split("<title>")[1].split("</title>")[0].startswith("2026年度测试考核") and "<h2>" not in (
        board.split("<title>")[1].split("</title>")[0])
    assert "白河镇" in changes and "保留 → 整改期" in changes and "青山镇" not in changes
    assert "1 个整改期内" in client.get("/assessment/rounds/").content.decode()
    # a town reads its own titles only, and may not grant
    client.force_login(county.users["editor_a"])
    mine = client.get("/assessment/designations/").content.decode()
    assert "青山镇" in mine and "白河镇" not in mine and 'id="grant-form"' not in mine
    assert client.get(f"/assessment/designations/{b.pk}/").status_code == 404
    assert client.post("/assessment/designations/", {"rule": "YXZDZ", "unit": county.units["town_b"].code,
                                                     "granted_on": "2027-01-01", "decision": "x"}).status_code == 403
    # the supervisor grants on the page; bad input says why and writes nothing
    client.force_login(county.users["supervisor"])
    before = Designation.objects.count()
    response = client.post("/assessment/designations/", {"rule": "YXZDZ", "unit": county.units["town_a"].code,
                                                         "granted_on": "2027-01-01", "decision": "新文号"})
    assert response.status_code == 400 and "不能重复授予" in _messages(response)
    response = client.post("/assessment/designations/", {"rule": "YXZDZ", "unit": county.units["town_a"].code,
                                                         "granted_on": "明年", "decision": "新文号"})
    assert response.status_code == 400 and "授予日期" in _messages(response)
    assert Designation.objects.count() == before
    # the command lists those at risk
    out = _command("designation", "list", "--at-risk", "--as", "supervisor")
    assert out.startswith(f"{county.units['town_b'].code}\t白河镇\t优先发展重点镇\t整改期\t")


def test_bad_rules_and_grants_are_refused_naming_the_field(county, round_):  # noqa: F811
    with pytest.raises(CommandError):
        _command("designation", "rule", "X", "--title", "美丽城镇样板", "--as", "supervisor")  # no pass line
    with pytest.raises(Refused, match="没有测评体系 NOPE"):
        services.save_rule(county.users["supervisor"], code="X", title="美丽城镇样板", framework_code="NOPE",
                           fail_grades=["不合格"])
    with pytest.raises(Refused, match="整改期应为 1 至 60 个月"):
        services.save_rule(county.users["supervisor"], code="X", title="美丽城镇样板", fail_grades=["不合格"],
                           rectify_months=0)
    with pytest.raises(Refused, match="达标分数线"):
        services.save_rule(county.users["supervisor"], code="X", title="美丽城镇样板", pass_score="六十")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.save_rule(county.users["editor_a"], code="X", title="美丽城镇样板", fail_grades=["不合格"])
    rule = services.save_rule(county.users["supervisor"], code="X", title="美丽城镇样板", fail_grades=["不合格"])
    with pytest.raises(Refused, match="授予须写明决定文号"):
        services.grant(county.users["supervisor"], rule, county.units["town_a"], granted_on=dt.date(2026, 1, 1),
                       decision=" ")
    with pytest.raises(PermissionDenied):
        services.grant(county.users["editor_a"], rule, county.units["town_a"], granted_on=dt.date(2026, 1, 1),
                       decision="x")
    with pytest.raises(Refused, match="尚未公布"):
        services.review_round(county.users["supervisor"], round_)


def test_the_api_reads_titles_in_reach(county, round_, titles, make_task):  # noqa: F811
    from rest_framework.test import APIClient

    make_task("P1", status="completed")
    _run_round(county, "RT-2026", 2026, {"town_a": ("38", "4000"), "town_b": ("32", "6000")}, round_)

    def as_(name: str) -> APIClient:
        c = APIClient()
        c.force_authenticate(county.users[name])
        return c

    rows = as_("supervisor").get("/api/designations/", {"state": "rectifying"}).json()["results"]
    assert [(r["unit"], r["title"], r["state"]) for r in rows] == [(county.units["town_b"].code, "优先发展重点镇",
                                                                  "rectifying")]
    assert [e["to_state"] for e in rows[0]["events"]] == ["held", "rectifying"]
    assert rows[0]["events"][1]["round"] == "RT-2026"
    mine = as_("editor_a").get("/api/designations/").json()["results"]
    assert [r["unit"] for r in mine] == [county.units["town_a"].code]
    assert as_("editor_a").get(f"/api/designations/{rows[0]['id']}/").status_code == 404
