"""Evidence files (佐证材料) on progress reports: what a file is, decided by its content.

The type comes from the file's first bytes, never its name: JPEG, PNG and WebP photos, PDF,
and Office Open XML documents (.docx, .xlsx, .pptx). Everything else — HTML, SVG, scripts,
old binary Office files, macro-enabled Office files — is refused. Photos keep their capture
time and place (EXIF DateTimeOriginal and GPS) in the database for the supervisor, and are
stored re-encoded without any metadata, so nothing else in the EXIF is ever served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 80_000_000  # a decompression bomb is refused, not decoded

OFFICE = {"word/": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
          "xl/": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
          "ppt/": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")}


class EvidenceRefused(ValueError):
    """The file is not accepted; the message says why, for the person uploading it."""


@dataclass
class Checked:
    data: bytes  # what is stored and served (photos re-encoded without metadata)
    extension: str
    content_type: str
    sha256: str
    taken_at: dt.datetime | None = None
    longitude: float | None = None
    latitude: float | None = None


def sniff(head: bytes) -> tuple[str, str] | None:
    """(extension, content type) from a file's first bytes, or None if not accepted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "image/webp"
    if head.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip", ""
    return None


def check(data: bytes, name: str, max_bytes: int) -> Checked:
    """Accept or refuse an uploaded file (``name`` is only used in messages)."""
    if len(data) > max_bytes:
        raise EvidenceRefused(_("%(name)s：文件过大（%(size).1f MB），上限 %(limit).0f MB") % {
            "name": name, "size": len(data) / 1048576, "limit": max_bytes / 1048576})
    if not data:
        raise EvidenceRefused(_("%(name)s：空文件") % {"name": name})
    kind = sniff(data[:16])
    if kind is None:
        raise EvidenceRefused(_("%(name)s：只接受照片（JPEG、PNG、WebP）、PDF 和 Office 文档"
                                "（.docx、.xlsx、.pptx）；按文件内容判断，不看扩展名") % {"name": name})
    extension, content_type = kind
    digest = hashlib.sha256(data).hexdigest()
    if extension == "zip":
        extension, content_type = _office(data, name)
        return Checked(data, extension, content_type, digest)
    if content_type.startswith("image/"):
        return _photo(data, name, extension, content_type)
    return Checked(data, extension, content_type, digest)


def _office(data: bytes, name: str) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            types = z.read("[Content_Types].xml").decode("utf-8", "replace") if (
                "[Content_Types].xml" in names) else ""
    except (zipfile.BadZipFile, KeyError):
        raise EvidenceRefused(_("%(name)s：文件已损坏") % {"name": name}) from None
    if any(n.lower().endswith("vbaproject.bin") for n in names) or "macroEnabled" in types:
        raise EvidenceRefused(_("%(name)s：含宏的 Office 文件不予接受") % {"name": name})
    for prefix, kind in OFFICE.items():
        if types and any(n.startswith(prefix) for n in names):
            return kind
    raise EvidenceRefused(_("%(name)s：压缩包不是 Office 文档，不予接受") % {"name": name})


def _photo(data: bytes, name: str, extension: str, content_type: str) -> Checked:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            exif = img.getexif()
            taken_at = _taken_at(exif)
            lon, lat = _gps(exif)
            clean = io.BytesIO()
            fmt = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[extension]
            out = img.convert("RGB") if fmt == "JPEG" and img.mode not in ("RGB", "L") else img
            out.save(clean, fmt, quality=90) if fmt != "PNG" else out.save(clean, fmt)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise EvidenceRefused(_("%(name)s：图片无法识别或已损坏") % {"name": name}) from None
    stripped = clean.getvalue()
    return Checked(stripped, extension, content_type, hashlib.sha256(stripped).hexdigest(),
                   taken_at, lon, lat)


def _taken_at(exif) -> dt.datetime | None:
    sub = exif.get_ifd(ExifTags.IFD.Exif) if exif else {}
    raw = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    try:
        return dt.datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S") if raw else None
    except ValueError:
        return None


def _gps(exif) -> tuple[float | None, float | None]:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo) if exif else {}
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
    except (KeyError, TypeError, ZeroDivisionError, ValueError):
        return None, None
    return lon, lat


def _degrees(dms, ref: str) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    return -value if str(ref).upper() in ("S", "W") else value
