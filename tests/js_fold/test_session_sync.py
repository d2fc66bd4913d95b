"""The browser's session applies a batch only if it starts at or before seq + 1,
skips what it has, and asks with ``sync`` on a gap, an unknown event or another
epoch (client_web/src/net/session.js, run under node with a fake socket)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from vcc.core.views import snapshot
from vcc_protocol.state import ConsultationState
from vcc_testkit.build import CLIENT, install_dependencies

from .node import node_binary

HARNESS = Path(__file__).with_name("session_harness.mjs")


def test_batches_gaps_and_unknown_events() -> None:
    install_dependencies()
    empty = json.dumps(snapshot(ConsultationState(), "public"))
    done = subprocess.run([node_binary(), str(HARNESS), empty], capture_output=True, text=True, timeout=60, cwd=CLIENT)
    assert done.returncode == 0, done.stderr
    steps = {step["what"]: step for step in json.loads(done.stdout)}

    def seen(what: str) -> tuple[int, int, list]:
        step = steps[what]
        return step["seq"], step["delegations"], step["syncs"]

    assert seen("snapshot at 2") == (2, 0, [])
    assert seen("batch 1..4 overlapping what we have") == (4, 2, []), "events 1..2 are skipped, 3..4 applied"
    assert seen("batch 3..4 already applied") == (4, 2, [])
    assert seen("batch 7..8 after a gap") == (4, 2, [["sync", {"last_seq": 4, "epoch": "e1"}]])
    assert steps["batch 7..8 after a gap"]["status"] == "catching_up"
    assert seen("batch 9 while the gap is being filled") == (4, 2, []), "asked once, not again for every batch"
    assert seen("the missed events 5..9") == (9, 7, [])
    assert seen("an event type this client does not know") == (9, 7, [["sync", {}]]), "never guessed: a snapshot is asked for"
    assert seen("a batch of another epoch")[2] == [], "still waiting for the snapshot it asked for"
