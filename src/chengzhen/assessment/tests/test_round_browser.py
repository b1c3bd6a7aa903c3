"""A round in the browser (Playwright on Debian's Chromium, phone-sized, nothing off the machine):
a town fills a value with a photo as evidence; the supervisor verifies it, gathers the platform's
values, verifies them, scores and publishes; the town reads its scorecard and downloads the
assessment report (.docx)."""

from __future__ import annotations

from docx import Document

from chengzhen.assessment.tests.test_rounds import round_  # noqa: F401
from chengzhen.ledger.tests.test_browser import browser, jpeg, login, no_sideways_scroll, phone  # noqa: F401


def _logout(page) -> None:
    page.click("header form[action$='/logout/'] button")
    page.wait_for_load_state()


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_round_from_a_towns_value_to_its_published_scorecard(phone, county, round_, make_task, tmp_path):  # noqa: F811
    make_task("P1", status="completed")  # the platform's 任务完成率 for 青山镇: 100%
    login(phone, "editor_a", "pw-editor_a")
    phone.goto(phone.base + "/assessment/rounds/")
    phone.click("#rounds a.todo")
    phone.wait_for_url(f"**/assessment/rounds/RT-2026/todo/{county.units['town_a'].code}/")
    row = "section.todo-row[data-code=A1]"
    assert "平台取数" in phone.inner_text("section.todo-row[data-code=B1]")
    phone.fill(f"{row} input[name=amount]", "38")
    phone.fill(f"{row} textarea[name=evidence]", "绿地统计台账及现状照片")
    phone.set_input_files(f"{row} input[name=files]", files=[
        {"name": "绿地现状.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    assert no_sideways_scroll(phone)
    _submit(phone, f"{row} button[type=submit]")
    assert "已报送" in phone.inner_text(".messages")
    text = phone.inner_text(row)
    assert "待核查" in text and "绿地现状.jpg" in text and "38" in text
    _logout(phone)

    login(phone, "supervisor", "pw-supervisor")
    phone.goto(phone.base + "/assessment/rounds/")
    phone.click("#rounds >> text=核查队列")
    phone.wait_for_url("**/assessment/rounds/RT-2026/queue/")
    item = "section.queue-item[data-code=A1]"
    assert "青山镇" in phone.inner_text(item) and "绿地现状.jpg" in phone.inner_text(item)
    _submit(phone, f"{item} button.accept")
    assert "已核查" in phone.inner_text(".messages")
    phone.goto(phone.base + "/assessment/rounds/RT-2026/")
    _submit(phone, "#gather-form button")
    assert "平台取数完成" in phone.inner_text(".messages")
    phone.goto(phone.base + "/assessment/rounds/RT-2026/queue/")
    assert "末级任务" in phone.inner_text("#queue")
    for _ in range(20):  # accept every platform value
        if phone.locator("button.accept").count() == 0:
            break
        _submit(phone, "button.accept >> nth=0")
    assert phone.locator("#empty-queue").count() == 1
    phone.goto(phone.base + "/assessment/rounds/RT-2026/")
    _submit(phone, "#score-form button")
    assert "已评分" in phone.inner_text(".messages")
    _submit(phone, "#publish-form button")
    assert "已公布" in phone.inner_text(".messages") and "已公布" in phone.inner_text("#round-status")
    _logout(phone)

    login(phone, "editor_a", "pw-editor_a")
    phone.goto(phone.base + "/assessment/rounds/")
    phone.click("#rounds a.scorecard")
    phone.wait_for_url(f"**/assessment/rounds/RT-2026/scorecard/{county.units['town_a'].code}/")
    total = phone.inner_text("#total").strip()
    assert total == "64.00"  # A1 38% → 24, A2 not given → 0, B1 100% → 20, B2 no deductions → 20
    assert "建成区绿地率 38%，低于目标 40%" in phone.inner_text("#scorecard tr[data-code=A1]")
    assert no_sideways_scroll(phone)
    with phone.expect_download() as info:
        phone.click("#download-docx")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    doc = Document(saved)
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "2026年度测试考核" in text and total in cells


def test_a_supervisor_sets_up_a_round_on_a_phone(phone, county, round_):  # noqa: F811
    login(phone, "supervisor", "pw-supervisor")
    phone.goto(phone.base + "/assessment/rounds/")
    phone.click("#new-round summary")
    phone.fill("#id_code", "RT-2027")
    phone.fill("#id_name", "2027年度测试考核")
    phone.select_option("#id_framework", "RT@1")
    phone.fill("#id_year", "2027")
    for field, day in (("period_from", "2027-01-01"), ("period_to", "2027-12-31"), ("submit_by", "2027-12-20")):
        phone.fill(f"#id_{field}", day)
    phone.check(f"#units input[value='{county.units['town_a'].code}']")
    phone.check(f"#units input[value='{county.units['town_b'].code}']")
    phone.select_option("#id_previous", "RT-2026")
    assert no_sideways_scroll(phone)
    _submit(phone, "#round-form button[type=submit]")
    phone.wait_for_url("**/assessment/rounds/RT-2027/")
    assert "已建立考核轮次 RT-2027：2 个考核对象" in phone.inner_text(".messages")
    assert phone.locator("#progress tbody tr").count() == 2
