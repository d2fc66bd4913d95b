"""What the browser tests read off the screens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from playwright.async_api import Page
from vcc.client import ConsultationClient
from vcc_testkit.node import Node


async def queue_on(page: Page) -> list[str]:
    """The delegations in the queue, in the order the screen shows them."""
    return await page.eval_on_selector_all("[data-testid=queue] > li", "rows => rows.map(r => r.dataset.delegation)")


async def eventually(check: Callable[[], Awaitable[Any]], expected: Any, timeout: float = 10.0, what: str = "") -> None:
    """Poll ``check()`` until it returns ``expected``; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        seen = await check()
        if seen == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what or 'the screen'}: expected {expected!r}, still {seen!r} after {timeout} s")


@asynccontextmanager
async def python_clients(node: Node, *participants: str) -> AsyncIterator[list[ConsultationClient]]:
    """Participants acting through the Python client (the ones no screen is needed for)."""
    made = []
    try:
        for participant in participants:
            made.append(await node.client(participant))
        yield made
    finally:
        for client in made:
            await client.close()


async def ok(client: ConsultationClient, command: str, **fields: Any) -> None:
    answer = await client.send(command, **fields)
    assert answer["ok"], f"{command}: {answer}"
