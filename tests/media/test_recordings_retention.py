"""The retention of the webcast's recordings (``vcc serve --recordings-days N``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from vcc.media.hls import WebcastAudio


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
    audio = WebcastAudio(tmp_path, recordings_days=5)
    removed = audio.remove_expired(datetime(2026, 3, 15, 9, 0, tzinfo=UTC))
    assert removed == [old]
    assert not old.exists() and edge.exists() and recent.exists() and live.exists()
    assert audio.remove_expired(datetime(2026, 3, 15, 9, 0, tzinfo=UTC)) == []
