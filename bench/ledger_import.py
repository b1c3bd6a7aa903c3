"""Figure: a 10,000-row customary-layout ledger import with validation, target ≤ 5 s.

Times, on SQLite and on PostgreSQL: the dry run (read, validate, plan), the apply (the same
plus every write and its audit record), and a re-import that finds every row unchanged.
Run: ``.venv/bin/python bench/ledger_import.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_each, setup_django, table  # noqa: E402

ROWS = 10_000


def measure() -> dict:
    setup_django()
    import datetime as dt
    import tempfile

    from chengzhen.demo.sheets import write_ledger_sheet
    from chengzhen.ledger import importer as _imp
    import_ledger = _imp.import_ledger
    from chengzhen.org.models import Unit, system_user
    from chengzhen.programmes.models import Programme

    gov = Unit.objects.create(code="B0", name="基准县人民政府", kind="government")
    names = []
    for i in range(1, 9):
        names.append(Unit.objects.create(code=f"B{i}", name=f"基准{i}镇人民政府",
                                         short_name=f"基准{i}镇", kind="town", parent=gov).name)
    programme = Programme.objects.create(code="BENCH", name="基准计划", kind="other",
                                         start_date=dt.date(2026, 1, 1),
                                         end_date=dt.date(2027, 12, 31), owner_unit=gov)
    user = system_user()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_ledger_sheet(Path(tmp) / "ledger.xlsx", ROWS, names[:4], names[4:])
        t = time.perf_counter()
        import_ledger(user, programme, path, dry_run=True)
        dry = time.perf_counter() - t
        t = time.perf_counter()
        import_ledger(user, programme, path)
        apply = time.perf_counter() - t
        t = time.perf_counter()
        again = import_ledger(user, programme, path, dry_run=True)
        unchanged = time.perf_counter() - t
        assert again.count("unchanged") == ROWS
    return {"rows": ROWS, "dry_run_s": dry, "apply_s": apply, "reimport_s": unchanged}


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
        return
    results = run_each(__file__)
    print(table("10,000-row ledger import (target ≤ 5 s)", results, [
        ("database", "database"), ("rows", "rows"), ("dry_run_s", "dry run (s)"),
        ("apply_s", "import with writes and audit (s)"), ("reimport_s", "re-import, unchanged (s)"),
    ]))


if __name__ == "__main__":
    main()
