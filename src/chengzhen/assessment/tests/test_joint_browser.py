"""The merged list in the browser (Playwright on Debian's Chromium, phone-sized, nothing off the
machine): the supervisor merges three campaigns for the county, reads the matrix with the binding
threshold marked, filters the questions, settles a lead unit, previews and makes the tasks."""

from __future__ import annotations

from chengzhen.assessment.tests.test_campaigns import _programme, campaigns  # noqa: F401
from chengzhen.ledger.tests.test_browser import browser, login, no_sideways_scroll, phone  # noqa: F401


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_the_supervisor_merges_settles_and_makes_tasks(phone, county, campaigns):  # noqa: F811
    from chengzhen.ledger.models import Task

    target = _programme(county, "LC2026", "2026年创建工作台账")
    login(phone, "supervisor", "pw-supervisor")
    phone.goto(phone.base + "/assessment/joint/")
    phone.click("#new-plan summary")
    phone.fill("#id_code", "LC-2026")
    phone.fill("#id_name", "2026年创建合并指标")
    for code in ("WSCS2026", "YLCS2026", "WMCS2026"):
        phone.check(f"#plan-campaigns input[value='{code}']")
    phone.select_option("#id_subject", "411300")
    phone.fill("#id_year", "2026")
    assert no_sideways_scroll(phone)
    _submit(phone, "#plan-form button[type=submit]")
    phone.wait_for_url("**/assessment/joint/LC-2026/")
    assert "已合并 LC-2026" in phone.inner_text(".messages")
    green = "#matrix tr[data-key='green_coverage_rate']"
    assert phone.locator(f"{green} .threshold.binding").count() >= 1
    assert no_sideways_scroll(phone)
    # the questions only, then settle one of them
    _submit(phone, "#only-conflicts")
    question = phone.locator("#matrix tbody tr.conflict").first
    key = question.get_attribute("data-key")
    question.locator("details.settle summary").click()
    question.locator("select[name=lead_unit]").select_option(label="县住建局")
    with phone.expect_navigation():
        question.locator("details.settle button[type=submit]").click()
    assert "由 县住建局 牵头" in phone.inner_text(".messages")
    assert "县住建局" in phone.inner_text(f"#matrix tr[data-key='{key}']")
    # preview the tasks, then make them
    phone.select_option("#tasks-form select[name=programme]", "LC2026")
    _submit(phone, "#tasks-form button[type=submit]")
    assert phone.locator("#preview tr[data-action=create]").count() >= 1
    assert Task.objects.filter(programme=target).count() == 0
    _submit(phone, "#make-tasks button[type=submit]")
    assert "已生成台账任务" in phone.inner_text(".messages")
    assert Task.objects.filter(programme=target, code=f"LC-{key}"[:40], lead_unit__short_name="县住建局").exists()
    # the same list as one task per lead unit (职责归口) in another programme
    grouped = _programme(county, "LC2026G", "2026年创建工作台账（归口）")
    phone.goto(phone.base + "/assessment/joint/LC-2026/")
    phone.select_option("#tasks-form select[name=programme]", "LC2026G")
    phone.select_option("#tasks-form select[name=per]", "lead_unit")
    _submit(phone, "#tasks-form button[type=submit]")
    rows = phone.locator("#preview tr[data-action=create]")
    groups = rows.count()
    assert groups >= 2 and rows.first.locator(".members li").count() >= 1
    assert no_sideways_scroll(phone)
    _submit(phone, "#make-tasks button[type=submit]")
    assert "已生成台账任务" in phone.inner_text(".messages")
    assert Task.objects.filter(programme=grouped, code__startswith="LC-G-").count() == groups
