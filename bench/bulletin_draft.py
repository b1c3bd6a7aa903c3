"""Figure: a bulletin draft (工作通报: .docx + .xlsx annex) for 5,000 tasks, target ≤ 3 s,
LibreOffice excluded.

The ledger is the lights benchmark's (``lights_recompute._build``) cut to one programme of
5,000 tasks (monthly reports from each task's start, annual plans, sub-tasks), with its lights
computed for the day (not timed). Timed, each on its own and then together: generating the
draft (reading the ledger, the light history and the reports due at the cutoff, computing the
figures and storing the draft), building the .docx and building the .xlsx from the stored
figures, and issuing (the number under a lock, both files written with their hashes, the
accountability records).
Run: ``.venv/bin/python bench/bulletin_draft.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_each, setup_django, table  # noqa: E402

TASKS = 5_000


def measure() -> dict:
    setup_django()
    import datetime as dt

    import lights_recompute

    from chengzhen.org.models import User
    from chengzhen.programmes.models import Programme
    from chengzhen.supervision import bulletins
    from chengzhen.supervision.recompute import recompute

    lights_recompute.TASKS = {"default": TASKS}
    today = dt.date(2026, 9, 28)
    facts, counts = lights_recompute._build(today)
    recompute(today=today, trigger="command")
    programme = Programme.objects.get()
    supervisor = User.objects.get(username="supervisor")
    start, end = dt.date(2026, 9, 1), dt.date(2026, 9, 30)

    t = time.perf_counter()
    draft = bulletins.generate(supervisor, programme, start, end, today=today)
    generate_s = time.perf_counter() - t
    t = time.perf_counter()
    docx = bulletins.build_file(draft, ".docx")
    docx_s = time.perf_counter() - t
    t = time.perf_counter()
    xlsx = bulletins.build_file(draft, ".xlsx")
    xlsx_s = time.perf_counter() - t
    t = time.perf_counter()
    issued = bulletins.issue(supervisor, draft, expected_version=draft.version)
    issue_s = time.perf_counter() - t
    fig = bulletins.pure.Figures.from_json(issued.figures)
    return {"tasks": fig.overall.tasks, "units": len(fig.units), "lit": len(fig.red_list),
            "reports": counts["reports"], "generate_s": generate_s, "docx_s": docx_s,
            "xlsx_s": xlsx_s, "draft_s": generate_s + docx_s + xlsx_s, "issue_s": issue_s,
            "docx_kb": len(docx) / 1024, "xlsx_kb": len(xlsx) / 1024}


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
        return
    results = run_each(__file__)
    print(table(f"bulletin draft, {TASKS:,} tasks (.docx + .xlsx, LibreOffice excluded; target ≤ 3 s)",
                results, [("database", "database"), ("tasks", "leaf tasks"), ("reports", "reports"),
                          ("lit", "lit tasks"), ("generate_s", "generate (s)"), ("docx_s", ".docx (s)"),
                          ("xlsx_s", ".xlsx (s)"), ("draft_s", "draft total (s)"),
                          ("issue_s", "issue (s)")]))


if __name__ == "__main__":
    main()
