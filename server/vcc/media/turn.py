"""TURN credentials for the browsers, so delegates behind firewalls reach Janus
through coturn on TCP/TLS 443 (``deploy/coturn/turnserver.conf``).

coturn's ``use-auth-secret`` (the TURN REST API): the username is
``<expiry, seconds since the epoch>:<participant>`` and the password
``base64(HMAC-SHA1(secret, username))``. coturn checks both and the expiry, so a
credential a page leaks is worth at most ``VALID_S`` and names its participant;
the secret never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path

#: How long a credential lasts: longer than a sitting, so a page connected at noon keeps its relay.
VALID_S = 6 * 3600


@dataclass(frozen=True)
class Turn:
    #: TURN URLs as a browser takes them, e.g. "turns:turn.example.org:443?transport=tcp".
    urls: tuple[str, ...]
    secret: str

    @classmethod
    def load(cls, urls: list[str], secret_file: Path) -> Turn:
        secret = secret_file.read_text().strip()
        if not secret:
            raise ValueError(f"{secret_file} is empty: put coturn's static-auth-secret in it.")
        return cls(tuple(urls), secret)

    def ice_servers(self, participant: str, now: float | None = None) -> list[dict[str, object]]:
        """The ``iceServers`` entry of a participant's RTCPeerConnection."""
        expiry = int((time.time() if now is None else now) + VALID_S)
        username = f"{expiry}:{participant}"
        digest = hmac.new(self.secret.encode(), username.encode(), hashlib.sha1).digest()
        return [{"urls": list(self.urls), "username": username, "credential": base64.b64encode(digest).decode()}]
