"""Evidence files: accepted by content, photos stripped of metadata, served only to readers."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from chengzhen.ledger.evidence import EvidenceRefused, check
from chengzhen.ledger.models import Evidence, ProgressReport


def photo_with_exif() -> bytes:
    img = Image.new("RGB", (64, 48), (120, 160, 90))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Software] = "秘密软件"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:05:20 09:15:30"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 45.0, 36.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (115.0, 12.0, 0.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def docx(macro: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>" if not macro else "<Types macroEnabled/>")
        z.writestr("word/document.xml", "<w:document/>")
        if macro:
            z.writestr("word/vbaProject.bin", b"\x00")
    return out.getvalue()


def test_photo_keeps_time_and_place_and_loses_everything_else():
    checked = check(photo_with_exif(), "现场.jpg", 10**7)
    assert checked.content_type == "image/jpeg"
    assert checked.taken_at.isoformat() == "2026-05-20T09:15:30"
    assert checked.latitude == pytest.approx(35.76) and checked.longitude == pytest.approx(115.2)
    with Image.open(io.BytesIO(checked.data)) as img:
        assert not img.getexif() and "exif" not in img.info


@pytest.mark.parametrize("data,name", [
    (b"<html><script>alert(1)</script></html>", "照片.jpg"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "图.png"),
    (b"#!/bin/sh\nrm -rf /\n", "说明.pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old-office", "旧文档.doc"),
])
def test_refused_by_content_not_name(data, name):
    with pytest.raises(EvidenceRefused, match="按文件内容判断"):
        check(data, name, 10**7)


def test_office_documents():
    assert check(docx(), "材料.docx", 10**7).extension == "docx"
    with pytest.raises(EvidenceRefused, match="含宏"):
        check(docx(macro=True), "材料.docx", 10**7)
    with pytest.raises(EvidenceRefused, match="过大"):
        check(b"%PDF-" + b"0" * 2000, "大.pdf", 1000)


def report_url(task):
    return f"/ledger/task/{task.pk}/report/"


def test_upload_through_the_report_form_and_download_rules(county, make_task, client):
    task = make_task("E1")
    client.force_login(county.users["editor_a"])
    form = client.get(report_url(task)).context["form"]
    period = form.fields["period"].choices[0][0]
    files = [SimpleUploadedFile("现场.jpg", photo_with_exif(), "image/jpeg"),
             SimpleUploadedFile("验收.pdf", b"%PDF-1.7 test", "application/pdf")]
    response = client.post(report_url(task), {
        "period": period, "unit": "411300101000", "physical_progress": "20",
        "investment_wan": "0", "files": files})
    assert response.status_code == 302
    photo, pdf = Evidence.objects.get(original_name="现场.jpg"), Evidence.objects.get(
        original_name="验收.pdf")
    assert photo.latitude == pytest.approx(35.76) and photo.content_type == "image/jpeg"
    assert pdf.content_type == "application/pdf"
    download = client.get(f"/ledger/evidence/{photo.pk}/")
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    body = b"".join(download.streaming_content)
    assert b"PhoneMaker" not in body and "秘密软件".encode() not in body
    page = client.get(f"/ledger/task/{task.pk}/").content.decode()
    assert "拍摄于 2026-05-20 09:15" in page
    client.force_login(county.users["editor_b"])
    assert client.get(f"/ledger/evidence/{photo.pk}/").status_code == 404


def test_html_renamed_jpg_refuses_the_whole_report(county, make_task, client):
    task = make_task("E2")
    client.force_login(county.users["editor_a"])
    period = client.get(report_url(task)).context["form"].fields["period"].choices[0][0]
    response = client.post(report_url(task), {
        "period": period, "unit": "411300101000", "physical_progress": "20",
        "files": [SimpleUploadedFile("照片.jpg", b"<html><body>hi</body></html>", "image/jpeg")]})
    assert response.status_code == 200 and "按文件内容判断" in response.content.decode()
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()
