"""Commands: what a client (or the shell's clock) asks the procedure to do.

Every command is validated against these definitions before it reaches the
core. The wire form is a map with ``type`` (the snake_case class name), ``id``
(the client's command id, used to de-duplicate retries) and the fields below.
Who may send each command is the core's permission table
(``vcc.core.actors.PERMISSIONS``), documented in ``docs/protocol.md``.
"""

import uuid
from types import UnionType
from typing import Annotated, Literal

import msgspec

from ._base import File, Id, ItemRef, LongText, ShortText, snake
from .vocabulary import (
    BlockKind,
    Channel,
    DelegationClass,
    GroupingAnswer,
    ItemKind,
    Language,
    Role,
    Sector,
    VoteAnswer,
)

Group = Literal[1, 2]
#: A local date and time in the consultation's time zone, e.g. "2021-03-12T23:59".
LocalTime = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")]
#: A command's id: the sender makes it unique among its own commands (the server de-duplicates by sender and id).
CommandId = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class Command(msgspec.Struct, tag_field="type", tag=snake, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: The client's id for this command, required: a retry with the same id is
    #: answered with the first answer and never applied twice.
    id: CommandId


# --- setting up a consultation (secretariat) -------------------------------------------


class CreateConsultation(Command, frozen=True):
    """Create the consultation: its days, its daily slot and its settings. Once only."""

    code: ShortText
    title: ShortText
    days: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]], msgspec.Meta(min_length=1, max_length=31)]
    slot_start: Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}$")] = "12:00"
    slot_end: Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}$")] = "15:00"
    tz: ShortText = "Europe/Zurich"
    #: Default speaking-time limit per priority class, in seconds.
    limits: dict[DelegationClass, Annotated[int, msgspec.Meta(ge=10, le=3600)]] = {}
    #: Cut the microphone when the limit passes (otherwise only a warning).
    auto_cut: bool = False
    #: Longest wait for the booths to finish before the next speaker may go live.
    tail_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 4_000
    #: An interpreter's turn before a handover alert.
    turn_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)] = 30
    #: The majority rule for decision by correspondence (see vcc.core.outcomes.MAJORITY_POLICIES).
    majority_policy: ShortText = "simple_majority_of_voting_council_members"
    #: Why the slot differs from the rules, shown to everyone (the demo shifts it).
    note: ShortText = ""
    #: The slot the rules give ("12:00-15:00") when this consultation's slot departs from it
    #: (the demo shifts it to start now): every screen says so in its own language.
    rules_slot: Annotated[str, msgspec.Meta(pattern=r"^(\d{2}:\d{2}-\d{2}:\d{2})?$")] = ""
    #: Last day for written contributions (Geneva time, until 23:59); default 14 days before the first day.
    contributions_deadline: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    #: The circular's deadlines, named as it names them ("Replies on the grouping": "2020-05-22").
    deadlines: Annotated[dict[ShortText, Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]], msgspec.Meta(max_length=20)] = {}


class AddDelegation(Command, frozen=True):
    """Register a delegation (a state, the observer, or a sector member)."""

    delegation: Id
    name: ShortText
    cls: DelegationClass
    region: ShortText = ""
    sector: Sector | None = None
    voting_rights: bool = False


class SetVotingRights(Command, frozen=True):
    """Record that a council member gained or lost its right to vote (e.g. arrears)."""

    delegation: Id
    voting_rights: bool


class AddParticipant(Command, frozen=True):
    """Register a participant: a delegate of a delegation, or a staff member."""

    participant: Id
    name: ShortText
    role: Role
    delegation: Id | None = None
    languages: Annotated[list[Language], msgspec.Meta(max_length=6)] = []
    designated_speaker: bool = False
    #: The booth of an interpreter.
    booth: Language | None = None
    #: E-mail or phone; seen only by the secretariat and the technical team.
    contact: ShortText = ""


