"""Two nodes through Redis: cross-node delivery latency, and CPU per delivery per node.

    python bench/bench_cluster.py                  # N = 1000, 100 changes at 10/s, 2 repeats
    python bench/bench_cluster.py --quick          # N = 20, 10 changes: seconds

A private ``redis-server`` (``vcc_testkit.redis_server.RedisServer``,
AOF everysec) holds the store (demo consultation, first item taken up). Per
repeat, two configurations, each on a freshly flushed Redis:

- ``one``: one ``vcc serve --redis`` on CPU 0, all N lean clients
  (``bench.loadgen``, CPU 1) on it, the chair on it;
- ``two``: node A on CPU 0 and node B on CPU 1, N/2 clients on each (the
  load generator for A's clients on CPU 1, for B's on CPU 0: each shares a
  core with the *other* node), the chair on node A, so that B's clients get
  every change through Redis (A appends, B's store subscription reads it).

The chair takes up items 1 and 2 in turn at ``--rate``. Latency = kernel
arrival - the event's ``at`` (the deciding node's wall clock, ms
resolution; ``ts`` would not do: each node stamps its own send time).

What this can and cannot say on a 2-core machine: the latencies of A's and
B's clients side by side are the cross-node cost (B - A), and CPU per
delivery per node says whether a node's work per delivery grows when it
follows the log through Redis. The throughput target (two nodes deliver
>= 1.8x one) needs each node and the load generators on cores of their own,
i.e. at least 4 cores: it is *not measured* here. ``projected_scaling`` =
2 x (one node's us/delivery) / (the busier node's us/delivery in ``two``) is
what two nodes would deliver relative to one if each had a core: a
projection from measured CPU costs, labelled as such.

Results: ``bench/results/cluster.json`` and its plot ``cluster.png``
(``--quick``: ``bench/results/tmp/``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from vcc_testkit.ports import free_port
from vcc_testkit.redis_server import RedisServer

from bench import _vcc
from bench._common import (
    RESULTS_DIR,
    SCRATCH_DIR,
    BarPanel,
    BroadcastRequest,
    CpuMeter,
    Panel,
    fmt,
    format_table,
    median,
    pin_self,
    plot_panels,
    raise_nofile,
    run_metadata,
    sigterm_as_exit,
    spawned,
    tail,
    write_json,
)
from bench.bench_fanout import TARGETS, wait_ready
from bench.loadgen.client import ClientConfig
from bench.loadgen.run import LoadGen, summarize

DELEGATE = "argentina-delegate-1"


def flush(redis: RedisServer) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", redis.port), timeout=5) as s:
        s.sendall(b"FLUSHALL\r\n")
        assert s.recv(64).startswith(b"+OK")


def serve_argv(url: str, port: int) -> list[str]:
    return [sys.executable, "-m", "vcc.cli", "serve", "--redis", url, "--port", str(port), "--no-media"]


def run_config(mode: str, redis: RedisServer, n: int, repeat: int, args: argparse.Namespace) -> dict[str, Any]:
    flush(redis)
    secret = _vcc.prepare_redis(redis.url)
    items = _vcc.agenda_items(redis.url)[:2]
    nodes = ["A"] if mode == "one" else ["A", "B"]
    ports = {name: free_port() for name in nodes}
    cpus = {"A": 0, "B": 1}
    shares = {"A": n} if mode == "one" else {"A": n // 2, "B": n - n // 2}
    lg_cpus = {"A": 1, "B": 0}
    out: dict[str, Any] = {"mode": mode, "clients": n, "repeat": repeat, "nodes": {}}
    auth = {"token": _vcc.token(secret, DELEGATE)}
    import contextlib

    with contextlib.ExitStack() as stack:
        procs = {}
        for name in nodes:
            log = SCRATCH_DIR / f"cluster-{mode}-{name}-r{repeat}.log"
            procs[name] = stack.enter_context(spawned(serve_argv(redis.url, ports[name]), cwd=Path(_REPO), log_path=log, cpus={cpus[name]}))
            wait_ready(TARGETS["vcc"], ports[name], procs[name], log)
        chair = _vcc.ChairThread(ports["A"], secret, items)
        stack.callback(chair.close)
        chair.connect()
        lgs = {}
        for name in nodes:
            cfg = ClientConfig(port=ports[name], auth=auth, extract_ts="bench._vcc:event_at")
            lgs[name] = stack.enter_context(LoadGen(cfg, workers=1, cpus={lg_cpus[name]}))
            report = lgs[name].connect(shares[name])
            if report.failed:
                raise RuntimeError(f"node {name}: {report.failed} connections failed: {report.errors}")
        time.sleep(1.0)
        for lg in lgs.values():
            lg.reset()
        meter = CpuMeter({**{f"node-{k}": p.pid for k, p in procs.items()}, "redis": redis.pid})
        meter.start()
        reply = chair.trigger(BroadcastRequest(args.messages, args.rate, 200), args.messages / args.rate + 60)
        for name, lg in lgs.items():
            lg.wait_for(shares[name] * args.messages, timeout=30)
        meter.stop()
        out["trigger"] = reply
        out["redis_cpu_s"] = meter.used["redis"]
        for name, lg in lgs.items():
            summary = summarize(lg.collect(), shares[name])
            cpu = meter.used[f"node-{name}"]
            out["nodes"][name] = {
                "clients": shares[name],
                "delivered": summary["samples"],
                "lost": shares[name] * args.messages - summary["samples"],
                "cpu_s": cpu,
                "us_per_delivery": cpu / summary["samples"] * 1e6 if summary["samples"] else float("nan"),
                "latency_ms": summary["latency_ms"],
                "reach_all_ms": summary["reach_all_ms"],
                "loadgen_lag_ms": summary["loadgen_lag_ms"],
            }
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"node {name} died:\n{tail(SCRATCH_DIR / f'cluster-{mode}-{name}-r{repeat}.log')}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--clients", type=int, default=None, help="N in total (default 1000; quick 20)")
    p.add_argument("--messages", type=int, default=None, help="changes (default 100; quick 10)")
    p.add_argument("--rate", type=float, default=10.0)
    p.add_argument("--repeat", type=int, default=None, help="default 2 (quick 1)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    n = args.clients or (20 if args.quick else 1000)
    args.messages = args.messages or (10 if args.quick else 100)
    repeats = args.repeat or (1 if args.quick else 2)
    out_path = args.out or (SCRATCH_DIR / "cluster-quick.json" if args.quick else RESULTS_DIR / "cluster.json")
    raise_nofile(2 * n + 1024)
    pin_self({1})
    directory = SCRATCH_DIR / "cluster-redis"
    shutil.rmtree(directory, ignore_errors=True)
    redis = RedisServer(directory, appendonly=True, appendfsync="everysec")
    redis.start()
    runs = []
    try:
        with sigterm_as_exit():
            for r in range(repeats):
                for mode in ("one", "two"):
                    print(f"[{r + 1}/{repeats}] {mode} node(s), N={n} ...", end="", file=sys.stderr, flush=True)
                    try:
                        run = run_config(mode, redis, n, r, args)
                    except Exception as exc:  # noqa: BLE001 - reported; the run goes on
                        run = {"mode": mode, "repeat": r, "error": f"{type(exc).__name__}: {exc}"}
                        print(f" FAILED: {run['error']}", file=sys.stderr)
                    else:
                        print(
                            " "
                            + ", ".join(
                                f"{k}: p99 {fmt(v['latency_ms']['p99'])} ms, {fmt(v['us_per_delivery'])} us/dlv"
                                for k, v in run["nodes"].items()
                            ),
                            file=sys.stderr,
                        )
                    runs.append(run)
    finally:
        redis.stop()
    good = [r for r in runs if "error" not in r]
    rows = []
    summary: dict[str, Any] = {}
    for mode, node in (("one", "A"), ("two", "A"), ("two", "B")):
        sel = [r["nodes"][node] for r in good if r["mode"] == mode and node in r["nodes"]]
        if not sel:
            continue
        row = {k: median([s[k] for s in sel]) for k in ("us_per_delivery",)}
        for q in ("p50", "p99", "max"):
            row[q] = median([s["latency_ms"][q] for s in sel])
        row["reach_p99"] = median([s["reach_all_ms"]["p99"] for s in sel])
        row["lost"] = sum(s["lost"] for s in sel)
        summary[f"{mode}-{node}"] = row
        rows.append(
            [
                mode,
                node,
                "chair's node" if node == "A" else "via Redis",
                str(sel[0]["clients"]),
                fmt(row["us_per_delivery"]),
                fmt(row["p50"]),
                fmt(row["p99"]),
                fmt(row["max"]),
                fmt(row["reach_p99"]),
                str(row["lost"]),
            ]
        )
    if "one-A" in summary and "two-A" in summary and "two-B" in summary:
        busier = max(summary["two-A"]["us_per_delivery"], summary["two-B"]["us_per_delivery"])
        summary["projected_scaling"] = 2 * summary["one-A"]["us_per_delivery"] / busier
        summary["cross_node_extra_p50_ms"] = summary["two-B"]["p50"] - summary["two-A"]["p50"]
    meta = run_metadata(["aiohttp", "python-socketio", "redis", "msgpack"])
    print(f"\ncluster: {args.messages} changes at {args.rate:g}/s, N={n}; {meta['cpu_model']}, {meta['utc']}")
    print(format_table(["config", "node", "clients' node", "N", "us/dlv", "p50 ms", "p99 ms", "max ms", "reach p99", "lost"], rows))
    if "projected_scaling" in summary:
        print(
            f"cross-node extra latency (p50, B - A): {fmt(summary['cross_node_extra_p50_ms'])} ms; "
            f"projected two-node scaling (not measured, needs 4+ cores): {fmt(summary['projected_scaling'], 2)}x"
        )
    write_json(
        out_path, {"benchmark": "cluster", "meta": meta, "settings": {**vars(args), "out": str(out_path)}, "summary": summary, "runs": runs}
    )
    print(f"wrote {out_path}", file=sys.stderr)
    latency = Panel("Delivery latency (medians of repeats)", "ms", xlabel="percentile", logy=True)
    cpu = BarPanel("Server CPU per delivered message", "us")
    for key in ("one-A", "two-A", "two-B"):
        if key in summary:
            row = summary[key]
            label = {"one-A": "one node", "two-A": "two: A (chair's)", "two-B": "two: B (via Redis)"}[key]
            latency.series[label] = [(50, row["p50"]), (99, row["p99"]), (100, row["max"])]
            cpu.bars[label] = row["us_per_delivery"]
    png = out_path.with_suffix(".png")
    if plot_panels(png, [latency, cpu], xlabel="", suptitle=f"cluster: N={n}; {meta['utc']}", out=sys.stderr):
        print(f"wrote {png}", file=sys.stderr)
    return 0 if good and len(good) == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
