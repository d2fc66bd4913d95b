"""TURN for delegates behind firewalls: the service hands each page a short-lived
credential for coturn (its ``use-auth-secret`` scheme), and a real coturn accepts it:
a Chromium page allowed to use only relayed candidates reaches Janus through it and
gets its audio round trip back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from vcc.media.turn import VALID_S, Turn
from vcc_testkit.audio import (
    CONSULTATION,
    browser_with_microphone,
    open_page,
    tone_wav,
)
from vcc_testkit.audio import audio_node as start_audio_node
from vcc_testkit.consultations import COUNCIL
from vcc_testkit.ports import free_port

pytestmark = pytest.mark.browser

SECRET = "turn-test-secret-0123456789abcdef"


def test_a_credential_is_coturns_rest_api_scheme_and_names_its_participant() -> None:
    turn = Turn(("turns:turn.example.org:443?transport=tcp",), SECRET)
    (server,) = turn.ice_servers("argentina-delegate-1", now=1_000_000)
    assert server["urls"] == ["turns:turn.example.org:443?transport=tcp"]
    assert server["username"] == f"{1_000_000 + VALID_S}:argentina-delegate-1"
    expected = base64.b64encode(hmac.new(SECRET.encode(), str(server["username"]).encode(), hashlib.sha1).digest()).decode()
    assert server["credential"] == expected


def host_address() -> str:
    """This machine's address on its default route (Chromium does not use a TURN server on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))  # a documentation address: nothing is sent
        return str(probe.getsockname()[0])


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A real coturn (Debian's) on a free port of this machine's address, with the REST API secret."""
    turnserver = shutil.which("turnserver")
    if turnserver is None:  # an error, never a reason to skip
        pytest.fail("coturn is needed by this test: install Debian's package (apt-get install -y coturn); ./dev test does")
    port, relay, address = free_port(), free_port(), host_address()
    conf = tmp_path / "turnserver.conf"
    conf.write_text(
        "\n".join(
            [
                f"listening-port={port}",
                f"listening-ip={address}",
                f"relay-ip={address}",
                "use-auth-secret",
                f"static-auth-secret={SECRET}",
                "realm=vcc.test",
                "no-tls",
                "no-dtls",
                "no-cli",
                "fingerprint",
                f"log-file={tmp_path / 'turn.log'}",
                "simple-log",
                f"pidfile={tmp_path / 'turn.pid'}",
                # A small relay range: coturn checks every port of it before it listens.
                f"min-port={relay}",
                f"max-port={relay + 50}",
                "",
            ]
        )
    )
    process = subprocess.Popen([turnserver, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"turnserver exited with {process.returncode}; see {tmp_path / 'turn.log'}"
            try:
                socket.create_connection((address, port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "turnserver did not open its listener"
                time.sleep(0.05)
        yield address, port
    finally:
        process.terminate()
        process.wait(10)


async def test_a_page_reaches_janus_through_coturn_with_the_credential_it_was_given(coturn: tuple[str, int], tmp_path: Path) -> None:
    secret_file = tmp_path / "turn.secret"
    secret_file.write_text(SECRET + "\n")
    address, port = coturn
    turn_url = f"turn:{address}:{port}?transport=tcp"
    async with (
        start_audio_node(tmp_path / "store", turn=[turn_url], turn_secret_file=str(secret_file)) as node,
        async_playwright() as playwright,
    ):
        browser = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        try:
            page = await open_page(browser, node, COUNCIL[0])
            given = await page.evaluate("vcc.media({op: 'ice_servers'})")
            assert given["ok"] and given["ice_servers"][0]["urls"] == [turn_url], given
            assert given["ice_servers"][0]["username"].endswith(f":{COUNCIL[0]}")
            # Only relayed candidates: what a network that lets nothing but TCP out leaves.
            outcome = await page.evaluate(
                """async (servers) => {
              const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: "relay" });
              const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
              mic.getTracks().forEach((t) => pc.addTrack(t, mic));
              pc.onicecandidate = (ev) => {
                const c = ev.candidate;
                vcc.media({ op: "ice", stream: "echo", candidate: c ? c.candidate : null, sdp_mid: c ? c.sdpMid : null, sdp_mline_index: c ? c.sdpMLineIndex : null });
              };
              const back = new Promise((resolve) => { pc.ontrack = (ev) => resolve(ev.track.kind); });
              await pc.setLocalDescription(await pc.createOffer());
              const answer = await vcc.media({ op: "echo", sdp: pc.localDescription.sdp });
              if (!answer.ok) return { error: answer.error };
              await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
              const until = Date.now() + 15000;
              while (!["connected", "completed"].includes(pc.iceConnectionState) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
              const stats = await pc.getStats();
              let pair = null;
              stats.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
              const local = pair ? stats.get(pair.localCandidateId) : null;
              return { ice: pc.iceConnectionState, local: local ? local.candidateType : null, track: await back };
            }""",
                given["ice_servers"],
            )
            assert outcome == {"ice": "connected", "local": "relay", "track": "audio"}, outcome
            assert COUNCIL[0] in node.media.reconcilers[CONSULTATION]._actual.echoes
        finally:
            await browser.close()
