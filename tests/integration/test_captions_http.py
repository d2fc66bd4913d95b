"""Captions through the shell: the machine-captioning example client posts and
corrects lines over HTTP with a captioner's token, a delegate's client folds
them, and the WebVTT export and the technical report read the whole record."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
from vcc.documents.reports.captions import CUE_MAX_MS

CLIENT = Path(__file__).resolve().parents[2] / "server" / "vcc" / "examples" / "caption_client.py"
CAPTIONER = "captioner-1"


async def _run_client(node, lines: str) -> str:  # noqa: ANN001 - the conftest's Node
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CLIENT),
        "--url",
        node.url,
        "--consultation",
        "test",
        "--token",
        node.token(CAPTIONER, "captioner"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(lines.encode()), 60)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(out.decode() + err.decode()) from None
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_example_client_captions_the_floor_for_delegates_and_the_export(node, clients, tmp_path: Path) -> None:
    delegate = await clients("argentina-delegate-1")
    # Three lines sent back to back: the rate limit answers 429 and the client waits, losing none.
    out = await _run_client(
        node, "Good afternoon.\nThe chair opens the sitting.\nItem PL 1.01, the reprot.\n#3: Item PL 1.01, the report.\n"
    )
    assert out.splitlines() == [
        "line 1: Good afternoon.",
        "line 2: The chair opens the sitting.",
        "line 3: Item PL 1.01, the reprot.",
        "line 3: Item PL 1.01, the report.",
    ]
    state = await delegate.wait_for(lambda s: any(line.corrected_at for line in s.captions))
    assert [line.text for line in state.captions] == ["Good afternoon.", "The chair opens the sitting.", "Item PL 1.01, the report."]
    sitting = state.sitting
    assert sitting is not None
    admin = {"Authorization": f"Bearer {node.admin_token()}"}
    async with aiohttp.ClientSession(headers=admin) as http:
        answer = await http.get(f"{node.url}/api/consultations/test/captions/{sitting.day}.vtt")
        assert answer.status == 200 and answer.content_type == "text/vtt"
        vtt = await answer.text()
        missing = await http.get(f"{node.url}/api/consultations/test/captions/1999-01-01.vtt")
        assert missing.status == 404 and "sittings so far" in (await missing.json())["error"]["message"]
        report = await (await http.get(f"{node.url}/api/consultations/test/reports/technical")).text()
    blocks = vtt.strip().split("\n\n")
    assert blocks[0].startswith("WEBVTT")
    cues = [block.split("\n") for block in blocks[1:]]
    assert [(cue[0], cue[2]) for cue in cues] == [
        ("1", "Good afternoon."),
        ("2", "The chair opens the sitting."),
        ("3", "Item PL 1.01, the report."),
    ]
    for cue, line in zip(cues, state.captions, strict=True):
        start = line.at - sitting.opened_at
        assert cue[1].startswith(_stamp(start) + " --> ")
    assert cues[-1][1].endswith(_stamp(state.captions[-1].at - sitting.opened_at + CUE_MAX_MS))
    assert "## Captions\n\n3 caption lines; nobody has spoken yet." in report

    # `vcc report captions` writes the same file from the store (read beside the running node).
    exported = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vcc.cli",
        "report",
        "captions",
        "--store",
        str(tmp_path / "store"),
        "--consultation",
        "test",
        "--sitting",
        sitting.day,
        "--output",
        str(tmp_path / "export.vtt"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(exported.communicate(), 120)
    assert exported.returncode == 0, err.decode()
    assert (tmp_path / "export.vtt").read_text() == vtt


async def test_captions_are_refused_with_a_reason(node) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{node.url}/api/consultations/test/captions"
        delegate = {"Authorization": f"Bearer {node.token('argentina-delegate-1')}"}
        refused = await http.post(url, json={"text": "Hello"}, headers=delegate)
        assert refused.status == 422 and (await refused.json())["error"]["code"] == "not_allowed"
        captioner = {"Authorization": f"Bearer {node.token(CAPTIONER, 'captioner')}"}
        too_long = await http.post(url, json={"text": "x" * 201}, headers=captioner)
        assert too_long.status == 400 and (await too_long.json())["error"]["code"] == "invalid_command"
        late = await http.post(url, json={"line": 7, "text": "No such line"}, headers=captioner)
        assert late.status == 422 and (await late.json())["error"]["code"] == "unknown_caption"
        big = await http.post(url, data=b"{" + b" " * 5000 + b"}", headers={**captioner, "Content-Type": "application/json"})
        assert big.status == 413
        anonymous = await http.post(url, json={"text": "Hello"})
        assert anonymous.status == 401


def _stamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
