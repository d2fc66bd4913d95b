"""Service figures: idle memory per connection, chair grant -> speaker's
screen, CPU per command, CPU while idle, and the time to load a long consultation.

    python bench/bench_service.py                 # 2,000 idle clients, 200 grants, 300 commands, 100,000 events
    python bench/bench_service.py --quick         # 50 clients, 10 grants, 20 commands, 5,000 events: seconds
    python bench/bench_service.py --parts load    # only the store figure
    python bench/bench_service.py --parts command # only the CPU per command

``memory`` and ``grant`` share one ``vcc serve`` (pinned to CPU 0) on a fresh
store (demo roster, sitting open, first item taken up):

- memory: the server's RSS (``/proc/PID/status`` VmRSS) once the chair and
  the speaker are connected and 50 warm-up clients connected (the first
  connections allocate the per-process structures), then after ``--clients``
  more idle lean clients (``bench.loadgen``, one delegate token, CPU 1) have
  connected and 2 s have passed; per connection = growth / clients. Also the
  growth over the second half alone (marginal cost). The clients offer
  permessage-deflate and compress what they send, as browsers do, so the
  server keeps an inflater for each (``--no-deflate``: plain clients).
- grant: first with only the 50 warm-up clients connected, then with all of
  them (every change is a batch to all of them), ``--grants`` times: the speaker (the project's Python client,
  python-socketio, designated speaker of a council member) requests the
  floor; the chair (same client, same process, same clock) sends
  ``grant_floor`` (cycles 150 ms apart: the chair's connection may send 20
  commands/s); latency = the chair's send -> the speaker's client has
  applied the ``floor_granted`` event (the event callback); then the chair
  revokes the grant. p50/p99/max.

``command``: the CPU the server spends per command, apart from any fan-out:
``vcc serve`` on a fresh store with only the chair connected (the project's
Python client), the chair taking up items 1 and 2 in turn, ``--commands``
times at 10 a second; server CPU (every thread's, ``/proc/PID/task/*/schedstat``)
over that time, less its idle CPU over 5 s (quick: 1 s) measured before, per
command; its split into user and system is read from ``/proc/PID/stat``. Each command is a socket.io event in and its ack out, the decision,
one durable append (sqlite, fsync) and one ``events`` batch to the chair. It
is the fixed cost of a change, on top of the deliveries that bench_fanout.py
measures. The server's CPU is also split by thread (``schedstat``): the event
loop's (socket.io, the core, the views, the fan-out) and the others' (the
store's writer: sqlite and its fsync). Then, for comparison, the same commands
through ``Runtime.execute`` in this process on the same store (no socket.io,
no views, no fan-out): back to back, every cache warm (``runtime_only``), and
at 10 a second, each command alone as in the served run (``runtime_paced``). And the
floors, measured the same way in each repeat (``FLOORS``): the bare aiohttp
baseline answering the same ``command`` packets from a stock python-socketio
client with an ack (``bare``), and the same after committing each packet to a
SQLite file with an fsync on a writer thread (``bare_durable``): what any
Python server pays on this machine for a command that arrives alone, and for
one that must be on disk before its answer. Median of
``--repeat`` runs (3; quick 1). ``--compare-source DIR`` runs the same
measurement against the server of another source tree in turn with this one
(before/after side by side, e.g. ``git archive main | tar -x -C DIR``) and
reports the ratio.

``idle``: the server's CPU a second while ``--clients`` connections (lean
clients that answer pings) stay idle and nothing is broadcast, over
``IDLE_SECONDS`` once its first ping round has passed (``IDLE_SETTLE``): the
heartbeat, and whatever else runs on its own. The service (with the chair
connected, as in ``bench_fanout``), the ``--compare-source`` tree's and the
bare aiohttp baseline (one ping round every 25 s, engine.io's default, where
the service pings every 10 s) in turn, ``--repeat`` times; medians, and the
median of each repeat's ratio. Over those 25 s the bare baseline pings once.

``load``: a store (embedded, sqlite) holding one consultation of ``--events``
events written the service's way (the demo consultation; delegates request
the floor and withdraw, the chair takes up items in turn; events appended in
chunks of 100, each chunk applied by a ``Runtime`` that saves a snapshot
every 2,000 events), then ``Runtime.load`` timed on a freshly opened store,
best and median of 5.

Results: ``bench/results/service.json`` and its plot ``service.png``
(``--quick``: ``bench/results/tmp/``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from vcc_testkit.ports import free_port

from bench import _vcc
from bench._common import (
    RESULTS_DIR,
    SCRATCH_DIR,
    BarPanel,
    BroadcastRequest,
    Panel,
    cpu_user_system,
    fmt,
    percentile,
    pin_self,
    plot_panels,
    raise_nofile,
    run_metadata,
    sigterm_as_exit,
    spawned,
    tail,
    thread_cpu_seconds,
    write_json,
)
from bench.bench_fanout import TARGETS, Target, compared_target, connected, wait_ready
from bench.loadgen.client import ClientConfig
from bench.loadgen.run import LoadGen

SPEAKER = "argentina-delegate-1"
PAUSE = 0.15
WARMUP = 50
#: ``idle``: seconds measured, and waited before (past the service's first ping round).
IDLE_SECONDS = 25.0
IDLE_SETTLE = 12.0


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _connect(url: str, secret: bytes, participant: str) -> Any:
    from vcc.client import ConsultationClient

    client = ConsultationClient(url, _vcc.token(secret, participant), reconnection=False)
    await client.connect(timeout=30)
    return client


async def grant_latency(url: str, secret: bytes, grants: int) -> dict[str, Any]:
    chair = await _connect(url, secret, _vcc.CHAIR)
    speaker = await _connect(url, secret, SPEAKER)
    loop = asyncio.get_running_loop()
    waiting: asyncio.Future[float] | None = None

    def on_events(events: list[Any]) -> None:
        if waiting is not None and not waiting.done() and any(type(e).__name__ == "FloorGranted" for e in events):
            waiting.set_result(time.time())

    speaker.on_events(on_events)
    latencies: list[float] = []
    refused: list[Any] = []
    try:
        for _ in range(grants):
            answer = await speaker.send("request_floor")
            if not answer["ok"]:
                refused.append(answer)
                continue
            waiting = loop.create_future()
            sent = time.time()
            answer = await chair.send("grant_floor")
            if not answer["ok"]:
                refused.append(answer)
                continue
            arrived = await asyncio.wait_for(waiting, 10)
            latencies.append((arrived - sent) * 1e3)
            for _ in range(5):  # the grant must go, or every later request is refused
                answer = await chair.send("revoke_grant")
                if answer["ok"] or answer["error"]["code"] != "rate_limited":
                    break
                await asyncio.sleep(1.0)
            if not answer["ok"]:
                refused.append(answer)
            # The chair sends 2 commands a cycle: stay under the per-connection
            # limit of 20 commands/s (socket_api.RATE_PER_SECOND).
            await asyncio.sleep(PAUSE)
    finally:
        await chair.close()
        await speaker.close()
    lat = sorted(latencies)
    return {
        "grants": len(lat),
        "refused": len(refused),
        "refusals": refused[:3],
        "ms": {"p50": percentile(lat, 50), "p90": percentile(lat, 90), "p99": percentile(lat, 99), "max": percentile(lat, 100)},
    }


#: The floors measured beside the service in the ``command`` part: the bare
#: aiohttp baseline answering the same packets with an ack, without and with a
#: durable commit of each (``bench/baselines/bare_aiohttp.py``).
FLOORS: dict[str, list[str]] = {"bare": [], "bare_durable": ["--durable"]}


def command_cpu(args: argparse.Namespace) -> dict[str, Any]:
    """The ``command`` part: ``--repeat`` runs of ``_served_command_cpu``, and of the
    same from ``--compare-source`` and of each of ``FLOORS``, interleaved with
    them (so that a shared machine's noise hits all alike); medians, and ratios."""
    runs: dict[str, list[dict[str, Any]]] = {"this": [], **{name: [] for name in FLOORS}}
    sources: dict[str, Path | None] = {"this": None}
    if args.compare_source is not None:
        runs["compared"] = []
        sources["compared"] = args.compare_source
    for _ in range(args.repeat):
        for name, source in sources.items():
            runs[name].append(_served_command_cpu(args, source))
        for name, flags in FLOORS.items():
            runs[name].append(_floor_command_cpu(args, flags))
    out: dict[str, Any] = {
        "commands": args.commands,
        "repeats": args.repeat,
        **{
            key: statistics.median(run[key] for run in runs["this"])
            for key in ("cpu_ms_per_command", "user_ms", "system_ms", "idle_cpu_ms_per_s", "event_loop_thread_ms", "other_threads_ms")
        },
        "runs": runs["this"],
        "runtime_only": runs["this"][-1]["runtime_only"],
        "runtime_paced": runs["this"][-1]["runtime_paced"],
    }
    for name in FLOORS:
        floor = statistics.median(run["cpu_ms_per_command"] for run in runs[name])
        out[name] = {
            "cpu_ms_per_command": floor,
            "event_loop_thread_ms": statistics.median(run["event_loop_thread_ms"] for run in runs[name]),
            "other_threads_ms": statistics.median(run["other_threads_ms"] for run in runs[name]),
            "runs": runs[name],
            # The ratio of each repeat's pair, then their median: the pair shared the machine's state.
            "ratio_this_to_floor": statistics.median(
                this["cpu_ms_per_command"] / run["cpu_ms_per_command"] for this, run in zip(runs["this"], runs[name], strict=True)
            ),
        }
    if "compared" in runs:
        compared = statistics.median(run["cpu_ms_per_command"] for run in runs["compared"])
        out["compared"] = {
            "source": str(args.compare_source),
            "cpu_ms_per_command": compared,
            "runs": runs["compared"],
            "ratio_this_to_compared": out["cpu_ms_per_command"] / compared,
        }
    return out


def _served_command_cpu(args: argparse.Namespace, source: Path | None) -> dict[str, Any]:
    store, secret = _vcc.prepare_store("service-command", root=args.store_root)
    items = _vcc.agenda_items(store)[:2]
    port = free_port()
    log = SCRATCH_DIR / "service-command.log"
    with spawned(_vcc.serve_argv(store, port), cwd=Path(_REPO), log_path=log, cpus={args.server_cpu}, env=_vcc.source_env(source)) as proc:
        wait_ready(TARGETS["vcc"], port, proc, log)
        out = _server_cpu_per_command(args, proc, log, _vcc.ChairThread(port, secret, items))
    out["runtime_only"] = asyncio.run(_runtime_cpu(store, items, args.commands))
    out["runtime_paced"] = asyncio.run(_runtime_cpu(store, items, args.commands, gap=0.1))
    return out


def _floor_command_cpu(args: argparse.Namespace, flags: list[str]) -> dict[str, Any]:
    port = free_port()
    log = SCRATCH_DIR / "service-command-floor.log"
    argv = [sys.executable, "-m", "bench.baselines.bare_aiohttp", "--port", str(port)]
    stores = args.store_root or SCRATCH_DIR / "stores"  # beside the service's store, on the same disk
    stores.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="floor-", dir=stores) as journal:
        argv += [flag if flag != "--durable" else f"--durable={journal}" for flag in flags]
        with spawned(argv, cwd=Path(_REPO), log_path=log, cpus={args.server_cpu}) as proc:
            wait_ready(TARGETS["bare"], port, proc, log)
            return _server_cpu_per_command(args, proc, log, FloorChair(port, b"", ["1", "2"]))


