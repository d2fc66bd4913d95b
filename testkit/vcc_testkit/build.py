"""The browser client must be built before a node serves it: build it when the
sources are newer than the build (``npm ci`` first when node_modules is missing)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from . import ROOT

CLIENT = ROOT / "client_web"
BUILT = ROOT / "server" / "vcc" / "web" / "index.html"


def _newest_source() -> float:
    files = [CLIENT / "package-lock.json", CLIENT / "build.mjs", *(p for p in (CLIENT / "src").rglob("*") if p.is_file())]
    return max(p.stat().st_mtime for p in files)


def _npm() -> tuple[str, dict[str, str]]:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("Node.js and npm are required for the browser client (client_web): install nodejs and npm.")
    return npm, {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"}


def install_dependencies() -> None:
    """``npm ci`` in client_web when its node_modules is missing (a fresh clone)."""
    if not (CLIENT / "node_modules").is_dir():
        npm, env = _npm()
        subprocess.run([npm, "ci", "--no-progress"], cwd=CLIENT, check=True, env=env)


def ensure_built() -> None:
    if BUILT.exists() and BUILT.stat().st_mtime >= _newest_source():
        return
    install_dependencies()
    npm, env = _npm()
    subprocess.run([npm, "run", "build"], cwd=CLIENT, check=True, env=env)
