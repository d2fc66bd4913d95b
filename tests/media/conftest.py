"""A private Janus per test, started by vcc's own ``JanusProcess`` in a temporary folder.

No skip when Janus is missing: ``./dev test`` installs it (Debian's package),
and a missing Janus fails the media tests with the message saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from vcc.media.janus_server import JanusProcess


@pytest.fixture
async def janus(tmp_path: Path) -> AsyncIterator[JanusProcess]:
    process = JanusProcess(tmp_path / "janus")
    await process.start()
    yield process
    await process.stop()
