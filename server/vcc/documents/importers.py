"""Agenda and roster files -> commands, refusing bad input with the row or field at fault.

Pure functions: of the file's text (its entries, each with the row it came
from), and of the file against a consultation's state (``plan_import``: what is
new, what differs and whether import may change it). The CLI, the HTTP API and
the tests use them; ``vcc.documents.importing`` sends the plan through the service, all
or nothing.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

import msgspec
from vcc_protocol import commands as c
from vcc_protocol.state import ConsultationState
from vcc_protocol.vocabulary import DELEGATION_CLASSES, LANGUAGES, SECTORS


class ImportError_(ValueError):
    """A file that cannot be imported; the message names the row or field at fault."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One command of a file, with where it came from ("roster CSV row 17")."""

    where: str
    command: c.Command


ROSTER_COLUMNS = (
    "delegation",
    "delegation_class",
    "region",
    "sector",
    "voting_rights",
    "participant",
    "role",
    "designated_speaker",
    "language",
)
AGENDA_CSV_COLUMNS = ("number", "code", "title", "documents", "package", "minutes")
#: Estimated minutes per item when the file gives none.
DEFAULT_MINUTES = 15


def slug(text: str) -> str:
    """A stable id from a name: "Viet Nam delegate 1" -> "viet-nam-delegate-1"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "x"


def example(name: str) -> str:
    """The text of an example file shipped with the package (the 2021 agenda, the demo roster)."""
    return resources.files("vcc").joinpath("examples", name).read_text(encoding="utf-8")


def weekdays(first: date, last: date | None, limit: int) -> list[str]:
    """Rule: the consultation sits on working days (Monday to Friday), at most
    ``limit`` of them from ``first``, and not after ``last`` when the circular
    gives a last possible day ("at most 5 days from 9 June" gives none)."""
    days: list[str] = []
    day = first
    while (last is None or day <= last) and len(days) < limit:
        if day.weekday() < 5:
            days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def consultation_from_agenda(text: str) -> c.CreateConsultation:
    """The consultation described at the top of an agenda JSON like c21-vcc1-agenda.json."""
    data = _json(text)
    try:
        info = data["consultation"]
        first = date.fromisoformat(info["first_day"])
        last = date.fromisoformat(info["last_possible_day"]) if info.get("last_possible_day") else None
        max_days = int(info["max_days"])
        if not 1 <= max_days <= 31:
            raise ValueError(f"max_days is {max_days}; a consultation has 1 to 31 days")
        title = info["title"]
        deadlines = info.get("deadlines") or {}
        if not isinstance(deadlines, dict):
            raise TypeError("deadlines must map each deadline's name to its date")
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportError_(
            f"agenda JSON: the 'consultation' block is incomplete or wrong ({exc!r}); it needs code, title.en, first_day, max_days (1-31) and slot.start/end/tz, and may give last_possible_day and deadlines (name -> YYYY-MM-DD)."
        ) from None
    return _convert(
        c.CreateConsultation,
        "agenda JSON, the 'consultation' block",
        code=info["code"],
        title=title["en"] if isinstance(title, dict) else title,
        days=weekdays(first, last, max_days),
        slot_start=info["slot"]["start"],
        slot_end=info["slot"]["end"],
        tz=info["slot"]["tz"],
        deadlines=deadlines,
    )


def item_refs(rows: list[tuple[Any, str, str]]) -> list[str]:
    """Each item's identity from (given ref or None, code, number), in file order.

    Rule: an item is known by its code when the codes of the file are unique
    (2020: U1..U14 and D1..D53, numbers repeating across the two sections);
    by its number when codes repeat (2021: PL 1.04 covers three documents);
    a ref the file gives itself wins.
    """
    codes = [code for _, code, _ in rows]
    unique = len(set(codes)) == len(codes)
    return [str(given) if given else code if unique else number for given, code, number in rows]


def items_from_agenda_json(text: str) -> list[c.AddItem]:
    """Every item of an agenda JSON with the secretariat's proposed group: group 1
    (and items with no proposal) make this consultation's agenda, group 2 waits
    for the in-person session; the agenda consultation may move items."""
    return [entry.command for entry in agenda_json_entries(text)]  # type: ignore[misc]


def agenda_json_entries(text: str) -> list[Entry]:
    """The items of an agenda JSON (see ``items_from_agenda_json``), each with where it is in the file."""
    data = _json(text)
    items = data.get("items")
    if not isinstance(items, list):
        raise ImportError_("agenda JSON: no 'items' list found.")
    if not all(isinstance(raw, dict) for raw in items):
        index = next(i for i, raw in enumerate(items, start=1) if not isinstance(raw, dict))
        raise ImportError_(f"agenda JSON item #{index}: expected an object with number, code and title.")
    refs = item_refs([(raw.get("item"), str(raw.get("code")), str(raw.get("number"))) for raw in items])
    out: list[Entry] = []
    for index, (raw, ref) in enumerate(zip(items, refs, strict=True), start=1):
        where = f"agenda JSON item #{index} ({raw.get('code') or raw.get('number')!r})"
        try:
            title = raw["title"]
            titles = {k: v for k, v in title.items() if k in LANGUAGES and k != "en"} if isinstance(title, dict) else {}
            out.append(
                Entry(
                    where,
                    _convert(
                        c.AddItem,
                        where,
                        item=ref,
                        number=raw["number"],
                        code=raw["code"],
                        title=title["en"] if isinstance(title, dict) else title,
                        titles=titles,
                        section=raw.get("section") or "",
                        documents=list(raw.get("documents") or []),
                        package=bool(raw.get("package_approval")),
                        minutes=raw.get("minutes", DEFAULT_MINUTES),
                        group=raw.get("proposed_group"),
                    ),
                )
            )
        except KeyError as exc:
            raise ImportError_(f"{where}: the field {exc.args[0]!r} is missing.") from None
        except (TypeError, AttributeError):
            raise ImportError_(
                f"{where}: an item is an object with number, code, title (text, or an object of texts by language with 'en'), and optionally item, section, documents (a list of texts), package_approval, minutes and proposed_group."
            ) from None
    return out


def items_from_agenda_csv(text: str) -> list[c.AddItem]:
    """Items from a CSV with the columns number, code, title, documents (separated by ';'), package (true/false), minutes,
    and optionally section and item (its identity; see ``item_refs``)."""
    return [entry.command for entry in agenda_csv_entries(text)]  # type: ignore[misc]


def agenda_csv_entries(text: str) -> list[Entry]:
    """The items of an agenda CSV (see ``items_from_agenda_csv``), each with its row."""
    rows = _csv(text, AGENDA_CSV_COLUMNS, "agenda CSV", required=("number", "code", "title"))
    refs = item_refs([((row.get("item") or "").strip(), row["code"].strip(), row["number"].strip()) for _, row in rows])
    return [
        Entry(
            f"agenda CSV row {line}",
            _convert(
                c.AddItem,
                f"agenda CSV row {line}",
                item=ref,
                number=_int(row["number"], f"agenda CSV row {line}, column number"),
                code=row["code"].strip(),
                title=row["title"],
                titles={},
                section=(row.get("section") or "").strip(),
                documents=[d.strip() for d in (row.get("documents") or "").split(";") if d.strip()],
                package=_bool(row.get("package") or "false", f"agenda CSV row {line}, column package"),
                minutes=_int(row.get("minutes") or str(DEFAULT_MINUTES), f"agenda CSV row {line}, column minutes"),
            ),
        )
        for (line, row), ref in zip(rows, refs, strict=True)
    ]


def roster_from_csv(text: str) -> list[c.Command]:
    """Delegations and participants from a CSV like roster-demo.csv: one row per participant.

    ``role`` is delegate, chair, secretariat, technical, or ``interpreter:<booth>``.
    """
    return [entry.command for entry in roster_entries(text)]


def roster_entries(text: str) -> list[Entry]:
    """The delegations and participants of a roster CSV (see ``roster_from_csv``), each with its row."""
    rows = _csv(text, ROSTER_COLUMNS, "roster CSV", required=("participant", "role"))
    entries: list[Entry] = []
    delegations: dict[str, c.AddDelegation] = {}
    seen: set[str] = set()
    for line, row in rows:
        where = f"roster CSV row {line}"
        name = row["delegation"].strip()
        delegation_id = None
        if name:
            cls = row["delegation_class"].strip()
            if cls not in DELEGATION_CLASSES:
                raise ImportError_(f"{where}, column delegation_class: {cls!r} is not one of {', '.join(DELEGATION_CLASSES)}.")
            sector = row["sector"].strip() or None
            if sector is not None and sector not in SECTORS:
                raise ImportError_(f"{where}, column sector: {sector!r} is not one of {', '.join(SECTORS)}.")
            delegation_id = slug(name)
            command = _convert(
                c.AddDelegation,
                where,
                delegation=delegation_id,
                name=name,
                cls=cls,
                region=row["region"].strip(),
                sector=sector,
                voting_rights=_bool(row["voting_rights"] or "false", f"{where}, column voting_rights"),
            )
            if delegation_id not in delegations:
                delegations[delegation_id] = command
                entries.append(Entry(where, command))
            elif msgspec.structs.replace(delegations[delegation_id], id=command.id) != command:  # the same but for its fresh id
                raise ImportError_(f"{where}: the delegation {name!r} is described differently from an earlier row.")
        role, _, booth = row["role"].strip().partition(":")
        participant_id = slug(row["participant"])
        if participant_id in seen:
            raise ImportError_(f"{where}, column participant: {row['participant']!r} appears twice.")
        seen.add(participant_id)
        language = row["language"].strip()
        entries.append(
            Entry(
                where,
                _convert(
                    c.AddParticipant,
                    where,
                    participant=participant_id,
                    name=row["participant"].strip(),
                    role=role,
                    delegation=delegation_id,
                    languages=[language] if language else [],
                    designated_speaker=_bool(row["designated_speaker"] or "false", f"{where}, column designated_speaker"),
                    booth=booth or None,
                ),
            )
        )
    return entries


@dataclass(slots=True)
class ImportPlan:
    """A file against a consultation: what importing it would do.

    ``entries`` are the commands to send, all or nothing: the file's new
    entries, and the changes the procedure has a command for (an item's
    minutes, a council member's voting rights). ``refused`` lists the
    differences an import cannot make; a plan with any is not applied.
    Import never removes: what the store holds and the file lacks stays.
    """

    entries: list[Entry] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)


def plan_import(state: ConsultationState, entries: list[Entry]) -> ImportPlan:
    """Compare a file's entries with the consultation's state (see ``ImportPlan``)."""
    plan = ImportPlan()
    for entry in entries:
        command = entry.command
        if isinstance(command, c.CreateConsultation):
            _compare_consultation(state, entry, plan)
        elif isinstance(command, c.AddItem):
            _compare_item(state, entry, command, plan)
        elif isinstance(command, c.AddDelegation):
            _compare_delegation(state, entry, command, plan)
        elif isinstance(command, c.AddParticipant):
            _compare_participant(state, entry, command, plan)
        else:
            raise TypeError(f"an import has no {command.__struct_config__.tag} entries")
    return plan


def _differences(stored: Any, command: c.Command, names: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
    """Field -> (in the store, in the file), for the fields that differ."""
    return {name: (getattr(stored, name), getattr(command, name)) for name in names if getattr(stored, name) != getattr(command, name)}


def _refuse(plan: ImportPlan, entry: Entry, what: str, differences: dict[str, tuple[Any, Any]], how: str) -> None:
    for name, (stored, given) in differences.items():
        plan.refused.append(f"{entry.where} ({what}), field {name}: {stored!r} in the store, {given!r} in the file; {how}")


def _compare_consultation(state: ConsultationState, entry: Entry, plan: ImportPlan) -> None:
    command = entry.command
    assert isinstance(command, c.CreateConsultation)
    if not state.created:
        plan.entries.append(entry)
        plan.added.append(
            f"the consultation {command.code} ({len(command.days)} days, {command.slot_start}-{command.slot_end} {command.tz})"
        )
        return
    differences = _differences(state, command, ("code", "title", "days", "slot_start", "slot_end", "tz", "deadlines"))
    _refuse(
        plan,
        entry,
        f"the consultation {state.code}",
        differences,
        "a consultation's settings are fixed when it is created: import the file into a new consultation (--consultation ID) to change them.",
    )
    plan.unchanged += not differences


def _compare_item(state: ConsultationState, entry: Entry, command: c.AddItem, plan: ImportPlan) -> None:
    item = state.items.get(command.item)
    what = f"item {command.item}" if command.item == command.code else f"item {command.item} ({command.code})"
    if item is None:
        plan.entries.append(entry)
        plan.added.append(what)
        return
    fields = ("number", "code", "section", "title", "titles", "documents", "package", "kind")
    # Once the agenda consultation has started, the groups are its outcome, no longer the file's proposal.
    differences = _differences(item, command, fields if state.grouping is not None else (*fields, "group"))
    _refuse(
        plan,
        entry,
        what,
        differences,
        "an item's text and grouping are fixed once imported (the agenda consultation moves items between groups).",
    )
    if item.minutes != command.minutes:
        plan.entries.append(Entry(entry.where, c.SetItemMinutes(id=c.new_id(), item=command.item, minutes=command.minutes)))
        plan.changed.append(f"{what}: minutes {item.minutes} -> {command.minutes}")
    elif not differences:
        plan.unchanged += 1


def _compare_delegation(state: ConsultationState, entry: Entry, command: c.AddDelegation, plan: ImportPlan) -> None:
    delegation = state.delegations.get(command.delegation)
    what = f"delegation {command.name}"
    if delegation is None:
        plan.entries.append(entry)
        plan.added.append(what)
        return
    differences = _differences(delegation, command, ("name", "cls", "region", "sector"))
    _refuse(plan, entry, what, differences, "a delegation's class, region and sector are fixed once registered.")
    if delegation.voting_rights != command.voting_rights:
        plan.entries.append(
            Entry(entry.where, c.SetVotingRights(id=c.new_id(), delegation=command.delegation, voting_rights=command.voting_rights))
        )
        plan.changed.append(f"{what}: voting rights {delegation.voting_rights} -> {command.voting_rights}")
    elif not differences:
        plan.unchanged += 1


def _compare_participant(state: ConsultationState, entry: Entry, command: c.AddParticipant, plan: ImportPlan) -> None:
    participant = state.participants.get(command.participant)
    what = f"participant {command.name}"
    if participant is None:
        plan.entries.append(entry)
        plan.added.append(what)
        return
    differences = _differences(participant, command, ("name", "role", "delegation", "languages", "designated_speaker", "booth"))
    _refuse(
        plan,
        entry,
        what,
        differences,
        "a participant's role, delegation and booth are fixed once registered: register a new participant under another name.",
    )
    plan.unchanged += not differences


def _convert(kind: type[c.Command], where: str, **fields: Any) -> Any:
    try:
        return msgspec.convert({"id": c.new_id(), **fields}, kind)
    except msgspec.ValidationError as exc:
        raise ImportError_(f"{where}: {exc}") from None


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportError_(f"agenda JSON: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
    if not isinstance(data, dict):
        raise ImportError_("agenda JSON: expected an object with 'consultation' and 'items'.")
    return data


def _csv(text: str, columns: tuple[str, ...], what: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    # newline="": the csv module reads the line ends itself (a lone \r included), as it expects.
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = reader.fieldnames or []
        missing = [col for col in columns if col not in header]
        if missing:
            raise ImportError_(f"{what}: the header lacks the column(s) {', '.join(missing)}; expected {', '.join(columns)}.")
        rows = []
        for line, row in enumerate(reader, start=2):
            for col in required:
                if not (row.get(col) or "").strip():
                    raise ImportError_(f"{what} row {line}, column {col}: empty.")
            rows.append((line, {k: (v or "") for k, v in row.items() if k is not None}))
    except csv.Error as exc:
        raise ImportError_(f"{what}: not readable as CSV ({exc}); save it as CSV, UTF-8, with a header row.") from None
    if not rows:
        raise ImportError_(f"{what}: no rows after the header.")
    return rows


def _bool(value: str, where: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", ""):
        return False
    raise ImportError_(f"{where}: {value!r} is not true or false.")


def _int(value: str, where: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ImportError_(f"{where}: {value!r} is not a whole number.") from None
