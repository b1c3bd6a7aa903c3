"""Frameworks through their real paths: the shipped ones installed by migrate and listed by the
command; import (YAML, Excel) and export by command, page and API, audited; a frozen version
refused on every path, the database included; permissions."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.db import DatabaseError, connection, transaction
from openpyxl import load_workbook

from chengzhen.assessment import services
from chengzhen.assessment.framework import load_framework
from chengzhen.assessment.models import FrameworkVersion, FrozenFramework
from chengzhen.assessment.shipped import shipped_files
from chengzhen.audit.models import AuditRecord
from chengzhen.problems import Refused

CHENGZHEN = str(Path(sys.executable).parent / "chengzhen")

SMALL = """\
code: SMALL
version: "1"
name: 小体系
status: sample
sources: [测试]
total: 100
nodes:
  - {code: A, name: 绿地率, points: 60, unit: "%", rule: {type: linear, floor: 30, target: 35}}
  - {code: B, name: 问题, points: 40, unit: 处, rule: {type: deduction, per: 2}}
"""


def run(*args, env=None):
    from chengzhen.ledger.tests.test_jobs import worker_env

    return subprocess.run([CHENGZHEN, *args], capture_output=True, text=True, env=env or worker_env(), timeout=120)


@pytest.mark.django_db
def test_migrate_installs_every_shipped_framework():
    files = shipped_files()
    assert len(files) >= 8
    codes = {(v.framework.code, v.label, v.status) for v in FrameworkVersion.objects.select_related("framework")}
    for f in files:
        fw = load_framework(f.read_text(encoding="utf-8"))
        assert (fw.code, fw.version, fw.status) in codes


@pytest.mark.django_db
def test_a_stored_framework_keeps_the_order_it_was_written_in():
    # PostgreSQL's jsonb reorders keys; classes, their values and options keep the file's order
    fw = services.framework_of(services.resolve("YLCS@2005"))
    assert list(fw.profile) == ["population_band", "climate"]
    assert list(fw.profile["population_band"].values) == ["over_1m", "500k_1m", "under_500k"]


@pytest.mark.django_db(transaction=True)
def test_the_command_lists_imports_and_exports(county, tmp_path):
    out = run("framework", "list")
    assert out.returncode == 0, out.stderr
    lines = [line.split("\t") for line in out.stdout.splitlines()]
    assert len(lines) >= 8 and all(len(parts) == 4 and parts[3] in ("complete", "sample") for parts in lines)
    assert ["YLCS", "国家园林城市基本指标", "2005", "complete"] in lines

    src = tmp_path / "small.yaml"
    src.write_text(SMALL, encoding="utf-8")
    out = run("framework", "import", str(src), "--as", "supervisor")
    assert out.returncode == 0, out.stderr
    assert "已导入为 SMALL@1" in out.stdout
    version = FrameworkVersion.objects.get(framework__code="SMALL")
    assert version.created_by.username == "supervisor" and version.leaves == 2
    assert AuditRecord.objects.filter(model="assessment.frameworkversion", object_pk=str(version.pk)).exists()
    assert "内容未变" in run("framework", "import", str(src)).stdout

    for suffix in (".yaml", ".xlsx"):
        target = tmp_path / f"out{suffix}"
        out = run("framework", "export", "SMALL@1", "-o", str(target))
        assert out.returncode == 0, out.stderr
        again, _ = services.read_framework_file(target)
        assert again.as_dict() == load_framework(SMALL).as_dict()
    wb = load_workbook(tmp_path / "out.xlsx")
    assert "测评体系" in wb.sheetnames


@pytest.mark.django_db(transaction=True)
def test_a_bad_framework_is_refused_with_its_path_and_nothing_stored(county, tmp_path):
    src = tmp_path / "bad.yaml"
    src.write_text(SMALL.replace("points: 60", "points: 50").replace("per: 2", "per: 2, cap: 1, slope: 3"),
                   encoding="utf-8")
    out = run("framework", "import", str(src), "--as", "supervisor")
    assert out.returncode == 1
    assert "bad.yaml" in out.stderr and "SMALL@1 › B 问题 › rule.slope" in out.stderr
    assert "一级指标分值合计 90" in out.stderr and "未做任何修改" in out.stderr
    assert not FrameworkVersion.objects.filter(framework__code="SMALL").exists()
    out = run("framework", "export", "NOPE", "-o", str(tmp_path / "x.yaml"))
    assert out.returncode == 1 and "没有测评体系 NOPE" in out.stderr
    out = run("framework", "import", str(src), "--as", "editor_a")
    assert out.returncode == 1


@pytest.mark.django_db
def test_a_draft_is_replaced_a_frozen_version_never(county):
    sup = county.users["supervisor"]
    first = services.import_framework(sup, load_framework(SMALL))
    assert first.outcome == "created"
    changed = load_framework(SMALL.replace("target: 35", "target: 36"))
    assert services.import_framework(sup, changed).outcome == "replaced"
    version = FrameworkVersion.objects.get(pk=first.version.pk)
    assert version.definition["nodes"][0]["rule"]["target"] == 36
    services.freeze(version, "2026年度考核已评分")
    with pytest.raises(Refused, match="已用于评分并冻结"):
        services.import_framework(sup, load_framework(SMALL))
    version.refresh_from_db()
    with pytest.raises(FrozenFramework):
        version.save()
    with pytest.raises(FrozenFramework):
        version.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE assessment_frameworkversion SET name = 'x' WHERE id = %s", [version.pk])
    # a new version label is always possible
    v2 = services.import_framework(sup, load_framework(SMALL.replace('version: "1"', 'version: "2"')))
    assert v2.outcome == "created" and services.resolve("SMALL").pk == v2.version.pk


@pytest.mark.django_db
def test_only_supervisors_and_admins_import(county):
    from django.core.exceptions import PermissionDenied

    for name in ("editor_a", "leader", "inspector"):
        with pytest.raises(PermissionDenied):
            services.import_framework(county.users[name], load_framework(SMALL))
    assert services.import_framework(county.users["admin"], load_framework(SMALL)).outcome == "created"


@pytest.mark.django_db
def test_the_pages_show_the_tree_and_let_a_supervisor_import(client, county):
    client.force_login(county.users["editor_a"])  # a town reads the criteria it is scored on
    page = client.get("/assessment/frameworks/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "YLCS@2005" in text and "导入测评体系" not in text
    assert client.post("/assessment/frameworks/", {}).status_code == 200  # no form for a town: nothing happens
    tree = client.get("/assessment/frameworks/YLCS@2005/")
    html = tree.content.decode()
    assert tree.status_code == 200 and "人均公共绿地" in html and "按对象类别取值" in html
    assert 'data-code="A01"' in html and "秦岭" in html
    assert "50万以下、北方 8.5平方米/人" in html  # the class table in words
    xlsx = client.get("/assessment/frameworks/YLCS@2005/xlsx/")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert "测评体系" in wb.sheetnames
    assert client.get("/assessment/frameworks/NOPE@1/").status_code == 404

    client.force_login(county.users["supervisor"])
    upload = io.BytesIO(SMALL.encode())
    upload.name = "small.yaml"
    answer = client.post("/assessment/frameworks/", {"file": upload})
    assert answer.status_code == 302 and answer["Location"].endswith("/assessment/frameworks/SMALL@1/")
    bad = io.BytesIO(SMALL.replace("unit: 处", "unit: 坨").encode())
    bad.name = "bad.yaml"
    page = client.post("/assessment/frameworks/", {"file": bad})
    assert page.status_code == 200 and "bad.yaml" in page.content.decode() and "未知单位" in page.content.decode()


@pytest.mark.django_db
def test_the_api_lists_reads_imports_and_downloads(client, county):
    client.force_login(county.users["editor_a"])
    listing = client.get("/api/frameworks/").json()
    names = {row["full_name"] for row in (listing["results"] if isinstance(listing, dict) else listing)}
    assert "YLCS@2005" in names
    detail = client.get("/api/frameworks/YLCS@2005/").json()
    assert detail["tree"][0]["children"][0]["code"] == "A01"
    assert "rule_text" in detail["tree"][0]["children"][0]
    upload = io.BytesIO(SMALL.encode())
    upload.name = "small.yaml"
    assert client.post("/api/frameworks/", {"file": upload}).status_code == 403
    client.force_login(county.users["supervisor"])
    upload.seek(0)
    created = client.post("/api/frameworks/", {"file": upload})
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    upload.seek(0)
    assert client.post("/api/frameworks/", {"file": upload}).status_code == 200
    bad = io.BytesIO(b"code: [")
    bad.name = "bad.yaml"
    refused = client.post("/api/frameworks/", {"file": bad})
    assert refused.status_code == 400 and "YAML" in str(refused.json())
    answer = client.get("/api/frameworks/SMALL@1/file/yaml/")
    assert 'filename="SMALL@1.yaml"' in answer["Content-Disposition"]
    text = b"".join(answer.streaming_content).decode()
    assert yaml.safe_load(text)["code"] == "SMALL"
    assert client.get("/api/frameworks/NOPE/").status_code == 404
