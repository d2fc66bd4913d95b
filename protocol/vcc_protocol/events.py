"""Events: the record. Small, frozen, past-tense facts, versioned from day one.

Each event carries ``v`` (its schema version), ``at`` (milliseconds since the
Unix epoch, UTC) and ``actor`` (a participant id, or ``@system`` / ``@admin``).
Fields listed in an event class's ``PRIVATE`` are contact data or diagnostics:
the events sent to a room that may not see them are redacted (``redact``).

Reading old events: ``decode_event`` upcasts an event stored under an older
version with the functions registered in ``UPCASTERS`` before validating it,
so a stored log never has to be rewritten.
"""

from collections.abc import Callable
from types import UnionType
from typing import Any, ClassVar

import msgspec

from ._base import File, snake
from .vocabulary import (
    BallotResult,
    BlockKind,
    Channel,
    DelegationClass,
    GroupingAnswer,
    ItemKind,
    Language,
    Role,
    Sector,
    SittingEnd,
    SpeechEnd,
    VoteAnswer,
)


class Event(msgspec.Struct, tag_field="type", tag=snake, frozen=True, kw_only=True):
    v: int = 1
    at: int
    actor: str
    PRIVATE: ClassVar[tuple[str, ...]] = ()


class ConsultationCreated(Event, frozen=True):
    code: str
    title: str
    days: list[str]
    slot_start: str
    slot_end: str
    tz: str
    limits: dict[DelegationClass, int]
    auto_cut: bool
    tail_ms: int
    turn_minutes: int
    majority_policy: str
    note: str = ""
    #: The slot the rules give, when this consultation's slot departs from it ("" otherwise).
    rules_slot: str = ""
    #: Contributions are accepted until this moment (ms since the epoch).
    contributions_deadline: int | None = None
    #: The circular's deadlines, named as it names them: name -> date (YYYY-MM-DD).
    deadlines: dict[str, str] = {}


class DelegationAdded(Event, frozen=True):
    delegation: str
    name: str
    cls: DelegationClass
    region: str
    sector: Sector | None
    voting_rights: bool


class VotingRightsChanged(Event, frozen=True):
    delegation: str
    voting_rights: bool


class ParticipantAdded(Event, frozen=True):
    participant: str
    name: str
    role: Role
    delegation: str | None
    languages: list[Language]
    designated_speaker: bool
    booth: Language | None
    contact: str | None = None
    PRIVATE: ClassVar[tuple[str, ...]] = ("contact",)


