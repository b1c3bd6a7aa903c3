"""The supervision board (督查看板) against the real database and through real HTTP: counts
equal the lights recompute wrote, this week's changes, reminders due, open rectifications,
letters and interviews; a unit liaison sees only their own units; the API equals the page;
the number of queries does not grow with the number of tasks; every row drills down to its
task and the task page shows the light's reasons."""

from __future__ import annotations

import datetime as dt
from html import unescape

import lxml.html
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chengzhen.ledger import services as ledger
from chengzhen.ledger.models import Task
from chengzhen.org.models import User
from chengzhen.supervision import board as board_module
from chengzhen.supervision import board_api, board_views
from chengzhen.supervision.models import (
    Escalation,
    Inspection,
    LightChange,
    Rectification,
    RuleSetVersion,
)
from chengzhen.supervision.recompute import recompute
from chengzhen.supervision.services import levels_in_use

D = dt.date
JULY_1, JULY_20, JULY_23 = D(2026, 7, 1), D(2026, 7, 20), D(2026, 7, 23)  # reports due on the 25th
ZDZ, MLCZ, TOWN_A, TOWN_B = "ZDZ2026", "MLCZ2026", "411300101000", "411300102000"
MAX_QUERIES = 18  # the board page: 14, and one count for each list cut off at its limit


def report(county, task, period: str, progress: float, unit: str = "town_a"):
    return ledger.submit_report(county.users["supervisor"], task, period=period,
                                unit=county.units[unit], physical_progress=progress)


def rectification(county, make_task, code: str, lead: str, deadline: dt.date, **fields):
    """A rectification (督查整改) from an inspection, made directly: its ledger task and row."""
    inspection = Inspection.objects.create(
        kind="unannounced", programme=county.programme, held_on=D(2026, 6, 1), place="镇区",
        inspectors="督查组", findings="道路施工围挡不规范", recorded_at=timezone.now())
    task = make_task(code, lead=lead, category="督查整改", due_date=deadline, **fields)
    return Rectification.objects.create(inspection=inspection, unit=county.units[lead],
                                        requirement=f"整改{code}", deadline=deadline, task=task)


@pytest.fixture
def lit(county, make_task):
    """Lights as recompute writes them on 1 July 2026 (序时进度 49.9 %), then on 20 July:

    ZDZ2026 青山镇: T1 red (10 %), T2 red (overdue), T3 blue (closed), T4 green → blue on 20 July
    (closed), T5 yellow (no June report), R1 red (a rectification, 51 % behind) — three reds
    in July: an interview. 白河镇: T6, T7 yellow (35 %: two yellows, a letter), R2 green (a
    rectification completed), R3 grey (a rectification not started). MLCZ2026 青山镇: M1 red.
    """
    going = {"status": "in_progress"}
    t = {
        "T1": make_task("T1", **going), "T2": make_task("T2", due_date=D(2026, 6, 1), **going),
        "T3": make_task("T3", status="closed"), "T4": make_task("T4", **going),
        "T5": make_task("T5", **going), "T6": make_task("T6", lead="town_b", **going),
        "T7": make_task("T7", lead="town_b", **going),
        "M1": make_task("M1", programme=county.other_programme, due_date=D(2026, 6, 1), **going),
    }
    report(county, t["T1"], "2026-06", 10)
    report(county, t["T2"], "2026-06", 95)
    report(county, t["T4"], "2026-06", 60)
    report(county, t["T5"], "2026-05", 60)
    report(county, t["T6"], "2026-06", 35, unit="town_b")
    report(county, t["T7"], "2026-06", 35, unit="town_b")
    rect = {
        "R1": rectification(county, make_task, "R1", "town_a", D(2026, 7, 31),
                            start_date=D(2026, 6, 1), **going),
        "R2": rectification(county, make_task, "R2", "town_b", D(2026, 7, 10), status="completed"),
        "R3": rectification(county, make_task, "R3", "town_b", D(2026, 8, 31),
                            start_date=D(2026, 8, 1), status="not_started"),
    }
    t.update({code: r.task for code, r in rect.items()})
    recompute(today=JULY_1)
    t4 = Task.objects.get(pk=t["T4"].pk)
    t4.status = "closed"
    t4.save()
    recompute(today=JULY_20)
    # a letter of last year and a closed interview: not on the board
    version = RuleSetVersion.objects.get(rule_set__code="default", number=1)
    common = {"programme": county.programme, "period": "2025-12", "step": 0, "rule_version": version,
              "created_at": timezone.now()}
    Escalation.objects.create(kind="letter", unit=county.units["town_a"], level="yellow", year=2025,
                              number=99, reference="old-letter", **common)
    Escalation.objects.create(kind="interview", unit=county.units["town_b"], level="red", year=2026,
                              number=99, reference="closed-interview", status="closed",
                              held_on=D(2026, 7, 5), **common)
    return t


