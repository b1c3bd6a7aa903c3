"""Figure: ``audit verify`` over 100,000 audit records, target ≤ 5 s.

Builds the records through the real recording paths (ledger imports: tasks, cooperating
units, time nodes and annual plans, each row with its audit record), then times a full
verification: the chain walk plus the comparison of every tracked row with its last record.
Run: ``.venv/bin/python bench/audit_verify.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_each, setup_django, table  # noqa: E402

TARGET_RECORDS = 100_000


def measure() -> dict:
    setup_django()
    import datetime as dt
    import tempfile

    from chengzhen.audit.models import AuditRecord
    from chengzhen.audit.verify import verify
    from chengzhen.demo.sheets import write_ledger_sheet
    from chengzhen.ledger.importer import import_ledger
    from chengzhen.org.models import Unit, system_user
    from chengzhen.programmes.models import Programme

    gov = Unit.objects.create(code="V0", name="基准县人民政府", kind="government")
    towns = [Unit.objects.create(code=f"V{i}", name=f"基准{i}镇", kind="town", parent=gov).name
             for i in range(1, 5)]
    user = system_user()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_ledger_sheet(Path(tmp) / "ledger.xlsx", 10_000, towns[:2], towns[2:])
        n = 0
        while AuditRecord.objects.count() < TARGET_RECORDS:
            n += 1
            programme = Programme.objects.create(
                code=f"P{n}", name=f"基准计划{n}", kind="other", start_date=dt.date(2026, 1, 1),
                end_date=dt.date(2027, 12, 31), owner_unit=gov)
            import_ledger(user, programme, path)
    t = time.perf_counter()
    result = verify()
    seconds = time.perf_counter() - t
    assert result.ok, result.findings[:3]
    return {"records": result.records, "rows": result.rows, "verify_s": seconds}


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
        return
    results = run_each(__file__)
    print(table("audit verify (target ≤ 5 s for 100,000 records)", results, [
        ("database", "database"), ("records", "audit records"), ("rows", "tracked rows checked"),
        ("verify_s", "verify (s)"),
    ]))


if __name__ == "__main__":
    main()
