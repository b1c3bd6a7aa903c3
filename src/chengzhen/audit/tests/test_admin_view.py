"""The audit records in the admin: readable by administrators, never editable."""

from chengzhen.audit.models import AuditRecord


def test_administrators_read_audit_records_in_the_admin_and_cannot_change_them(county, client):
    record = AuditRecord.objects.order_by("-seq").first()
    client.force_login(county.users["admin"])
    from chengzhen.org.models import User

    User.objects.filter(pk=county.users["admin"].pk).update(is_staff=True)
    assert client.get("/admin/audit/auditrecord/").status_code == 200
    page = client.get(f"/admin/audit/auditrecord/{record.pk}/change/")
    assert page.status_code == 200 and record.action in page.content.decode()
    assert client.post(f"/admin/audit/auditrecord/{record.pk}/change/", {}).status_code == 403
    client.force_login(county.users["supervisor"])
    assert client.get("/admin/audit/auditrecord/").status_code in (302, 403)
