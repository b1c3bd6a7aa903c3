"""Incentive funds in the browser (Playwright on Debian's Chromium, phone-sized, nothing off the
machine): the supervisor, on a published round, opens the funds page from the round board,
allocates a pool by tiers, sees the table with its 结余 line and downloads the .xlsx."""

from __future__ import annotations

from openpyxl import load_workbook

from chengzhen.assessment.tests.test_fund_pages import NAME, published  # noqa: F401
from chengzhen.assessment.tests.test_rounds import round_  # noqa: F401
from chengzhen.ledger.tests.test_browser import browser, login, no_sideways_scroll, phone  # noqa: F401


def test_the_supervisor_allocates_a_fund_by_tiers_and_downloads_it(phone, county, published, tmp_path):  # noqa: F811
    login(phone, "supervisor", "pw-supervisor")
    phone.goto(phone.base + "/assessment/rounds/RT-2026/")
    with phone.expect_navigation():
        phone.click("#funds-link")
    assert "/assessment/funds/?round=RT-2026" in phone.url
    assert phone.locator("#new-fund").get_attribute("open") is not None
    phone.fill("#id_code", "JB-2026")
    phone.fill("#id_name", NAME)
    assert phone.input_value("#id_round") == "RT-2026"
    phone.fill("#id_amount", "6800万")
    phone.select_option("#id_method", "tiers")
    phone.fill("input[data-grade='优秀']", "1000万")
    phone.fill("input[data-grade='良好']", "7000000")
    phone.fill("input[data-grade='合格']", "3000000")
    assert no_sideways_scroll(phone)
    with phone.expect_navigation():
        phone.click("#fund-form button[type=submit]")
    phone.wait_for_url("**/assessment/funds/JB-2026/")
    assert "已分配 JB-2026" in phone.inner_text(".messages")
    town_a, town_b = county.units["town_a"].code, county.units["town_b"].code
    assert "7,000,000.00" in phone.inner_text(f"#allocation tr[data-code='{town_a}']")
    assert "3,000,000.00" in phone.inner_text(f"#allocation tr[data-code='{town_b}']")
    assert "10,000,000.00" in phone.inner_text("#allocated")
    remainder = phone.inner_text("#remainder")
    assert "结余" in remainder and "58,000,000.00" in remainder
    assert no_sideways_scroll(phone)
    with phone.expect_download() as info:
        phone.click("#download-xlsx")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    ws = load_workbook(saved).active
    rows = {row[1].value: row for row in ws.iter_rows(min_row=5)}
    assert rows["青山镇"][6].value == 7000000 and rows["合计"][6].value == 10000000
    assert rows["结余"][6].value == 58000000 and rows["结余"][7].value == 5800
