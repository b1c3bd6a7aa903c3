"""Bulletins (工作通报) through their real paths: the command writes a .docx and an .xlsx whose
numbers (read back from the files and from LibreOffice's PDF of them) are the database's;
issuing takes numbers under a lock and freezes the bulletin on every path (page, API, admin,
the ORM, SQL); an empty period says so; permissions; the scheduled draft in the real worker."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from chengzhen.ledger.models import AnnualPlan, ProgressReport
from chengzhen.supervision import bulletins
from chengzhen.supervision.models import (
    Accountability,
    Bulletin,
    BulletinSetting,
    FrozenBulletin,
    Light,
    LightChange,
    Notification,
)
from chengzhen.supervision.recompute import recompute

D = dt.date
CHENGZHEN = str(Path(sys.executable).parent / "chengzhen")
AS_OF = D(2026, 11, 30)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def report(task, period: str, progress, investment, on: dt.date, unit=None, problems="", coordination=""):
    return ProgressReport.objects.create(
        task=task, period=period, reporting_unit=unit or task.lead_unit, physical_progress=progress,
        investment=Decimal(investment), submitted_at=at(on), problems=problems,
        coordination=coordination)


def light_up(programme, day: dt.date) -> None:
    """The programme's lights as the nightly run of ``day`` leaves them (history from that day)."""
    LightChange.objects.filter(programme=programme).delete()
    Light.objects.filter(task__programme=programme).delete()
    recompute(programme=programme, today=day)


@pytest.fixture
def ledger(county, make_task):
    """Four tasks at 2026-11-30: T1 (青山镇) behind its year's investment, T2 (青山镇) completed,
    T3 (白河镇) overdue since 11-15 and not reported for 2026-11, T4 (住建局) starting in December."""
    t1 = make_task("T1", lead="town_a")
    t2 = make_task("T2", lead="town_a", status="completed")
    t3 = make_task("T3", lead="town_b", due_date=D(2026, 11, 15))
    t4 = make_task("T4", lead="dept", start_date=D(2026, 12, 1), due_date=D(2027, 6, 30))
    t1.status = t3.status = "in_progress"
    t1.save()
    t3.save()
    AnnualPlan.objects.create(task=t1, year=2026, amount=Decimal("800000"))
    report(t1, "2026-10", 80, "300000", D(2026, 10, 20))
    report(t1, "2026-11", 90, "200000", D(2026, 11, 20), problems="征地拆迁进度慢",
           coordination="请自然资源局协调用地指标")
    report(t3, "2026-10", 50, "0", D(2026, 10, 24), problems="资金未到位")
    report(t1, "2026-12", 95, "999999", D(2026, 12, 1))  # after the cutoff: not in the bulletin
    light_up(county.programme, AS_OF)
    return {"T1": t1, "T2": t2, "T3": t3, "T4": t4}


def expected_overall() -> dict:
    return {"tasks": 4, "completed": 1, "on_schedule": 1, "lagging": 1, "overdue": 1}


def test_the_figures_are_the_ledger_at_the_cutoff(county, ledger):
    b = bulletins.generate(county.users["supervisor"], county.programme, D(2026, 11, 1), AS_OF,
                           today=D(2026, 12, 2))
    fig = bulletins.pure.Figures.from_json(b.figures)
    o = fig.overall
    assert {k: getattr(o, k) for k in expected_overall()} == expected_overall()
    assert o.year_plan == Decimal("800000") and o.year_completed == Decimal("500000")
    assert o.year_rate == Decimal("62.50")
    assert o.time_share == Decimal("91.51")  # 334 of 365 days
    assert o.ahead_points == Decimal("-29.01")
    ranking = [(u.rank, u.unit_code, u.composite) for u in fig.units]
    # 青山镇 50/50/100 → 60; 住建局 0/100, nothing due → (0.4·0 + 0.4·100)/0.8 = 50; 白河镇 0/0/0
    assert ranking == [(1, "411300101000", Decimal("60.00")), (2, "ZJJ", Decimal("50.00")),
                       (3, "411300102000", Decimal("0.00"))]
    lit = {t.task_id for t in fig.red_list}
    assert lit == set(Light.objects.filter(level__in=("red", "yellow")).values_list("task_id", flat=True))
    assert ledger["T3"].pk in lit and fig.red_list[0].task_id == ledger["T3"].pk  # red first
    # 白河镇 has an overdue task; 青山镇 is commended unless T1's light counts
    town_a_lit = ledger["T1"].pk in lit
    assert [u.unit_code for u in fig.commended] == (["ZJJ"] if town_a_lit else ["411300101000", "ZJJ"])
    assert [(n.task_code, n.problems) for n in fig.problems] == [("T1", "征地拆迁进度慢")]
    assert b.title == "关于2026年11月重点镇建设推进情况的通报"
    assert b.figures_sha256 == bulletins.figures_hash(b.figures) and b.status == "draft"


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append("\t".join(c.text for c in row.cells))
    return "\n".join(parts)