def _server_cpu_per_command(args: argparse.Namespace, proc: subprocess.Popen[bytes], log: Path, chair: _vcc.ChairThread) -> dict[str, Any]:
    """The server's CPU per command while ``chair`` sends ``--commands`` of them
    at 10 a second, less its idle CPU, after 20 commands of warm-up. The total
    and its split by thread come from ``schedstat`` (nanoseconds), the split
    into user and system from ``/proc/PID/stat`` (clock ticks)."""
    try:
        chair.connect()
        chair.trigger(BroadcastRequest(count=20, rate=10, size=0), 60)  # warm-up
        ticks0, threads0 = cpu_user_system(proc.pid), thread_cpu_seconds(proc.pid)
        time.sleep(args.idle)
        ticks1, threads1 = cpu_user_system(proc.pid), thread_cpu_seconds(proc.pid)
        started = time.perf_counter()
        answer = chair.trigger(BroadcastRequest(count=args.commands, rate=10, size=0), 60 + args.commands)
        seconds = time.perf_counter() - started
        ticks2, threads2 = cpu_user_system(proc.pid), thread_cpu_seconds(proc.pid)
    finally:
        chair.close()
    if proc.poll() is not None:
        raise RuntimeError(f"the server died:\n{tail(log)}")
    if answer["refused"]:
        raise RuntimeError(f"the chair's commands were refused: {answer['errors']}")

    def per_command(before: float, idle_before: float, after: float) -> float:
        """Milliseconds per command over the commands, less the idle rate measured before them."""
        idle_rate = (before - idle_before) / args.idle
        return ((after - before) - idle_rate * seconds) / args.commands * 1e3

    def loop_thread(threads: dict[int, float]) -> float:
        return threads.get(proc.pid, 0.0)

    def other_threads(threads: dict[int, float]) -> float:
        return sum(threads.values()) - loop_thread(threads)

    return {
        "commands": args.commands,
        "idle_cpu_ms_per_s": (sum(threads1.values()) - sum(threads0.values())) / args.idle * 1e3,
        "cpu_ms_per_command": per_command(sum(threads1.values()), sum(threads0.values()), sum(threads2.values())),
        # The event loop's thread: socket.io, the core, the views, the fan-out. The
        # others: the store's writer (sqlite and its fsync).
        "event_loop_thread_ms": per_command(loop_thread(threads1), loop_thread(threads0), loop_thread(threads2)),
        "other_threads_ms": per_command(other_threads(threads1), other_threads(threads0), other_threads(threads2)),
        "user_ms": per_command(ticks1[0], ticks0[0], ticks2[0]),
        "system_ms": per_command(ticks1[1], ticks0[1], ticks2[1]),
    }


