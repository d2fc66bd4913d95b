"""The child side of an upload's inspection: ``python -m vcc.documents.upload_worker``.

The server starts this process for one file (``vcc.documents.uploads.Inspector``). It first
limits itself (address space, CPU seconds, size of the files it writes); every
process it starts, LibreOffice included, inherits those limits. Then it checks
the file and counts its pages, and writes one JSON line to stdout:
``{"pages": N}`` or ``{"status", "code", "message"}``.

A DOCX is checked from its ZIP central directory before anything is inflated
(member count, declared inflated size, compression ratio), then inflated as a
stream to check its parts' CRCs (a header can lie), then laid out by LibreOffice
(in a fresh profile that loads nothing a link names and runs no macro) into a
PDF, whose pages are counted. Word's own ``<Pages>`` in ``docProps/app.xml`` is
never trusted: it is whatever the sender wrote. A PDF's pages are counted by pypdf.

Only the standard library is imported at the top, so the process starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

MB = 1024 * 1024
#: What a DOCX may inflate to in all: a two-page contribution with its images is a few MB.
MAX_INFLATED = 50 * MB
#: Parts of a DOCX: Word writes about 15, and one per image.
MAX_MEMBERS = 1_000
#: XML and text compress up to about 20:1; a part of more than a MB compressing better is a bomb.
MAX_RATIO = 100
RATIO_FROM = MB
#: The PDF LibreOffice writes, and its profile's files.
MAX_WRITTEN = 100 * MB
CHUNK = 64 * 1024


#: LibreOffice's settings for an untrusted file: it loads nothing a link names (an
#: image by http: URL is a request from the server's network, one by file: URL
#: a local file whose size the page count would betray) and runs no macro.
UNTRUSTED_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def limit_self(memory: int, seconds: int) -> None:
    # Below the server in the scheduler: laying a file out never delays a live sitting's messages.
    os.nice(10)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_WRITTEN, MAX_WRITTEN))


def check_zip(path: Path) -> None:
    """Refuse a ZIP that is not a DOCX, or that inflates past the caps, inflating at most ``MAX_INFLATED``."""
    as_pdf = "Export the contribution as PDF and send that instead."
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refused(400, "invalid_value", f"The DOCX file is damaged ({exc}); save it again from Word, or export it as PDF.") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise Refused(
                413, "payload_too_large", f"The DOCX holds {len(members):,} parts; at most {MAX_MEMBERS:,} are accepted. {as_pdf}"
            )
        if "word/document.xml" not in {m.filename for m in members}:
            raise Refused(400, "invalid_value", "This ZIP file is not a Word document (DOCX); send a PDF or a DOCX.")
        declared = sum(m.file_size for m in members)
        if declared > MAX_INFLATED:
            raise Refused(
                413, "payload_too_large", f"The file inflates to more than {MAX_INFLATED // MB} MB ({declared / MB:,.0f} MB). {as_pdf}"
            )
        for member in members:
            if member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                raise Refused(
                    413,
                    "payload_too_large",
                    f"The part {member.filename} compresses more than {MAX_RATIO}:1, as no document does. {as_pdf}",
                )
        # Inflated as a stream, a chunk at a time, to check every part's CRC: a part
        # whose declared size understates it is refused here. zipfile stops each
        # part at its declared size, so the cap on their sum is the running cap; a
        # lie with a forged CRC goes on to LibreOffice, inside this process's limits.
        try:
            for member in members:
                with archive.open(member) as part:
                    while part.read(CHUNK):
                        pass
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            # RuntimeError: an encrypted part; NotImplementedError: a compression Word never uses.
            raise Refused(
                400, "invalid_value", f"The DOCX file cannot be read ({exc}); save it again from Word, or export it as PDF."
            ) from None


def pdf_pages(path: Path, what: str) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = len(PdfReader(path).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise Refused(400, "invalid_value", f"The {what} cannot be read ({exc}); export it again from your word processor.") from None
    if pages < 1:
        raise Refused(400, "invalid_value", f"The {what} has no pages; export it again from your word processor.")
    return pages


def docx_pages(path: Path, work: Path, office: str, seconds: int, memory: int) -> int:
    check_zip(path)
    # LibreOffice picks the import filter by the name, and names its output after it.
    named = work / "contribution.docx"
    named.symlink_to(path.resolve())
    out = work / "out"
    settings = work / "profile" / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True)
    settings.write_text(UNTRUSTED_PROFILE)
    command = [
        office,
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--nodefault",
        "--nologo",
        f"-env:UserInstallation={(work / 'profile').as_uri()}",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        str(named),
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8"}
    # No timeout here: the server kills this process's whole session when its wall-clock time is up.
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=work, check=False)
    converted = out / "contribution.pdf"
    if not converted.exists():
        raise Refused(
            422,
            "too_complex",
            f"The DOCX could not be laid out within the {memory // MB} MB of memory and {seconds} s of CPU the server gives one upload"
            " (it is damaged, or too complex). Export it as PDF and send that instead.",
        )
    return pdf_pages(converted, "DOCX, laid out as PDF,")


def inspect(path: Path, kind: str, work: Path, office: str | None, seconds: int, memory: int) -> dict[str, Any]:
    if kind == "pdf":
        return {"pages": pdf_pages(path, "PDF")}
    assert office is not None, "main() refuses a DOCX without --office"
    return {"pages": docx_pages(path, work, office, seconds, memory)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vcc.documents.upload_worker")
    parser.add_argument("file", type=Path)
    parser.add_argument("kind", choices=("pdf", "docx"))
    parser.add_argument("--work", type=Path, required=True, help="an empty folder of its own")
    parser.add_argument("--office", help="the soffice program (needed for a DOCX)")
    parser.add_argument("--memory", type=int, required=True, help="address-space limit in bytes")
    parser.add_argument("--seconds", type=int, required=True, help="CPU-time limit in seconds (the server keeps the wall clock)")
    args = parser.parse_args(argv)
    if args.kind == "docx" and not args.office:
        parser.error("a DOCX needs --office")
    limit_self(args.memory, args.seconds)
    try:
        result = inspect(args.file, args.kind, args.work, args.office, args.seconds, args.memory)
    except Refused as refused:
        result = {"status": refused.status, "code": refused.code, "message": refused.message}
    except MemoryError:
        message = f"The file needs more than the {args.memory // MB} MB of memory the server gives one upload. Export it as PDF and send that instead."
        result = {"status": 422, "code": "too_complex", "message": message}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
