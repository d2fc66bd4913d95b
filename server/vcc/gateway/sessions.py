"""A joined connection as the gateway keeps it."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from vcc_protocol.messages import Report

from ..service import Runtime
from .limits import REPORT_BURST, REPORT_PER_SECOND, SYNC_BURST, SYNC_PER_SECOND, TokenBucket

_connection_numbers = itertools.count(1)


@dataclass
class Session:
    sid: str
    actor: str
    role: str
    audience: str
    runtime: Runtime
    bucket: TokenBucket
    connected_at: float = field(default_factory=time.time)
    report: Report = field(default_factory=Report)
    #: This node's number for the connection in ``presence`` (the socket.io sid stays private).
    conn: int = field(default_factory=lambda: next(_connection_numbers))
    sync_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(SYNC_PER_SECOND, SYNC_BURST))
    report_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(REPORT_PER_SECOND, REPORT_BURST))
    #: Whether this staff connection has had the whole presence list.
    presence_listed: bool = False
