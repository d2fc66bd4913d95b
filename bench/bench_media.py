"""Media: grant -> sound at a listener, the floor-language re-route, and Janus's
CPU per listener, end to end in real Chromium against the Janus vcc starts.

    python -m bench.bench_media [--grants 50] [--reroutes 20] [--listeners 25,50,100] [--quick]

- **grant -> sound**: a delegate's page (fake microphone: 440 Hz) has asked for
  the floor and publishes, muted; once Janus has counted half a second of its
  audio, the chair grants the floor. Measured from just before the grant command
  to the first 20 ms window the floor listener's AudioWorklet classifies as
  440 Hz (the page and the bench read the same machine clock). Then the grant is
  revoked, and the next round starts with a new request.
- **re-route**: a French speaker goes live while a French listener hears the
  French booth (an interpreter's page, 880 Hz): from just before ``go_live`` to
  the first 440 Hz window in the French channel; then the speaker yields and the
  channel returns to the booth.
- **prebuffering** (``--prebuffering 6,3``): grant -> sound again with each value
  of AudioBridge's per-participant buffer (``Reconciler.prebuffering``, in 20 ms
  packets), a fresh node for each block of ``--block`` grants, the values taken
  in turn block after block, so that they share the machine's moments of load.
- **CPU per listener**: Janus's CPU (``/proc/<pid>/stat``) over 10 s (``--window``) with the
  floor carrying a speaker, with 0 and then N listener pages on the floor channel
  (pages that receive it without playing it: Janus's work per listener is the same);
  (CPU(N) - CPU(0)) / N, in % of one core.

Targets (design.md): p50 < 250 ms, p99 < 500 ms, re-route < 300 ms, at most
0.3 % of a core per listener. Results: bench/results/media.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for bench._common

from playwright.async_api import async_playwright  # noqa: E402
from vcc.media.reconciler import Reconciler  # noqa: E402
from vcc_protocol import commands as c  # noqa: E402
from vcc_testkit.audio import (  # noqa: E402
    AudioNode,
    audio_node,
    browser_with_microphone,
    open_ear,
    open_page,
    packets_at_janus,
    packets_counted,
    tone_wav,
    until,
)
from vcc_testkit.consultations import CHAIR, COUNCIL, FRENCH_SPEAKER, INTERPRETER  # noqa: E402

from bench._common import RESULTS_DIR, SCRATCH_DIR, cpu_seconds, format_table, percentile, run_metadata, write_json  # noqa: E402


def now_ms() -> int:
    return int(time.time() * 1000)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(ordered), "p50": percentile(ordered, 50), "p99": percentile(ordered, 99), "max": ordered[-1], "min": ordered[0]}


async def grants(node: AudioNode, playwright: Any, folder: Path, rounds: int) -> list[float]:
    speaking = await browser_with_microphone(playwright, tone_wav(folder / "440.wav", 440))
    listening = await browser_with_microphone(playwright, tone_wav(folder / "silence.wav", 0))
    delegate = COUNCIL[0]
    out: list[float] = []
    try:
        ear = await open_ear(listening, node, COUNCIL[1], "floor", wait=False)
        mouth = await open_page(speaking, node, delegate)
        for _ in range(rounds):
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            assert (await mouth.evaluate("vcc.publish()"))["ok"]
            await until(mouth, "vcc.publishState === 'connected'")
            await packets_at_janus(node, delegate, await packets_counted(node, delegate) + 25)
            granted_at = now_ms()
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            heard = await until(ear, f"vcc.firstHeard('440', {granted_at})")
            out.append(heard - granted_at)
            revoked_at = now_ms()
            await node.run(c.RevokeGrant(id=c.new_id()), CHAIR)
            await until(ear, f"vcc.firstHeard('silent', {revoked_at})")
            print(f"  grant -> sound {heard - granted_at} ms", flush=True)
    finally:
        await speaking.close()
        await listening.close()
    return out


async def reroutes(node: AudioNode, playwright: Any, folder: Path, rounds: int) -> list[float]:
    speaking = await browser_with_microphone(playwright, tone_wav(folder / "440.wav", 440))
    booth = await browser_with_microphone(playwright, tone_wav(folder / "880.wav", 880))
    listening = await browser_with_microphone(playwright, tone_wav(folder / "silence.wav", 0))
    out: list[float] = []
    try:
        ear = await open_ear(listening, node, COUNCIL[2], "fr", wait=False)
        interpreter = await open_page(booth, node, INTERPRETER["fr"], "interpreter")
        if node.runtime.state.booths["fr"].on_duty is None:
            assert (await interpreter.evaluate("vcc.command('take_booth_duty')"))["ok"]
            assert (await interpreter.evaluate("vcc.command('set_booth_mic', {live: true})"))["ok"]
        assert (await interpreter.evaluate("vcc.publish()"))["ok"]
        await until(ear, "vcc.heard === '880'")
        mouth = await open_page(speaking, node, FRENCH_SPEAKER)
        for _ in range(rounds):
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            assert (await mouth.evaluate("vcc.publish()"))["ok"]
            await until(mouth, "vcc.publishState === 'connected'")
            await node.run(c.GrantFloor(id=c.new_id(), delegation=node.runtime.state.participants[FRENCH_SPEAKER].delegation), CHAIR)
            if node.runtime.state.tail is not None:
                await node.run(c.OverrideTail(id=c.new_id()), CHAIR)
            live_at = now_ms()
            assert (await mouth.evaluate("vcc.command('go_live')"))["ok"]
            heard = await until(ear, f"vcc.firstHeard('440', {live_at})")
            out.append(heard - live_at)
            yielded_at = now_ms()
            assert (await mouth.evaluate("vcc.command('yield_floor')"))["ok"]
            await until(ear, f"vcc.firstHeard('880', {yielded_at})")
            print(f"  go live -> French channel carries the floor {heard - live_at} ms", flush=True)
    finally:
        for browser in (speaking, booth, listening):
            await browser.close()
    return out


async def janus_cpu(node: AudioNode, window_s: float) -> float:
    """Janus's CPU over ``window_s``, in % of one core."""
    process = node.media.process
    assert process is not None and process.pid is not None
    before, started = cpu_seconds(process.pid), time.monotonic()
    await asyncio.sleep(window_s)
    return 100 * (cpu_seconds(process.pid) - before) / (time.monotonic() - started)


