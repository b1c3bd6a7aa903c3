"""The permission function as a matrix: role × action × where the task stands.

Every person here holds one membership on 青山镇 (town_a) limited to the first programme.
Contexts: a task led by the person's own unit, by a child unit (a village of the town), by
another unit (白河镇), by the own unit in another programme, and a task led by another unit
on which the own unit cooperates. ``can`` and ``restrict`` must give the same answers.
"""

from __future__ import annotations

import pytest

from chengzhen.ledger.models import Task
from chengzhen.org.access import Action, Grant, TaskScope, may_on_programme, may_on_task
from chengzhen.org.models import Membership, MembershipProgramme, User
from chengzhen.org.permissions import can, restrict

ACTIONS = ["read", "edit", "report", "import", "export"]
CONTEXTS = ["own", "child", "other", "other_programme", "cooperating"]
Y, N = True, False
# role -> action -> answers in the order of CONTEXTS
MATRIX = {
    "admin": {a: [Y, Y, Y, Y, Y] for a in ACTIONS},
    "supervisor": {a: [Y, Y, N, N, Y] for a in ACTIONS},
    "unit_editor": {"read": [Y, Y, N, N, Y], "edit": [Y, Y, N, N, N],
                    "report": [Y, Y, N, N, Y], "import": [Y, Y, N, N, N],
                    "export": [Y, Y, N, N, Y]},
    "leader": {"read": [Y, Y, N, N, Y], "edit": [N] * 5, "report": [N] * 5,
               "import": [N] * 5, "export": [Y, Y, N, N, Y]},
    "inspector": {"read": [Y, Y, N, N, Y], "edit": [N] * 5, "report": [N] * 5,
                  "import": [N] * 5, "export": [N] * 5},
}


@pytest.fixture
def tasks(county, make_task):
    return {
        "own": make_task("OWN", lead="town_a"),
        "child": make_task("CHILD", lead="village_a"),
        "other": make_task("OTHER", lead="town_b"),
        "other_programme": make_task("OTHERP", lead="town_a", programme=county.other_programme),
        "cooperating": make_task("COOP", lead="town_b", coop=("town_a",)),
    }


def person(county, role: str) -> User:
    user = User.objects.create_user(username=f"m_{role}", password="x")
    m = Membership.objects.create(user=user, role=role, unit=county.units["town_a"])
    MembershipProgramme.objects.create(membership=m, programme=county.programme)
    return user


CASES = [(role, action, i, context) for role in MATRIX for action in ACTIONS
         for i, context in enumerate(CONTEXTS)]


@pytest.mark.parametrize("role,action,index,context", CASES,
                         ids=[f"{r}-{a}-{c}" for r, a, _, c in CASES])
def test_matrix(county, tasks, role, action, index, context):
    user = person(county, role)
    task = tasks[context]
    unit = county.units["town_a"] if context == "cooperating" else task.lead_unit
    expected = MATRIX[role][action][index]
    kwargs = {"unit": unit} if action == "report" else {}
    assert can(user, action, task, **kwargs) is expected
    listed = restrict(Task.objects.all(), user, action).filter(pk=task.pk).exists()
    assert listed is expected


def test_report_only_for_own_units(county, tasks):
    editor = person(county, "unit_editor")
    coop_task = tasks["cooperating"]
    assert can(editor, "report", coop_task, unit=county.units["town_a"])
    assert not can(editor, "report", coop_task, unit=county.units["town_b"])  # the lead's
    assert not can(editor, "report", tasks["own"], unit=county.units["dept"])  # not on task


def test_unlimited_membership_covers_every_programme(county, tasks):
    editor_a = county.users["editor_a"]  # no programme limit
    assert can(editor_a, "edit", tasks["other_programme"])
    assert not can(county.users["editor_a_p1"], "edit", tasks["other_programme"])


def test_no_membership_no_access(county, tasks):
    nobody = User.objects.create_user(username="nobody", password="x")
    assert not any(can(nobody, a, tasks["own"]) for a in ACTIONS)
    assert not restrict(Task.objects.all(), nobody).exists()
    inactive = county.users["supervisor"]
    inactive.is_active = False
    inactive.save()
    assert not can(User.objects.get(pk=inactive.pk), "read", tasks["own"])


def test_programme_level_actions(county):
    assert can(county.users["editor_a"], "import", county.programme)
    assert not can(county.users["leader"], "import", county.programme)
    assert can(county.users["leader"], "export", county.programme)
    assert not can(county.users["inspector"], "export", county.programme)
    assert not can(county.users["editor_a_p1"], "read", county.other_programme)


