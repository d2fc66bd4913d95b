"""Fan-out benchmark: what one broadcast costs, delivered to N socket.io clients.

    python bench/bench_fanout.py                 # full: N = 250..2000, 3 repeats
    python bench/bench_fanout.py --quick         # N = 20, 10 messages: seconds
    python bench/bench_fanout.py --targets bare,node --clients 1000,2000

For each repeat, each N and each target (interleaved, so that the noise of
a shared machine hits every target alike) the harness

1. starts the target's server pinned to one CPU (``--server-cpu``, 0) and
   the load generator's workers pinned to another (``--loadgen-cpus``, 1);
2. connects N clients (websocket only, msgpack parser, CONNECT with auth);
   then ``--warmup`` broadcasts (20) that every client receives and that are
   not counted, so that no target's first, slow sends (V8's compilation in
   Node, the first allocations in Python) land in its figures;
3. *rated phase*: asks for ``--messages`` broadcasts at ``--rate`` per second
   of ``--size``-byte payloads and waits until every client has every one
   (or ``--drain`` seconds pass); the server's and the load generator's CPU
   are read from /proc before and after;
4. *solo phase*: ``--solo`` single broadcasts, each sent only once the
   previous one reached everybody, for the time one broadcast takes to reach
   all N on an otherwise idle server.

Reported per point (the table shows medians over repeats):
- ``us/dlv``: server CPU microseconds per delivered message (rated phase);
  ``xbare``/``xdur``/``xnode``: its ratio to bare's / bare-durable's /
  node's measured in the same repeat at the same N (side by side, so slow
  drifts of a shared machine cancel), median over repeats;
- ``p50/p99/max``: delivery latency (kernel arrival - send time) over every
  (client, message) pair of the rated phase; the send time is the server's
  own stamp in the message, which for the service is the batch's ``ts``,
  taken after the command was parsed, decided and made durable;
- ``p50/p99 snd``: for the service, the same latency counted from the
  chair's send of the command instead (the chair's clock is the same
  machine's), so that it pays its command path as the baselines' HTTP
  trigger does not;
- ``reach p99``: per broadcast, the time until the last of the N clients had
  it, 99th percentile over the rated broadcasts; ``solo``: the median of the
  same in the solo phase;
- ``srv %``: server CPU / wall time of the rated phase;
- ``srv wait``: milliseconds per broadcast the server spent runnable but
  waiting for its core, taken by another process (schedstat run delay):
  latencies include up to that much; CPU per delivery does not;
- ``noise %``: CPU time on the server's core / on the load generator's core
  that belonged to neither (other processes, hypervisor steal), as a share
  of the window (clock-tick resolution; harmless when nobody waited).
- ``lg us/dlv``, ``lg %``, ``lg lag p99``: the load generator's CPU per
  delivery, its share of its core, and how long after arriving the bytes
  were read (99th percentile). Latencies use the kernel's arrival time, so
  a slow generator shows as lag, not as latency, until the lag approaches
  the broadcast period (100 ms at 10/s): then reads merge frames, which
  count as arriving with the last one.

Results: ``bench/results/fanout.json`` (every repeat and the medians) and
``bench/results/fanout.png``; ``--quick`` writes to ``bench/results/tmp/``.

Targets are records (``Target``); add one to ``TARGETS`` to measure another
server. "bare-durable" is bare committing each broadcast to a SQLite file
(WAL, ``synchronous=FULL``, on a writer thread) before sending it, as the
service commits each change before telling anyone: the floor under a durable
broadcast, which bare alone is not. The full service is target "vcc" (``_Vcc``): ``vcc serve`` on a
fresh store, an ``auth`` that connects the chair and mints a delegate's join
token once the server is up, a ``trigger`` in which the chair takes up items
1 and 2 in turn at the requested rate, ``bench._vcc:batch_ts`` reading the
``ts`` of its ``events`` batches, and readiness = the port accepts (the
server's own pid is measured; it has no ``/bench/info``).
``--compare-source DIR`` adds the target "vcc-compared": the same, served by
the code of another source tree (before/after side by side in one run, e.g.
``git archive main | tar -x -C DIR``); ``xcmp`` is vcc's CPU per delivery
over it, per repeat, median.

Needs: the project's venv, Node.js 18+ with npm for the node target (its
dependencies are installed from ``baselines/node_socketio/package-lock.json``
on first use), and optionally uvloop (a lighter load generator) and
matplotlib (the plot).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script (python bench/bench_fanout.py): make the repository root
# importable so that `bench.*` resolves here and in the spawned workers.
_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from vcc_testkit.ports import free_port  # noqa: E402

from bench._common import (  # noqa: E402
    BENCH_DIR,
    REPO_DIR,
    RESULTS_DIR,
    SCRATCH_DIR,
    BroadcastRequest,
    CpuMeter,
    Panel,
    fmt,
    format_table,
    http_json,
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
from bench.loadgen.client import ClientConfig  # noqa: E402
from bench.loadgen.run import LoadGen, LoadGenError, summarize  # noqa: E402

NODE_DIR = BENCH_DIR / "baselines" / "node_socketio"

Trigger = Callable[[int, BroadcastRequest, float], Any]
"""``trigger(port, request, timeout)``: make the server broadcast ``request``;
return when it has sent the last message (its reply goes into the JSON)."""


def http_trigger(port: int, request: BroadcastRequest, timeout: float) -> Any:
    """The baselines' control endpoint, ``POST /bench/broadcast``."""
    query = f"count={request.count}&rate={request.rate}&size={request.size}"
    return http_json("POST", f"http://127.0.0.1:{port}/bench/broadcast?{query}", timeout)