class AddItem(Command, frozen=True):
    """Put an item on the agenda (in the order added)."""

    #: The item's identity in every other command.
    item: ItemRef
    #: Its number within its section (sections are numbered from 1 each).
    number: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    code: ShortText
    #: The title in English (the circular's reference language).
    title: LongText
    #: The part of the agenda it belongs to, as the circular names it (e.g.
    #: "Urgent items for the virtual session"); sections keep the order they come in.
    section: ShortText = ""
    #: The title in other languages, where the circular gives it.
    titles: dict[Language, LongText] = {}
    documents: Annotated[list[ShortText], msgspec.Meta(max_length=20)] = []
    package: bool = False
    kind: ItemKind = "other"
    #: Estimated minutes for the time management plan.
    minutes: Annotated[int, msgspec.Meta(ge=1, le=600)] = 15
    #: The secretariat's proposed group: 1 (urgent: on this consultation's agenda),
    #: 2 (deferred to the in-person session), or none.
    group: Group | None = 1


class SetItemMinutes(Command, frozen=True):
    """Change an item's estimated minutes."""

    item: ItemRef
    minutes: Annotated[int, msgspec.Meta(ge=1, le=600)]


class PlanAgenda(Command, frozen=True):
    """Compute the time management plan: items to days in agenda order, never past the slot."""


class SetSpeakingLimit(Command, frozen=True):
    """Set the speaking-time limit of a priority class, for one item or as the default."""

    cls: DelegationClass
    seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)]
    item: ItemRef | None = None


# --- the sitting and the agenda (chair) -----------------------------------------------


class OpenSitting(Command, frozen=True):
    """Open today's sitting; only inside the day's slot."""


class CloseSitting(Command, frozen=True):
    """Close the sitting before the slot ends."""


class TakeUpItem(Command, frozen=True):
    """Make an item the current item."""

    item: ItemRef


class Tick(Command, frozen=True):
    """Sent by the shell's clock at the core's next deadline. Idempotent."""


# --- the floor ------------------------------------------------------------------------


class RequestFloor(Command, frozen=True):
    """Raise the delegation's hand on the current item, or raise a point of order.

    A point of order is a request of its own: it goes first, and the
    delegation's ordinary request, if it has one, keeps its place.
    """

    point_of_order: bool = False


class WithdrawFloorRequest(Command, frozen=True):
    """Lower the delegation's hand on the current item, or withdraw its point of order."""

    point_of_order: bool = False


class MoveFloorRequest(Command, frozen=True):
    """Move a delegation's request to another place in the queue; the reason is recorded.

    Its ordinary request: a point of order is not moved, it goes first.
    """

    delegation: Id
    position: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    reason: ShortText


class CloseSpeakersList(Command, frozen=True):
    """Close the list of speakers of the current item (points of order remain allowed)."""


class ReopenSpeakersList(Command, frozen=True):
    """Reopen the list of speakers of the current item."""


class GrantFloor(Command, frozen=True):
    """Give the floor to a delegation in the queue (the first one if none is named).

    A named delegation that raised a point of order is given the floor on it first.
    """

    delegation: Id | None = None


class RevokeGrant(Command, frozen=True):
    """Take back a grant the speaker has not taken up."""


class GoLive(Command, frozen=True):
    """The designated speaker of the granted delegation takes the floor."""


class YieldFloor(Command, frozen=True):
    """The live speaker ends their speech."""


class EndSpeech(Command, frozen=True):
    """The chair ends the current speech."""


# --- interpretation -------------------------------------------------------------------


class TakeBoothDuty(Command, frozen=True):
    """An interpreter takes duty in their booth (when nobody is on duty)."""


class RequestHandover(Command, frozen=True):
    """Either partner of a booth asks to hand over the duty."""


class AcceptHandover(Command, frozen=True):
    """The other partner accepts the handover and is now on duty."""


class SetBoothMic(Command, frozen=True):
    """An interpreter opens or closes their microphone."""

    live: bool