@pytest.mark.django_db(transaction=True)
def test_the_command_writes_the_docx_and_xlsx_whose_numbers_are_the_databases(county, ledger, tmp_path):
    from chengzhen.ledger.tests.test_jobs import worker_env

    light_up(county.programme, AS_OF)
    out = subprocess.run([CHENGZHEN, "bulletin", "generate", "--programme", "ZDZ2026",
                          "--period", "2026-11-01..2026-11-30", "--issue", "--as", "supervisor",
                          "-o", str(tmp_path / "out")], capture_output=True, text=True,
                         env=worker_env(), timeout=180)
    assert out.returncode == 0, out.stderr
    docx_path, xlsx_path = (Path(p) for p in out.stdout.split())
    assert docx_path.suffix == ".docx" and xlsx_path.suffix == ".xlsx"
    b = Bulletin.objects.get()
    assert (b.status, b.number, b.year, b.issued_by.username) == ("issued", 1, 2026, "supervisor")
    assert hashlib.sha256(docx_path.read_bytes()).hexdigest() == b.docx_sha256
    assert hashlib.sha256(xlsx_path.read_bytes()).hexdigest() == b.xlsx_sha256
    fig = bulletins.pure.Figures.from_json(b.figures)

    text = docx_text(docx_path.read_bytes())
    o = fig.overall
    assert (f"共有任务{o.tasks}个，已完成{o.completed}个，正常推进{o.on_schedule}个，"
            f"滞后{o.lagging}个，逾期{o.overdue}个") in text
    assert "占年度计划的62.50%" in text and "低于序时进度29.01个百分点" in text
    assert "第1期" in text
    for u in fig.units:
        assert any(line.startswith(f"{u.rank}\t{u.unit_name}\t{u.tasks}\t") and line.endswith(f"\t{u.composite}")
                   for line in text.splitlines()), u

    # the GB/T 9704 page: A4, margins 37/35/28/26 mm, 仿宋_GB2312 body, a PAGE field in the footer
    doc = Document(str(docx_path))
    section = doc.sections[0]
    assert [round(x.mm) for x in (section.page_width, section.page_height, section.top_margin,
                                  section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [210, 297, 37, 35, 28, 26]
    body_fonts = {r._element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
                  for p in doc.paragraphs for r in p.runs if r.text.strip() and r._element.rPr is not None}
    assert {"仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"} <= body_fonts
    assert "PAGE" in section.footer._element.xml

    wb = load_workbook(xlsx_path)
    ws = wb["任务明细"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5) if row[1].value]
    codes = {r[1]: r for r in rows}
    assert set(codes) == {"T1", "T2", "T3", "T4"}
    header = [c.value for c in ws[4]]
    year_done = header.index("年度完成投资") if "年度完成投资" in header else None
    if year_done is not None:
        assert Decimal(str(codes["T1"][year_done])) * 10000 == Decimal("500000")

    # LibreOffice reads both files and prints the same numbers
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: .ci/run installs it")
    from chengzhen.documents.render import pdf_text, to_pdf

    pdf = pdf_text(to_pdf(docx_path, tmp_path / "pdf"))
    flat = "".join(pdf.split())
    assert f"共有任务{o.tasks}个" in flat and "62.50%" in flat and f"{fig.units[0].composite}" in flat
    sheet_pdf = "".join(pdf_text(to_pdf(xlsx_path, tmp_path / "pdf")).split())
    assert "T1" in sheet_pdf and "T3" in sheet_pdf


@pytest.mark.django_db(transaction=True)
def test_two_bulletins_issued_at_the_same_moment_get_different_numbers(county, ledger):
    from conftest import run_concurrently

    sup = county.users["supervisor"]
    drafts = [bulletins.generate(sup, county.programme, D(2026, 11, 1), AS_OF, today=D(2026, 12, 2))
              for _ in range(2)]

    def work(n: int) -> None:
        b = Bulletin.objects.get(pk=drafts[n].pk)
        bulletins.issue(sup, b, expected_version=b.version)

    assert run_concurrently(work, workers=2) == []
    assert sorted(Bulletin.objects.values_list("number", flat=True)) == [1, 2]
    assert len({b.docx_sha256 for b in Bulletin.objects.all()}) == 2


def test_an_issued_bulletin_cannot_be_changed_on_any_path(county, ledger, client):
    sup = county.users["supervisor"]
    b = bulletins.generate(sup, county.programme, D(2026, 11, 1), AS_OF, today=D(2026, 12, 2))
    b = bulletins.issue(sup, b, expected_version=b.version)
    frozen = (b.version, b.figures_sha256, b.requirements, b.docx_sha256)
    client.force_login(sup)
    # page
    r = client.post(f"/supervision/bulletin/{b.pk}/", {"title": "x", "requirements": "x",
                                                        "expected_version": b.version})
    assert r.status_code == 403
    r = client.post(f"/supervision/bulletin/{b.pk}/refresh/", {"expected_version": b.version})
    assert r.status_code == 302
    # API
    r = client.patch(f"/api/bulletins/{b.pk}/", {"requirements": "x"}, content_type="application/json",
                     headers={"If-Match": f'"{b.version}"'})
    assert r.status_code == 409 and "已签发" in r.json()["detail"]
    for path in (f"/api/bulletins/{b.pk}/issue/", f"/api/bulletins/{b.pk}/refresh/"):
        assert client.post(path, headers={"If-Match": f'"{b.version}"'}).status_code == 409
    assert client.delete(f"/api/bulletins/{b.pk}/").status_code == 409
    # admin
    client.force_login(county.users["admin"])
    r = client.post(f"/admin/supervision/bulletin/{b.pk}/change/", {"requirements": "x"})
    assert r.status_code == 403
    # the ORM and SQL
    b.requirements = "x"
    with pytest.raises(FrozenBulletin):
        b.save()
    with pytest.raises(FrozenBulletin):
        Bulletin.objects.get(pk=b.pk).delete()
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Bulletin.objects.filter(pk=b.pk).update(requirements="x")
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE supervision_bulletin SET number = 99 WHERE id = %s", [b.pk])
    b = Bulletin.objects.get(pk=b.pk)
    assert (b.version, b.figures_sha256, b.requirements, b.docx_sha256) == frozen
    assert bulletins.intact(b)


def test_issued_figures_are_never_recomputed_but_a_draft_refreshes(county, ledger):
    sup = county.users["supervisor"]
    issued = bulletins.generate(sup, county.programme, D(2026, 11, 1), AS_OF, today=D(2026, 12, 2))
    issued = bulletins.issue(sup, issued, expected_version=issued.version)
    draft = bulletins.generate(sup, county.programme, D(2026, 11, 21), AS_OF, today=D(2026, 12, 2))
    before = draft.figures_sha256
    ledger["T2"].status = "in_progress"
    ledger["T2"].save()
    draft = bulletins.refresh(sup, draft, expected_version=draft.version, today=D(2026, 12, 2))
    assert draft.figures_sha256 != before
    assert bulletins.pure.Figures.from_json(draft.figures).overall.completed == 0
    issued.refresh_from_db()
    assert bulletins.pure.Figures.from_json(issued.figures).overall.completed == 1
    assert bulletins.figures_hash(issued.figures) == issued.figures_sha256


def test_issuing_records_commendations_and_criticisms_naming_the_bulletin(county, ledger):
    sup = county.users["supervisor"]
    b = bulletins.generate(sup, county.programme, D(2026, 11, 1), AS_OF, today=D(2026, 12, 2))
    b = bulletins.issue(sup, b, expected_version=b.version, issued_on=D(2026, 12, 2))
    records = {(a.kind, a.unit.code) for a in Accountability.objects.filter(bulletin=b)}
    assert ("commend", "ZJJ") in records and ("criticise", "411300102000") in records
    assert ("commend", "411300102000") not in records
    criticised = Accountability.objects.get(bulletin=b, unit__code="411300102000")
    assert {x["code"] for x in criticised.lights} == {"T3"} and criticised.on == D(2026, 12, 2)


def test_a_bulletin_for_an_empty_period_says_so(county, client):
    b = bulletins.generate(county.users["supervisor"], county.programme, D(2026, 11, 1), AS_OF,
                           today=D(2026, 12, 2))
    fig = bulletins.pure.Figures.from_json(b.figures)
    assert fig.overall.tasks == 0 and list(fig.units) == []
    assert "本期无任务数据" in docx_text(bulletins.build_file(b, ".docx"))
    load_workbook(io.BytesIO(bulletins.build_file(b, ".xlsx")))  # opens
    client.force_login(county.users["supervisor"])
    page = client.get(f"/supervision/bulletin/{b.pk}/").content.decode()
    assert "本期无任务数据" in page


def test_text_is_written_as_text_never_markup(county, ledger, client):
    sup = county.users["supervisor"]
    b = bulletins.generate(sup, county.programme, D(2026, 11, 1), AS_OF, today=D(2026, 12, 2))
    client.force_login(sup)
    evil = "<script>alert(1)</script>\n=1+1"
    r = client.post(f"/supervision/bulletin/{b.pk}/", {
        "title": b.title, "recipient": "各镇", "requirements": evil, "expected_version": b.version})
    assert r.status_code == 302
    page = client.get(f"/supervision/bulletin/{b.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    b.refresh_from_db()
    text = docx_text(bulletins.build_file(b, ".docx"))
    assert "<script>alert(1)</script>" in text and "=1+1" in text


def test_a_stale_edit_is_refused(county, ledger, client):
    sup = county.users["supervisor"]
    b = bulletins.generate(sup, county.programme, D(2026, 11, 1), AS_OF, today=D(2026, 12, 2))
    client.force_login(sup)
    r = client.patch(f"/api/bulletins/{b.pk}/", {"requirements": "一"}, content_type="application/json",
                     headers={"If-Match": f'"{b.version}"'})
    assert r.status_code == 200 and r.json()["requirements"] == "一"
    r = client.patch(f"/api/bulletins/{b.pk}/", {"requirements": "二"}, content_type="application/json",
                     headers={"If-Match": f'"{b.version}"'})
    assert r.status_code == 412
    page = client.post(f"/supervision/bulletin/{b.pk}/", {
        "title": b.title, "requirements": "三", "expected_version": b.version})
    assert page.status_code == 400 and "已被他人修改" in page.content.decode()
    b.refresh_from_db()
    assert b.requirements == "一"


def test_who_sees_and_makes_bulletins(county, ledger, client):
    sup = county.users["supervisor"]
    issued = bulletins.generate(sup, county.programme, D(2026, 11, 1), AS_OF, today=D(2026, 12, 2))
    issued = bulletins.issue(sup, issued, expected_version=issued.version)
    draft = bulletins.generate(sup, county.programme, D(2026, 11, 21), AS_OF, today=D(2026, 12, 2))
    other = bulletins.generate(sup, county.other_programme, D(2026, 10, 1), D(2026, 12, 31),
                               today=D(2026, 12, 2))
    other = bulletins.issue(sup, other, expected_version=other.version)
    seen = {}
    for name in ("supervisor", "leader", "editor_a", "editor_a_p1", "inspector"):
        client.force_login(county.users[name])
        seen[name] = {b["id"] for b in client.get("/api/bulletins/").json()["results"]}
    assert seen["supervisor"] == seen["leader"] == {issued.pk, draft.pk, other.pk}
    assert seen["editor_a"] == seen["inspector"] == {issued.pk, other.pk}  # published only
    assert seen["editor_a_p1"] == {issued.pk}  # limited to the first programme
    client.force_login(county.users["editor_a"])
    assert client.get(f"/supervision/bulletin/{draft.pk}/").status_code == 404
    assert client.get(f"/supervision/bulletin/{issued.pk}/docx/").status_code == 200
    r = client.post("/api/bulletins/", {"programme": "ZDZ2026", "period": "2026-11"},
                    content_type="application/json")
    assert r.status_code == 403
    r = client.post("/supervision/bulletins/new/", {"programme": county.programme.pk, "period": "2026-11"})
    assert r.status_code == 400 and Bulletin.objects.count() == 3
    client.force_login(county.users["leader"])
    assert client.post(f"/api/bulletins/{draft.pk}/issue/",
                       headers={"If-Match": f'"{draft.version}"'}).status_code == 403


def test_bad_periods_are_refused_with_a_message(county, tmp_path):
    from chengzhen.problems import Refused

    for text, reason in (("2026-13", "应为日期"), ("2026-11-30..2026-11-01", "早于"), ("", "应为日期")):
        with pytest.raises(Refused) as exc:
            bulletins.parse_span(text)
        assert reason in str(exc.value)
    assert bulletins.parse_span("2026-11-D2") == (D(2026, 11, 11), D(2026, 11, 20))
    assert bulletins.parse_span("2026-10..2026-11") == (D(2026, 10, 1), D(2026, 11, 30))
    assert bulletins.span_label(D(2026, 11, 21), D(2026, 11, 30)) == "2026年11月下旬"
    assert bulletins.span_label(D(2026, 10, 1), D(2026, 12, 31)) == "2026年第四季度"


@pytest.mark.django_db(transaction=True)
def test_bad_command_input_exits_1_and_writes_nothing(county, tmp_path):
    from chengzhen.ledger.tests.test_jobs import worker_env

    for args, message in ((["--programme", "NOPE", "--period", "2026-11"], "没有计划 NOPE"),
                          (["--programme", "ZDZ2026", "--period", "11月"], "--period")):
        out = subprocess.run([CHENGZHEN, "bulletin", "generate", *args, "-o", str(tmp_path)],
                             capture_output=True, text=True, env=worker_env(), timeout=120)
        assert out.returncode == 1 and message in out.stderr, out.stderr
    out = subprocess.run([CHENGZHEN, "bulletin", "generate", "--programme", "ZDZ2026", "--period",
                          "2026-11", "--as", "editor_a", "-o", str(tmp_path)],
                         capture_output=True, text=True, env=worker_env(), timeout=120)
    assert out.returncode == 1 and "无权限" in out.stderr
    assert Bulletin.objects.count() == 0 and not list(tmp_path.iterdir())


def test_the_scheduler_knows_the_bulletin_job():
    import crontask

    import chengzhen.supervision.tasks  # noqa: F401 - registering is importing

    jobs = {j.name: j.trigger for j in crontask.scheduler.get_jobs()}
    assert "hour='0', minute='40'" in str(jobs["generate_scheduled_bulletins"])


@pytest.mark.django_db(transaction=True)
def test_scheduled_bulletins_are_drafted_by_the_worker_and_announced(county, ledger):
    from chengzhen.ledger.tests.test_jobs import run_worker
    from chengzhen.supervision.tasks import generate_scheduled_bulletins

    BulletinSetting.objects.create(programme=county.programme, cycle="dekad",
                                   requirements="各单位要对照亮灯问题逐项整改。")
    generate_scheduled_bulletins.enqueue()
    run_worker()
    today = timezone.localdate()
    last = bulletins.progress.previous_period(bulletins.progress.period_of(today, "dekad"), "dekad")
    b = Bulletin.objects.get()
    assert (b.status, b.source, b.period_from, b.period_to) == ("draft", "schedule", last.first_day,
                                                                last.last_day)
    assert b.requirements == "各单位要对照亮灯问题逐项整改。" and b.created_by.username == "system"
    note = Notification.objects.get(kind="bulletin")
    assert note.recipient == county.users["supervisor"] and note.url == f"/supervision/bulletin/{b.pk}/"
    # the next night makes no second draft for the same period
    generate_scheduled_bulletins.enqueue()
    run_worker()
    assert Bulletin.objects.count() == 1
