"""Uploaded contributions: type and size checks, page counts, and storage that
never leaves a half-written file.

A PDF is recognised by its header and counted with pypdf. A DOCX is a ZIP with
``word/document.xml``; Word records the page count it last laid out in
``docProps/app.xml`` (``<Pages>``), which we use; a DOCX without it (written
by another tool) is counted by its length and explicit page breaks, the same
measure as a text contribution (``core.contributions.CHARACTERS_PER_PAGE``).
Files are stored by content hash: written to a temporary name, fsynced, then
renamed, so a crash leaves either the whole file or nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

from vcc_protocol._base import File

from .core.contributions import CHARACTERS_PER_PAGE

MAX_BYTES = 5 * 1024 * 1024


class BadFile(ValueError):
    """The upload is refused; the message says why and what to send instead."""


def check_upload(name: str, data: bytes) -> File:
    """Check an upload and count its pages."""
    if not data:
        raise BadFile("The file is empty.")
    if len(data) > MAX_BYTES:
        raise BadFile(f"The file is {len(data) / 1e6:.1f} MB; at most {MAX_BYTES // (1024 * 1024)} MB is accepted (two pages rarely need more than 1 MB).")
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"%PDF-"):
        return File(name=_clean(name), kind="pdf", sha256=digest, size=len(data), pages=_pdf_pages(data))
    if data.startswith(b"PK\x03\x04"):
        return File(name=_clean(name), kind="docx", sha256=digest, size=len(data), pages=_docx_pages(data))
    raise BadFile("Only PDF and Word (DOCX) files are accepted; save the contribution in one of these formats.")


def _clean(name: str) -> str:
    return re.sub(r"[^\w.\- ()]", "_", Path(name).name)[:200] or "contribution"


def _pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise BadFile(f"The PDF cannot be read ({exc}); export it again from your word processor.") from None


def _docx_pages(data: bytes) -> int:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if "word/document.xml" not in archive.namelist():
            raise BadFile("This ZIP file is not a Word document (DOCX).")
        if "docProps/app.xml" in archive.namelist():
            found = re.search(rb"<Pages>(\d+)</Pages>", archive.read("docProps/app.xml"))
            if found:
                return int(found.group(1))
        body = archive.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise BadFile(f"The DOCX file is damaged ({exc}); save it again from Word.") from None
    text = re.sub(rb"<[^>]+>", b"", body).decode("utf-8", "replace")
    breaks = len(re.findall(rb'<w:br [^>]*w:type="page"', body))
    return max(1, -(-len(text) // CHARACTERS_PER_PAGE)) + breaks


class BlobStore:
    """Uploaded files on local disk by content hash (share the folder between nodes)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; returns (sha256, whether it was new)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return digest, True

    def discard(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def get(self, sha256: str) -> bytes | None:
        target = self.path(sha256)
        return target.read_bytes() if target.exists() else None
