"""A real nginx running deploy/nginx/vcc.conf as it is, in front of test nodes.

The deploy configuration keeps its two site-specific parts in included files,
``vcc/nodes.conf`` (the nodes) and ``vcc/listen.conf`` (where nginx listens).
Here both are derived from the deploy copies by changing ports only: every
``server`` line of the upstream becomes the deploy line with a test node's
port (so ``max_fails``/``fail_timeout`` stay the deploy's), and ``listen 80``
becomes a free port on 127.0.0.1 (the ``[::]`` line is dropped). The main
file, ``vcc.conf``, is included from the repository untouched. nginx
resolves those relative includes against the folder of the main
configuration given with ``-c``, which is the test's own temp folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from . import ROOT
from .ports import free_port

DEPLOY = ROOT / "deploy" / "nginx"
_SERVER_LINE = re.compile(r"^server\s+127\.0\.0\.1:(\d+)(\s.*)?;$", re.MULTILINE)


def find_nginx() -> str:
    """The nginx binary; a missing one is an error, never a reason to skip."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found is None:
        raise RuntimeError("nginx is needed by tests/cluster: install Debian's package (apt-get install -y nginx)")
    return found


def nodes_conf(ports: list[int]) -> str:
    """deploy's vcc/nodes.conf with its nodes replaced by ``ports``, every other setting kept."""
    deployed = (DEPLOY / "vcc" / "nodes.conf").read_text()
    lines = _SERVER_LINE.findall(deployed)
    settings = {rest for _, rest in lines}
    assert len(settings) == 1, "every node line of deploy/nginx/vcc/nodes.conf should have the same settings"
    rest = settings.pop()
    return "".join(f"server 127.0.0.1:{port}{rest};\n" for port in ports)


def cache_conf(folder: Path) -> str:
    """deploy's vcc/cache.conf with the cache in ``folder``, every other setting kept."""
    deployed = (DEPLOY / "vcc" / "cache.conf").read_text()
    replaced, count = re.subn(r"proxy_cache_path \S+", f"proxy_cache_path {folder}", deployed)
    assert count == 1, "deploy/nginx/vcc/cache.conf should have one proxy_cache_path"
    return replaced


def listen_conf(port: int) -> str:
    """deploy's vcc/listen.conf listening on 127.0.0.1:``port`` instead of port 80."""
    deployed = (DEPLOY / "vcc" / "listen.conf").read_text()
    changed, count = re.subn(r"^listen 80;$", f"listen 127.0.0.1:{port};", deployed, flags=re.MULTILINE)
    assert count == 1, "deploy/nginx/vcc/listen.conf should listen on port 80 once"
    return re.sub(r"^listen \[::\]:80;\n", "", changed, flags=re.MULTILINE)


class Nginx:
    """nginx on a free 127.0.0.1 port, proxying to the nodes on ``node_ports``."""

    def __init__(self, node_ports: list[int]) -> None:
        self.binary = find_nginx()
        self.port = free_port()
        # Not under pytest's tmp_path: when the tests run as root, nginx's
        # workers run as nobody and must reach their temp folders.
        self.directory = Path(tempfile.mkdtemp(prefix="vcc-nginx-"))
        self.directory.chmod(0o755)
        (self.directory / "vcc").mkdir()
        (self.directory / "vcc" / "nodes.conf").write_text(nodes_conf(node_ports))
        (self.directory / "vcc" / "listen.conf").write_text(listen_conf(self.port))
        (self.directory / "vcc" / "cache.conf").write_text(cache_conf(self.directory / "webcast-cache"))
        d = self.directory
        (d / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp-body;
    proxy_temp_path {d}/tmp-proxy;
    fastcgi_temp_path {d}/tmp-fastcgi;
    uwsgi_temp_path {d}/tmp-uwsgi;
    scgi_temp_path {d}/tmp-scgi;
    include {DEPLOY / "vcc.conf"};
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self, *extra: str) -> list[str]:
        return [
            self.binary,
            "-p",
            str(self.directory),
            "-c",
            str(self.directory / "nginx.conf"),
            "-e",
            str(self.directory / "error.log"),
            *extra,
        ]

    def start(self, timeout: float = 10) -> None:
        checked = subprocess.run(self._command("-t"), capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refused the configuration:\n{checked.stderr}")
        self.process = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {self.error_log()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"nginx did not listen on {self.url}")

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)
