"""``audit verify`` finds every kind of tampering and names the record."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from chengzhen.audit.context import acting_as
from chengzhen.audit.models import AuditRecord
from chengzhen.audit.verify import verify
from chengzhen.ledger.models import Task, TimeNode


@pytest.fixture
def ledger(county, make_task):
    with acting_as(county.users["supervisor"], "test"):
        tasks = [make_task(f"T{i}") for i in range(1, 4)]
        TimeNode.objects.create(task=tasks[0], name="开工", planned_date="2026-03-01")
    return tasks


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cur:
        cur.execute(statement, params)


def middle_seq() -> int:
    return AuditRecord.objects.order_by("seq")[AuditRecord.objects.count() // 2].seq


def assert_refused(first_seq: int | None = None, text: str = "") -> str:
    result = verify()
    assert not result.ok
    if first_seq is not None:
        assert result.first_broken_record == first_seq
    joined = "\n".join(str(f) for f in result.findings)
    assert text in joined
    with pytest.raises(CommandError) as exc:
        call_command("audit", "verify")
    if first_seq is not None:
        assert f"#{first_seq}" in str(exc.value)
    return joined


def test_clean_chain_verifies(ledger, capsys):
    result = verify()
    assert result.ok, result.findings
    assert result.records == AuditRecord.objects.count()
    call_command("audit", "verify")
    assert "审计链完整" in capsys.readouterr().out


def test_edited_content_is_caught(ledger):
    seq = middle_seq()
    content = AuditRecord.objects.get(seq=seq).content.replace('"version":1', '"version":7')
    sql("UPDATE audit_auditrecord SET content = %s WHERE seq = %s", [content, seq])
    assert_refused(seq, "内容与哈希不符")


def test_edited_hash_is_caught(ledger):
    seq = middle_seq()
    sql("UPDATE audit_auditrecord SET hash = %s WHERE seq = %s", ["f" * 64, seq])
    assert_refused(seq, "内容与哈希不符")


def test_deleted_middle_record_is_caught(ledger):
    seq = middle_seq()
    sql("DELETE FROM audit_auditrecord WHERE seq = %s", [seq])
    assert_refused(seq + 1, "序号不连续")


def test_deleted_last_record_is_caught(ledger):
    last = AuditRecord.objects.order_by("-seq").first().seq
    sql("DELETE FROM audit_auditrecord WHERE seq = %s", [last])
    assert_refused(last - 1, "链尾与记录不符")


def test_reordered_records_are_caught(ledger):
    a = middle_seq()
    b = a + 1
    sql("UPDATE audit_auditrecord SET seq = -1 WHERE seq = %s", [a])
    sql("UPDATE audit_auditrecord SET seq = %s WHERE seq = %s", [a, b])
    sql("UPDATE audit_auditrecord SET seq = %s WHERE seq = -1", [b])
    assert_refused(a)


def test_row_changed_outside_the_platform_is_caught(ledger):
    task = ledger[1]
    sql("UPDATE ledger_task SET name = %s WHERE id = %s", ["偷改的名称", task.pk])
    text = assert_refused(text="字段 name")
    assert f"ledger.task:{task.pk}" in text and "偷改的名称" in text


def test_row_inserted_outside_the_platform_is_caught(ledger):
    task = ledger[0]
    sql(
        "INSERT INTO ledger_timenode (task_id, seq, name, planned_date, version) "
        "VALUES (%s, 9, '私加节点', '2026-05-01', 1)", [task.pk],
    )
    assert_refused(text="没有任何审计记录")


def test_row_deleted_outside_the_platform_is_caught(ledger):
    sql("DELETE FROM ledger_timenode")
    assert_refused(text="数据行已不存在")


def test_cascade_delete_records_each_row(ledger, county):
    node_pk, task_pk = TimeNode.objects.get().pk, ledger[0].pk
    with acting_as(county.users["supervisor"], "test"):
        ledger[0].delete()
    deleted = AuditRecord.objects.filter(action="delete")
    assert {(r.model, r.object_pk) for r in deleted} == {
        ("ledger.task", str(task_pk)), ("ledger.timenode", str(node_pk)),
    }
    assert {r.actor_username for r in deleted} == {"supervisor"}
    assert verify().ok


def test_bulk_paths_are_recorded_and_verify(county, make_task):
    t = make_task("B0")
    with acting_as(county.users["admin"], "test"):
        created = Task.objects.bulk_create([
            Task(programme=county.programme, code=f"B{i}", name=f"批量{i}",
                 lead_unit=county.units["town_b"], start_date="2026-01-01",
                 due_date="2026-06-30")
            for i in range(1, 4)
        ])
        for task in created:
            task.category = "批量修改"
        Task.objects.bulk_update(created, ["category"])
        Task.objects.filter(code__startswith="B").delete()
    actions = [
        (r.action, r.actor_username)
        for r in AuditRecord.objects.filter(model="ledger.task").exclude(object_pk=str(t.pk))
    ]
    assert actions.count(("create", "admin")) == 3
    assert actions.count(("update", "admin")) == 3
    assert ("delete", "admin") in actions
    assert verify().ok


def test_data_migration_is_recorded(db):
    rec = AuditRecord.objects.get(seq=1)
    body = json.loads(rec.content)
    assert body["source"] == "migration:org.0003_system_user"
    assert body["after"]["username"] == "system"
    assert verify().ok


def test_login_and_failed_login_are_recorded(county, client):
    county.users["admin"].is_staff = True
    county.users["admin"].save()
    before = AuditRecord.objects.filter(model="org.user", action="update").count()
    version = county.users["admin"].version
    client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    client.post("/admin/login/", {"username": "admin", "password": "pw-admin"})
    events = [(r.action, r.actor_username) for r in AuditRecord.objects.filter(
        action__in=["login", "login_failed"])]
    assert events == [("login_failed", "admin"), ("login", "admin")]
    # last_login is not audited: a login neither writes an update nor moves the version
    assert AuditRecord.objects.filter(model="org.user", action="update").count() == before
    county.users["admin"].refresh_from_db()
    assert county.users["admin"].version == version
    assert verify().ok


@pytest.mark.django_db(transaction=True)
def test_verify_command_exits_1_from_the_shell(county):
    sql("UPDATE org_unit SET name = '改名' WHERE code = 'ZJJ'")
    env = {**os.environ, "DATABASE_URL": _url_of_test_db()}
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "chengzhen"), "audit", "verify"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 1, out.stderr
    assert "org.unit" in out.stderr and "字段 name" in out.stderr


def _url_of_test_db() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def test_chain_rewritten_after_an_anchor_is_caught(ledger, capsys):
    from chengzhen.audit import canonical
    from chengzhen.audit.models import AuditHead

    call_command("audit", "head")
    anchor = capsys.readouterr().out.strip()
    seq = int(anchor.split("\t")[0].lstrip("#"))
    call_command("audit", "verify", "--anchor", anchor)
    # rewrite the chain from the anchor on, recomputing every hash and the head: only the
    # anchor written down outside the database shows it
    rec = AuditRecord.objects.get(seq=seq)
    content = rec.content.replace('"version":1', '"version":7')
    digest = canonical.chain_hash(rec.prev_hash, content)
    sql("UPDATE audit_auditrecord SET content = %s, hash = %s WHERE seq = %s",
        [content, digest, seq])
    AuditHead.objects.filter(pk=1).update(hash=digest)
    assert verify(check_rows=False).ok
    with pytest.raises(CommandError, match=f"#{seq}"):
        call_command("audit", "verify", "--anchor", anchor)
    with pytest.raises(CommandError, match="--anchor"):
        call_command("audit", "verify", "--anchor", "12:not-a-hash")


def test_chain_break_is_named_before_row_findings(ledger):
    sql("UPDATE ledger_task SET name = '偷改' WHERE id = %s", [ledger[0].pk])
    last = AuditRecord.objects.order_by("-seq").first().seq
    sql("UPDATE audit_auditrecord SET hash = %s WHERE seq = %s", ["0" * 64, last])
    result = verify()
    assert result.first_broken_record == last
    assert any(not f.chain and f.seq < last for f in result.findings)


def test_log_and_head_commands(ledger, capsys):
    call_command("audit", "log", "--model", "ledger.task", "--limit", "2")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    last = AuditRecord.objects.filter(model="ledger.task").order_by("-seq").first()
    seq, at, actor, source, action, obj = lines[-1].split("\t")
    assert seq == f"#{last.seq}" and actor == "supervisor" and source == "test"
    assert action == "create" and obj == f"ledger.task:{ledger[-1].pk}"
    from django.utils import timezone
    assert at == timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M:%S")
    assert str(timezone.localtime(last.at).tzinfo) == "Asia/Shanghai"
    call_command("audit", "log", "--model", "ledger.task", "--pk", str(ledger[0].pk))
    assert capsys.readouterr().out.count("\n") == 1
    call_command("audit", "head")
    head = AuditRecord.objects.order_by("-seq").first()
    assert capsys.readouterr().out.strip() == f"#{head.seq}\t{head.hash}"


def test_help_is_in_chinese():
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "chengzhen"), "audit", "verify", "--help"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "校验" in out.stdout and "--anchor" in out.stdout and "序号:哈希" in out.stdout


def test_every_write_path_records_its_user(county):
    from chengzhen.org.models import Unit

    user = county.users["admin"]
    with acting_as(user, "command:test"):
        unit = Unit(code="W1", name="单位一", kind="department", parent=county.units["gov"])
        unit.save()  # save()
        other = Unit.objects.create(code="W2", name="单位二", kind="department",
                                    parent=county.units["gov"])  # objects.create
        bulk = Unit.objects.bulk_create([Unit(code="W3", name="单位三", kind="department",
                                              parent=county.units["gov"])])
        unit.name = "单位一（改）"
        Unit.objects.bulk_update([unit], ["name"])
        Unit.objects.filter(pk=other.pk).update(short_name="二")
        Unit.objects.filter(pk__in=[bulk[0].pk]).delete()
    recs = AuditRecord.objects.filter(model="org.unit", object_pk__in=[
        str(unit.pk), str(other.pk), str(bulk[0].pk)])
    assert [(r.action, r.object_pk) for r in recs] == [
        ("create", str(unit.pk)), ("create", str(other.pk)), ("create", str(bulk[0].pk)),
        ("update", str(unit.pk)), ("update", str(other.pk)), ("delete", str(bulk[0].pk)),
    ]
    assert {(r.actor_username, r.actor_id, r.source) for r in recs} == {
        ("admin", user.pk, "command:test")}
    assert verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain(county):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers: PostgreSQL")
    from conftest import run_concurrently

    from chengzhen.audit import canonical

    user = county.users["supervisor"]

    def write(worker: int) -> None:
        with acting_as(user, f"thread:{worker}"):
            for i in range(10):
                Task.objects.create(
                    programme=county.programme, code=f"C{worker}-{i}", name="并发",
                    lead_unit=county.units["town_a"], start_date="2026-01-01",
                    due_date="2026-06-30")
                Task.objects.bulk_create([Task(
                    programme=county.programme, code=f"C{worker}-{i}-{j}", name="并发批量",
                    lead_unit=county.units["town_b"], start_date="2026-01-01",
                    due_date="2026-06-30") for j in range(3)])

    assert run_concurrently(write) == []
    rows = list(AuditRecord.objects.order_by("seq").values_list("seq", "prev_hash", "hash",
                                                                 "content"))
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    prev = canonical.GENESIS_HASH
    for _seq, prev_hash, digest, content in rows:
        assert prev_hash == prev and canonical.chain_hash(prev, content) == digest
        prev = digest
    assert AuditRecord.objects.filter(model="ledger.task", action="create").count() == 160
    assert verify().ok
