"""Writes ``docs/protocol.md`` from the definitions: every command with who may
send it, its arguments, the error codes it can answer with and the events it
produces. The codes and events are read from the core's source (the calls to
``Rejected`` and to event constructors in each command's decider and in the
core functions it calls), so the page cannot drift from the code; a test
fails when the committed page is stale. ``python -m vcc.devtools.protocol_docs``
rewrites it."""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import msgspec
from vcc_protocol import PROTOCOL_VERSION, media
from vcc_protocol import events as ev
from vcc_protocol import views as views_module
from vcc_protocol._base import LongText, ShortText
from vcc_protocol.commands import COMMAND_TYPES, Command
from vcc_protocol.errors import ERROR_CODES
from vcc_protocol.messages import MAX_NOTICE_CHARS, PRESENCE_MAX_CONNECTIONS, Report
from vcc_protocol.views import VIEWS_VERSION, Views

from ..core import machine
from ..core.actors import PERMISSIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"
#: Codes any command can get before its own rules run (vcc.core.machine.decide, the gateway).
COMMON = (
    "invalid_command",
    "unknown_command",
    "payload_too_large",
    "rate_limited",
    "unavailable",
    "conflict",
    "internal_error",
    "not_created",
    "unknown_participant",
    "not_allowed",
)


def _walk(func: Any, seen: set[Any], codes: set[str], events: set[str]) -> None:
    if func in seen or not inspect.isfunction(func) or not func.__module__.startswith("vcc.core"):
        return
    seen.add(func)
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    module = sys.modules[func.__module__]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Name) and target.id == "Rejected" and node.args and isinstance(node.args[0], ast.Constant):
            codes.add(node.args[0].value)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "e":
            events.add(getattr(ev, target.attr).__struct_config__.tag)
        elif isinstance(target, ast.Name):
            found = module.__dict__.get(target.id)
            if isinstance(found, types.FunctionType):
                _walk(found, seen, codes, events)


def command_facts(kind: type[Command]) -> tuple[list[str], list[str]]:
    """(error codes, event types) of a command, read from its decider."""
    codes: set[str] = set()
    events: set[str] = set()
    _walk(machine.DECIDERS[kind], set(), codes, events)
    return sorted(codes), sorted(events)