@pytest.fixture
def on_july_23(monkeypatch):
    """The page and the API computed for 23 July 2026 (the board's "today")."""
    for module in (board_views, board_api):
        monkeypatch.setattr(module, "today_local", lambda: JULY_23)


def counts(b) -> dict[tuple[str, str], dict[str, int]]:
    """{(programme, unit): {level: n, lit, tasks}} without the zeros."""
    return {(r.programme_code, r.unit_code): {**{k: v for k, v in r.counts.items() if v},
                                              "lit": r.lit, "tasks": r.tasks} for r in b.units}


def test_counts_by_level_per_unit_and_programme_equal_the_lights(county, lit):
    b = board_module.board(county.users["supervisor"], JULY_23)
    assert [lv.code for lv in b.levels] == [code for code, _n, _c in levels_in_use()]
    assert [lv.code for lv in b.levels][:2] == ["red", "yellow"]  # most severe first
    assert counts(b) == {
        (ZDZ, TOWN_A): {"red": 3, "yellow": 1, "blue": 2, "lit": 4, "tasks": 6},
        (ZDZ, TOWN_B): {"yellow": 2, "green": 1, "grey": 1, "lit": 2, "tasks": 4},
        (MLCZ, TOWN_A): {"red": 1, "lit": 1, "tasks": 1},
    }
    assert [(r.programme_code, r.unit_code) for r in b.units] == [(MLCZ, TOWN_A), (ZDZ, TOWN_A),
                                                                  (ZDZ, TOWN_B)]
    red = next(lv for lv in b.levels if lv.code == "red")
    assert (red.name, red.colour, red.counts) == ("红灯", "#d32f2f", True)
    assert {c.level.code: c.count for c in b.level_totals}["red"] == 4
    # one programme
    only = board_module.board(county.users["supervisor"], JULY_23, county.other_programme)
    assert counts(only) == {(MLCZ, TOWN_A): {"red": 1, "lit": 1, "tasks": 1}}
    assert only.reminders.total == only.rectifications.total == only.escalations.total == 0


def test_changes_this_week_newest_first_with_reasons_and_a_limit(county, lit, monkeypatch):
    b = board_module.board(county.users["supervisor"], JULY_23)
    assert b.week_from == D(2026, 7, 17)
    [change] = b.changes.rows
    assert (change.task_id, change.on, change.from_level.code, change.to_level.code) == (
        lit["T4"].pk, JULY_20, "green", "blue")
    assert (change.to_level.name, change.to_level.colour, change.reasons) == (
        "蓝灯（已销号）", "#1565c0", ["已销号"])
    assert change.unit_code == TOWN_A and b.changes.total == 1 and not b.changes.truncated
    # the week of 1 July: every task's first light
    first = board_module.board(county.users["supervisor"], D(2026, 7, 6))
    assert first.changes.total == 11 and all(c.from_level is None for c in first.changes.rows)
    assert first.changes.total == LightChange.objects.filter(on=JULY_1).count()
    assert board_module.board(county.users["supervisor"], D(2026, 7, 8)).changes.total == 0
    monkeypatch.setattr(board_module, "LIST_LIMIT", 3)
    cut = board_module.board(county.users["supervisor"], D(2026, 7, 6))
    assert (len(cut.changes.rows), cut.changes.total, cut.changes.truncated) == (3, 11, True)
    assert [c.id for c in cut.changes.rows] == sorted((c.id for c in first.changes.rows), reverse=True)[:3]


