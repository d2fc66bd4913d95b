"""``vcc serve`` with a proposed change, for measurement only: the Publisher
flushes pending batches at most every ``VCC_BENCH_FLUSH_MS`` ms (env; default
50) instead of once per event-loop turn.

Not the service: bench_burst.py ``--flush-ms`` uses it to show what a
coalescing window would buy when 1,000 commands arrive within a second (each
command's batch otherwise goes to every client: N commands x N clients
deliveries). The patch wraps ``Publisher._on_batch``; everything else is the
service as it is.
"""

from __future__ import annotations

import asyncio
import os
import sys

from vcc import cli
from vcc.gateway import socket_api

DELAY = float(os.environ.get("VCC_BENCH_FLUSH_MS", "50")) / 1000


def _on_batch(self: socket_api.Publisher, batch: object) -> None:
    self._pending.append(batch)
    if not self._scheduled:
        self._scheduled = True
        asyncio.get_running_loop().call_later(DELAY, self.flush)


socket_api.Publisher._on_batch = _on_batch  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