class FloorChair(_vcc.ChairThread):
    """The chair's commands, the same packets, to a bare baseline: a stock
    python-socketio client (msgpack) that sends ``command`` and awaits the ack."""

    async def _connect(self) -> None:
        import socketio

        self.client = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        self.ids = itertools.count(1)
        await self.client.connect(self.url, transports=["websocket"], wait_timeout=30)

    async def _timed(self, item: str) -> dict[str, Any]:
        message = {"type": "take_up_item", "id": f"floor-{next(self.ids)}", "item": item}
        answer: dict[str, Any] = await self.client.call("command", message, timeout=30)
        return answer

    def close(self) -> None:
        if self.client is not None:
            self.run(self.client.disconnect(), 10)
            self.client = None
        super().close()


async def _runtime_cpu(path: Path, items: list[int], commands: int, gap: float = 0.0) -> dict[str, float]:
    """The same commands through ``Runtime.execute`` in this process, on the
    same store: the service without socket.io, for comparison; ``gap`` seconds
    apart (0: back to back, every cache warm; 0.1: at the served run's pace, each
    command alone, as the served figure is)."""
    from vcc.service import Service
    from vcc.store import open_store
    from vcc_protocol import commands as c

    store = open_store(str(path))
    await store.open()
    service = Service(store)
    try:
        runtime = await service.runtime(_vcc.CONSULTATION)
        idle_user = idle_system = 0.0
        if gap:  # this process's CPU while it waits (threads the served run left behind), to subtract
            before, idle_started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            await asyncio.sleep(2.0)
            after, idle_s = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - idle_started
            idle_user, idle_system = (after.ru_utime - before.ru_utime) / idle_s, (after.ru_stime - before.ru_stime) / idle_s
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for n in range(commands):
            answer = await runtime.execute(c.TakeUpItem(id=c.new_id(), item=items[n % 2]), _vcc.CHAIR)
            if not answer["ok"]:
                raise RuntimeError(f"the chair's command was refused in-process: {answer}")
            if gap:
                await asyncio.sleep(gap)
        after, seconds = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    finally:
        await service.close()
        await store.close()
    user = (after.ru_utime - before.ru_utime - idle_user * seconds) / commands
    system = (after.ru_stime - before.ru_stime - idle_system * seconds) / commands
    return {"cpu_ms_per_command": (user + system) * 1e3, "user_ms": user * 1e3, "system_ms": system * 1e3}


