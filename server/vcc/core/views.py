"""The state projected per audience, and the views derived from it.

Everyone sees the procedure; contact data and connection diagnostics only the
secretariat and the technical team (``STAFF_ROLES``).

``views`` is every figure a screen shows that is not in the state itself (the
queue's places and waits, the routing of the seven channels, the forecast, who
may do what, the booth table, the clock, the agenda consultation, time to
floor): computed here, once per batch, so that no client re-implements a rule.

Per audience or per role: every view is derived from the procedure, which both
audiences see alike, so one ``Views`` serves both (the publisher encodes it in
each audience's message, never once per connection). What differs by who reads
it is keyed inside the view rather than sent apart: "who may do what" by
delegation class (the rules key on the class; four small entries cost less than
an encode per class), the queue by delegation (a screen picks its own entry by
its delegation). Nothing in a view is private: the public may read it all.
"""

import math
from collections.abc import Callable, Collection, Iterable
from operator import ne
from typing import Any, Literal

import msgspec
from vcc_protocol import events as e
from vcc_protocol._base import MAX_UPLOAD_BYTES
from vcc_protocol.state import ConsultationState, Item
from vcc_protocol.views import (
    CHANNELS,
    VIEWS_VERSION,
    Allowed,
    BoothRow,
    Bucket,
    Clock,
    Forecast,
    GroupingView,
    Limits,
    QueueView,
    RequestBlocker,
    Slot,
    TimeToFloor,
    Views,
)
from vcc_protocol.vocabulary import DELEGATION_CLASSES

from .actors import STAFF_ROLES
from .clock import sitting_is_open, slots
from .contributions import CHARACTERS_PER_PAGE, MAX_PAGES, MEMBER_STATES
from .floor import MAY_RAISE_POINT_OF_ORDER, queue_wait_ms
from .forecast import Forecast as ForecastFigures
from .forecast import allocated_minutes, forecast
from .grouping import MAY_ANSWER
from .interpretation import route, tail_holds
from .outcomes import MAY_BLOCK

#: Caption lines on the webcast page.
WEBCAST_CAPTIONS = 4
#: Time to floor (grant -> live): the goal, and the histogram's bucket edges in seconds.
TIME_TO_FLOOR_GOAL_MS = 3_000
TIME_TO_FLOOR_BUCKETS = (1, 2, 3, 5, 10, 20)
_PRIVATE_PARTICIPANT = e.ParticipantAdded.PRIVATE
_PRIVATE_TEST = e.ConnectionTestRecorded.PRIVATE
_PRIVATE_HELP = e.HelpRequested.PRIVATE


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


def views(state: ConsultationState, now: int) -> Views:
    """Every derived view at ``now``. A function of the state and the time only."""
    return Views(at=now, **_compute(state, now, _VIEWS))


def wire_views(state: ConsultationState, now: int) -> dict[str, Any]:
    """``views`` as the plain data an encoder of messages takes (the publisher's msgpack)."""
    data: dict[str, Any] = msgspec.to_builtins(views(state, now))
    return data


_NO_FORECAST = Forecast(fits_today=0, will_not_fit=0, overflow_minutes=0.0, minutes_left_today=0.0, days_left=0)
_LIMITS = Limits(max_pages=MAX_PAGES, characters_per_page=CHARACTERS_PER_PAGE, max_upload_bytes=MAX_UPLOAD_BYTES)

_ViewMaker = Callable[[ConsultationState, int, ForecastFigures | None], Any]

#: How each view is computed from the state, the time and the forecast (computed once for
#: the two views made from it).
_VIEWS: dict[str, _ViewMaker] = {
    "routes": lambda state, now, fc: {channel: route(state, channel) for channel in CHANNELS},
    "queue": lambda state, now, fc: _queue(state, now),
    "request_blocker": lambda state, now, fc: _request_blocker(state),
    "forecast": lambda state, now, fc: _forecast(fc) if fc else _NO_FORECAST,
    "expected": lambda state, now, fc: _expected(fc) if fc else {},
    "slots": lambda state, now, fc: [Slot(day=day, start=start, end=end) for day, start, end in slots(state)] if state.created else [],
    "allocated_minutes": lambda state, now, fc: allocated_minutes(state),
    "clock": lambda state, now, fc: _clock(state, now),
    "allowed": lambda state, now, fc: {cls: _allowed(state, cls, now) for cls in DELEGATION_CLASSES},
    "booths": lambda state, now, fc: _booths(state),
    "grouping": lambda state, now, fc: _grouping(state, now),
    "limits": lambda state, now, fc: _LIMITS,
    "time_to_floor": lambda state, now, fc: _time_to_floor(state),
}

