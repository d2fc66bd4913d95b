"""Where the node keeps its data and its secret, and how it is reached."""

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .auth.tokens import load_or_create_secret
from .practice import DEFAULT_MAX_ROOMS
from .service import DEFAULT_IDLE_SECONDS, DEFAULT_MAX_LOADED

DEFAULT_STORE = "var/store"
#: The store setting that records the public address `vcc serve` last served (for `vcc links`).
SERVED_URL_KEY = "served_url"


@dataclass
class Config:
    #: A path (embedded SQLite store) or a ``redis://`` URL.
    store: str = DEFAULT_STORE
    host: str = "127.0.0.1"
    port: int = 8080
    #: Allowed browser origins for socket.io (empty: same origin only; ["*"]: any).
    origins: list[str] = field(default_factory=list)
    #: The address people use to reach the service (for join links); default http://host:port.
    public_url: str | None = None
    #: A file holding the secret that signs join tokens (hex); see ``secret()``.
    secret_file: str | None = None

    #: Where uploaded contributions are kept (default: beside the embedded store, or var/uploads).
    uploads: str | None = None
    #: Consultations kept in memory at most, besides those in use (see ``vcc.service.Service``).
    max_loaded: int = DEFAULT_MAX_LOADED
    #: Seconds unused after which a consultation is unloaded from memory.
    idle_seconds: float = DEFAULT_IDLE_SECONDS
    #: Floor drills (practice consultations, in memory) the node runs at once at most.
    practice_rooms: int = DEFAULT_MAX_ROOMS
    #: The media plane: "off", "managed" (vcc starts its own Janus) or the URL of an existing Janus's HTTP API.
    media: str = "off"
    #: TURN URLs the browsers may relay through (coturn on TCP/TLS 443), and the file holding its static-auth-secret.
    turn: list[str] = field(default_factory=list)
    turn_secret_file: str | None = None
    #: Days a sitting's webcast recordings are kept (``vcc serve --recordings-days``).
    recordings_days: int = 30
    #: Negotiate permessage-deflate with the browsers (``vcc serve --no-deflate``: do not).
    #: Large messages then go compressed once for all (a burst's batch, a joining
    #: client's snapshot: 4-10x fewer bytes), for some 11 KiB more per connection.
    deflate: bool = True

    def janus_dir(self) -> Path:
        """This installation's Janus configuration, secrets and log (beside the embedded store, or var/janus)."""
        if self.is_redis:
            return Path("var/janus")
        path = Path(self.store)
        return (path if path.suffix not in (".sqlite", ".sqlite3", ".db") else path.parent) / "janus"

    def webcast_dir(self) -> Path:
        """The webcast's live HLS and the sittings' recordings (beside the embedded store, or var/webcast)."""
        if self.is_redis:
            return Path("var/webcast")
        path = Path(self.store)
        return (path if path.suffix not in (".sqlite", ".sqlite3", ".db") else path.parent) / "webcast"

    def uploads_dir(self) -> Path:
        if self.uploads:
            return Path(self.uploads)
        if self.is_redis:
            return Path("var/uploads")
        path = Path(self.store)
        return (path if path.suffix not in (".sqlite", ".sqlite3", ".db") else path.parent) / "uploads"

    @property
    def is_redis(self) -> bool:
        return self.store.startswith(("redis://", "rediss://", "unix://"))

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    async def secret(self) -> bytes:
        """The secret that signs join tokens: ``VCC_SECRET`` (hex), else ``secret_file``,
        else kept beside the embedded store, or in Redis so that every node shares it."""
        if os.environ.get("VCC_SECRET"):
            return bytes.fromhex(os.environ["VCC_SECRET"])
        if self.secret_file:
            return load_or_create_secret(Path(self.secret_file))
        if self.is_redis:
            import redis.asyncio as aioredis

            client = aioredis.from_url(self.store)
            try:
                await client.set("vcc:secret", secrets.token_hex(32), nx=True)
                return bytes.fromhex((await client.get("vcc:secret")).decode())
            finally:
                await client.aclose()
        path = Path(self.store)
        folder = path if path.suffix not in (".sqlite", ".sqlite3", ".db") else path.parent
        return load_or_create_secret(folder / "secret")
