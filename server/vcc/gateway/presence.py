"""``presence``: what changed in this node's connections, for the technical team.

Sent to the staff of a consultation at most once every ``PRESENCE_INTERVAL``,
in messages of at most ``PRESENCE_MAX_CONNECTIONS``
(``vcc_protocol.messages.Presence``); a staff connection that joins gets the
whole list first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import msgspec
import socketio
from vcc_protocol.messages import PRESENCE_MAX_CONNECTIONS, Connection, Presence

from .fanout import Fanout
from .publisher import group
from .sessions import Session

PRESENCE_INTERVAL = 1.0


class PresenceBoard:
    """The connections of this node as the staff of each consultation were last told them."""

    def __init__(self, sio: socketio.AsyncServer, fanout: Fanout, sessions: dict[str, Session]) -> None:
        self.sio = sio
        self.fanout = fanout
        self.sessions = sessions
        self._due: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        #: Per consultation, the connections as the staff were last told them.
        self._told: dict[str, dict[int, Connection]] = {}

    def connections(self, consultation: str) -> dict[int, Connection]:
        """This node's connections to a consultation, by connection number."""
        return {s.conn: self._connection(s) for s in self.sessions.values() if s.runtime.consultation == consultation}

    def _connection(self, session: Session) -> Connection:
        transport = self.sio.transport(session.sid, "/")
        return Connection(
            conn=session.conn,
            participant=session.actor,
            role=session.role,
            transport=transport,
            connected_at=session.connected_at,
            **msgspec.structs.asdict(session.report),
        )

    def changed(self, consultation: str) -> None:
        self._due.add(consultation)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        await asyncio.sleep(PRESENCE_INTERVAL)
        due, self._due = self._due, set()
        for consultation in due:
            self._publish(consultation)

    def _publish(self, consultation: str) -> None:
        """Tell the staff what changed since they were last told; give staff
        connections that joined since the whole list."""
        now = self.connections(consultation)
        told = self._told.pop(consultation, {})
        if now:
            self._told[consultation] = now
        changed = [c for number, c in now.items() if told.get(number) != c]
        left = [number for number in told if number not in now]
        for message in _presence_messages(changed, left, reset=False):
            self.fanout.send(group(consultation, "staff"), "presence", message)
        for session in self.sessions.values():
            if session.audience == "staff" and not session.presence_listed and session.runtime.consultation == consultation:
                session.presence_listed = True
                for message in _presence_messages(list(now.values()), [], reset=True):
                    self.fanout.send_to(session.sid, "presence", message)


def _presence_messages(changed: list[Connection], left: list[int], *, reset: bool) -> Iterator[dict[str, Any]]:
    """``presence`` messages of at most PRESENCE_MAX_CONNECTIONS each; ``reset`` only in the first."""
    if not (changed or left or reset):
        return
    step = PRESENCE_MAX_CONNECTIONS
    for start in range(0, max(len(changed), len(left), 1), step):
        message = Presence(reset=reset and start == 0, set=changed[start : start + step], left=left[start : start + step])
        yield msgspec.to_builtins(message)