def idle_cpu(args: argparse.Namespace) -> dict[str, Any]:
    """The ``idle`` part (see the module docstring)."""
    targets: dict[str, Target] = {"this": TARGETS["vcc"], "bare": TARGETS["bare"]}
    if args.compare_source is not None:
        targets["compared"] = compared_target(args.compare_source)
    runs: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(args.repeat):
        for name, target in targets.items():
            runs[name].append(_idle_cpu_once(args, target))
    out: dict[str, Any] = {"clients": args.clients, "seconds": args.idle_seconds}
    for name, values in runs.items():
        out[name] = {"cpu_ms_per_s": statistics.median(values), "runs": values}
        if name != "this":
            # A short quick run may see no CPU at all from the bare baseline.
            ratios = [this / it if it > 0 else math.nan for this, it in zip(runs["this"], values, strict=True)]
            out[name]["ratio_this_to_it"] = statistics.median(ratios)
    return out


def _idle_cpu_once(args: argparse.Namespace, target: Target) -> float:
    """Milliseconds of server CPU a second (every thread's, schedstat) with ``--clients`` idle connections."""
    log = SCRATCH_DIR / f"service-idle-{target.name}.log"
    with connected(target, args.clients, log, server_cpu=args.server_cpu, loadgen_cpus=args.loadgen_cpus) as c:
        time.sleep(args.idle_settle)
        before = sum(thread_cpu_seconds(c.pid).values())
        time.sleep(args.idle_seconds)
        after = sum(thread_cpu_seconds(c.pid).values())
    return (after - before) / args.idle_seconds * 1e3


