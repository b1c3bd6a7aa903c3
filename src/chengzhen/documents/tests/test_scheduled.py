"""The scheduler's jobs: registered with their times, run by the real worker, and doing
what they say (the nightly audit verification, the hourly file housekeeping)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.utils import timezone

from chengzhen.audit.models import AuditRecord
from chengzhen.audit.verify import last_verification
from chengzhen.documents.files import clean_files


def test_scheduler_knows_both_jobs_and_their_times():
    import crontask

    import chengzhen.audit.tasks  # noqa: F401 - registering is importing
    import chengzhen.documents.tasks  # noqa: F401

    jobs = {j.name: j.trigger for j in crontask.scheduler.get_jobs()}
    assert "hour='2', minute='30'" in str(jobs["verify_audit_chain"])
    assert "hour='*', minute='17'" in str(jobs["remove_expired_files"])
    assert str(jobs["verify_audit_chain"].timezone) == "Asia/Shanghai"


def test_scheduler_process_starts_and_stops_cleanly():
    chengzhen = os.path.join(os.path.dirname(sys.executable), "chengzhen")
    proc = subprocess.Popen([chengzhen, "crontask", "--no-heartbeat"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Starting scheduler" in line or not line:
            break
    proc.terminate()
    proc.wait(timeout=30)
    out = "".join(lines)
    assert "Loaded tasks from chengzhen.audit" in out and "chengzhen.documents" in out, out
    assert "Starting scheduler" in out


@pytest.mark.django_db(transaction=True)
def test_nightly_verification_runs_in_the_worker_and_is_shown_to_administrators(county, client):
    from chengzhen.audit.tasks import verify_audit_chain
    from chengzhen.ledger.tests.test_jobs import run_worker

    verify_audit_chain.enqueue()
    run_worker()
    result = last_verification()
    assert result["ok"] is True and result["records"] > 0
    event = AuditRecord.objects.filter(action="verify").get()
    assert (event.actor_username, event.source) == ("system", "schedule:verify_audit_chain")
    client.force_login(county.users["admin"])
    assert "审计链校验" in client.get("/").content.decode()
    client.force_login(county.users["editor_a"])
    assert "审计链校验" not in client.get("/").content.decode()  # administrators only

    # a row changed behind the platform's back: the next night says so, on the home page too
    with connection.cursor() as cur:
        cur.execute("UPDATE org_unit SET name = 'x' WHERE code = 'ZJJ'")
    assert verify_audit_chain.call() is False
    result = last_verification()
    assert result["ok"] is False and result["findings"] == 1
    client.force_login(county.users["admin"])
    assert "未通过" in client.get("/").content.decode()


def test_housekeeping_removes_only_expired_files(settings, tmp_path):
    settings.CHENGZHEN_UPLOAD_KEEP_HOURS, settings.CHENGZHEN_EXPORT_KEEP_HOURS = 24, 72
    now = timezone.now()
    made = {}
    for folder, name, hours in (("uploads", "old", 25), ("uploads", "new", 23),
                                ("exports", "old", 73), ("exports", "new", 71)):
        path = tmp_path / "files" / folder
        path.mkdir(parents=True, exist_ok=True)
        f = path / f"{name}.xlsx"
        f.write_bytes(b"x")
        stamp = (now - dt.timedelta(hours=hours)).timestamp()
        os.utime(f, (stamp, stamp))
        made[(folder, name)] = f
    assert clean_files(now) == {"uploads": 1, "exports": 1}
    assert {k for k, f in made.items() if f.exists()} == {("uploads", "new"), ("exports", "new")}
