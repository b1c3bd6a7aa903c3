"""The home page per role: what a liaison still owes this period, what is theirs, and how
every unit stands for those who oversee them."""

from __future__ import annotations

import datetime as dt

import pytest

from chengzhen.ledger import progress, services
from chengzhen.ledger.queries import today_local


@pytest.fixture
def running(county, make_task, running_programme):
    """The programme runs through today, whatever today is; tasks of two towns."""
    today = today_local()
    start, due = dt.date(today.year, 1, 1), dt.date(today.year + 1, 6, 30)
    return {
        "a": make_task("A1", lead="town_a", start_date=start, due_date=due,
                       responsible_user=county.users["editor_a"]),
        "shared": make_task("S1", lead="town_b", coop=("town_a",), start_date=start, due_date=due),
        "b": make_task("B1", lead="town_b", start_date=start, due_date=due),
        "later": make_task("L1", lead="town_a", start_date=due, due_date=due),  # not begun
        "past": make_task("P1", lead="town_b", start_date=start, due_date=today - dt.timedelta(1)),
    }


def period() -> str:
    return progress.period_of(today_local(), "monthly").key


def pending_codes(response) -> list[str]:
    return [t.code for t in response.context["pending"]]


def test_liaison_sees_what_its_units_still_owe_this_period(county, running, client):
    client.force_login(county.users["editor_a"])
    response = client.get("/")
    assert pending_codes(response) == ["A1", "S1"]  # its own task, and one it cooperates on
    html = response.content.decode()
    assert "本期待报送" in html and period() in html
    assert response.context["units"] is None  # a liaison is not shown every unit
    editor = county.users["editor_a"]
    services.submit_report(editor, running["a"], period=period(), unit=county.units["town_a"],
                           physical_progress=10)
    assert pending_codes(client.get("/")) == ["S1"]
    services.submit_report(editor, running["shared"], period=period(),
                           unit=county.units["town_a"], physical_progress=5)
    response = client.get("/")
    assert pending_codes(response) == [] and "本期的进度都已报送" in response.content.decode()
    # town_a's report on S1 is the cooperating unit's: the lead, town_b, still owes its own
    client.force_login(county.users["editor_b"])
    assert pending_codes(client.get("/")) == ["B1", "P1", "S1"]


def test_my_tasks_are_those_naming_my_account(county, running, client):
    client.force_login(county.users["editor_a"])
    response = client.get("/")
    assert [t.code for t in response.context["mine"]] == ["A1"]
    assert "我负责的任务" in response.content.decode()
    client.force_login(county.users["editor_b"])
    assert client.get("/").context["mine_count"] == 0


def test_overseers_see_every_unit(county, running, client):
    services.submit_report(county.users["editor_b"], running["b"], period=period(),
                           unit=county.units["town_b"], physical_progress=100)
    for who in ("supervisor", "leader", "inspector", "admin"):
        client.force_login(county.users[who])
        response = client.get("/")
        units = {u["lead_unit__code"]: u for u in response.context["units"]}
        town_b = units["411300102000"]
        assert (town_b["total"], town_b["overdue_n"], town_b["unreported"]) == (3, 1, 2), who
        assert units["411300101000"]["total"] == 2
        assert response.context["pending_count"] == 0  # no liaison role: nothing to report
        assert "各单位推进情况" in response.content.decode()
    # the unit with the most lagging and overdue tasks comes first
    assert list(units)[0] == "411300102000"


def test_home_query_count_does_not_grow(county, make_task, client, django_assert_max_num_queries):
    for i in range(40):
        make_task(f"Q{i:02d}", lead="town_a" if i % 2 else "town_b", coop=("dept",),
                  responsible_user=county.users["editor_a"])
    for who in ("editor_a", "supervisor"):
        client.force_login(county.users[who])
        with django_assert_max_num_queries(16):
            assert client.get("/").status_code == 200
