"""Joining, the connection test, and surviving a server restart."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from playwright.async_api import async_playwright, expect
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR, SCREEN_ACTOR
from vcc_testkit.browser import Screens, launch, run_offline, signed
from vcc_testkit.consultations import CHAIR, COUNCIL, OBSERVER_STATE, SECTOR, TECHNICAL, live_commands
from vcc_testkit.process_node import ProcessNode

from .helpers import eventually, ok, python_clients, queue_on

pytestmark = pytest.mark.browser


async def test_a_refused_join_link_explains_itself(screens) -> None:
    page = await screens.open(None, token="not-a-token", wait=False)
    refused = page.get_by_test_id("refused")
    await expect(refused).to_have_attribute("data-code", "unauthorized")
    await expect(refused).to_contain_text("This join link is damaged")


async def test_the_connection_test_hears_the_fake_microphone_and_reaches_the_dashboard(screens, node) -> None:
    delegate = await screens.open(COUNCIL[0])
    technical = await screens.open(TECHNICAL)
    await delegate.get_by_test_id("tab-connection_test").click()
    await delegate.get_by_test_id("run-connection-test").click()
    result = delegate.get_by_test_id("ct-result")
    await expect(result).to_be_visible(timeout=30_000)
    await expect(result).to_have_attribute("data-websocket", "true")
    await expect(result).to_have_attribute("data-microphone", "ok")
    assert float(await result.get_attribute("data-level")) > 0
    await expect(result).to_contain_text("Your microphone works")
    runtime = await node.runtime()
    recorded = runtime.state.connection_tests[COUNCIL[0]]
    assert recorded.websocket_ok and recorded.microphone == "ok" and recorded.input_level > 0 and recorded.camera == "ok"
    # This node runs without a media server: the audio round trip says so (tests/media has it through Janus).
    await expect(result).to_have_attribute("data-media", "unavailable")
    assert recorded.media == "unavailable"
    await expect(technical.locator("[data-testid=connection-tests] tbody tr")).to_have_count(1)
    # the live report: the dashboard's connections table shows the level the delegate's browser sent
    row = technical.locator(f"[data-testid=connections] tr[data-participant='{COUNCIL[0]}']")
    await expect(row.locator("meter")).to_have_count(1, timeout=10_000)


async def test_the_dashboard_follows_connections_as_they_come_report_and_go(screens, node) -> None:
    """presence arrives as changes (joined, changed, left): the table must follow each kind."""
    technical = await screens.open(TECHNICAL)
    rows = technical.locator("[data-testid=connections] tbody tr")
    await expect(rows).to_have_count(1)
    row = technical.locator(f"[data-testid=connections] tr[data-participant='{COUNCIL[2]}']")
    async with python_clients(node, COUNCIL[2]) as (delegate,):
        await expect(row).to_have_count(1)
        answer = await delegate.sio.call("report", {"browser": "Firefox 140", "microphone": "denied"}, timeout=5)
        assert answer["ok"], answer
        await expect(row).to_contain_text("Firefox 140")
    await expect(row).to_have_count(0)
    await expect(rows).to_have_count(1)


async def test_behind_a_firewall_that_blocks_websockets_the_delegate_still_joins_and_is_told_why(screens, node) -> None:
    delegate = await screens.open(COUNCIL[1], firewall=True)
    technical = await screens.open(TECHNICAL)
    await delegate.get_by_test_id("tab-connection_test").click()
    await delegate.get_by_test_id("run-connection-test").click()
    result = delegate.get_by_test_id("ct-result")
    await expect(result).to_be_visible(timeout=30_000)
    await expect(result).to_have_attribute("data-websocket", "false")
    await expect(result).to_contain_text("Your network blocks websockets")
    await expect(delegate.get_by_test_id("admin-note")).to_have_value(re.compile("allow WebSocket connections"))
    row = technical.locator(f"[data-testid=connections] tr[data-participant='{COUNCIL[1]}']")
    await expect(row).to_contain_text("long-polling")
    runtime = await node.runtime()
    assert runtime.state.connection_tests[COUNCIL[1]].websocket_ok is False
    # still a full participant: the floor works over long-polling
    await delegate.get_by_test_id("tab-floor").click()
    async with python_clients(node, CHAIR) as (chair,):
        await ok(chair, "take_up_item", item="3")
        await delegate.get_by_test_id("request-floor").click()
        await expect(delegate.get_by_test_id("position")).to_contain_text("#1")
        await ok(chair, "grant_floor")
        await delegate.get_by_test_id("go-live").click()
        await expect(delegate.get_by_test_id("phase")).to_have_attribute("data-phase", "speaking")


async def test_every_screen_resyncs_after_the_server_restarts(tmp_path) -> None:
    """A node in its own process is killed and started again on the same store and
    port; what happened while it was down reaches the screens only by a resync."""
    store = tmp_path / "store"
    secret = await run_offline(store, [(ADMIN_ACTOR, command) for command in live_commands(time.time_ns() // 1_000_000)])
    node = ProcessNode(str(store), log=tmp_path / "node.log")
    await asyncio.to_thread(node.start)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        screens = Screens(browser, node.url, signed(secret))
        try:
            chair = await screens.open(CHAIR)
            delegate = await screens.open(COUNCIL[0])
            sector = await screens.open(SECTOR)
            screen = await screens.open(SCREEN_ACTOR, path="/screen")
            await chair.locator("tr[data-item='3'] [data-testid=take-up]").click()
            await delegate.get_by_test_id("request-floor").click()
            for page in (chair, delegate, sector, screen):
                await eventually(lambda page=page: queue_on(page), ["argentina"], what="queue before the restart")

            node.kill()
            for page in (chair, delegate, sector, screen):
                await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "reconnecting")
            await expect(delegate.get_by_test_id("stale")).to_be_visible()
            await run_offline(
                store,
                [
                    (SECTOR, c.RequestFloor(id=c.new_id())),
                    (OBSERVER_STATE, c.RequestFloor(id=c.new_id())),
                    (CHAIR, c.GrantFloor(id=c.new_id())),
                ],
            )
            await asyncio.to_thread(node.start)

            for page in (chair, delegate, sector, screen):
                await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "resynced", timeout=15_000)
            expected = ["chile", "orbital-relay-networks-ltd"]
            for page in (chair, delegate, sector, screen):
                await eventually(lambda page=page: queue_on(page), expected, what="queue after the restart")
            await expect(delegate.get_by_test_id("stale")).to_have_count(0)
            await expect(delegate.get_by_test_id("you-have-the-floor")).to_be_visible()
            await expect(sector.get_by_test_id("position")).to_contain_text("#2")
            await expect(screen.get_by_test_id("screen-granted")).to_have_text("Argentina")
            # and the screens are live again, not just resynced once
            await delegate.get_by_test_id("go-live").click()
            await expect(chair.get_by_test_id("chair-speaker")).to_contain_text("Argentina")
            for page in (chair, delegate, sector, screen):
                await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected", timeout=10_000)
        finally:
            await screens.close()
            await browser.close()
            node.stop()
