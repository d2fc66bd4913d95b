"""The envelopes around commands and events (server <-> client), besides the
commands (``commands.py``) and events (``events.py``) themselves."""

from typing import Annotated, Any, Literal

import msgspec

from .state import ConsultationState
from .views import Views


class ErrorInfo(msgspec.Struct):
    #: One of ``errors.ERROR_CODES``.
    code: str
    #: A sentence for the person, saying what to do instead.
    message: str


class Ack(msgspec.Struct):
    """The answer to a ``command``: ``ok`` with the sequence number the log is at, or an error."""

    ok: bool
    seq: int | None = None
    error: ErrorInfo | None = None


class EventBatch(msgspec.Struct):
    """``events``: the consultation's events ``first``..``last``, in order.

    A client applies it only when ``first <= its seq + 1``, skipping the events
    it has; on a gap, or another ``epoch``, it sends ``sync``.
    """

    epoch: str
    first: int
    last: int
    #: Server send time (seconds since the epoch), for latency measurements.
    ts: float
    events: list[dict[str, Any]]
    #: The derived views after the last event: they replace the client's.
    views: Views


class Snapshot(msgspec.Struct):
    """``snapshot``: the whole state at ``seq``; ``resync`` when it replaces a state the client had."""

    epoch: str
    seq: int
    #: Redacted for the public audience (see ``state``).
    state: ConsultationState
    resync: bool
    #: The derived views at ``seq``.
    views: Views


class Welcome(msgspec.Struct):
    """``welcome``: who the connection is, sent first after every connect."""

    protocol: int
    participant: str
    role: str
    audience: Literal["public", "staff"]
    consultation: str
    seq: int
    epoch: str
    server_time: float


# --- connection diagnostics for the technical team (not recorded in the log) ------------

#: What a browser says of a device: the permission state, or what a check found.
DeviceState = Literal["granted", "denied", "prompt", "unknown", "ok", "silent", "missing", "error"]
IceState = Literal["new", "checking", "connected", "completed", "failed", "disconnected", "closed"]
CandidateType = Literal["host", "srflx", "prflx", "relay"]
#: The longest browser name a report may carry ("Chromium (headless) 126" is 23).
MAX_BROWSER_CHARS = 60


class Report(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """``report``: a client's figures about its own connection, relayed to the staff in ``presence``.

    Every field is optional (a client sends what it has measured so far) and bounded,
    since each report is relayed to every staff connection.
    """

    rtt_ms: Annotated[float, msgspec.Meta(ge=0, le=600_000)] | None = None
    jitter_ms: Annotated[float, msgspec.Meta(ge=0, le=600_000)] | None = None
    clock_offset_ms: Annotated[float, msgspec.Meta(ge=-86_400_000, le=86_400_000)] | None = None
    browser: Annotated[str, msgspec.Meta(max_length=MAX_BROWSER_CHARS)] | None = None
    microphone: DeviceState | None = None
    camera: DeviceState | None = None
    input_level: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    #: The listening connection's ICE state (RTCPeerConnection.iceConnectionState).
    ice: IceState | None = None
    #: The selected candidate pair's local type: "relay" means through TURN, "host" a direct path.
    candidate: CandidateType | None = None
    #: The audio level the listener receives (inbound-rtp audioLevel, 0..1).
    audio_level: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    #: The share of the listener's inbound audio packets lost (0..1).
    packet_loss: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


#: The longest notice the technical team may send a participant.
MAX_NOTICE_CHARS = 1000


class NotifyParticipant(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``notify_participant``: the technical team's message to every screen of one participant."""

    participant: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTICE_CHARS)]


Transport = Literal["websocket", "polling"]


class Connection(Report, kw_only=True):
    """One connection as the staff see it: who, how, since when, and its last report."""

    #: This node's number for the connection, the key of ``presence`` updates.
    conn: int
    participant: str
    role: str
    transport: Transport
    connected_at: float


#: The most connections one ``presence`` message carries; more come in several messages.
PRESENCE_MAX_CONNECTIONS = 100


class Presence(msgspec.Struct, kw_only=True):
    """``presence``: what changed in this node's connections since the last message.

    ``reset``: forget what you have first (sent to a staff connection that has just
    joined, before the first list). Then upsert ``set`` by ``conn`` and remove ``left``.
    At most ``PRESENCE_MAX_CONNECTIONS`` in ``set`` and in ``left``; a bigger change
    comes as several messages, the ``reset`` only in the first.
    """

    reset: bool = False
    set: list[Connection] = []
    left: list[int] = []
