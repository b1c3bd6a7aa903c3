"""Who may do what (pure: no Django). Every permission question ends here.

A grant is one membership: (role, unit subtree, programmes — all when none are named). A task
is in a grant's reach when its programme is covered and its lead unit, or for reading and
reporting one of its cooperating units, lies in the grant's unit subtree (unit paths are
materialised as ``/CITY/COUNTY/TOWN/``, so "in the subtree" is a prefix test).

What each role may do ("lead": the task's lead unit must lie in the grant's subtree;
"lead/coop": the lead or a cooperating unit; "programme": the programme as a whole):

============  =========  =========  =========  ==========  =========  =========
role          read       edit       report     import      export     inspect
============  =========  =========  =========  ==========  =========  =========
admin         all        all        all        all         all        all
supervisor    lead/coop  lead/coop  lead/coop  programme   lead/coop  –
unit_editor   lead/coop  lead       lead/coop  programme*  lead/coop  –
leader        lead/coop  –          –          –           lead/coop  –
inspector     lead/coop  –          –          –           –          lead/coop
============  =========  =========  =========  ==========  =========  =========

Administrators are not limited by unit or programme. A report is always made for one unit
(the lead or a cooperating unit of the task), which must lie in the reporting grant's
subtree. "programme" for import: the person may import into the programme at all; each
task the import creates or changes needs the task-level answer too — lead/coop for a
supervisor, (*) lead for a unit editor. Programme records (the programme, its phases and
targets) are changed by administrators and by supervisors whose grant covers the programme;
units, divisions, people and memberships by administrators only.

Supervision records: a task's light and its history are read like the task. A unit's
escalations (督办函, 约谈) are read by anyone whose grant covers that unit (its subtree) and
the programme, and recorded (an interview's outcome) by supervisors and administrators
covering them. Light rule sets and the holiday calendar are read by anyone holding a role
and changed by supervisors and administrators.

Bulletins (工作通报): an issued bulletin is read by anyone whose grant covers its programme; a
draft by supervisors and leaders covering it; generating, editing and issuing by supervisors
and administrators. Inspections (明察暗访, 人大代表/政协委员调研) are read by supervisors,
leaders and inspectors covering the programme and recorded by supervisors (any kind) and
inspectors (investigations by deputies and members only). A rectification is a ledger task
of its unit (unit editors see their own there); accountability records (表扬, 通报批评, 约谈,
调整) are records addressed to a unit, like letters.

Assessment: frameworks and subject profiles are read by anyone holding a role and changed by
supervisors and administrators (like rule sets); trial scorings are theirs alone. A round's
values are read by anyone covering the subject, reported by unit liaisons and supervisors
covering it and verified by supervisors covering it (never by their own submitter); a
scorecard is seen by supervisors always, and after publication by the subject's own people
and leaders covering it — by everyone holding a role when the round is public.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    READ = "read"
    EDIT = "edit"
    REPORT = "report"
    IMPORT = "import"
    EXPORT = "export"
    INSPECT = "inspect"  # add inspection notes (人大代表/政协委员)


ADMIN, SUPERVISOR, UNIT_EDITOR, LEADER, INSPECTOR = (
    "admin", "supervisor", "unit_editor", "leader", "inspector",
)

# For each role and action: which of a task's units must be in the grant's subtree.
#   "lead"  — the lead unit;  "any" — the lead unit or a cooperating unit.
TASK_RULES: dict[str, dict[Action, str]] = {
    SUPERVISOR: {Action.READ: "any", Action.EDIT: "any", Action.REPORT: "any",
                 Action.IMPORT: "any", Action.EXPORT: "any"},
    UNIT_EDITOR: {Action.READ: "any", Action.EDIT: "lead", Action.REPORT: "any",
                  Action.IMPORT: "lead", Action.EXPORT: "any"},
    LEADER: {Action.READ: "any", Action.EXPORT: "any"},
    INSPECTOR: {Action.READ: "any", Action.INSPECT: "any"},
}
# Programme-wide actions (may this person import into / export from the programme at all).
PROGRAMME_RULES: dict[str, frozenset[Action]] = {
    SUPERVISOR: frozenset({Action.READ, Action.IMPORT, Action.EXPORT, Action.EDIT}),
    UNIT_EDITOR: frozenset({Action.READ, Action.IMPORT, Action.EXPORT}),
    LEADER: frozenset({Action.READ, Action.EXPORT}),
    INSPECTOR: frozenset({Action.READ}),
}


@dataclass(frozen=True)
class Grant:
    role: str
    unit_path: str
    programme_ids: frozenset[int] = field(default_factory=frozenset)  # empty: every programme

    def covers_programme(self, programme_id: int) -> bool:
        return not self.programme_ids or programme_id in self.programme_ids

    def covers_unit(self, unit_path: str) -> bool:
        return unit_path.startswith(self.unit_path)


@dataclass(frozen=True)
class TaskScope:
    """The facts about a task that permissions depend on."""

    programme_id: int
    lead_unit_path: str
    cooperating_unit_paths: tuple[str, ...] = ()


def is_admin(grants: Iterable[Grant]) -> bool:
    return any(g.role == ADMIN for g in grants)


def task_reach(grant: Grant, action: Action) -> str | None:
    """Which of a task's units the grant must cover for ``action``; None if never."""
    if grant.role == ADMIN:
        return "any"
    return TASK_RULES.get(grant.role, {}).get(action)