async def cpu_per_listener(
    node: AudioNode, playwright: Any, folder: Path, counts: list[int], window_s: float, rows: list[dict[str, float]]
) -> None:
    """Janus's CPU per listener page at each of ``counts``, appended to ``rows`` as measured.
    The pages receive the floor channel without playing it (``quiet``): Janus sends each the
    same packets, and 100 pages that each play and classify their audio do not fit on two
    cores with Janus (at 50 the load average reached 55-90, and the 100th page's connection
    timed out)."""
    speaking = await browser_with_microphone(playwright, tone_wav(folder / "440.wav", 440))
    listening = await browser_with_microphone(playwright, tone_wav(folder / "silence.wav", 0))
    try:
        mouth = await open_page(speaking, node, COUNCIL[0])
        requested = await mouth.evaluate("vcc.command('request_floor')")
        assert requested["ok"], requested
        published = await mouth.evaluate("vcc.publish()")
        assert published["ok"], published
        await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
        baseline = await janus_cpu(node, window_s)
        pages = []
        listeners = [p for p in node.runtime.state.participants.values() if p.role == "delegate"]
        for count in counts:
            while len(pages) < count:
                page = await open_ear(listening, node, listeners[len(pages)].id, "floor", quiet=True, wait=False)
                pages.append(page)
            for page in pages:
                await until(page, "vcc.listenState === 'connected'", 60_000)
            used = await janus_cpu(node, window_s)
            rows.append(
                {
                    "listeners": count,
                    "janus_cpu_pct": used,
                    "baseline_pct": baseline,
                    "per_listener_pct": (used - baseline) / count,
                    "load_average": os.getloadavg()[0],
                }
            )
            print(f"  {count} listeners: Janus {used:.1f} % (baseline {baseline:.1f} %)", flush=True)
    finally:
        await speaking.close()
        await listening.close()


