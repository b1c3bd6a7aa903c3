"""Frameworks in the browser (Playwright on Debian's Chromium, phone-sized, nothing off the
machine): a supervisor imports a framework from a file and reads it as a tree; a town opens a
shipped framework, sees its class-dependent thresholds and downloads it as Excel."""

from __future__ import annotations

from openpyxl import load_workbook

from chengzhen.ledger.tests.test_browser import browser, login, no_sideways_scroll, phone  # noqa: F401

SMALL = """\
code: PAGE
version: "2026"
name: 页面测试体系
status: sample
sources: [测试]
nodes:
  - code: A
    name: 环境美
    points: 100
    children:
      - {code: A1, name: 建成区绿地率, points: 60, unit: "%", key: true, rule: {type: linear, floor: 30, target: 35}}
      - {code: A2, name: 市容问题, points: 40, unit: 处, rule: {type: deduction, per: 2}}
"""


def test_a_supervisor_imports_a_framework_and_a_town_reads_one(phone, county, tmp_path):  # noqa: F811
    src = tmp_path / "page.yaml"
    src.write_text(SMALL, encoding="utf-8")
    login(phone, "supervisor", "pw-supervisor")
    phone.click("header >> text=测评体系")
    phone.wait_for_url("**/assessment/frameworks/")
    assert "YLCS@2005" in phone.inner_text("#frameworks")
    phone.set_input_files("#id_file", str(src))
    phone.click("#import button[type=submit]")
    phone.wait_for_url("**/assessment/frameworks/PAGE@2026/")
    assert "已导入为 PAGE@2026" in phone.inner_text("main")
    row = phone.inner_text("#tree tr[data-code=A1]")
    assert "建成区绿地率" in row and "关键项" in row and "线性" in row
    assert "每" in phone.inner_text("#tree tr[data-code=A2]")
    assert no_sideways_scroll(phone)

    phone.click("header form[action$='/logout/'] button")
    login(phone, "editor_a", "pw-editor_a")
    phone.goto(phone.base + "/assessment/frameworks/")
    assert phone.locator("#import").count() == 0  # a town reads, does not import
    phone.click("text=YLCS@2005")
    phone.wait_for_url("**/assessment/frameworks/YLCS@2005/")
    assert "按对象类别取值" in phone.inner_text("#tree tr[data-code=A01]")
    assert "城市人口规模" in phone.inner_text("main")
    with phone.expect_download() as info:
        phone.click("text=下载 Excel")
    download = info.value
    assert download.suggested_filename == "YLCS@2005.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    wb = load_workbook(saved)
    names = [c.value for c in wb["测评体系"]["E"]]
    assert "人均公共绿地" in names