def may_on_task(grants: Iterable[Grant], action: Action, task: TaskScope,
                acting_unit_path: str | None = None) -> bool:
    """May a person with ``grants`` do ``action`` on ``task``?

    For REPORT, ``acting_unit_path`` is the unit the report is made for: it must be the lead
    or a cooperating unit of the task and lie in the same grant's subtree.
    """
    task_units = (task.lead_unit_path, *task.cooperating_unit_paths)
    for g in grants:
        if g.role == ADMIN:  # administrators are not limited by unit or programme
            if acting_unit_path is None or acting_unit_path in task_units:
                return True
            continue
        reach = task_reach(g, action)
        if reach is None or not g.covers_programme(task.programme_id):
            continue
        units = (task.lead_unit_path,) if reach == "lead" else task_units
        if acting_unit_path is not None:
            if acting_unit_path in task_units and g.covers_unit(acting_unit_path) and (
                reach == "any" or acting_unit_path == task.lead_unit_path
            ):
                return True
            continue
        if any(g.covers_unit(u) for u in units):
            return True
    return False


def may_on_some_task(grants: Iterable[Grant], action: Action) -> bool:
    """May a person do ``action`` on at least some task (e.g. show an "add" button)?"""
    return any(task_reach(g, action) is not None for g in grants)


def may_on_programme(grants: Iterable[Grant], action: Action, programme_id: int) -> bool:
    """May a person do ``action`` on the programme as a whole (import into it, export it)?"""
    for g in grants:
        if g.role == ADMIN:
            return True
        if action in PROGRAMME_RULES.get(g.role, frozenset()) and g.covers_programme(programme_id):
            return True
    return False


def may_on_some_programme(grants: Iterable[Grant], action: Action) -> bool:
    """May a person do ``action`` on at least some programme (or create one)?"""
    return any(g.role == ADMIN or action in PROGRAMME_RULES.get(g.role, frozenset())
               for g in grants)


def may_read_directory(grants: Iterable[Grant]) -> bool:
    """The directory (divisions, units, people's names and units): anyone holding a role."""
    return any(True for _ in grants)


def may_on_directory(grants: Iterable[Grant], action: Action) -> bool:
    """A division's or unit's record: read by anyone holding a role; changed by admins."""
    grants = list(grants)
    return is_admin(grants) or (action == Action.READ and may_read_directory(grants))


UNIT_RECORD_RULES: dict[str, frozenset[Action]] = {
    SUPERVISOR: frozenset({Action.READ, Action.EDIT}),
    UNIT_EDITOR: frozenset({Action.READ}),
    LEADER: frozenset({Action.READ}),
    INSPECTOR: frozenset({Action.READ}),
}


def may_on_unit_record(grants: Iterable[Grant], action: Action, programme_id: int,
                       unit_path: str) -> bool:
    """A record addressed to a unit in a programme (a 督办函 or an 约谈 of that unit)."""
    for g in grants:
        if g.role == ADMIN:
            return True
        if (action in UNIT_RECORD_RULES.get(g.role, frozenset()) and g.covers_programme(programme_id)
                and g.covers_unit(unit_path)):
            return True
    return False


def may_on_rules(grants: Iterable[Grant], action: Action) -> bool:
    """Light rule sets and the holiday calendar: read by anyone holding a role; changed by
    supervisors and administrators."""
    grants = list(grants)
    if action == Action.READ:
        return may_read_directory(grants)
    return action == Action.EDIT and any(g.role in (ADMIN, SUPERVISOR) for g in grants)


