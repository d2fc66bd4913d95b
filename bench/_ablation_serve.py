"""``vcc serve`` with chosen optimisations taken out, for measurement only.

    python -m bench._ablation_serve --without publish-pause,gc-policy serve --store ...

``--without`` takes a comma-separated list from ``ABLATIONS``; the rest of the
command line is ``vcc``'s. bench_burst.py and bench_fanout.py (``--without``)
run it to show, side by side with the service, what each optimisation buys.
Everything not named is the service as it is.
"""

from __future__ import annotations

import gc
import sys

from vcc import cli, gc_policy
from vcc.gateway import socket_api


class EveryTurnPublisher(socket_api.Publisher):
    """Sends at every event-loop turn, never pausing after a costly send."""

    def flush(self) -> None:
        super().flush()
        self._quiet_until = 0.0


def _publish_every_turn() -> None:
    socket_api.Publisher = EveryTurnPublisher  # type: ignore[misc]


def _default_gc() -> None:
    """CPython's collector as it comes; the pauses are still measured."""

    def settle() -> None:
        gc.callbacks.append(gc_policy._observe)

    gc_policy.settle = settle


ABLATIONS = {"publish-pause": _publish_every_turn, "gc-policy": _default_gc}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--without":
        sys.exit(f"usage: python -m bench._ablation_serve --without {','.join(ABLATIONS)} serve ...")
    for name in filter(None, argv[1].split(",")):
        if name not in ABLATIONS:
            sys.exit(f"unknown ablation {name!r}; known: {', '.join(ABLATIONS)}")
        ABLATIONS[name]()
    return cli.main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
