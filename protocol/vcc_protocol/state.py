"""The folded state of one consultation: the ``state`` of a ``snapshot``.

Plain msgspec Structs so that ``msgspec.to_builtins(state)`` is the snapshot a
client receives, and the browser folds events over exactly this shape. It is
part of the protocol (typed in the JSON Schema and in docs/protocol.md); the
core (``vcc.core``) folds events into it. ``apply`` mutates a state in place
(replaying 100,000 events must take well under a second); ``decide`` never
mutates it. The public audience receives it redacted: the fields an event
marks ``PRIVATE`` are None (hence optional here).
"""

import msgspec

from ._base import File
from .events import Allocation
from .vocabulary import LANGUAGES, Language


class Settings(msgspec.Struct, kw_only=True):
    limits: dict[str, int] = {}
    auto_cut: bool = False
    tail_ms: int = 4_000
    turn_minutes: int = 30
    majority_policy: str = "simple_majority_of_voting_council_members"


class Delegation(msgspec.Struct, kw_only=True):
    id: str
    name: str
    cls: str
    region: str
    sector: str | None
    voting_rights: bool


class Participant(msgspec.Struct, kw_only=True):
    id: str
    name: str
    role: str
    delegation: str | None
    languages: list[Language]
    designated_speaker: bool
    booth: str | None
    contact: str | None = None


class Correspondence(msgspec.Struct, kw_only=True):
    """How an item pointed to decision by correspondence is decided."""

    policy: str
    voters: int
    required: int


class Item(msgspec.Struct, kw_only=True):
    #: The item's identity (see ``vcc_protocol._base.ItemRef``).
    ref: str
    #: Its number within its section.
    number: int
    code: str
    #: The section of the agenda it is in ("" when the agenda has none).
    section: str = ""
    title: str
    titles: dict[str, str]
    documents: list[str]
    package: bool
    kind: str
    minutes: int
    #: 1: on this consultation's agenda; 2: deferred to the in-person session; None: no proposal.
    group: int | None = 1
    list_closed: bool = False
    #: Per-class speaking limits (seconds) overriding the consultation's for this item.
    limits: dict[str, int] = {}
    elapsed_ms: int = 0
    conclusion: str | None = None
    status: str = "open"
    #: How a concluded item was concluded: "consensus" or "package".
    concluded_by: str | None = None
    blocked_by: str | None = None
    block_kind: str | None = None
    correspondence: Correspondence | None = None


class Request(msgspec.Struct, kw_only=True):
    delegation: str
    participant: str
    point_of_order: bool
    requested_at: int
    moved_reason: str | None = None


class Grant(msgspec.Struct, kw_only=True):
    delegation: str
    item: str
    point_of_order: bool
    granted_at: int
    #: When the media first heard the granted delegation's speaker (before they pressed "go live").
    heard_at: int | None = None


class Speech(msgspec.Struct, kw_only=True):
    participant: str
    delegation: str
    item: str
    language: str
    started_at: int
    time_to_floor_ms: int
    limit_ms: int
    warned: bool = False
    #: Whether the media has heard the speaker: then time to floor ends at their first audio.
    heard: bool = False

    @property
    def ends_at(self) -> int:
        """When the speaking time runs out (ms): the warning is due, then the speech is cut."""
        return self.started_at + self.limit_ms


class SpeechRecord(msgspec.Struct, kw_only=True):
    participant: str
    delegation: str
    item: str
    language: str
    started_at: int
    duration_ms: int
    time_to_floor_ms: int
    reason: str


class Tail(msgspec.Struct, kw_only=True):
    until: int
    booths: list[str]


class Booth(msgspec.Struct, kw_only=True):
    language: Language
    on_duty: str | None = None
    duty_since: int | None = None
    #: Whether the booth's microphone is open. Only the interpreter on duty has
    #: one: duty and microphone are one state, so a partner off duty is never live.
    mic_open: bool = False
    #: "floor" or the language of the booth relayed.
    source: str = "floor"
    handover_requested_by: str | None = None
    handover_alerted: bool = False
    #: The both-live alarm: the media hears the partner off duty talking while the
    #: interpreter on duty is live (the partner's microphone is measured, never heard).
    both_talking: bool = False


class Vote(msgspec.Struct, kw_only=True):
    answer: str
    at: int
    #: Who answered on screen, or None for a letter.
    participant: str | None = None
    #: The letter's reference, for an answer received by letter.
    reference: str | None = None


class Ballot(msgspec.Struct, kw_only=True):
    """A decision by correspondence on an item's proposed conclusion."""

    item: str
    opened_at: int
    deadline: int
    deadline_local: str
    policy: str
    electorate: list[str]
    required: int
    #: Delegation -> its answer (the latest, until the deadline).
    votes: dict[str, Vote] = {}
    closed_at: int | None = None
    #: "approved" | "not_approved", once closed.
    result: str | None = None
    #: Answer -> count, once closed ("yes", "no", "abstain").
    tally: dict[str, int] = {}