class ItemAdded(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    number: int
    code: str
    title: str
    titles: dict[Language, str]
    documents: list[str]
    package: bool
    kind: ItemKind
    minutes: int
    group: int | None = 1
    section: str = ""


class ItemMinutesSet(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    minutes: int


class Allocation(msgspec.Struct, frozen=True):
    item: str
    day: int
    minutes: int


class AgendaPlanned(Event, kw_only=True, frozen=True):
    v: int = 2
    #: In agenda order; ``day`` is an index into the consultation's days.
    allocations: list[Allocation]
    #: Items that fit on no day.
    unplaced: list[str]
    #: Minutes beyond the last day's slot needed to take every item.
    overflow_minutes: int


class SpeakingLimitSet(Event, kw_only=True, frozen=True):
    v: int = 2
    cls: DelegationClass
    seconds: int
    item: str | None


class SittingOpened(Event, frozen=True):
    day: str
    ends_at: int


class SittingClosed(Event, frozen=True):
    day: str
    reason: SittingEnd


class ItemTakenUp(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str


class FloorRequested(Event, kw_only=True, frozen=True):
    v: int = 2
    delegation: str
    item: str
    point_of_order: bool
    #: 0-based place in the item's queue where the core put the request.
    position: int
    participant: str


class FloorRequestWithdrawn(Event, kw_only=True, frozen=True):
    v: int = 2
    delegation: str
    item: str
    #: Whether the point of order was withdrawn (the ordinary request keeps its place), or the ordinary request.
    point_of_order: bool = False


class FloorRequestMoved(Event, kw_only=True, frozen=True):
    v: int = 2
    delegation: str
    item: str
    from_position: int
    to_position: int
    reason: str


class SpeakersListClosed(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str


class SpeakersListReopened(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str


class FloorGranted(Event, kw_only=True, frozen=True):
    v: int = 2
    delegation: str
    item: str
    point_of_order: bool


class GrantRevoked(Event, kw_only=True, frozen=True):
    v: int = 2
    delegation: str
    item: str


class SpeakerWentLive(Event, kw_only=True, frozen=True):
    v: int = 2
    participant: str
    delegation: str
    item: str
    language: Language
    time_to_floor_ms: int
    limit_ms: int


class SpeakingTimeExceeded(Event, frozen=True):
    participant: str
    delegation: str
    limit_ms: int


class SpeechEnded(Event, kw_only=True, frozen=True):
    v: int = 2
    participant: str
    delegation: str
    item: str
    reason: SpeechEnd
    duration_ms: int
    time_to_floor_ms: int
    #: Booths still interpreting when the speech ended: the next speaker waits for them.
    tail_booths: list[Language]
    #: The tail ends by this time at the latest.
    tail_until: int


class InterpretationTailEnded(Event, frozen=True):
    reason: str  # "finished" | "silence" (the media heard the booths stop) | "elapsed" | "override"


class BoothDutyTaken(Event, frozen=True):
    booth: Language
    participant: str


class HandoverRequested(Event, frozen=True):
    booth: Language
    participant: str


class HandoverCompleted(Event, frozen=True):
    """The incoming interpreter is on duty; the booth's microphone is closed until they open it."""

    booth: Language
    from_participant: str
    to_participant: str


class BoothMicSet(Event, frozen=True):
    """The interpreter on duty opened or closed the booth's microphone."""

    booth: Language
    participant: str
    live: bool


class BothPartnersLive(Event, frozen=True):
    """Written by older versions when a partner off duty opened a second microphone;
    a booth has one microphone now, so none is written, and old ones change nothing."""

    booth: Language


class BothPartnersTalking(Event, frozen=True):
    """The media heard the partner off duty talking while the interpreter on duty was live
    (``talking``: the both-live alarm), or heard that it stopped."""

    booth: Language
    talking: bool


class BoothSourceSet(Event, frozen=True):
    booth: Language
    source: Channel


class BoothSignalledFinished(Event, frozen=True):
    booth: Language


class SpeakerHeard(Event, frozen=True, kw_only=True):
    """The media heard the speaker's audio start: time to floor is measured from the grant to this moment."""

    participant: str
    delegation: str
    time_to_floor_ms: int


class HandoverDue(Event, frozen=True):
    booth: Language
    participant: str
    on_duty_since: int


class SpeakSlowlySignalled(Event, frozen=True):
    booth: Language
    participant: str


class CaptionPosted(Event, frozen=True):
    #: The line's number, from 1, across the consultation.
    line: int
    #: The day of the sitting the line belongs to (its WebVTT file).
    sitting: str
    text: str


class CaptionCorrected(Event, frozen=True):
    line: int
    text: str


class WebcastSet(Event, frozen=True):
    public: bool


class ConclusionProposed(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    text: str


class ConsensusRecorded(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str


class ItemDeferred(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    kind: BlockKind
    delegation: str


class PackageProposed(Event, kw_only=True, frozen=True):
    v: int = 2
    items: list[str]


class ItemPulledFromPackage(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    delegation: str


class PackageApproved(Event, kw_only=True, frozen=True):
    v: int = 2
    items: list[str]


class PointedToCorrespondence(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    policy: str
    voters: int
    required: int


class BallotOpened(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    deadline: int
    #: The deadline as the secretariat wrote it, in the consultation's time zone.
    deadline_local: str
    policy: str
    #: The council members with the right to vote when the ballot opened, who may answer.
    electorate: list[str]
    #: Yes votes needed, under the policy.
    required: int


class VoteCast(Event, kw_only=True, frozen=True):
    """A delegation's answer; a later one replaces it until the deadline."""

    v: int = 2
    item: str
    delegation: str
    answer: VoteAnswer
    #: Who answered on screen; None for a letter.
    participant: str | None = None
    #: The letter's reference; None for an answer given on screen.
    reference: str | None = None


class BallotClosed(Event, kw_only=True, frozen=True):
    v: int = 2
    item: str
    yes: int
    no: int
    abstain: int
    #: The electorate's delegations that did not answer.
    not_replied: list[str]
    required: int
    result: BallotResult


class ConnectionTestRecorded(Event, frozen=True):
    participant: str
    websocket_ok: bool
    transport: str | None = None
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    clock_offset_ms: float | None = None
    microphone: str | None = None
    camera: str | None = None
    input_level: float | None = None
    browser: str | None = None
    media: str | None = None
    media_rtt_ms: float | None = None
    PRIVATE: ClassVar[tuple[str, ...]] = (
        "transport",
        "rtt_ms",
        "jitter_ms",
        "clock_offset_ms",
        "microphone",
        "camera",
        "input_level",
        "browser",
        "media",
        "media_rtt_ms",
    )


class GroupingOpened(Event, frozen=True):
    deadline: int
    #: The deadline as the secretariat wrote it, in the consultation's time zone.
    deadline_local: str


class GroupingAnswered(Event, kw_only=True, frozen=True):
    v: int = 2
    delegation: str
    item: str
    participant: str
    #: Seen by the secretariat; the public sees that the delegation answered.
    answer: GroupingAnswer | None = None
    PRIVATE: ClassVar[tuple[str, ...]] = ("answer",)


class ItemProposed(Event, frozen=True):
    delegation: str
    title: str
    group: int


class GroupingClosed(Event, kw_only=True, frozen=True):
    v: int = 2
    #: Every item's group after the consultation.
    groups: dict[str, int]
    #: Items where the secretariat's final say differs from its proposal.
    overrides: list[str]
    #: The agenda that follows: the group-1 items in the circular's order.
    agenda: list[str]


class ContributionSubmitted(Event, kw_only=True, frozen=True):
    v: int = 2
    contribution: str
    item: str
    title: str
    submitters: list[str]
    document: str
    comments: str
    way_forward: str
    #: The uploaded PDF or DOCX, if the contribution came as a file.
    file: File | None
    #: Pages (of the file, or the text's equivalent length).
    pages: int
    #: Every submitter's contacts, copied: delegation -> contacts.
    contacts: dict[str, list[str]] | None = None
    PRIVATE: ClassVar[tuple[str, ...]] = ("contacts",)


class AttendanceRecorded(Event, frozen=True):
    participant: str
    day: str


class HelpRequested(Event, frozen=True):
    participant: str
    message: str | None = None
    PRIVATE: ClassVar[tuple[str, ...]] = ("message",)


class HelpResolved(Event, frozen=True):
    participant: str


EVENT_TYPES: tuple[type[Event], ...] = tuple(Event.__subclasses__())
EventUnion: UnionType | type[Event] = EVENT_TYPES[0]
for _cls in EVENT_TYPES[1:]:
    EventUnion = EventUnion | _cls
EVENTS_BY_NAME: dict[str, type[Event]] = {snake(c.__name__): c for c in EVENT_TYPES}


def redact(event: Event) -> Event:
    """The event as a room without access to contact data and diagnostics sees it."""
    if not event.PRIVATE:
        return event
    return msgspec.structs.replace(event, **{name: None for name in event.PRIVATE})


def _items_known_by_ref(raw: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: items were known by their number, now by their ref; a stored
    number becomes the ref, as the items of an agenda whose codes repeat are known."""
    if raw["type"] == "item_added":
        raw["item"] = str(raw["number"])
    elif isinstance(raw.get("item"), int):
        raw["item"] = str(raw["item"])
    for name in ("items", "unplaced", "overrides", "agenda"):
        if name in raw:
            raw[name] = [str(number) for number in raw[name]]
    if "groups" in raw:
        raw["groups"] = {str(number): group for number, group in raw["groups"].items()}
    if "allocations" in raw:
        raw["allocations"] = [{**allocation, "item": str(allocation["item"])} for allocation in raw["allocations"]]
    return {**raw, "v": 2}


#: (event type, stored version) -> function turning that version's map into the next version's.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    (name, 1): _items_known_by_ref
    for name, kind in EVENTS_BY_NAME.items()
    if any(f.name == "v" and f.default == 2 for f in msgspec.structs.fields(kind))
}

_encoder = msgspec.msgpack.Encoder()
_decoder: msgspec.msgpack.Decoder[Event] = msgspec.msgpack.Decoder(EventUnion)
_raw_decoder = msgspec.msgpack.Decoder()


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def current_version(name: str) -> int:
    """The version new events of this type are written with (the default of ``v``)."""
    version: int = next(f.default for f in msgspec.structs.fields(EVENTS_BY_NAME[name]) if f.name == "v")
    return version


def upcast(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored event map up to its type's current version."""
    name = raw["type"]
    target = current_version(name)
    while raw.get("v", 1) < target:
        raw = UPCASTERS[(name, raw.get("v", 1))](dict(raw))
    return raw


def decode_event(data: bytes) -> Event:
    """Stored bytes -> the current Event; older versions are upcast first."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError:
        event: Event = msgspec.convert(upcast(_raw_decoder.decode(data)), EventUnion)
        return event