def test_pure_rules_without_a_database():
    scope = TaskScope(1, "/G/A/", ("/G/B/",))
    editor = [Grant("unit_editor", "/G/A/", frozenset({1}))]
    assert may_on_task(editor, Action.EDIT, scope)
    assert not may_on_task(editor, Action.EDIT, TaskScope(2, "/G/A/"))
    assert not may_on_task([Grant("unit_editor", "/G/B/")], Action.EDIT, scope)
    assert may_on_task([Grant("unit_editor", "/G/B/")], Action.REPORT, scope, "/G/B/")
    assert not may_on_task([Grant("unit_editor", "/G/B/")], Action.REPORT, scope, "/G/A/")
    # prefix of a code is not a parent: /G/A/ does not cover /G/AB/
    assert not may_on_task(editor, Action.READ, TaskScope(1, "/G/AB/"))
    assert may_on_programme([Grant("admin", "/")], Action.IMPORT, 99)


def test_unit_subtree_moves_with_its_parent_and_refuses_cycles(county):
    from django.core.exceptions import ValidationError

    town_a, village = county.units["town_a"], county.units["village_a"]
    town_a.parent = county.units["dept"]
    town_a.save()
    village.refresh_from_db()
    assert village.path == "/411300/ZJJ/411300101000/411300101201/"
    town_a.parent = village
    with pytest.raises(ValidationError):
        town_a.save()


# ---- the fixture's own people (memberships on real units, mostly unlimited) -----------------
#
# Columns: own (led by town_a), child (led by village_a under town_a), other (led by town_b),
# other_programme (led by town_a in the second programme), cooperating (led by town_b, town_a
# cooperates). "Y"/"N" per column; the people sit on different units, so "own" is town_a's.
PEOPLE = {
    "admin":       {a: "YYYYY" for a in ACTIONS},  # noqa: E241
    "supervisor":  {a: "YYYYY" for a in ACTIONS},  # on the county government: everything
    "editor_a":    {"read": "YYNYY", "edit": "YYNYN", "report": "YYNYY", "import": "YYNYN",
                    "export": "YYNYY"},
    "editor_a_p1": {"read": "YYNNY", "edit": "YYNNN", "report": "YYNNY", "import": "YYNNN",
                    "export": "YYNNY"},
    "editor_b":    {"read": "NNYNY", "edit": "NNYNY", "report": "NNYNY", "import": "NNYNY",
                    "export": "NNYNY"},
    "editor_dept": {a: "NNNNN" for a in ACTIONS},
    "leader":      {"read": "YYYYY", "edit": "NNNNN", "report": "NNNNN", "import": "NNNNN",
                    "export": "YYYYY"},
    "inspector":   {"read": "YYYYY", "edit": "NNNNN", "report": "NNNNN", "import": "NNNNN",
                    "export": "NNNNN"},
}
PEOPLE_CASES = [(who, action, i, context) for who in PEOPLE for action in ACTIONS
                for i, context in enumerate(CONTEXTS)]


@pytest.mark.parametrize("who,action,index,context", PEOPLE_CASES,
                         ids=[f"{w}-{a}-{c}" for w, a, _, c in PEOPLE_CASES])
def test_people_matrix(county, tasks, who, action, index, context):
    user = county.users[who]
    task = tasks[context]
    expected = PEOPLE[who][action][index] == "Y"
    if action == "report":
        # report for the task's lead unit, or for town_a where town_a cooperates — except for
        # editor_b, who reports for its own town_b (the cooperating task's lead)
        unit = county.units["town_a"] if context == "cooperating" and who != "editor_b" else (
            task.lead_unit)
        assert can(user, action, task, unit=unit) is expected
    else:
        assert can(user, action, task) is expected
    assert restrict(Task.objects.all(), user, action).filter(pk=task.pk).exists() is expected


# ---- restrict agrees with can on every kind of record -----------------------------------------

