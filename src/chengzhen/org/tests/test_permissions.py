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