#: The views an event of each kind can change (what its applier writes, read by which view);
#: a kind not listed may change any view. After a batch the feed recomputes only these and
#: the views of the time (``_of_time``): every view costs a few hundred microseconds for the
#: 2021 agenda, and a batch of floor requests changes two of them. A view missing here would
#: go stale on every screen: ``test_the_feed_sends_exactly_the_views_a_full_recomputation_
#: finds_changed`` follows random logs and compares the feed with a full recomputation.
_CHANGES: dict[type[e.Event], frozenset[str]] = {
    e.FloorRequested: frozenset({"queue", "forecast", "expected"}),
    e.FloorRequestWithdrawn: frozenset({"queue", "forecast", "expected"}),
    e.ItemTakenUp: frozenset({"queue", "request_blocker", "forecast", "expected", "clock", "allowed"}),
    e.CaptionPosted: frozenset(),
    e.CaptionCorrected: frozenset(),
    e.ConnectionTestRecorded: frozenset(),
    e.AttendanceRecorded: frozenset(),
    e.HelpRequested: frozenset(),
    e.HelpResolved: frozenset(),
}


def _of_time(state: ConsultationState) -> set[str]:
    """The views that change with the time alone in this state."""
    names = {"clock", "allowed", "forecast", "expected"}
    if state.speech is not None:  # the waits count down the speech's remainder
        names.add("queue")
    if state.grouping is not None and not state.grouping.closed:  # its phase ends at the deadline
        names.add("grouping")
    return names


def _compute(state: ConsultationState, now: int, names: Collection[str]) -> dict[str, Any]:
    fc = forecast(state, now) if state.created and ("forecast" in names or "expected" in names) else None
    return {name: _VIEWS[name](state, now, fc) for name in names}


class ViewsFeed:
    """The views last sent to a consultation's clients, so that an ``events`` message
    carries only the views that changed (a ``ViewsUpdate``). The whole set is kilobytes
    (the expectations and the agenda consultation hold every item) against a batch's
    couple of hundred bytes of events, and every byte is written to every connection.

    After a batch only the views its events can change (``_CHANGES``) and those of the
    time are recomputed; they are compared as structs and only a changed one is made
    wire data. A queue whose beginning is unchanged goes as its end (``QueueTail``): a
    burst of requests adds entries near the end of a queue of a thousand."""

    def __init__(self) -> None:
        self.sent: dict[str, Any] | None = None
        self._computed: Views | None = None

    def update(self, state: ConsultationState, now: int, kinds: Iterable[type[e.Event]] | None = None) -> dict[str, Any]:
        """The views to send with a batch of events of ``kinds`` (None: of any kind):
        ``version``, ``at`` and each view that differs."""
        previous = self._computed
        if previous is None or self.sent is None:
            return self.full(state, now)
        names = _due(state, kinds)
        fresh = _compute(state, now, names)
        changed: dict[str, Any] = {"version": VIEWS_VERSION, "at": now}
        sent = {**self.sent, "at": now}
        for name, value in fresh.items():
            if value == getattr(previous, name):
                continue
            sent[name] = msgspec.to_builtins(value)
            if name == "queue" and (tail := _queue_tail(previous.queue, value)) is not None:
                changed["queue_tail"] = tail
            else:
                changed[name] = sent[name]
        self._computed = msgspec.structs.replace(previous, at=now, **fresh)
        self.sent = sent
        return changed

    def full(self, state: ConsultationState, now: int) -> dict[str, Any]:
        """Every view as last sent (what a joining client needs to apply the next updates)."""
        if self.sent is None:
            self._computed = views(state, now)
            self.sent = msgspec.to_builtins(self._computed)
        return self.sent

    def forget(self) -> None:
        """Nobody receives the views: the next ``update`` or ``full`` sends them all."""
        self.sent = self._computed = None


