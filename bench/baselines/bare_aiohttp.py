"""Baseline: a bare aiohttp websocket server writing the same frame to every client.

The floor under any Python socket.io fan-out: it speaks just enough engine.io
v4 / socket.io v5 (msgpack parser) for the load generator and a stock client
to connect - the open packet, the CONNECT answer, pings - and broadcasts by
encoding the socket.io EVENT packet once and calling ``send_bytes`` on each
websocket in a loop. No task per client, no queue, no compression.

It also answers every EVENT that asks for an ack (``sio.call``) with
``{"ok": true}``: the floor under one command, for ``bench_service.py``. With
``--durable DIR`` the ack waits until the packet is committed to a SQLite
file in ``DIR`` (WAL, ``synchronous=FULL``, one writer thread), as the
service's embedded store commits an append: the floor under a durable command;
and each broadcast is committed the same way before it is sent: the floor under
a durable change told to everyone (target ``bare-durable`` of ``bench_fanout.py``).

Run from the repository root::

    python -m bench.baselines.bare_aiohttp --port 8080 [--durable DIR]

Control (same on every baseline):
    ``POST /bench/broadcast?count=&rate=&size=`` broadcasts and answers when
    the last message is written; ``GET /bench/info`` gives ``{pid, clients}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import msgpack
from aiohttp import web

from bench._common import (
    BENCH_EVENT,
    BroadcastRequest,
    bench_payload,
    paced,
    serve_baseline,
)

PING_INTERVAL_S = 25.0  # engine.io's default, as in the other baselines
CLIENTS = web.AppKey("clients", set[web.WebSocketResponse])


class Journal:
    """Each command's packet appended and committed (fsync) before its ack, on
    one writer thread so that the event loop never waits on the disk."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="journal")
        # Used only from the writer thread, after this constructor.
        self.db = sqlite3.connect(directory / "journal.sqlite", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS packets (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)")

    def _commit(self, data: bytes) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO packets (data) VALUES (?)", (data,))
        self.db.execute("COMMIT")

    async def append(self, data: bytes) -> None:
        await asyncio.get_running_loop().run_in_executor(self.writer, self._commit, data)


JOURNAL = web.AppKey("journal", Journal)


def _open_packet(sid: str) -> str:
    return "0" + json.dumps(
        {"sid": sid, "upgrades": [], "pingInterval": int(PING_INTERVAL_S * 1000), "pingTimeout": 20000, "maxPayload": 1_000_000}
    )


async def socketio_endpoint(request: web.Request) -> web.StreamResponse:
    if request.query.get("transport") != "websocket":
        raise web.HTTPBadRequest(text="this baseline speaks websocket only")
    ws = web.WebSocketResponse(compress=False, max_msg_size=1_000_000)
    await ws.prepare(request)
    clients = request.app[CLIENTS]
    sid = secrets.token_urlsafe(12)
    await ws.send_str(_open_packet(sid))
    try:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                packet = msgpack.unpackb(msg.data)
                if packet.get("type") == 0 and ws not in clients:  # socket.io CONNECT
                    await ws.send_bytes(msgpack.packb({"type": 0, "nsp": packet.get("nsp", "/"), "data": {"sid": sid}}))
                    clients.add(ws)
                elif packet.get("type") == 2 and "id" in packet:  # an EVENT that asks for an ack: a command
                    if JOURNAL in request.app:
                        await request.app[JOURNAL].append(msg.data)
                    await ws.send_bytes(
                        msgpack.packb({"type": 3, "nsp": packet.get("nsp", "/"), "id": packet["id"], "data": [{"ok": True}]})
                    )
            # Text frames are engine.io pongs ("3"): nothing to do.
    finally:
        clients.discard(ws)
    return ws


async def broadcast(request: web.Request) -> web.Response:
    try:
        spec = BroadcastRequest.from_query(request.query)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    clients = request.app[CLIENTS]
    delivered = 0

    async def send(seq: int) -> None:
        nonlocal delivered
        frame = msgpack.packb({"type": 2, "data": [BENCH_EVENT, bench_payload(seq, spec.size)], "nsp": "/"})
        if JOURNAL in request.app:
            await request.app[JOURNAL].append(frame)
        # A snapshot: a client may disconnect while send_bytes awaits a drain.
        for ws in tuple(clients):
            if not ws.closed:
                await ws.send_bytes(frame)
                delivered += 1

    seconds = await paced(spec, send)
    return web.json_response({"sent": spec.count, "writes": delivered, "seconds": seconds})


async def info(request: web.Request) -> web.Response:
    return web.json_response({"pid": os.getpid(), "clients": len(request.app[CLIENTS]), "impl": f"aiohttp {aiohttp.__version__} bare loop"})


async def _pinger(app: web.Application) -> AsyncIterator[None]:
    clients = app[CLIENTS]

    async def ping_forever() -> None:
        while True:
            await asyncio.sleep(PING_INTERVAL_S)
            for ws in tuple(clients):
                if not ws.closed:
                    await ws.send_str("2")

    task = asyncio.create_task(ping_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def make_app(durable: Path | None = None) -> web.Application:
    app = web.Application()
    app[CLIENTS] = set()
    if durable is not None:
        app[JOURNAL] = Journal(durable)
    app.router.add_get("/socket.io/", socketio_endpoint)
    app.router.add_post("/bench/broadcast", broadcast)
    app.router.add_get("/bench/info", info)
    app.cleanup_ctx.append(_pinger)
    return app


if __name__ == "__main__":
    serve_baseline(
        make_app,
        __doc__,
        lambda parser: parser.add_argument(
            "--durable", type=Path, help="commit each command and each broadcast to a SQLite file in this directory first"
        ),
    )
