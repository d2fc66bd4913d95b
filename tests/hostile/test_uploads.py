"""Hostile uploads (issue 11, findings 2 and 10), against a real ``vcc serve`` process.

- A DOCX of 0.5 MB that inflates to 500 MB, sent with a signed token naming nobody on
  the roster, and then by a registered delegate: refused, the server's peak resident
  memory afterwards (``VmHWM`` in ``/proc/<pid>/status``) exceeds its resident memory
  before (``VmRSS``) by less than 50 MB, and another client's pings are answered meanwhile.
- A bomb whose ZIP directory understates it (with a forged CRC) gets past the ZIP
  checks and is refused by LibreOffice inside the worker's limits.
- The cheap checks come before the file is read: the server answers while the
  client still holds back most of the file.
- A DOCX of about 68,000 characters whose ``docProps/app.xml`` says ``<Pages>1</Pages>``
  is counted by laying it out (LibreOffice) and refused as longer than two pages; a
  genuine two-page DOCX and a one-page PDF are accepted.
- The bounded worker's own limits: member count, compression ratio, wall clock,
  memory, and how many run at once (503 with Retry-After over the bound, shown on
  the integration tests' in-process node, whose inspector the test can watch).
- LibreOffice fetches nothing a DOCX links (it would, with its stock settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import io
import random
import re
import shutil
import struct
import time
import uuid
import zipfile
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import docx
import pytest
from vcc.api.routes import INSPECTOR
from vcc.auth.tokens import Claims, sign
from vcc.client import ConsultationClient
from vcc.config import Config
from vcc.documents.uploads import BadFile, Busy, Inspector
from vcc.service import Service
from vcc.store import open_store
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import COUNCIL, OBSERVER, live_commands
from vcc_testkit.documents import pdf, word, word_claiming_pages
from vcc_testkit.process_node import ProcessNode

from tests.integration.conftest import make_node, node  # noqa: F401  (fixtures)

CONSULTATION = "test"
NOBODY = "nobody-on-the-roster"
BOMB_MB = 500
#: The issue's bound on what one hostile upload may cost the server.
RSS_GROWTH_LIMIT = 50 * 1024 * 1024
#: Generous: the old code stalled every client for 2.1 s in the issue, 5.8 s measured here; the benchmark measures the p99.
PING_LIMIT_S = 1.0

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


@functools.cache
def docx_bomb(inflated_mb: int = BOMB_MB) -> bytes:
    """A DOCX whose ``word/document.xml`` inflates to ``inflated_mb`` MB (spaces in one run of text)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as body:
            body.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>'.encode())
            chunk = b" " * (1024 * 1024)
            for _ in range(inflated_mb):
                body.write(chunk)
            body.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return out.getvalue()