def _due(state: ConsultationState, kinds: Iterable[type[e.Event]] | None) -> Collection[str]:
    if kinds is None:
        return _VIEWS
    names = _of_time(state)
    for kind in kinds:
        changes = _CHANGES.get(kind)
        if changes is None:
            return _VIEWS
        names |= changes
    return names


def _queue_tail(previous: QueueView, current: QueueView) -> dict[str, Any] | None:
    """``current`` as a ``QueueTail`` after ``previous``, or None when the whole view
    must go (who has spoken changed, or the first entry did)."""
    if current.spoken != previous.spoken:
        return None
    # The first entry that differs, found in C: a burst compares a thousand waits per batch.
    differs = list(map(ne, previous.wait_s, current.wait_s))
    start = differs.index(True) if True in differs else len(differs)
    if start == 0:
        return None
    return {"start": start, "places": current.places[start:], "wait_s": current.wait_s[start:]}


def _forecast(fc: ForecastFigures) -> Forecast:
    return Forecast(
        fits_today=len(fc.fits_today),
        will_not_fit=len(fc.will_not_fit),
        overflow_minutes=fc.overflow_minutes,
        # To a tenth like the overflow: the view then changes every six seconds, not with every batch.
        minutes_left_today=round(fc.minutes_left_today, 1),
        days_left=fc.days_left,
    )


def _expected(fc: ForecastFigures) -> dict[str, list[str]]:
    by_when: dict[str, list[str]] = {}
    for f in fc.items:
        by_when.setdefault(f.expected, []).append(f.item)
    return by_when


