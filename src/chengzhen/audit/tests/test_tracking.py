"""Every ORM path writes its audit record, with before and after images."""

import json

from chengzhen.audit.context import acting_as
from chengzhen.audit.models import AuditHead, AuditRecord
from chengzhen.ledger.models import Task


def records(model):
    return [json.loads(r.content) for r in AuditRecord.objects.filter(model=model).order_by("seq")]


def test_save_update_bulk_delete_are_recorded(county, make_task):
    with acting_as(county.users["supervisor"], "test"):
        t = make_task("T1")
        t.name = "改名"
        t.save()
        Task.objects.filter(pk=t.pk).update(category="基础设施")
        t.refresh_from_db()
        t.notes = "备注"
        Task.objects.bulk_update([t], ["notes"])
        t.delete()
    recs = records("ledger.task")
    assert [r["action"] for r in recs] == ["create", "update", "update", "update", "delete"]
    assert recs[1]["before"]["name"] == "任务T1" and recs[1]["after"]["name"] == "改名"
    assert recs[2]["after"]["category"] == "基础设施"
    assert recs[3]["after"]["notes"] == "备注"
    assert {r["actor"] for r in recs} == {"supervisor"}
    assert recs[1]["after"]["version"] == 2 and recs[3]["after"]["version"] == 4
    head = AuditHead.objects.get()
    assert head.seq == AuditRecord.objects.count()
    assert head.hash == AuditRecord.objects.order_by("-seq").first().hash


def test_bulk_update_raises_the_stored_version(county, make_task):
    t = make_task("V1")
    t.name = "一"
    t.save()
    t.name = "二"
    t.save()  # stored version 3
    fresh = Task.objects.get(pk=t.pk)
    built = Task(**{f.attname: getattr(fresh, f.attname) for f in Task._meta.concrete_fields})
    built.version = 1  # as if built from a file, not loaded
    built.notes = "批量"
    Task.objects.bulk_update([built], ["notes"])
    assert Task.objects.get(pk=t.pk).version == 4
