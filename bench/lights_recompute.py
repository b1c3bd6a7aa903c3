"""Figure: lights for 50,000 tasks recomputed, database read and write included, target ≤ 5 s.

Builds a county (20 towns, each with a liaison; a supervisor on the county) and two
programmes of 50,000 tasks in all — the default rules reporting monthly and the three-colour
rules (working days) reporting quarterly — with start and due dates over the year (some
overdue), time nodes (some past and not done), the lead units' progress reports (some periods
missing), annual investment plans and sub-tasks. Then times three ``recompute`` runs on a
fixed day: the first (no lights yet: every light, transition, escalation and notification
written), the next day with nothing changed but the date, and the same day again after 5 % of
the tasks got a new progress report.
Run: ``.venv/bin/python bench/lights_recompute.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_each, setup_django, table  # noqa: E402

TASKS = {"default": 35_000, "three-colour": 15_000}  # per rule set, one programme each
TOWNS = 20
NEW_REPORTS = 0.05  # the share of tasks given a new progress report before the third run


def _build(today):
    """The county, its people and the programmes' ledgers (not timed)."""
    import datetime as dt
    import random
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from chengzhen.ledger import progress
    from chengzhen.ledger.models import AnnualPlan, ProgressReport, Task, TimeNode
    from chengzhen.org.models import Membership, Unit, User
    from chengzhen.programmes.models import Programme

    rng = random.Random(7)
    tz = timezone.get_default_timezone()
    county = Unit.objects.create(code="L0", name="基准县人民政府", short_name="基准县", kind="government")
    towns, liaisons = [], {}
    for i in range(1, TOWNS + 1):
        town = Unit.objects.create(code=f"L{i}", name=f"基准{i}镇人民政府", short_name=f"基准{i}镇",
                                   head_name=f"镇长{i}", kind="town", parent=county)
        towns.append(town.pk)
        liaisons[town.pk] = []
        for k in range(1 if i % 4 else 2):  # every fourth town has two liaisons
            user = User.objects.create(username=f"liaison{i}-{k}", full_name=f"联络员{i}-{k}")
            Membership.objects.create(user=user, role="unit_editor", unit=town)
            liaisons[town.pk].append(user.pk)
    supervisor = User.objects.create(username="supervisor", full_name="督查员")
    Membership.objects.create(user=supervisor, role="supervisor", unit=county)

    year_start, year_end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    programmes = []
    for n, (rules, count) in enumerate(TASKS.items(), 1):
        cycle = "monthly" if rules == "default" else "quarterly"
        programmes.append((Programme.objects.create(
            code=f"L{n}", name=f"基准计划{n}", kind="other", start_date=year_start,
            end_date=dt.date(today.year + 1, 12, 31), owner_unit=county, reporting_cycle=cycle,
            reporting_day=25, light_rules=rules), count))

    def time_share(start, due, day):
        return progress.time_progress(start, due, min(max(day, start), due))

    def year_share(start, due, day):
        first, last = max(start, year_start), min(due, year_end)
        return min(1.0, max(0.0, ((day - first).days + 1) / max(1, (last - first).days + 1)))

    facts = {}  # task id -> (programme, start, due, status, lead unit, pace, year plan)
    with transaction.atomic():
        for p, count in programmes:
            specs = []
            for i in range(count):
                if rng.random() < 0.85:
                    start = year_start + dt.timedelta(days=rng.randint(0, 240))  # by end of August
                else:
                    start = today + dt.timedelta(days=rng.randint(-27, 64))  # lately or not yet
                due = start + dt.timedelta(days=rng.randint(45, 480))
                if start > today:
                    status = "not_started"
                elif due < today:
                    status = rng.choices(["completed", "closed", "in_progress", "not_started"],
                                         [55, 15, 25, 5])[0]
                else:
                    status = rng.choices(["in_progress", "not_started", "completed"], [80, 12, 8])[0]
                lead = towns[rng.randrange(TOWNS)]
                total = Decimal(rng.randint(100_000, 500_000_000))
                user = rng.choice(liaisons[lead]) if rng.random() < 0.3 else None
                specs.append({
                    "programme_id": p.pk, "code": f"{p.code}-{i + 1:05d}", "seq": i + 1,
                    "name": f"第{i + 1}项重点工作", "category": "基础设施",
                    "requirement": "按期完成建设任务，形成实物工作量", "responsible_leader": "李四",
                    "lead_unit_id": lead, "responsible_person": "张三",
                    "responsible_phone": "13800000000", "responsible_user_id": user,
                    "start_date": start, "due_date": due, "planned_total_investment": total,
                    "opening_completed_investment": Decimal(0), "status": status, "notes": "",
                    "weight": None, "parent_id": None,
                    # how the task keeps pace with its time (形象进度 ≈ pace × 序时进度)
                    "_pace": rng.choices([1.1, 1.05, 1.0, 0.95, 0.85, 0.7, 0.5],
                                         [15, 20, 25, 15, 10, 10, 5])[0],
                })
            # every tenth task is a sub-task of the one before (its parent's progress rolls up)
            parents = [s for i, s in enumerate(specs) if i % 10 != 9]
            children = [s for i, s in enumerate(specs) if i % 10 == 9]
            paces = [s.pop("_pace") for s in specs]
            Task.objects.insert_values(parents)
            for i, s in enumerate(specs):
                if i % 10 == 9:
                    s["parent_id"] = specs[i - 1]["id"]
            Task.objects.insert_values(children)
            for s, pace in zip(specs, paces, strict=True):
                plan = ((s["planned_total_investment"] * Decimal(rng.uniform(0.3, 0.8)))
                        .quantize(Decimal("0.01")) if rng.random() < 0.8 else None)
                facts[s["id"]] = (p, s["start_date"], s["due_date"], s["status"], s["lead_unit_id"],
                                  pace, plan)

        nodes, plans, reports = [], [], []
        for task_id, (p, start, due, status, lead, pace, plan) in facts.items():
            finished = status in ("completed", "closed")
            span = (due - start).days
            for seq, (name, on) in enumerate((
                    ("开工", start + dt.timedelta(days=7)),
                    ("过半", start + dt.timedelta(days=span // 2)),
                    ("完工验收", due - dt.timedelta(days=5)))):
                done = None
                if on < today and (finished or rng.random() < 0.9):
                    done = min(on + dt.timedelta(days=rng.randint(-3, 10)), today)
                nodes.append({"task_id": task_id, "seq": seq, "name": name, "planned_date": on,
                              "done_on": done})
            if plan is not None:
                plans.append({"task_id": task_id, "year": today.year, "amount": plan})
            if start > today:
                continue
            # the lead unit's reports, one a period from the task's start to the last due one
            period = progress.period_of(start, p.reporting_cycle)
            last = progress.period_of(min(due, today), p.reporting_cycle).key if finished else None
            done_so_far = Decimal(0)
            while period.first_day <= today:
                is_last = period.key == last
                if progress.period_of(today, p.reporting_cycle).key == period.key:
                    skip = rng.random() < 0.2  # this period's report not in yet
                else:
                    skip = not is_last and rng.random() < 0.08
                if not skip:
                    share = time_share(start, due, period.last_day)
                    physical = 100.0 if is_last else min(100.0, share * 100 * pace
                                                         * rng.uniform(0.9, 1.1))
                    # investment against the task's part of the year, as the rules measure it
                    spent = (plan or Decimal(0)) * Decimal(min(1.0, year_share(start, due, period.last_day)
                                                               * pace * rng.uniform(1.0, 1.15)))
                    spent -= done_so_far
                    spent = max(Decimal(0), spent).quantize(Decimal("0.01"))
                    done_so_far += spent
                    deadline = progress.reporting_deadline(period, p.reporting_day)
                    at = dt.datetime.combine(deadline - dt.timedelta(days=rng.randint(0, 4)),
                                             dt.time(rng.randint(8, 17), rng.randint(0, 59)), tz)
                    reports.append({
                        "task_id": task_id, "period": period.key, "reporting_unit_id": lead,
                        "physical_progress": Decimal(physical).quantize(Decimal("0.01")),
                        "investment": spent, "progress_text": "按计划推进", "problems": "",
                        "next_steps": "加快推进", "coordination": "", "reporter_name": "张三",
                        "reporter_id": None, "submitted_at": at, "supersedes_id": None,
                        "is_current": True})
                if is_last:
                    break
                period = progress.period_of(period.last_day + dt.timedelta(days=1),
                                            p.reporting_cycle)
        TimeNode.objects.insert_values(nodes)
        AnnualPlan.objects.insert_values(plans)
        ProgressReport.objects.insert_values(reports)
    return facts, {"time_nodes": len(nodes), "annual_plans": len(plans), "reports": len(reports)}


def _new_reports(facts, today) -> int:
    """A new progress report on ``NEW_REPORTS`` of the started, unfinished tasks for the
    period containing ``today``: a late report, or a correction superseding the current one;
    the tasks catch up with their time."""
    import datetime as dt
    import random
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from chengzhen.ledger import progress
    from chengzhen.ledger.models import ProgressReport

    rng = random.Random(11)
    open_ = sorted(t for t, f in facts.items() if f[1] <= today and f[3] not in ("completed", "closed"))
    chosen = sorted(rng.sample(open_, round(len(facts) * NEW_REPORTS)))
    current = {}
    for i in range(0, len(chosen), 900):
        for pk, task_id, period, unit in ProgressReport.objects.filter(
                task_id__in=chosen[i:i + 900], is_current=True).values_list(
                "pk", "task_id", "period", "reporting_unit_id"):
            current[(task_id, period, unit)] = pk
    now = timezone.make_aware(dt.datetime.combine(today, dt.time(10)))
    rows = []
    for task_id in chosen:
        p, start, due, _status, lead, _pace, plan = facts[task_id]
        period = progress.period_of(today, p.reporting_cycle).key
        share = progress.time_progress(start, due, min(max(today, start), due))
        rows.append({
            "task_id": task_id, "period": period, "reporting_unit_id": lead,
            "physical_progress": Decimal(min(100.0, share * 100 + 2)).quantize(Decimal("0.01")),
            "investment": ((plan or Decimal(0)) * Decimal("0.05")).quantize(Decimal("0.01")),
            "progress_text": "加快推进，已赶上序时进度", "problems": "", "next_steps": "按期完成",
            "coordination": "", "reporter_id": None, "reporter_name": "张三",
            "submitted_at": now, "is_current": True,
            "supersedes_id": current.get((task_id, period, lead))})
    superseded = [r["supersedes_id"] for r in rows if r["supersedes_id"]]
    with transaction.atomic():
        for i in range(0, len(superseded), 900):
            ProgressReport.objects.filter(pk__in=superseded[i:i + 900]).update(is_current=False)
        ProgressReport.objects.insert_values(rows)
    return len(rows)


def measure() -> dict:
    setup_django()
    import datetime as dt

    from chengzhen.ledger.models import Task
    from chengzhen.supervision.models import Light
    from chengzhen.supervision.recompute import recompute

    today = dt.date(2026, 9, 28)
    t = time.perf_counter()
    facts, counts = _build(today)
    setup = time.perf_counter() - t
    assert Task.objects.count() == sum(TASKS.values())

    def run(day, name: str) -> dict:
        t = time.perf_counter()
        r = recompute(today=day, trigger="command")
        seconds = time.perf_counter() - t
        return {"run": name, "tasks": r.tasks, "changed": r.changed, "escalations": r.escalations,
                "deductions": r.deductions, "notifications": r.notifications,
                "engine_s": r.seconds, "seconds": seconds, "warnings": r.warnings}

    runs = [run(today, f"first ({today:%m-%d}, no lights yet)")]
    assert Light.objects.count() == sum(TASKS.values())
    later = today + dt.timedelta(days=1)
    runs.append(run(later, f"next day ({later:%m-%d}), nothing changed"))
    reported = _new_reports(facts, later)
    runs.append(run(later, f"same day, {reported:,} new reports"))
    return {"setup_s": setup, **counts, "runs": runs}


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
        return
    results = run_each(__file__)
    rows = [{"database": r["database"], **run} for r in results for run in r["runs"]]
    print(table("lights recompute, 50,000 tasks, read and write included (target ≤ 5 s)", rows, [
        ("database", "database"), ("run", "run"), ("tasks", "tasks"),
        ("changed", "lights changed"), ("escalations", "escalations"),
        ("deductions", "deductions"), ("notifications", "notifications"),
        ("seconds", "recompute (s)"), ("engine_s", "of which before commit (s)"),
    ]))
    for r in results:
        print(f"\n{r['database']}: data built in {r['setup_s']:.0f} s ({r['time_nodes']:,} time "
              f"nodes, {r['reports']:,} progress reports, {r['annual_plans']:,} annual plans)")


if __name__ == "__main__":
    main()
