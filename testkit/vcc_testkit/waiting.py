"""Waiting on what the code under test makes true, never on a fixed time: a test
that checks "nothing else arrived" waits for a later marker or sequence number
instead, so it neither sleeps nor passes because it looked too early."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "the condition") -> None:
    """Return once ``condition()`` holds, re-checked every 10 ms; an
    ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.01)