BULLETIN_DRAFT_READERS = frozenset({SUPERVISOR, LEADER})
INSPECTION_READERS = frozenset({SUPERVISOR, LEADER, INSPECTOR})
# which kinds of inspection each role records (明察暗访 by supervisors; 调研 by inspectors too)
INSPECTION_RECORDERS: dict[str, frozenset[str]] = {
    SUPERVISOR: frozenset({"unannounced", "npc", "cppcc"}),
    INSPECTOR: frozenset({"npc", "cppcc"}),
}


def may_on_bulletin(grants: Iterable[Grant], action: Action, programme_id: int,
                    issued: bool) -> bool:
    """A bulletin (工作通报) of a programme: see the module docstring."""
    for g in grants:
        if g.role == ADMIN:
            return True
        if not g.covers_programme(programme_id):
            continue
        if action == Action.READ and (issued or g.role in BULLETIN_DRAFT_READERS):
            return True
        if action == Action.EDIT and g.role == SUPERVISOR:
            return True
    return False


def may_on_inspection(grants: Iterable[Grant], action: Action, programme_id: int,
                      kind: str | None = None) -> bool:
    """An inspection record of a programme; ``kind`` (when recording) is its kind."""
    for g in grants:
        if g.role == ADMIN:
            return True
        if not g.covers_programme(programme_id):
            continue
        if action == Action.READ and g.role in INSPECTION_READERS:
            return True
        if action == Action.EDIT and (kind is None and g.role in INSPECTION_RECORDERS
                                      or kind in INSPECTION_RECORDERS.get(g.role, ())):
            return True
    return False


def may_require_rectification(grants: Iterable[Grant], programme_id: int, kind: str,
                              unit_path: str) -> bool:
    """May a person set a rectification requirement (下达整改要求) for the unit at ``unit_path``
    from an inspection of ``kind``: they record such inspections and their grant covers the
    unit."""
    for g in grants:
        if g.role == ADMIN:
            return True
        if (kind in INSPECTION_RECORDERS.get(g.role, ()) and g.covers_programme(programme_id)
                and g.covers_unit(unit_path)):
            return True
    return False


# Assessment rounds (考核轮次). A round's values are read by anyone whose grant covers the
# subject; reported (填报) by unit liaisons and supervisors covering it; verified (核查, EDIT)
# by supervisors covering it. Scorecards: supervisors and administrators always; after
# publication the subject's own people (their grant covers it) and leaders covering it, and
# everyone holding a role when the round is public.
VALUE_RULES: dict[str, frozenset[Action]] = {
    SUPERVISOR: frozenset({Action.READ, Action.REPORT, Action.EDIT}),
    UNIT_EDITOR: frozenset({Action.READ, Action.REPORT}),
    LEADER: frozenset({Action.READ}),
    INSPECTOR: frozenset(),
}


def may_on_subject(grants: Iterable[Grant], action: Action, subject_path: str,
                   rules: dict[str, frozenset[Action]]) -> bool:
    """May a person do ``action`` on a record about the subject (unit) at ``subject_path``, under
    ``rules`` (role → actions, within the units the role covers)? Administrators always may."""
    for g in grants:
        if g.role == ADMIN:
            return True
        if action in rules.get(g.role, frozenset()) and g.covers_unit(subject_path):
            return True
    return False


def may_on_value(grants: Iterable[Grant], action: Action, subject_path: str) -> bool:
    """May a person do ``action`` on a value of the subject at ``subject_path``?"""
    return may_on_subject(grants, action, subject_path, VALUE_RULES)


SUBJECT_RECORD_RULES: dict[str, frozenset[Action]] = {
    SUPERVISOR: frozenset({Action.READ, Action.EDIT}),
    UNIT_EDITOR: frozenset({Action.READ}),
    LEADER: frozenset({Action.READ}),
    INSPECTOR: frozenset(),
}


def may_on_subject_record(grants: Iterable[Grant], action: Action, subject_path: str) -> bool:
    """May a person do ``action`` on a record about the subject at ``subject_path`` — its title
    (称号) and their changes, its share of a fund? Supervisors change them; the subject's own
    people and leaders over it read them."""
    return may_on_subject(grants, action, subject_path, SUBJECT_RECORD_RULES)


def may_see_scorecard(grants: Iterable[Grant], subject_path: str, *, published: bool, public: bool) -> bool:
    grants = list(grants)
    if any(g.role == ADMIN or (g.role == SUPERVISOR and g.covers_unit(subject_path)) for g in grants):
        return True
    if not published:
        return False
    if public and grants:
        return True
    return any(g.role in (UNIT_EDITOR, LEADER) and g.covers_unit(subject_path) for g in grants)
