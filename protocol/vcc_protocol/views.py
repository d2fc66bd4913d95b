"""The derived views: what the screens show that is not in the state itself.

The server computes them from the state and the time (``vcc.core.views``) and
sends them with every ``snapshot`` and ``events`` message, so that a browser
folds events and renders, and decides nothing: the queue's places and waits,
the seven channels' routing, the forecast, who may do what, the booth table,
the clock, the agenda consultation's phase and the statistics. Every figure is
as of ``at`` (the server's clock when the batch was sent); a screen that shows
a running clock adds the time since ``at`` to a figure marked as running.

No sentences: every field is a code, a number or a name from the state; the
client words them in the reader's language.
"""

from typing import Literal

import msgspec

#: Bumped when a view changes shape; a client that does not know it asks for a snapshot.
VIEWS_VERSION = 3

#: The seven channels a listener may choose: the floor, then the six languages.
CHANNELS = ("floor", "ar", "zh", "en", "fr", "ru", "es")


class RouteWarning(msgspec.Struct, kw_only=True):
    """A booth on the listener's path that is not working while someone speaks."""

    booth: str
    #: True: the listener's own booth; False: a relay source on the way.
    own: bool
    kind: Literal["muted", "handover"]


class ChannelRoute(msgspec.Struct, kw_only=True):
    """What a listener who selected ``channel`` hears."""

    channel: str
    #: "floor", or the language of the booth whose output to play.
    play: str
    #: "floor": the floor channel; "own_language": the channel is the floor language,
    #: so the floor itself plays (the same-language echo rule); "interpreted": the
    #: booth works from the floor; "relay": through the booths of ``relay``.
    kind: Literal["floor", "own_language", "interpreted", "relay"]
    #: The booths the sound comes through, nearest first ([] unless ``kind`` is "relay").
    relay: list[str] = []
    warning: RouteWarning | None = None


class QueueView(msgspec.Struct, kw_only=True):
    """The current item's queue, entry by entry in the order the state holds it
    (``queues[current_item]``, the order the floor will be given). Parallel lists, not
    a struct per entry: a request moves everyone behind it, so every batch of a burst
    of requests resends the whole view to every connection, and a few bytes per entry
    keep that near the events' own size. A screen picks its own entry by its delegation."""

    #: Each entry's place, from 1.
    places: list[int]
    #: Each entry's expected wait in whole seconds: the running speech's remainder, the
    #: delegation granted the floor, and everyone ahead, each at their speaking limit.
    wait_s: list[int]
    #: Delegation -> speeches it has made on the current item (those with none are left out).
    spoken: dict[str, int]


class QueueTail(msgspec.Struct, kw_only=True):
    """The queue view from entry ``start`` on, when everything before it is unchanged: a
    request joins near the end (the council members' requests are a few among many), so
    during a burst an update carries a few entries where the whole view is kilobytes.
    ``spoken`` is unchanged (the whole ``queue`` is sent when it changes)."""

    #: Index of the first entry sent; the entries before it are kept as they are.
    start: int
    #: The places and waits from ``start`` on: after them, the queue ends.
    places: list[int]
    wait_s: list[int]


class Forecast(msgspec.Struct, kw_only=True):
    """What will fit before today's slot end and in the remaining days (the item by item
    expectation is ``Views.expected``: it changes far less often)."""

    #: Open items expected to be finished today.
    fits_today: int
    #: Open items that will not fit in the remaining slots.
    will_not_fit: int
    #: Minutes beyond the remaining slots needed to take every open item.
    overflow_minutes: float
    minutes_left_today: float
    days_left: int


class Slot(msgspec.Struct, kw_only=True):
    """One day's slot in ms since the epoch."""

    day: str
    start: int
    end: int


class Clock(msgspec.Struct, kw_only=True):
    """The clock figures the screens show. What runs is given by when it started or ends,
    not by its value at ``at``, so the view changes when something happens, not with every
    batch (a running clock shows ``current_elapsed_ms`` + (now - ``running_since``))."""

    #: Rule: the sitting is open from its opening until the slot end, even before the tick closes it.
    sitting_open: bool
    #: Time spent on the current item (ms; the others': their ``elapsed_ms`` in the state)
    #: before its running stretch, if it runs; in all, if not.
    current_elapsed_ms: int
    #: When the current item's running stretch began (ms since the epoch), or None.
    running_since: int | None
    #: When the running speech reaches its limit (ms since the epoch), or None without one.
    speech_ends_at: int | None
    #: Whether the interpretation tail holds the next speaker back.
    tail_holds: bool


