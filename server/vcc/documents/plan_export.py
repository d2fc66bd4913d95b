"""The time management plan for people: HTML, CSV and iCalendar.

The plan is the core's (``AgendaPlanned``: items to days in agenda order,
never past the slot). The calendar has one event per day's sitting, in UTC,
so every delegate's calendar shows it in their own time zone.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime

from icalendar import Calendar, Event
from vcc_protocol.state import ConsultationState

from ..core.clock import slots


def rows(state: ConsultationState) -> list[tuple[str, int, str, str, int, str]]:
    """(day, item number, code, title, minutes, section) in plan order."""
    days = state.days
    return [(days[a.day], (i := state.items[a.item]).number, i.code, i.title, a.minutes, i.section) for a in state.plan]


def status(state: ConsultationState) -> str:
    if not state.plan:
        return "No plan yet: the secretariat plans the agenda first."
    if state.plan_unplaced:
        return (
            f"The items do not fit: {len(state.plan_unplaced)} items ({', '.join(state.items[ref].code for ref in state.plan_unplaced)}) "
            f"need {state.plan_overflow_minutes} minutes more than the slot offers over {_days(len(state.days))}."
        )
    return f"All {len(state.plan)} items fit in {_days(len({a.day for a in state.plan}))} of {len(state.days)}."


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def to_csv(state: ConsultationState) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "slot", "section", "item", "code", "title", "minutes"])
    slot = f"{state.slot_start}-{state.slot_end} {state.tz}"
    for day, number, code, title, minutes, section in rows(state):
        writer.writerow([day, slot, section, number, code, title, minutes])
    for ref in state.plan_unplaced:
        item = state.items[ref]
        writer.writerow(["does not fit", "", item.section, item.number, item.code, item.title, item.minutes])
    return out.getvalue()


def to_html(state: ConsultationState) -> str:
    h = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Time management plan: {h(state.code)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #cbd5e1;padding:.25rem .5rem;text-align:left}.unfit{color:#b91c1c}</style></head><body>",
        f"<h1>Time management plan: {h(state.code)}</h1>",
        f"<p>Every day {h(state.slot_start)}-{h(state.slot_end)} ({h(state.tz)}), strictly kept. {h(status(state))}</p>",
    ]
    parts += _deadlines_html(state)
    by_day: dict[str, list[tuple[int, str, str, int, str]]] = {}
    for day, number, code, title, minutes, section in rows(state):
        by_day.setdefault(day, []).append((number, code, title, minutes, section))
    for day, entries in by_day.items():
        total = sum(e[3] for e in entries)
        parts.append(f"<h2>{h(day)} — {total} minutes</h2><table><tr><th>item</th><th>code</th><th>title</th><th>minutes</th></tr>")
        shown = None
        for n, c, t, m, section in entries:
            if section and section != shown:
                # The agenda's sections, in its order: a heading row where the section changes.
                parts.append(f"<tr class='section'><th colspan='4'>{h(section)}</th></tr>")
                shown = section
            parts.append(f"<tr><td>{n}</td><td>{h(c)}</td><td>{h(t)}</td><td>{m}</td></tr>")
        parts.append("</table>")
    if state.plan_unplaced:
        parts.append("<h2 class='unfit'>Items that do not fit</h2><ul>")
        parts += [f"<li>{state.items[n].number} {h(state.items[n].code)}: {h(state.items[n].title)}</li>" for n in state.plan_unplaced]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def _deadlines_html(state: ConsultationState) -> list[str]:
    """The circular's deadlines, each with the name it gives it."""
    if not state.deadlines:
        return []
    h = html.escape
    return ["<h2>Deadlines</h2><ul>", *(f"<li>{h(name)}: {h(day)}</li>" for name, day in state.deadlines.items()), "</ul>"]


def to_ical(state: ConsultationState, stamp: datetime | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//vcc//time management plan//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{state.code} sittings")
    planned: dict[str, list[str]] = {}
    for day, number, code, title, _, section in rows(state):
        planned.setdefault(day, []).append(f"{section + ': ' if section else ''}{number} {code}: {title}")
    for day, start, end in slots(state):
        event = Event()
        event.add("uid", f"{state.code}-{day}@vcc".replace(" ", "-").replace("/", "-"))
        event.add("dtstamp", stamp or datetime.now(UTC))
        event.add("dtstart", datetime.fromtimestamp(start / 1000, UTC))
        event.add("dtend", datetime.fromtimestamp(end / 1000, UTC))
        event.add("summary", f"{state.code}: sitting of {day}")
        event.add("description", "\n".join(planned.get(day, ["No item planned."])))
        calendar.add_component(event)
    return calendar.to_ical()