class SetBoothSource(Command, frozen=True):
    """A booth interprets from the floor or relays another booth's output."""

    source: Channel


class BoothFinished(Command, frozen=True):
    """The booth has finished interpreting the previous speech (ends its part of the tail)."""


class OverrideTail(Command, frozen=True):
    """The chair lets the next speaker go live without waiting for the booths."""


class SignalSpeakSlowly(Command, frozen=True):
    """A booth asks the current speaker to speak more slowly."""


# --- what the media observes (the server's media adapter only, never a browser) -------


class ObserveBoothSilent(Command, frozen=True):
    """The media heard the booth's interpreter on duty fall silent after the speech (ends its part of the tail)."""

    booth: Language


class ObserveBothTalking(Command, frozen=True):
    """The media heard a booth's partner off duty talking while the interpreter on duty was
    live (``talking``), or no longer: the both-live alarm, raised and cleared."""

    booth: Language
    talking: bool


class ObserveSpeakerHeard(Command, frozen=True):
    """The media heard the granted delegation's speaker: their audio really started (the true end of time to floor)."""

    participant: Id


# --- captions -------------------------------------------------------------------------

#: One caption line: what fits two lines of a screen (vcc.core.captions bounds its rate and correction).
CaptionText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PostCaption(Command, frozen=True):
    """A captioner adds a line to the floor's captions (in an open sitting)."""

    text: CaptionText


class CorrectCaption(Command, frozen=True):
    """A captioner replaces the text of a recent caption line (within the correction window)."""

    line: Annotated[int, msgspec.Meta(ge=1)]
    text: CaptionText


class SetWebcast(Command, frozen=True):
    """The secretariat opens the consultation's public webcast page (no token), or closes it."""

    public: bool


# --- outcomes -------------------------------------------------------------------------


class ProposeConclusion(Command, frozen=True):
    """Write or replace the proposed conclusion of an item."""

    item: ItemRef
    text: LongText


class RecordConsensus(Command, frozen=True):
    """The proposed conclusion of an item stands by consensus."""

    item: ItemRef


class BlockItem(Command, frozen=True):
    """A council member objects, asks to postpone or proposes to suspend: the item is deferred.

    A delegate blocks for their own delegation; the chair records it for a named one.
    """

    item: ItemRef
    kind: BlockKind
    delegation: Id | None = None


class ProposePackage(Command, frozen=True):
    """Put items forward for approval as a package."""

    items: Annotated[list[ItemRef], msgspec.Meta(min_length=1, max_length=200)]


class PullFromPackage(Command, frozen=True):
    """A council member takes an item out of the proposed package."""

    item: ItemRef
    delegation: Id | None = None


class ApprovePackage(Command, frozen=True):
    """The items still in the package are concluded together."""


class PointToCorrespondence(Command, frozen=True):
    """Point an urgent item's proposed conclusion to decision by correspondence (Rule 3.2)."""

    item: ItemRef


class OpenBallot(Command, frozen=True):
    """Open the ballot on an item pointed to decision by correspondence; it closes by itself at the deadline."""

    item: ItemRef
    #: Local time in the consultation's time zone (Geneva), e.g. "2021-07-02T17:00".
    deadline: LocalTime


class CastVote(Command, frozen=True):
    """A council member with the right to vote answers the ballot for its delegation (until the deadline)."""

    item: ItemRef
    answer: VoteAnswer


class RecordVoteByLetter(Command, frozen=True):
    """The secretariat records a council member's answer received by letter, with the letter's reference."""

    item: ItemRef
    delegation: Id
    answer: VoteAnswer
    #: The letter's reference, e.g. "Note verbale 2021/117 of 1 July 2021".
    reference: ShortText


# --- before the sitting: the agenda consultation and contributions ---------------------


class OpenGrouping(Command, frozen=True):
    """Circulate the items with the proposed grouping; council members answer until the deadline."""

    #: Local time in the consultation's time zone (Geneva), e.g. "2021-03-12T23:59".
    deadline: LocalTime


