"""Designations and funds in the browser (Playwright on Debian's Chromium, phone-sized, nothing
off the machine): the supervisor publishes a scored round, sees on the board and on the titles
page the town that fell below the line in its rectification period, then allocates the fund
in proportion to the scores, to the fen."""

from __future__ import annotations

from decimal import Decimal

from chengzhen.assessment import rounds
from chengzhen.assessment.models import FundPool, Round, Value, ValueStatus
from chengzhen.assessment.tests.test_designation_pages import titles  # noqa: F401
from chengzhen.assessment.tests.test_rounds import round_  # noqa: F401
from chengzhen.ledger.tests.test_browser import browser, login, no_sideways_scroll, phone  # noqa: F401


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_the_supervisor_sees_titles_at_risk_after_a_round_and_allocates_the_fund(
        phone, county, round_, titles, make_task):  # noqa: F811
    make_task("P1", status="completed")  # 青山镇 88 良好; 白河镇 has no task of its own: below 60
    sup = county.users["supervisor"]
    for unit, editor, a1, a2 in (("town_a", "editor_a", "38", "4000"), ("town_b", "editor_b", "32", "6000")):
        for node, amount in (("A1", a1), ("A2", a2)):
            rounds.submit_value(county.users[editor], round_, county.units[unit], node, "value", amount)
    rounds.gather_platform_values(sup, round_)
    for v in Value.objects.filter(round=round_, status=ValueStatus.SUBMITTED):
        rounds.verify_value(sup, v, accept=True, expected_version=v.version)
    rounds.score_round(sup, Round.objects.get(pk=round_.pk))

    login(phone, "supervisor", "pw-supervisor")
    phone.goto(phone.base + "/assessment/rounds/RT-2026/")
    _submit(phone, "#publish-form button")
    assert "已公布" in phone.inner_text(".messages")
    town_b = county.units["town_b"].code
    assert "保留 → 整改期" in phone.inner_text(f"#designation-changes tr[data-unit='{town_b}']")
    phone.goto(phone.base + "/assessment/rounds/")
    assert "1 个整改期内" in phone.inner_text("#designations-link >> xpath=..")
    _submit(phone, "#designations-link")
    risk = phone.inner_text(f"#at-risk tr[data-unit='{town_b}']")
    assert "白河镇" in risk and "剩" in risk and "考核等次为不合格" in risk
    assert phone.locator("#at-risk tbody tr").count() == 1
    assert no_sideways_scroll(phone)

    # the fund, in proportion to the scores, with a floor; an awkward pool still sums to the fen
    phone.goto(phone.base + "/assessment/rounds/RT-2026/")
    _submit(phone, "#funds-link")
    phone.fill("#id_code", "JB-2026")
    phone.fill("#id_name", "2026年度优先发展重点镇以奖代补资金")
    phone.fill("#id_amount", "10000000.01")
    phone.select_option("#id_method", "proportional")
    phone.fill("#id_floor", "1000000")
    assert no_sideways_scroll(phone)
    _submit(phone, "#fund-form button[type=submit]")
    phone.wait_for_url("**/assessment/funds/JB-2026/")
    pool = FundPool.objects.get(code="JB-2026")
    shares = {a.unit.code: a.amount for a in pool.allocations.select_related("unit")}
    assert sum(shares.values()) == Decimal("10000000.01") and pool.remainder == 0
    assert min(shares.values()) >= Decimal("1000000")
    a = f"{shares[county.units['town_a'].code]:,.2f}"
    assert a in phone.inner_text(f"#allocation tr[data-code='{county.units['town_a'].code}']")
    assert "10,000,000.01" in phone.inner_text("#allocated")
