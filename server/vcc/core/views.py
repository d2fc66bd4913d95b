"""The state projected per role.

Everyone sees the procedure; contact data and connection diagnostics only the
secretariat and the technical team (``STAFF_ROLES``). A delegate's view marks
its own delegation in the queue and itself in the participant list, with its
place and the expected wait.
"""

from typing import Any

import msgspec
from vcc_protocol.events import ConnectionTestRecorded, HelpRequested, ParticipantAdded

from .actors import STAFF_ROLES
from .floor import queue_position
from .forecast import forecast
from .state import ConsultationState

MINUTE = 60_000
#: Caption lines on the webcast page.
WEBCAST_CAPTIONS = 4
_PRIVATE_PARTICIPANT = ParticipantAdded.PRIVATE
_PRIVATE_TEST = ConnectionTestRecorded.PRIVATE
_PRIVATE_HELP = HelpRequested.PRIVATE


def audience(role: str) -> str:
    """The two audiences events and snapshots are prepared for: "staff" or "public"."""
    return "staff" if role in STAFF_ROLES else "public"


def snapshot(state: ConsultationState, audience_name: str) -> dict[str, Any]:
    """The whole state as plain data, redacted for the public audience exactly as
    ``vcc_protocol.events.redact`` redacts the events that built it."""
    data: dict[str, Any] = msgspec.to_builtins(state, str_keys=True)
    if audience_name != "staff":
        for participant in data["participants"].values():
            for name in _PRIVATE_PARTICIPANT:
                participant[name] = None
        for test in data["connection_tests"].values():
            for name in _PRIVATE_TEST:
                test[name] = None
        for request in data["help_requests"].values():
            for name in _PRIVATE_HELP:
                request[name] = None
        for contribution in data["contributions"].values():
            contribution["contacts"] = None
        if data["grouping"] is not None:
            for answers in data["grouping"]["answers"].values():
                for item in answers:
                    answers[item] = None
    return data


def view(state: ConsultationState, participant_id: str, now: int) -> dict[str, Any]:
    """What one participant's screen shows: the snapshot for their audience, the
    queue with their own delegation marked, themselves marked in the list."""
    me = state.participants[participant_id]
    data = snapshot(state, audience(me.role))
    delegation = me.delegation
    queue = state.queues.get(state.current_item, []) if state.current_item is not None else []
    data["queue"] = [
        {"delegation": r.delegation, "name": state.delegations[r.delegation].name, "point_of_order": r.point_of_order, "mine": r.delegation == delegation}
        for r in queue
    ]
    for pid, participant in data["participants"].items():
        participant["me"] = pid == participant_id
    place = queue_position(state, delegation, now) if delegation else None
    point_of_order = queue_position(state, delegation, now, point_of_order=True) if delegation else None
    data["me"] = {
        "participant": participant_id,
        "delegation": delegation,
        "role": me.role,
        "position": place[0] if place else None,
        "wait_minutes": round(place[1] / MINUTE) if place else None,
        # A point of order is a request of its own, shown apart: it goes first.
        "point_of_order_position": point_of_order[0] if point_of_order else None,
        "has_grant": state.grant is not None and state.grant.delegation == delegation,
        "is_speaking": state.speech is not None and state.speech.participant == participant_id,
    }
    data["forecast"] = msgspec.to_builtins(forecast(state, now).__dict__)
    return data


def webcast_view(state: ConsultationState) -> dict[str, Any]:
    """What the public webcast page shows: the sitting, the item, the speaker, the
    queue by delegation and the latest captions. Names only: no contact data, no
    participant ids, nothing that changes without an event (so the snapshot's bytes
    change exactly when the procedure does)."""
    item = state.items.get(state.current_item) if state.current_item is not None else None
    queue = state.queues.get(state.current_item, []) if state.current_item is not None else []
    speech = state.speech
    day = state.sitting.day if state.sitting else (state.sittings[-1].day if state.sittings else None)
    return {
        "code": state.code,
        "title": state.title,
        "tz": state.tz,
        "sitting": {"day": state.sitting.day, "opened_at": state.sitting.opened_at, "ends_at": state.sitting.ends_at} if state.sitting else None,
        "item": {"number": item.number, "code": item.code, "title": item.title, "titles": item.titles, "status": item.status} if item else None,
        "speaker": {
            "delegation": state.delegations[speech.delegation].name,
            "name": state.participants[speech.participant].name,
            "language": speech.language,
            "started_at": speech.started_at,
        } if speech else None,
        "granted": state.delegations[state.grant.delegation].name if state.grant and not speech else None,
        "queue": [{"delegation": state.delegations[r.delegation].name, "point_of_order": r.point_of_order} for r in queue],
        "floor_language": state.floor_language,
        "captions": [{"line": c.line, "text": c.text} for c in state.captions if c.sitting == day][-WEBCAST_CAPTIONS:],
        #: The closed sittings, whose archive (captions as WebVTT) the page lists.
        "archive": [s.day for s in state.sittings],
    }