def test_reminders_due_within_the_configured_days(county, lit, settings):
    b = board_module.board(county.users["supervisor"], JULY_23)  # 2026-07 due on 25 July
    assert b.reminder_days == 3
    assert [r.task_code for r in b.reminders.rows] == ["R1", "T1", "T2", "T5", "T6", "T7"]
    assert {(r.period, r.deadline, r.days_left) for r in b.reminders.rows} == {("2026-07", D(2026, 7, 25), 2)}
    # a July report by the lead unit settles it
    report(county, lit["T5"], "2026-07", 70)
    again = board_module.board(county.users["supervisor"], JULY_23)
    assert "T5" not in [r.task_code for r in again.reminders.rows]
    # five days ahead is outside three days; inside thirty
    assert board_module.board(county.users["supervisor"], JULY_20).reminders.total == 0
    settings.CHENGZHEN_BOARD_REMINDER_DAYS = 5
    assert board_module.board(county.users["supervisor"], JULY_20).reminders.total == 5
    settings.CHENGZHEN_BOARD_REMINDER_DAYS = 1
    assert board_module.board(county.users["supervisor"], JULY_23).reminders.total == 0


def test_open_rectifications_and_letters_and_interviews(county, lit):
    b = board_module.board(county.users["supervisor"], JULY_23)
    rows = b.rectifications.rows
    assert [(r.task_code, r.unit_code, r.deadline, r.days_left) for r in rows] == [
        ("R1", TOWN_A, D(2026, 7, 31), 8), ("R3", TOWN_B, D(2026, 8, 31), 39)]
    assert [r.light.code for r in rows] == ["red", "grey"]
    assert rows[0].inspection_kind_name == "明察暗访" and rows[0].requirement == "整改R1"
    late = board_module.board(county.users["supervisor"], D(2026, 8, 3)).rectifications.rows[0]
    assert (late.days_left, late.days_late) == (-3, 3)

    interview = Escalation.objects.get(kind="interview", status="open")
    letter = Escalation.objects.get(kind="letter", year=2026)
    assert (interview.unit.code, letter.unit.code) == (TOWN_A, TOWN_B)
    assert {e.id for e in b.escalations.rows} == {interview.pk, letter.pk}
    assert [(u.unit_code, u.letters, u.interviews) for u in b.escalation_units] == [
        (TOWN_A, 0, 1), (TOWN_B, 1, 0)]
    # an interview held stays on the board until it is closed (已办结)
    Escalation.objects.filter(pk=interview.pk).update(status="held", held_on=JULY_20)
    assert [e.status for e in board_module.board(county.users["supervisor"], JULY_23).escalations.rows
            if e.kind == "interview"] == ["held"]
    Escalation.objects.filter(pk=interview.pk).update(status="closed")
    assert [e.kind for e in board_module.board(county.users["supervisor"], JULY_23).escalations.rows] == [
        "letter"]
    # next year, this year's letters are last year's
    assert board_module.board(county.users["supervisor"], D(2027, 1, 5)).escalations.total == 0


def page(client, url: str = "/supervision/board/"):
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode(), lxml.html.fromstring(response.content)


def page_figures(tree) -> dict:
    """What the page shows, as the API names it."""
    units = {}
    for tr in tree.xpath("//table[@id='units']/tbody/tr[@data-unit]"):
        cells = {td.get("data-level"): int(td.get("data-count")) for td in tr.xpath("./td[@data-level]")}
        units[(tr.get("data-programme"), tr.get("data-unit"))] = cells

    def ids(section: str, attribute: str = "data-task") -> list[int]:
        return [int(tr.get(attribute)) for tr in tree.xpath(f"//*[@id='{section}']/tr[@{attribute}]")]

    return {"units": units, "changes": ids("change-rows"), "reminders": ids("reminder-rows"),
            "rectifications": ids("rectification-rows"),
            "escalations": ids("escalation-rows", "data-escalation"),
            "escalation_units": {tr.get("data-unit"): [int(td.get("data-count")) for td in
                                                       tr.xpath("./td[@data-count]")]
                                 for tr in tree.xpath("//*[@id='escalation-units']/tr[@data-unit]")}}