class AnswerGrouping(Command, frozen=True):
    """A council member agrees with an item's proposed group, or proposes the other group."""

    item: ItemRef
    answer: GroupingAnswer


class ProposeItem(Command, frozen=True):
    """A council member proposes an item that is not on the list."""

    title: LongText
    group: Group = 1


class CloseGrouping(Command, frozen=True):
    """After the deadline, the secretariat closes the agenda consultation; its final say
    per item (``final``, item -> group) overrides the proposal and is recorded."""

    final: Annotated[dict[ItemRef, Group], msgspec.Meta(max_length=1000)] = {}


class SubmitContribution(Command, frozen=True):
    """A member state (with any co-submitters) sends a written contribution on an item of the agenda."""

    contribution: Id
    item: ItemRef
    title: ShortText
    #: Other member states submitting it too (their contacts are copied).
    co_submitters: Annotated[list[Id], msgspec.Meta(max_length=50)] = []
    #: The document it refers to, e.g. "C21/8".
    document: ShortText = ""
    comments: LongText = ""
    way_forward: LongText = ""
    #: Set only by the HTTP upload path, after checking the file (clients cannot send it).
    file: File | None = None


# --- support --------------------------------------------------------------------------


class RecordConnectionTest(Command, frozen=True):
    """Store the result of a participant's connection test."""

    transport: Annotated[str, msgspec.Meta(max_length=20)]
    websocket_ok: bool
    rtt_ms: Annotated[float, msgspec.Meta(ge=0, le=600_000)]
    jitter_ms: Annotated[float, msgspec.Meta(ge=0, le=600_000)]
    clock_offset_ms: Annotated[float, msgspec.Meta(ge=-86_400_000, le=86_400_000)]
    microphone: Annotated[str, msgspec.Meta(max_length=20)]
    camera: Annotated[str, msgspec.Meta(max_length=20)]
    input_level: Annotated[float, msgspec.Meta(ge=0, le=1)]
    browser: ShortText
    #: The round trip through the media server: "ok" (ICE connected, the audio came back),
    #: "failed" (no ICE connection, or no audio back), "unavailable" (the media server is down).
    media: Literal["ok", "failed", "unavailable"] | None = None
    #: Audio out and back through the media server, jitter buffers included.
    media_rtt_ms: Annotated[float, msgspec.Meta(ge=0, le=60_000)] | None = None


class RecordAttendance(Command, frozen=True):
    """Note that the sender took part today (sent by their client when it joins); once a day."""


class RequestHelp(Command, frozen=True):
    """Ask the technical team for help."""

    message: ShortText


class ResolveHelp(Command, frozen=True):
    """The technical team closes a participant's help request."""

    participant: Id


COMMAND_TYPES: tuple[type[Command], ...] = tuple(Command.__subclasses__())
CommandUnion: UnionType | type[Command] = CreateConsultation
for _cls in COMMAND_TYPES[1:]:
    CommandUnion = CommandUnion | _cls
COMMANDS_BY_NAME: dict[str, type[Command]] = {snake(c.__name__): c for c in COMMAND_TYPES}


def new_id() -> str:
    """A fresh command id for a command a program builds itself (the clock's tick, an
    import, a test): random, so it is never taken for an earlier command, even one
    another process or an earlier run sent."""
    return uuid.uuid4().hex


def parse_command(data: object) -> Command:
    """A wire map -> a validated Command. Raises msgspec.ValidationError naming the field at fault."""
    if isinstance(data, dict):
        kind = data.get("type")
        cls = COMMANDS_BY_NAME.get(kind) if isinstance(kind, str) else None
        if cls is not None:
            # Straight to the named type: converting to the union of every
            # command costs about 35 us a call, to one struct under 1 us.
            return msgspec.convert(data, cls)
    command: Command = msgspec.convert(data, CommandUnion)
    return command