@dataclass(frozen=True)
class Target:
    """A server to measure, and how to drive it.

    :param argv: command line that starts the server on the given port
        (127.0.0.1 only).
    :param setup: run once before the first start (install dependencies).
    :param trigger: makes the server broadcast (see ``Trigger``).
    :param info_path: GET path answering JSON once the server is ready; its
        ``pid`` (if given) is the process whose CPU is measured, otherwise
        the started process; its ``clients`` (if given) is checked against N.
        ``None``: ready as soon as the port accepts connections.
    :param auth: socket.io CONNECT payload, or a function of the port that
        returns it once the server is up (to mint a join token, say).
    :param extract_ts: ``module:function`` giving the send times in an
        event (see ``bench.loadgen.client.payload_ts``).
    """

    name: str
    description: str
    argv: Callable[[int], list[str]]
    cwd: Path = REPO_DIR
    env: Mapping[str, str] = field(default_factory=dict)
    setup: Callable[[], None] | None = None
    trigger: Trigger = http_trigger
    info_path: str | None = "/bench/info"
    auth: dict[str, Any] | Callable[[int], dict[str, Any]] | None = field(default_factory=lambda: {"token": "bench"})
    namespace: str = "/"
    extract_ts: str = ClientConfig.extract_ts
    #: called with the port once the point is over (the server already stopped)
    teardown: Callable[[int], None] | None = None
    #: called with the port after the rated phase: the time each message's
    #: cause was sent, by the send time in the message (``p50/p99 snd``)
    send_times: Callable[[int], Mapping[float, float]] | None = None


def _python_module(module: str) -> Callable[[int], list[str]]:
    return lambda port: [sys.executable, "-m", module, "--port", str(port)]


def _bare_durable() -> Target:
    """bare, committing each broadcast to its own SQLite journal first (``--durable``)."""

    def journal(port: int) -> Path:
        return SCRATCH_DIR / "stores" / f"bare-durable-{port}"

    return Target(
        "bare-durable",
        "bare, each broadcast committed to SQLite (WAL, synchronous=FULL) on a writer thread before it is sent",
        lambda port: [*_python_module("bench.baselines.bare_aiohttp")(port), "--durable", str(journal(port))],
        teardown=lambda port: shutil.rmtree(journal(port), ignore_errors=True),
    )


