"""The interface language: Chinese by default, English by the header's switch (a cookie).

Through the real paths: Django's test client posting to ``/i18n/setlang/`` and reading the
pages, the API's JSON errors, and the committed catalog (``locale/en/LC_MESSAGES``) read as
files — the .po parsed here, the .mo by Python's own ``gettext``.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from chengzhen.documents.models import Job
from chengzhen.ledger.models import TimeNode
from chengzhen.ledger.queries import today_local
from chengzhen.programmes.models import Programme

from .test_import_pages import upload

CATALOG = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


def to_english(client, next_url: str = "/") -> None:
    """Use the switch as the header's form does; the cookie is then English."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": next_url})
    assert response.status_code == 302 and response.url == next_url
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def text_of(html: str) -> str:
    """What a reader sees (and the attributes shown as labels), without the markup."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    labels = " ".join(re.findall(r'(?:data-label|placeholder|aria-label)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + labels


def leftover_chinese(html: str, data: list[str]) -> list[str]:
    """Chinese text on an English page once the data (names as entered) is taken out."""
    text = text_of(html)
    for item in sorted(data, key=len, reverse=True):
        text = text.replace(item, " ")
    return CJK.findall(text)


@pytest.fixture
def running(county, make_task, running_programme):
    """The programme runs through today; a task of town_a with a cooperating unit and a node."""
    today = today_local()
    task = make_task("A1", name="青山镇主干道提升改造", coop=("dept",), category="基础设施",
                     start_date=dt.date(today.year, 1, 1), due_date=today + dt.timedelta(days=20),
                     responsible_person="王建国", responsible_user=county.users["editor_a"])
    TimeNode.objects.create(task=task, seq=1, name="开工", planned_date=today - dt.timedelta(days=3))
    return task


def data_of(county) -> list[str]:
    """The county's names as entered: they stay Chinese in either language."""
    names = ["中文", "青山镇主干道提升改造", "任务A1", "基础设施", "王建国", "开工"]
    names += [p.name for p in Programme.objects.all()]
    for unit in county.units.values():
        names += [unit.name, unit.short_name or unit.name]
    return names


def test_chinese_by_default_even_when_the_browser_asks_for_english(county, running, client):
    login_page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = login_page.content.decode()
    assert '<html lang="zh-Hans">' in html and "用户名" in html and "Username" not in html
    assert login_page["Content-Language"] == "zh-hans"
    # the login page has the switch too, offering English
    assert 'action="/i18n/setlang/"' in html and 'value="en"' in html and ">English<" in html
    client.force_login(county.users["editor_a"])
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "任务台账" in home and "30天内到期的任务" in home and "Task ledger" not in home
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"  # not offered: Chinese
    assert "任务台账" in client.get("/ledger/", HTTP_ACCEPT_LANGUAGE="fr,en").content.decode()


