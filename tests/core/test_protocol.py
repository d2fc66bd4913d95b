"""The wire protocol as the core uses it: every command and event round-trips
msgpack, events are versioned and upcast on read, private fields are
redacted, every rejection code is documented, every message has its rule."""

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from vcc.core import Rejected
from vcc.core.machine import APPLIERS, DECIDERS
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.errors import ERROR_CODES

CORE = Path(__file__).resolve().parents[2] / "server" / "vcc" / "core"


#: A value for each pattern the protocol uses; a new pattern needs its sample here.
PATTERN_SAMPLES = {
    r"^\d{4}-\d{2}-\d{2}$": "2021-06-08",
    r"^\d{2}:\d{2}$": "12:30",
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$": "2021-03-12T23:59",
    r"^[0-9a-f]{64}$": "0123456789abcdef" * 4,
    r"^[A-Za-z0-9_.:@-]+$": "x1",
    r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$": "PL 1.04",
    r"^(\d{2}:\d{2}-\d{2}:\d{2})?$": "12:00-15:00",
}


def sample(t: msgspec.inspect.Type) -> Any:
    """A valid value of a protocol type, not its default: every field is exercised."""
    mi = msgspec.inspect
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            assert t.pattern in PATTERN_SAMPLES, f"add a sample for the pattern {t.pattern!r}"
            return PATTERN_SAMPLES[t.pattern]
        return "Some text, with ünïcode 中文"[: t.max_length]
    if isinstance(t, mi.BoolType):
        return True
    if isinstance(t, mi.IntType):
        return t.ge if t.ge is not None else 7
    if isinstance(t, mi.FloatType):
        return t.ge + 0.5 if t.ge is not None else 12.5
    if isinstance(t, mi.LiteralType):
        return t.values[-1]
    if isinstance(t, mi.ListType):
        return [sample(t.item_type)]
    if isinstance(t, mi.DictType):
        return {sample(t.key_type): sample(t.value_type)}
    if isinstance(t, mi.UnionType):
        return sample(next(x for x in t.types if not isinstance(x, mi.NoneType)))
    if isinstance(t, mi.StructType):
        return {f.name: sample(f.type) for f in t.fields}
    raise AssertionError(f"no sample for {t!r}")


def build(cls: type, union: Any) -> Any:
    info = msgspec.inspect.type_info(cls)
    fields = {f.name: sample(f.type) for f in info.fields if f.name != "v"}  # the version keeps its default
    return msgspec.convert({"type": info.tag, **fields}, union)


@pytest.mark.parametrize("cls", c.COMMAND_TYPES, ids=lambda k: k.__name__)
def test_every_command_round_trips_msgpack(cls: type[c.Command]) -> None:
    command = build(cls, c.CommandUnion)
    assert type(command) is cls and command.id
    wire = msgspec.msgpack.decode(msgspec.msgpack.encode(command))
    assert wire["type"] == e.snake(cls.__name__)
    assert c.parse_command(wire) == command
    assert c.COMMANDS_BY_NAME[wire["type"]] is cls


@pytest.mark.parametrize("cls", e.EVENT_TYPES, ids=lambda k: k.__name__)
def test_every_event_round_trips_msgpack(cls: type[e.Event]) -> None:
    event = build(cls, e.EventUnion)
    assert type(event) is cls and event.v == e.current_version(e.snake(cls.__name__))
    assert e.decode_event(e.encode_event(event)) == event
    # Redacted, it is still a valid event of its type.
    assert type(e.decode_event(e.encode_event(e.redact(event)))) is cls


def test_commands_are_validated_strictly() -> None:
    assert c.parse_command({"type": "request_floor", "id": "1", "point_of_order": True}) == c.RequestFloor(id="1", point_of_order=True)
    bad = [
        {"type": "request_floor", "point_of_order": True, "delegation": "ch"},  # unknown field
        {"type": "grant_the_floor"},  # unknown type
        {"type": "move_floor_request", "delegation": "ch", "position": 1},  # missing reason
        {"type": "move_floor_request", "delegation": "ch", "position": 0, "reason": "r"},  # position from 1
        {"type": "add_delegation", "delegation": "a b", "name": "X", "cls": "council_member"},  # id pattern
        {"type": "add_delegation", "delegation": "x", "name": "X", "cls": "member"},  # not a class
        {"type": "set_booth_source", "source": "de"},  # not a channel
        {"type": "create_consultation", "code": "C", "title": "T", "days": []},  # no day
    ]
    bad = [{"id": "1", **data} for data in bad]
    bad += [
        {"type": "request_floor"},
        {"type": "request_floor", "id": ""},
        {"type": "request_floor", "id": "x" * 81},
    ]  # the id is required, 1 to 80 characters
    for data in bad:
        with pytest.raises(msgspec.ValidationError):
            c.parse_command(data)