def test_restrict_agrees_with_can_on_task_records(county, tasks):
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from chengzhen.ledger.models import AnnualPlan, Cooperation, Evidence, ProgressReport, TimeNode

    records = []
    for task in tasks.values():
        records.append(TimeNode.objects.create(task=task, name="节点", planned_date=dt.date(2026, 3, 1)))
        records.append(AnnualPlan.objects.create(task=task, year=2026, amount=Decimal(1)))
        r = ProgressReport.objects.create(task=task, period="2026-05", reporting_unit=task.lead_unit,
                                          physical_progress=Decimal(1), submitted_at=timezone.now())
        records.append(r)
        records.append(Evidence.objects.create(
            report=r, stored_name=f"x/{task.pk}.pdf", original_name="a.pdf",
            content_type="application/pdf", size=1, sha256="0" * 64, uploaded_at=timezone.now()))
    records.extend(Cooperation.objects.all())
    for user in county.users.values():
        for action in ACTIONS:
            for record in records:
                model = type(record)
                listed = restrict(model.objects.all(), user, action).filter(pk=record.pk).exists()
                assert listed is can(user, action, record), (user, action, record)
                assert can(user, action, record) is can(user, action, _task(record))


def _task(record):
    return record.report.task if hasattr(record, "report") else record.task


def test_restrict_agrees_with_can_on_programmes_and_units(county):
    import datetime as dt

    from chengzhen.org.models import Division, Unit
    from chengzhen.programmes.models import Phase, Programme, Target

    phase = Phase.objects.create(programme=county.other_programme, name="攻坚",
                                 start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 6, 30))
    target = Target.objects.create(programme=county.programme, level="annual", name="改造道路",
                                   subject_unit=county.units["town_a"])
    objects = [*Programme.objects.all(), phase, target, *Unit.objects.all(),
               *Division.objects.all(), *User.objects.all()]
    for user in county.users.values():
        for action in [*ACTIONS, "inspect"]:
            for obj in objects:
                listed = restrict(type(obj).objects.all(), user, action).filter(pk=obj.pk).exists()
                assert listed is can(user, action, obj), (user.username, action, obj)


def test_programme_records_follow_the_programme(county):
    from chengzhen.programmes.models import Target

    target = Target.objects.create(programme=county.other_programme, level="overall",
                                   name="美丽城镇达标", subject_unit=county.units["town_a"])
    assert can(county.users["supervisor"], "edit", target)
    assert can(county.users["editor_a"], "read", target)
    assert not can(county.users["editor_a"], "edit", target)
    assert not can(county.users["editor_a_p1"], "read", target)  # limited to the other programme
    assert can(county.users["editor_a_p1"], "read", county.programme)


def test_people_records_are_for_administrators_the_directory_for_every_role(county):
    from chengzhen.org.models import Division, Membership, User
    from chengzhen.org.permissions import directory_people

    editor = county.users["editor_a"]
    for obj in (editor, Membership.objects.first()):
        assert not can(editor, "read", obj)
        assert not can(county.users["supervisor"], "edit", obj)
        assert can(county.users["admin"], "edit", obj)
    # the directory: divisions and units across the county, read by any role, changed by admins
    for obj in (Division.objects.first(), county.units["village_a"], county.units["town_b"]):
        assert can(editor, "read", obj) and can(county.users["inspector"], "read", obj)
        assert not can(editor, "edit", obj) and not can(county.users["supervisor"], "edit", obj)
        assert can(county.users["admin"], "edit", obj)
    roleless = User.objects.create_user(username="visitor", password="x")
    assert not can(roleless, "read", county.units["town_a"])
    assert not directory_people(roleless).exists()
    assert directory_people(editor).filter(username="editor_b").exists()


def test_questions_about_a_kind_of_record(county):
    """``can(user, action, Model)``: may the person do it to at least one such record?"""
    from chengzhen.ledger.models import ProgressReport
    from chengzhen.org.models import Division, Unit
    from chengzhen.programmes.models import Programme

    users = county.users
    assert can(users["editor_a"], "edit", Task) and can(users["editor_a"], "report", ProgressReport)
    assert not can(users["leader"], "edit", Task) and can(users["leader"], "read", Task)
    assert not can(users["inspector"], "report", Task)
    assert can(users["supervisor"], "edit", Programme)
    assert not can(users["editor_a"], "edit", Programme) and can(users["editor_a"], "read", Programme)
    assert can(users["inspector"], "read", Unit) and not can(users["inspector"], "edit", Unit)
    assert can(users["supervisor"], "read", Division) and not can(users["supervisor"], "edit", Division)
    assert can(users["admin"], "edit", Division)
    nobody = User.objects.create_user(username="nobody", password="x")
    assert not can(nobody, "read", Task) and not can(nobody, "read", Unit)