def api_figures(data: dict) -> dict:
    return {
        "units": {(u["programme"], u["unit"]): {**u["counts"], "lit": u["lit"], "tasks": u["tasks"]}
                  for u in data["units"]},
        "changes": [r["task"] for r in data["changes"]["rows"]],
        "reminders": [r["task"] for r in data["reminders"]["rows"]],
        "rectifications": [r["task"] for r in data["rectifications"]["rows"]],
        "escalations": [r["id"] for r in data["escalations"]["rows"]],
        "escalation_units": {u["unit"]: [u["letters"], u["interviews"]] for u in data["escalation_units"]},
    }


def test_the_api_equals_the_page(county, lit, client, on_july_23):
    for username in ("supervisor", "editor_a", "leader"):
        client.force_login(county.users[username])
        for query in ("", f"?programme={ZDZ}", f"?programme={MLCZ}"):
            _html, tree = page(client, "/supervision/board/" + query)
            response = client.get("/api/board/" + query)
            assert response.status_code == 200
            data = response.json()
            assert page_figures(tree) == api_figures(data), (username, query)
            assert data["today"] == "2026-07-23" and data["programme"] == (query.partition("=")[2] or None)
    client.force_login(county.users["supervisor"])
    data = client.get("/api/board/").json()
    assert api_figures(data)["units"][(ZDZ, TOWN_A)] == {
        "red": 3, "yellow": 1, "green": 0, "orange": 0, "blue": 2, "grey": 0, "normal": 0,
        "lit": 4, "tasks": 6}
    change = data["changes"]["rows"][0]
    assert (change["from_level"]["code"], change["to_level"]["code"], change["reasons"]) == (
        "green", "blue", ["已销号"])
    assert data["changes"]["total"] == 1 and data["changes"]["truncated"] is False
    assert data["levels"][0] == {"code": "red", "name": "红灯", "colour": "#d32f2f", "counts": True}
    rect = data["rectifications"]["rows"][0]
    assert (rect["task_code"], rect["light"]["code"], rect["deadline"], rect["inspection_kind"]) == (
        "R1", "red", "2026-07-31", "unannounced")
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200 and "/api/board/" in schema.json()["paths"]


def test_a_unit_editor_sees_only_their_own_units(county, lit, client, on_july_23):
    client.force_login(county.users["editor_a"])
    text, tree = page(client)
    figures = page_figures(tree)
    assert set(figures["units"]) == {(ZDZ, TOWN_A), (MLCZ, TOWN_A)}
    assert figures["units"][(ZDZ, TOWN_A)]["red"] == 3
    town_b = {lit[c].pk for c in ("T6", "T7", "R2", "R3")}
    assert figures["reminders"] == [lit[c].pk for c in ("R1", "T1", "T2", "T5")]
    assert figures["rectifications"] == [lit["R1"].pk]
    assert not town_b & {*figures["changes"], *figures["reminders"], *figures["rectifications"]}
    assert figures["escalation_units"] == {TOWN_A: [0, 1]}
    assert "白河镇" not in text and "任务T6" not in text
    data = client.get("/api/board/").json()
    assert {u["unit"] for u in data["units"]} == {TOWN_A}
    assert [e["unit"] for e in data["escalations"]["rows"]] == [TOWN_A]
    # editor_b: the other way round
    client.force_login(county.users["editor_b"])
    figures = page_figures(page(client)[1])
    assert set(figures["units"]) == {(ZDZ, TOWN_B)}
    assert figures["rectifications"] == [lit["R3"].pk] and figures["changes"] == []
    assert figures["escalation_units"] == {TOWN_B: [1, 0]}
    # a liaison limited to the first programme may not filter by the other
    client.force_login(county.users["editor_a_p1"])
    assert set(page_figures(page(client)[1])["units"]) == {(ZDZ, TOWN_A)}
    refused = client.get(f"/supervision/board/?programme={MLCZ}")
    assert refused.status_code == 400 and "MLCZ2026" in refused.content.decode()
    assert client.get(f"/api/board/?programme={MLCZ}").status_code == 400


