"""Baseline: a bare aiohttp websocket server writing the same frame to every client.

The floor under any Python socket.io fan-out: it speaks just enough engine.io
v4 / socket.io v5 (msgpack parser) for the load generator and a stock client
to connect - the open packet, the CONNECT answer, pings - and broadcasts by
encoding the socket.io EVENT packet once and calling ``send_bytes`` on each
websocket in a loop. No task per client, no queue, no compression.

Run from the repository root::

    python -m bench.baselines.bare_aiohttp --port 8080

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
from collections.abc import AsyncIterator

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


def make_app() -> web.Application:
    app = web.Application()
    app[CLIENTS] = set()
    app.router.add_get("/socket.io/", socketio_endpoint)
    app.router.add_post("/bench/broadcast", broadcast)
    app.router.add_get("/bench/info", info)
    app.cleanup_ctx.append(_pinger)
    return app


if __name__ == "__main__":
    serve_baseline(make_app, __doc__)
