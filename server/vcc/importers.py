"""Agenda and roster files -> commands, refusing bad input with the row or field at fault.

Pure functions of the file's text: the CLI, the HTTP API and the tests all use
them, then send the commands through the service like any other.
"""

import csv
import io
import json
import re
from datetime import date, timedelta
from importlib import resources
from typing import Any

import msgspec
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import DELEGATION_CLASSES, LANGUAGES, SECTORS


class ImportError_(ValueError):
    """A file that cannot be imported; the message names the row or field at fault."""


ROSTER_COLUMNS = ("delegation", "delegation_class", "region", "sector", "voting_rights", "participant", "role", "designated_speaker", "language")
AGENDA_CSV_COLUMNS = ("number", "code", "title", "documents", "package", "minutes")
#: Estimated minutes per item when the file gives none.
DEFAULT_MINUTES = 15


def slug(text: str) -> str:
    """A stable id from a name: "Viet Nam delegate 1" -> "viet-nam-delegate-1"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "x"


def example(name: str) -> str:
    """The text of an example file shipped with the package (the 2021 agenda, the demo roster)."""
    return resources.files("vcc").joinpath("examples", name).read_text(encoding="utf-8")


def weekdays(first: date, last: date, limit: int) -> list[str]:
    days: list[str] = []
    day = first
    while day <= last and len(days) < limit:
        if day.weekday() < 5:
            days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def consultation_from_agenda(text: str) -> c.CreateConsultation:
    """The consultation described at the top of an agenda JSON like c21-vcc1-agenda.json."""
    data = _json(text)
    try:
        info = data["consultation"]
        first, last = date.fromisoformat(info["first_day"]), date.fromisoformat(info["last_possible_day"])
        return c.CreateConsultation(id=c.new_id(),
            code=info["code"], title=info["title"]["en"], days=weekdays(first, last, int(info["max_days"])),
            slot_start=info["slot"]["start"], slot_end=info["slot"]["end"], tz=info["slot"]["tz"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportError_(f"agenda JSON: the 'consultation' block is incomplete or wrong ({exc!r}); it needs code, title.en, first_day, last_possible_day, max_days and slot.start/end/tz.") from None


def items_from_agenda_json(text: str) -> list[c.AddItem]:
    """Every item of an agenda JSON with the secretariat's proposed group: group 1
    (and items with no proposal) make this consultation's agenda, group 2 waits
    for the in-person session; the agenda consultation may move items."""
    data = _json(text)
    items = data.get("items")
    if not isinstance(items, list):
        raise ImportError_("agenda JSON: no 'items' list found.")
    out: list[c.AddItem] = []
    for index, raw in enumerate(items, start=1):
        try:
            title = raw["title"]
            titles = {k: v for k, v in title.items() if k in LANGUAGES and k != "en"} if isinstance(title, dict) else {}
            out.append(
                _add_item(
                    number=raw["number"], code=raw["code"], title=title["en"] if isinstance(title, dict) else title,
                    titles=titles, documents=list(raw.get("documents") or []), package=bool(raw.get("package_approval")),
                    minutes=raw.get("minutes", DEFAULT_MINUTES), group=raw.get("proposed_group"),
                    where=f"agenda JSON item #{index} (number {raw.get('number')!r})",
                )
            )
        except KeyError as exc:
            raise ImportError_(f"agenda JSON item #{index}: the field {exc.args[0]!r} is missing.") from None
        except (TypeError, AttributeError):
            raise ImportError_(f"agenda JSON item #{index}: an item is an object with number, code, title (text, or an object of texts by language with 'en'), and optionally documents (a list of texts), package_approval, minutes and proposed_group.") from None
    return out


def items_from_agenda_csv(text: str) -> list[c.AddItem]:
    """Items from a CSV with the columns number, code, title, documents (separated by ';'), package (true/false), minutes."""
    rows = _csv(text, AGENDA_CSV_COLUMNS, "agenda CSV", required=("number", "code", "title"))
    return [
        _add_item(
            number=_int(row["number"], f"agenda CSV row {line}, column number"), code=row["code"], title=row["title"], titles={},
            documents=[d.strip() for d in (row.get("documents") or "").split(";") if d.strip()],
            package=_bool(row.get("package") or "false", f"agenda CSV row {line}, column package"),
            minutes=_int(row.get("minutes") or str(DEFAULT_MINUTES), f"agenda CSV row {line}, column minutes"),
            where=f"agenda CSV row {line}",
        )
        for line, row in rows
    ]


def roster_from_csv(text: str) -> list[c.Command]:
    """Delegations and participants from a CSV like roster-demo.csv: one row per participant.

    ``role`` is delegate, chair, secretariat, technical, or ``interpreter:<booth>``.
    """
    rows = _csv(text, ROSTER_COLUMNS, "roster CSV", required=("participant", "role"))
    commands: list[c.Command] = []
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
                c.AddDelegation, where, delegation=delegation_id, name=name, cls=cls, region=row["region"].strip(),
                sector=sector, voting_rights=_bool(row["voting_rights"] or "false", f"{where}, column voting_rights"),
            )
            if delegation_id not in delegations:
                delegations[delegation_id] = command
                commands.append(command)
            elif msgspec.structs.replace(delegations[delegation_id], id=command.id) != command:  # the same but for its fresh id
                raise ImportError_(f"{where}: the delegation {name!r} is described differently from an earlier row.")
        role, _, booth = row["role"].strip().partition(":")
        participant_id = slug(row["participant"])
        if participant_id in seen:
            raise ImportError_(f"{where}, column participant: {row['participant']!r} appears twice.")
        seen.add(participant_id)
        language = row["language"].strip()
        commands.append(
            _convert(
                c.AddParticipant, where, participant=participant_id, name=row["participant"].strip(), role=role,
                delegation=delegation_id, languages=[language] if language else [],
                designated_speaker=_bool(row["designated_speaker"] or "false", f"{where}, column designated_speaker"),
                booth=booth or None,
            )
        )
    return commands


def _add_item(*, where: str, **fields: Any) -> c.AddItem:
    return _convert(c.AddItem, where, **fields)


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
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
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
