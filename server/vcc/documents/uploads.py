"""Uploaded contributions: received within a size bound, inspected in a bounded
worker process, stored so that a crash never leaves a half-written file.

Theory of operation. An upload is hostile until shown otherwise: a 0.5 MB DOCX
can inflate to 500 MB, and a DOCX's ``docProps/app.xml`` says whatever page
count its sender typed. So the server's own process never inflates or parses
one. It only streams the bytes to a temporary file (at most ``MAX_BYTES``,
hashing them on the way, the type read from the first bytes), after the cheap
checks of ``http_api.submit_contribution`` (token, roster, procedure). The
``Inspector`` then runs ``python -m vcc.documents.upload_worker`` on the file: a process
of its own, in its own session, limited in address space, CPU and written
bytes, killed with everything it started when its wall-clock time is up, and at
most ``workers`` of them at once (more are answered "busy, try again"). The
worker counts pages by laying the document out: LibreOffice turns a DOCX into a
PDF, pypdf counts the PDF's pages. Files are stored by content hash: fsynced
under a temporary name, then renamed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vcc_protocol._base import MAX_UPLOAD_BYTES

MB = 1024 * 1024
MAX_BYTES = MAX_UPLOAD_BYTES
#: The file and the form's other fields, with the multipart framing.
MAX_REQUEST = MAX_BYTES + MB
#: One LibreOffice takes a core for about 1-2 s per conversion; the machine's cores bound useful parallelism.
WORKERS = 2
#: CPU seconds for one inspection, LibreOffice included: laying out two pages takes about 1 s.
CPU_SECONDS = 30
#: Wall-clock seconds for one inspection. Longer than the CPU bound: on a busy machine
#: the worker (at a lower priority than the server) waits for the CPU, which is not the
#: sender's fault; this bound is for a worker that hangs without computing.
TIMEOUT = 120.0
#: Address space of the worker and of each process it starts (LibreOffice laid 10 pages out within 500 MB here; 48 MB stops it).
MEMORY = 1024 * MB

Kind = Literal["pdf", "docx"]
log = logging.getLogger(__name__)

EXPORT_AS_PDF = "Export the contribution as PDF and send that instead."
NO_OFFICE = "This server cannot count a DOCX's pages (LibreOffice is not installed on it): export it as PDF and send that."


class BadFile(ValueError):
    """The upload is refused; the message says why and what to send instead."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Busy(BadFile):
    """Every worker is taken."""

    def __init__(self) -> None:
        super().__init__("The server is checking other uploads right now; try again in a few seconds.", status=503, code="busy")


def too_big(size: int | None = None) -> BadFile:
    sent = f"The file is {size / 1e6:.1f} MB; " if size else "The file is too large; "
    return BadFile(
        f"{sent}at most {MAX_BYTES // MB} MB is accepted (two pages rarely need more than 1 MB).", status=413, code="payload_too_large"
    )


def sniff(head: bytes) -> Kind:
    """The type of a file from its first bytes."""
    if not head:
        raise BadFile("The file is empty.")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    raise BadFile("Only PDF and Word (DOCX) files are accepted; save the contribution in one of these formats.")


def clean_name(name: str | None) -> str:
    return re.sub(r"[^\w.\- ()]", "_", Path(name or "").name)[:200] or "contribution"