class Sitting(msgspec.Struct, kw_only=True):
    day: str
    opened_at: int
    ends_at: int
    closed_at: int | None = None
    close_reason: str | None = None


class Move(msgspec.Struct, kw_only=True):
    delegation: str
    item: str
    from_position: int
    to_position: int
    reason: str
    at: int
    actor: str


class ConnectionTest(msgspec.Struct, kw_only=True):
    at: int
    websocket_ok: bool
    transport: str | None = None
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    clock_offset_ms: float | None = None
    microphone: str | None = None
    camera: str | None = None
    input_level: float | None = None
    browser: str | None = None
    #: The round trip through the media server: "ok", "failed", "unavailable"; None: not tested.
    media: str | None = None
    media_rtt_ms: float | None = None


class FailedAttempt(msgspec.Struct, kw_only=True):
    delegation: str
    item: str
    #: "grant_not_taken_up": the floor was granted but the delegation never went live.
    what: str
    #: "sitting_closed" (the slot ended) or "revoked" (by the chair).
    cause: str
    #: From the grant to its end.
    waited_ms: int
    at: int


class ProposedItem(msgspec.Struct, kw_only=True):
    delegation: str
    title: str
    group: int
    at: int


class Grouping(msgspec.Struct, kw_only=True):
    """The agenda consultation: council members answer per item until the deadline."""

    deadline: int
    deadline_local: str
    #: Delegation -> item -> "agree" | "other_group" (None in the public view: answers are the secretariat's).
    answers: dict[str, dict[str, str | None]] = {}
    proposed_items: list[ProposedItem] = []
    closed: bool = False
    overrides: list[str] = []


class Contribution(msgspec.Struct, kw_only=True):
    id: str
    item: str
    title: str
    submitters: list[str]
    document: str
    comments: str
    way_forward: str
    file: File | None
    pages: int
    at: int
    contacts: dict[str, list[str]] | None = None


class HelpRequest(msgspec.Struct, kw_only=True):
    at: int
    message: str | None = None


class SpeakSlowly(msgspec.Struct, kw_only=True):
    booth: str
    participant: str
    at: int


class CaptionLine(msgspec.Struct, kw_only=True):
    line: int
    #: The day of the sitting it was written in.
    sitting: str
    at: int
    text: str
    by: str
    corrected_at: int | None = None


def _booths() -> dict[str, Booth]:
    return {lang: Booth(language=lang) for lang in LANGUAGES}


class ConsultationState(msgspec.Struct, kw_only=True):
    created: bool = False
    code: str = ""
    title: str = ""
    days: list[str] = []
    slot_start: str = "12:00"
    slot_end: str = "15:00"
    tz: str = "Europe/Zurich"
    note: str = ""
    #: The slot the rules give, when this consultation's slot departs from it (the demo's).
    rules_slot: str = ""
    #: Contributions are accepted until this moment (ms since the epoch).
    contributions_deadline: int | None = None
    settings: Settings = msgspec.field(default_factory=Settings)
    delegations: dict[str, Delegation] = {}
    participants: dict[str, Participant] = {}
    #: The circular's deadlines as it names them: name -> date (YYYY-MM-DD).
    deadlines: dict[str, str] = {}
    items: dict[str, Item] = {}
    #: The agenda's sections in the circular's order (none when it has none).
    sections: list[str] = []
    #: The items on this consultation's agenda (group 1 and items with no proposal), in order.
    agenda: list[str] = []
    grouping: Grouping | None = None
    contributions: dict[str, Contribution] = {}
    plan: list[Allocation] = []
    plan_unplaced: list[str] = []
    plan_overflow_minutes: int = 0
    sitting: Sitting | None = None
    sittings: list[Sitting] = []
    current_item: str | None = None
    #: When the current item last started accruing elapsed time (an open sitting).
    current_since: int | None = None
    #: Item -> its queue of floor requests, in the order the floor will be given.
    queues: dict[str, list[Request]] = {}
    grant: Grant | None = None
    speech: Speech | None = None
    speeches: list[SpeechRecord] = []
    tail: Tail | None = None
    floor_language: str | None = None
    booths: dict[str, Booth] = msgspec.field(default_factory=_booths)
    package: list[str] = []
    #: Item ref -> its ballot of decision by correspondence.
    ballots: dict[str, Ballot] = {}
    moves: list[Move] = []
    speak_slowly: SpeakSlowly | None = None
    connection_tests: dict[str, ConnectionTest] = {}
    #: Participant -> the days (in the consultation's time zone) they took part.
    attendance: dict[str, list[str]] = {}
    #: Floor grants that were not taken up, for the technical report.
    failed_attempts: list[FailedAttempt] = []
    help_requests: dict[str, HelpRequest] = {}
    #: The latest caption lines (at most ``captions.KEPT``): what screens show and
    #: what may still be corrected. The full record is the event log (``reports.captions``).
    captions: list[CaptionLine] = []
    caption_count: int = 0
    #: When the last caption line was posted or corrected (the rate limit's reference).
    caption_last_at: int | None = None
    #: Whether the public webcast page (no token) serves this consultation.
    webcast: bool = False
