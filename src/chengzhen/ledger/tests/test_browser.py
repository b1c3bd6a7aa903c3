"""Browser tests: Playwright driving Debian's Chromium against the live server.

Every page is opened on a phone-sized viewport (390 × 844); any request to an address off
this machine aborts and fails the test (the platform must work on a cut-off intranet).
"""

from __future__ import annotations

import io
import os
import shutil
from urllib.parse import urlparse

import pytest
from openpyxl import Workbook
from PIL import Image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is required for the browser tests (.ci/run installs it)")
    pytest.skip("Chromium not installed here; .ci/run installs it", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread while the browser is
    # open; the tests' own ORM calls (and the database flush after each) stay synchronous,
    # so Django's async-context guard is lifted for exactly that time.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.base = live_server.url
    yield page
    context.close()
    assert outside == [], f"requests left the machine: {outside}"


def login(page, username: str, password: str) -> None:
    page.goto(page.base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(page.base + "/")


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def ledger(county, make_task):
    return {"a": make_task("A1", name="青山镇主干道提升改造", category="基础设施"),
            "b": make_task("B1", lead="town_b", name="白河镇污水管网")}


def test_editor_reports_with_a_photo_on_a_phone(phone, ledger):
    login(phone, "editor_a", "pw-editor_a")
    assert no_sideways_scroll(phone)
    phone.goto(phone.base + "/ledger/")
    phone.fill("input[name=q]", "主干道")
    phone.click("form.filters button[type=submit]")
    phone.click("text=青山镇主干道提升改造")
    assert no_sideways_scroll(phone)
    phone.click("text=报送进度")
    phone.fill("#id_physical_progress", "35")
    phone.fill("#id_investment_wan", "12.5")
    phone.fill("#id_progress_text", "路基施工完成")
    phone.set_input_files("#id_files", files=[
        {"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    assert no_sideways_scroll(phone)
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"**/ledger/task/{ledger['a'].pk}/")
    body = phone.inner_text("main")
    assert "已报送" in body and "35.00%" in body and "现场.jpg" in body and "12.50万元" in body


def test_other_town_cannot_open_the_task_its_evidence_or_api(phone, ledger, county):
    from chengzhen.ledger import services
    from chengzhen.ledger.models import Evidence

    report = services.submit_report(county.users["editor_a"], ledger["a"], period="2026-05",
                                     unit=county.units["town_a"], physical_progress=10)
    evidence = services.attach_evidence(county.users["editor_a"], report, jpeg(), "现场.jpg")
    assert Evidence.objects.count() == 1
    login(phone, "editor_b", "pw-editor_b")
    for url in (f"/ledger/task/{ledger['a'].pk}/", f"/ledger/evidence/{evidence.pk}/",
                f"/api/tasks/{ledger['a'].pk}/"):
        assert phone.request.get(phone.base + url).status == 404, url
    assert phone.request.get(phone.base + f"/api/tasks/{ledger['b'].pk}/").status == 200


def test_supervisor_imports_previews_applies_and_sees_the_audit(phone, ledger):
    wb = Workbook()
    wb.active.append(["任务编号", "任务名称", "牵头单位", "开始时间", "完成时限"])
    wb.active.append(["A1", "青山镇主干道提升改造（二期）", "青山镇", "2026-01-01", "2026-12-31"])
    wb.active.append(["C1", "新增的任务", "白河镇", "2026-03-01", "2026-09-30"])
    data = io.BytesIO()
    wb.save(data)
    login(phone, "supervisor", "pw-supervisor")
    phone.goto(phone.base + "/ledger/import/")
    phone.select_option("#id_programme", "ZDZ2026")
    phone.set_input_files("#id_file", files=[{
        "name": "台账.xlsx", "buffer": data.getvalue(),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    phone.click("text=上传并预览")
    preview = phone.inner_text("main")
    assert "任务名称：青山镇主干道提升改造 → 青山镇主干道提升改造（二期）" in preview
    assert "新增" in preview
    phone.click("text=确认导入")
    phone.wait_for_url("**/ledger/?programme=ZDZ2026")
    assert "新增 1 项，修改 1 项" in phone.inner_text("main")
    phone.goto(phone.base + f"/ledger/task/{ledger['a'].pk}/")
    history = phone.inner_text("main")
    assert "supervisor" in history and "update" in history


def test_html_renamed_jpg_is_refused(phone, ledger):
    login(phone, "editor_a", "pw-editor_a")
    phone.goto(phone.base + f"/ledger/task/{ledger['a'].pk}/report/")
    phone.fill("#id_physical_progress", "20")
    phone.set_input_files("#id_files", files=[
        {"name": "照片.jpg", "mimeType": "image/jpeg",
         "buffer": b"<html><script>alert(1)</script></html>"}])
    phone.click("main button[type=submit]")
    assert "按文件内容判断" in phone.inner_text("main")


def test_editor_switches_to_english_and_back_from_the_header(phone, ledger):
    login(phone, "editor_a", "pw-editor_a")
    phone.goto(phone.base + "/ledger/?q=%E4%B8%BB%E5%B9%B2%E9%81%93")  # ?q=主干道
    assert phone.get_attribute("html", "lang") == "zh-Hans" and phone.inner_text("h1") == "任务台账"
    switch = phone.locator("header form.language button")
    box = switch.bounding_box()
    assert switch.inner_text() == "English" and box["x"] >= 0 and box["x"] + box["width"] <= 390
    with phone.expect_navigation():  # a POST to set_language, redirected back here
        switch.click()
    assert phone.get_attribute("html", "lang") == "en"
    assert phone.url.endswith("/ledger/?q=%E4%B8%BB%E5%B9%B2%E9%81%93")  # back on the same page
    assert phone.inner_text("h1") == "Task ledger"
    body = phone.inner_text("main")
    assert "Unit code (and the units below)" in body and "Not started" in body and "Page 1 of 1" in body
    assert "青山镇主干道提升改造" in body and "工作计划" not in body and "未启动" not in body
    # on a phone the rows are cards, each value labelled (CSS ::before) from its data-label
    labels = phone.eval_on_selector_all("main table.cards tbody td", "tds => tds.map(t => t.dataset.label)")
    assert labels[2:5] == ["Lead unit", "Due date", "Physical progress"]
    assert no_sideways_scroll(phone)
    phone.click("text=青山镇主干道提升改造")
    phone.wait_for_url(f"**/ledger/task/{ledger['a'].pk}/")
    assert "Report progress" in phone.inner_text("main") and no_sideways_scroll(phone)
    with phone.expect_navigation():
        phone.click("header form.language button")
    assert phone.get_attribute("html", "lang") == "zh-Hans"
    assert "报送进度" in phone.inner_text("main") and phone.inner_text("header form.language") == "English"
    assert no_sideways_scroll(phone)
