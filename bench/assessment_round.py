"""Figures: an assessment round of 200 subjects × 1,000 indicators scored and stored end to end
(reading the accepted values, converting units, the engine, grading, rendering every sentence,
storing every score, freezing the framework), target ≤ 15 s on PostgreSQL; and a subject's
scorecard page over HTTP (gunicorn, ``CHENGZHEN_DEBUG=0``, 1,000 indicator rows), p95 of 100,
target ≤ 200 ms.

The framework is the engine benchmark's synthetic one (every rule type, class tables, ratios);
the values — one accepted value per subject and indicator input, about 280,000 — are written
in bulk before the clock starts. Run: ``.venv/bin/python bench/assessment_round.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, run_each, setup_django, table  # noqa: E402

SUBJECTS = 200


def _prepare():
    setup_django()
    import assessment_engine
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from chengzhen.assessment import rounds, services
    from chengzhen.assessment.models import SubjectProfile, Value
    from chengzhen.audit.fastinsert import RowWriter, reserve_ids
    from chengzhen.org.models import Division, Membership, Unit, User

    system_fw = assessment_engine.framework()
    county = Division.objects.create(code="330100000000", gb2260="330100", name="基准市", level="county")
    gov = Unit.objects.create(code="330100", name="基准市人民政府", kind="government", division=county)
    towns = []
    for i in range(SUBJECTS):
        code = f"{330100100000 + i * 1000}"
        div = Division.objects.create(code=code, name=f"镇{i:03d}", level="town", parent=county)
        towns.append(Unit.objects.create(code=code, name=f"镇{i:03d}人民政府", short_name=f"镇{i:03d}",
                                         kind="town", division=div, parent=gov))
    sup = User.objects.create(username="bench_sup", password=make_password("demo12345"), full_name="督查")
    Membership.objects.create(user=sup, role="supervisor", unit=gov)
    services.import_framework(sup, system_fw)
    r = rounds.create_round(sup, code="BENCH-2026", name="基准考核", framework_name="BENCH@1",
                            unit_codes=[t.code for t in towns], year=2026, period_from=dt.date(2026, 1, 1),
                            period_to=dt.date(2026, 12, 31), submit_by=dt.date(2026, 12, 31))
    subjects, profiles, values = assessment_engine.inputs(system_fw, SUBJECTS)
    for t, attrs in zip(towns, profiles.values(), strict=True):
        SubjectProfile.objects.create(unit=t, year=2026, attributes=attrs)
    now = timezone.now()
    with transaction.atomic():
        writer = RowWriter(Value, ["id", "version", "round_id", "subject_id", "node", "input", "amount", "unit",
                                   "status", "source", "derivation", "evidence", "submitted_by_id", "submitted_at",
                                   "verified_by_id", "verified_at", "return_reason"])
        units = {(n.code, i.code): i.unit for n in system_fw.leaves() for i in n.inputs}
        rows = [(t, key, a[j]) for key, a in values.arrays.items() for j, t in enumerate(towns) if a[j] == a[j]]
        ids = iter(reserve_ids(Value, len(rows)))
        stamp = writer.adapt_datetime(now)
        for t, (node, input_code), amount in rows:
            writer.add(next(ids), 1, r.pk, t.pk, node, input_code, f"{amount:.6f}", units[(node, input_code)],
                       "accepted", "person", "", "", sup.pk, stamp, sup.pk, stamp, "")
        n_values = writer.write()
    return r, sup, towns, n_values


def measure() -> dict:
    r, sup, towns, n_values = _prepare()
    from chengzhen.assessment import rounds
    from chengzhen.assessment.models import IndicatorScore

    t = time.perf_counter()
    scored = rounds.score_round(sup, rounds.round_of(r.code))
    score_s = time.perf_counter() - t
    rows = IndicatorScore.objects.filter(scoring=scored.scoring).count()
    from django.db import connections

    connections.close_all()
    page = _scorecard_p95(r.code, towns[17].code)
    return {"subjects": len(towns), "values": n_values, "rows": rows, "score_s": score_s, **page}


def _scorecard_p95(code: str, unit: str) -> dict:
    from http_load import Client, _free_port

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (ROOT / "bench" / "out").resolve()
    log.mkdir(parents=True, exist_ok=True)
    out = (log / f"round-server-{os.environ.get('BENCH_DB', 'db')}.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "chengzhen"), "serve", "--port", str(port),
                               "--workers", "2"], stdout=out, stderr=out, env={**os.environ, "CHENGZHEN_DEBUG": "0"})
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        client = Client(base, "")
        client.login("bench_sup", "demo12345")
        path = f"/assessment/rounds/{code}/scorecard/{unit}/"
        for _ in range(5):
            client.get(path)
        samples = [client.get(path) for _ in range(100)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"page_p50_ms": statistics.median(samples) * 1000,
            "page_p95_ms": statistics.quantiles(samples, n=20)[18] * 1000}


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
        return
    results = run_each(__file__)
    print(table(f"assessment round, {SUBJECTS} subjects × 1,000 indicators (targets: scored ≤ 15 s on PostgreSQL, "
                "scorecard page p95 ≤ 200 ms)",
                results, [("database", "database"), ("values", "accepted values"), ("rows", "indicator scores"),
                          ("score_s", "score end to end (s)"), ("page_p50_ms", "scorecard p50 (ms)"),
                          ("page_p95_ms", "scorecard p95 (ms)")]))


if __name__ == "__main__":
    main()
