"""Running the stock socket.io JS client under Node for the tests.

Node and npm are part of the set-up (README); a machine without them fails
these tests with a message saying so, it never skips them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from . import ROOT

JS_DIR = ROOT / "tests" / "js"


def ensure_installed() -> str:
    """The path of ``node``, with tests/js's packages installed (``npm ci``) if missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("Node.js 20 and npm are needed to run the stock socket.io JS client: install them (see README).")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300)
    return node


def run_script(script: str, *args: str, timeout: float = 30) -> dict[str, Any]:
    """Run a script of tests/js and return the JSON line it prints last."""
    node = ensure_installed()
    done = subprocess.run([node, str(JS_DIR / script), *args], capture_output=True, text=True, timeout=timeout, cwd=JS_DIR)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(f"{script} printed nothing (exit {done.returncode}): {done.stderr}")
    return json.loads(lines[-1])
