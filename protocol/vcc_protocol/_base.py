"""Helpers shared by the message modules."""

import re
from typing import Annotated, Literal

import msgspec


def snake(name: str) -> str:
    """``RequestFloor`` -> ``request_floor``: the wire name of a message class."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:@-]+$")]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=20_000)]
#: An agenda item's identity: its code where the circular's codes are unique
#: (2020: U1..U14, D1..D53, each section numbered from 1), else its number
#: ("1".."77" in 2021, whose codes repeat: PL 1.04 covers three documents).
ItemRef = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$")]
Millis = int
#: The largest document an upload may carry.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class File(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An uploaded document, as stored: its name, type, content hash, size and page count."""

    name: Annotated[str, msgspec.Meta(max_length=200)]
    kind: Literal["pdf", "docx"]
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, msgspec.Meta(ge=0)]
    pages: Annotated[int, msgspec.Meta(ge=0)]
