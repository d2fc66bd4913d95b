"""A node in its own process (``vcc serve``), for restart and SIGKILL tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .ports import free_port


class ProcessNode:
    """``vcc serve`` on 127.0.0.1; ``start()`` again after ``kill()``/``stop()`` reuses store and port."""

    def __init__(
        self,
        store: str,
        *,
        port: int | None = None,
        log: Path | None = None,
        extra: list[str] | None = None,
        media: list[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """:param media: the media options (default ``--no-media``; ``["--janus", URL]`` for a shared Janus).
        :param cwd: the node's working folder (with Redis, its Janus secrets are in ``var/janus`` there)."""
        self.store = store
        self.media = media if media is not None else ["--no-media"]
        self.cwd = cwd
        self.port = port or free_port()
        self.log = log
        self.extra = extra or []
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        option = "--redis" if self.store.startswith("redis://") else "--store"
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vcc.cli", "serve", option, self.store, "--port", str(self.port), *self.media, *self.extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=self.cwd,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vcc serve exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"vcc serve did not become ready on {self.url}")

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        self.process = None