def _queue(state: ConsultationState, now: int) -> QueueView:
    if state.current_item is None:
        return QueueView(places=[], wait_s=[], spoken={})
    spoken: dict[str, int] = {}
    for speech in state.speeches:
        if speech.item == state.current_item:
            spoken[speech.delegation] = spoken.get(speech.delegation, 0) + 1
    wait_s = [wait // 1000 for wait in queue_wait_ms(state, now)]
    return QueueView(places=list(range(1, len(wait_s) + 1)), wait_s=wait_s, spoken=spoken)


def _current(state: ConsultationState) -> Item | None:
    return state.items.get(state.current_item) if state.current_item is not None else None


def _request_blocker(state: ConsultationState) -> RequestBlocker:
    item = _current(state)
    if item is None:
        return "no_item"
    if item.status != "open":
        return "item_not_open"
    return "list_closed" if item.list_closed else "none"


def _clock(state: ConsultationState, now: int) -> Clock:
    item = _current(state)
    speech = state.speech
    return Clock(
        sitting_open=sitting_is_open(state, now),
        current_elapsed_ms=item.elapsed_ms if item is not None else 0,
        running_since=state.current_since if item is not None else None,
        speech_ends_at=speech.ends_at if speech is not None else None,
        tail_holds=tail_holds(state, now),
    )


def _allowed(state: ConsultationState, cls: str, now: int) -> Allowed:
    item = _current(state)
    open_item = item is not None and item.status == "open"
    grouping_open = _grouping_phase(state, now) == "open"
    deadline = state.contributions_deadline
    return Allowed(
        request_floor=open_item and item is not None and not item.list_closed,
        point_of_order=open_item and cls in MAY_RAISE_POINT_OF_ORDER,
        block=open_item and cls in MAY_BLOCK,
        answers_grouping=cls in MAY_ANSWER,
        answer_grouping=grouping_open and cls in MAY_ANSWER,
        contribute=cls in MEMBER_STATES and (deadline is None or now < deadline),
        member_state=cls in MEMBER_STATES,
    )


def _booths(state: ConsultationState) -> list[BoothRow]:
    tail = state.tail.booths if state.tail is not None else []
    rows = []
    for language, booth in state.booths.items():
        alarms: list[Literal["handover_due", "silent", "both_live"]] = []
        if booth.handover_alerted:
            alarms.append("handover_due")
        if booth.both_talking:
            alarms.append("both_live")
        # Rule: while someone speaks, every booth but the floor language's must be live.
        if state.speech is not None and not booth.mic_open and state.floor_language != language:
            alarms.append("silent")
        rows.append(
            BoothRow(
                language=language,
                on_duty=booth.on_duty,
                mic_open=booth.mic_open,
                source=booth.source,
                floor_language=state.floor_language == language,
                finishing=language in tail,
                handover_requested_by=booth.handover_requested_by,
                alarms=alarms,
            )
        )
    return rows


def _grouping_phase(state: ConsultationState, now: int) -> Literal["none", "open", "answers_closed", "closed"]:
    grouping = state.grouping
    if grouping is None:
        return "none"
    if grouping.closed:
        return "closed"
    return "open" if now < grouping.deadline else "answers_closed"


def _grouping(state: ConsultationState, now: int) -> GroupingView:
    place = {section: index for index, section in enumerate(state.sections)}
    ordered = sorted(enumerate(state.items.values()), key=lambda pair: (place.get(pair[1].section, -1), pair[0]))
    grouping = state.grouping
    answered = sum(1 for answers in grouping.answers.values() if answers) if grouping is not None else 0
    # Once closed, an item's group is the final one: the secretariat's overrides reversed it.
    overridden = set(grouping.overrides) if grouping is not None and grouping.closed else set()
    proposed: dict[str, int] = {}
    for item in state.items.values():
        group = 3 - item.group if item.ref in overridden and item.group in (1, 2) else item.group
        # No proposal counts with group 1 until the secretariat decides.
        proposed[item.ref] = 2 if group == 2 else 1
    return GroupingView(
        phase=_grouping_phase(state, now),
        answered=answered,
        council_members=sum(1 for d in state.delegations.values() if d.cls in MAY_ANSWER),
        items=[item.ref for _, item in ordered],
        proposed_group=proposed,
    )


def _percentile(values: list[int], p: int) -> int | None:
    """Nearest rank."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]


def _time_to_floor(state: ConsultationState) -> TimeToFloor:
    values = sorted(s.time_to_floor_ms for s in state.speeches)
    counts = [0] * (len(TIME_TO_FLOOR_BUCKETS) + 1)
    for value in values:
        counts[next((i for i, edge in enumerate(TIME_TO_FLOOR_BUCKETS) if value < edge * 1000), len(TIME_TO_FLOOR_BUCKETS))] += 1
    edges: list[float | None] = [0, *TIME_TO_FLOOR_BUCKETS, None]
    return TimeToFloor(
        goal_ms=TIME_TO_FLOOR_GOAL_MS,
        count=len(values),
        median_ms=_percentile(values, 50),
        p90_ms=_percentile(values, 90),
        under_goal=sum(1 for v in values if v < TIME_TO_FLOOR_GOAL_MS),
        histogram=[Bucket(start=edges[i] or 0, end=edges[i + 1], count=count) for i, count in enumerate(counts)],
    )


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
        "sitting": {"day": state.sitting.day, "opened_at": state.sitting.opened_at, "ends_at": state.sitting.ends_at}
        if state.sitting
        else None,
        "item": {"number": item.number, "code": item.code, "title": item.title, "titles": item.titles, "status": item.status}
        if item
        else None,
        "speaker": {
            "delegation": state.delegations[speech.delegation].name,
            "name": state.participants[speech.participant].name,
            "language": speech.language,
            "started_at": speech.started_at,
        }
        if speech
        else None,
        "granted": state.delegations[state.grant.delegation].name if state.grant and not speech else None,
        "queue": [{"delegation": state.delegations[r.delegation].name, "point_of_order": r.point_of_order} for r in queue],
        "floor_language": state.floor_language,
        "captions": [{"line": c.line, "text": c.text} for c in state.captions if c.sitting == day][-WEBCAST_CAPTIONS:],
        #: The closed sittings, whose archive (captions as WebVTT) the page lists.
        "archive": [s.day for s in state.sittings],
    }
