"""Shared fixtures: a small county with units, people in every role and one programme."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest


@dataclass
class County:
    units: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    programme: object = None
    other_programme: object = None


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "files"  # evidence and uploads stay out of ./var


@pytest.fixture
def county(db) -> County:
    """County 示范县 with: gov (root) → office, dept (住建局), town_a → village_a, town_b.

    Users: admin, supervisor (on gov), editor_a (town_a), editor_b (town_b), editor_dept,
    leader (gov), inspector (gov), editor_a_p1 (town_a, limited to the first programme).
    """
    from chengzhen.org.models import Division, Membership, MembershipProgramme, Unit, User
    from chengzhen.programmes.models import Programme

    c = County()
    county_div = Division.objects.create(code="411300000000", gb2260="411300", name="示范县",
                                         level="county")
    town_a_div = Division.objects.create(code="411300101000", name="青山镇", level="town",
                                         parent=county_div)
    town_b_div = Division.objects.create(code="411300102000", name="白河镇", level="town",
                                         parent=county_div)
    gov = Unit.objects.create(code="411300", name="示范县人民政府", kind="government",
                              division=county_div)
    c.units = {
        "gov": gov,
        "office": Unit.objects.create(code="LGO", name="县城镇化领导小组办公室", kind="office",
                                      parent=gov),
        "dept": Unit.objects.create(code="ZJJ", name="县住房和城乡建设局", short_name="县住建局",
                                    kind="department", parent=gov),
        "town_a": Unit.objects.create(code="411300101000", name="青山镇人民政府",
                                      short_name="青山镇", kind="town", division=town_a_div,
                                      parent=gov),
        "town_b": Unit.objects.create(code="411300102000", name="白河镇人民政府",
                                      short_name="白河镇", kind="town", division=town_b_div,
                                      parent=gov),
    }
    c.units["village_a"] = Unit.objects.create(code="411300101201", name="青山村村民委员会",
                                               kind="other", parent=c.units["town_a"])
    c.programme = Programme.objects.create(
        code="ZDZ2026", name="2026年重点镇建设", kind="key_town", start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31), owner_unit=c.units["office"],
    )
    c.other_programme = Programme.objects.create(
        code="MLCZ2026", name="2026年美丽城镇建设", kind="beautiful_town",
        start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
        owner_unit=c.units["office"], reporting_cycle="quarterly",
    )
    spec = {
        "supervisor": ("supervisor", "gov"), "editor_a": ("unit_editor", "town_a"),
        "editor_b": ("unit_editor", "town_b"), "editor_dept": ("unit_editor", "dept"),
        "leader": ("leader", "gov"), "inspector": ("inspector", "gov"),
        "editor_a_p1": ("unit_editor", "town_a"), "admin": ("admin", "gov"),
    }
    for username, (role, unit_key) in spec.items():
        user = User.objects.create_user(username=username, password="pw-" + username,
                                        full_name=username)
        m = Membership.objects.create(user=user, role=role, unit=c.units[unit_key])
        if username == "editor_a_p1":
            MembershipProgramme.objects.create(membership=m, programme=c.programme)
        c.users[username] = user
    return c


@pytest.fixture
def make_task(county):
    """Create a task in the county's programme: ``make_task(code, lead="town_a", ...)``."""
    from chengzhen.ledger.models import Cooperation, Task

    def make(code: str = "T1", lead: str = "town_a", coop: tuple[str, ...] = (),
             programme=None, **fields):
        defaults = {
            "name": f"任务{code}", "start_date": dt.date(2026, 1, 1),
            "due_date": dt.date(2026, 12, 31), "planned_total_investment": Decimal("1000000"),
        }
        defaults.update(fields)
        task = Task.objects.create(programme=programme or county.programme, code=code,
                                   lead_unit=county.units[lead], **defaults)
        for i, key in enumerate(coop):
            Cooperation.objects.create(task=task, unit=county.units[key], seq=i)
        return task

    return make


def run_concurrently(work, workers: int = 4) -> list[str]:
    """Run ``work(worker_number)`` in ``workers`` threads released together (each with its
    own database connection); returns every exception raised, as text."""
    import threading

    from django.db import connection

    barrier, errors = threading.Barrier(workers), []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except Exception as exc:  # noqa: BLE001 - any failure is what the caller looks for
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def running_programme(county):
    """The county's first programme made to run through today, whatever today is."""
    from chengzhen.ledger.queries import today_local
    from chengzhen.programmes.models import Programme

    today = today_local()
    Programme.objects.filter(pk=county.programme.pk).update(
        start_date=dt.date(today.year, 1, 1), end_date=dt.date(today.year + 1, 12, 31))
    county.programme.refresh_from_db()
    return county.programme


@pytest.fixture
def api_as(county):
    """An API client logged in as one of the county's people (``api_as("supervisor")``)."""
    from rest_framework.test import APIClient

    def as_(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(county.users[username])
        return client

    return as_
