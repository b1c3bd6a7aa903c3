"""Shared plumbing for the benchmarks: run a measurement once per database, in a subprocess
with its own fresh database (a temporary SQLite file, and a PostgreSQL database created and
dropped for the run), and print the figures as a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PG_ADMIN_URL = os.environ.get("PG_TEST_URL", "postgres://postgres@127.0.0.1:5432/test")
PG_BENCH_DB = f"chengzhen_bench_{os.getpid()}"  # one per run: two runs at once do not clash
ROOT = Path(__file__).resolve().parent.parent


def _pg_url(db: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db


def _pg(sql: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql)
        return True
    except psycopg.OperationalError:
        return False


def run_each(script: str, args: list[str] | None = None) -> list[dict]:
    """Run ``script --measure`` on SQLite and on PostgreSQL; return their JSON results."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", "")]  # the embedded default: ./var is CHENGZHEN_DATA_DIR
        if _pg(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}") and _pg(f"CREATE DATABASE {PG_BENCH_DB}"):
            targets.append(("PostgreSQL", _pg_url(PG_BENCH_DB)))
        else:
            print(f"(PostgreSQL not reachable at {PG_ADMIN_URL}: skipped)", file=sys.stderr)
        try:
            for name, url in targets:
                env = {**os.environ, "DATABASE_URL": url, "CHENGZHEN_DATA_DIR": tmp,
                       "DJANGO_SETTINGS_MODULE": "chengzhen.settings", "BENCH_DB": name}
                out = subprocess.run([sys.executable, script, "--measure", *(args or [])],
                                     env=env, capture_output=True, text=True, cwd=ROOT)
                if out.returncode != 0:
                    print(out.stdout, out.stderr, file=sys.stderr)
                    raise SystemExit(f"{script} failed on {name}")
                result = json.loads(out.stdout.strip().splitlines()[-1])
                result["database"] = name
                results.append(result)
        finally:
            if len(targets) > 1:
                _pg(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
    return results


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def table(title: str, rows: list[dict], columns: list[tuple[str, str]]) -> str:
    lines = [title, "| " + " | ".join(h for _, h in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(k)) for k, _ in columns) + " |")
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def jittered_grid(rng, side: int, spacing: float, jitter: float = 0.3):
    """The life-circle benches' street grid: ``side`` × ``side`` vertices ``spacing`` metres apart,
    each moved by up to ±``jitter`` × spacing, drawn as ``2 × side`` long row and column lines that
    share every crossing. Returns the lines and the extent (metres)."""
    import numpy as np
    import shapely

    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1) * spacing
    xy = xy + rng.uniform(-jitter, jitter, xy.shape) * spacing
    lines = [shapely.LineString(xy[i, :]) for i in range(side)] + [shapely.LineString(xy[:, i]) for i in range(side)]
    return lines, (side - 1) * spacing


def timed(fn, runs: int = 1):
    """(best seconds of ``runs`` calls, the last call's result); a garbage collection before each
    call so an earlier step's garbage is not timed here."""
    import gc
    import time

    best, out = float("inf"), None
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out