def report(result: dict[str, Any], path: Path) -> None:
    """Print the table and write the JSON; called after each part, so a part that fails keeps the others."""
    rows = [
        [name, *(f"{result[key][k]:.0f}" for k in ("n", "p50", "p99", "max")), target]
        for name, key, target in (
            ("grant -> sound (ms)", "grant_to_sound_ms", "p50 < 250, p99 < 500"),
            ("re-route (ms)", "reroute_ms", "< 300"),
        )
        if key in result
    ]
    print(format_table(["measure", "n", "p50", "p99", "max", "target"], rows))
    for row in result.get("cpu_per_listener", []):
        print(f"Janus CPU per listener at {row['listeners']}: {row['per_listener_pct']:.3f} % of a core (target <= 0.3 %)")
    result["meta"] = run_metadata(["playwright"])
    print(f"load average: {result['meta']['load_average']}")
    write_json(path, result)
    print(f"wrote {path}", flush=True)


async def prebuffering(playwright: Any, folder: Path, values: list[int], grants_each: int, block: int) -> dict[str, Any]:
    """Grant -> sound per prebuffering value, in blocks taken in turn (see the module docstring)."""
    samples: dict[int, list[float]] = {value: [] for value in values}
    default = Reconciler.prebuffering
    try:
        while any(len(got) < grants_each for got in samples.values()):
            for value in values:
                rounds = min(block, grants_each - len(samples[value]))
                if rounds <= 0:
                    continue
                Reconciler.prebuffering = value
                print(f"  prebuffering {value} packets: {rounds} grants", flush=True)
                async with audio_node(folder / f"store-{value}-{len(samples[value])}") as node:
                    samples[value] += await grants(node, playwright, folder, rounds)
    finally:
        Reconciler.prebuffering = default
    return {str(value): {"samples": got, **summary(got)} for value, got in samples.items()}


async def main(args: argparse.Namespace) -> None:
    path = (SCRATCH_DIR if args.quick else RESULTS_DIR) / ("media_prebuffering.json" if args.prebuffering else "media.json")
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.prebuffering:
            async with async_playwright() as playwright:
                values = [int(v) for v in args.prebuffering.split(",")]
                result["prebuffering"] = await prebuffering(playwright, folder, values, args.grants, args.block)
            rows = [[value, *(f"{r[k]:.0f}" for k in ("n", "p50", "p99", "max"))] for value, r in result["prebuffering"].items()]
            print(format_table(["prebuffering (packets)", "n", "p50 ms", "p99 ms", "max ms"], rows))
            result["meta"] = run_metadata(["playwright"])
            print(f"load average: {result['meta']['load_average']}")
            write_json(path, result)
            print(f"wrote {path}", flush=True)
            return
        async with audio_node(folder / "store") as node, async_playwright() as playwright:
            print(f"grant -> sound, {args.grants} grants", flush=True)
            grant_ms = await grants(node, playwright, folder, args.grants)
            result["grant_to_sound_ms"] = {"samples": grant_ms, **summary(grant_ms)}
            report(result, path)
            print(f"floor-language re-route, {args.reroutes} times", flush=True)
            reroute_ms = await reroutes(node, playwright, folder, args.reroutes)
            result["reroute_ms"] = {"samples": reroute_ms, **summary(reroute_ms)}
            report(result, path)
            counts = [int(n) for n in args.listeners.split(",") if n]
            if counts:
                rows = result["cpu_per_listener"] = []
                try:
                    await cpu_per_listener(node, playwright, folder, counts, args.window, rows)
                finally:
                    report(result, path)  # the counts measured before a failure are kept


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grants", type=int, default=50)
    parser.add_argument("--reroutes", type=int, default=20)
    parser.add_argument("--listeners", default="25,50,100")
    parser.add_argument(
        "--prebuffering", default="", help="compare grant -> sound for these AudioBridge prebuffering values (packets), e.g. 6,3"
    )
    parser.add_argument("--block", type=int, default=10, help="with --prebuffering: grants per node before the next value")
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which Janus's CPU is read")
    parser.add_argument("--quick", action="store_true", help="3 grants, 2 re-routes, 5 listeners; results in bench/results/tmp/")
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.grants, parsed.reroutes, parsed.listeners, parsed.window = 3, 2, "5", 2.0
    asyncio.run(main(parsed))
