"""Hostile input (issue 11): what an outsider, or a participant, can make one
``vcc serve`` spend.

    python bench/bench_hostile.py                                  # this checkout -> results/hostile.json
    python bench/bench_hostile.py --root /work/wt-base --label before --out bench/results/hostile_before.json
    python bench/bench_hostile.py --compare bench/results/hostile_before.json   # after, plotted beside before
    python bench/bench_hostile.py --quick                          # seconds, bench/results/tmp/
    python bench/bench_hostile.py --parts lying_bomb --merge ...   # add or redo some parts of an earlier run

The server is a real ``vcc serve`` started from the checkout named by
``--root`` (default: this one), with that checkout's ``.venv`` when it has
one and its own sources first on ``PYTHONPATH``; its store is built by that
checkout's ``bench/_vcc.prepare_store`` (the demo roster, the 2021 agenda,
the sitting open now, contributions open until tonight), so the same
harness measures the code before and after a fix. The server is pinned to
CPU 0, this harness to CPU 1. A fresh store and server for every repeat of
every part; figures are medians over ``--repeat`` repeats.

Parts (``--parts``, all by default):

- ``unknown``: ``GET /api/consultations/<random>/plan`` ``--requests``
  times (16 at a time, no token), after a warm-up of 1,000 requests for the
  real consultation's plan and 100 for unknown ones. The server's RSS
  (``/proc/PID/status`` VmRSS) before and right after, and again after
  ``--settle`` seconds (an idle runtime may be unloaded by then); every
  ``/metrics`` sample whose name contains ``runtime``, ``loaded`` or
  ``consultation`` (the loaded-runtime count, once the service exposes one). Target: under 5 MB growth.
- ``bomb``: a DOCX of ``--bomb-bytes`` (default: just under the 5 MiB upload
  limit) whose ``word/document.xml`` is one repeated byte, deflated, so it
  inflates about 1,000-fold (built streaming into bench/results/tmp/ and
  kept there); uploaded by a registered council delegate to
  ``POST /api/consultations/bench/contributions`` (item 3, group 1, before the
  deadline), while ``--pingers`` other delegates (python-socketio clients)
  send ``ping`` with an ack every 50 ms. Peak RSS growth over the upload,
  from 10 ms samples of the server and every process under it (a parsing
  worker counts), and the kernel's VmHWM of the server; the pings' latency
  p50/p99/max from the start of the upload to 1 s after its answer (and over
  2 s before it, for reference); what the server answered and whether it
  survived. The server runs under ``prlimit --as`` (``--as-limit-mb``,
  default 3 GiB, 0 for none) so that a server that inflates the whole file
  fails instead of taking the machine's memory. Targets: under 50 MB, p99
  under 100 ms.
- ``lying_bomb``: the same, but the ZIP's headers declare that
  ``word/document.xml`` is 30,000 bytes: a check of the declared size or the
  compression ratio lets it through, and only an inflater that stops at its
  own bound (or a worker's memory limit) stops it.
- ``frames``: one unauthenticated websocket (engine.io open, no socket.io
  connect, no token) sends ``--frames`` binary frames of broken msgpack; if
  the server closes it, the attacker reconnects and goes on (counted). The
  bytes the server wrote to its stdout and stderr meanwhile, per 10,000
  frames, its CPU, and the first lines it wrote.
- ``presence``: a technical-team connection (raw websocket, the msgpack
  parser) listens while ``--hostile`` connections, all opened with one
  delegate's link, each send a ``report`` whose ``browser`` is a
  ``--report-kb`` KB string, once a second for ``--presence-seconds``. The
  largest message whose event name starts with ``presence`` (the websocket
  message's payload, bytes on the wire less the 2-10 byte frame header), how
  many there were and their total, and whether the server dropped the
  technical connection.

The load averages (``/proc/loadavg``) at the start and end of every repeat are
in the JSON: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

import aiohttp  # noqa: E402
import msgpack  # noqa: E402
from vcc_testkit.ports import free_port  # noqa: E402

from bench._common import (  # noqa: E402
    REPO_DIR,
    RESULTS_DIR,
    SCRATCH_DIR,
    BarPanel,
    cpu_seconds,
    fmt,
    format_table,
    median,
    percentile,
    pin_self,
    plot_panels,
    raise_nofile,
    run_metadata,
    sigterm_as_exit,
    spawned,
    tail,
    write_json,
)

PARTS = ("unknown", "bomb", "lying_bomb", "frames", "presence")
BOMBS = ("bomb", "lying_bomb")
CONSULTATION = "bench"
#: A council member: may submit contributions (core/contributions.py).
UPLOADER = "argentina-delegate-1"
PINGERS = ["brazil-delegate-1", "canada-delegate-1", "cuba-delegate-1", "mexico-delegate-1"]
#: The delegate whose link the hostile connections share.
HOSTILE = "bahamas-delegate-1"
TECHNICAL = "technical-support-1"
#: The upload limit of the service (vcc.documents.uploads.MAX_BYTES).
UPLOAD_LIMIT = 5 * 1024 * 1024
#: The uncompressed size the lying bomb declares: a plausible two-page document.
LYING_SIZE = 30_000
#: Left under the limit for the ZIP's closing records and the last chunk's output.
BOMB_MARGIN = 64 * 1024
PING_EVERY = 0.05
PING_TIMEOUT = 30.0
#: Malformed msgpack: a byte msgpack never uses, a map cut short, an array cut short.
BROKEN_FRAMES = [b"\xc1", b"\x83\xa4type\x02\xa3nsp", b"\xdc\xff\xff\x01"]

EIO_PATH = "/socket.io/?EIO=4&transport=websocket"
SIO_CONNECT, SIO_EVENT, SIO_CONNECT_ERROR = 0, 2, 4

_PREPARE = """
import json, sys
from pathlib import Path
sys.path.insert(0, ".")
from bench import _vcc
args = json.loads(sys.argv[1])
path, secret = _vcc.prepare_store(args["name"], root=Path(args["dir"]))
tokens = {p: _vcc.token(secret, p, role) for p, role in args["participants"].items()}
print(json.dumps({"store": str(path), "tokens": tokens}))
"""


# --------------------------------------------------------------------------
# The checkout under test, its store and its server
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkout:
    """The code whose ``vcc serve`` is measured."""

    root: Path

    @property
    def python(self) -> str:
        own = self.root / ".venv" / "bin" / "python"
        return str(own) if own.exists() else sys.executable

    def env(self) -> dict[str, str]:
        # Its own sources first, whatever the interpreter's editable install points at.
        paths = [self.root / "server", self.root / "protocol", self.root]
        return {"PYTHONPATH": os.pathsep.join(str(p) for p in paths), "PYTHONUNBUFFERED": "1"}

    def describe(self) -> dict[str, Any]:
        def git(*args: str) -> str | None:
            done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=False)
            return done.stdout.strip() if done.returncode == 0 else None

        return {
            "root": str(self.root),
            "python": self.python,
            "git_commit": git("rev-parse", "HEAD"),
            "git_subject": git("log", "-1", "--format=%s"),
            "git_dirty": bool(git("status", "--porcelain")),
        }


@dataclass(frozen=True)
class Prepared:
    store: Path
    tokens: dict[str, str]


def prepare(checkout: Checkout, name: str) -> Prepared:
    """A fresh store built by the checkout's own code, and join tokens for the
    participants this benchmark plays."""
    participants = {UPLOADER: "delegate", HOSTILE: "delegate", TECHNICAL: "technical", **{p: "delegate" for p in PINGERS}}
    args = {"name": name, "dir": str(SCRATCH_DIR / "stores"), "participants": participants}
    done = subprocess.run(
        [checkout.python, "-c", _PREPARE, json.dumps(args)],
        cwd=checkout.root,
        env={**os.environ, **checkout.env()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing the store with {checkout.root} failed:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return Prepared(Path(found["store"]), found["tokens"])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serving(checkout: Checkout, store: Path, name: str, as_limit_mb: int = 0) -> Iterator[Server]:
    """``vcc serve`` of ``checkout`` on ``store``, pinned to CPU 0, ready; stopped on exit."""
    port = free_port()
    argv = [checkout.python, "-m", "vcc.cli", "serve", "--store", str(store), "--port", str(port)]
    if as_limit_mb:
        # prlimit execs the server: the pid measured is the server's.
        argv = ["prlimit", f"--as={as_limit_mb * 1024 * 1024}", "--", *argv]
    log_path = SCRATCH_DIR / "logs" / f"hostile-{name}.log"
    with spawned(argv, cwd=checkout.root, log_path=log_path, cpus={0}, env=checkout.env()) as proc:
        server = Server(proc, port, log_path)
        _wait_ready(server)
        yield server


def _wait_ready(server: Server, timeout: float = 90.0) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"vcc serve exited ({server.proc.returncode}):\n{tail(server.log_path)}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(f"{server.url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"vcc serve not ready after {timeout:.0f} s:\n{tail(server.log_path)}")


# --------------------------------------------------------------------------
# Memory of the server and of the processes under it
# --------------------------------------------------------------------------


def status_kib(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) and VmSize of ``pid`` in KiB; empty if it is gone."""
    found: dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "VmSize"):
                    found[key] = int(value.split()[0])
    return found


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (a parsing worker, a converter it runs)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for tid in os.listdir(f"/proc/{parent}/task"):
                with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                    with open(f"/proc/{parent}/task/{tid}/children") as f:
                        kids = [int(k) for k in f.read().split()]
                    found.extend(kids)
                    todo.extend(kids)
    return found


