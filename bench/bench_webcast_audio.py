"""The webcast's audio latency: a delegate's tone at the microphone -> heard on
the public webcast page, end to end in real Chromium.

    python -m bench.bench_webcast_audio [--rounds 10] [--quick]

The node is the media tests' (tests/support/audio.py: the Janus vcc starts, the
ffmpeg per channel); the viewer's page is the real /webcast/<consultation> page
playing the floor channel's HLS (Chromium's own HLS player; ``--player hls.js``
hides it, so the page loads hls.js as in Firefox), with an AudioWorklet
classifying what it plays (tests/media/page/webcast_ear.js). A delegate's page
publishes 440 Hz, muted; each round the chair grants the floor: measured from
just before the grant to the first 20 ms window the viewer's page classifies as
440 Hz; then the grant is revoked and the page must hear silence again.

The figure includes the grant -> sound at Janus (bench_media.py: ~0.3 s), the
segment being written (up to 1 s), and the player's distance from the live edge
(about three segments). Target (the issue): within 6 s.
Results: bench/results/webcast_audio_latency.json.
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
from vcc_protocol import commands as c  # noqa: E402
from vcc_protocol.vocabulary import ADMIN_ACTOR  # noqa: E402
from vcc_testkit.audio import (  # noqa: E402
    CONSULTATION,
    AudioNode,
    audio_node,
    browser_with_microphone,
    open_page,
    packets_at_janus,
    packets_counted,
    tone_wav,
    until,
)
from vcc_testkit.consultations import CHAIR, COUNCIL  # noqa: E402

from bench._common import RESULTS_DIR, SCRATCH_DIR, format_table, percentile, run_metadata, write_json  # noqa: E402

WITHOUT_NATIVE_HLS = """(() => {
  const canPlayType = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) { return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type); };
})();"""


def now_ms() -> int:
    return int(time.time() * 1000)


async def rounds(node: AudioNode, playwright: Any, folder: Path, count: int, player: str) -> list[float]:
    speaking = await browser_with_microphone(playwright, tone_wav(folder / "440.wav", 440))
    viewing = await browser_with_microphone(playwright, tone_wav(folder / "silence.wav", 0))
    delegate = COUNCIL[0]
    out: list[float] = []
    try:
        context = await viewing.new_context()
        if player == "hls.js":
            await context.add_init_script(WITHOUT_NATIVE_HLS)
        viewer = await context.new_page()
        await viewer.goto(f"{node.url}/webcast/{CONSULTATION}")
        await viewer.get_by_test_id("webcast-listen").wait_for()
        await viewer.add_script_tag(url="/test-media/webcast_ear.js")
        await viewer.evaluate("webcastEar()")
        await viewer.get_by_test_id("webcast-channel-floor").check()
        await viewer.get_by_test_id("webcast-listen").click()
        await until(viewer, "!document.querySelector('audio').paused && ear.heard === 'silent'", 30_000)
        mouth = await open_page(speaking, node, delegate)
        for _ in range(count):
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            assert (await mouth.evaluate("vcc.publish()"))["ok"]
            await until(mouth, "vcc.publishState === 'connected'")
            await packets_at_janus(node, delegate, await packets_counted(node, delegate) + 25)
            granted_at = now_ms()
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            heard = await until(viewer, f"ear.firstHeard('440', {granted_at})", 30_000)
            out.append(heard - granted_at)
            revoked_at = now_ms()
            await node.run(c.RevokeGrant(id=c.new_id()), CHAIR)
            # The page still plays the tone for a few seconds (the HLS delay): wait for a second of silence.
            await until(
                viewer,
                f"ear.firstHeard('silent', {revoked_at}) && ear.heard === 'silent' && Date.now() - ear.tones[ear.tones.length - 1].at > 1000",
                30_000,
            )
            print(f"  grant -> heard on the webcast page ({player}): {heard - granted_at} ms", flush=True)
    finally:
        await speaking.close()
        await viewing.close()
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with audio_node(folder / "store") as node, async_playwright() as playwright:
            await node.run(c.SetWebcast(id=c.new_id(), public=True), ADMIN_ACTOR)
            for player in args.player:
                values = await rounds(node, playwright, folder, args.rounds, player)
                ordered = sorted(values)
                results[player] = {
                    "n": len(ordered),
                    "p50_ms": percentile(ordered, 50),
                    "p99_ms": percentile(ordered, 99),
                    "min_ms": ordered[0],
                    "max_ms": ordered[-1],
                    "values_ms": values,
                }
    results["load_average_1min"] = os.getloadavg()[0]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--player", action="append", choices=["native", "hls.js"], help="repeat for both (default: both)")
    parser.add_argument("--quick", action="store_true", help="2 rounds, results in bench/results/tmp/")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.player = args.player or ["native", "hls.js"]
    if args.quick:
        args.rounds = 2
    out = args.out or (SCRATCH_DIR if args.quick else RESULTS_DIR) / "webcast_audio_latency.json"
    results = asyncio.run(run(args))
    print(
        format_table(
            ["player", "rounds", "p50 ms", "p99 ms", "min ms", "max ms", "load"],
            [
                [
                    player,
                    str(r["n"]),
                    f"{r['p50_ms']:.0f}",
                    f"{r['p99_ms']:.0f}",
                    str(r["min_ms"]),
                    str(r["max_ms"]),
                    f"{results['load_average_1min']:.1f}",
                ]
                for player, r in results.items()
                if isinstance(r, dict)
            ],
        )
    )
    write_json(out, {"meta": run_metadata(["playwright"]), "results": results})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