def test_system_account_and_superuser_are_administrators(county, tasks):
    from chengzhen.org.models import system_user

    system = system_user()
    assert not system.is_active  # cannot log in, but commands run as it
    assert can(system, "edit", tasks["other_programme"])
    boss = User.objects.create_superuser(username="boss", password="x")
    assert can(boss, "import", county.other_programme)
    assert restrict(Task.objects.all(), boss, "edit").count() == Task.objects.count()


def test_limited_membership_next_to_an_unlimited_one(county, tasks):
    """editor_a_p1 also gets a leader membership on 白河镇 for every programme: the grants add
    up, each within its own limits."""
    user = county.users["editor_a_p1"]
    Membership.objects.create(user=user, role="leader", unit=county.units["town_b"])
    user = User.objects.get(pk=user.pk)  # grants are cached per user object
    assert can(user, "read", tasks["other"]) and not can(user, "edit", tasks["other"])
    assert not can(user, "read", tasks["other_programme"])  # town_a's, limited membership
    assert can(user, "edit", tasks["own"])


# ---- the pure rules (org/access.py) ------------------------------------------------------------

def test_grant_coverage():
    from chengzhen.org.access import Grant

    g = Grant("unit_editor", "/G/A/", frozenset({1, 2}))
    assert g.covers_unit("/G/A/") and g.covers_unit("/G/A/V/")
    assert not g.covers_unit("/G/") and not g.covers_unit("/G/AB/")
    assert g.covers_programme(2) and not g.covers_programme(3)
    assert Grant("leader", "/G/").covers_programme(3)  # no programmes named: all


@pytest.mark.parametrize("role,reaches", [
    ("admin", {"read": "any", "edit": "any", "report": "any", "import": "any", "export": "any",
               "inspect": "any"}),
    ("supervisor", {"read": "any", "edit": "any", "report": "any", "import": "any",
                    "export": "any", "inspect": None}),
    ("unit_editor", {"read": "any", "edit": "lead", "report": "any", "import": "lead",
                     "export": "any", "inspect": None}),
    ("leader", {"read": "any", "edit": None, "report": None, "import": None, "export": "any",
                "inspect": None}),
    ("inspector", {"read": "any", "edit": None, "report": None, "import": None, "export": None,
                   "inspect": "any"}),
    ("nonsense", dict.fromkeys(["read", "edit", "report", "import", "export", "inspect"])),
])
def test_task_reach_per_role(role, reaches):
    from chengzhen.org.access import task_reach

    for action, reach in reaches.items():
        assert task_reach(Grant(role, "/G/"), Action(action)) == reach, action


def test_reports_need_the_unit_on_the_task_and_in_the_same_grant():
    scope = TaskScope(1, "/G/A/", ("/G/B/", "/G/C/"))
    admin = [Grant("admin", "/")]
    assert may_on_task(admin, Action.REPORT, scope, "/G/C/")
    assert not may_on_task(admin, Action.REPORT, scope, "/G/D/")  # not on the task
    # one grant covers the task (through /G/A/) but the report is for /G/C/, covered by none
    split = [Grant("unit_editor", "/G/A/"), Grant("leader", "/G/C/")]
    assert may_on_task(split, Action.REPORT, scope, "/G/A/")
    assert not may_on_task(split, Action.REPORT, scope, "/G/C/")
    limited = [Grant("unit_editor", "/G/B/", frozenset({2}))]
    assert not may_on_task(limited, Action.REPORT, scope, "/G/B/")  # other programme


def test_programme_and_unit_rules():
    from chengzhen.org.access import (
        is_admin,
        may_on_directory,
        may_on_some_programme,
        may_on_some_task,
    )

    editor = [Grant("unit_editor", "/G/A/", frozenset({1}))]
    assert may_on_programme(editor, Action.IMPORT, 1)
    assert not may_on_programme(editor, Action.IMPORT, 2)
    assert not may_on_programme(editor, Action.EDIT, 1)
    assert may_on_programme([Grant("supervisor", "/G/")], Action.EDIT, 7)
    assert not may_on_programme([Grant("inspector", "/G/")], Action.EXPORT, 1)
    assert may_on_some_task(editor, Action.EDIT) and not may_on_some_task(editor, Action.INSPECT)
    assert may_on_some_programme([Grant("supervisor", "/G/")], Action.EDIT)
    assert not may_on_some_programme(editor, Action.EDIT)
    assert not may_on_some_task([], Action.READ) and not is_admin([])
    assert may_on_directory(editor, Action.READ) and not may_on_directory([], Action.READ)
    assert not may_on_directory(editor, Action.EDIT)
    assert may_on_directory([Grant("admin", "/")], Action.EDIT)
