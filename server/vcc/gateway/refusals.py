"""What the gateway refuses, logged as one line each, at a bounded rate.

Anyone who can open a socket can send input the gateway refuses (frames that do
not decode, events it does not know, commands over the rate limit), and without
a token. A log that grows with that input is a lever (a traceback of about 2 KB
per malformed frame wrote 106 MB in 10 s from one connection), so a refusal is
one line with a stable code, and lines are rate-limited by three token buckets:
per connection, per remote address and for the whole node. What a bucket
suppresses is counted, and the next line logged says how much was left out.
Tracebacks are kept for real server faults.

python-engineio logs the inputs it cannot decode itself (a polling POST whose
payload does not parse, a request for an unknown session, an unsupported
method), with a traceback or once per kind at ERROR; :class:`EngineLog` is the
logger it is given instead, which turns those into refusals here. The remote
address of the request being served is in :data:`PEER`, set for every request
to the socket.io path (:func:`tag_requests`).
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..ops import metrics

log = logging.getLogger("vcc.gateway.refused")
engine_debug = logging.getLogger("vcc.gateway.engineio")

#: Lines per connection: a burst of 5, then one every 10 s.
PER_CONNECTION = (0.1, 5.0)
#: Lines per remote address: a burst of 20, then one a second.
PER_ADDRESS = (1.0, 20.0)
#: Lines for the whole node: a burst of 100, then ten a second.
PER_NODE = (10.0, 100.0)
#: Buckets kept before idle ones are forgotten (a full bucket holds no information).
MAX_BUCKETS = 4096
#: The longest detail a line quotes from the input.
MAX_DETAIL_CHARS = 160


@dataclass
class Peer:
    """The client of the request being served: its address and engine.io session, when known."""

    address: str
    session: str | None = None


PEER: contextvars.ContextVar[Peer | None] = contextvars.ContextVar("vcc_gateway_peer", default=None)


class _Buckets:
    """Token buckets by key, ``rate`` tokens a second up to ``burst``, in bounded memory."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[object, tuple[float, float]] = {}

    def take(self, key: object, now: float) -> bool:
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        ok = tokens >= 1
        self._buckets[key] = (tokens - 1 if ok else tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._forget_idle(now)
        return ok

    def _forget_idle(self, now: float) -> None:
        full = [k for k, (tokens, stamp) in self._buckets.items() if tokens + (now - stamp) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        # Still too many keys (a flood from many addresses): forget the oldest half.
        if len(self._buckets) > MAX_BUCKETS:
            for key in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[key]


class RefusalLog:
    """Logs refused input, one line each, within the bounds above; counts every refusal
    in ``vcc_refused_total{code}``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._per_connection = _Buckets(*PER_CONNECTION)
        self._per_address = _Buckets(*PER_ADDRESS)
        self._per_node = _Buckets(*PER_NODE)
        self._suppressed = 0
        self._suppressed_by_address: dict[str, int] = {}

    def refuse(self, code: str, detail: str, *, connection: str | None = None, address: str | None = None) -> None:
        """Record one refused input. ``connection`` and ``address`` default to the request's :data:`PEER`."""
        metrics.REFUSED.labels(code).inc()
        peer = PEER.get()
        if address is None:
            address = peer.address if peer is not None else "unknown"
        if connection is None and peer is not None:
            connection = peer.session
        now = self._clock()
        # Every bucket is charged, so a connection over its own bound also spends its address's tokens.
        allowed = self._per_node.take(None, now)
        allowed = self._per_address.take(address, now) and allowed
        if connection is not None:
            allowed = self._per_connection.take(connection, now) and allowed
        if not allowed:
            self._suppressed += 1
            if len(self._suppressed_by_address) < MAX_BUCKETS or address in self._suppressed_by_address:
                self._suppressed_by_address[address] = self._suppressed_by_address.get(address, 0) + 1
            return
        note = ""
        if self._suppressed:
            mine = self._suppressed_by_address.pop(address, 0)
            note = f" [{self._suppressed} refusals not logged since the last line; {mine} from this address since its last line]"
            self._suppressed = 0
        if len(detail) > MAX_DETAIL_CHARS:
            detail = detail[:MAX_DETAIL_CHARS] + "..."
        # The detail quotes the input: no line breaks or control characters of the sender's reach the log.
        detail = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in detail)
        log.warning("refused %s from %s connection %s: %s%s", code, address, connection or "-", detail, note)


class EngineLog:
    """The logger python-engineio is given (its ``logger`` parameter).

    engineio logs client faults: per packet at INFO (kept at DEBUG here, as
    engineio's own logger does unless asked), unknown sessions and bad requests
    at WARNING or ERROR, and a polling payload that does not decode with a
    traceback. Those become refusals. Any other exception is a server fault and
    keeps its traceback.
    """

    #: engineio's messages for an exception raised while decoding what a client sent.
    DECODING = ("post request handler error",)
    #: The exceptions decoding a payload raises (binascii.Error and UnicodeDecodeError are ValueErrors).
    DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError)

    def __init__(self, refusals: RefusalLog) -> None:
        self.refusals = refusals

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        engine_debug.debug(msg, *args)

    info = debug

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.refusals.refuse("bad_request", msg % args if args else msg)

    error = warning

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        fault = sys.exc_info()[1]
        if msg in self.DECODING and isinstance(fault, self.DECODE_ERRORS):
            self.refusals.refuse("malformed_frame", f"{msg}: {fault!r}")
        else:
            logging.getLogger("engineio.server").error(msg, *args, exc_info=True)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def tag_requests(handler: Handler, refusals: RefusalLog) -> Handler:
    """Wrap engineio's aiohttp request handler so that what it logs knows the client (:data:`PEER`).

    A websocket lives in its request's task, so the tag follows its whole life."""

    async def tagged(request: web.Request) -> web.StreamResponse:
        token = PEER.set(Peer(request.remote or "unknown", request.query.get("sid")))
        try:
            return await handler(request)
        except KeyError as exc:
            # engineio checks that the session exists, then fetches it, which raises
            # when the session closed in between (a ping timeout): the client's
            # request names a session that is gone, as for an unknown one.
            if exc.args != ("Session is disconnected",):
                raise
            refusals.refuse("bad_request", f"{request.method} for a session that has just closed")
            return web.Response(status=400, text="Session is disconnected")
        finally:
            PEER.reset(token)

    return tagged
