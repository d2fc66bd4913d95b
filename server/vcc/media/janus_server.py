"""Janus as vcc's child process: a configuration generated per installation, and
the process started and stopped with the node.

Debian's defaults are not fit to run as they are: they ship a known Admin API
secret, demo rooms and mountpoints with the password ``adminpwd``, every plugin
and transport, and APIs on every interface (``research/media-anchors.md``). So
vcc writes its own configuration folder, with:

- the HTTP API and the Admin API on 127.0.0.1 only (vcc is their only client;
  only the media ports face participants);
- secrets made once per installation and kept in ``secrets.json`` (mode 0600):
  the API secret, the Admin API secret, and the plugins' ``admin_key`` (room and
  mountpoint creation and, with ``lock_rtp_forward``, RTP forwarding need it);
- only the AudioBridge, Streaming and EchoTest plugins (the last for the connection
  test's round trip) and the HTTP transport, linked into folders of their own, so
  nothing else Debian installs is loaded;
- no static rooms or mountpoints: vcc creates them over the API from the state.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import secrets
import shutil
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

import aiohttp

log = logging.getLogger(__name__)

#: Where Debian's package puts Janus's plugins and transports.
DEBIAN_LIBS = Path("/usr/lib/x86_64-linux-gnu/janus")
PLUGINS = ("libjanus_audiobridge.so", "libjanus_streaming.so", "libjanus_echotest.so")
TRANSPORTS = ("libjanus_http.so",)
#: UDP ports of the participants' WebRTC media: the only ports that face clients.
DEFAULT_RTP_PORTS = (20000, 40000)
PR_SET_PDEATHSIG = 1
#: How long a started Janus may take to answer its HTTP API.
START_TIMEOUT_S = 15.0


def _die_with_parent() -> None:
    """In the child: Janus gets SIGTERM if vcc dies without stopping it (no orphaned media server)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class JanusUnavailable(Exception):
    """Janus is not installed or could not be started; the message says what to do."""


@dataclass(frozen=True)
class JanusSecrets:
    api_secret: str
    admin_secret: str
    admin_key: str
    #: Moderates the rooms and mountpoints vcc creates (mute, forward, destroy).
    room_secret: str

    @classmethod
    def load_or_create(cls, path: Path) -> JanusSecrets:
        if path.exists():
            return cls(**json.loads(path.read_text()))
        made = cls(*(secrets.token_urlsafe(24) for _ in range(4)))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(made.__dict__, out)
        return made


@dataclass(frozen=True)
class JanusEndpoint:
    """How vcc reaches a Janus: its HTTP API, and the secrets it was configured with."""

    url: str
    secrets: JanusSecrets
    admin_url: str | None = None


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(
    folder: Path,
    secrets_: JanusSecrets,
    *,
    http_port: int,
    admin_port: int,
    rtp_ports: tuple[int, int],
    log_file: Path,
    public_ip: str | None = None,
) -> Path:
    """Write the configuration folder; returns the path of ``janus.jcfg``.

    :param public_ip: the address participants reach Janus at, when the machine sits behind
        a 1:1 NAT (a cloud VM): Janus announces it in its ICE candidates (``nat_1_1_mapping``).
    """
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    libs = {"plugins": PLUGINS, "transports": TRANSPORTS, "events": (), "loggers": ()}
    for kind, names in libs.items():
        target = folder / kind
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        for name in names:
            (target / name).symlink_to(DEBIAN_LIBS / kind / name)
    nat_mapping = f'\n\tnat_1_1_mapping = "{public_ip}"\n\tkeep_private_host = false' if public_ip else ""
    files = {
        "janus.jcfg": f"""general: {{
	configs_folder = "{folder}"
	plugins_folder = "{folder / "plugins"}"
	transports_folder = "{folder / "transports"}"
	events_folder = "{folder / "events"}"
	loggers_folder = "{folder / "loggers"}"
	log_to_file = "{log_file}"
	debug_level = 4
	api_secret = "{secrets_.api_secret}"
	admin_secret = "{secrets_.admin_secret}"
	session_timeout = 60
}}
media: {{
	rtp_port_range = "{rtp_ports[0]}-{rtp_ports[1]}"
}}
nat: {{
	ignore_mdns = true{nat_mapping}
}}
""",
        "janus.transport.http.jcfg": f"""general: {{
	json = "plain"
	base_path = "/janus"
	http = true
	ip = "127.0.0.1"
	port = {http_port}
	https = false
}}
admin: {{
	admin_base_path = "/admin"
	admin_http = true
	admin_ip = "127.0.0.1"
	admin_port = {admin_port}
	admin_https = false
}}
""",
        "janus.plugin.audiobridge.jcfg": f"""general: {{
	admin_key = "{secrets_.admin_key}"
	lock_rtp_forward = true
	string_ids = true
}}
""",
        # EchoTest has nothing to configure; the empty file spares the log an error line.
        "janus.plugin.echotest.jcfg": "general: {\n}\n",
        "janus.plugin.streaming.jcfg": f"""general: {{
	admin_key = "{secrets_.admin_key}"
	string_ids = true
}}
""",
    }
    for name, text in files.items():
        # The files hold the secrets: readable by vcc's user only.
        path = folder / name
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(text)
    return folder / "janus.jcfg"


