"""Large imports run in a real background worker process; the page shows the outcome."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from chengzhen.audit.models import AuditRecord
from chengzhen.documents.models import Job
from chengzhen.ledger.models import Task

from .test_import_pages import upload


def worker_env() -> dict:
    s = connection.settings_dict
    url = (f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
           if connection.vendor == "postgresql" else f"sqlite:///{s['NAME']}")
    return {**os.environ, "DATABASE_URL": url}


@pytest.mark.django_db(transaction=True)
def test_large_import_runs_in_the_worker(county, client, settings):
    settings.CHENGZHEN_IMPORT_JOB_ROWS = 2
    client.force_login(county.users["supervisor"])
    upload(client, [["J1", "后台导入一", "青山镇", "2026-01-01", "2026-12-31"],
                    ["J2", "后台导入二", "白河镇", "2026-01-01", "2026-12-31"]])
    token = client.session["ledger_import"]["token"]
    response = client.post("/ledger/import/apply/", {"token": token})
    job = Job.objects.get()
    assert response.url == f"/jobs/{job.pk}/" and job.status == "queued"
    assert "排队中" in client.get(response.url).content.decode()
    assert not Task.objects.exists()
    chengzhen = os.path.join(os.path.dirname(sys.executable), "chengzhen")
    out = subprocess.run([chengzhen, "db_worker", "--batch", "--no-startup-delay"],
                         capture_output=True, text=True, env=worker_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    job.refresh_from_db()
    assert job.status == "done" and job.percent == 100, job.messages
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "新增 2 项" in page
    assert sorted(Task.objects.values_list("code", flat=True)) == ["J1", "J2"]
    sources = set(AuditRecord.objects.filter(model="ledger.task").values_list(
        "actor_username", "source"))
    assert sources == {("supervisor", f"job:{job.pk} ledger import")}
    client.force_login(county.users["editor_a"])
    assert client.get(f"/jobs/{job.pk}/").status_code == 404  # someone else's job
