"""Micro-benchmark of one room broadcast: stock python-socketio vs our Fanout vs a bare aiohttp loop.

    python bench/bench_fanout_micro.py [--clients N] [--broadcasts B] [--quick]

For each server kind, a server process (pinned to CPU 0) and a process of N
lean raw-websocket clients (pinned to CPU 1) are started. The clients do the
engine.io/socket.io handshake (msgpack parser) where there is one, answer
pings, and count frames. The client process triggers one broadcast at a time
(SIGUSR2 to the server), waits until every client has the frame, and records
the time; the server's CPU time (user + system, from /proc) over the measured
broadcasts divided by the deliveries gives CPU per delivered message.

Server kinds, all sending the same ~230-byte socket.io EVENT packet. From
``deflate`` to ``fanout`` each takes one more of the service's optimisations
in, so side by side they show what each buys:
  deflate  ``stock``, with clients that offer permessage-deflate, as browsers
           do: the stock server then compresses every delivery
  stock    ``await sio.emit('update', data, room='all')`` on a stock
           AsyncServer (packet encoded once; an asyncio task per client, which
           queues it for engine.io's writer task of that client)
  queued   the packet put straight on each client's engine.io queue: no task
           per client, still a writer-task wake-up (and aiohttp framing) each
  framed   the service's transport, written straight to each connection
           (``Fanout.send_encoded_to``): no wake-up, one frame built per client
  fanout   ``fanout.send('all', 'update', data)`` (vcc.gateway.fanout): one
           frame built once and written to every connection
  raw      a bare aiohttp websocket handler; ``await ws.send_bytes(payload)``
           in a loop (the floor of this stack)

Only the ``deflate`` clients offer compression. The counting client reads
with a plain epoll loop so that, on its one core, it keeps up with the
server. Results: a table on stdout, ``bench/results/fanout_micro.json`` and
its plot ``fanout_micro.png``. On a shared machine, other load on either core
shows up in the broadcast times first; the CPU per delivery is steadier.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import msgpack

ROOT = Path(__file__).resolve().parents[1]
try:
    import vcc.gateway  # noqa: F401
except ImportError:
    # Run from a checkout that was not pip-installed: benchmark its sources.
    sys.path.insert(0, str(ROOT / "server"))

MODES = ("deflate", "stock", "queued", "framed", "fanout", "raw")
EVENT = "update"
# A realistic event batch: one floor request and the resulting queue.
DATA: dict[str, Any] = {
    "seq": 1048576,
    "epoch": "3f2a9c1e",
    "events": [
        {
            "type": "floor_requested",
            "v": 1,
            "delegation": "DEU",
            "participant": "p-000123",
            "class": "council_member",
            "at": 1767225600123,
        }
    ],
    "queue": ["FRA", "ITA", "ESP", "POL", "NLD", "SWE", "AUT", "BEL"],
    "floor": {"holder": "CHE", "since": 1767225590000, "live": True},
}
# Exactly what socketio's msgpack serializer produces for emit(EVENT, DATA).
PAYLOAD = msgpack.packb({"type": 2, "data": [EVENT, DATA], "nsp": "/"})
SIO_PATH = "/socket.io/?EIO=4&transport=websocket"
RAW_PATH = "/raw"
READY_FRAME = b"R"  # the raw server's "you are registered" frame


def pin(cpu: int) -> str:
    """Pin this process to ``cpu`` if the machine has it; return what was done."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    available = os.sched_getaffinity(0)
    if cpu not in available or len(available) < 2:
        return f"not pinned (cpus {sorted(available)})"
    os.sched_setaffinity(0, {cpu})
    return f"cpu {cpu}"


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(f"need {needed} open files, hard limit is {hard}: raise it (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


# -- server process ------------------------------------------------------------------


async def serve(mode: str) -> None:
    from aiohttp import web

    app = web.Application()
    loop = asyncio.get_running_loop()
    if mode == "raw":
        clients: set[web.WebSocketResponse] = set()

        async def handler(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            clients.add(ws)
            try:
                await ws.send_bytes(READY_FRAME)
                async for _ in ws:
                    pass
            finally:
                clients.discard(ws)
            return ws

        async def broadcast_raw() -> None:
            for ws in list(clients):
                await ws.send_bytes(PAYLOAD)

        app.router.add_get(RAW_PATH, handler)

        def broadcast() -> None:
            asyncio.ensure_future(broadcast_raw())

    else:
        import socketio
        from engineio import packet as eio_packet

        sio = socketio.AsyncServer(async_mode="aiohttp", serializer="msgpack")
        sio.attach(app)
        if mode in ("fanout", "framed"):
            from vcc.gateway.fanout import Fanout

            fanout = Fanout(sio)
            sids: list[str] = []

            @sio.event
            async def connect(sid: str, environ: dict, auth: Any) -> None:
                fanout.join(sid, "all")
                sids.append(sid)

            @sio.event
            async def disconnect(sid: str, reason: str) -> None:
                fanout.leave(sid)
                sids.remove(sid)

            if mode == "fanout":

                def broadcast() -> None:
                    fanout.send("all", EVENT, DATA)

            else:

                def broadcast() -> None:
                    payload = fanout.encode(EVENT, DATA)
                    for sid in sids:
                        fanout.send_encoded_to(sid, payload)

        elif mode == "queued":
            sockets: list[Any] = []

            @sio.event
            async def connect(sid: str, environ: dict, auth: Any) -> None:
                sockets.append(sio.eio.sockets[sio.manager.eio_sid_from_sid(sid, "/")])

            def broadcast() -> None:
                for sock in sockets:
                    sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=PAYLOAD))

        else:

            @sio.event
            async def connect(sid: str, environ: dict, auth: Any) -> None:
                await sio.enter_room(sid, "all")

            def broadcast() -> None:
                asyncio.ensure_future(sio.emit(EVENT, DATA, room="all"))

    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR2, broadcast)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"READY {runner.addresses[0][1]}", flush=True)
    await stop.wait()
    await runner.cleanup()