class JanusProcess:
    """A Janus started by vcc with the configuration of this installation.

    ``start`` picks free ports for the APIs (on 127.0.0.1), writes the
    configuration and waits until the HTTP API answers; ``stop`` ends it.
    """

    def __init__(self, folder: Path, rtp_ports: tuple[int, int] = DEFAULT_RTP_PORTS, binary: str = "janus") -> None:
        self.folder = folder.resolve()
        self.rtp_ports = rtp_ports
        self.binary = binary
        self.secrets = JanusSecrets.load_or_create(folder / "secrets.json")
        self.process: asyncio.subprocess.Process | None = None
        self.endpoint: JanusEndpoint | None = None
        #: Times Janus died and was started again.
        self.restarts = 0
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> JanusEndpoint:
        """Start Janus and keep it running: if it dies, it is started again on the same ports."""
        if shutil.which(self.binary) is None:
            raise JanusUnavailable(
                "Janus is not installed: run ./dev setup as root (it installs Debian's janus package), "
                "or `apt-get install janus`; or use an existing one with --janus URL, or run without media with --no-media."
            )
        http_port, admin_port = free_tcp_port(), free_tcp_port()
        self.endpoint = JanusEndpoint(f"http://127.0.0.1:{http_port}/janus", self.secrets, f"http://127.0.0.1:{admin_port}/admin")
        write_config(
            self.folder / "conf", self.secrets, http_port=http_port, admin_port=admin_port, rtp_ports=self.rtp_ports, log_file=self.log_file
        )
        await self._launch()
        self._supervisor = asyncio.ensure_future(self._supervise())
        return self.endpoint

    @property
    def log_file(self) -> Path:
        return self.folder / "janus.log"

    async def _launch(self) -> None:
        conf = self.folder / "conf"
        self.process = await asyncio.create_subprocess_exec(
            self.binary,
            "-C",
            str(conf / "janus.jcfg"),
            "-F",
            str(conf),
            "-N",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        await self._until_ready(self.log_file)

    async def _supervise(self) -> None:
        pause = 0.1
        while self.process is not None:
            status = await self.process.wait()
            if self.process is None:
                return
            log.warning("Janus exited with status %s; starting it again (log: %s)", status, self.log_file)
            self.restarts += 1
            try:
                await self._launch()
                pause = 0.1
            except JanusUnavailable as exc:
                log.error("%s", exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _until_ready(self, log_file: Path) -> None:
        assert self.process is not None and self.endpoint is not None
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process.returncode is not None:
                    raise JanusUnavailable(f"Janus exited with status {self.process.returncode} while starting; see {log_file}.")
                try:
                    async with http.get(f"{self.endpoint.url}/info", timeout=aiohttp.ClientTimeout(total=1)) as answer:
                        info = await answer.json(content_type=None)
                        if {"janus.plugin.audiobridge", "janus.plugin.streaming", "janus.plugin.echotest"} <= set(info.get("plugins", {})):
                            return
                except (TimeoutError, aiohttp.ClientError, ValueError):
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    self.process.kill()
                    await self.process.wait()
                    raise JanusUnavailable(f"Janus did not answer on {self.endpoint.url} within {START_TIMEOUT_S:.0f} s; see {log_file}.")
                await asyncio.sleep(0.05)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def stop(self) -> None:
        process, self.process = self.process, None
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