def memory_and_grant(args: argparse.Namespace) -> dict[str, Any]:
    store, secret = _vcc.prepare_store("service", root=args.store_root)
    port = free_port()
    log = SCRATCH_DIR / "service.log"
    out: dict[str, Any] = {"clients": args.clients}
    with spawned(_vcc.serve_argv(store, port), cwd=Path(_REPO), log_path=log, cpus={args.server_cpu}) as proc:
        wait_ready(TARGETS["vcc"], port, proc, log)
        cfg = ClientConfig(
            port=port, auth={"token": _vcc.token(secret, "brazil-delegate-1")}, extract_ts="bench._vcc:batch_ts", deflate=args.deflate
        )
        with LoadGen(cfg, workers=1, cpus=set(args.loadgen_cpus)) as lg:
            report = lg.connect(WARMUP)
            if report.failed:
                raise RuntimeError(f"warm-up: {report.failed} failed: {report.errors}")
            time.sleep(2.0)
            out["rss_before_kib"] = before = rss_kib(proc.pid)
            if "grant" in args.parts:
                out["grant_few"] = asyncio.run(grant_latency(f"http://127.0.0.1:{port}", secret, args.grants))
                out["grant_few"]["connected_clients"] = WARMUP
                time.sleep(1.0)
                out["rss_before_kib"] = before = rss_kib(proc.pid)
            half = args.clients // 2
            report = lg.connect(half)
            time.sleep(2.0)
            out["rss_half_kib"] = mid = rss_kib(proc.pid)
            report2 = lg.connect(args.clients - half)
            if report.failed or report2.failed:
                raise RuntimeError(f"{report.failed + report2.failed} connections failed: {report.errors + report2.errors}")
            time.sleep(2.0)
            out["rss_after_kib"] = after = rss_kib(proc.pid)
            out["kib_per_connection"] = (after - before) / args.clients
            out["kib_per_connection_second_half"] = (after - mid) / (args.clients - half)
            if "grant" in args.parts:
                out["grant"] = asyncio.run(grant_latency(f"http://127.0.0.1:{port}", secret, args.grants))
                out["grant"]["connected_clients"] = WARMUP + args.clients
                lg.reset()
        if proc.poll() is not None:
            raise RuntimeError(f"vcc serve died:\n{tail(log)}")
    return out