def npm_setup() -> None:
    """Install the Node baseline's dependencies if they are missing:
    ``npm ci`` from the committed lock file, ``npm install`` without one."""
    if (NODE_DIR / "node_modules").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: the node target needs Node.js 18+ and npm")
    command = "ci" if (NODE_DIR / "package-lock.json").exists() else "install"
    print(f"node target: npm {command} in {NODE_DIR} ...", file=sys.stderr)
    subprocess.run([npm, command, "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600)


class _Vcc:
    """The full service: ``vcc serve`` on a fresh store per point (demo roster,
    sitting open, first item taken up); every client joins as the same council
    delegate (one token serves many connections, each gets the ``public``
    batches); the trigger is the chair (python-socketio, a thread of the
    harness, connected before the clients) taking up items 1 and 2 in turn at
    the requested rate: one ``item_taken_up`` event, one ``events`` batch of
    about 200 bytes per command. ``without``/``with_``: optimisations taken
    out or put in (bench/_ablation_serve.py), to measure what they buy."""

    DELEGATE = "argentina-delegate-1"

    def __init__(self, without: tuple[str, ...] = (), with_: tuple[str, ...] = (), source: Path | None = None) -> None:
        self.without = without
        self.with_ = with_
        self.source = source
        self.points: dict[int, tuple[bytes, list[int]]] = {}
        self.chairs: dict[int, Any] = {}
        self.stores: dict[int, Path] = {}

    def argv(self, port: int) -> list[str]:
        from bench import _vcc

        path, secret = _vcc.prepare_store(f"fanout-{port}")
        self.points[port] = (secret, _vcc.agenda_items(path)[:2])
        self.stores[port] = path
        return _vcc.serve_argv(path, port, self.without, self.with_)

    def auth(self, port: int) -> dict[str, Any]:
        from bench import _vcc

        secret, items = self.points[port]
        chair = _vcc.ChairThread(port, secret, items)
        self.chairs[port] = chair
        chair.connect()
        return {"token": _vcc.token(secret, self.DELEGATE)}

    def trigger(self, port: int, request: BroadcastRequest, timeout: float) -> Any:
        return self.chairs[port].trigger(request, timeout)

    def send_times(self, port: int) -> Mapping[float, float]:
        return self.chairs[port].send_times()

    def teardown(self, port: int) -> None:
        chair = self.chairs.pop(port, None)
        if chair is not None:
            chair.close()
        self.points.pop(port, None)
        store = self.stores.pop(port, None)
        if store is not None:
            shutil.rmtree(store, ignore_errors=True)


def _vcc_target(name: str, description: str, service: _Vcc) -> Target:
    from bench import _vcc

    return Target(
        name,
        description,
        service.argv,
        trigger=service.trigger,
        info_path=None,
        auth=service.auth,
        extract_ts="bench._vcc:batch_ts",
        teardown=service.teardown,
        env=_vcc.source_env(service.source),
        send_times=service.send_times,
    )


def compared_target(source: Path) -> Target:
    """The target "vcc-compared": the service run from another source tree, for before/after side by side."""
    return _vcc_target("vcc-compared", f"the service run from {source}", _Vcc(source=source.resolve()))


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("bare", "aiohttp websocket, send_bytes loop over every client", _python_module("bench.baselines.bare_aiohttp")),
        _bare_durable(),
        Target("stock", "python-socketio AsyncServer, msgpack, room emit", _python_module("bench.baselines.stock_socketio")),
        Target(
            "node",
            "Node socket.io 4 + socket.io-msgpack-parser, room emit",
            lambda port: ["node", "server.js", "--port", str(port)],
            cwd=NODE_DIR,
            setup=npm_setup,
        ),
        _vcc_target("vcc", "the service: vcc serve, chair take_up_item -> events batch to every delegate", _Vcc()),
        _vcc_target("vcc-defgc", "ablation: the service with CPython's default garbage-collector settings", _Vcc(without=("gc-policy",))),
        _vcc_target(
            "vcc-noviews", "ablation: the service sending batches without the derived views (as before issue 12)", _Vcc(without=("views",))
        ),
        _vcc_target("vcc-uvloop", "candidate: the service on uvloop's event loop (needs pip install uvloop)", _Vcc(with_=("uvloop",))),
        _vcc_target("vcc-ping25", "candidate: the service with a heartbeat every 25 s instead of 10", _Vcc(with_=("ping25",))),
    )
}


class PointError(RuntimeError):
    """One measurement could not be made; the run goes on with the next."""


