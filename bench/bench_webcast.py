"""The public webcast at scale: simulated viewers polling the state through
the nginx of deploy/ (its vcc.conf, unchanged), served from the cache.

    python bench/bench_webcast.py                 # 2,000 viewers, 30 s
    python bench/bench_webcast.py --quick         # 50 viewers, 3 s (the smoke test)

Set-up: one ``vcc serve`` node (pinned to CPU 0) on a fresh store holding a
consultation with an open sitting and its webcast opened; nginx (1 worker)
in front of it; a captioner posting a line every 2 s straight to the node, so
the state really changes during the run. Each viewer polls
``/webcast/<id>/state.json`` once a second (first poll at a random moment in
the first second) with ``If-None-Match``, as the page does, through a pool of
keep-alive connections (the load generator is this process, pinned to CPU 1).

Measured: requests that reached the node per second (its
``vcc_webcast_requests_total``), the CPU of the node and of nginx (from
/proc), the viewers' fetch time p50 / p99 and the request rate achieved (a
loaded generator falls short of viewers x 1/s: the achieved rate is printed).
What is not measured here: HLS playlists and segments (the audio is not built
yet, docs/webcast.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vcc_testkit.nginx import Nginx  # noqa: E402
from vcc_testkit.redis_server import free_port  # noqa: E402

from bench._common import (  # noqa: E402
    RESULTS_DIR,
    SCRATCH_DIR,
    CpuMeter,
    format_table,
    percentile,
    pin_self,
    run_metadata,
    spawned,
    write_json,
)
from bench._vcc import CONSULTATION, prepare_store, serve_argv, token  # noqa: E402

CAPTIONER = "captioner-1"


async def _open_webcast(store: Path) -> None:
    from vcc.service import Service
    from vcc.store import open_store
    from vcc_protocol import commands as c
    from vcc_protocol.vocabulary import ADMIN_ACTOR

    opened = open_store(str(store))
    await opened.open()
    service = Service(opened)
    try:
        answers = await service.execute_all(CONSULTATION, [c.SetWebcast(id=c.new_id(), public=True)], ADMIN_ACTOR)
        assert answers[-1]["ok"], answers[-1]
    finally:
        await service.close()
        await opened.close()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


async def _origin_requests(http: aiohttp.ClientSession, node: str) -> float:
    async with http.get(f"{node}/metrics") as answer:
        text = await answer.text()
    return sum(float(v) for v in re.findall(r'^vcc_webcast_requests_total\{[^}]*\} ([0-9.e+]+)$', text, re.M))


async def _wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{url}/readyz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not become ready")
            await asyncio.sleep(0.2)


async def _captions(node: str, secret: bytes, stop: asyncio.Event) -> int:
    headers = {"Authorization": f"Bearer {token(secret, CAPTIONER, 'captioner')}"}
    posted = 0
    async with aiohttp.ClientSession(headers=headers) as http:
        while not stop.is_set():
            async with http.post(f"{node}/api/consultations/{CONSULTATION}/captions", json={"text": f"Caption line {posted + 1} of the benchmark."}) as answer:
                posted += answer.status == 201
            try:
                await asyncio.wait_for(stop.wait(), 2.0)
            except TimeoutError:
                pass
    return posted


async def _viewers(url: str, viewers: int, seconds: float, connections: int) -> tuple[list[float], list[float], dict[int, int], float]:
    """(fetch times, the generator's lag behind each scheduled poll, statuses, wall seconds)."""
    times: list[float] = []
    lags: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=connections)
    end = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=connector) as http:

        async def viewer() -> None:
            etag = ""
            next_at = time.monotonic() + random.random()
            while True:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if time.monotonic() >= end:
                    return
                lags.append(time.monotonic() - next_at)
                started = time.perf_counter()
                async with http.get(url, headers={"If-None-Match": etag} if etag else {}) as answer:
                    await answer.read()
                    etag = answer.headers.get("ETag", etag)
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1
                times.append(time.perf_counter() - started)
                next_at += 1.0

        started = time.monotonic()
        await asyncio.gather(*(viewer() for _ in range(viewers)))
        return times, lags, statuses, time.monotonic() - started