async def _write_log(path: Path, events: int) -> dict[str, Any]:
    import msgspec
    from vcc.core import ConsultationState, Rejected, apply, decide
    from vcc.service import Runtime
    from vcc.store import open_store
    from vcc_protocol import commands as c
    from vcc_protocol.events import encode_event

    store = open_store(str(path))
    await store.open()
    runtime = await Runtime.load(store, _vcc.CONSULTATION)
    state = runtime.state
    delegates = [p.id for p in state.participants.values() if p.role == "delegate" and p.delegation]
    seen: set[str] = set()
    delegates = [d for d in delegates if not (state.participants[d].delegation in seen or seen.add(state.participants[d].delegation))]
    items = list(state.agenda)[:2]
    scratch = msgspec.msgpack.decode(msgspec.msgpack.encode(state), type=ConsultationState)
    started = time.perf_counter()
    turn = 0

    def script() -> Any:
        nonlocal turn
        while True:
            for d in delegates:
                yield c.RequestFloor(id=c.new_id()), d
            for d in delegates:
                yield c.WithdrawFloorRequest(id=c.new_id()), d
            turn += 1
            yield c.TakeUpItem(id=c.new_id(), item=items[turn % 2]), _vcc.CHAIR

    commands = script()
    while runtime.seq < events:
        chunk = []
        while len(chunk) < 100 and runtime.seq + len(chunk) < events:
            command, actor = next(commands)
            try:
                produced = decide(scratch, command, actor, runtime.clock())
            except Rejected:
                continue
            for ev in produced:
                apply(scratch, ev)
                chunk.append(ev)
        expected = runtime.seq
        await store.append(_vcc.CONSULTATION, expected, [encode_event(e) for e in chunk])
        runtime._ingest(expected + 1, chunk)
    await runtime.close()  # waits for the snapshots being saved
    snap = await store.load_snapshot(_vcc.CONSULTATION)
    await store.close()
    return {"events": runtime.seq, "write_s": time.perf_counter() - started, "latest_snapshot_seq": snap[0] if snap else None}


async def _time_load(path: Path) -> tuple[float, int]:
    from vcc.service import Runtime
    from vcc.store import open_store

    store = open_store(str(path))
    await store.open()
    started = time.perf_counter()
    runtime = await Runtime.load(store, _vcc.CONSULTATION)
    took = time.perf_counter() - started
    seq = runtime.seq
    await runtime.close()
    await store.close()
    return took, seq


