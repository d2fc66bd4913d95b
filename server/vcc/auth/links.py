"""Join links: one signed link per participant, and the public screen's."""

import csv
import io
from dataclasses import dataclass

from vcc_protocol.state import ConsultationState
from vcc_protocol.vocabulary import SCREEN_ACTOR

from .tokens import ADMIN_ROLE, DEPLOYMENT_ROLE, SCREEN_ROLE, Claims, sign

#: Links stay valid this long by default: the whole consultation plus rehearsals.
DEFAULT_VALIDITY_MS = 60 * 24 * 3600 * 1000


@dataclass(frozen=True)
class JoinLink:
    participant: str
    name: str
    role: str
    delegation: str
    delegation_class: str
    url: str


def join_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/join#t={token}"


def screen_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/screen#t={token}"


def join_links(
    state: ConsultationState, consultation: str, secret: bytes, base_url: str, now: int, validity_ms: int = DEFAULT_VALIDITY_MS
) -> list[JoinLink]:
    """Every participant's link, then the public screen's (its own role: it is no participant's second connection)."""
    links = []
    for p in state.participants.values():
        delegation = state.delegations.get(p.delegation) if p.delegation else None
        token = sign(secret, Claims(p.id, p.role, consultation, now + validity_ms))
        role = f"interpreter:{p.booth}" if p.booth else p.role
        links.append(
            JoinLink(
                p.id, p.name, role, delegation.name if delegation else "", delegation.cls if delegation else "", join_url(base_url, token)
            )
        )
    screen_token = sign(secret, Claims(SCREEN_ACTOR, SCREEN_ROLE, consultation, now + validity_ms))
    links.append(JoinLink(SCREEN_ACTOR, "Public screen", SCREEN_ROLE, "", "", screen_url(base_url, screen_token)))
    return links


def admin_link(consultation: str, secret: bytes, base_url: str, now: int, validity_ms: int = DEFAULT_VALIDITY_MS) -> str:
    """A link for the secretariat's console acting with the admin API's rights."""
    return join_url(base_url, admin_token(consultation, secret, now, validity_ms))


def admin_token(consultation: str, secret: bytes, now: int, validity_ms: int = DEFAULT_VALIDITY_MS) -> str:
    return sign(secret, Claims("@admin", ADMIN_ROLE, consultation, now + validity_ms))


def deployment_admin_token(secret: bytes, now: int, validity_ms: int = DEFAULT_VALIDITY_MS) -> str:
    """The operator's token: creates and lists consultations (``vcc admin-token`` prints it)."""
    return sign(secret, Claims("@operator", DEPLOYMENT_ROLE, "", now + validity_ms))


def to_csv(links: list[JoinLink]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["participant", "name", "role", "delegation", "delegation_class", "url"])
    for link in links:
        writer.writerow([link.participant, link.name, link.role, link.delegation, link.delegation_class, link.url])
    return out.getvalue()


def sample(links: list[JoinLink]) -> list[JoinLink]:
    """One link per kind of participant: the chair, a delegate of each class, one
    interpreter per booth, the technical team, the secretariat, and the public screen."""
    chosen: dict[str, JoinLink] = {}
    for link in links:
        key = link.delegation_class or link.role
        if link.role == "delegate":
            key = f"delegate:{link.delegation_class}"
        chosen.setdefault(key, link)
    return list(chosen.values())