# -- client process --------------------------------------------------------------------


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of every thread of ``pid``: schedstat (ns) if available, else stat (ticks)."""
    tasks = Path(f"/proc/{pid}/task")
    try:
        return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks.iterdir()) / 1e9
    except (FileNotFoundError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def masked_frame(opcode: int, data: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(data)) + mask + body


CONNECT_FRAME = masked_frame(2, msgpack.packb({"type": 0, "nsp": "/"}))
PONG_FRAME = masked_frame(1, b"3")


class Handshake(asyncio.Protocol):
    """One client's websocket (and engine.io/socket.io) handshake, done with asyncio.

    Ready once the first binary frame arrives: the socket.io CONNECT reply,
    or the raw server's READY frame. Whatever follows it stays in ``buffer``.
    """

    def __init__(self, path: str, port: int, socketio_handshake: bool, deflate: bool = False) -> None:
        # Without context takeover each compressed message inflates on its own (next_frame).
        offer = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n" if deflate else ""
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
        ).encode()
        self.socketio_handshake = socketio_handshake
        self.buffer = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed during handshake: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(ConnectionError(bytes(self.buffer[:80])))
                return
            del self.buffer[: end + 4]
            self.upgraded = True
        while not self.ready.done():
            frame = next_frame(self.buffer)
            if frame is None:
                return
            opcode, payload = frame
            if opcode == 2:
                self.ready.set_result(None)
                self.transport.pause_reading()  # type: ignore[union-attr]
            elif opcode == 1 and payload[:1] == b"0" and self.socketio_handshake:  # engine.io OPEN
                self.transport.write(CONNECT_FRAME)  # type: ignore[union-attr]


def next_frame(buf: bytearray) -> tuple[int, bytes] | None:
    """Pop one complete server frame (unmasked) off ``buf``: (opcode, payload), or None."""
    if len(buf) < 2:
        return None
    length, head = buf[1] & 0x7F, 2
    if length == 126:
        if len(buf) < 4:
            return None
        length, head = int.from_bytes(buf[2:4], "big"), 4
    elif length == 127:
        if len(buf) < 10:
            return None
        length, head = int.from_bytes(buf[2:10], "big"), 10
    if len(buf) < head + length:
        return None
    opcode = buf[0] & 0x0F
    payload = bytes(buf[head : head + length])
    if buf[0] & 0x40:  # RSV1: a permessage-deflate message
        payload = zlib.decompressobj(-zlib.MAX_WBITS).decompress(payload + b"\x00\x00\xff\xff")
    del buf[: head + length]
    return opcode, payload


class Counter:
    """Counts binary frames on many non-blocking sockets with one epoll loop, answering pings.

    The handshakes are done with asyncio; the counting is not: a plain epoll
    loop costs a few microseconds per received frame where asyncio's
    protocol machinery costs ~25, and on one core the client would otherwise
    be what limits the broadcast time.
    """

    def __init__(self, handshakes: list[Handshake]) -> None:
        self.epoll = select.epoll()
        self.pending: dict[int, bytearray] = {}
        self.counts: dict[int, int] = {}
        self.total = 0
        for hs in handshakes:
            # A duplicate descriptor shares the (non-blocking) socket; asyncio
            # stopped reading the original when the handshake finished.
            fd = os.dup(hs.transport.get_extra_info("socket").fileno())  # type: ignore[union-attr]
            self.pending[fd] = hs.buffer
            self.counts[fd] = 0
            self.epoll.register(fd, select.EPOLLIN)
            self.consume(fd, b"")

    def consume(self, fd: int, data: bytes) -> None:
        buf = self.pending[fd]
        if not buf and len(data) > 3 and data[0] == 0x82:
            # The common case: exactly one binary frame shorter than 64 KiB.
            size = data[1]
            if (size < 126 and len(data) == 2 + size) or (size == 126 and len(data) == 4 + ((data[2] << 8) | data[3])):
                self.counts[fd] += 1
                self.total += 1
                return
        buf += data
        while (frame := next_frame(buf)) is not None:
            opcode, payload = frame
            if opcode == 2:
                self.counts[fd] += 1
                self.total += 1
            elif opcode == 1 and payload[:1] == b"2":  # engine.io PING
                os.write(fd, PONG_FRAME)
            elif opcode == 8:
                raise ConnectionError(f"server closed a connection: {payload!r}")

    def wait_total(self, target: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        poll, read, consume = self.epoll.poll, os.read, self.consume
        while self.total < target:
            events = poll(1.0)
            if not events and time.monotonic() > deadline:
                raise TimeoutError(f"{target - self.total} frames missing after {timeout} s")
            for fd, _ in events:
                data = read(fd, 65536)
                if not data:
                    raise ConnectionError("server closed a connection")
                consume(fd, data)

    def close(self) -> None:
        for fd in self.pending:
            os.close(fd)
        self.epoll.close()


async def run_clients(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    path = RAW_PATH if args.mode == "raw" else SIO_PATH
    handshakes: list[Handshake] = []

    async def connect_one() -> None:
        _, hs = await loop.create_connection(
            lambda: Handshake(path, args.port, args.mode != "raw", deflate=args.mode == "deflate"), "127.0.0.1", args.port
        )
        await asyncio.wait_for(hs.ready, 30)
        handshakes.append(hs)

    started = time.perf_counter()
    for first in range(0, args.clients, 100):
        await asyncio.gather(*(connect_one() for _ in range(first, min(first + 100, args.clients))))
    connect_s = time.perf_counter() - started

    # From here on the event loop is not run: the Counter owns the sockets.
    counter = Counter(handshakes)

    def one_broadcast() -> float:
        target = counter.total + args.clients
        t0 = time.perf_counter()
        os.kill(args.server_pid, signal.SIGUSR2)
        counter.wait_total(target, 60)
        return time.perf_counter() - t0

    for _ in range(args.warmup):
        one_broadcast()
    # Let the server finish the warm-up's bookkeeping before measuring.
    await asyncio.sleep(0.2)
    cpu0 = server_cpu_seconds(args.server_pid)
    own0 = time.process_time()
    wall0 = time.perf_counter()
    latencies = [one_broadcast() for _ in range(args.broadcasts)]
    wall = time.perf_counter() - wall0
    cpu = server_cpu_seconds(args.server_pid) - cpu0
    own = time.process_time() - own0
    deliveries = args.clients * args.broadcasts
    expected = args.warmup + args.broadcasts
    short = sum(1 for count in counter.counts.values() if count != expected)
    counter.close()
    for hs in handshakes:
        hs.transport.close()  # type: ignore[union-attr]
    latencies_ms = sorted(x * 1000 for x in latencies)
    return {
        "mode": args.mode,
        "clients": args.clients,
        "broadcasts": args.broadcasts,
        "deliveries": deliveries,
        "clients_missing_frames": short,
        "server_cpu_s": round(cpu, 4),
        "cpu_us_per_delivery": round(cpu / deliveries * 1e6, 2),
        "deliveries_per_cpu_s": round(deliveries / cpu) if cpu else None,
        "server_cpu_share": round(cpu / wall, 3),
        "client_cpu_share": round(own / wall, 3),
        "broadcast_ms": {
            "p50": round(statistics.median(latencies_ms), 2),
            "p90": round(latencies_ms[int(0.9 * (len(latencies_ms) - 1))], 2),
            "p99": round(latencies_ms[int(0.99 * (len(latencies_ms) - 1))], 2),
            "max": round(latencies_ms[-1], 2),
            "mean": round(statistics.fmean(latencies_ms), 2),
        },
        "connect_s": round(connect_s, 2),
        "client_pinning": args.pinning,
    }


# -- orchestration ---------------------------------------------------------------------


def run_mode(mode: str, clients: int, broadcasts: int, warmup: int) -> dict[str, Any]:
    """Start a server and a client process for ``mode``; return the client's measurements."""
    me = [sys.executable, str(Path(__file__).resolve())]
    size = ["--clients", str(clients)]
    server = subprocess.Popen([*me, "--role", "server", "--mode", mode, *size], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("READY "):
            raise SystemExit(f"{mode} server did not start: {line!r}")
        client = [
            *me, "--role", "client", "--mode", mode, *size,
            "--port", line.split()[1],
            "--server-pid", str(server.pid),
            "--broadcasts", str(broadcasts),
            "--warmup", str(warmup),
        ]  # fmt: skip
        out = subprocess.run(client, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(out.stdout)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except FileNotFoundError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        **{dist: version(dist) for dist in ("aiohttp", "python-socketio", "python-engineio", "msgpack")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=None, help="connections (default 2000, 50 with --quick)")
    parser.add_argument("--broadcasts", type=int, default=None, help="measured broadcasts (default 150, 50 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a run of seconds: 50 clients, 50 broadcasts")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default bench/results/fanout_micro.json (--quick: bench/results/tmp/fanout_micro-quick.json)",
    )
    parser.add_argument("--role", choices=("main", "server", "client"), default="main", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.out is None:
        results_dir = ROOT / "bench" / "results"
        args.out = results_dir / "tmp" / "fanout_micro-quick.json" if args.quick else results_dir / "fanout_micro.json"
    clients = args.clients or (50 if args.quick else 2000)
    broadcasts = args.broadcasts or (50 if args.quick else 150)

    if args.role == "server":
        pin(0)
        raise_nofile(clients + 256)
        asyncio.run(serve(args.mode))
        return
    if args.role == "client":
        args.pinning = pin(1)
        raise_nofile(clients + 256)
        args.clients = clients
        args.broadcasts = broadcasts
        print(json.dumps(asyncio.run(run_clients(args))))
        return

    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {sorted(unknown)}")
    results = []
    for mode in modes:
        print(f"{mode}: {clients} clients, {broadcasts} broadcasts ...", file=sys.stderr, flush=True)
        results.append(run_mode(mode, clients, broadcasts, warmup=3 if args.quick else 5))
    raw = next((r for r in results if r["mode"] == "raw"), None)

    header = f"{'server':<8}{'CPU us/delivery':>17}{'x raw':>7}{'deliveries/cpu-s':>18}{'ms/broadcast p50':>18}{'p99':>9}{'max':>9}"
    print(f"\n{clients} clients, {broadcasts} broadcasts of a {len(PAYLOAD)}-byte socket.io packet; server {pin_note()}\n")
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r['cpu_us_per_delivery'] / raw['cpu_us_per_delivery']:.2f}" if raw else "-"
        b = r["broadcast_ms"]
        print(
            f"{r['mode']:<8}{r['cpu_us_per_delivery']:>17.2f}{ratio:>7}{r['deliveries_per_cpu_s']:>18,}"
            f"{b['p50']:>18.2f}{b['p99']:>9.2f}{b['max']:>9.2f}"
        )
        if r["clients_missing_frames"]:
            print(f"  !! {r['clients_missing_frames']} clients did not get every frame")
    report = {
        "benchmark": "fanout_micro",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "clients": clients,
        "broadcasts": broadcasts,
        "payload_bytes": len(PAYLOAD),
        "machine": machine(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.out}")
    sys.path.insert(0, str(ROOT))
    from bench._common import BarPanel, plot_panels

    panels = [
        BarPanel("Server CPU per delivered message", "us", {r["mode"]: r["cpu_us_per_delivery"] for r in results}),
        BarPanel("One broadcast reaches every client (p50)", "ms", {r["mode"]: r["broadcast_ms"]["p50"] for r in results}),
    ]
    png = args.out.with_suffix(".png")
    if plot_panels(png, panels, xlabel="", suptitle=f"{clients} clients, {broadcasts} broadcasts; {report['date']}"):
        print(f"written: {png}")


def pin_note() -> str:
    available = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    return "on cpu 0, clients on cpu 1" if len(available) >= 2 else "and clients unpinned (fewer than 2 cpus)"


if __name__ == "__main__":
    main()
