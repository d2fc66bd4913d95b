"""A real node and real Chromium for the browser tests and the screenshots.

The node is the kit's (``vcc_testkit.node``: ``create_app`` + ``TestServer`` with
the demo roster and an open sitting at any hour);
Chromium is Debian's, driven by Playwright with fake media devices, so the
connection test hears the fake microphone's tone.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, expect
from vcc.auth.tokens import SCREEN_ROLE, Claims, sign
from vcc.config import Config
from vcc.service import Service
from vcc.store import open_store
from vcc_protocol.vocabulary import SCREEN_ACTOR

from .node import CONSULTATION, Node

CHROMIUM = Path(os.environ.get("VCC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is required for the browser tests and was not found at {CHROMIUM}: "
            "install Debian's (apt-get install chromium) or point VCC_CHROMIUM at one."
        )
    return str(CHROMIUM)


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


Tokens = Callable[[str], str]


def roster_roles() -> dict[str, str]:
    """Each participant of the demo roster and its role (a join link carries the role: the secretariat's gives its rights)."""
    from vcc.documents import importers
    from vcc_protocol import commands as c

    return {
        cmd.participant: cmd.role
        for cmd in importers.roster_from_csv(importers.example("roster-demo.csv"))
        if isinstance(cmd, c.AddParticipant)
    }


def tokens_of(node: Node) -> Tokens:
    """Join tokens for a node's participants, with their role as `vcc links` signs it; "@admin" gets the admin
    token, "@screen" the public screen's."""
    roles = {**roster_roles(), SCREEN_ACTOR: SCREEN_ROLE}
    return lambda participant: (
        node.admin_token() if participant == "@admin" else node.token(participant, roles.get(participant, "delegate"))
    )


@dataclass
class Screens:
    """Browser contexts opened on a node, each its own person (own storage, own connection)."""

    browser: Browser
    url: str
    tokens: Tokens
    contexts: list[BrowserContext] = field(default_factory=list)

    async def open(
        self,
        participant: str | None,
        *,
        path: str = "/join",
        viewport: dict[str, int] = DESKTOP,
        token: str | None = None,
        language: str | None = None,
        wait: bool = True,
        firewall: bool = False,
        permissions: list[str] | None = None,
        init_script: str | None = None,
        timezone: str = "America/New_York",
        prepare: Callable[[BrowserContext], Awaitable[Any]] | None = None,
    ) -> Page:
        """A page joined as ``participant`` (or with ``token``), waited on until it is connected.

        ``firewall``: the page's websockets to the server are cut, as by the
        firewall that kept a rehearsal delegate off the floor. ``permissions``
        are granted to the page (e.g. "notifications"); ``init_script`` runs
        before the page's own scripts; ``timezone`` is the browser's own zone;
        ``prepare`` is called with the context before the page opens (routes).
        The public screen (``path="/screen"``) always joins with its own link,
        as it does in a sitting: it is no participant's connection.
        """
        context = await self.browser.new_context(viewport=viewport, locale="en-GB", timezone_id=timezone, permissions=permissions)
        self.contexts.append(context)
        if init_script:
            await context.add_init_script(init_script)
        if prepare:
            await prepare(context)
        if firewall:
            await context.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda socket: socket.close())
        if language:
            await context.add_init_script(f"localStorage.setItem('vcc.language', {language!r})")
        page = await context.new_page()
        page.on("pageerror", lambda error: print(f"[{participant}] page error: {error}"))
        if token is None and path == "/screen":
            token = self.tokens(SCREEN_ACTOR)
        elif token is None and participant is not None:
            token = self.tokens(participant)
        await page.goto(f"{self.url}{path}" + (f"#t={token}" if token else ""))
        if wait:
            await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected", timeout=15_000)
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def run_offline(store: Path, commands: list[tuple[str, Any]]) -> bytes:
    """Run (actor, command) pairs on an embedded store no node is serving; return the store's secret."""
    opened = open_store(str(store))
    await opened.open()
    service = Service(opened)
    try:
        for actor, command in commands:
            answer = (await service.execute_all(CONSULTATION, [command], actor))[-1]
            assert answer["ok"], answer
    finally:
        await service.close()
        await opened.close()
    return await Config(store=str(store)).secret()


def signed(secret: bytes) -> Tokens:
    """Join tokens signed with a store's secret (for a node in its own process)."""

    def token(participant: str) -> str:
        role = {"@admin": "admin", SCREEN_ACTOR: SCREEN_ROLE}.get(participant, "delegate")
        return sign(secret, Claims(participant, role, CONSULTATION, time.time_ns() // 1_000_000 + 3_600_000))

    return token
