"""Running the browser's modules under Node.js; a missing node fails the test, never skips it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).with_name("harness.mjs")


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js (node 20+) is required: the browser's fold is checked by running it under node. Install nodejs (apt-get install nodejs)."
        )
    return node


def run_harness(request: dict[str, Any]) -> Any:
    done = subprocess.run([node_binary(), str(HARNESS)], input=json.dumps(request), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"the JS harness failed:\n{done.stderr}")
    return json.loads(done.stdout)