# --- versions and upcasting -----------------------------------------------------------


def test_events_are_versioned_from_the_first_day() -> None:
    for name in e.EVENTS_BY_NAME:
        assert e.current_version(name) == (2 if (name, 1) in e.UPCASTERS else 1)
    raw = msgspec.msgpack.decode(e.encode_event(e.ItemTakenUp(at=1, actor="chair", item="3")))
    assert raw == {"type": "item_taken_up", "v": 2, "at": 1, "actor": "chair", "item": "3"}


@pytest.fixture
def speech_ended_v3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend ``speech_ended`` is at version 3: v1 had no tail fields, v2 called
    ``duration_ms`` ``seconds``. The upcasters bring v1 to v2 and v2 to v3."""

    def v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
        raw.setdefault("tail_booths", [])
        raw.setdefault("tail_until", raw["at"])
        return {**raw, "v": 2}

    def v2_to_v3(raw: dict[str, Any]) -> dict[str, Any]:
        raw["duration_ms"] = raw.pop("seconds") * 1000
        return {**raw, "v": 3}

    real = e.current_version
    monkeypatch.setattr(e, "current_version", lambda name: 3 if name == "speech_ended" else real(name))
    monkeypatch.setitem(e.UPCASTERS, ("speech_ended", 1), v1_to_v2)
    monkeypatch.setitem(e.UPCASTERS, ("speech_ended", 2), v2_to_v3)


COMMON = {
    "type": "speech_ended",
    "at": 1_000_000,
    "actor": "ch-1",
    "participant": "ch-1",
    "delegation": "ch",
    "item": "3",
    "reason": "yielded",
    "time_to_floor_ms": 3_000,
}


@pytest.mark.usefixtures("speech_ended_v3")
def test_old_events_are_upcast_on_read_through_every_version() -> None:
    v1 = msgspec.msgpack.encode({**COMMON, "v": 1, "seconds": 95})
    event = e.decode_event(v1)
    assert isinstance(event, e.SpeechEnded)
    assert (event.v, event.duration_ms, event.tail_booths, event.tail_until) == (3, 95_000, [], 1_000_000)
    v2 = msgspec.msgpack.encode({**COMMON, "v": 2, "seconds": 10, "tail_booths": ["en"], "tail_until": 1_004_000})
    event = e.decode_event(v2)
    assert (event.v, event.duration_ms, event.tail_booths) == (3, 10_000, ["en"])  # type: ignore[attr-defined]


@pytest.mark.usefixtures("speech_ended_v3")
def test_a_current_event_is_read_without_upcasting(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(raw: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("upcast a current event")

    monkeypatch.setitem(e.UPCASTERS, ("speech_ended", 1), fail)
    monkeypatch.setitem(e.UPCASTERS, ("speech_ended", 2), fail)
    current = msgspec.msgpack.encode({**COMMON, "v": 3, "duration_ms": 5, "tail_booths": [], "tail_until": 0})
    assert e.decode_event(current).duration_ms == 5  # type: ignore[attr-defined]


def test_an_event_that_no_upcaster_can_mend_is_an_error() -> None:
    broken = msgspec.msgpack.encode({"type": "item_taken_up", "v": 1, "at": 1, "actor": "chair"})
    with pytest.raises(msgspec.ValidationError):
        e.decode_event(broken)


# --- redaction ------------------------------------------------------------------------


def test_redaction_removes_contact_data_and_diagnostics() -> None:
    added = e.ParticipantAdded(
        at=1,
        actor="@admin",
        participant="p",
        name="P",
        role="delegate",
        delegation="ch",
        languages=["fr"],
        designated_speaker=True,
        booth=None,
        contact="p@example.org",
    )
    assert e.redact(added).contact is None and e.redact(added).name == "P"
    test = build(e.ConnectionTestRecorded, e.EventUnion)
    redacted = e.redact(test)
    assert redacted.websocket_ok is True and redacted.participant == test.participant
    assert all(getattr(redacted, name) is None for name in e.ConnectionTestRecorded.PRIVATE)
    assert all(getattr(test, name) is not None for name in e.ConnectionTestRecorded.PRIVATE)
    assert e.redact(e.HelpRequested(at=1, actor="p", participant="p", message="call me")).message is None


def test_events_without_private_fields_are_not_copied() -> None:
    event = e.ItemTakenUp(at=1, actor="chair", item="3")
    assert e.redact(event) is event


@pytest.mark.parametrize("cls", [k for k in e.EVENT_TYPES if k.PRIVATE], ids=lambda k: k.__name__)
def test_private_fields_are_optional_so_a_redacted_event_is_valid(cls: type[e.Event]) -> None:
    fields = {f.name: f for f in msgspec.structs.fields(cls)}
    for name in cls.PRIVATE:
        assert fields[name].default is None, f"{cls.__name__}.{name} must default to None"
    assert {"ParticipantAdded", "ConnectionTestRecorded", "HelpRequested"} <= {k.__name__ for k in e.EVENT_TYPES if k.PRIVATE}


# --- every message has its rule, every code is documented -----------------------------


def test_every_command_has_a_decider_and_every_event_an_applier() -> None:
    assert set(DECIDERS) == set(c.COMMAND_TYPES)
    assert set(APPLIERS) == set(e.EVENT_TYPES)


def test_every_rejection_code_in_the_core_is_documented() -> None:
    codes = set()
    for path in CORE.glob("*.py"):
        codes |= set(re.findall(r'Rejected\(\s*"([a-z_]+)"', path.read_text()))
    assert len(codes) > 25
    assert codes <= set(ERROR_CODES)
    with pytest.raises(AssertionError):
        Rejected("made_up_code", "nobody documented this")


def test_items_stored_by_number_are_read_as_known_by_their_ref() -> None:
    """Logs written when items were known by number (v1) read as if the number were the ref."""
    added = e.decode_event(
        msgspec.msgpack.encode(
            {
                "type": "item_added",
                "v": 1,
                "at": 1,
                "actor": "@admin",
                "number": 7,
                "code": "PL 1.05",
                "title": "T",
                "titles": {},
                "documents": [],
                "package": True,
                "kind": "other",
                "minutes": 15,
                "group": 1,
            }
        )
    )
    assert isinstance(added, e.ItemAdded) and (added.v, added.item, added.number, added.section) == (2, "7", 7, "")
    planned = e.decode_event(
        msgspec.msgpack.encode(
            {
                "type": "agenda_planned",
                "v": 1,
                "at": 1,
                "actor": "sec",
                "allocations": [{"item": 7, "day": 0, "minutes": 15}],
                "unplaced": [8],
                "overflow_minutes": 15,
            }
        )
    )
    assert isinstance(planned, e.AgendaPlanned) and (planned.allocations[0].item, planned.unplaced) == ("7", ["8"])
    closed = e.decode_event(
        msgspec.msgpack.encode(
            {
                "type": "grouping_closed",
                "v": 1,
                "at": 1,
                "actor": "sec",
                "groups": {7: 1, 8: 2},
                "overrides": [8],
                "agenda": [7],
            }
        )
    )
    assert isinstance(closed, e.GroupingClosed) and (closed.groups, closed.overrides, closed.agenda) == ({"7": 1, "8": 2}, ["8"], ["7"])


def test_ballots_written_with_item_numbers_are_read_with_refs() -> None:
    """The ballot events came with item numbers (v1) before items had refs; like every
    event that names an item they are v2, and a v1 one reads with the number as the ref."""
    common = {"v": 1, "at": 1, "actor": "sec", "item": 8}
    opened = e.decode_event(
        msgspec.msgpack.encode(
            {
                **common,
                "type": "ballot_opened",
                "deadline": 2,
                "deadline_local": "2021-07-02 17:00 Europe/Zurich",
                "policy": "simple_majority_of_voting_council_members",
                "electorate": ["ch"],
                "required": 1,
            }
        )
    )
    cast = e.decode_event(
        msgspec.msgpack.encode({**common, "type": "vote_cast", "delegation": "ch", "answer": "yes", "participant": "ch-1"})
    )
    closed = e.decode_event(
        msgspec.msgpack.encode(
            {
                **common,
                "type": "ballot_closed",
                "yes": 1,
                "no": 0,
                "abstain": 0,
                "not_replied": [],
                "required": 1,
                "result": "approved",
            }
        )
    )
    assert [(type(event), event.v, event.item) for event in (opened, cast, closed)] == [
        (e.BallotOpened, 2, "8"),
        (e.VoteCast, 2, "8"),
        (e.BallotClosed, 2, "8"),
    ]
    named = {name for name, kind in e.EVENTS_BY_NAME.items() if {"item", "items"} & {f.name for f in msgspec.structs.fields(kind)}}
    assert named <= {name for name, _ in e.UPCASTERS}, "an event that names an item is upcast from the numbers of v1"
