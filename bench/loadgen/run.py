"""The load generator: K worker processes holding N socket.io clients between them.

Used as a library by the benchmarks (``LoadGen``, ``summarize``) and from the
command line against a server that is already running::

    python -m bench.loadgen.run --port 8080 --clients 2000 --cpus 1 \\
        --auth '{"token": "..."}' --trigger 'count=100&rate=10&size=230'

(run from the repository root). Without ``--trigger`` it listens for
``--duration`` seconds while something else makes the server broadcast.
It prints latency percentiles, its own lag behind arrivals and, per worker
process, the CPU it used (from /proc), so that a reader can tell whether the
generator limited the result: it did if a worker was near 100 % of its core
or its lag approached the interval between broadcasts (see ``client``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import sys
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bench._common import CpuMeter, fmt, http_json, percentile, raise_nofile
from bench.loadgen.client import ClientConfig, worker_main


class LoadGenError(RuntimeError):
    """A worker died, refused a request or did not answer in time."""


@dataclass
class ConnectReport:
    ok: int
    failed: int
    errors: list[str]
    seconds: float


@dataclass
class Collected:
    """Everything the workers received since the last reset, merged."""

    latencies: list[float]  # arrival - send, seconds, sorted
    lags: list[float]  # read - arrival: how far behind the generator was, sorted
    by_ts: dict[float, list[float]]  # send time -> [clients reached, slowest latency]
    frames: int
    errors: int
    open: int
    kernel_timestamps: bool
    event_loop: str
    #: send time -> every arrival (``ClientConfig.keep_arrivals``; else empty)
    arrivals: dict[float, array] = field(default_factory=dict)


class LoadGen:
    """Start with ``with LoadGen(cfg, workers=2, cpus={1}) as lg:``; every
    worker is stopped when the block exits, however it exits.

    Workers are ``spawn``-ed, not forked: the caller may already run an
    event loop or hold sockets, which a fork would duplicate.
    """

    def __init__(self, cfg: ClientConfig, workers: int = 1, cpus: set[int] | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.cfg = cfg
        self.workers = workers
        self.cpus = cpus
        self._procs: list[BaseProcess] = []
        self._pipes: list[Connection] = []
        self.connected = 0

    def __enter__(self) -> LoadGen:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        for _ in range(self.workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child, self.cfg, self.cpus), daemon=True)
            proc.start()
            child.close()
            self._procs.append(proc)
            self._pipes.append(parent)

    def _ask(self, requests: list[tuple[Any, ...]], timeout: float) -> list[tuple[Any, ...]]:
        """Send one request per worker, wait for every reply (bounded by ``timeout``)."""
        for pipe, request in zip(self._pipes, requests, strict=True):
            pipe.send(request)
        deadline = time.monotonic() + timeout
        replies = []
        for pipe, proc in zip(self._pipes, self._procs, strict=True):
            while not pipe.poll(min(0.2, max(0.0, deadline - time.monotonic()))):
                if not proc.is_alive():
                    raise LoadGenError(f"load generator worker {proc.pid} died (exit {proc.exitcode})")
                if time.monotonic() >= deadline:
                    raise LoadGenError(f"worker {proc.pid} did not answer {requests[0][0]!r} in {timeout:.0f} s")
            replies.append(pipe.recv())
        return replies

    def _ask_all(self, request: tuple[Any, ...], timeout: float = 30.0) -> list[tuple[Any, ...]]:
        return self._ask([request] * self.workers, timeout)

    def connect(self, clients: int) -> ConnectReport:
        """Open ``clients`` connections, spread evenly over the workers."""
        shares = [clients // self.workers + (i < clients % self.workers) for i in range(self.workers)]
        # Every handshake has its own timeout; this bounds the whole batch,
        # generously (a loaded server on one core takes 1-3 ms a handshake).
        timeout = self.cfg.connect_timeout + 0.05 * max(shares) + 30
        firsts = [self.connected + sum(shares[:i]) for i in range(self.workers)]
        replies = self._ask([("connect", share, first) for share, first in zip(shares, firsts, strict=True)], timeout)
        ok = sum(r[1] for r in replies)
        self.connected += ok
        return ConnectReport(
            ok=ok, failed=sum(r[2] for r in replies), errors=[e for r in replies for e in r[3]], seconds=max(r[4] for r in replies)
        )

    def worker_requests(self, requests: list[tuple[Any, ...]], timeout: float = 60.0) -> list[tuple[Any, ...]]:
        """One request per worker (e.g. ``("emit_at", plan)``, ``("acks",)``); the replies."""
        return self._ask(requests, timeout)

    def reset(self) -> None:
        """Forget everything received so far."""
        self._ask_all(("reset",))

    def progress(self) -> tuple[int, int]:
        """(latency samples received since reset, connections still open)."""
        replies = self._ask_all(("progress",))
        return sum(r[1] for r in replies), sum(r[2] for r in replies)

    def wait_for(self, samples: int, timeout: float, poll: float = 0.05, stall: float | None = None) -> int:
        """Wait until ``samples`` samples have arrived, at most ``timeout`` s,
        and no longer than needed once every connection has closed, or, with
        ``stall``, once nothing more has arrived for that many seconds (a
        server that sends two changes in one message never sends the count).

        :returns: the number of samples received.
        """
        deadline = time.monotonic() + timeout
        last, moved = -1, time.monotonic()
        while True:
            got, still_open = self.progress()
            now = time.monotonic()
            if got != last:
                last, moved = got, now
            if got >= samples or still_open == 0 or now >= deadline or (stall is not None and now - moved >= stall):
                return got
            time.sleep(poll)

    def collect(self) -> Collected:
        replies = [r[1] for r in self._ask_all(("collect",), timeout=60.0)]
        latencies = array("d")
        lags = array("d")
        by_ts: dict[float, list[float]] = {}
        arrivals: dict[float, array] = {}
        for r in replies:
            for ts, data in (r["arrivals"] or {}).items():
                arrivals.setdefault(ts, array("d")).frombytes(data)
            latencies.frombytes(r["latencies"])
            lags.frombytes(r["lags"])
            for ts, (count, slowest) in r["by_ts"].items():
                group = by_ts.setdefault(ts, [0, slowest])
                group[0] += count
                group[1] = max(group[1], slowest)
        return Collected(
            latencies=sorted(latencies),
            lags=sorted(lags),
            by_ts=by_ts,
            frames=sum(r["frames"] for r in replies),
            errors=sum(r["errors"] for r in replies),
            open=sum(r["open"] for r in replies),
            kernel_timestamps=all(r["kernel_timestamps"] for r in replies),
            event_loop=replies[0]["event_loop"] if replies else "",
            arrivals=arrivals,
        )

    def close(self, timeout: float = 5.0) -> None:
        """Close every connection and stop every worker (killing stragglers)."""
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # the worker is already gone
                pipe.send(("close",))
        deadline = time.monotonic() + timeout
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
        for pipe in self._pipes:
            pipe.close()
        self._procs.clear()
        self._pipes.clear()


def summarize(collected: Collected, clients: int) -> dict[str, Any]:
    """Latency percentiles over every sample, per broadcast the time to reach
    all ``clients`` (the slowest client's latency for that send time), and
    the generator's own lag behind arrivals."""
    lat = collected.latencies
    lag = collected.lags
    groups = list(collected.by_ts.values())
    reach = sorted(g[1] for g in groups if g[0] >= clients)
    ms = 1000.0
    return {
        "samples": len(lat),
        "frames": collected.frames,
        "errors": collected.errors,
        "open_connections": collected.open,
        "broadcasts_seen": len(groups),
        "broadcasts_complete": len(reach),
        "duplicates": int(sum(max(0, g[0] - clients) for g in groups)),
        "kernel_timestamps": collected.kernel_timestamps,
        "event_loop": collected.event_loop,
        "latency_ms": {
            "p50": percentile(lat, 50) * ms,
            "p90": percentile(lat, 90) * ms,
            "p99": percentile(lat, 99) * ms,
            "max": percentile(lat, 100) * ms,
        },
        "reach_all_ms": {
            "p50": percentile(reach, 50) * ms,
            "p99": percentile(reach, 99) * ms,
            "max": percentile(reach, 100) * ms,
        },
        "loadgen_lag_ms": {
            "p50": percentile(lag, 50) * ms,
            "p99": percentile(lag, 99) * ms,
            "max": percentile(lag, 100) * ms,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--path", default="/socket.io/")
    parser.add_argument("--namespace", default="/")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cpus", default="", help="comma-separated CPUs to pin the workers to, e.g. 1")
    parser.add_argument("--auth", type=json.loads, default=None, help="CONNECT payload as JSON")
    parser.add_argument("--extract", default=ClientConfig.extract_ts, help="module:function giving send times")
    parser.add_argument("--event-loop", choices=("auto", "asyncio"), default="auto", help="auto: uvloop if installed")
    parser.add_argument("--trigger", default="", help="query for POST /bench/broadcast, e.g. count=100&rate=10&size=230")
    parser.add_argument("--expect", type=int, default=0, help="broadcasts expected (stop early once all arrived)")
    parser.add_argument("--duration", type=float, default=60.0, help="max seconds to wait for events")
    args = parser.parse_args(argv)

    raise_nofile(args.clients + 1024)
    cpus = {int(c) for c in args.cpus.split(",") if c} or None
    cfg = ClientConfig(
        port=args.port,
        host=args.host,
        path=args.path,
        namespace=args.namespace,
        auth=args.auth,
        extract_ts=args.extract,
        event_loop=args.event_loop,
    )
    expect = args.expect
    if args.trigger and not expect:
        expect = int(dict(p.partition("=")[::2] for p in args.trigger.split("&")).get("count", "1"))
    with LoadGen(cfg, workers=args.workers, cpus=cpus) as lg:
        report = lg.connect(args.clients)
        print(f"connected {report.ok}/{args.clients} in {report.seconds:.1f} s", file=sys.stderr)
        for err in report.errors:
            print(f"  connect error: {err}", file=sys.stderr)
        lg.reset()
        meter = CpuMeter({f"worker-{pid}": pid for pid in lg.pids})
        meter.start()
        if args.trigger:
            http_json("POST", f"http://{args.host}:{args.port}/bench/broadcast?{args.trigger}", timeout=args.duration)
        lg.wait_for(report.ok * expect if expect else sys.maxsize, timeout=args.duration)
        meter.stop()
        summary = summarize(lg.collect(), report.ok)
    summary["window_s"] = meter.wall
    summary["loadgen_cpu"] = {name: {"cpu_s": used, "util": used / meter.wall} for name, used in meter.used.items()}
    total = sum(meter.used.values())
    summary["loadgen_us_per_sample"] = total / summary["samples"] * 1e6 if summary["samples"] else None
    print(json.dumps(summary, indent=2))
    for name, use in summary["loadgen_cpu"].items():
        print(f"{name}: {fmt(use['cpu_s'], 3)} s CPU, {use['util']:.0%} of one core", file=sys.stderr)
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
