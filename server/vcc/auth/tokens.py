"""Join tokens: who a connection is, signed with the server's secret.

A token is ``base64url(msgpack(claims)) "." base64url(HMAC-SHA256)``; the
claims are the participant, role, consultation and expiry (ms since the
epoch). Tokens go in the fragment of join links (``/join#t=...``) so they do
not end up in proxy logs.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import msgpack

ADMIN_ROLE = "admin"
#: The public screen's links: the public audience, no command (see core/actors.py).
SCREEN_ROLE = "screen"
#: The deployment's operator: creates and lists consultations. Its token names
#: no consultation (``""``, which no stream may be called), so it can never be
#: mistaken for, or minted as, a consultation's admin token.
DEPLOYMENT_ROLE = "deployment-admin"


class TokenRefused(Exception):
    """The token cannot be used; the message tells the person what to do."""


@dataclass(frozen=True)
class Claims:
    participant: str
    role: str
    consultation: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, claims: Claims) -> str:
    body = msgpack.packb([claims.participant, claims.role, claims.consultation, claims.expires])
    mac = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(secret: bytes, token: object, now: int) -> Claims:
    """The claims of a valid token, or ``TokenRefused`` saying why not."""
    if not isinstance(token, str) or not token:
        raise TokenRefused("No join token was given: open the join link you received from the secretariat.")
    try:
        body_text, mac_text = token.split(".", 1)
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError):
        raise TokenRefused("This join link is damaged: copy the whole link again, or ask the secretariat for a new one.") from None
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        raise TokenRefused("This join link was not issued by this server (or was altered): ask the secretariat for a new one.")
    participant, role, consultation, expires = msgpack.unpackb(body)
    if now >= expires:
        raise TokenRefused("This join link has expired: ask the secretariat for a new one.")
    return Claims(participant, role, consultation, expires)


def load_or_create_secret(path: Path) -> bytes:
    """The server's secret, kept in a file readable by its owner only (made on first use)."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    path.touch(mode=0o600)
    path.write_text(secret.hex())
    return secret
