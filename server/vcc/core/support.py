"""Support: connection tests and help requests for the technical team."""

from datetime import datetime

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import ConnectionTest, ConsultationState, HelpRequest

from .actors import Actor
from .clock import zone
from .rejections import Rejected

#: A connection test's figures: the command's fields (the event and the state name them alike).
TEST_FIGURES: tuple[str, ...] = tuple(name for name in c.RecordConnectionTest.__struct_fields__ if name != "id")


def record_connection_test(state: ConsultationState, cmd: c.RecordConnectionTest, actor: Actor, now: int) -> list[e.Event]:
    # The figures are named once, in the protocol's command; the event and the state carry the same names.
    figures = {name: getattr(cmd, name) for name in TEST_FIGURES}
    return [e.ConnectionTestRecorded(at=now, actor=actor.id, participant=actor.id, **figures)]


def record_attendance(state: ConsultationState, cmd: c.RecordAttendance, actor: Actor, now: int) -> list[e.Event]:
    """Idempotent: a second join on the same day records nothing."""
    day = datetime.fromtimestamp(now / 1000, zone(state.tz)).date().isoformat()
    if day in state.attendance.get(actor.id, ()):
        return []
    return [e.AttendanceRecorded(at=now, actor=actor.id, participant=actor.id, day=day)]


def request_help(state: ConsultationState, cmd: c.RequestHelp, actor: Actor, now: int) -> list[e.Event]:
    return [e.HelpRequested(at=now, actor=actor.id, participant=actor.id, message=cmd.message)]


def resolve_help(state: ConsultationState, cmd: c.ResolveHelp, actor: Actor, now: int) -> list[e.Event]:
    if cmd.participant not in state.help_requests:
        raise Rejected("no_help_request", "This participant has no open help request.")
    return [e.HelpResolved(at=now, actor=actor.id, participant=cmd.participant)]


def _test_recorded(state: ConsultationState, ev: e.ConnectionTestRecorded) -> None:
    state.connection_tests[ev.participant] = ConnectionTest(at=ev.at, **{name: getattr(ev, name) for name in TEST_FIGURES})


def _attended(state: ConsultationState, ev: e.AttendanceRecorded) -> None:
    state.attendance.setdefault(ev.participant, []).append(ev.day)


def _help_requested(state: ConsultationState, ev: e.HelpRequested) -> None:
    state.help_requests[ev.participant] = HelpRequest(at=ev.at, message=ev.message)


def _help_resolved(state: ConsultationState, ev: e.HelpResolved) -> None:
    del state.help_requests[ev.participant]


DECIDERS = {
    c.RecordConnectionTest: record_connection_test,
    c.RecordAttendance: record_attendance,
    c.RequestHelp: request_help,
    c.ResolveHelp: resolve_help,
}
APPLIERS = {
    e.ConnectionTestRecorded: _test_recorded,
    e.AttendanceRecorded: _attended,
    e.HelpRequested: _help_requested,
    e.HelpResolved: _help_resolved,
}
