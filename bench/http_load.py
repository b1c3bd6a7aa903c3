"""Figures: the ledger over HTTP against the production setup (gunicorn, several workers).

With 10,000 tasks in the database and a town liaison logged in: p95 of 200 filtered,
paginated ledger-list pages (target ≤ 150 ms) and of 200 API task lists (target ≤ 100 ms);
then 50 concurrent clients for 60 s, 90% page and API reads and 10% progress-report
submissions, counting errors (target: none). Client and server share the machine's cores.
Run: ``.venv/bin/python bench/http_load.py [--seconds 60]``.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, run_each, setup_django, table  # noqa: E402

WORKERS = 4
LIAISON = "lly02"  # 青石镇's liaison in the demo county


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare() -> tuple[str, list[int], str]:
    """Demo county plus tasks up to 10,000; returns the API token, the liaison's task ids and
    the reporting unit's code."""
    setup_django()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from chengzhen.demo.sheets import write_ledger_sheet
    from chengzhen.ledger.importer import import_ledger
    from chengzhen.ledger.models import Task
    from chengzhen.org.models import User, system_user
    from chengzhen.org.permissions import restrict
    from chengzhen.programmes.models import Programme

    call_command("demo", stdout=open(os.devnull, "w"))
    missing = 10_000 - Task.objects.count()
    towns = ["青石镇", "柳河镇", "双桥镇", "龙泉镇", "石门镇", "白马镇", "枫林镇", "桃源镇",
             "清溪镇", "金山镇"]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_ledger_sheet(Path(tmp) / "more.xlsx", missing, towns, ["县住建局", "县财政局"])
        import_ledger(system_user(), Programme.objects.get(code="ZDZ2026"), path)
    from django.db import connection

    if connection.vendor == "postgresql":  # the statistics autovacuum would gather in a minute
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    user = User.objects.get(username=LIAISON)
    token, _ = Token.objects.get_or_create(user=user)
    ids = list(restrict(Task.objects.filter(lead_unit=user.unit, programme__code="ZDZ2026"),
                        user).values_list("pk", flat=True))  # monthly: periods like 2026-11
    return token.key, ids, user.unit.code


class Client:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def login(self, username: str, password: str) -> None:
        page = self.opener.open(self.base + "/login/").read().decode()
        csrf = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "username": username,
                                       "password": password}).encode()
        req = urllib.request.Request(self.base + "/login/", data,
                                     headers={"Referer": self.base + "/login/"})
        self.opener.open(req).read()

    def get(self, path: str, api: bool = False) -> float:
        headers = {"Authorization": f"Token {self.token}"} if api else {}
        t = time.perf_counter()
        with (urllib.request.urlopen if api else self.opener.open)(
                urllib.request.Request(self.base + path, headers=headers), timeout=30) as r:
            r.read()
            if r.status != 200:
                raise RuntimeError(f"{path}: {r.status}")
        return time.perf_counter() - t

    def post_json(self, path: str, body: dict) -> float:
        req = urllib.request.Request(self.base + path, json.dumps(body).encode(), headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
        return time.perf_counter() - t


PAGES = ["/ledger/?lagging=1&sort=lag", "/ledger/?sort=due&due_within=60",
         "/ledger/?q=%E5%B7%A5%E4%BD%9C&page=3", "/ledger/?status=in_progress&page=2",
         "/ledger/?programme=ZDZ2026&sort=-progress"]
APIS = ["/api/tasks/?lagging=1", "/api/tasks/?page=2", "/api/tasks/?sort=due&status=in_progress",
        "/api/tasks/?q=%E5%B7%A5%E4%BD%9C"]


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000


def measure(seconds: int) -> dict:
    token, ids, unit = _prepare()
    from django.db import connections

    connections.close_all()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = ROOT / "bench" / "out" / f"http-server-{os.environ.get('BENCH_DB', 'db')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "chengzhen"), "serve", "--port", str(port),
         "--workers", str(WORKERS)], stdout=log, stderr=log,
        env={**os.environ, "CHENGZHEN_DEBUG": "0"})
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        client = Client(base, token)
        client.login(LIAISON, "demo12345")
        for path in PAGES + APIS:  # warm every worker's caches a little
            client.get(path, api=path.startswith("/api"))
        pages = [client.get(PAGES[i % len(PAGES)]) for i in range(200)]
        apis = [client.get(APIS[i % len(APIS)], api=True) for i in range(200)]
        counts = {"requests": 0, "errors": 0, "reports": 0}
        kinds: dict[str, int] = {}
        lock = threading.Lock()
        clients = []
        for _ in range(50):  # logged in before the clock starts: a login is a slow hash
            c = Client(base, token)
            c.opener.addheaders = []
            c.jar = client.jar
            c.opener = client.opener
            clients.append(c)
        stop = time.monotonic() + seconds

        def worker(n: int) -> None:
            rng = random.Random(n)
            me = clients[n]
            while time.monotonic() < stop:
                roll = rng.random()
                try:
                    if roll < 0.1:
                        me.post_json(f"/api/tasks/{rng.choice(ids)}/reports/", {
                            "period": "2026-11", "unit": unit, "supersede": True,
                            "physical_progress": str(rng.randint(0, 100))})
                        kind = "reports"
                    elif roll < 0.55:
                        me.get(rng.choice(PAGES))
                        kind = None
                    else:
                        me.get(rng.choice(APIS), api=True)
                        kind = None
                    with lock:
                        counts["requests"] += 1
                        if kind:
                            counts[kind] += 1
                except (urllib.error.URLError, OSError, RuntimeError) as exc:
                    kind = f"{type(exc).__name__}: {getattr(exc, 'code', '')} {exc}"[:80]
                    with lock:
                        counts["requests"] += 1
                        counts["errors"] += 1
                        kinds[kind] = kinds.get(kind, 0) + 1

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"page_p50_ms": statistics.median(pages) * 1000, "page_p95_ms": p95(pages),
            "api_p50_ms": statistics.median(apis) * 1000, "api_p95_ms": p95(apis),
            "load_requests": counts["requests"], "load_reports": counts["reports"],
            "load_errors": counts["errors"], "load_seconds": seconds,
            "error_kinds": "; ".join(f"{k} ×{v}" for k, v in kinds.items()) or "—"}


def main() -> None:
    seconds = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 60
    if "--measure" in sys.argv:
        print(json.dumps(measure(seconds)))
        return
    results = run_each(__file__, ["--seconds", str(seconds)])
    print(table(f"ledger over HTTP, gunicorn × {WORKERS}, 10,000 tasks, a town liaison "
                "(targets: page p95 ≤ 150 ms, API p95 ≤ 100 ms, no errors)", results, [
        ("database", "database"), ("page_p50_ms", "page p50 (ms)"),
        ("page_p95_ms", "page p95 (ms)"), ("api_p50_ms", "API p50 (ms)"),
        ("api_p95_ms", "API p95 (ms)"), ("load_requests", f"requests in {seconds} s × 50 clients"),
        ("load_reports", "of which reports"), ("load_errors", "errors"),
        ("error_kinds", "error kinds"),
    ]))


if __name__ == "__main__":
    main()