def tree_rss_kib(pid: int) -> int:
    return sum(status_kib(p).get("VmRSS", 0) for p in [pid, *descendants(pid)])


class RssSampler:
    """The largest RSS of the server, and of it with its descendants, every 10 ms."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        self.pid = pid
        self.every = every
        self.server_peak_kib = 0
        self.tree_peak_kib = 0
        self.children_seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            kids = descendants(self.pid)
            own = status_kib(self.pid).get("VmRSS", 0)
            self.children_seen = max(self.children_seen, len(kids))
            self.server_peak_kib = max(self.server_peak_kib, own)
            self.tree_peak_kib = max(self.tree_peak_kib, own + sum(status_kib(k).get("VmRSS", 0) for k in kids))
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def runtime_metrics(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    """Every ``/metrics`` sample whose name mentions runtimes, loaded or
    consultations (the loaded-runtime count, whatever its exact name), and the
    connection gauge."""
    found: dict[str, float] = {}
    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
        async with http.get(f"{url}/metrics", timeout=aiohttp.ClientTimeout(total=10)) as response:
            text = await response.text()
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            base = name.split("{")[0]
            if any(word in base for word in ("runtime", "loaded", "consultation")) or base == "vcc_connections":
                with contextlib.suppress(ValueError):
                    found[name] = float(value)
    return found


# --------------------------------------------------------------------------
# Raw engine.io / socket.io (msgpack parser) over aiohttp websockets
# --------------------------------------------------------------------------


class RawSocket:
    """One websocket speaking engine.io v4 and socket.io v5 with the msgpack
    parser by hand, so that it can send what no client library would, and
    see every message's size on the wire."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.closed_by_server = False
        self.events: list[tuple[str, int]] = []  # (event name, websocket payload bytes)
        self._reader: asyncio.Task[None] | None = None
        self._joined: asyncio.Future[Any] | None = None

    async def open(self) -> None:
        self.ws = await self.http.ws_connect(
            self.url.replace("http", "ws", 1) + EIO_PATH,
            autoping=True,
            max_msg_size=0,
            compress=0,
            timeout=aiohttp.ClientWSTimeout(ws_close=2),
        )
        first = await self.ws.receive(timeout=10)
        if first.type != aiohttp.WSMsgType.TEXT or not first.data.startswith("0"):
            raise RuntimeError(f"no engine.io open packet: {first!r}")
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def join(self, token: str) -> Any:
        """socket.io CONNECT with ``{token}``; the server's answer (CONNECT or CONNECT_ERROR packet)."""
        self._joined = asyncio.get_running_loop().create_future()
        await self.send_packet({"type": SIO_CONNECT, "nsp": "/", "data": {"token": token}})
        return await asyncio.wait_for(self._joined, 15)

    async def send_packet(self, packet: dict[str, Any]) -> None:
        await self.send_raw(msgpack.packb(packet))

    async def send_raw(self, data: bytes) -> None:
        assert self.ws is not None
        await self.ws.send_bytes(data)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                if msg.data == "2":  # engine.io ping
                    await self.ws.send_str("3")
                continue
            if msg.type != aiohttp.WSMsgType.BINARY:
                continue
            try:
                packet = msgpack.unpackb(msg.data)
            except (ValueError, msgpack.ExtraData):
                continue
            kind = packet.get("type") if isinstance(packet, dict) else None
            if kind in (SIO_CONNECT, SIO_CONNECT_ERROR) and self._joined is not None and not self._joined.done():
                self._joined.set_result(packet)
            elif kind == SIO_EVENT and isinstance(packet.get("data"), list) and packet["data"]:
                name = str(packet["data"][0])
                self.events.append((name, len(msg.data)))
        self.closed_by_server = True
        if self._joined is not None and not self._joined.done():
            self._joined.set_result({"type": None, "closed": True})

    @property
    def open_now(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


# --------------------------------------------------------------------------
# Part 1: unknown consultations
# --------------------------------------------------------------------------


async def _hammer(http: aiohttp.ClientSession, url: str, paths: Iterator[str], count: int, concurrency: int = 16) -> Counter[str]:
    statuses: Counter[str] = Counter()
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            try:
                async with http.get(url + next(paths)) as response:
                    await response.read()
                    statuses[str(response.status)] += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                statuses[type(exc).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def _unknown_paths() -> Iterator[str]:
    while True:
        yield f"/api/consultations/{secrets.token_hex(8)}/plan"


def _known_paths() -> Iterator[str]:
    while True:
        yield f"/api/consultations/{CONSULTATION}/plan"


async def _unknown_run(server: Server, requests: int, settle: float) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=64)) as http:
        warm_known = await _hammer(http, server.url, _known_paths(), 1_000)
        warm_unknown = await _hammer(http, server.url, _unknown_paths(), 100)
        await asyncio.sleep(1)  # let the warm-up's last responses be freed before the baseline
        before = status_kib(server.pid)
        metrics_before = await runtime_metrics(http, server.url)
        cpu0 = cpu_seconds(server.pid)
        started = time.perf_counter()
        statuses = await _hammer(http, server.url, _unknown_paths(), requests)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu0
        after = status_kib(server.pid)
        metrics_after = await runtime_metrics(http, server.url)
        await asyncio.sleep(settle)
        settled = status_kib(server.pid)
        metrics_settled = await runtime_metrics(http, server.url)
    return {
        "requests": requests,
        "statuses": dict(statuses),
        "seconds": seconds,
        "requests_per_s": requests / seconds,
        "server_cpu_s": cpu,
        "warmup_statuses": {"known": dict(warm_known), "unknown": dict(warm_unknown)},
        "rss_before_kib": before.get("VmRSS"),
        "rss_after_kib": after.get("VmRSS"),
        "rss_settled_kib": settled.get("VmRSS"),
        "settle_s": settle,
        "growth_mb": _mb(after.get("VmRSS"), before.get("VmRSS")),
        "growth_settled_mb": _mb(settled.get("VmRSS"), before.get("VmRSS")),
        "metrics_before": metrics_before,
        "metrics_after": metrics_after,
        "metrics_settled": metrics_settled,
    }