def load_figure(args: argparse.Namespace) -> dict[str, Any]:
    path, _ = _vcc.prepare_store("load")
    out = asyncio.run(_write_log(path, args.events))
    times = []
    for _ in range(5):
        took, seq = asyncio.run(_time_load(path))
        assert seq == out["events"], (seq, out["events"])
        times.append(took * 1e3)
    out.update({"load_ms_best": min(times), "load_ms_median": statistics.median(times), "load_ms": times})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--parts", default="memory,grant,command,idle,load")
    p.add_argument("--clients", type=int, default=None, help="idle connections, memory and idle parts (default 2000; quick 50)")
    p.add_argument("--grants", type=int, default=None, help="default 200 (quick 10)")
    p.add_argument("--commands", type=int, default=None, help="default 300 (quick 20)")
    p.add_argument("--repeat", type=int, default=None, help="runs of the command and idle parts, median reported (default 3; quick 1)")
    p.add_argument(
        "--compare-source",
        type=Path,
        default=None,
        help="command and idle parts: also measure the server of this source tree (e.g. an export of the main branch: "
        "git archive main | tar -x -C DIR), interleaved with this one, and report the ratio",
    )
    p.add_argument("--events", type=int, default=None, help="default 100000 (quick 5000)")
    p.add_argument(
        "--deflate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="memory: the idle clients offer permessage-deflate and compress what they send, as browsers do "
        "(default; --no-deflate: they do not)",
    )
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--loadgen-cpus", type=lambda t: [int(x) for x in t.split(",")], default=[1])
    p.add_argument(
        "--store-root",
        type=Path,
        default=None,
        help="folder of the memory/grant store (default bench/results/tmp/stores, the repository's "
        "disk); /dev/shm separates the disk's fsync latency from the rest",
    )
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    args.parts = set(args.parts.split(","))
    args.clients = args.clients or (50 if args.quick else 2000)
    args.grants = args.grants or (10 if args.quick else 200)
    args.commands = args.commands or (20 if args.quick else 300)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.idle = 1.0 if args.quick else 5.0
    args.idle_seconds = 2.0 if args.quick else IDLE_SECONDS
    args.idle_settle = 1.0 if args.quick else IDLE_SETTLE
    args.events = args.events or (5_000 if args.quick else 100_000)
    out_path = args.out or (SCRATCH_DIR / "service-quick.json" if args.quick else RESULTS_DIR / "service.json")
    pin_self(set(args.loadgen_cpus))
    raise_nofile(2 * args.clients + 1024)
    result: dict[str, Any] = {
        "benchmark": "service",
        "meta": run_metadata(["aiohttp", "python-socketio", "msgpack"]),
        "settings": {**vars(args), "parts": sorted(args.parts), "out": str(out_path)},
    }
    with sigterm_as_exit():
        if args.parts & {"memory", "grant"}:
            m = result["memory_grant"] = memory_and_grant(args)
            print(
                f"idle memory: RSS {m['rss_before_kib']} -> {m['rss_after_kib']} KiB with {m['clients']} more clients: "
                f"{fmt(m['kib_per_connection'])} KiB/connection (second half alone {fmt(m['kib_per_connection_second_half'])})"
            )
            for key in ("grant_few", "grant"):
                if key not in m:
                    continue
                g = m[key]
                print(
                    f"grant -> speaker's screen ({g['grants']} grants, {g['connected_clients']} other clients connected): "
                    f"p50 {fmt(g['ms']['p50'])} ms, p90 {fmt(g['ms']['p90'])}, p99 {fmt(g['ms']['p99'])}, max {fmt(g['ms']['max'])}; refused {g['refused']}"
                )
        if "command" in args.parts:
            cm = result["command"] = command_cpu(args)
            rt = cm["runtime_only"]
            print(
                f"command: {fmt(cm['cpu_ms_per_command'], 2)} ms of server CPU per command (user {fmt(cm['user_ms'], 2)}, "
                f"system {fmt(cm['system_ms'], 2)}; only the chair connected, {cm['commands']} commands; "
                f"idle {fmt(cm['idle_cpu_ms_per_s'], 2)} ms/s; event loop's thread {fmt(cm['event_loop_thread_ms'], 2)}, "
                f"other threads {fmt(cm['other_threads_ms'], 2)}); Runtime.execute alone, in-process: "
                f"{fmt(rt['cpu_ms_per_command'], 2)} ms (user {fmt(rt['user_ms'], 2)}, system {fmt(rt['system_ms'], 2)}) back to back, "
                f"{fmt(cm['runtime_paced']['cpu_ms_per_command'], 2)} ms at 10 a second; "
                f"median of {cm['repeats']}: " + ", ".join(fmt(run["cpu_ms_per_command"], 2) for run in cm["runs"])
            )
            print(
                "command, the floors at the same pace (bare aiohttp answering the same packets): "
                + "; ".join(
                    f"{name} {fmt(cm[name]['cpu_ms_per_command'], 2)} ms (runs "
                    + ", ".join(fmt(run["cpu_ms_per_command"], 2) for run in cm[name]["runs"])
                    + f"), the service / it {fmt(cm[name]['ratio_this_to_floor'], 2)}x"
                    for name in FLOORS
                )
            )
            if "compared" in cm:
                cp = cm["compared"]
                print(
                    f"command, side by side: {cp['source']}: {fmt(cp['cpu_ms_per_command'], 2)} ms (runs "
                    + ", ".join(fmt(run["cpu_ms_per_command"], 2) for run in cp["runs"])
                    + f"); this tree / that: {fmt(cp['ratio_this_to_compared'], 2)}x"
                )
        if "idle" in args.parts:
            idle = result["idle"] = idle_cpu(args)
            print(
                f"idle, {idle['clients']} connections: the service {fmt(idle['this']['cpu_ms_per_s'], 2)} ms of CPU a second (runs "
                + ", ".join(fmt(run, 2) for run in idle["this"]["runs"])
                + "); "
                + "; ".join(
                    f"{name} {fmt(idle[name]['cpu_ms_per_s'], 2)} ms (runs "
                    + ", ".join(fmt(run, 2) for run in idle[name]["runs"])
                    + f"), the service / it {fmt(idle[name]['ratio_this_to_it'], 2)}x"
                    for name in ("bare", "compared")
                    if name in idle
                )
            )
        if "load" in args.parts:
            ld = result["load"] = load_figure(args)
            print(
                f"load: {ld['events']} events (latest snapshot at {ld['latest_snapshot_seq']}): Runtime.load "
                f"best {fmt(ld['load_ms_best'])} ms, median {fmt(ld['load_ms_median'])} ms (written in {fmt(ld['write_s'])} s)"
            )
    write_json(out_path, result)
    print(f"wrote {out_path}", file=sys.stderr)
    panels = figures(result)
    png = out_path.with_suffix(".png")
    if panels and plot_panels(png, panels, xlabel="", suptitle=f"service; {result['meta']['utc']}", out=sys.stderr):
        print(f"wrote {png}", file=sys.stderr)
    return 0


