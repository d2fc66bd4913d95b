"""Event-store benchmark: durable appends per second and the time to load a long log.

    python bench/bench_store.py [--quick]

Workload (the service's pattern): CONCURRENCY tasks, each owning one stream
(a consultation), append 1-3 events at a time (uniform, seeded), each event
exactly 250 random bytes, each append carrying a fresh command_id and the
expected_seq of its previous append, until EVENTS events are stored. An
append counts when it has returned, i.e. when it is durable:

- sqlite: WAL, synchronous=FULL, group commit; the file in bench/results/tmp/;
- redis (always): private redis-server, appendonly yes, appendfsync always;
- redis (everysec): the same with appendfsync everysec, for reference (not
  durable to the last second).

Then one stream of READ_EVENTS events is read back whole with read(s, 0)
(best of three). Prints a table and writes bench/results/store.json and store.png;
--quick shrinks the sizes to a smoke test of a few seconds and writes
bench/results/tmp/store-quick.json instead, leaving the real figures alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for bench._common

from vcc.store import EventStore  # noqa: E402
from vcc.store.redis import RedisStore  # noqa: E402
from vcc.store.sqlite import SqliteStore  # noqa: E402
from vcc_testkit.redis_server import RedisServer  # noqa: E402

from bench._common import BarPanel, plot_panels  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "tmp"  # on the repository's disk (not a tmpfs), so fsync is real
EVENT_BYTES = 250


def sizes(quick: bool) -> dict[str, int]:
    if quick:
        return {"concurrency": 16, "events": 2_000, "read_events": 5_000}
    return {"concurrency": 64, "events": 50_000, "read_events": 100_000}


async def append_load(store: EventStore, concurrency: int, events: int) -> dict[str, float]:
    rng = random.Random(42)
    payloads = [rng.randbytes(EVENT_BYTES) for _ in range(64)]
    latencies: list[float] = []
    stored = 0

    async def appender(index: int) -> None:
        nonlocal stored
        stream = f"bench-{index}"
        local = random.Random(index)
        seq = 0
        while stored < events:
            batch = [payloads[local.randrange(64)] for _ in range(local.randint(1, 3))]
            started = time.perf_counter()
            seq = await store.append(stream, seq, batch, command_id=f"{stream}:{seq}")
            latencies.append(time.perf_counter() - started)
            stored += len(batch)

    started = time.perf_counter()
    await asyncio.gather(*(appender(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "events": stored,
        "appends": len(latencies),
        "seconds": round(elapsed, 3),
        "events_per_s": round(stored / elapsed),
        "appends_per_s": round(len(latencies) / elapsed),
        "append_ms_p50": round(statistics.median(latencies) * 1e3, 2),
        "append_ms_p99": round(latencies[int(len(latencies) * 0.99)] * 1e3, 2),
    }


async def read_load(store: EventStore, events: int) -> dict[str, float]:
    payload = random.Random(1).randbytes(EVENT_BYTES)
    seq = 0
    while seq < events:
        seq = await store.append("bench-read", seq, [payload] * min(1000, events - seq))
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        log = await store.read("bench-read", 0)
        timings.append(time.perf_counter() - started)
        assert len(log) == events
    return {
        "read_events": events,
        "read_s_best": round(min(timings), 3),
        "read_s_first": round(timings[0], 3),
    }


async def measure(make: Callable[[], EventStore], size: dict[str, int]) -> dict[str, float]:
    async with make() as store:
        result = await append_load(store, size["concurrency"], size["events"])
        result |= await read_load(store, size["read_events"])
    return result


def redis_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    return next((part[2:] for part in out.split() if part.startswith("v=")), out.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    args = parser.parse_args()
    size = sizes(args.quick)
    data = WORK / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)

    rows: list[dict[str, object]] = []
    rows.append({"store": "sqlite", "durability": "WAL, synchronous=FULL"}
                | asyncio.run(measure(lambda: SqliteStore(data / "sqlite"), size)))  # fmt: skip
    binary = ""
    for fsync in ("always", "everysec"):
        with RedisServer(data / f"redis-{fsync}", appendonly=True, appendfsync=fsync) as server:
            binary = server.binary
            rows.append({"store": f"redis ({fsync})", "durability": f"AOF, appendfsync {fsync}"}
                        | asyncio.run(measure(lambda: RedisStore(server.url), size)))  # fmt: skip
    shutil.rmtree(data)

    report = {
        "benchmark": "bench/bench_store.py" + (" --quick" if args.quick else ""),
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "workload": {
            **size,
            "events_per_append": "1-3, uniform",
            "event_bytes": EVENT_BYTES,
            "streams": "one per appender; every append with expected_seq and a fresh command_id",
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "redis_server": redis_version(binary),
            "platform": platform.platform(),
        },
        "results": rows,
    }
    output = WORK / "store-quick.json" if args.quick else RESULTS / "store.json"
    output.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"{size['concurrency']} concurrent appenders, 1-3 events x {EVENT_BYTES} B per append, "
        f"{size['events']:,} events; then read {size['read_events']:,} events of one stream"
    )
    header = f"{'store':<18}{'events/s':>10}{'appends/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'read s':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['store']:<18}{row['events_per_s']:>10,}{row['appends_per_s']:>11,}"
            f"{row['append_ms_p50']:>8}{row['append_ms_p99']:>8}{row['read_s_best']:>8}"
        )
    print(f"written: {output.relative_to(ROOT)}")
    panels = [
        BarPanel("Durable events per second", "events/s", {r["store"]: r["events_per_s"] for r in rows}),
        BarPanel("Append latency p99", "ms", {r["store"]: r["append_ms_p99"] for r in rows}),
        BarPanel(f"Reading {size['read_events']:,} events", "s", {r["store"]: r["read_s_best"] for r in rows}),
    ]
    png = output.with_suffix(".png")
    if plot_panels(png, panels, xlabel="", suptitle=f"{size['concurrency']} concurrent appenders; {report['generated']}"):
        print(f"written: {png.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