@dataclass(frozen=True)
class Received:
    """An upload on disk under a temporary name, not yet inspected or kept."""

    path: Path
    sha256: str
    size: int
    kind: Kind

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class Inspector:
    """Counts an upload's pages in a bounded worker process (see the module's docstring).

    :param office: the ``soffice`` program, or None: then a DOCX is refused (a PDF still works).
    :param workers: inspections at once; one more is refused with ``Busy``.
    :param timeout: wall-clock seconds, after which the worker and what it started are killed.
    :param cpu: CPU seconds (``RLIMIT_CPU``) of the worker and of each process it starts.
    :param memory: address-space limit (``RLIMIT_AS``) of the worker and of each process it starts.
    :param workdir: where each inspection gets a folder of its own (LibreOffice's profile, its PDF).
    """

    def __init__(
        self,
        office: str | None,
        *,
        workers: int = WORKERS,
        timeout: float = TIMEOUT,
        cpu: int = CPU_SECONDS,
        memory: int = MEMORY,
        workdir: Path | None = None,
    ) -> None:
        self.office = office
        self.timeout = timeout
        self.cpu = cpu
        self.memory = memory
        self.workdir = workdir
        self._slots = asyncio.Semaphore(workers)

    def check_kind(self, kind: Kind) -> None:
        """Refuse, before the file is read any further, a type this server cannot inspect."""
        if kind == "docx" and self.office is None:
            raise BadFile(NO_OFFICE, status=422, code="docx_not_accepted")

    def full(self) -> bool:
        """Whether every worker is taken (one more inspection would get ``Busy``)."""
        return self._slots.locked()

    async def count_pages(self, path: Path, kind: Kind) -> int:
        """The file's pages, or ``BadFile`` (``Busy`` when every worker is taken)."""
        self.check_kind(kind)
        if self._slots.locked():
            raise Busy()
        async with self._slots:
            return await self._inspect(path, kind)

    async def _inspect(self, path: Path, kind: Kind) -> int:
        what, done = ("DOCX", "laid out") if kind == "docx" else ("PDF", "read")
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.workdir, prefix="vcc-upload-") as work:
            command = [
                sys.executable,
                "-m",
                "vcc.documents.upload_worker",
                str(path),
                kind,
                "--work",
                work,
                "--memory",
                str(self.memory),
                "--seconds",
                str(self.cpu),
                *(["--office", self.office] if self.office else []),
            ]
            # A session of its own: on timeout the whole group goes, LibreOffice's processes included.
            worker = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            try:
                out, err = await asyncio.wait_for(worker.communicate(), self.timeout)
            except TimeoutError:
                raise BadFile(
                    f"The {what} could not be {done} within {self.timeout:g} s. {EXPORT_AS_PDF}", status=422, code="too_complex"
                ) from None
            finally:
                await _end_session(worker.pid)
                await worker.wait()
        lines = out.decode("utf-8", "replace").splitlines()
        if worker.returncode != 0 or not lines:
            log.warning(
                "upload worker ended with %s and no answer: %s",
                worker.returncode,
                err[-2000:].decode("utf-8", "replace").strip().replace("\n", " | "),
            )
            raise BadFile(
                f"The {what} could not be {done} within the {self.memory // MB} MB of memory and {self.cpu} s of CPU the server gives one upload. {EXPORT_AS_PDF}",
                status=422,
                code="too_complex",
            )
        answer = json.loads(lines[-1])
        if "pages" in answer:
            return int(answer["pages"])
        raise BadFile(answer["message"], status=answer["status"], code=answer["code"])


async def _end_session(pgid: int, patience: float = 5.0) -> None:
    """Kill every process of a worker's session and wait until none is running, so
    that nothing still writes into its folder when the folder is removed."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = asyncio.get_running_loop().time() + patience
    while _running_in_group(pgid) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


def _running_in_group(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies, awaiting their reaper, do not)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


class BlobStore:
    """Uploaded files on local disk by content hash (share the folder between nodes)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    async def receive(self, read_chunk: Callable[[], Awaitable[bytes]], check_kind: Callable[[Kind], None]) -> Received:
        """Stream an upload to a temporary file, at most ``MAX_BYTES`` of it; its type is
        read, and ``check_kind`` called, as soon as its first bytes are in."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        digest = hashlib.sha256()
        size = 0
        head = b""
        kind: Kind | None = None
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := await read_chunk():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise too_big()
                    if kind is None:
                        head += chunk
                        if len(head) >= 5:
                            kind = sniff(head)
                            check_kind(kind)
                    digest.update(chunk)
                    out.write(chunk)
            if kind is None:
                kind = sniff(head)
                check_kind(kind)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return Received(Path(temp), digest.hexdigest(), size, kind)

    def keep(self, received: Received) -> bool:
        """Make ``received`` durable under its hash; returns whether it was new."""
        target = self.path(received.sha256)
        if target.exists():
            received.discard()
            return False
        with open(received.path, "rb+") as out:
            os.fsync(out.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(received.path, target)
        return True

    def discard(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def get(self, sha256: str) -> bytes | None:
        target = self.path(sha256)
        return target.read_bytes() if target.exists() else None
