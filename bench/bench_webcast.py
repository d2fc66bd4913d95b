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
Also measured: a caption's way to the viewers (posted -> the first poll of each
viewer whose state has it: the cache's one second of freshness plus the poll's
second, so about 1 s at p50 and 2 s at p99 by design).

With ``--audio`` the node runs its media (the Janus it starts, one ffmpeg per
channel): each viewer also polls its channel's HLS playlist once a second
(viewers spread over the seven channels) and fetches every segment it has not
fetched yet, as a player does (the last three at first). Measured besides:
playlists and segments served per second, their fetch times, the audio
requests that reached the node (``vcc_webcast_audio_requests_total``), and
the CPU of Janus and the ffmpeg. The floor -> ear latency of the audio is
measured in real Chromium: ``bench/bench_webcast_audio.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vcc.media.desired import CHANNELS  # noqa: E402
from vcc_testkit.nginx import Nginx  # noqa: E402
from vcc_testkit.ports import free_port  # noqa: E402

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
    return sum(float(v) for v in re.findall(r"^vcc_webcast_requests_total\{[^}]*\} ([0-9.e+]+)$", text, re.M))


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


async def _captions(node: str, secret: bytes, stop: asyncio.Event, posted_at: dict[int, float]) -> int:
    """A caption line every 2 s straight to the node; ``posted_at``: line -> when it was sent (monotonic)."""
    headers = {"Authorization": f"Bearer {token(secret, CAPTIONER, 'captioner')}"}
    posted = 0
    async with aiohttp.ClientSession(headers=headers) as http:
        while not stop.is_set():
            posted_at[posted + 1] = time.monotonic()
            async with http.post(
                f"{node}/api/consultations/{CONSULTATION}/captions", json={"text": f"Caption line {posted + 1} of the benchmark."}
            ) as answer:
                posted += answer.status == 201
            try:
                await asyncio.wait_for(stop.wait(), 2.0)
            except TimeoutError:
                pass
    return posted


LINE = re.compile(rb"Caption line (\d+) of")
SEGMENT = re.compile(r"^[^#\s].*$", re.M)


@dataclass
class Seen:
    times: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    #: Caption posted -> a viewer's page has it, through the cache and its once-a-second poll.
    caption_latency: list[float] = field(default_factory=list)
    playlist_times: list[float] = field(default_factory=list)
    segment_times: list[float] = field(default_factory=list)
    audio_statuses: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0


async def _viewers(base: str, viewers: int, seconds: float, connections: int, posted_at: dict[int, float], audio: bool) -> Seen:
    """Each viewer polls the state once a second (with If-None-Match, as the page does) and, with
    ``audio``, its channel's playlist too, fetching each segment it has not fetched yet (as a player)."""
    seen = Seen()
    connector = aiohttp.TCPConnector(limit=connections)
    end = time.monotonic() + seconds
    state_url = f"{base}/webcast/{CONSULTATION}/state.json"
    async with aiohttp.ClientSession(connector=connector) as http:

        async def fetch(
            url: str, times: list[float], statuses: dict[int, int], headers: dict[str, str] | None = None
        ) -> tuple[int, bytes, str]:
            started = time.perf_counter()
            async with http.get(url, headers=headers or {}) as answer:
                body = await answer.read()
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
                etag = answer.headers.get("ETag", "")
            times.append(time.perf_counter() - started)
            return answer.status, body, etag

        async def viewer(number: int) -> None:
            etag = ""
            latest_line = 0
            channel = CHANNELS[number % len(CHANNELS)]
            playlist = f"{base}/webcast/{CONSULTATION}/audio/{channel}/index.m3u8"
            fetched: set[str] = set()
            next_at = time.monotonic() + random.random()
            while True:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if time.monotonic() >= end:
                    return
                seen.lags.append(time.monotonic() - next_at)
                # Only a viewer that had the state before sees a caption arrive (not one just joining).
                following = bool(etag)
                status, body, etag = await fetch(state_url, seen.times, seen.statuses, {"If-None-Match": etag} if etag else None)
                if status == 200:
                    lines = [int(n) for n in LINE.findall(body)]
                    if lines and max(lines) > latest_line:
                        latest_line = max(lines)
                        if following and latest_line in posted_at:
                            seen.caption_latency.append(time.monotonic() - posted_at[latest_line])
                if audio:
                    status, body, _ = await fetch(playlist, seen.playlist_times, seen.audio_statuses)
                    if status == 200:
                        segments = SEGMENT.findall(body.decode())
                        # A player starts three segments behind the live edge, then takes each new one.
                        for name in segments[-3:] if not fetched else segments:
                            if name not in fetched:
                                fetched.add(name)
                                await fetch(playlist.rsplit("/", 1)[0] + "/" + name, seen.segment_times, seen.audio_statuses)
                next_at += 1.0

        started = time.monotonic()
        await asyncio.gather(*(viewer(i) for i in range(viewers)))
        seen.wall = time.monotonic() - started
        return seen