def wait_ready(target: Target, port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 20.0) -> dict[str, Any]:
    """Poll until the server answers; its info (``{}`` without an info path)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PointError(f"{target.name} exited with {proc.returncode}:\n{tail(log)}")
        try:
            if target.info_path is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return {}
            return http_json("GET", f"http://127.0.0.1:{port}{target.info_path}", timeout=2) or {}
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise PointError(f"{target.name} not ready after {timeout:.0f} s:\n{tail(log)}")


def server_info(target: Target, port: int) -> dict[str, Any]:
    if target.info_path is None:
        return {}
    return http_json("GET", f"http://127.0.0.1:{port}{target.info_path}", timeout=10) or {}


@dataclass(frozen=True)
class Settings:
    messages: int
    rate: float
    size: int
    solo: int
    workers: int
    event_loop: str
    server_cpu: int
    loadgen_cpus: frozenset[int]
    drain: float
    settle: float
    warmup: int


def rated_phase(target: Target, port: int, lg: LoadGen, server_pid: int, clients: int, s: Settings) -> dict[str, Any]:
    request = BroadcastRequest(s.messages, s.rate, s.size)
    server_info(target, port)  # lets the Node baseline re-anchor its sub-ms clock
    lg.reset()
    meter = CpuMeter(
        {"server": server_pid, "harness": os.getpid(), **{f"loadgen-{pid}": pid for pid in lg.pids}}, cores={s.server_cpu, *s.loadgen_cpus}
    )
    meter.start()
    reply = target.trigger(port, request, s.messages / s.rate + 60)
    expected = clients * s.messages
    # The trigger returns once the last message is sent: a few seconds
    # without arrivals then means nothing more is coming (the service may
    # have sent two changes in one batch), not that a slow server is catching
    # up; waiting the whole drain would count idle CPU as the deliveries'.
    lg.wait_for(expected, timeout=s.drain, stall=2.0)
    meter.stop()
    collected = lg.collect()
    summary = summarize(collected, clients)
    if target.send_times is not None:
        sent = target.send_times(port)
        from_send = sorted(arrival - sent[ts] for ts, arrivals in collected.arrivals.items() if ts in sent for arrival in arrivals)
        summary["latency_from_send_ms"] = {
            "samples": len(from_send),
            "p50": percentile(from_send, 50) * 1e3,
            "p99": percentile(from_send, 99) * 1e3,
            "max": percentile(from_send, 100) * 1e3,
        }
    delivered = summary["samples"]
    server_cpu = meter.used.pop("server")
    server_wait = meter.waited.pop("server")
    harness_cpu = meter.used.pop("harness")
    meter.waited.pop("harness")
    loadgen_cpu = sum(meter.used.values())
    loadgen_cores_busy = sum(meter.core_busy[c] for c in s.loadgen_cpus)
    return {
        **summary,
        "deliveries_expected": expected,
        "lost": expected - delivered,
        "window_s": meter.wall,
        "server_cpu_s": server_cpu,
        "server_util": server_cpu / meter.wall,
        # Time the server was runnable but another process had its core:
        # latencies include up to this much of it.
        "server_wait_ms_per_broadcast": server_wait / s.messages * 1e3,
        "loadgen_wait_s": meter.waited,
        # Work on the server's core that was not the server's: other
        # processes, steal. Large values mean a disturbed measurement.
        "server_core_foreign": max(0.0, meter.core_busy[s.server_cpu] - server_cpu) / meter.wall,
        "loadgen_cores_foreign": max(0.0, loadgen_cores_busy - loadgen_cpu - harness_cpu) / meter.wall / len(s.loadgen_cpus),
        "server_us_per_delivery": server_cpu / delivered * 1e6 if delivered else math.nan,
        "loadgen_cpu_s": meter.used,
        "loadgen_util": loadgen_cpu / meter.wall / len(s.loadgen_cpus),
        "loadgen_us_per_delivery": loadgen_cpu / delivered * 1e6 if delivered else math.nan,
        "trigger_reply": reply,
    }


def solo_phase(target: Target, port: int, lg: LoadGen, clients: int, s: Settings) -> list[float]:
    """Reach-all time (ms) of single broadcasts, each sent once the previous
    one has reached everybody."""
    reach: list[float] = []
    for _ in range(s.solo):
        lg.reset()
        target.trigger(port, BroadcastRequest(1, 1.0, s.size), 30.0)
        lg.wait_for(clients, timeout=30.0)
        summary = summarize(lg.collect(), clients)
        reach.append(summary["reach_all_ms"]["max"] if summary["broadcasts_complete"] else math.nan)
        time.sleep(0.1)
    return reach


@dataclass(frozen=True)
class Connected:
    """A target's server, started and ready, with the load generator's clients connected to it."""

    port: int
    proc: subprocess.Popen[bytes]
    #: The process whose CPU is measured (the server's own, from its info, else the started one).
    pid: int
    info: dict[str, Any]
    lg: LoadGen
    connect_s: float


@contextmanager
def connected(
    target: Target,
    clients: int,
    log: Path,
    *,
    server_cpu: int,
    loadgen_cpus: Iterable[int],
    workers: int = 1,
    event_loop: str = "auto",
) -> Iterator[Connected]:
    """Start ``target`` pinned to ``server_cpu``, wait until it answers, connect ``clients``
    lean clients from ``workers`` processes on ``loadgen_cpus``, and yield them; then stop
    both and run the target's teardown. ``PointError`` if a connection fails or the server
    does not count every client, or dies meanwhile."""
    port = free_port()
    try:
        with spawned(target.argv(port), cwd=target.cwd, env=target.env, log_path=log, cpus={server_cpu}) as proc:
            info = wait_ready(target, port, proc, log)
            auth = target.auth(port) if callable(target.auth) else target.auth
            cfg = ClientConfig(
                port=port,
                namespace=target.namespace,
                auth=auth,
                extract_ts=target.extract_ts,
                event_loop=event_loop,
                keep_arrivals=target.send_times is not None,
            )
            with LoadGen(cfg, workers=workers, cpus=set(loadgen_cpus)) as lg:
                report = lg.connect(clients)
                if report.failed:
                    raise PointError(f"{report.failed}/{clients} connections failed: {report.errors}")
                seen = server_info(target, port).get("clients", clients)
                if seen != clients:
                    raise PointError(f"server reports {seen} clients, expected {clients}")
                yield Connected(port, proc, int(info.get("pid", proc.pid)), info, lg, report.seconds)
            if proc.poll() is not None:
                raise PointError(f"{target.name} died during the run:\n{tail(log)}")
    finally:
        if target.teardown is not None:
            target.teardown(port)


def run_point(target: Target, clients: int, repeat: int, s: Settings) -> dict[str, Any]:
    log = SCRATCH_DIR / f"fanout-{target.name}-{clients}-r{repeat}.log"
    point: dict[str, Any] = {"target": target.name, "clients": clients, "repeat": repeat, "log": str(log)}
    with connected(
        target, clients, log, server_cpu=s.server_cpu, loadgen_cpus=s.loadgen_cpus, workers=s.workers, event_loop=s.event_loop
    ) as c:
        point["server"] = c.info.get("impl", target.description)
        point["connect_s"] = c.connect_s
        time.sleep(s.settle)
        if s.warmup:
            target.trigger(c.port, BroadcastRequest(s.warmup, s.rate, s.size), s.warmup / s.rate + 60)
            c.lg.wait_for(clients * s.warmup, timeout=s.drain, stall=2.0)
        point.update(rated_phase(target, c.port, c.lg, c.pid, clients, s))
        point["solo_reach_all_ms"] = solo_phase(target, c.port, c.lg, clients, s)
    return point


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

_METRICS: dict[str, Callable[[dict[str, Any]], float]] = {
    "us_per_delivery": lambda p: p["server_us_per_delivery"],
    "p50_ms": lambda p: p["latency_ms"]["p50"],
    "p99_ms": lambda p: p["latency_ms"]["p99"],
    "max_ms": lambda p: p["latency_ms"]["max"],
    "p50_from_send_ms": lambda p: p.get("latency_from_send_ms", {}).get("p50", math.nan),
    "p99_from_send_ms": lambda p: p.get("latency_from_send_ms", {}).get("p99", math.nan),
    "reach_p50_ms": lambda p: p["reach_all_ms"]["p50"],
    "reach_p99_ms": lambda p: p["reach_all_ms"]["p99"],
    "solo_reach_ms": lambda p: median(p["solo_reach_all_ms"]),
    "server_util": lambda p: p["server_util"],
    "loadgen_us_per_delivery": lambda p: p["loadgen_us_per_delivery"],
    "loadgen_util": lambda p: p["loadgen_util"],
    "loadgen_lag_p99_ms": lambda p: p["loadgen_lag_ms"]["p99"],
    "server_wait_ms": lambda p: p["server_wait_ms_per_broadcast"],
    "server_core_foreign": lambda p: p["server_core_foreign"],
    "loadgen_cores_foreign": lambda p: p["loadgen_cores_foreign"],
    "lost": lambda p: float(p["lost"]),
}


def medians(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (target, N): the median of every metric over the successful repeats."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for p in points:
        groups.setdefault((p["target"], p["clients"]), []).append(p)
    rows = []
    for (target, clients), group in groups.items():
        ok = [p for p in group if "error" not in p]
        row: dict[str, Any] = {"target": target, "clients": clients, "repeats": len(ok), "failed": len(group) - len(ok)}
        for name, get in _METRICS.items():
            row[name] = median([get(p) for p in ok])
        rows.append(row)
    # Ratios pair points of the same repeat and N, measured minutes apart at most.
    by_key = {(p["target"], p["clients"], p["repeat"]): p for p in points if "error" not in p}
    for row in rows:
        for base in ("bare", "bare-durable", "node", "vcc-compared"):
            ratios = [
                p["server_us_per_delivery"] / ref["server_us_per_delivery"]
                for (target, clients, repeat), p in by_key.items()
                if target == row["target"] and clients == row["clients"] and (ref := by_key.get((base, clients, repeat))) is not None
            ]
            row[f"x_{base}"] = median(ratios)
    return rows


def render_table(rows: list[dict[str, Any]], targets: list[str]) -> str:
    order = {name: i for i, name in enumerate(targets)}
    rows = sorted(rows, key=lambda r: (r["clients"], order.get(r["target"], 99)))
    headers = [
        "target",
        "N",
        "us/dlv",
        "xbare",
        "xdur",
        "xnode",
        "xcmp",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p50 snd",
        "p99 snd",
        "reach p99",
        "solo",
        "srv %",
        "srv wait",
        "noise %",
        "lg us/dlv",
        "lg %",
        "lg lag p99",
        "lost",
        "runs",
    ]
    body = [
        [
            r["target"],
            str(r["clients"]),
            fmt(r["us_per_delivery"]),
            fmt(r["x_bare"], 2),
            fmt(r["x_bare-durable"], 2),
            fmt(r["x_node"], 2),
            fmt(r["x_vcc-compared"], 2),
            fmt(r["p50_ms"]),
            fmt(r["p99_ms"]),
            fmt(r["max_ms"]),
            fmt(r["p50_from_send_ms"]),
            fmt(r["p99_from_send_ms"]),
            fmt(r["reach_p99_ms"]),
            fmt(r["solo_reach_ms"]),
            fmt(100 * r["server_util"], 0),
            fmt(r["server_wait_ms"]),
            f"{fmt(100 * r['server_core_foreign'], 0)}/{fmt(100 * r['loadgen_cores_foreign'], 0)}",
            fmt(r["loadgen_us_per_delivery"]),
            fmt(100 * r["loadgen_util"], 0),
            fmt(r["loadgen_lag_p99_ms"]),
            fmt(r["lost"], 0),
            f"{r['repeats']}" + (f" ({r['failed']} failed)" if r["failed"] else ""),
        ]
        for r in rows
    ]
    return format_table(headers, body)


BASELINES = ("bare", "node")


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every other target against each baseline at the same N, from the medians:
    throughput (deliveries per CPU-second, >1 is better) and latency (p99 and
    reach-all p99, <1 is better)."""
    by = {(r["target"], r["clients"]): r for r in rows}
    out = []
    for r in rows:
        if r["target"] in BASELINES:
            continue
        for base in BASELINES:
            b = by.get((base, r["clients"]))
            if b is None:
                continue
            out.append(
                {
                    "target": r["target"],
                    "clients": r["clients"],
                    "vs": base,
                    "throughput": b["us_per_delivery"] / r["us_per_delivery"],
                    "p99": r["p99_ms"] / b["p99_ms"],
                    "reach_p99": r["reach_p99_ms"] / b["reach_p99_ms"],
                }
            )
    return out