class Allowed(msgspec.Struct, kw_only=True):
    """What a delegation of one class may do now, on the current item and in the preparation."""

    request_floor: bool
    point_of_order: bool
    #: Object, postpone or suspend the current item.
    block: bool
    #: Whether the class answers the agenda consultation at all (council members)...
    answers_grouping: bool
    #: ...and whether it may answer now (the consultation is open).
    answer_grouping: bool
    #: Submit a contribution (a member state, before the deadline).
    contribute: bool
    #: Whether the class is a member state (counted as a state in attendance).
    member_state: bool


class BoothRow(msgspec.Struct, kw_only=True):
    """One line of the booth table."""

    language: str
    on_duty: str | None
    mic_open: bool
    #: "floor" or the language of the booth relayed.
    source: str
    floor_language: bool
    #: The booth is still finishing the previous speech (the interpretation tail).
    finishing: bool
    handover_requested_by: str | None
    alarms: list[Literal["handover_due", "silent", "both_live"]]


class GroupingView(msgspec.Struct, kw_only=True):
    """The agenda consultation's figures."""

    phase: Literal["none", "open", "answers_closed", "closed"]
    #: Council members that have answered at least one item (what the public may see).
    answered: int
    council_members: int
    #: The circular's items in its order: its sections in turn.
    items: list[str]
    #: Item -> the group it stands in until the secretariat decides (no proposal counts with group 1).
    proposed_group: dict[str, int]


class Limits(msgspec.Struct, kw_only=True):
    """The bounds a form checks before sending (the server checks them again)."""

    #: A text contribution: at most ``max_pages`` of ``characters_per_page`` (code points).
    max_pages: int
    characters_per_page: int
    max_upload_bytes: int


class Bucket(msgspec.Struct, kw_only=True):
    #: Seconds, from (inclusive) and to (exclusive; None: no upper bound).
    start: float
    end: float | None
    count: int


class TimeToFloor(msgspec.Struct, kw_only=True):
    """Grant -> live, over the recorded speeches: the technical team's figure."""

    goal_ms: int
    count: int
    median_ms: int | None
    p90_ms: int | None
    under_goal: int
    histogram: list[Bucket]


RequestBlocker = Literal["none", "no_item", "item_not_open", "list_closed"]


class Views(msgspec.Struct, kw_only=True):
    """Every derived view of one consultation at ``at``: a ``snapshot`` carries them all."""

    version: int = VIEWS_VERSION
    #: The server's clock when the views were computed (ms since the epoch).
    at: int
    #: Channel -> its routing, for the seven channels in ``CHANNELS`` order.
    routes: dict[str, ChannelRoute]
    queue: QueueView
    #: Why nobody may ask for the floor now (a point of order aside), or "none".
    request_blocker: RequestBlocker
    forecast: Forecast
    #: When the open items are expected: "today", "YYYY-MM-DD" (a later day of the
    #: consultation) or "will_not_fit" -> the items, in the order they will be taken (grouped: a
    #: batch that changes one expectation resends a few bytes per item, not a map entry each).
    expected: dict[str, list[str]]
    #: Every day's slot (ms since the epoch).
    slots: list[Slot]
    #: Agenda item -> its allocated minutes: the plan's, else its estimate.
    allocated_minutes: dict[str, int]
    clock: Clock
    #: Delegation class -> what it may do now.
    allowed: dict[str, Allowed]
    booths: list[BoothRow]
    grouping: GroupingView
    limits: Limits
    time_to_floor: TimeToFloor


class ViewsUpdate(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The views an ``events`` message carries: ``version``, ``at`` and only the views that
    changed since the previous message (most batches change two or three of them). A client
    replaces each view it receives and keeps the others."""

    version: int = VIEWS_VERSION
    at: int
    routes: dict[str, ChannelRoute] | None = None
    queue: QueueView | None = None
    #: Instead of ``queue``: only its changed end.
    queue_tail: QueueTail | None = None
    request_blocker: RequestBlocker | None = None
    forecast: Forecast | None = None
    expected: dict[str, list[str]] | None = None
    slots: list[Slot] | None = None
    allocated_minutes: dict[str, int] | None = None
    clock: Clock | None = None
    allowed: dict[str, Allowed] | None = None
    booths: list[BoothRow] | None = None
    grouping: GroupingView | None = None
    limits: Limits | None = None
    time_to_floor: TimeToFloor | None = None