async def _origin_audio_requests(http: aiohttp.ClientSession, node: str) -> float:
    async with http.get(f"{node}/metrics") as answer:
        text = await answer.text()
    return sum(float(v) for v in re.findall(r"^vcc_webcast_audio_requests_total\{[^}]*\} ([0-9.e+]+)$", text, re.M))


async def _until_audio(url: str, timeout: float = 60) -> None:
    """The floor channel's playlist exists (Janus up, ffmpeg writing)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{url}/webcast/{CONSULTATION}/audio/floor/index.m3u8") as answer:
                if answer.status == 200 and len(SEGMENT.findall(await answer.text())) >= 3:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError("the webcast's HLS did not appear: see the node's log")
            await asyncio.sleep(0.2)


def _ms(values: list[float], p: float) -> float:
    return round(1000 * percentile(sorted(values), p), 2) if values else float("nan")


async def measure(args: argparse.Namespace, node: str, proxy: Nginx, node_pid: int, secret: bytes) -> dict[str, object]:
    await _wait_ready(node)
    if args.audio:
        await _until_audio(node)
    nginx_pids = {"nginx": proxy.process.pid, **{f"nginx-worker-{i}": p for i, p in enumerate(_children(proxy.process.pid))}}  # type: ignore[union-attr]
    # With audio, the node's children: Janus and the seven ffmpeg.
    media_pids = {f"media-{i}": p for i, p in enumerate(_children(node_pid))}
    meter = CpuMeter({"node": node_pid, "generator": os.getpid(), **nginx_pids, **media_pids})
    stop = asyncio.Event()
    posted_at: dict[int, float] = {}
    async with aiohttp.ClientSession() as http:
        before = await _origin_requests(http, node)
        audio_before = await _origin_audio_requests(http, node)
        meter.start()
        writer = asyncio.create_task(_captions(node, secret, stop, posted_at))
        seen = await _viewers(proxy.url, args.viewers, args.seconds, args.connections, posted_at, args.audio)
        stop.set()
        posted = await writer
        meter.stop()
        reached = await _origin_requests(http, node) - before
        audio_reached = await _origin_audio_requests(http, node) - audio_before
    wall = seen.wall
    nginx_cpu = sum(v for k, v in meter.used.items() if k.startswith("nginx"))
    media_cpu = sum(v for k, v in meter.used.items() if k.startswith("media"))
    result: dict[str, object] = {
        "viewers": args.viewers,
        "seconds": round(wall, 2),
        "requests": len(seen.times),
        "statuses": seen.statuses,
        "requests_per_s": round(len(seen.times) / wall, 1),
        "target_requests_per_s": args.viewers,
        "origin_requests": reached,
        "origin_requests_per_s": round(reached / wall, 2),
        "node_cpu_percent": round(100 * meter.used["node"] / meter.wall, 2),
        "nginx_cpu_percent": round(100 * nginx_cpu / meter.wall, 2),
        "fetch_ms_p50": _ms(seen.times, 50),
        "fetch_ms_p99": _ms(seen.times, 99),
        "fetch_ms_max": round(1000 * max(seen.times), 2),
        "captions_posted": posted,
        # Caption posted -> in a viewer's state: the cache's second of freshness plus the viewer's poll period.
        "caption_to_viewer_ms_p50": _ms(seen.caption_latency, 50),
        "caption_to_viewer_ms_p99": _ms(seen.caption_latency, 99),
        "caption_observations": len(seen.caption_latency),
        # A fetch time is the generator's too: its lag behind the polls it scheduled, and its CPU, say when it was the limit.
        "generator_lag_ms_p99": _ms(seen.lags, 99),
        "generator_cpu_percent": round(100 * meter.used["generator"] / meter.wall, 2),
        "load_average_1min": os.getloadavg()[0],
    }
    if args.audio:
        result |= {
            "playlists": len(seen.playlist_times),
            "segments": len(seen.segment_times),
            "audio_statuses": seen.audio_statuses,
            "playlists_per_s": round(len(seen.playlist_times) / wall, 1),
            "segments_per_s": round(len(seen.segment_times) / wall, 1),
            "playlist_ms_p50": _ms(seen.playlist_times, 50),
            "playlist_ms_p99": _ms(seen.playlist_times, 99),
            "segment_ms_p50": _ms(seen.segment_times, 50),
            "segment_ms_p99": _ms(seen.segment_times, 99),
            "origin_audio_requests_per_s": round(audio_reached / wall, 2),
            "media_cpu_percent": round(100 * media_cpu / meter.wall, 2),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=256, help="keep-alive connections of the load generator to nginx")
    parser.add_argument(
        "--audio",
        action="store_true",
        help="the node runs its media (Janus, ffmpeg): viewers also poll their channel's HLS playlist and fetch its segments",
    )
    parser.add_argument("--quick", action="store_true", help="50 viewers for 3 s, results in bench/results/tmp/")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.viewers, args.seconds, args.connections = 50, 3.0, 16
    name = "webcast_audio.json" if args.audio else "webcast.json"
    out = args.out or (SCRATCH_DIR / name if args.quick else RESULTS_DIR / name)
    store, secret = prepare_store("webcast")
    asyncio.run(_open_webcast(store))
    port = free_port()
    node = f"http://127.0.0.1:{port}"
    pin_self({1})
    argv = serve_argv(store, port)
    if args.audio:
        argv.remove("--no-media")
    with spawned(argv, cwd=store.parent, log_path=SCRATCH_DIR / "webcast-node.log", cpus={0}) as server:
        proxy = Nginx([port])
        proxy.start()
        try:
            result = asyncio.run(measure(args, node, proxy, server.pid, secret))
        finally:
            proxy.stop()
    print(
        format_table(
            [
                "viewers",
                "req/s served (target)",
                "origin req/s",
                "node CPU %",
                "nginx CPU %",
                "fetch p50 ms",
                "fetch p99 ms",
                "caption->viewer p50/p99 ms",
                "generator lag p99 ms",
                "generator CPU %",
                "load",
            ],
            [
                [
                    str(result["viewers"]),
                    f"{result['requests_per_s']} ({result['target_requests_per_s']})",
                    str(result["origin_requests_per_s"]),
                    str(result["node_cpu_percent"]),
                    str(result["nginx_cpu_percent"]),
                    str(result["fetch_ms_p50"]),
                    str(result["fetch_ms_p99"]),
                    f"{result['caption_to_viewer_ms_p50']} / {result['caption_to_viewer_ms_p99']}",
                    str(result["generator_lag_ms_p99"]),
                    str(result["generator_cpu_percent"]),
                    f"{result['load_average_1min']:.1f}",
                ]
            ],
        )
    )
    if args.audio:
        print(
            format_table(
                ["playlists/s", "segments/s", "origin audio req/s", "playlist p50/p99 ms", "segment p50/p99 ms", "Janus+ffmpeg CPU %"],
                [
                    [
                        str(result["playlists_per_s"]),
                        str(result["segments_per_s"]),
                        str(result["origin_audio_requests_per_s"]),
                        f"{result['playlist_ms_p50']} / {result['playlist_ms_p99']}",
                        f"{result['segment_ms_p50']} / {result['segment_ms_p99']}",
                        str(result["media_cpu_percent"]),
                    ]
                ],
            )
        )
    write_json(out, {"meta": run_metadata(["aiohttp"]), "result": result})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
