"""``vcc serve`` with chosen optimisations taken out, or a candidate one put
in, for measurement only.

    python -m bench._ablation_serve --without publish-pause,gc-policy serve --store ...
    python -m bench._ablation_serve --with uvloop serve --store ...

``--without`` takes a comma-separated list from ``ABLATIONS``, ``--with`` from
``CANDIDATES``; the rest of the command line is ``vcc``'s. bench_burst.py
(``--without``) and bench_fanout.py (targets ``vcc-defgc``, ``vcc-noviews``,
``vcc-uvloop``, ``vcc-ping25``) run it to show, side by side with the service, what each
change buys.
Everything not named is the service as it is.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from vcc import cli
from vcc.core import views
from vcc.gateway import socket_api
from vcc.ops import gc_policy
from vcc_protocol.state import ConsultationState


class EveryTurnPublisher(socket_api.Publisher):
    """Never pauses after a costly send: the next starts at the turn after the last slice of it."""

    def _schedule(self) -> None:
        self._quiet_until = 0.0
        super()._schedule()


def _publish_every_turn() -> None:
    socket_api.Publisher = EveryTurnPublisher  # type: ignore[misc]


def _default_gc() -> None:
    """CPython's collector as it comes; the pauses are still measured."""

    def settle() -> None:
        gc.callbacks.append(gc_policy._observe)

    gc_policy.settle = settle


def _no_views() -> None:
    """Batches without the derived views (as before the server computed them): what views cost."""

    def nothing(self: views.ViewsFeed, state: ConsultationState, now: int) -> dict[str, Any]:
        return {}

    views.ViewsFeed.update = nothing  # type: ignore[method-assign]


def _uvloop() -> None:
    """uvloop's event loop for aiohttp.web.run_app (pip install uvloop first)."""
    import asyncio

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _ping25() -> None:
    """engine.io's default heartbeat (and Node socket.io's): a ping every 25 s, not 10."""
    socket_api.PING_INTERVAL = 25


ABLATIONS = {"publish-pause": _publish_every_turn, "gc-policy": _default_gc, "views": _no_views}
CANDIDATES = {"uvloop": _uvloop, "ping25": _ping25}
CHOICES = {"--without": ABLATIONS, "--with": CANDIDATES}


def main(argv: list[str]) -> int:
    choices = CHOICES.get(argv[0]) if argv else None
    if choices is None or len(argv) < 2:
        sys.exit(f"usage: python -m bench._ablation_serve --without {','.join(ABLATIONS)} | --with {','.join(CANDIDATES)} serve ...")
    for name in filter(None, argv[1].split(",")):
        if name not in choices:
            sys.exit(f"unknown {argv[0]} {name!r}; known: {', '.join(choices)}")
        choices[name]()
    return cli.main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
