"""``notify_participant``: the technical team tells one participant something.

Not recorded in the log: a notice reaches the connections of the participant
open at that moment, on any node (at most once), through socket.io's client
manager and the participant's room.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import socketio
from vcc_protocol.messages import MAX_NOTICE_CHARS, NotifyParticipant

from ..service import Ack, error
from .sessions import Session

#: Seconds a notice may take to reach the other nodes before the sender is told it failed.
NOTICE_TIMEOUT = 3.0


def participant_room(consultation: str, participant: str) -> str:
    """The socket.io room of a participant's connections, on every node (``notice``)."""
    return f"participant:{consultation}:{participant}"


class Notices:
    """The ``notify_participant`` handler of one gateway."""

    def __init__(self, sio: socketio.AsyncServer, sessions: dict[str, Session], refuse: Callable[[str, str, str], None]) -> None:
        self.sio = sio
        self.sessions = sessions
        self._refuse = refuse

    async def notify_participant(self, sid: str, data: Any) -> Ack:
        """The technical team tells one participant something, on whatever node they are."""
        session = self.sessions.get(sid)
        if session is None:
            return error("unauthorized", "This connection has not joined; reconnect with your join link.")
        if session.role != "technical":
            return error("not_allowed", "Only the technical team sends notices to participants.")
        if not session.bucket.take():
            self._refuse(sid, "rate_limited", "notify_participant")
            return error("rate_limited", "Too many messages from this connection; wait a moment and try again.")
        try:
            asked = msgspec.convert(data, NotifyParticipant)
        except msgspec.ValidationError as exc:
            self._refuse(sid, "invalid_command", f"notify_participant: {exc}")
            return error("invalid_command", f"A notice is {{participant, text}} with a text of 1 to {MAX_NOTICE_CHARS} characters: {exc}.")
        text = asked.text.strip()
        if not text:
            return error("invalid_command", f"A notice is {{participant, text}} with a text of 1 to {MAX_NOTICE_CHARS} characters.")
        runtime = session.runtime
        recipient = runtime.state.participants.get(asked.participant)
        if recipient is None:
            return error("unknown_participant", f"There is no participant {asked.participant!r} in this consultation.")
        sender = runtime.state.participants.get(session.actor)
        notice = {"from": session.actor, "name": sender.name if sender else session.actor, "text": text, "at": time.time()}
        try:
            # The manager delivers to this node's connections, then publishes
            # for the others; the bound keeps a frozen Redis from holding the ack.
            await asyncio.wait_for(self.sio.emit("notice", notice, to=participant_room(runtime.consultation, recipient.id)), NOTICE_TIMEOUT)
        except TimeoutError:
            return error(
                "unavailable",
                "The notice reached only the participant's connections on this server: the others could not be reached in time.",
            )
        return {"ok": True}
