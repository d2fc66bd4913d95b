"""A consultation's batches as ``events`` messages, one encoding per audience,
handed to the fan-out.

Role-restricted data: each consultation has a ``public`` and a ``staff``
group; a batch carrying private fields is encoded a second time, redacted,
for the public group, so both keep the same sequence numbers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from vcc_protocol.events import redact

from ..core.views import ViewsFeed, snapshot
from ..ops import metrics
from ..service import Batch, Runtime
from .fanout import Fanout


def group(consultation: str, audience: str) -> str:
    return f"{consultation}/{audience}"


def concerned(consultation: str, kind: str, name: str) -> str:
    """The fan-out group of the connections of one ``participant`` or one
    ``delegation`` (``kind``): a batch that names them is written to them first."""
    return f"{consultation}/{kind}:{name}"


class Publisher:
    """Turns a runtime's batches into ``events`` messages, one per audience for
    all the batches that arrived since the last one was sent.

    Sending costs CPU in proportion to the connections (a frame written to each),
    so under load the publisher waits, after each send, as long as that send took
    before the next: the batches completed meanwhile go out together, and
    broadcasting never takes more than about half of the event loop (the rest is
    left for commands and acks). An isolated change is sent at once. The fan-out
    writes a message to thousands in slices, over several turns of the loop: the
    wait starts once the last slice is written, and no send starts while the
    slices of the one before are still being written (unless ``flush`` is called).
    """

    def __init__(self, runtime: Runtime, fanout: Fanout) -> None:
        self.runtime = runtime
        self.fanout = fanout
        self._pending: list[Batch] = []
        self._scheduled: asyncio.Handle | None = None
        self._quiet_until = 0.0
        #: Fan-out sends whose slices are not all written yet, and the seconds of the flush so far.
        self._sending = 0
        self._took = 0.0
        self._snapshots: dict[tuple[str, bool], tuple[int, bytes]] = {}
        self.views = ViewsFeed()
        runtime.subscribe(self._on_batch)

    def _on_batch(self, batch: Batch) -> None:
        self._pending.append(batch)
        if self._scheduled is None and not self._sending:
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._quiet_until - loop.time()
        if delay > 0:
            self._scheduled = loop.call_later(delay, self.flush)
        else:
            self._scheduled = loop.call_soon(self.flush)

    def _sent(self, took: float) -> None:
        """A fan-out send's ``done``: once the flush's last one is written, the pause, then the next."""
        self._sending -= 1
        self._took += took
        if self._sending:
            return
        took, self._took = self._took, 0.0
        self._quiet_until = asyncio.get_running_loop().time() + took
        metrics.FANOUT_SECONDS.observe(took)
        if self._pending and self._scheduled is None:
            self._schedule()

    def flush(self) -> None:
        """Send what is pending now; also called directly, before a joining
        client's state is sent, when the scheduled send is dropped."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if not self._pending:
            return
        started = time.perf_counter()
        batches, self._pending = self._pending, []
        events = [event for batch in batches for event in batch.events]
        head = {
            "epoch": batches[-1].epoch or self.runtime.epoch,
            "first": batches[0].first,
            "last": batches[-1].last,
            "views": self._views(events),
        }
        staff_events = [msgspec.to_builtins(event) for event in events]
        if any(event.PRIVATE for event in events):
            public_events = [msgspec.to_builtins(redact(event)) for event in events]
        else:
            public_events = staff_events
        first = self._concerned(events)
        ts = time.time()
        metrics.FANOUT_BATCHES.observe(len(batches))
        prepared = time.perf_counter() - started  # the sends add their own time
        self._sending += 1  # held until both sends are handed over, whatever they raise
        try:
            for audience, audience_events in (("public", public_events), ("staff", staff_events)):
                self._sending += 1
                self.fanout.send(
                    group(self.runtime.consultation, audience),
                    "events",
                    self._message(audience, head, ts, audience_events),
                    first,
                    done=self._sent,
                )
        finally:
            self._sent(prepared)

    def _views(self, events: list[Any]) -> dict[str, Any]:
        """The views after the pending batches' ``events``; none while nobody is connected
        to the consultation here (a joining client's snapshot computes them all afresh)."""
        consultation = self.runtime.consultation
        if not any(self.fanout.members(group(consultation, audience)) for audience in ("public", "staff")):
            self.views.forget()
            return {}
        return self.views.update(self.runtime.state, self.runtime.clock(), {type(event) for event in events})

    def _message(self, audience: str, head: dict[str, Any], ts: float, events: list[Any]) -> dict[str, Any]:
        """The ``events`` message one audience gets for the pending batches: the one
        place where what goes with a batch, per audience, is put together. The
        fan-out encodes it once for all of that audience's connections."""
        return {**head, "ts": ts, "events": events}

    def _concerned(self, events: list[Any]) -> list[str]:
        """The groups of the participants and delegations the events name (the
        delegation given the floor, the speaker gone live), to be served first."""
        names: dict[str, None] = {}
        for event in events:
            for kind in ("participant", "delegation"):
                name = getattr(event, kind, None)
                if isinstance(name, str):
                    names[concerned(self.runtime.consultation, kind, name)] = None
        return list(names)

    def snapshot(self, audience: str, resync: bool) -> bytes:
        """The ``snapshot`` message for an audience, built and encoded once per sequence
        number (thousands may join at once, e.g. after a restart)."""
        key = (audience, resync)
        cached = self._snapshots.get(key)
        if cached is None or cached[0] != self.runtime.seq:
            runtime = self.runtime
            message = {
                "epoch": runtime.epoch,
                "seq": runtime.seq,
                "state": snapshot(runtime.state, audience),
                "resync": resync,
                "views": self.views.full(runtime.state, runtime.clock()),
            }
            cached = (runtime.seq, self.fanout.encode("snapshot", message))
            self._snapshots[key] = cached
        return cached[1]
