"""The clock: the daily slot, whether a sitting is open, elapsed time per
item and the time management plan.

Rules here: the slot (default 12:00-15:00 Europe/Zurich, so CET or CEST) on
the consultation's days only; nothing is granted or goes live outside an open
sitting. Opening and closing a sitting (and the slot end) live in ``sitting``.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.events import Allocation
from vcc_protocol.state import ConsultationState

from .actors import Actor
from .lookup import known_item
from .rejections import Rejected

MINUTE = 60_000


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
        raise Rejected("invalid_value", f"Unknown time zone {name!r}; use an IANA name such as Europe/Zurich.") from None


@lru_cache(maxsize=4096)
def slot_bounds(day: str, slot_start: str, slot_end: str, tz: str) -> tuple[int, int]:
    """The slot of one day as (start, end) in ms since the epoch; the zone decides CET or CEST."""
    d = date.fromisoformat(day)
    z = zone(tz)
    start = datetime.combine(d, time.fromisoformat(slot_start), z)
    end = datetime.combine(d, time.fromisoformat(slot_end), z)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def local_ms(moment: str, tz: str) -> int:
    """ "2021-03-12T23:59" in the zone -> ms since the epoch."""
    return int(datetime.fromisoformat(moment).replace(tzinfo=zone(tz)).timestamp() * 1000)


def end_of_day(day: str, tz: str) -> int:
    """The first instant after ``day`` in the zone: a deadline "until 23:59" of that day."""
    return local_ms(f"{date.fromisoformat(day) + timedelta(days=1)}T00:00", tz)


def slots(state: ConsultationState) -> list[tuple[str, int, int]]:
    return [(day, *slot_bounds(day, state.slot_start, state.slot_end, state.tz)) for day in state.days]


def slot_ms(state: ConsultationState) -> int:
    first = slots(state)[0]
    return first[2] - first[1]


def sitting_is_open(state: ConsultationState, now: int) -> bool:
    """Rule: the sitting is open from its opening until the slot end, even before the tick closes it."""
    return state.sitting is not None and now < state.sitting.ends_at


def require_open_sitting(state: ConsultationState, now: int, doing: str) -> None:
    if not sitting_is_open(state, now):
        raise Rejected("outside_sitting", f"Cannot {doing} outside an open sitting. {next_slot_hint(state, now)}")


def next_slot_hint(state: ConsultationState, now: int) -> str:
    for day, start, end in slots(state):
        if now < end:
            when = "now open" if start <= now else f"opens {day} {state.slot_start}"
            return f"The slot ({state.slot_start}-{state.slot_end} {state.tz}) is {when}; the chair opens the sitting."
    return "The consultation's last slot has ended."


def take_up_item(state: ConsultationState, cmd: c.TakeUpItem, actor: Actor, now: int) -> list[e.Event]:
    item = known_item(state, cmd.item)
    if state.speech is not None or state.grant is not None:
        raise Rejected("floor_busy", "End the current speech or revoke the grant before moving to another item.")
    if item.status != "open":
        raise Rejected("item_closed", f"Item {item.ref} is already {item.status}.")
    return [e.ItemTakenUp(at=now, actor=actor.id, item=cmd.item)]


def set_item_minutes(state: ConsultationState, cmd: c.SetItemMinutes, actor: Actor, now: int) -> list[e.Event]:
    known_item(state, cmd.item)
    return [e.ItemMinutesSet(at=now, actor=actor.id, item=cmd.item, minutes=cmd.minutes)]


def set_speaking_limit(state: ConsultationState, cmd: c.SetSpeakingLimit, actor: Actor, now: int) -> list[e.Event]:
    if cmd.item is not None:
        known_item(state, cmd.item)
    return [e.SpeakingLimitSet(at=now, actor=actor.id, cls=cmd.cls, seconds=cmd.seconds, item=cmd.item)]


def speaking_limit_ms(state: ConsultationState, item: str, cls: str) -> int:
    """Rule: an item's own limit for the class, else the consultation's default for the class."""
    limits = state.items[item].limits
    return 1000 * limits.get(cls, state.settings.limits.get(cls, 120))


# --- the time management plan ----------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    allocations: list[Allocation]
    unplaced: list[str]
    overflow_minutes: int


def plan_items(items: list[tuple[str, int, bool]], days: int, slot_minutes: int) -> Plan:
    """Assign ``(item, minutes, package)`` items to days in agenda order, never past the slot.

    Package items travel together as one block at the place of the first one
    (they are concluded together). A block that does not fit in what is left
    of a day starts the next day; a block longer than a whole slot, or beyond
    the last day, is unplaced. ``overflow_minutes`` is what the unplaced need.
    """
    package = [(n, m) for n, m, p in items if p]
    blocks: list[list[tuple[str, int]]] = []
    for number, minutes, in_package in items:
        if not in_package:
            blocks.append([(number, minutes)])
        elif number == package[0][0]:
            blocks.append(package)
    allocations: list[Allocation] = []
    unplaced: list[str] = []
    day, used, overflow = 0, 0, 0
    for block in blocks:
        need = sum(m for _, m in block)
        if need <= slot_minutes and used + need > slot_minutes:
            day, used = day + 1, 0
        if day >= days or need > slot_minutes:
            # (A block longer than a slot fits no day: it must not end the current one.)
            unplaced.extend(n for n, _ in block)
            overflow += need
            continue
        allocations.extend(Allocation(item=n, day=day, minutes=m) for n, m in block)
        used += need
    return Plan(allocations, unplaced, overflow)


def plan_agenda(state: ConsultationState, cmd: c.PlanAgenda, actor: Actor, now: int) -> list[e.Event]:
    if not state.agenda:
        raise Rejected("invalid_value", "The agenda is empty; import the agenda before planning it.")
    items = [(n, state.items[n].minutes, state.items[n].package) for n in state.agenda]
    plan = plan_items(items, len(state.days), slot_ms(state) // MINUTE)
    return [
        e.AgendaPlanned(
            at=now, actor=actor.id, allocations=plan.allocations, unplaced=plan.unplaced, overflow_minutes=plan.overflow_minutes
        )
    ]


def elapsed_ms(state: ConsultationState, number: str, now: int) -> int:
    """Time spent on an item so far, counting the running stretch of the current item."""
    item = state.items[number]
    running = now - state.current_since if number == state.current_item and state.current_since is not None else 0
    return item.elapsed_ms + max(running, 0)


# --- appliers --------------------------------------------------------------------------


def stop_item_clock(state: ConsultationState, at: int) -> None:
    if state.current_item is not None and state.current_since is not None:
        state.items[state.current_item].elapsed_ms += max(at - state.current_since, 0)
    state.current_since = None


def _item_taken_up(state: ConsultationState, ev: e.ItemTakenUp) -> None:
    stop_item_clock(state, ev.at)
    state.current_item = ev.item
    state.current_since = ev.at if state.sitting is not None else None
    state.queues.setdefault(ev.item, [])


def _item_minutes_set(state: ConsultationState, ev: e.ItemMinutesSet) -> None:
    state.items[ev.item].minutes = ev.minutes


def _speaking_limit_set(state: ConsultationState, ev: e.SpeakingLimitSet) -> None:
    if ev.item is None:
        state.settings.limits[ev.cls] = ev.seconds
    else:
        state.items[ev.item].limits[ev.cls] = ev.seconds


def _agenda_planned(state: ConsultationState, ev: e.AgendaPlanned) -> None:
    state.plan = list(ev.allocations)
    state.plan_unplaced = list(ev.unplaced)
    state.plan_overflow_minutes = ev.overflow_minutes


DECIDERS = {
    c.TakeUpItem: take_up_item,
    c.SetItemMinutes: set_item_minutes,
    c.SetSpeakingLimit: set_speaking_limit,
    c.PlanAgenda: plan_agenda,
}
APPLIERS = {
    e.ItemTakenUp: _item_taken_up,
    e.ItemMinutesSet: _item_minutes_set,
    e.SpeakingLimitSet: _speaking_limit_set,
    e.AgendaPlanned: _agenda_planned,
}
