"""Burst benchmark: every delegation asks for the floor within one second.

    python bench/bench_burst.py                # 1,000 delegations, 3 repeats of each window
    python bench/bench_burst.py --quick        # 50 delegations, 1 repeat: seconds

Per repeat and window: a fresh store with one consultation whose roster has
``--council`` council members, ``--observer-states`` observer states, the
observer and 3 sector members in each of the 3 sectors (1,000 delegations by
default: 48 + 942 + 1 + 9 = 1,000, see ``sizes``), one designated-speaker
delegate each, the sitting open and the first item taken up. ``vcc serve``
runs pinned to CPU 0; the load generator (``bench.loadgen``, ``--workers``
processes on CPU 1) connects every delegate with their own join token, then
each sends one ``request_floor`` command (socket.io EVENT with an ack) at a
time drawn uniformly (seeded) within the window. Two windows by default
(``--windows``): the whole second, hands raised over it; and 0, every hand
at once, sent as fast as the generator can (some 20 ms for 1,000), the
harder case for the server, which must absorb them all together. The
generator keeps what it receives undecoded until the burst is over
(``defer_decoding``): its CPU goes to sending on time, not to decoding every
batch for 1,000 connections, which on two cores would make a server that
sends more per batch look slower. Its sockets have 1 MiB receive buffers
(``RCVBUF``), so that a client the generator has not read yet does not
hold the server's frames back. Its clients offer permessage-deflate, as
browsers do, and the server then sends a large batch compressed
(``--deflate off``: they do not; ``on,off``: both in turn).

Measured:
- ``acked``: how many requests were answered ``ok`` (and the errors);
- ``all acked``, the headline: first send -> last ack (target: under 1 s).
  Spread over the whole second, the sends alone take about 1 s, so the
  server's own part there is ``last ack after the last send``. ``ack
  p50/p99``: send -> ack per request, which hides a server that falls
  behind as long as each request waits little;
- ``screens``: last request sent -> every delegate's connection has received
  the ``events`` batch holding the highest acknowledged seq (kernel arrival
  time, same clock; target <= 250 ms); also counted from the last ack;
- ``queue``: the final queue from ``GET /api/consultations/{id}/snapshot``
  (admin token) checked against the priority rule: one request per
  delegation, every acknowledged delegation present, ranks non-decreasing
  (council 1, observer states and the observer 2, sector 3), first come first
  served (ack seq order) within a rank.

``--compare-source DIR`` runs each repeat a second time against the server of
another source tree (before/after side by side, e.g. ``git archive main | tar
-x -C DIR``); its points are marked ``"source": "compared"``.

``--profile`` samples the server with py-spy during each burst and reports
where its event loop's time went (``bench/_profile.py``; ``pip install
py-spy`` first).

Results: ``bench/results/burst.json`` and ``burst.png``, each request's ack
latency and each screen's time by percentile (``--quick``: ``bench/results/tmp/``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time
import urllib.request
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from vcc_testkit.ports import free_port

from bench import _profile, _vcc
from bench._common import (
    RESULTS_DIR,
    SCRATCH_DIR,
    Panel,
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
from bench.bench_fanout import TARGETS, wait_ready
from bench.loadgen.client import ClientConfig
from bench.loadgen.run import LoadGen

#: Each generator socket's receive buffer: what a burst at once sends each screen (some
#: 150 KB) fits, so the screens' times are the server's, not the generator's reading
#: (``ClientConfig.rcvbuf``).
RCVBUF = 1 << 20

RANK = {"council_member": 1, "observer_state": 2, "observer": 2, "sector_member": 3}


def sizes(total: int) -> dict[str, int]:
    """Council 48 (the real council's size), the observer, 3 per sector, the rest observer states."""
    council = min(48, max(1, total // 10))
    return {"council": council, "observer_states": total - council - 1 - 9}


def fetch_snapshot(port: int, secret: bytes) -> dict[str, Any]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/consultations/{_vcc.CONSULTATION}/snapshot",
        headers={"Authorization": f"Bearer {_vcc.admin_token(secret)}"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def server_counts(port: int) -> dict[str, float]:
    """From the server's ``/metrics``: its durable appends, broadcasts (how
    much the burst was grouped) and garbage-collector pauses, since it started."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as resp:
        text = resp.read().decode()
    wanted = {
        "vcc_appends_total": "appends",
        "vcc_fanout_seconds_count": "broadcasts",
        "vcc_fanout_seconds_sum": "broadcast_cpu_s",
        'vcc_gc_pause_seconds_count{generation="2"}': "gc_full",
        'vcc_gc_pause_seconds_sum{generation="2"}': "gc_full_s",
    }
    counts = {"gc_full": 0.0, "gc_full_s": 0.0, "gc_s": 0.0, "gc_over_50ms": 0.0}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name in wanted:
            counts[wanted[name]] = float(value)
        if name.startswith("vcc_gc_pause_seconds_sum"):
            counts["gc_s"] += float(value)
        if name.startswith("vcc_gc_pause_seconds_count"):
            counts["gc_over_50ms"] += float(value)
        if name.startswith("vcc_gc_pause_seconds_bucket") and 'le="0.05"' in name:
            counts["gc_over_50ms"] -= float(value)
    return counts


def check_queue(state: dict[str, Any], classes: dict[str, str], seq_of: dict[str, int]) -> dict[str, Any]:
    """The final queue against the priority rule; ``seq_of``: delegation -> ack seq."""
    queue = state["queues"].get(str(state["current_item"]), [])
    delegations = [r["delegation"] for r in queue]
    ranks = [RANK[classes[d]] for d in delegations]
    problems = []
    if len(set(delegations)) != len(delegations):
        problems.append("a delegation is in the queue twice")
    missing = set(seq_of) - set(delegations)
    if missing:
        problems.append(f"{len(missing)} acknowledged requests missing from the queue")
    extra = set(delegations) - set(seq_of)
    if extra:
        problems.append(f"{len(extra)} unacknowledged requests in the queue")
    if any(a > b for a, b in pairwise(ranks)):
        problems.append("ranks out of order")
    for rank in set(ranks):
        seqs = [seq_of[d] for d, r in zip(delegations, ranks, strict=True) if r == rank and d in seq_of]
        if seqs != sorted(seqs):
            problems.append(f"rank {rank} not first come first served (ack seq order)")
        stamps = [q["requested_at"] for q, r in zip(queue, ranks, strict=True) if r == rank]
        if stamps != sorted(stamps):
            problems.append(f"rank {rank} not first come first served (requested_at order)")
    return {
        "length": len(queue),
        "in_order": not problems,
        "problems": problems,
        "by_rank": {r: ranks.count(r) for r in sorted(set(ranks))},
    }


def label(window: float, deflate: bool) -> str:
    """A kind of burst: its window, and "plain" when the clients do not offer deflate."""
    return f"{window:g} s" + ("" if deflate else ", plain")


def run_once(n: int, repeat: int, window: float, deflate: bool, args: argparse.Namespace, source: Path | None = None) -> dict[str, Any]:
    size = sizes(n)
    roster = _vcc.burst_roster(council=size["council"], observer_states=size["observer_states"])
    delegates = _vcc.delegate_ids(roster)
    classes_by_participant = dict(delegates)
    store, secret = _vcc.prepare_store(f"burst-{n}", roster, root=args.store_root)
    port = free_port()
    log = SCRATCH_DIR / f"burst-{n}-w{window:g}{'' if deflate else '-plain'}-r{repeat}.log"
    point: dict[str, Any] = {
        "delegations": len(delegates),
        "repeat": repeat,
        "window_s": window,
        "deflate": deflate,
        "log": str(log),
        "store": str(store),
        "source": "this" if source is None else "compared",
        **size,
    }
    auths = [{"token": _vcc.token(secret, p)} for p, _ in delegates]
    cfg = ClientConfig(
        port=port,
        auths=auths,
        track_batches=True,
        extract_ts="bench._vcc:batch_ts",
        defer_decoding=True,
        rcvbuf=args.rcvbuf or None,
        deflate=deflate,
    )
    argv = _vcc.serve_argv(store, port, args.without)
    point["without"] = args.without
    # profiling: py-spy, if asked, from the connections to the acks; waited for also on a failure.
    with (
        spawned(argv, cwd=Path(_REPO), log_path=log, cpus={args.server_cpu}, env=_vcc.source_env(source)) as proc,
        ExitStack() as profiling,
    ):
        wait_ready(TARGETS["vcc"], port, proc, log)
        with LoadGen(cfg, workers=args.workers, cpus=set(args.loadgen_cpus)) as lg:
            report = lg.connect(len(delegates))
            point["connect_s"] = report.seconds
            if report.failed:
                raise RuntimeError(f"{report.failed} connections failed: {report.errors}")
            if args.profile:
                raw = SCRATCH_DIR / f"burst-{n}-w{window:g}{'' if deflate else '-plain'}-r{repeat}-{point['source']}.pyspy"
                # The wait before the burst (idle, so not sampled), the burst, and a second after it.
                profiling.enter_context(_profile.sampling(proc.pid, 1.5 + window + 1.0, raw))
            time.sleep(1.0)
            rng = random.Random(42 + repeat)
            start = time.time() + 0.5
            shares = [len(delegates) // args.workers + (i < len(delegates) % args.workers) for i in range(args.workers)]
            plans: list[list[tuple[int, float, str, Any]]] = []
            first = 0
            for share in shares:
                plans.append(
                    [
                        (i, start + rng.random() * window, "command", {"type": "request_floor", "id": f"burst-{i}"})
                        for i in range(first, first + share)
                    ]
                )
                first += share
            lg.worker_requests([("emit_at", plan) for plan in plans])
            # Ask for the acks only once the requests are out: each poll costs
            # the workers CPU they need to send on time.
            time.sleep(max(0.0, start + window - time.time()))
            deadline = start + window + args.wait
            while True:
                time.sleep(0.1)
                acks = [row for reply in lg.worker_requests([("acks",)] * args.workers) for row in reply[1]]
                if all(a[2] is not None for a in acks) or time.time() > deadline:
                    break
            profiling.close()
            if args.profile:
                point["profile"] = _profile.where(raw)
            answered = [a for a in acks if a[2] is not None]
            ok = [a for a in answered if isinstance(a[3], dict) and a[3].get("ok")]
            errors: dict[str, int] = {}
            for a in answered:
                if a not in ok:
                    code = (a[3] or {}).get("error", {}).get("code", "?") if isinstance(a[3], dict) else "?"
                    errors[code] = errors.get(code, 0) + 1
            sends = [a[1] for a in acks if a[1] is not None]
            ack_lat = sorted((a[2] - a[1]) * 1e3 for a in answered)
            last_seq = max(a[3]["seq"] for a in ok) if ok else 0
            last_send = max(sends)
            last_ack = max(a[2] for a in answered) if answered else math.nan
            while True:
                seen = [row for reply in lg.worker_requests([("seen", last_seq)] * args.workers) for row in reply[1]]
                if all(s[1] is not None for s in seen) or time.time() > deadline + 5:
                    break
                time.sleep(0.1)
            reached = [s[1] for s in seen if s[1] is not None]
            state = fetch_snapshot(port, secret)["state"]
            point["server"] = server_counts(port)
        if proc.poll() is not None:
            raise RuntimeError(f"vcc serve died:\n{tail(log)}")
    delegation_of = {}
    for participant, _cls in delegates:
        delegation_of[participant] = participant.removesuffix("-delegate")
    classes = {delegation_of[p]: cls for p, cls in classes_by_participant.items()}
    seq_of = {delegation_of[delegates[a[0]][0]]: a[3]["seq"] for a in ok}
    queue = check_queue(state, classes, seq_of)
    point.update(
        {
            "sent": len(sends),
            "acked_ok": len(ok),
            "unanswered": len(acks) - len(answered),
            "errors": errors,
            "burst_s": max(sends) - min(sends),
            "all_acked_ms": (last_ack - min(sends)) * 1e3,
            "last_ack_after_last_send_ms": (last_ack - last_send) * 1e3,
            "ack_max_under_1s": bool(ack_lat) and ack_lat[-1] < 1000,
            "ack_ms": {"p50": percentile(ack_lat, 50), "p99": percentile(ack_lat, 99), "max": percentile(ack_lat, 100)},
            "ack_ms_by_percentile": [percentile(ack_lat, q) for q in range(101)],
            "last_seq": last_seq,
            "screens_reached": len(reached),
            "screens_open": sum(1 for s in seen if s[3]),
            "all_screens_after_last_send_ms": (max(reached) - last_send) * 1e3 if len(reached) == len(seen) else math.nan,
            "screens_after_last_send_ms_by_percentile": [percentile(sorted((t - last_send) * 1e3 for t in reached), q) for q in range(101)],
            "all_screens_after_last_ack_ms": (max(reached) - last_ack) * 1e3 if len(reached) == len(seen) else math.nan,
            "queue": queue,
        }
    )
    return point


def window_medians(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians over the repeats of one window, and whether every repeat acknowledged all and kept the queue in order."""
    keys = ("burst_s", "all_acked_ms", "last_ack_after_last_send_ms", "all_screens_after_last_send_ms", "all_screens_after_last_ack_ms")
    med: dict[str, Any] = {k: median([pt[k] for pt in points]) for k in keys}
    med["ack_p99_ms"] = median([pt["ack_ms"]["p99"] for pt in points])
    med["ack_max_ms"] = median([pt["ack_ms"]["max"] for pt in points])
    med["repeats"] = len(points)
    med["all_acked"] = bool(points) and all(pt["acked_ok"] == pt["delegations"] for pt in points)
    med["in_order"] = bool(points) and all(pt["queue"]["in_order"] for pt in points)
    return med


def headline(kind: str, med: dict[str, Any]) -> str:
    """First send -> last ack against the 1 s target. When the requests are
    spread over a whole second, the sends alone take about that long: the
    server's own part is then how long the last ack comes after the last send."""
    if not med["repeats"]:
        return f"within {kind}: no repeat succeeded"
    met = "met" if med["all_acked_ms"] < 1000 else "NOT met"
    return (
        f"within {kind} (sent in {fmt(med['burst_s'], 3)} s): first send -> last ack {fmt(med['all_acked_ms'])} ms "
        f"(target: under 1,000 ms: {met}), the last ack {fmt(med['last_ack_after_last_send_ms'])} ms after the last send, "
        f"median of {med['repeats']}; every request acknowledged: {'yes' if med['all_acked'] else 'NO'}; "
        f"queue in order: {'yes' if med['in_order'] else 'NO'}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--delegations", type=int, default=None, help="default 1000 (quick: 50)")
    p.add_argument(
        "--windows",
        type=lambda t: [float(x) for x in t.split(",")],
        default=[1.0, 0.0],
        help="seconds over which the requests are spread, one burst each (comma-separated; 0: all at once; default 1,0)",
    )
    p.add_argument("--repeat", type=int, default=None, help="default 3 (quick: 1)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--deflate",
        type=lambda t: [{"on": True, "off": False}[x] for x in t.split(",")],
        default=[True],
        help="whether the generator's clients offer permessage-deflate, as browsers do: on (default), off, or on,off for both in turn",
    )
    p.add_argument(
        "--rcvbuf",
        type=int,
        default=RCVBUF,
        help=f"receive buffer of each generator socket, bytes (default {RCVBUF}; 0: the kernel's default)",
    )
    p.add_argument("--wait", type=float, default=60.0, help="max seconds to wait for the acks after the burst")
    p.add_argument(
        "--without",
        type=lambda t: [x for x in t.split(",") if x],
        default=[],
        help="ablation, not the service: take these optimisations out (comma-separated: "
        "publish-pause, gc-policy; bench/_ablation_serve.py)",
    )
    p.add_argument(
        "--store-root",
        type=Path,
        default=None,
        help="folder for the store (default bench/results/tmp/stores, on the repository's disk); "
        "/dev/shm shows what the service does when fsync costs nothing",
    )
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--loadgen-cpus", type=lambda t: [int(x) for x in t.split(",")], default=[1])
    p.add_argument(
        "--compare-source",
        type=Path,
        default=None,
        help="also run every repeat against the server of this source tree (before/after side by side)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy during each burst and report where its event loop's time went "
        "(pip install py-spy; bench/_profile.py)",
    )
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.profile:
        _profile.py_spy()
    n = args.delegations or (50 if args.quick else 1000)
    repeats = args.repeat or (1 if args.quick else 3)
    out = args.out or (SCRATCH_DIR / "burst-quick.json" if args.quick else RESULTS_DIR / "burst.json")
    pin_self(set(args.loadgen_cpus))
    raise_nofile(2 * n + 1024)
    points = []
    sources: dict[str, Path | None] = {"this": None}
    if args.compare_source is not None:
        sources["compared"] = args.compare_source.resolve()
    with sigterm_as_exit():
        for r, window, deflate, (name, source) in itertools.product(range(repeats), args.windows, args.deflate, sources.items()):
            print(f"[{r + 1}/{repeats}] {name}: {n} delegations within {label(window, deflate)} ...", end="", file=sys.stderr, flush=True)
            try:
                point = run_once(n, r, window, deflate, args, source)
            except Exception as exc:  # noqa: BLE001 - reported, the next repeat runs
                point = {"repeat": r, "window_s": window, "deflate": deflate, "source": name, "error": f"{type(exc).__name__}: {exc}"}
                print(f" FAILED: {point['error']}", file=sys.stderr)
            else:
                print(
                    f" all acked {fmt(point['all_acked_ms'])} ms, screens +{fmt(point['all_screens_after_last_send_ms'])} ms,"
                    f" queue {'ok' if point['queue']['in_order'] else point['queue']['problems']}",
                    file=sys.stderr,
                )
            points.append(point)
    every = [pt for pt in points if "error" not in pt]
    good = [pt for pt in every if pt["source"] == "this"]
    headers = [
        "source",
        "within",
        "repeat",
        "N",
        "burst s",
        "acked ok",
        "errors",
        "all acked ms",
        "ack p50",
        "ack p99",
        "ack max",
        "appends",
        "broadcasts",
        "gc > 50 ms",
        "screens +ms (last send)",
        "(last ack)",
        "reached",
        "queue",
    ]
    body = [
        [
            pt["source"],
            label(pt["window_s"], pt["deflate"]),
            str(pt["repeat"]),
            str(pt["delegations"]),
            fmt(pt["burst_s"], 2),
            str(pt["acked_ok"]),
            json.dumps(pt["errors"]) if pt["errors"] else "0",
            fmt(pt["all_acked_ms"]),
            fmt(pt["ack_ms"]["p50"]),
            fmt(pt["ack_ms"]["p99"]),
            fmt(pt["ack_ms"]["max"]),
            fmt(pt["server"].get("appends"), 0),
            fmt(pt["server"].get("broadcasts"), 0),
            fmt(pt["server"]["gc_over_50ms"], 0),
            fmt(pt["all_screens_after_last_send_ms"]),
            fmt(pt["all_screens_after_last_ack_ms"]),
            f"{pt['screens_reached']}/{pt['delegations']}",
            "in order" if pt["queue"]["in_order"] else "; ".join(pt["queue"]["problems"]),
        ]
        for pt in every
    ]
    meta = run_metadata(["aiohttp", "python-socketio", "python-engineio", "msgpack"])
    print(f"\nburst: {n} delegations request the floor; {meta['cpu_model']}, {meta['utc']}, load average {meta['load_average']}")
    print(format_table(headers, body))
    kinds = [label(window, deflate) for window, deflate in itertools.product(args.windows, args.deflate)]
    medians = {kind: window_medians([pt for pt in good if label(pt["window_s"], pt["deflate"]) == kind]) for kind in kinds}
    for kind, med in medians.items():
        print(headline(kind, med))
    profiled = [pt for pt in every if "profile" in pt]
    if profiled:
        parts = sorted({part for pt in profiled for part in pt["profile"]}, key=lambda part: -profiled[0]["profile"].get(part, 0))
        print(f"\nwhere the server's time went, py-spy samples at {_profile.RATE} Hz (bench/_profile.py):")
        columns = [f"{pt['source']} {label(pt['window_s'], pt['deflate'])} {pt['repeat']}" for pt in profiled]
        print(format_table(["part", *columns], [[part, *(str(pt["profile"].get(part, 0)) for pt in profiled)] for part in parts]))
    if args.compare_source is not None:
        for kind in kinds:
            compared = [pt for pt in every if pt["source"] == "compared" and label(pt["window_s"], pt["deflate"]) == kind]
            if compared:
                med = medians[kind]["compared"] = {
                    "source": str(args.compare_source),
                    "all_acked_ms": median([pt["all_acked_ms"] for pt in compared]),
                    "ack_p99_ms": median([pt["ack_ms"]["p99"] for pt in compared]),
                }
                print(
                    f"side by side within {kind}, {args.compare_source}: first send -> last ack {fmt(med['all_acked_ms'])} ms, "
                    f"ack p99 {fmt(med['ack_p99_ms'])} ms (median of {len(compared)})"
                )
    write_json(out, {"benchmark": "burst", "meta": meta, "settings": {**vars(args), "out": str(out)}, "medians": medians, "points": points})
    print(f"wrote {out}", file=sys.stderr)
    acks = Panel("Send -> ack, every request", "ms", xlabel="percentile of the requests")
    for pt in good:
        acks.series[f"within {label(pt['window_s'], pt['deflate'])}, repeat {pt['repeat'] + 1}"] = list(
            enumerate(pt["ack_ms_by_percentile"])
        )
    screens = Panel("Last send -> each screen has the last batch", "ms", xlabel="percentile of the screens")
    for pt in good:
        screens.series[f"within {label(pt['window_s'], pt['deflate'])}, repeat {pt['repeat'] + 1}"] = list(
            enumerate(pt["screens_after_last_send_ms_by_percentile"])
        )
    title = f"burst: {n} delegations" + (f", without {', '.join(args.without)}" if args.without else "")
    if plot_panels(out.with_suffix(".png"), [acks, screens], xlabel="", suptitle=f"{title}; {meta['utc']}", out=sys.stderr):
        print(f"wrote {out.with_suffix('.png')}", file=sys.stderr)
    return 0 if good and len(every) == len(points) else 1


if __name__ == "__main__":
    sys.exit(main())
