"""Render .docx and .xlsx to PDF with LibreOffice (headless) and read a PDF's text with
poppler's ``pdftotext``: how the tests check that what the platform writes opens and reads
back as it should in an office suite. No Django.

Each conversion runs with its own LibreOffice profile directory, so parallel conversions
(two test workers) do not fight over one profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_S = 180


class RenderError(RuntimeError):
    """LibreOffice or pdftotext is missing, or the conversion failed."""


def to_pdf(path: str | Path, outdir: str | Path) -> Path:
    """Convert ``path`` (.docx, .xlsx …) to PDF in ``outdir``; returns the PDF's path."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RenderError("LibreOffice (soffice) is not installed")
    src, out = Path(path), Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        result = subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(out), str(src)],
            capture_output=True, text=True, timeout=TIMEOUT_S)
    pdf = out / (src.stem + ".pdf")
    if result.returncode != 0 or not pdf.is_file():
        raise RenderError(f"{src}: LibreOffice could not convert it: {result.stderr.strip()}")
    return pdf


def pdf_text(path: str | Path) -> str:
    """The text of a PDF, laid out as on the page (``pdftotext -layout``)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        raise RenderError("pdftotext (poppler-utils) is not installed")
    result = subprocess.run([tool, "-layout", "-enc", "UTF-8", str(path), "-"],
                            capture_output=True, timeout=TIMEOUT_S)
    if result.returncode != 0:
        raise RenderError(f"{path}: pdftotext failed: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode("utf-8")