def test_who_may_see_the_board_and_bad_input(county, lit, client, on_july_23):
    assert client.get("/supervision/board/").status_code == 302  # to the login page
    assert client.get("/api/board/").status_code in (401, 403)
    nobody = User.objects.create_user(username="nobody", password="pw-nobody", full_name="无角色")
    client.force_login(nobody)
    assert client.get("/supervision/board/").status_code == 403
    assert client.get("/api/board/").status_code == 403
    client.force_login(county.users["supervisor"])
    for bad, reason in (("NOPE", "没有可查看的代码为 'NOPE' 的工作计划"), ("a%00b", "NUL")):
        response = client.get(f"/supervision/board/?programme={bad}")
        assert response.status_code == 400 and reason in unescape(response.content.decode())
        api = client.get(f"/api/board/?programme={bad}")
        assert api.status_code == 400 and api.json()["errors"][0]["field"] == "programme"


def test_rows_drill_down_to_the_task_and_its_reasons(county, lit, client, on_july_23):
    client.force_login(county.users["supervisor"])
    text, tree = page(client)
    # a change: to the task page's light panel, which shows why
    t4 = lit["T4"].pk
    assert f'href="/ledger/task/{t4}/#light"' in text
    detail = client.get(f"/ledger/task/{t4}/").content.decode()
    assert 'id="light"' in detail and "已销号" in detail and "绿灯 → 蓝灯（已销号）" in detail
    # a reminder and a rectification row: the task page, with the light's reasons
    t1, r1 = lit["T1"].pk, lit["R1"].pk
    assert f'href="/ledger/task/{t1}/"' in text and f'href="/ledger/task/{r1}/"' in text
    assert "形象进度低于序时进度" in client.get(f"/ledger/task/{t1}/").content.decode()
    assert "形象进度低于序时进度" in client.get(f"/ledger/task/{r1}/").content.decode()
    # an escalation row: its page, with the lights that brought it
    interview = Escalation.objects.get(kind="interview", status="open")
    assert f'href="/supervision/escalation/{interview.pk}/"' in text
    assert "任务R1" in client.get(f"/supervision/escalation/{interview.pk}/").content.decode()
    # a count: the ledger list filtered by programme, unit and light shows those tasks
    [link] = tree.xpath(f"//table[@id='units']//tr[@data-programme='{ZDZ}'][@data-unit='{TOWN_A}']"
                        "/td[@data-level='red']/a")
    assert link.get("href") == f"/ledger/?programme={ZDZ}&unit={TOWN_A}&light=red"
    listing = client.get(link.get("href")).content.decode()
    assert all(f"任务{c}" in listing for c in ("T1", "T2", "R1"))
    assert not any(f"任务{c}" in listing for c in ("T3", "T4", "T5", "M1"))
    # colours: each level's cell carries its colour
    assert 'style="background:#d32f2f"' in text and 'style="background:#f9a825"' in text


def test_query_count_does_not_grow_with_the_number_of_tasks(county, lit, make_task, client,
                                                            on_july_23, django_assert_max_num_queries):
    client.force_login(county.users["supervisor"])

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = {url: queries(url) for url in ("/supervision/board/", "/api/board/")}
    for i in range(40):  # more tasks, lights, changes this week, reminders and rectifications
        make_task(f"N{i:02d}", lead=("town_a", "town_b", "dept")[i % 3], status="in_progress",
                  due_date=D(2026, 7, 10) if i % 2 else D(2026, 12, 31))
    for i in range(6):
        rectification(county, make_task, f"RX{i}", ("town_a", "town_b")[i % 2], D(2026, 9, 30),
                      status="in_progress")
    recompute(today=D(2026, 7, 21))
    after = {url: queries(url) for url in before}
    assert after == before, (before, after)
    assert board_module.board(county.users["supervisor"], JULY_23).reminders.total > 40
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get("/supervision/board/")
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get("/api/board/")
