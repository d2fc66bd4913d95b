"""The retention of the webcast's recordings (``vcc serve --recordings-days N``), and a node
whose media cannot make the webcast's audio."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from vcc.media.hls import WebcastAudio
from vcc_testkit.ports import free_port


def _sitting(folder: Path, consultation: str, day: str) -> Path:
    path = folder / consultation / "recordings" / day
    path.mkdir(parents=True)
    (path / "floor-120000-0.aac").write_bytes(b"\xff\xf1")
    return path


def test_recordings_older_than_the_retention_are_removed_and_the_others_kept(tmp_path: Path) -> None:
    old = _sitting(tmp_path, "c21", "2026-03-01")
    edge = _sitting(tmp_path, "c21", "2026-03-10")
    recent = _sitting(tmp_path, "other", "2026-03-12")
    live = tmp_path / "c21" / "live" / "floor"
    live.mkdir(parents=True)
    audio = WebcastAudio(tmp_path, recordings_days=5)  # ffmpeg is installed by ./dev setup
    removed = audio.remove_expired(datetime(2026, 3, 15, 9, 0, tzinfo=UTC))
    assert removed == [old]
    assert not old.exists() and edge.exists() and recent.exists() and live.exists()
    assert audio.remove_expired(datetime(2026, 3, 15, 9, 0, tzinfo=UTC)) == []


def test_a_missing_ffmpeg_is_a_clear_error(tmp_path: Path) -> None:
    """vcc serve with the media but no ffmpeg stops before starting anything, and says what to do."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    janus = shutil.which("janus")
    assert janus is not None, "./dev setup installs Janus"
    (bin_dir / "janus").symlink_to(janus)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{bin_dir}"}
    done = subprocess.run(
        [sys.executable, "-m", "vcc.cli", "serve", "--store", str(tmp_path / "store"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 4
    assert "needs ffmpeg" in done.stderr and "apt-get install ffmpeg" in done.stderr and "--no-media" in done.stderr
    assert not (tmp_path / "store" / "janus" / "janus.log").exists(), "Janus was started before the check"
