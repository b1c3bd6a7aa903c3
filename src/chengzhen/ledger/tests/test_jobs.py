"""Large imports run in a real background worker process; the page shows the outcome."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from chengzhen.audit.models import AuditRecord
from chengzhen.documents.models import Job
from chengzhen.ledger.models import Task

from .test_import_pages import upload


def worker_env() -> dict:
    """The worker process on the test database, its files where the tests' MEDIA_ROOT is."""
    from django.conf import settings

    s = connection.settings_dict
    url = (f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
           if connection.vendor == "postgresql" else f"sqlite:///{s['NAME']}")
    return {**os.environ, "DATABASE_URL": url,
            "CHENGZHEN_DATA_DIR": str(Path(settings.MEDIA_ROOT).parent)}


def run_worker() -> None:
    chengzhen = os.path.join(os.path.dirname(sys.executable), "chengzhen")
    out = subprocess.run([chengzhen, "db_worker", "--batch", "--no-startup-delay"],
                         capture_output=True, text=True, env=worker_env(), timeout=120)
    assert out.returncode == 0, out.stderr


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
    run_worker()
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


@pytest.mark.django_db(transaction=True)
def test_large_export_runs_in_the_worker_and_waits_for_its_download(county, make_task, client,
                                                                    settings):
    from openpyxl import load_workbook

    settings.CHENGZHEN_EXPORT_JOB_ROWS = 3
    for code, lead in (("E1", "town_a"), ("E2", "town_a"), ("E3", "village_a"), ("E4", "town_b")):
        make_task(code, lead=lead)
    client.force_login(county.users["editor_a"])
    small = client.get("/ledger/export/?status=not_started&q=E1")  # one row: at once
    assert small.status_code == 200 and small["Content-Disposition"].startswith("attachment")
    assert not Job.objects.exists()
    response = client.get("/ledger/export/?programme=ZDZ2026&sort=-code")
    job = Job.objects.get()
    assert response.url == f"/jobs/{job.pk}/" and job.kind == "ledger_export"
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404  # not done yet
    run_worker()
    job.refresh_from_db()
    assert job.status == "done" and job.percent == 100 and job.params["rows"] == 3, job.messages
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "已导出 3 项任务" in page and f"/jobs/{job.pk}/download/" in page
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    ws = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    codes = [ws.cell(row=r, column=2).value for r in range(5, ws.max_row + 1)]
    assert codes == ["E1", "E2", "E3"]  # the editor's own units only; town_b's E4 is not hers
    event = AuditRecord.objects.filter(action="export").order_by("seq").last()
    assert (event.actor_username, event.source) == ("editor_a", f"job:{job.pk} ledger export")
    client.force_login(county.users["editor_b"])
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404  # someone else's file
