"""The bounds of what one connection may send: sizes and rates.

Every message that costs the server more than its answer has a per-connection
token bucket; the sizes are checked before any decoding beyond the frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

#: Largest command accepted, encoded (a proposed conclusion is the longest text).
MAX_COMMAND_BYTES = 64 * 1024
#: Largest engine.io message before the transport closes the connection.
MAX_MESSAGE_BYTES = 256 * 1024
RATE_PER_SECOND = 20.0
RATE_BURST = 40.0
#: ``sync`` answers with a snapshot (tens of KB): a client needs one after a gap, not thousands.
SYNC_PER_SECOND = 1.0
SYNC_BURST = 5.0
#: A browser reports on joining, every 30 s and after each microphone check or connection test.
REPORT_PER_SECOND = 1.0
REPORT_BURST = 5.0


@dataclass
class TokenBucket:
    """A per-connection command rate limit: ``rate`` per second, bursts of ``burst``."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