def figures(result: dict[str, Any]) -> list[Panel | BarPanel]:
    """One panel per part measured."""
    panels: list[Panel | BarPanel] = []
    m = result.get("memory_grant", {})
    grants = {key: m[key] for key in ("grant_few", "grant") if key in m}
    if grants:
        grant = Panel("Chair grant -> speaker's screen", "ms", xlabel="percentile of the grants")
        for g in grants.values():
            grant.series[f"{g['connected_clients']:,} other clients"] = [
                (50, g["ms"]["p50"]),
                (90, g["ms"]["p90"]),
                (99, g["ms"]["p99"]),
                (100, g["ms"]["max"]),
            ]
        panels.append(grant)
    if "kib_per_connection" in m:
        panels.append(
            BarPanel(
                f"Idle memory per connection ({m['clients']:,} connections)",
                "KiB",
                {"all": m["kib_per_connection"], "second half": m["kib_per_connection_second_half"]},
            )
        )
    if "command" in result:
        cm = result["command"]
        rt = cm["runtime_only"]
        panels.append(
            BarPanel(
                "CPU per command",
                "ms",
                {
                    "served, 10/s": cm["cpu_ms_per_command"],
                    "Runtime alone, 10/s": cm["runtime_paced"]["cpu_ms_per_command"],
                    "Runtime alone, back to back": rt["cpu_ms_per_command"],
                    **{f"{name}, 10/s": cm[name]["cpu_ms_per_command"] for name in FLOORS if name in cm},
                },
            )
        )
    if "load" in result:
        ld = result["load"]
        panels.append(
            BarPanel(f"Runtime.load, {ld['events']:,} events", "ms", {"best": ld["load_ms_best"], "median": ld["load_ms_median"]})
        )
    return panels


if __name__ == "__main__":
    sys.exit(main())
