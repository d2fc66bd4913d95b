"""The live forecast: what will fit before today's slot end and in the
remaining days, computed from the actual elapsed times and the current queue.

Time is treated as one stream across the remaining slots (a discussion that
does not end today continues tomorrow); an item is expected on the day its
discussion would end, and items beyond the last slot will not fit.

The views compute the forecast after every batch, so it is one pass over the
agenda with no call per item.
"""

from dataclasses import dataclass

import msgspec
from vcc_protocol.state import ConsultationState

from .clock import MINUTE, elapsed_ms, slots
from .floor import queue_ms


class ItemForecast(msgspec.Struct, frozen=True):
    """One open item's figures (a struct: a frozen dataclass is several times dearer to build)."""

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
    items = state.items
    return {ref: planned.get(ref, items[ref].minutes) for ref in state.agenda}


def forecast(state: ConsultationState, now: int) -> Forecast:
    """Each open item needs its allocation (the plan's, else its estimate) less
    its elapsed time; the current item needs at least what its queue holds,
    each waiting delegation at its class's speaking limit."""
    planned = {a.item: a.minutes for a in state.plan}
    labels: list[str] = []  # each remaining window: "today" or its day
    ends: list[int] = []  # where each ends, in ms of the remaining time from now
    capacity = 0
    for day, start, end in slots(state):
        if end <= now:
            continue
        capacity += end - now if start <= now else end - start
        labels.append("today" if start <= now else day)
        ends.append(capacity)
    order = list(state.agenda)
    current = state.current_item
    if current in order:
        start_at = order.index(current)
        order = order[start_at:] + order[:start_at]
    items = state.items
    results: list[ItemForecast] = []
    used = 0
    window = 0  # the window the items so far end in (``used`` only grows)
    for number in order:
        item = items[number]
        if item.status != "open":
            continue
        minutes = planned.get(number, item.minutes)
        if number == current:
            spent = elapsed_ms(state, number, now)
            need = max(minutes * MINUTE - spent, queue_ms(state, now), 0)
        else:
            spent = item.elapsed_ms
            need = max(minutes * MINUTE - spent, 0)
        used += need
        while window < len(ends) and used > ends[window]:
            window += 1
        results.append(
            ItemForecast(number, minutes, spent / MINUTE, need / MINUTE, labels[window] if window < len(ends) else "will_not_fit")
        )
    return Forecast(
        items=results,
        fits_today=[f.item for f in results if f.expected == "today"],
        will_not_fit=[f.item for f in results if f.expected == "will_not_fit"],
        overflow_minutes=round(max(used - capacity, 0) / MINUTE, 1),
        minutes_left_today=ends[0] / MINUTE if labels and labels[0] == "today" else 0.0,
        days_left=sum(1 for label in labels if label != "today"),
    )