def test_the_switch_sets_the_cookie_returns_to_the_page_and_switches_back(county, running):
    client = Client(enforce_csrf_checks=True)  # the header's form, with its CSRF token
    login_page = client.get("/login/?next=/ledger/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/?next=/ledger/",
                                              "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response.url == "/login/?next=/ledger/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en" and int(cookie["max-age"]) >= 300 * 24 * 3600
    page = client.get(response.url)
    html = page.content.decode()
    assert page["Content-Language"] == "en" and '<html lang="en">' in html
    assert "Username" in html and "Password" in html and "Log in" in html and "用户名" not in html
    assert 'value="zh-hans"' in html and ">中文<" in html  # the switch now offers Chinese

    client = Client()
    client.force_login(county.users["editor_a"])
    here = "/ledger/?q=%E4%B8%BB%E5%B9%B2%E9%81%93&sort=due"  # ?q=主干道, as a browser sends it
    to_english(client, here)
    listing = client.get(here).content.decode()
    assert "Task ledger" in listing and "青山镇主干道提升改造" in listing
    # the header's form sends the reader back to this very page, query string and all
    assert 'name="next" value="/ledger/?q=%E4%B8%BB%E5%B9%B2%E9%81%93&amp;sort=due"' in listing
    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/ledger/"})
    assert back.url == "/ledger/" and client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert "任务台账" in client.get("/ledger/").content.decode()


def test_pages_show_english_chrome_and_the_data_as_entered(county, running, client):
    client.force_login(county.users["editor_a"])
    to_english(client)
    data = data_of(county)

    home = client.get("/").content.decode()
    assert "Hello, editor_a" in home and "Still to report this period" in home
    assert "Tasks due within 30 days" in home and "Report progress" in home and "Unit liaison" in home
    assert "青山镇主干道提升改造" in home
    for chinese in ("任务台账", "报送进度", "牵头单位", "本期待报送", "您好", "责任单位联络员"):
        assert chinese not in home
    assert leftover_chinese(home, data) == []

    listing = client.get("/ledger/").content.decode()
    for english in ("Task ledger", "Lead unit", "Due date", "Physical progress", "Time-elapsed share",
                    "Not started", "Export to Excel", "Import ledger", "1 task", "Page 1 of 1",
                    "How far behind schedule", "Filter"):
        assert english in listing, english
    assert "青山镇主干道提升改造" in listing and "青山镇" in listing and "2026年重点镇建设" in listing
    for chinese in ("任务台账", "牵头单位", "形象进度", "未启动", "导出 Excel", "筛选"):
        assert chinese not in listing
    assert leftover_chinese(listing, data) == []
    bad = client.get("/ledger/?status=whatever").content.decode()
    assert "status: Unknown status &#x27;whatever&#x27;" in bad

    task = client.get(f"/ledger/task/{running.pk}/").content.decode()
    for english in ("Programme", "Lead unit", "Cooperating units", "Responsible person",
                    "Time nodes (milestones)", "Missed", "Mark done", "Progress reports",
                    "No progress reports yet.", "Change history", "Report progress", "×10k yuan"):
        assert english in task, english
    assert "100.00 ×10k yuan" in task  # 1,000,000 yuan planned, in 万元 as offices count
    assert "县住房和城乡建设局" in task and "开工" in task and "王建国" in task
    for chinese in ("报送进度", "牵头单位", "配合单位", "变更记录", "万元"):
        assert chinese not in task
    assert leftover_chinese(task, data) == []

    report = client.get(f"/ledger/task/{running.pk}/report/").content.decode()
    for english in ("Report progress", "Reporting period", "Reporting unit", "Physical progress (%)",
                    "Investment completed this period (×10k yuan)", "Evidence (photos", "Submit"):
        assert english in report, english
    for chinese in ("报送进度", "报送期", "形象进度", "提交"):
        assert chinese not in report
    assert leftover_chinese(report, [*data, "12万", "125000元"]) == []  # how money may be written


def test_refused_report_in_english_gives_an_english_reason(county, running, client):
    client.force_login(county.users["editor_a"])
    to_english(client)
    url = f"/ledger/task/{running.pk}/report/"
    period = client.get(url).context["form"].fields["period"].choices[0][0]
    data = {"period": period, "unit": "411300101000", "physical_progress": "30"}
    done = client.post(url, data, follow=True).content.decode()
    assert f"Progress of A1 for {period} reported." in done and "已报送" not in done
    again = client.post(url, {**data, "physical_progress": "35"}).content.decode()
    assert (f"Reporting period: 青山镇人民政府 has already reported progress for {period}; "
            "to correct it, tick") in again
    assert "如需更正" not in again and "报送期" not in again
    html = io.BytesIO(b"<html><script>alert(1)</script></html>")
    html.name = "照片.jpg"
    page = client.post(url, {**data, "supersede": "on", "files": html}).content.decode()
    assert ("Evidence: 照片.jpg: only photos (JPEG, PNG, WebP), PDF and Office documents "
            "(.docx, .xlsx, .pptx) are accepted; judged by the file&#x27;s content") in page
    # the same refusal in Chinese once the switch is set back
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": url})
    assert "如需更正" in client.post(url, {**data, "physical_progress": "35"}).content.decode()


def test_import_page_preview_and_job_page_in_english(county, running, client, settings):
    from chengzhen.ledger.jobs import run_ledger_import

    client.force_login(county.users["supervisor"])
    to_english(client)
    page = client.get("/ledger/import/").content.decode()
    for english in ("Import ledger", "Programme", "Ledger file (.xlsx)", "Upload and preview",
                    "A preview comes first"):
        assert english in page, english
    assert "导入台账" not in page and "上传并预览" not in page
    assert leftover_chinese(page, data_of(county)) == []

    year = today_local().year
    rows = [["A1", "青山镇主干道（二期）", "青山镇", f"{year}-01-01", f"{year}-12-31"],
            ["N1", "新建的任务", "白河镇", f"{year}-02-01", f"{year}-09-30"]]
    preview = upload(client, rows).content.decode()
    for english in ("Preview: 台账.xlsx → 2026年重点镇建设", "New", "Changed", "Confirm import", "Discard"):
        assert english in preview, english
    assert "N1" in preview and "青山镇主干道（二期）" in preview  # the sheet's data as it is
    assert "确认导入" not in preview and "预览" not in preview

    refused = upload(client, [["X1", "x", "火星", f"{year}-01-01", f"{year}-12-31"]]).content.decode()
    assert "File not imported: 1 problem" in refused  # the sheet reader's reason itself stays Chinese

    settings.CHENGZHEN_IMPORT_JOB_ROWS = 2  # this sheet goes to the background worker
    upload(client, rows)
    response = client.post("/ledger/import/apply/", {"token": client.session["ledger_import"]["token"]})
    job = Job.objects.get()
    assert response.url == f"/jobs/{job.pk}/" and job.params["language"] == "en"
    queued = client.get(response.url).content.decode()
    for english in (f"Background job #{job.pk}", "Status: ", "Queued", "Waiting in the queue",
                    "This page refreshes itself every 2 seconds."):
        assert english in queued, english
    assert "排队" not in queued and "后台任务" not in queued
    run_ledger_import.call(job.pk)  # what the worker does, here in the test's process
    job.refresh_from_db()
    assert job.status == "done" and job.stage == "完成"  # stored as the importer reports it
    finished = client.get(response.url).content.decode()
    assert "Completed" in finished and "Finished" in finished and "View the ledger" in finished
    assert "Imported “台账.xlsx”: 1 new, 1 changed, 0 unchanged." in finished
    assert leftover_chinese(finished, [*data_of(county), "台账.xlsx"]) == []


def test_api_error_detail_follows_the_cookie(county, running, client):
    client.force_login(county.users["editor_a"])  # the page session: the API reads its cookie
    chinese = client.get("/api/tasks/?status=nope").json()
    assert chinese["detail"] == "输入有误" and chinese["errors"][0]["message"] == "未知状态 'nope'"
    assert client.get("/api/tasks/999999/").json()["detail"] == "未找到"
    to_english(client)
    bad = client.get("/api/tasks/?status=nope")
    assert bad.status_code == 400 and bad.json() == {
        "detail": "Invalid input", "errors": [{"field": "status", "message": "Unknown status 'nope'"}]}
    assert client.get("/api/tasks/999999/").json() == {"detail": "Not found", "errors": []}
    report = client.post(f"/api/tasks/{running.pk}/reports/", {
        "period": "2000-01", "unit": "411300101000", "physical_progress": "10"},
        content_type="application/json")
    assert report.status_code == 400 and "Reporting period 2000-01 is outside" in report.json()["detail"]


# -- the catalog --------------------------------------------------------------------------


def parse_po(path: Path) -> list[dict]:
    """The .po's entries: msgctxt, msgid, msgid_plural, msgstr (a list: one, or per plural
    form) and flags; a small reader for the file makemessages writes."""
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            finish()
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += value
            else:
                entry[field] += value
        else:
            keyword, quoted = line.split(" ", 1)
            value = ast.literal_eval(quoted)
            found = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
            if found:
                field = ("msgstr", int(found.group(1) or 0))
                entry["msgstr"][field[1]] = value
            else:
                field = keyword
                entry[field] = value
    return [dict(e, msgstr=[e["msgstr"][i] for i in sorted(e["msgstr"])]) for e in entries]


def test_every_entry_is_translated_and_none_is_fuzzy():
    entries = parse_po(CATALOG / "django.po")
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == "" and "fuzzy" not in header["flags"]
    assert "Language: en" in header["msgstr"][0] and "charset=UTF-8" in header["msgstr"][0]
    assert len(messages) > 200
    for e in messages:
        assert "fuzzy" not in e["flags"], e["msgid"]
        assert e["msgstr"] and all(s.strip() for s in e["msgstr"]), e["msgid"]
        assert len(e["msgstr"]) == (2 if "msgid_plural" in e else 1), e["msgid"]
        assert not CJK.search(" ".join(e["msgstr"]).replace("12万", "").replace("125000元", "")
                              .replace("6800万", "").replace("中文", "")), e["msgid"]  # money as typed
        # the same named placeholders on both sides
        names = set(re.findall(r"%\((\w+)\)", e["msgid"]))
        assert all(set(re.findall(r"%\((\w+)\)", s)) == names for s in e["msgstr"]), e["msgid"]


def test_committed_mo_matches_the_po():
    entries = parse_po(CATALOG / "django.po")[1:]
    with (CATALOG / "django.mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    keys = set()
    for e in entries:
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            assert mo.ngettext(msgid, e["msgid_plural"], 1) == e["msgstr"][0], e["msgid"]
            assert mo.ngettext(msgid, e["msgid_plural"], 2) == e["msgstr"][1], e["msgid"]
            keys.update((msgid, i) for i in range(len(e["msgstr"])))
        else:
            assert mo.gettext(msgid) == e["msgstr"][0], e["msgid"]
            keys.add(msgid)
    assert set(mo._catalog) - {""} == keys  # nothing in the .mo that the .po lacks
