"""Lights in the browser (Playwright on Debian's Chromium, phone-sized, nothing off the
machine): the list's lamp, the task page's reasons and history, and the notifications the
light brought, marked read from the header's count."""

from __future__ import annotations

import datetime as dt

from chengzhen.ledger.queries import today_local
from chengzhen.ledger.tests.test_browser import browser, login, no_sideways_scroll, phone  # noqa: F401


def test_a_liaison_sees_the_red_light_its_reasons_and_its_notification(phone, county, make_task):  # noqa: F811
    overdue = today_local() - dt.timedelta(days=2)
    task = make_task("L1", name="青山镇农贸市场改造", status="in_progress",
                     start_date=dt.date(overdue.year, 1, 1), due_date=overdue)  # lit on creation
    from chengzhen.supervision.models import Light, Notification

    assert Light.objects.filter(task=task, level="red").exists()
    assert Notification.objects.filter(recipient=county.users["editor_a"]).count() == 1, list(
        Notification.objects.values_list("recipient__username", "title"))
    login(phone, "editor_a", "pw-editor_a")
    badge = phone.locator("header .badge")
    assert badge.inner_text() == "1"
    phone.goto(phone.base + "/ledger/")
    lamp = phone.locator("tr:has-text('青山镇农贸市场改造') .lamp")
    assert lamp.inner_text().strip() == "红灯"
    assert "已超过完成时限" in lamp.get_attribute("title")
    assert no_sideways_scroll(phone)
    phone.click("text=青山镇农贸市场改造")
    phone.wait_for_url(f"**/ledger/task/{task.pk}/")
    panel = phone.inner_text("#light")
    assert f"已超过完成时限（{overdue.isoformat()}）2天仍未完成" in panel
    assert "default@1" in panel and "— → 红灯" in panel
    phone.click("header a.notifications")
    assert "【红灯】青山镇农贸市场改造" in phone.inner_text("main")
    phone.click("text=标为已读")
    phone.wait_for_url("**/supervision/notifications/")
    assert phone.locator("header .badge").count() == 0


def test_the_supervisor_generates_edits_issues_and_downloads_a_bulletin(phone, county, make_task):  # noqa: F811
    from docx import Document

    from chengzhen.supervision.models import Bulletin

    make_task("B1", name="青山镇污水管网", status="in_progress")
    make_task("B2", lead="town_b", name="白河镇集镇道路", status="completed")
    login(phone, "supervisor", "pw-supervisor")
    phone.click("header >> text=工作通报")
    phone.select_option("#id_programme", label="2026年重点镇建设")
    last_month = today_local().replace(day=1) - dt.timedelta(days=1)
    phone.fill("#id_period", f"{last_month:%Y-%m}")
    phone.click("#generate button[type=submit]")
    phone.wait_for_url("**/supervision/bulletin/*/")
    assert phone.inner_text("#overall [data-figure=tasks]") == "2"
    assert phone.inner_text("#overall [data-figure=completed]") == "1"
    assert "白河镇" in phone.inner_text("#ranking")
    phone.fill("#id_requirements", "一要加快进度。\n<b>二要</b>按时报送。")
    phone.click("#edit-form button[type=submit]")
    phone.wait_for_load_state()
    assert "已保存" in phone.inner_text("main")
    assert "<b>二要</b>按时报送" in phone.input_value("#id_requirements")
    phone.click("#issue-form button[type=submit]")
    phone.wait_for_load_state()
    assert "已签发" in phone.inner_text("#bulletin-status")
    assert phone.locator("#edit-form").count() == 0  # frozen: no form any more
    b = Bulletin.objects.get()
    assert b.number == 1 and "<b>二要</b>按时报送。" in b.requirements
    with phone.expect_download() as info:
        phone.click("#download-docx")
    path = info.value.path()
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert "第1期" in text and "<b>二要</b>按时报送。" in text and "共有任务2个" in text
    import hashlib

    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == b.docx_sha256
