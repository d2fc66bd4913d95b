"""``vcc serve`` and the media plane: it starts its own Janus and stops it,
``--no-media`` runs without, ``--janus URL`` uses one configured by ``vcc janus-config``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from vcc.auth.links import admin_token, deployment_admin_token
from vcc.auth.tokens import load_or_create_secret
from vcc_testkit.ports import free_port


def children(pid: int) -> list[str]:
    """The command names of a process's children."""
    out = subprocess.run(["ps", "-o", "comm=", "--ppid", str(pid)], capture_output=True, text=True)
    return out.stdout.split()


def metric(url: str, name: str) -> float | None:
    with urllib.request.urlopen(f"{url}/metrics", timeout=2) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name):
                return float(line.rsplit(" ", 1)[1])
    return None


def serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "vcc.cli", "serve", "--demo", "--store", str(tmp_path / "store"), "--port", str(port), *extra],
        stdout=open(tmp_path / "serve.log", "ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1):
                return process, url
        except OSError:
            assert time.monotonic() < deadline, "vcc serve did not become ready"
            time.sleep(0.1)


def until(condition, timeout: float = 15.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def media_status(tmp_path: Path, url: str) -> dict[str, object]:
    """What GET /api/consultations/{id}/media says of the demo consultation: the
    deployment admin token lists it, its own admin token reads its media."""
    secret = load_or_create_secret(tmp_path / "store" / "secret")
    now = int(time.time() * 1000)
    listing = {"Authorization": f"Bearer {deployment_admin_token(secret, now)}"}
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/consultations", headers=listing), timeout=5) as answer:
        (consultation,) = json.load(answer)["consultations"]
    headers = {"Authorization": f"Bearer {admin_token(consultation, secret, now)}"}
    with urllib.request.urlopen(
        urllib.request.Request(f"{url}/api/consultations/{consultation}/media", headers=headers), timeout=5
    ) as answer:
        return dict(json.load(answer))


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=20)


def test_serve_starts_its_janus_drives_it_and_stops_it(tmp_path: Path) -> None:
    process, url = serve(tmp_path)
    try:
        until(lambda: metric(url, "vcc_media_janus_up{") == 1.0)
        # The demo's sitting is open: besides Janus, the webcast's ffmpeg, one per channel (vcc.media.hls).
        until(lambda: sorted(children(process.pid)) == ["ffmpeg"] * 7 + ["janus"])
        assert media_status(tmp_path, url)["media"] == "up"
        conf = tmp_path / "store" / "janus" / "conf" / "janus.jcfg"
        assert conf.exists() and (tmp_path / "store" / "janus" / "secrets.json").exists()
    finally:
        stop(process)
    assert children(process.pid) == []
    # The Janus and the ffmpeg it started are gone too.
    assert subprocess.run(["pgrep", "-f", str(tmp_path / "store" / "janus")], capture_output=True).returncode == 1
    assert subprocess.run(["pgrep", "-f", str(tmp_path / "store" / "webcast")], capture_output=True).returncode == 1


def test_no_media_runs_without_janus(tmp_path: Path) -> None:
    process, url = serve(tmp_path, "--no-media")
    try:
        assert children(process.pid) == []
        assert metric(url, "vcc_media_janus_up{") is None
        assert media_status(tmp_path, url) == {"media": "off", "reason": "This node runs without media (vcc serve --no-media)."}
    finally:
        stop(process)


def test_janus_config_then_serve_with_an_existing_janus(tmp_path: Path) -> None:
    http_port, admin_port = free_port(), free_port()
    store = str(tmp_path / "store")
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "vcc.cli",
            "janus-config",
            "--store",
            store,
            "--output",
            str(tmp_path / "conf"),
            "--http-port",
            str(http_port),
            "--admin-port",
            str(admin_port),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert f"--janus http://127.0.0.1:{http_port}/janus" in made.stdout
    janus = subprocess.Popen(
        ["janus", "-C", str(tmp_path / "conf" / "janus.jcfg"), "-F", str(tmp_path / "conf"), "-N"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process, url = serve(tmp_path, "--janus", f"http://127.0.0.1:{http_port}/janus")
        try:
            assert "janus" not in children(process.pid)
            until(lambda: metric(url, "vcc_media_janus_up{") == 1.0)
        finally:
            stop(process)
    finally:
        janus.terminate()
        janus.wait(timeout=20)


def test_a_missing_janus_is_a_clear_error(tmp_path: Path) -> None:
    # ffmpeg is there (the webcast's encoder is checked first, test_a_missing_ffmpeg_is_a_clear_error).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None, "./dev setup installs ffmpeg"
    (bin_dir / "ffmpeg").symlink_to(ffmpeg)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{bin_dir}"}
    done = subprocess.run(
        [sys.executable, "-m", "vcc.cli", "serve", "--store", str(tmp_path / "store"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 4
    assert "Janus is not installed" in done.stderr and "--no-media" in done.stderr