def _raw_zip(entries: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A ZIP written field by field from (name, method, payload, crc, declared size), so the sizes can lie."""
    out, central = bytearray(), bytearray()
    for name, method, payload, crc, size in entries:
        encoded, offset = name.encode(), len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(payload), size, len(encoded), 0) + encoded + payload
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(payload), size, len(encoded), 0, 0, 0, 0, 0, offset
            )
            + encoded
        )
    directory = len(out)
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), directory, 0)
    return bytes(out)


@functools.cache
def docx_bomb_understated(inflated_mb: int = 300, declared: int = 2048) -> bytes:
    """A bomb whose ZIP directory says ``word/document.xml`` is ``declared`` bytes, with
    the CRC of those first bytes: it passes every check that reads the directory."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>'.encode()
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = deflate.compress(head) + b"".join(deflate.compress(b" " * (1024 * 1024)) for _ in range(inflated_mb))
    payload += deflate.compress(b"</w:t></w:r></w:p></w:body></w:document>") + deflate.flush()
    first = (head + b" " * declared)[:declared]
    return _raw_zip(
        [
            ("[Content_Types].xml", 0, CONTENT_TYPES, zlib.crc32(CONTENT_TYPES), len(CONTENT_TYPES)),
            ("word/document.xml", 8, payload, zlib.crc32(first), declared),
        ]
    )


def docx_of_random_words(characters: int) -> bytes:
    """A DOCX of ``characters`` characters of random words (hundreds of pages that do not
    compress much): seconds of LibreOffice's time, within every ZIP cap."""
    letters_and_spaces = bytes(97 + i % 26 if i % 7 else 32 for i in range(256))
    text = random.Random(11).randbytes(characters).translate(letters_and_spaces).decode()
    paragraphs = "".join(f"<w:p><w:r><w:t>{text[i : i + 600]}</w:t></w:r></w:p>" for i in range(0, characters, 600))
    body = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>{paragraphs}</w:body></w:document>'
    source = zipfile.ZipFile(io.BytesIO(word(1)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, body.encode() if info.filename == "word/document.xml" else source.read(info))
    return out.getvalue()


def docx_with_members(count: int) -> bytes:
    """A small, valid-looking DOCX with ``count`` extra empty parts."""
    source = zipfile.ZipFile(io.BytesIO(word(1)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        for n in range(count):
            archive.writestr(f"customXml/extra{n}.xml", b"")
    return out.getvalue()


def docx_with_dense_part(megabytes: int) -> bytes:
    """A DOCX within the inflated-size cap, with one part of zeros that compresses about 1,000:1."""
    source = zipfile.ZipFile(io.BytesIO(word(1)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.writestr("word/media/filler.bin", bytes(megabytes * 1024 * 1024))
    return out.getvalue()


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def docx_linking_an_image(url: str) -> bytes:
    """A DOCX whose image is not in the file but linked, by ``url``, as Word writes a linked picture."""
    document = docx.Document()
    document.add_paragraph("The image below is linked, not embedded.")
    document.add_picture(io.BytesIO(_png(4, 4)))
    saved = io.BytesIO()
    document.save(saved)
    source = zipfile.ZipFile(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/_rels/document.xml.rels":
                data = re.sub(rb'Target="media/image1\.png"', f'Target="{url}" TargetMode="External"'.encode(), data)
            elif info.filename == "word/document.xml":
                data = data.replace(b'r:embed="', b'r:link="')
            archive.writestr(info, data)
    return out.getvalue()


# --- a real node in its own process ----------------------------------------------------------


@dataclass
class UploadNode:
    process: ProcessNode
    secret: bytes

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def pid(self) -> int:
        assert self.process.process is not None
        return self.process.process.pid

    def token(self, participant: str) -> str:
        return sign(self.secret, Claims(participant, "delegate", CONSULTATION, time.time_ns() // 1_000_000 + 3_600_000))

    def memory(self) -> dict[str, int]:
        """The server's ``VmRSS`` and ``VmHWM`` (peak resident set), in bytes."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return {key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) * 1024 for key in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]


async def _prepared_store(path: Path) -> bytes:
    store = open_store(str(path))
    await store.open()
    service = Service(store)
    answers = await service.execute_all(CONSULTATION, live_commands(service.clock()), ADMIN_ACTOR)
    assert answers[-1]["ok"], answers[-1]
    await service.close()
    await store.close()
    return await Config(store=str(path)).secret()


@pytest.fixture
async def upload_node(tmp_path: Path) -> AsyncIterator[UploadNode]:
    secret = await _prepared_store(tmp_path / "store")
    process = ProcessNode(str(tmp_path / "store"), log=tmp_path / "node.log")
    process.start()
    try:
        yield UploadNode(process, secret)
    finally:
        process.stop()


def _form(filename: str, data: bytes, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in {"id": uuid.uuid4().hex, "item": "3", "title": "Our contribution", "document": "C21/33", **fields}.items():
        form.add_field(name, value)
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return form


async def upload(target: UploadNode, participant: str, filename: str, data: bytes, **fields: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {target.token(participant)}"}) as http:
        async with http.post(
            f"{target.url}/api/consultations/{CONSULTATION}/contributions", data=_form(filename, data, **fields)
        ) as response:
            return response.status, await response.json()


# --- finding 2: the decompression bomb ------------------------------------------------------------


async def test_a_bomb_from_a_token_naming_nobody_is_refused_before_it_is_inflated(upload_node: UploadNode) -> None:
    bomb = docx_bomb()
    assert len(bomb) < 1024 * 1024
    before = upload_node.memory()
    status, body = await upload(upload_node, NOBODY, "bomb.docx", bomb)
    after = upload_node.memory()
    assert status == 403 and body["error"]["code"] == "unknown_participant", body
    assert "join link" in body["error"]["message"]
    assert after["VmHWM"] - before["VmRSS"] < RSS_GROWTH_LIMIT, (before, after)


async def test_a_bomb_from_a_registered_delegate_is_refused_by_the_caps_and_stalls_nobody(upload_node: UploadNode) -> None:
    bomb = docx_bomb()
    watcher = ConsultationClient(upload_node.url, upload_node.token(COUNCIL[1]))
    await watcher.connect()
    round_trips: list[float] = []
    uploading = asyncio.Event()
    done = asyncio.Event()

    async def ping() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            sent = loop.time()
            await watcher.sio.call("ping", {"t": sent}, timeout=30)
            if uploading.is_set():
                round_trips.append(loop.time() - sent)

    pinger = asyncio.create_task(ping())
    try:
        before = upload_node.memory()
        uploading.set()
        status, body = await upload(upload_node, COUNCIL[0], "bomb.docx", bomb)
        done.set()
        await pinger
        after = upload_node.memory()
    finally:
        done.set()
        await watcher.close()
    assert status == 413 and body["error"]["code"] == "payload_too_large", body
    assert "inflates to more than 50 MB" in body["error"]["message"] and "PDF" in body["error"]["message"]
    assert after["VmHWM"] - before["VmRSS"] < RSS_GROWTH_LIMIT, (before, after)
    assert round_trips and max(round_trips) < PING_LIMIT_S, round_trips


async def test_a_bomb_whose_directory_understates_it_is_refused_inside_the_worker(upload_node: UploadNode) -> None:
    liar = docx_bomb_understated()
    assert [i.file_size for i in zipfile.ZipFile(io.BytesIO(liar)).infolist()][-1] == 2048
    before = upload_node.memory()
    status, body = await upload(upload_node, COUNCIL[0], "liar.docx", liar)
    after = upload_node.memory()
    assert status == 422 and body["error"]["code"] == "too_complex" and "Export it as PDF" in body["error"]["message"], body
    assert after["VmHWM"] - before["VmRSS"] < RSS_GROWTH_LIMIT, (before, after)


async def test_the_procedure_refuses_before_the_file_is_read(upload_node: UploadNode) -> None:
    """An observer may not contribute: the answer comes while the client still holds back
    all but the first 16 KB of the file."""
    boundary = "hostile-upload-boundary"
    fields = {"id": uuid.uuid4().hex, "item": "3", "title": "Not ours to send"}
    head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items())
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bomb.docx"\r\nContent-Type: application/octet-stream\r\n\r\n'
    bomb = docx_bomb()
    length = len(head.encode()) + len(bomb) + len(f"\r\n--{boundary}--\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", upload_node.process.port)
    try:
        writer.write(
            f"POST /api/consultations/{CONSULTATION}/contributions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {upload_node.token(OBSERVER)}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n{head}".encode()
            + bomb[: 16 * 1024]
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        answer = await asyncio.wait_for(reader.read(65536), timeout=10)
    finally:
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 422"), status_line
    assert b'"not_allowed"' in answer


async def test_an_upload_declared_larger_than_the_limit_is_refused_unread(upload_node: UploadNode) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", upload_node.process.port)
    try:
        writer.write(
            f"POST /api/consultations/{CONSULTATION}/contributions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {upload_node.token(COUNCIL[0])}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        answer = await asyncio.wait_for(reader.read(65536), timeout=10)
    finally:
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert b'"payload_too_large"' in answer and b"at most 5 MB" in answer


async def test_a_compressed_form_is_refused_before_it_is_inflated(node) -> None:  # noqa: ANN001, F811 - the integration tests' in-process node
    """aiohttp inflates a gzip request body as the handler reads it, past the size the client
    declared: such a form is refused before any of it is read, with what to send instead."""
    boundary = "hostile-upload-boundary"
    form = f'--{boundary}\r\nContent-Disposition: form-data; name="item"\r\n\r\n3\r\n--{boundary}\r\n'.encode()
    form += b'Content-Disposition: form-data; name="file"; filename="bomb.pdf"\r\n\r\n%PDF-1.7\n' + bytes(50 * 1024 * 1024)
    form += f"\r\n--{boundary}--\r\n".encode()
    squeezed = gzip.compress(form, compresslevel=1)
    assert len(squeezed) < 1024 * 1024
    headers = {
        "Authorization": f"Bearer {node.token(COUNCIL[0])}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Encoding": "gzip",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{node.url}/api/consultations/{CONSULTATION}/contributions", data=squeezed, headers=headers) as response:
            status, body = response.status, await response.json()
    assert status == 400 and "uncompressed" in body["error"]["message"], body


async def test_each_cap_of_the_worker_refuses_with_what_to_do(upload_node: UploadNode) -> None:
    status, body = await upload(upload_node, COUNCIL[0], "parts.docx", docx_with_members(2_000))
    assert status == 413 and body["error"]["code"] == "payload_too_large" and "parts" in body["error"]["message"], body
    status, body = await upload(upload_node, COUNCIL[0], "dense.docx", docx_with_dense_part(20))
    assert status == 413 and body["error"]["code"] == "payload_too_large" and "compresses" in body["error"]["message"], body
    status, body = await upload(upload_node, COUNCIL[0], "big.pdf", b"%PDF-1.7\n" + bytes(5 * 1024 * 1024 + 512 * 1024))
    assert status == 413 and body["error"]["code"] == "payload_too_large" and "at most 5 MB" in body["error"]["message"], body


# --- finding 10: the page count is laid out, not read from the metadata -------------------------


async def test_a_docx_claiming_one_page_over_twenty_pages_of_text_is_refused(upload_node: UploadNode) -> None:
    liar = word_claiming_pages(characters=68_000, pages=1)
    assert b"<Pages>1</Pages>" in zipfile.ZipFile(io.BytesIO(liar)).read("docProps/app.xml")
    status, body = await upload(upload_node, COUNCIL[0], "liar.docx", liar)
    assert status == 422 and body["error"]["code"] == "too_long", body
    pages = int(re.search(r"the file has (\d+) pages", body["error"]["message"]).group(1))  # type: ignore[union-attr]
    assert 15 <= pages <= 30, body


async def test_a_genuine_two_page_docx_and_a_one_page_pdf_are_accepted(upload_node: UploadNode) -> None:
    status, body = await upload(upload_node, COUNCIL[0], "two.docx", word(2, page_breaks=1))
    assert status == 201, body
    status, body = await upload(upload_node, COUNCIL[1], "one.pdf", pdf(1))
    assert status == 201, body
    status, body = await upload(upload_node, COUNCIL[2], "three.docx", word(2, page_breaks=2))
    assert status == 422 and body["error"]["code"] == "too_long" and "has 3 pages" in body["error"]["message"], body


# --- the worker's bounds, on the inspector itself -------------------------------------------------


def _kept(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / f"upload-{uuid.uuid4().hex}"
    path.write_bytes(data)
    return path


def _workers_left(marker: str) -> list[bytes]:
    """The command lines naming ``marker`` (a worker's own folder) of running processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(cmdline)
    return found


async def test_a_worker_past_its_wall_clock_is_refused_and_its_folder_removed(tmp_path: Path) -> None:
    work = tmp_path / "work"
    inspector = Inspector(shutil.which("soffice"), timeout=0.3, workdir=work)
    with pytest.raises(BadFile) as refused:
        await inspector.count_pages(_kept(tmp_path, word(40)), "docx")
    assert refused.value.status == 422 and "could not be laid out within 0.3 s" in str(refused.value) and "PDF" in str(refused.value)
    assert _workers_left(str(work)) == []
    assert list(work.iterdir()) == []


async def test_an_ended_inspection_kills_libreoffice_with_its_worker(tmp_path: Path) -> None:
    """What the wall clock does once LibreOffice runs, seen without racing a clock: the
    inspection is cancelled (as on shutdown) while LibreOffice lays out hundreds of pages."""
    work = tmp_path / "work"
    inspector = Inspector(shutil.which("soffice"), workdir=work)
    counting = asyncio.create_task(inspector.count_pages(_kept(tmp_path, docx_of_random_words(2_500_000)), "docx"))
    office_seen = False
    while not counting.done() and not office_seen:
        office_seen = any(b"soffice" in cmdline for cmdline in _workers_left(str(work)))
        await asyncio.sleep(0.05)
    assert office_seen, "the layout ended before LibreOffice was seen: the test shows nothing"
    counting.cancel()
    laid_out = False  # LibreOffice left running would finish and write its PDF before the folder goes
    while not counting.done():
        with contextlib.suppress(FileNotFoundError):  # a running LibreOffice changes its profile meanwhile
            laid_out = laid_out or any(work.rglob("*.pdf"))
        await asyncio.sleep(0.02)
    with pytest.raises(asyncio.CancelledError):
        await counting
    assert not laid_out
    assert _workers_left(str(work)) == []
    assert list(work.iterdir()) == []


async def test_a_worker_over_its_memory_limit_is_refused(tmp_path: Path) -> None:
    inspector = Inspector(shutil.which("soffice"), memory=48 * 1024 * 1024, workdir=tmp_path / "work")
    with pytest.raises(BadFile) as refused:
        await inspector.count_pages(_kept(tmp_path, word(3)), "docx")
    assert refused.value.status == 422 and "memory" in str(refused.value)


async def test_over_the_bound_on_workers_the_answer_is_busy(tmp_path: Path) -> None:
    inspector = Inspector(shutil.which("soffice"), workers=1, workdir=tmp_path / "work")
    first = asyncio.create_task(inspector.count_pages(_kept(tmp_path, word(10)), "docx"))
    while not inspector.full():
        await asyncio.sleep(0)
    with pytest.raises(Busy) as busy:
        await inspector.count_pages(_kept(tmp_path, pdf(1)), "pdf")
    assert busy.value.status == 503 and "try again" in str(busy.value)
    assert await first == 2
    assert await inspector.count_pages(_kept(tmp_path, pdf(1)), "pdf") == 1


async def test_over_the_bound_the_http_answer_is_503_with_retry_after(node) -> None:  # noqa: ANN001, F811 - the integration tests' in-process node
    inspector = node.server.app[INSPECTOR]
    long = word(150)

    async def send(participant: str, filename: str, data: bytes) -> tuple[int, dict, str | None]:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token(participant)}"}) as http:
            async with http.post(f"{node.url}/api/consultations/{CONSULTATION}/contributions", data=_form(filename, data)) as response:
                return response.status, await response.json(), response.headers.get("Retry-After")

    running = [asyncio.create_task(send(p, "long.docx", long)) for p in COUNCIL[:2]]
    while not inspector.full():
        await asyncio.sleep(0.01)
    status, body, retry = await send(COUNCIL[2], "ours.pdf", pdf(1))
    assert status == 503 and body["error"]["code"] == "busy" and "try again" in body["error"]["message"] and retry == "5", body
    for task in running:
        status, body, _ = await task
        assert status == 422 and body["error"]["code"] == "too_long", body


async def test_without_libreoffice_a_docx_is_refused_and_a_pdf_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python_only = tmp_path / "bin"
    python_only.mkdir()
    monkeypatch.setenv("PATH", str(python_only))
    assert shutil.which("soffice") is None
    secret = await _prepared_store(tmp_path / "store")
    process = ProcessNode(str(tmp_path / "store"), log=tmp_path / "node.log")
    process.start()
    try:
        without = UploadNode(process, secret)
        status, body = await upload(without, COUNCIL[0], "ours.docx", word(3))
        assert status == 422 and body["error"]["code"] == "docx_not_accepted" and "export it as PDF" in body["error"]["message"], body
        status, body = await upload(without, COUNCIL[0], "ours.pdf", pdf(1))
        assert status == 201, body
    finally:
        process.stop()
    assert "DOCX contributions are refused: LibreOffice" in (tmp_path / "node.log").read_text()


async def test_laying_a_docx_out_fetches_nothing_it_links(tmp_path: Path) -> None:
    """An image linked by http: URL would be a request from the server's own network."""
    requests: list[bytes] = []
    asked = asyncio.Event()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readline())
        asked.set()
        writer.close()

    listener = await asyncio.start_server(record, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        inspector = Inspector(shutil.which("soffice"), workdir=tmp_path / "work")
        assert await inspector.count_pages(_kept(tmp_path, docx_linking_an_image(f"http://127.0.0.1:{port}/probe.png")), "docx") == 1
        # The same document, laid out by LibreOffice with its stock settings, does ask: the probe can see a fetch.
        linked = _kept(tmp_path, docx_linking_an_image(f"http://127.0.0.1:{port}/probe.png"))
        stock = await asyncio.create_subprocess_exec(
            shutil.which("soffice") or "soffice",
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'stock').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "stock-out"),
            str(linked.rename(linked.with_suffix(".docx"))),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert requests == []
        await asyncio.wait_for(asked.wait(), timeout=120)
        await stock.wait()
    finally:
        listener.close()
    assert requests and requests[0].split()[1] == b"/probe.png"


def test_libreoffice_is_installed_for_the_tests() -> None:
    """./dev setup installs it; a missing office must fail here, not skip the DOCX tests."""
    assert shutil.which("soffice"), "LibreOffice is missing: run ./dev setup (it installs Debian's libreoffice-writer-nogui)"