def _shape(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A JSON Schema property in a few words: "string (at most 200)", "one of ar, zh, ..."."""
    if "$ref" in prop:
        return _shape(defs[prop["$ref"].split("/")[-1]], defs)
    if "anyOf" in prop:
        return " or ".join(_shape(p, defs) for p in prop["anyOf"])
    if "enum" in prop:
        return "one of " + ", ".join(str(v) for v in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "array":
        most = f" (at most {prop['maxItems']})" if "maxItems" in prop else ""
        return f"list of {_shape(prop.get('items', {}), defs)}{most}"
    if kind == "object":
        most = f" (at most {prop['maxProperties']} entries)" if "maxProperties" in prop else ""
        return (
            f"map to {_shape(prop['additionalProperties'], defs)}" if isinstance(prop.get("additionalProperties"), dict) else "map"
        ) + most
    bounds = []
    if "minimum" in prop or "maximum" in prop:
        bounds.append(f"{prop.get('minimum', '')}..{prop.get('maximum', '')}")
    if "maxLength" in prop:
        bounds.append(f"at most {prop['maxLength']} characters")
    if "pattern" in prop:
        bounds.append(f"matching `{prop['pattern']}`")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def _most(text: Any) -> int:
    """The ``max_length`` of an ``Annotated[str, msgspec.Meta(...)]``."""
    return typing.get_args(text)[1].max_length


def _bounds() -> list[str]:
    """The bounds on what one client may send, from the definitions."""
    from vcc.gateway import limits, refusals

    (report,), defs = msgspec.json.schema_components([Report])
    report_fields = defs["Report"]["properties"]
    per_connection, per_address, per_node = refusals.PER_CONNECTION, refusals.PER_ADDRESS, refusals.PER_NODE
    return [
        "## Bounds",
        "",
        "What one client may send, and what it costs the others, is bounded:",
        "",
        "| what | bound |",
        "| --- | --- |",
        f"| one engine.io message | {limits.MAX_MESSAGE_BYTES // 1024} KB (larger: the connection is closed) |",
        f"| one command, encoded | {limits.MAX_COMMAND_BYTES // 1024} KB (`payload_too_large`) |",
        f"| commands and notices | {limits.RATE_PER_SECOND:.0f} a second, bursts of {limits.RATE_BURST:.0f}, per connection (`rate_limited`) |",
        f"| `sync` | {limits.SYNC_PER_SECOND:.0f} a second, bursts of {limits.SYNC_BURST:.0f}, per connection (`rate_limited`) |",
        f"| `report` | {limits.REPORT_PER_SECOND:.0f} a second, bursts of {limits.REPORT_BURST:.0f}, per connection (`rate_limited`) |",
        "| `report` fields | " + "; ".join(f"`{name}`: {_shape(prop, defs)}" for name, prop in report_fields.items()) + "; nothing else |",
        f"| `notify_participant` text | 1 to {MAX_NOTICE_CHARS} characters |",
        f"| `presence` | at most once a second; at most {PRESENCE_MAX_CONNECTIONS} connections in each of `set` and `left` per message |",
        f"| names, titles, reasons, codes, help messages | {_most(ShortText)} characters |",
        f"| proposed conclusions, comments, ways forward, item titles | {_most(LongText)} characters |",
        "| lists in commands | as given with each command below |",
        f"| log lines for refused input | one line each, with its code; at most {per_connection[1]:.0f} at once then one every {1 / per_connection[0]:.0f} s per connection, "
        f"{per_address[1]:.0f} at once then {per_address[0]:.0f} a second per address, {per_node[1]:.0f} at once then {per_node[0]:.0f} a second per node; "
        "the next line says how many were left out; every refusal is counted in `vcc_refused_total{code}` |",
    ]


def _views() -> list[str]:
    """The derived views, struct by struct, from ``vcc_protocol.views``."""
    (top,), defs = msgspec.json.schema_components([Views])
    lines = ["## Views", "", (views_module.__doc__ or "").strip(), "", f"Views version {VIEWS_VERSION}.", ""]
    for name, schema in defs.items():
        lines += [f"### `{name}`", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        lines += [f"- `{field}`: {_view_shape(prop, defs)}" for field, prop in schema["properties"].items()]
        lines.append("")
    return lines


def _view_shape(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """Like ``_shape``, naming the struct a field holds (described under its own heading)."""

    def named(p: dict[str, Any]) -> str | None:
        return f"`{p['$ref'].split('/')[-1]}`" if "$ref" in p else None

    if name := named(prop):
        return name
    if "items" in prop and (name := named(prop["items"])):
        return f"list of {name}"
    if isinstance(prop.get("additionalProperties"), dict) and (name := named(prop["additionalProperties"])):
        return f"map to {name}"
    if "anyOf" in prop and (names := [n for p in prop["anyOf"] if (n := named(p))]):
        return f"{names[0]} or null"
    return _shape(prop, defs)


def render() -> str:
    lines = [
        "# The wire protocol",
        "",
        f"Protocol version {PROTOCOL_VERSION}. Generated by `python -m vcc.devtools.protocol_docs` from",
        "`protocol/vcc_protocol/` and the core's permission table and rules; do not edit by hand.",
        "The JSON Schema of every message is `protocol/vcc_protocol/schema.json`.",
        "",
        "## Messages",
        "",
        "| direction | socket.io event | payload |",
        "| --- | --- | --- |",
        '| client -> server | connect `auth` | `{token, last_seq?, epoch?}`; refused with `{message, data: {code: "unauthorized", message}}` |',
        "| server -> client | `welcome` | `{protocol, participant, role, audience, consultation, seq, epoch, server_time}` |",
        "| server -> client | `snapshot` | `{epoch, seq, state, resync, views}`: the whole state (redacted for the public audience) and the views at `seq` |",
        "| server -> client | `events` | `{epoch, first, last, ts, events, views}`: apply when `first <= seq + 1`, skipping what you have; on a gap send `sync`; `views` replace yours |",
        "| client -> server | `command` (with ack) | `{id, type, ...fields}` -> `{ok: true, seq}` or `{ok: false, error: {code, message}}` |",
        "| client -> server | `sync` | `{last_seq, epoch}`: answered like a connect (missed events, or a snapshot with `resync: true`) |",
        "| client -> server | `ping` (with ack) | `{t}` -> `{t, server_time}` (round trip and clock offset) |",
        "| client -> server | `report` (ack optional) | `{rtt_ms?, jitter_ms?, clock_offset_ms?, browser?, microphone?, camera?, input_level?, ice?, candidate?, audio_level?, packet_loss?}`: connection figures shown live to the staff -> `{ok}` |",
        "| server -> staff | `presence` | `{reset, set: [connection...], left: [conn...]}`: what changed in this node's connections, at most once a second; upsert `set` by `conn`, remove `left`; `reset`: forget what you have first |",
        "| technical -> server | `notify_participant` (with ack) | `{participant, text}` -> `{ok}`: a notice to every connection of that participant, on any node |",
        "| server -> participant | `notice` | `{from, name, text, at}` |",
        "| client -> server | `media` (with ack) | `{op, ...}` -> `{ok: true, sdp?}` or `{ok: false, error}`: WebRTC signalling through vcc (below) |",
        "| server -> client | `media_reset` | `{}`: the media server restarted and holds the consultation's mixes again; connect listening and microphone anew |",
        "| server -> client | `ended` | `{code, message}`, then a disconnect: the consultation is gone for good (`practice_ended`: a floor drill's practice consultation was replaced or left idle); reconnecting is refused with the same code |",
        "",
        "Every command has an `id` (required, 1 to 80 characters), the client's: a command sent again",
        "with the same id (after a reconnect, on any node) gets the first answer and is never applied",
        "twice. A command without one is refused with `invalid_command`.",
        "",
        "An event the server does not know gets `unknown_event`, `connect` and `disconnect` sent as",
        "events get `reserved_event`, and an event that is not a name and one argument gets",
        "`invalid_event`; each as an error ack when the client asked for one.",
        "",
        *_bounds(),
        "",
        "The floor drill: `POST /api/practice` with a delegate's join token answers `{consultation, token}`,",
        "a practice consultation held in memory only (its id starts with `practice:`; one per participant,",
        "the next one ends it; `practice_full` when the node runs its most). Joined with that token, it is",
        "an ordinary consultation on this socket: the same commands, acks, codes and events.",
        "",
        "The public screen (a projector, the webcast) joins with a link of its own, role `screen`",
        "(participant `@screen`, `vcc links` prints it): it receives what the public audience receives,",
        "is nobody's connection, and may send no command (`not_allowed`).",
        "",
        f"Codes any command may get: {', '.join(f'`{c}`' for c in COMMON)}.",
        "",
        "## Media signalling",
        "",
        (media.__doc__ or "").strip().split("\n\n", 1)[1],
        "",
        "Errors: `invalid_media_request`, `invalid_sdp`, `media_unavailable`, `not_in_mix`, `rate_limited`.",
        "",
        *_views(),
        "",
        "## Commands",
        "",
    ]
    for kind in COMMAND_TYPES:
        tag = kind.__struct_config__.tag
        codes, events = command_facts(kind)
        roles = sorted(PERMISSIONS[kind])
        lines += [f"### `{tag}`", "", (kind.__doc__ or "").strip(), "", f"- **Who may send it:** {', '.join(roles)}"]
        (schema,), defs = msgspec.json.schema_components([kind])
        schema = defs[schema["$ref"].split("/")[-1]]
        fields = [(name, prop) for name, prop in schema["properties"].items() if name not in ("id", "type")]
        if fields:
            required = set(schema.get("required", ()))
            lines.append(
                "- **Arguments:** "
                + "; ".join(f"`{name}`: {_shape(prop, defs)}{'' if name in required else ' (optional)'}" for name, prop in fields)
            )
        else:
            lines.append("- **Arguments:** none")
        lines.append("- **Errors:** " + (", ".join(f"`{c}`" for c in codes) or "only the common ones"))
        lines.append("- **Events:** " + (", ".join(f"`{e}`" for e in events) or "none"))
        lines.append("")
    lines += ["## Error codes", "", "| code | meaning |", "| --- | --- |"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items()]
    lines += ["", "## Events", "", "Every event has `type`, `v` (version), `at` (ms since the Unix epoch, UTC) and `actor`.", ""]
    for kind in ev.EVENT_TYPES:
        fields = [f.name for f in msgspec.structs.fields(kind) if f.name not in ("v", "at", "actor")]
        private = f" Private (staff only): {', '.join(kind.PRIVATE)}." if kind.PRIVATE else ""
        lines.append(f"- `{kind.__struct_config__.tag}`: {', '.join(fields)}.{private}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