def caveats(rows: list[dict[str, Any]], rate: float) -> list[str]:
    """What a reader must know before trusting a row."""
    notes = []
    noisy = [f"{r['target']}@{r['clients']}" for r in rows if r["server_wait_ms"] > 0.1 * r["reach_p50_ms"]]
    if noisy:
        notes.append(
            f"the server waited for its core over 10 % of a broadcast's reach time in "
            f"{', '.join(noisy)}: their latencies are upper bounds (CPU per delivery still holds)"
        )
    lagging = [f"{r['target']}@{r['clients']}" for r in rows if r["loadgen_lag_p99_ms"] > 500 / rate]
    if lagging:
        notes.append(
            f"load generator lag p99 above half the broadcast period in {', '.join(lagging)}: "
            "their latencies may include the generator's delay"
        )
    return notes


def plot(rows: list[dict[str, Any]], path: Path, subtitle: str) -> None:
    panels = [
        Panel("Delivery latency p99", "ms", logy=True),
        Panel("One broadcast reaches all N (p99, rated)", "ms", logy=True),
        Panel("Server CPU per delivered message", "µs", logy=True),
    ]
    for r in rows:
        for panel, key in zip(panels, ("p99_ms", "reach_p99_ms", "us_per_delivery"), strict=True):
            panel.series.setdefault(r["target"], []).append((r["clients"], r[key]))
    if plot_panels(path, panels, xlabel="clients (N)", suptitle=subtitle, out=sys.stderr):
        print(f"wrote {path}", file=sys.stderr)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="N=20, 10 messages, 1 repeat: a smoke test")
    p.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, from {', '.join(TARGETS)}")
    p.add_argument("--clients", type=_int_list, default=None, help="comma-separated N (default 250,500,1000,2000)")
    p.add_argument("--messages", type=int, default=None, help="broadcasts in the rated phase (default 100)")
    p.add_argument("--rate", type=float, default=10.0, help="broadcasts per second (default 10)")
    p.add_argument("--size", type=int, default=230, help="payload bytes, msgpack-encoded (default 230)")
    p.add_argument("--solo", type=int, default=None, help="single broadcasts in the solo phase (default 5)")
    p.add_argument("--repeat", type=int, default=None, help="repeats of every point (default 3)")
    p.add_argument("--workers", type=int, default=1, help="load-generator processes (default 1)")
    p.add_argument(
        "--event-loop", choices=("auto", "asyncio"), default="auto", help="load generator's event loop (auto: uvloop if installed)"
    )
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--loadgen-cpus", type=_int_list, default=[1])
    p.add_argument("--warmup", type=int, default=None, help="uncounted broadcasts before the rated phase (default 20; quick 3)")
    p.add_argument(
        "--compare-source",
        type=Path,
        default=None,
        help="add the target vcc-compared: the service run from this source tree (before/after side by side)",
    )
    p.add_argument("--drain", type=float, default=60.0, help="max seconds to wait for deliveries after the last send")
    p.add_argument("--out", type=Path, default=None, help="results JSON (default bench/results/fanout.json)")
    p.add_argument(
        "--merge", type=Path, default=None, help="an earlier results JSON whose points count as earlier repeats of this run (same settings)"
    )
    args = p.parse_args(argv)
    args.clients = args.clients or ([20] if args.quick else [250, 500, 1000, 2000])
    args.messages = args.messages or (10 if args.quick else 100)
    args.solo = args.solo if args.solo is not None else (2 if args.quick else 5)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.out = args.out or (SCRATCH_DIR / "fanout-quick.json" if args.quick else RESULTS_DIR / "fanout.json")
    args.warmup = args.warmup if args.warmup is not None else (3 if args.quick else 20)
    if args.compare_source is not None:
        TARGETS["vcc-compared"] = compared_target(args.compare_source)
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        p.error(f"unknown targets {unknown}; known: {', '.join(TARGETS)}")
    cpus = os.sched_getaffinity(0)
    if args.server_cpu not in cpus or not set(args.loadgen_cpus) <= cpus or args.server_cpu in args.loadgen_cpus:
        p.error(
            f"need distinct CPUs for the server ({args.server_cpu}) and the load generator "
            f"({args.loadgen_cpus}) among those available {sorted(cpus)}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = Settings(
        messages=args.messages,
        rate=args.rate,
        size=args.size,
        solo=args.solo,
        workers=args.workers,
        event_loop=args.event_loop,
        server_cpu=args.server_cpu,
        loadgen_cpus=frozenset(args.loadgen_cpus),
        drain=args.drain,
        settle=0.5,
        warmup=args.warmup,
    )
    # Everything but the server (this process, the workers) stays off its core.
    pin_self(set(args.loadgen_cpus))
    raise_nofile(2 * max(args.clients) + 1024)
    targets = [TARGETS[name] for name in args.targets]
    for target in targets:
        if target.setup is not None:
            target.setup()

    points: list[dict[str, Any]] = []
    first_repeat = 0
    if args.merge is not None:
        import json

        points = [p for p in json.loads(args.merge.read_text())["points"] if p["target"] in args.targets]
        first_repeat = 1 + max((p["repeat"] for p in points), default=-1)
    with sigterm_as_exit():
        for repeat in range(first_repeat, first_repeat + args.repeat):
            for clients in args.clients:
                for target in targets:
                    label = f"[{repeat + 1}/{first_repeat + args.repeat}] {target.name:>6} N={clients:<5}"
                    print(f"{label} ...", end="", file=sys.stderr, flush=True)
                    try:
                        point = run_point(target, clients, repeat, s)
                    except (PointError, LoadGenError, OSError, urllib.error.URLError, subprocess.SubprocessError) as exc:
                        point = {"target": target.name, "clients": clients, "repeat": repeat, "error": f"{type(exc).__name__}: {exc}"}
                        print(f" FAILED: {point['error']}", file=sys.stderr)
                    else:
                        print(
                            f" {fmt(point['server_us_per_delivery'])} us/dlv, p99 "
                            f"{fmt(point['latency_ms']['p99'])} ms, lost {point['lost']}",
                            file=sys.stderr,
                        )
                    points.append(point)

    rows = medians(points)
    meta = run_metadata(["aiohttp", "python-socketio", "python-engineio", "msgpack"])
    subtitle = (
        f"{args.messages} broadcasts at {args.rate:g}/s, {args.size} B payload, server on CPU "
        f"{args.server_cpu}, {meta['cpu_model']}, {meta['utc']}"
    )
    table = render_table(rows, args.targets)
    print(f"\n{subtitle}\n{table}\n(columns: python bench/bench_fanout.py --help)")
    compared = ratios(rows)
    for q in compared:
        print(
            f"{q['target']} vs {q['vs']} at N={q['clients']}: throughput x{q['throughput']:.2f}, "
            f"latency p99 x{q['p99']:.2f}, reach-all p99 x{q['reach_p99']:.2f}"
        )
    for r in rows:
        if r["target"] == "vcc" and not math.isnan(r["x_vcc-compared"]):
            print(f"vcc vs vcc-compared ({args.compare_source}) at N={r['clients']}: CPU per delivery x{r['x_vcc-compared']:.2f}")
    for note in caveats(rows, args.rate):
        print(f"note: {note}")
    write_json(
        args.out,
        {
            "benchmark": "fanout",
            "meta": meta,
            "settings": {
                **vars(args),
                "out": str(args.out),
                "loadgen_cpus": args.loadgen_cpus,
                "merge": str(args.merge) if args.merge else None,
                "compare_source": str(args.compare_source) if args.compare_source else None,
            },
            "targets": {t.name: t.description for t in targets},
            "medians": rows,
            "ratios": compared,
            "points": points,
        },
    )
    print(f"\nwrote {args.out}", file=sys.stderr)
    plot(rows, args.out.with_suffix(".png"), subtitle)
    return 1 if any("error" in p for p in points) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: every process it started has been stopped", file=sys.stderr)
        sys.exit(130)
