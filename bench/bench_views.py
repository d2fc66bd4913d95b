"""Views micro-benchmark: what the derived views cost each batch of the command path.

    python bench/bench_views.py            # 1,000 delegations ask for the floor, 3 repeats
    python bench/bench_views.py --quick    # 200 delegations, 1 repeat

One process, no I/O. A consultation of ``--delegations`` delegations (the
roster of ``bench_burst``), the sitting open and the first item taken up; each
delegation asks for the floor in turn (``decide`` + ``apply``, untimed) and
after each request the publisher's work is timed, as one batch of one event:

- ``feed``: ``ViewsFeed.update`` given the batch's kinds of events (what the
  publisher calls per batch: it recomputes the views those kinds and the time
  can change, and sends the queue's changed end);
- ``recompute``: every view computed, made wire data and compared with the
  previous set in full (how the feed worked before it compared structs: the
  reference the ratio is taken against).

Also the bytes each sends per batch (msgpack), which every connection receives.

Reported per batch in microseconds (median, p90, p99, over the whole burst,
the queue growing from 0 to ``--delegations`` - 1 entries), the best repeat's
median, and the ratio recompute / feed. Results: printed and written to
``bench/results/views.json`` (``--quick``: ``bench/results/tmp/``).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
for _path in (_REPO, _REPO / "server", _REPO / "protocol"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import msgspec
from vcc.core import apply, decide
from vcc.core.views import ViewsFeed, wire_views
from vcc_protocol import commands as c

from bench._common import RESULTS_DIR, SCRATCH_DIR, fmt, format_table, percentile, run_metadata, write_json
from bench.bench_core import Bench


def roster(delegations: int) -> list[str]:
    """``bench_burst``'s classes: 48 council members, 9 sector members, the observer, the rest observer states."""
    return ["council_member"] * 48 + ["sector_member"] * 9 + ["observer"] + ["observer_state"] * (delegations - 58)


def one_burst(delegations: int) -> dict[str, list[float]]:
    bench = Bench(days=1, classes=roster(delegations))
    bench.open_sitting(0)
    bench.run(c.TakeUpItem(id=c.new_id(), item="1"), "chair")
    state = bench.state
    feed = ViewsFeed()
    previous: dict[str, Any] = wire_views(state, bench.now)
    feed.update(state, bench.now)
    clock = time.perf_counter_ns
    samples: dict[str, list[float]] = {"feed": [], "recompute": [], "feed_bytes": [], "recompute_bytes": []}
    gc.collect()
    for did in bench.delegations:
        bench.now += 1
        batch = decide(state, c.RequestFloor(id=c.new_id()), f"{did}-1", bench.now)
        for event in batch:
            apply(state, event)
        t0 = clock()
        sent = feed.update(state, bench.now, {type(event) for event in batch})
        t1 = clock()
        current = wire_views(state, bench.now)
        changed = {name: value for name, value in current.items() if name in ("version", "at") or previous[name] != value}
        previous = current
        t2 = clock()
        samples["feed"].append((t1 - t0) / 1_000)
        samples["recompute"].append((t2 - t1) / 1_000)
        samples["feed_bytes"].append(len(msgspec.msgpack.encode(sent)))
        samples["recompute_bytes"].append(len(msgspec.msgpack.encode(changed)))
    assert len(state.queues["1"]) == delegations
    assert feed.full(state, bench.now) == wire_views(state, bench.now), "the feed must send what a full recomputation would"
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--delegations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    delegations, repeat = (200, 1) if args.quick else (args.delegations, args.repeat)
    runs = [one_burst(delegations) for _ in range(repeat)]
    best = {kind: min(runs, key=lambda run: statistics.median(run[kind]))[kind] for kind in ("feed", "recompute")}
    sizes = {
        kind: {"median": statistics.median(runs[0][kind]), "total_kb": sum(runs[0][kind]) / 1_000}
        for kind in ("feed_bytes", "recompute_bytes")
    }
    summary: dict[str, Any] = {}
    for kind, values in best.items():
        ordered = sorted(values)
        summary[kind] = {
            "median_us": statistics.median(ordered),
            "p90_us": percentile(ordered, 90),
            "p99_us": percentile(ordered, 99),
            "total_ms": sum(ordered) / 1_000,
        }
    summary["ratio_recompute_over_feed"] = summary["recompute"]["median_us"] / summary["feed"]["median_us"]
    rows = [
        [kind, fmt(s["median_us"]), fmt(s["p90_us"]), fmt(s["p99_us"]), fmt(s["total_ms"])]
        for kind, s in summary.items()
        if isinstance(s, dict)
    ]
    print(format_table(["per batch", "median us", "p90 us", "p99 us", "burst total ms"], rows))
    print(f"recompute / feed (medians): {summary['ratio_recompute_over_feed']:.1f}x  ({delegations} delegations, best of {repeat})")
    print(
        format_table(
            ["bytes per batch", "median", "burst total kB"], [[kind, fmt(v["median"]), fmt(v["total_kb"])] for kind, v in sizes.items()]
        )
    )
    summary["bytes"] = sizes
    out = (SCRATCH_DIR / "views-quick.json") if args.quick else (RESULTS_DIR / "views.json")
    write_json(out, {"meta": run_metadata(), "delegations": delegations, "repeat": repeat, **summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