def _mb(after_kib: int | None, before_kib: int | None) -> float:
    if after_kib is None or before_kib is None:
        return math.nan
    return (after_kib - before_kib) * 1024 / 1e6


# --------------------------------------------------------------------------
# Part 2: a decompression bomb, uploaded while others ping
# --------------------------------------------------------------------------

_DOC_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>"
)
_DOC_TAIL = b"</w:t></w:r></w:p></w:body></w:document>"
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)


def build_bomb(limit: int) -> tuple[Path, dict[str, Any]]:
    """A DOCX of at most ``limit`` bytes whose ``word/document.xml`` is one byte
    repeated, deflated at level 9 (about 1,030:1), written streaming (16 MiB
    at a time, never the whole in memory) and kept in bench/results/tmp/."""
    path = SCRATCH_DIR / f"bomb-{limit}.docx"
    about = path.with_suffix(".json")
    if path.exists() and about.exists():
        return path, json.loads(about.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = b"a" * (16 * 1024 * 1024 if limit > 1024 * 1024 else 256 * 1024)
    inflated = len(_DOC_HEAD) + len(_DOC_TAIL)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as doc:
            doc.write(_DOC_HEAD)
            # What one more chunk adds once deflated: stop before it could pass the limit.
            step = len(chunk) // 1000 + 1024
            while raw.tell() + step < limit - min(BOMB_MARGIN, limit // 8):
                doc.write(chunk)
                inflated += len(chunk)
            doc.write(_DOC_TAIL)
    partial.replace(path)
    info = {
        "bytes": path.stat().st_size,
        "inflated_bytes": inflated,
        "ratio": inflated / path.stat().st_size,
        "entries": ["[Content_Types].xml", "word/document.xml"],
        "build_s": time.perf_counter() - started,
    }
    about.write_text(json.dumps(info, indent=2) + "\n")
    return path, info


def build_lying_bomb(limit: int) -> tuple[Path, dict[str, Any]]:
    """The same bomb, its ZIP headers (local and central; their ZIP64 fields
    where they have them) patched to declare ``LYING_SIZE`` bytes for
    ``word/document.xml``: a check of the
    declared size or ratio lets it through, only a bounded inflater stops it."""
    honest, info = build_bomb(limit)
    path = SCRATCH_DIR / f"lying-bomb-{limit}.docx"
    data = bytearray(honest.read_bytes())  # the compressed file, at most the upload limit
    name = b"word/document.xml"
    with zipfile.ZipFile(honest) as archive:
        local = archive.getinfo(name.decode()).header_offset
    patched = 0
    # (header, its signature, its fixed length, where its 32-bit uncompressed size is, where its name length is)
    for offset, signature, fixed, size_at, name_at in (
        (local, b"PK\x03\x04", 30, 22, 26),
        *((i, b"PK\x01\x02", 46, 24, 28) for i in _find_all(data, b"PK\x01\x02")),
    ):
        name_len, extra_len = (
            int.from_bytes(data[offset + name_at : offset + name_at + 2], "little"),
            int.from_bytes(data[offset + name_at + 2 : offset + name_at + 4], "little"),
        )
        if data[offset : offset + 4] != signature or data[offset + fixed : offset + fixed + name_len] != name:
            continue
        if data[offset + size_at : offset + size_at + 4] != b"\xff\xff\xff\xff":  # no ZIP64: the size is here
            data[offset + size_at : offset + size_at + 4] = LYING_SIZE.to_bytes(4, "little")
            patched += 1
            continue
        extra = offset + fixed + name_len
        end = extra + extra_len
        while extra + 4 <= end:
            tag, size = int.from_bytes(data[extra : extra + 2], "little"), int.from_bytes(data[extra + 2 : extra + 4], "little")
            if tag == 1:  # ZIP64: the uncompressed size comes first
                data[extra + 4 : extra + 12] = LYING_SIZE.to_bytes(8, "little")
                patched += 1
                break
            extra += 4 + size
    if patched != 2:
        raise RuntimeError(f"expected the ZIP64 sizes of {name.decode()} in 2 headers, patched {patched}")
    path.write_bytes(data)
    return path, {**info, "declared_bytes": LYING_SIZE, "bytes": len(data)}


def _find_all(data: bytearray, needle: bytes) -> Iterator[int]:
    at = data.find(needle)
    while at >= 0:
        yield at
        at = data.find(needle, at + 1)


@dataclass
class Pinger:
    """A delegate's python-socketio client sending ``ping`` with an ack every 50 ms."""

    url: str
    token: str
    samples: list[tuple[float, float]] = field(default_factory=list)  # (sent, latency s; inf if unanswered)
    failures: Counter[str] = field(default_factory=Counter)  # why pings went unanswered
    client: Any = None

    async def connect(self) -> None:
        import socketio

        self.client = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        await self.client.connect(self.url, auth={"token": self.token}, transports=["websocket"], wait_timeout=15)

    async def _one(self) -> None:
        sent = time.monotonic()
        try:
            answer = await self.client.call("ping", {"t": sent}, timeout=PING_TIMEOUT)
            ok = isinstance(answer, dict) and answer.get("t") == sent
            if not ok:
                self.failures["wrong answer"] += 1
        except Exception as exc:  # noqa: BLE001 - a timeout or a dropped connection is an unanswered ping
            ok = False
            self.failures[type(exc).__name__] += 1
        self.samples.append((sent, time.monotonic() - sent if ok else math.inf))

    async def run(self, stop: asyncio.Event) -> None:
        pending: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        start = loop.time()
        i = 0
        while not stop.is_set():
            task = loop.create_task(self._one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, start + i * PING_EVERY - loop.time()))
        if pending:
            await asyncio.wait(pending, timeout=PING_TIMEOUT + 5)

    async def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.disconnect()


def _latency_summary(samples: list[tuple[float, float]], start: float, end: float) -> dict[str, Any]:
    """Latencies of the pings sent in [start, end], an unanswered one counted as
    infinite (so p99 is infinite, null in the JSON, when over 1 % went
    unanswered), and the stall: the longest time in [start, end] in which no
    ping of any client was answered."""
    inside = sorted(lat for sent, lat in samples if start <= sent <= end)
    answered = [x for x in inside if not math.isinf(x)]
    answers = sorted(sent + lat for sent, lat in samples if not math.isinf(lat) and start <= sent + lat <= end)
    edges = [start, *answers, end]
    return {
        "pings": len(inside),
        "unanswered": len(inside) - len(answered),
        "p50_ms": percentile(inside, 50) * 1000 if inside else math.nan,
        "p99_ms": percentile(inside, 99) * 1000 if inside else math.nan,
        "max_ms": inside[-1] * 1000 if inside else math.nan,
        "max_answered_ms": answered[-1] * 1000 if answered else math.nan,
        "stall_s": max(b - a for a, b in pairwise(edges)),
    }


async def _upload(url: str, token: str, bomb: Path) -> dict[str, Any]:
    """The uploader's contribution with ``bomb`` as its file; the status and the start of the body."""
    form = aiohttp.FormData()
    for name, value in {
        "id": uuid.uuid4().hex,
        "item": "3",
        "title": "A contribution",
        "document": "C21/33",
        "comments": "See the attached file.",
    }.items():
        form.add_field(name, value)
    with open(bomb, "rb") as f:
        form.add_field(
            "file", f, filename="contribution.docx", content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
                async with http.post(
                    f"{url}/api/consultations/{CONSULTATION}/contributions", data=form, headers={"Authorization": f"Bearer {token}"}
                ) as response:
                    body = await response.read()
                    return {"status": response.status, "body": body[:400].decode("utf-8", "replace")}
        except (TimeoutError, aiohttp.ClientError) as exc:
            return {"status": None, "error": f"{type(exc).__name__}: {exc}"}


async def _bomb_run(server: Server, prepared: Prepared, bomb: Path, quiet: float) -> dict[str, Any]:
    pingers = [Pinger(server.url, prepared.tokens[p]) for p in PINGERS]
    for pinger in pingers:
        await pinger.connect()
    stop = asyncio.Event()
    running = [asyncio.get_running_loop().create_task(p.run(stop)) for p in pingers]
    await asyncio.sleep(quiet)  # the reference latencies, before the upload
    before = status_kib(server.pid)
    tree_before = tree_rss_kib(server.pid)
    cpu0 = cpu_seconds(server.pid)
    with RssSampler(server.pid) as sampler:
        upload_start = time.monotonic()
        # On its own loop in a thread: reading and sending 5 MB must not hold back the pings.
        answer = await asyncio.to_thread(asyncio.run, _upload(server.url, prepared.tokens[UPLOADER], bomb))
        upload_end = time.monotonic()
        await asyncio.sleep(1.0)  # pings sent just after the answer still count
        stop.set()
        await asyncio.gather(*running)
    hwm_after = status_kib(server.pid).get("VmHWM")
    still_connected = sum(bool(p.client is not None and p.client.connected) for p in pingers)
    failures = sum((p.failures for p in pingers), Counter())
    alive = server.proc.poll() is None
    cpu = cpu_seconds(server.pid) - cpu0 if alive else math.nan
    for pinger in pingers:
        await pinger.close()
    samples = [s for p in pingers for s in p.samples]
    log_text = server.log_path.read_text(errors="replace")
    return {
        "answer": answer,
        "upload_s": upload_end - upload_start,
        "server_alive": alive,
        "server_returncode": server.proc.returncode,
        "server_cpu_s": cpu,
        "log_mentions_memoryerror": "MemoryError" in log_text,
        "rss_before_kib": before.get("VmRSS"),
        "hwm_before_kib": before.get("VmHWM"),
        "vmsize_before_kib": before.get("VmSize"),
        "hwm_after_kib": hwm_after,
        "peak_server_kib": sampler.server_peak_kib,
        "peak_tree_kib": sampler.tree_peak_kib,
        "children_seen": sampler.children_seen,
        "peak_growth_mb": _mb(sampler.tree_peak_kib, tree_before),
        "peak_growth_server_mb": _mb(sampler.server_peak_kib, before.get("VmRSS")),
        "hwm_growth_mb": _mb(hwm_after, before.get("VmRSS")),
        "pingers": len(pingers),
        "pingers_connected_at_end": still_connected,
        "ping_failures": dict(failures),
        "ping_quiet": _latency_summary(samples, upload_start - quiet, upload_start),
        "ping_during": _latency_summary(samples, upload_start, upload_end + 1.0),
    }


# --------------------------------------------------------------------------
# Part 3: malformed frames from an unauthenticated connection
# --------------------------------------------------------------------------


async def _quiet_log(server: Server, idle: float = 0.5, timeout: float = 120.0) -> None:
    """Until the server's log stops growing and it stops using CPU (its backlog is done)."""
    deadline = time.monotonic() + timeout
    size, cpu = server.log_path.stat().st_size, cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(idle)
        new_size, new_cpu = server.log_path.stat().st_size, cpu_seconds(server.pid)
        if new_size == size and new_cpu - cpu < 0.02 * idle:
            return
        size, cpu = new_size, new_cpu


async def _frames_run(server: Server, frames: int) -> dict[str, Any]:
    await _quiet_log(server)
    log_before = server.log_path.stat().st_size
    cpu0 = cpu_seconds(server.pid)
    sent = connections = refused_opens = 0
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sock: RawSocket | None = None
        while sent < frames and time.perf_counter() - started < 300:
            if sock is None or not sock.open_now:
                if sock is not None:
                    await sock.close()
                sock = RawSocket(http, server.url)
                try:
                    await sock.open()
                except (TimeoutError, aiohttp.ClientError, RuntimeError):
                    refused_opens += 1
                    sock = None
                    await asyncio.sleep(0.05)
                    continue
                connections += 1
            try:
                await sock.send_raw(BROKEN_FRAMES[sent % len(BROKEN_FRAMES)])
                sent += 1
            except (aiohttp.ClientError, ConnectionError, RuntimeError):
                await sock.close()
            if sent % 200 == 0:
                await asyncio.sleep(0)  # let the reader see a close
        send_s = time.perf_counter() - started
        await _quiet_log(server)
        if sock is not None:
            await sock.close()
    logged = server.log_path.read_bytes()[log_before:]
    lines = logged.decode("utf-8", "replace").splitlines()
    return {
        "frames": sent,
        "connections": connections,
        "refused_opens": refused_opens,
        "send_s": send_s,
        "log_bytes": len(logged),
        "log_lines": len(lines),
        "log_bytes_per_10k": len(logged) * 10_000 / sent if sent else math.nan,
        "server_cpu_s": cpu_seconds(server.pid) - cpu0,
        "log_sample": [line[:300] for line in lines[:12]],
    }


# --------------------------------------------------------------------------
# Part 4: presence amplification
# --------------------------------------------------------------------------


async def _presence_run(server: Server, prepared: Prepared, hostile: int, report_kb: int, seconds: float) -> dict[str, Any]:
    before = tree_rss_kib(server.pid)
    # No connection limit: aiohttp's default of 100 would hold the 101st websocket back.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        technical = RawSocket(http, server.url)
        await technical.open()
        joined = await technical.join(prepared.tokens[TECHNICAL])
        if joined.get("type") != SIO_CONNECT:
            raise RuntimeError(f"the technical team's connection was refused: {joined}")
        socks: list[RawSocket] = []
        refused: Counter[str] = Counter()
        for _ in range(hostile):
            sock = RawSocket(http, server.url)
            try:
                await sock.open()
                answer = await sock.join(prepared.tokens[HOSTILE])
            except (TimeoutError, aiohttp.ClientError, RuntimeError) as exc:
                refused[type(exc).__name__] += 1
                await sock.close()
                continue
            if answer.get("type") == SIO_CONNECT:
                socks.append(sock)
            else:
                refused[str((answer.get("data") or {}).get("code") if isinstance(answer.get("data"), dict) else answer.get("type"))] += 1
                await sock.close()
        with RssSampler(server.pid) as sampler:
            started = time.monotonic()
            rounds = max(1, round(seconds))
            sent = failed = 0
            for r in range(rounds):
                for i, sock in enumerate(socks):
                    filler = f"{i:04d}-{r:04d}-".encode() + b"x" * (report_kb * 1000)
                    report = {"rtt_ms": 12.5, "jitter_ms": 1.0, "browser": filler.decode(), "microphone": "granted"}
                    try:
                        # Bounded: a server that stops reading a connection must not stop the benchmark.
                        await asyncio.wait_for(sock.send_packet({"type": SIO_EVENT, "nsp": "/", "data": ["report", report]}), 10)
                        sent += 1
                    except (TimeoutError, aiohttp.ClientError, ConnectionError, RuntimeError):
                        failed += 1
                await asyncio.sleep(max(0.0, started + (r + 1) - time.monotonic()))
            # Presence goes out at most once a second: wait for what the last reports caused.
            await asyncio.sleep(2.5)
        still_open = sum(s.open_now for s in socks)
        # Together: each close may wait up to 2 s for the server's closing handshake.
        await asyncio.gather(*(sock.close() for sock in socks))
        technical_dropped = technical.closed_by_server
        await technical.close()
    presence = [(name, size) for name, size in technical.events if name.startswith("presence")]
    sizes = [size for _, size in presence]
    return {
        "hostile_connected": len(socks),
        "hostile_refused": dict(refused),
        "hostile_open_at_end": still_open,
        "reports_sent": sent,
        "reports_failed": failed,
        "report_chars": report_kb * 1000 + 10,
        "presence_messages": len(sizes),
        "presence_names": sorted({n for n, _ in presence}),
        "largest_presence_bytes": max(sizes) if sizes else 0,
        "presence_total_bytes": sum(sizes),
        "technical_dropped": technical_dropped,
        "peak_growth_mb": _mb(sampler.tree_peak_kib, before),
    }


# --------------------------------------------------------------------------
# Running, reporting
# --------------------------------------------------------------------------


def run_part(part: str, checkout: Checkout, args: argparse.Namespace, repeat: int, out: Any) -> dict[str, Any]:
    prepared = prepare(checkout, f"hostile-{part}-{repeat}")
    limit = args.as_limit_mb if part in BOMBS else 0
    load_start = loadavg()
    with serving(checkout, prepared.store, f"{part}-{repeat}", as_limit_mb=limit) as server:
        if part == "unknown":
            result = asyncio.run(_unknown_run(server, args.requests, args.settle))
        elif part in BOMBS:
            bomb, _ = (build_bomb if part == "bomb" else build_lying_bomb)(args.bomb_bytes)
            result = asyncio.run(_bomb_run(server, prepared, bomb, args.quiet))
            result["as_limit_mb"] = limit or None
        elif part == "frames":
            result = asyncio.run(_frames_run(server, args.frames))
        else:
            result = asyncio.run(_presence_run(server, prepared, args.hostile, args.report_kb, args.presence_seconds))
    result["load_average"] = {"start": load_start, "end": loadavg()}
    print(f"  {part} #{repeat + 1}: {_one_line(part, result)}", file=out, flush=True)
    return result


def _one_line(part: str, r: dict[str, Any]) -> str:
    if part == "unknown":
        return (
            f"RSS +{fmt(r['growth_mb'])} MB ({fmt(r['growth_settled_mb'])} after {r['settle_s']:g} s), "
            f"{fmt(r['requests_per_s'])} req/s, statuses {r['statuses']}, runtimes {r['metrics_after'] or '-'}"
        )
    if part in BOMBS:
        d = r["ping_during"]
        return (
            f"answer {r['answer'].get('status')}, peak +{fmt(r['peak_growth_mb'])} MB, ping p99 {fmt(d['p99_ms'])} ms "
            f"({d['unanswered']} of {d['pings']} unanswered: {r['ping_failures']}, stall {fmt(d['stall_s'], 2)} s), "
            f"upload {fmt(r['upload_s'], 2)} s, server alive {r['server_alive']}, "
            f"{r['pingers_connected_at_end']}/{r['pingers']} pingers still connected"
        )
    if part == "frames":
        return (
            f"{r['frames']} frames over {r['connections']} connection(s): {fmt(r['log_bytes'])} log bytes "
            f"({fmt(r['log_bytes_per_10k'])} per 10k), server CPU {fmt(r['server_cpu_s'], 2)} s"
        )
    return (
        f"{r['hostile_connected']} hostile connected, {r['presence_messages']} presence messages, "
        f"largest {fmt(r['largest_presence_bytes'])} B, technical dropped {r['technical_dropped']}"
    )


_BOMB_FIGURES: list[tuple[str, Callable[[dict[str, Any]], float], float | None]] = [
    ("peak RSS growth during the upload, MB", lambda r: r["peak_growth_mb"], 50.0),
    ("other clients' ping p99 during the upload, ms", lambda r: r["ping_during"]["p99_ms"], 100.0),
    ("... pings unanswered", lambda r: float(r["ping_during"]["unanswered"]), None),
    ("... longest time no ping was answered, s", lambda r: r["ping_during"]["stall_s"], None),
    ("... ping p99 before the upload, ms", lambda r: r["ping_quiet"]["p99_ms"], None),
]
#: The figure of each part that the summary quotes (median over repeats), and its target.
HEADLINES: dict[str, list[tuple[str, Callable[[dict[str, Any]], float], float | None]]] = {
    "unknown": [
        ("RSS growth after the requests, MB", lambda r: r["growth_mb"], 5.0),
        ("... after the settle, MB", lambda r: r["growth_settled_mb"], 5.0),
    ],
    "bomb": _BOMB_FIGURES,
    "lying_bomb": _BOMB_FIGURES,
    "frames": [
        ("log bytes per 10,000 malformed frames", lambda r: r["log_bytes_per_10k"], None),
        ("server CPU s for the frames", lambda r: r["server_cpu_s"], None),
    ],
    "presence": [("largest presence message, bytes", lambda r: float(r["largest_presence_bytes"]), None)],
}


def summarize(parts: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for part, repeats in parts.items():
        for name, get, target in HEADLINES[part]:
            values = [get(r) for r in repeats]
            value = median(values)
            rows.append(
                {
                    "part": part,
                    "figure": name,
                    "median": value,
                    "repeats": values,
                    "target": target,
                    "met": None if target is None or math.isnan(value) else value < target,
                }
            )
    return rows


def plot(path: Path, label: str, summary: list[dict[str, Any]], compare: dict[str, Any] | None) -> None:
    runs: list[tuple[str, list[dict[str, Any]]]] = []
    if compare is not None:
        runs.append((compare.get("label") or "before", compare["summary"]))
    runs.append((label, summary))
    chosen = [
        ("unknown", "RSS growth after the requests, MB", "RSS growth after unknown-id requests", "MB"),
        ("bomb", "peak RSS growth during the upload, MB", "peak RSS growth, decompression bomb", "MB"),
        ("bomb", "other clients' ping p99 during the upload, ms", "others' ping p99 during the bomb", "ms"),
        ("bomb", "... longest time no ping was answered, s", "longest time no ping was answered (bomb)", "s"),
        ("lying_bomb", "peak RSS growth during the upload, MB", "peak RSS growth, bomb with lying headers", "MB"),
        ("lying_bomb", "other clients' ping p99 during the upload, ms", "others' ping p99, lying bomb", "ms"),
        ("frames", "log bytes per 10,000 malformed frames", "log per 10,000 malformed frames", "KB"),
        ("presence", "largest presence message, bytes", "largest presence message", "KB"),
    ]
    panels = []
    for part, figure, title, unit in chosen:
        bars: dict[str, float] = {}
        for run_label, rows in runs:
            for row in rows:
                # An infinite median (pings never answered) has no bar; the table says so.
                if row["part"] == part and row["figure"] == figure and row["median"] is not None and math.isfinite(row["median"]):
                    bars[run_label] = row["median"] / 1000 if unit == "KB" else row["median"]
        if bars:
            # Before and after differ a thousandfold: a log scale shows both, where no bar is zero.
            panels.append(BarPanel(title, unit, bars, logy=len(bars) > 1 and min(bars.values()) > 0))
    if panels:
        plot_panels(path, panels, "", f"bench_hostile.py: {', '.join(r for r, _ in runs)} (medians)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, default=REPO_DIR, help="the checkout whose `vcc serve` is measured (default: this one)")
    p.add_argument("--label", default=None, help="the name of this run in the JSON and plots (default: the checkout's commit)")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, from {', '.join(PARTS)}")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--requests", type=int, default=100_000)
    p.add_argument("--settle", type=float, default=5.0, help="seconds after the requests before RSS is read again")
    p.add_argument("--bomb-bytes", type=int, default=UPLOAD_LIMIT, help="the bomb's size at most (default: the 5 MiB upload limit)")
    p.add_argument("--as-limit-mb", type=int, default=3072, help="the server's address-space limit in the bomb part (0: none)")
    p.add_argument("--quiet", type=float, default=2.0, help="seconds of pings before the upload (the reference)")
    p.add_argument("--frames", type=int, default=10_000)
    p.add_argument("--hostile", type=int, default=100)
    p.add_argument("--report-kb", type=int, default=250)
    p.add_argument("--presence-seconds", type=float, default=5.0)
    p.add_argument("--compare", type=Path, help="an earlier results JSON (e.g. hostile_before.json) to plot beside this run")
    p.add_argument("--merge", action="store_true", help="keep the parts of --out that this run does not measure")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat, results in bench/results/tmp/")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.repeat, args.requests, args.settle, args.quiet = 1, 300, 0.5, 0.5
        args.bomb_bytes, args.frames, args.hostile, args.report_kb, args.presence_seconds = 64 * 1024, 300, 5, 20, 2.0
    out_path = args.out or (SCRATCH_DIR / "hostile-quick.json" if args.quick else RESULTS_DIR / "hostile.json")
    parts = [x for x in args.parts.split(",") if x]
    unknown = set(parts) - set(PARTS)
    if unknown:
        p.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    checkout = Checkout(args.root.resolve())
    label = args.label or (checkout.describe()["git_commit"] or "run")[:9]
    compare = json.loads(args.compare.read_text()) if args.compare else None

    pin_self({1})
    raise_nofile(4096)
    results: dict[str, list[dict[str, Any]]] = {}
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    bombs = {part: (build_bomb if part == "bomb" else build_lying_bomb)(args.bomb_bytes)[1] for part in parts if part in BOMBS}
    print(f"bench_hostile: {checkout.root} ({label}), parts {', '.join(parts)}, {args.repeat} repeat(s)", flush=True)
    with sigterm_as_exit():
        for part in parts:
            results[part] = [run_part(part, checkout, args, i, sys.stdout) for i in range(args.repeat)]
    run = {
        "parts": parts,
        "meta": run_metadata(["aiohttp", "python-socketio", "python-engineio", "msgpack"]),
        "checkout": checkout.describe(),
        "settings": settings,
        "bombs": bombs,
    }
    runs = [run]
    if args.merge and out_path.exists():
        earlier = json.loads(out_path.read_text())
        if earlier.get("label") != label:
            p.error(f"--merge: {out_path} is the run {earlier.get('label')!r}, not {label!r}")
        results = {**{k: v for k, v in earlier["parts"].items() if k not in results}, **results}
        results = {k: results[k] for k in PARTS if k in results}
        # An earlier run keeps only the parts it still stands for.
        kept = [
            {
                **r,
                "parts": [x for x in r["parts"] if x not in parts],
                "bombs": {k: v for k, v in r.get("bombs", {}).items() if k not in parts},
            }
            for r in earlier["runs"]
        ]
        runs = [*(r for r in kept if r["parts"]), run]
    summary = summarize(results)
    print()
    print(
        format_table(
            ["part", "figure", "median", "repeats", "target", "met"],
            [
                [
                    r["part"],
                    r["figure"],
                    fmt(r["median"]),
                    " / ".join(fmt(v) for v in r["repeats"]),
                    fmt(r["target"]),
                    "-" if r["met"] is None else ("yes" if r["met"] else "NO"),
                ]
                for r in summary
            ],
        )
    )
    # One entry in runs per invocation (several with --merge): where and with what each part was measured.
    data = {"label": label, "runs": runs, "summary": summary, "parts": results}
    write_json(out_path, data)
    plot(out_path.with_suffix(".png"), label, summary, compare)
    print(f"\nwrote {out_path} and {out_path.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
