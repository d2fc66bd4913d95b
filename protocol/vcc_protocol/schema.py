"""The JSON Schema of every message, generated from the definitions.

``python -m vcc_protocol.schema`` rewrites ``schema.json`` beside this file;
a test fails when the file is stale. The browser client validates against it.
"""

import json
from pathlib import Path
from typing import Any

import msgspec

from . import PROTOCOL_VERSION
from .commands import CommandUnion
from .errors import ERROR_CODES
from .events import EventUnion
from .media import MediaRequest
from .messages import Ack, EventBatch, NotifyParticipant, Presence, Report, Snapshot, Welcome

SCHEMA_FILE = Path(__file__).with_name("schema.json")


def build() -> dict[str, Any]:
    (command, event, ack, batch, snapshot, welcome, report, notify, presence, media), components = msgspec.json.schema_components(
        [CommandUnion, EventUnion, Ack, EventBatch, Snapshot, Welcome, Report, NotifyParticipant, Presence, MediaRequest],
        ref_template="#/$defs/{name}",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "vcc wire protocol",
        "version": PROTOCOL_VERSION,
        "messages": {
            "command": command,
            "event": event,
            "ack": ack,
            "events": batch,
            "snapshot": snapshot,
            "welcome": welcome,
            "report": report,
            "notify_participant": notify,
            "presence": presence,
            "media": media,
        },
        "error_codes": ERROR_CODES,
        "$defs": components,
    }


def render() -> str:
    return json.dumps(build(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
