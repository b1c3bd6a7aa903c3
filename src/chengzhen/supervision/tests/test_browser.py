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
