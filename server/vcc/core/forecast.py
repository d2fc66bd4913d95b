"""The live forecast: what will fit before today's slot end and in the
remaining days, computed from the actual elapsed times and the current queue.

Time is treated as one stream across the remaining slots (a discussion that
does not end today continues tomorrow); an item is expected on the day its
discussion would end, and items beyond the last slot will not fit.
"""

from dataclasses import dataclass

from vcc_protocol.state import ConsultationState

from .clock import MINUTE, elapsed_ms, slots
from .floor import queue_ms


@dataclass(frozen=True)
class ItemForecast:
    item: str
    allocated_minutes: float
    elapsed_minutes: float
    remaining_minutes: float
    #: "today", "YYYY-MM-DD" (a later day of the consultation) or "will_not_fit".
    expected: str


@dataclass(frozen=True)
class Forecast:
    items: list[ItemForecast]
    fits_today: list[str]
    will_not_fit: list[str]
    #: Minutes beyond the remaining slots needed to take every open item.
    overflow_minutes: float
    minutes_left_today: float
    days_left: int


def allocated_minutes(state: ConsultationState) -> dict[str, int]:
    """Agenda item -> the minutes it is given: the plan's allocation, else its estimate."""
    planned = {a.item: a.minutes for a in state.plan}
    return {ref: planned.get(ref, state.items[ref].minutes) for ref in state.agenda}


def forecast(state: ConsultationState, now: int) -> Forecast:
    """Each open item needs its allocation (the plan's, else its estimate) less
    its elapsed time; the current item needs at least what its queue holds,
    each waiting delegation at its class's speaking limit."""
    allocated = allocated_minutes(state)
    windows: list[tuple[str, int]] = []  # (label, capacity in ms)
    for day, start, end in slots(state):
        if end <= now:
            continue
        if start <= now:
            windows.append(("today", end - now))
        else:
            windows.append((day, end - start))
    order = list(state.agenda)
    if state.current_item in order:
        start_at = order.index(state.current_item)
        order = order[start_at:] + order[:start_at]
    results: list[ItemForecast] = []
    used = 0
    capacity = sum(c for _, c in windows)
    for number in order:
        item = state.items[number]
        if item.status != "open":
            continue
        minutes = allocated[number]
        spent = elapsed_ms(state, number, now)
        need = max(minutes * MINUTE - spent, 0)
        if number == state.current_item:
            need = max(need, queue_ms(state, now))
        used += need
        results.append(ItemForecast(number, minutes, spent / MINUTE, need / MINUTE, _window_of(windows, used)))
    return Forecast(
        items=results,
        fits_today=[f.item for f in results if f.expected == "today"],
        will_not_fit=[f.item for f in results if f.expected == "will_not_fit"],
        overflow_minutes=round(max(used - capacity, 0) / MINUTE, 1),
        minutes_left_today=(windows[0][1] / MINUTE) if windows and windows[0][0] == "today" else 0.0,
        days_left=sum(1 for label, _ in windows if label != "today"),
    )


def _window_of(windows: list[tuple[str, int]], finish: int) -> str:
    total = 0
    for label, capacity in windows:
        total += capacity
        if finish <= total:
            return label
    return "will_not_fit"
