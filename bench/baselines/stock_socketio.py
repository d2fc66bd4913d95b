"""Baseline: stock python-socketio ``AsyncServer`` on aiohttp, msgpack serializer.

What the service would cost without its own fan-out: every client joins one
room and a broadcast is ``await sio.emit(event, payload, room=...)``, which
python-socketio turns into one task and one queue put per client. Nothing is
tuned; compression stays at aiohttp's default, which only matters if the
client offers permessage-deflate (the load generator does not).

Run from the repository root::

    python -m bench.baselines.stock_socketio --port 8080

Control (same on every baseline):
    ``POST /bench/broadcast?count=&rate=&size=`` broadcasts and answers when
    the last ``emit`` has returned (python-socketio may still be writing);
    ``GET /bench/info`` gives ``{pid, clients}``.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any

import socketio
from aiohttp import web

from bench._common import (
    BENCH_EVENT,
    BENCH_ROOM,
    BroadcastRequest,
    bench_payload,
    paced,
    serve_baseline,
)

sio = socketio.AsyncServer(async_mode="aiohttp", serializer="msgpack")
_clients = 0


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
    global _clients
    await sio.enter_room(sid, BENCH_ROOM)
    _clients += 1


@sio.event
async def disconnect(sid: str, reason: str) -> None:
    global _clients
    _clients -= 1


async def broadcast(request: web.Request) -> web.Response:
    try:
        spec = BroadcastRequest.from_query(request.query)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None

    async def send(seq: int) -> None:
        await sio.emit(BENCH_EVENT, bench_payload(seq, spec.size), room=BENCH_ROOM)

    seconds = await paced(spec, send)
    return web.json_response({"sent": spec.count, "seconds": seconds})


async def info(request: web.Request) -> web.Response:
    return web.json_response({"pid": os.getpid(), "clients": _clients, "impl": f"python-socketio {metadata.version('python-socketio')}"})


def make_app() -> web.Application:
    app = web.Application()
    sio.attach(app)
    app.router.add_post("/bench/broadcast", broadcast)
    app.router.add_get("/bench/info", info)
    return app


if __name__ == "__main__":
    serve_baseline(make_app, __doc__)