async def measure(args: argparse.Namespace, node: str, proxy: Nginx, node_pid: int, secret: bytes) -> dict[str, object]:
    await _wait_ready(node)
    nginx_pids = {"nginx": proxy.process.pid, **{f"nginx-worker-{i}": p for i, p in enumerate(_children(proxy.process.pid))}}  # type: ignore[union-attr]
    meter = CpuMeter({"node": node_pid, "generator": os.getpid(), **nginx_pids})
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as http:
        before = await _origin_requests(http, node)
        meter.start()
        writer = asyncio.create_task(_captions(node, secret, stop))
        times, lags, statuses, wall = await _viewers(f"{proxy.url}/webcast/{CONSULTATION}/state.json", args.viewers, args.seconds, args.connections)
        stop.set()
        posted = await writer
        meter.stop()
        reached = await _origin_requests(http, node) - before
    times.sort()
    lags.sort()
    nginx_cpu = sum(v for k, v in meter.used.items() if k.startswith("nginx"))
    return {
        "viewers": args.viewers, "seconds": round(wall, 2), "requests": len(times), "statuses": statuses,
        "requests_per_s": round(len(times) / wall, 1), "target_requests_per_s": args.viewers,
        "origin_requests": reached, "origin_requests_per_s": round(reached / wall, 2),
        "node_cpu_percent": round(100 * meter.used["node"] / meter.wall, 2), "nginx_cpu_percent": round(100 * nginx_cpu / meter.wall, 2),
        "fetch_ms_p50": round(1000 * percentile(times, 50), 2), "fetch_ms_p99": round(1000 * percentile(times, 99), 2),
        "fetch_ms_max": round(1000 * times[-1], 2), "captions_posted": posted,
        # A fetch time is the generator's too: its lag behind the polls it scheduled, and its CPU, say when it was the limit.
        "generator_lag_ms_p99": round(1000 * percentile(lags, 99), 2), "generator_cpu_percent": round(100 * meter.used["generator"] / meter.wall, 2),
        "load_average_1min": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=256, help="keep-alive connections of the load generator to nginx")
    parser.add_argument("--quick", action="store_true", help="50 viewers for 3 s, results in bench/results/tmp/")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.viewers, args.seconds, args.connections = 50, 3.0, 16
    out = args.out or (SCRATCH_DIR / "webcast.json" if args.quick else RESULTS_DIR / "webcast.json")
    store, secret = prepare_store("webcast")
    asyncio.run(_open_webcast(store))
    port = free_port()
    node = f"http://127.0.0.1:{port}"
    pin_self({1})
    with spawned(serve_argv(store, port), cwd=store.parent, log_path=SCRATCH_DIR / "webcast-node.log", cpus={0}) as server:
        proxy = Nginx([port])
        proxy.start()
        try:
            result = asyncio.run(measure(args, node, proxy, server.pid, secret))
        finally:
            proxy.stop()
    print(format_table(
        ["viewers", "req/s served (target)", "origin req/s", "node CPU %", "nginx CPU %", "fetch p50 ms", "fetch p99 ms", "generator lag p99 ms", "generator CPU %", "load"],
        [[str(result["viewers"]), f"{result['requests_per_s']} ({result['target_requests_per_s']})", str(result["origin_requests_per_s"]),
          str(result["node_cpu_percent"]), str(result["nginx_cpu_percent"]), str(result["fetch_ms_p50"]), str(result["fetch_ms_p99"]),
          str(result["generator_lag_ms_p99"]), str(result["generator_cpu_percent"]), f"{result['load_average_1min']:.1f}"]],
    ))
    write_json(out, {"meta": run_metadata(["aiohttp"]), "result": result})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
