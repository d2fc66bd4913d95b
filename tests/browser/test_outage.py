"""Actions taken while the connection is down are never sent behind the person's back."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import WebSocketRoute, expect
from vcc_testkit.consultations import CHAIR, COUNCIL

from .helpers import ok, python_clients

pytestmark = pytest.mark.browser


async def test_a_withdraw_clicked_offline_waits_for_the_delegates_word_and_is_sent_or_dropped(screens, node) -> None:
    async with python_clients(node, CHAIR) as (chair,):
        await ok(chair, "take_up_item", item="3")
        page = await screens.open(COUNCIL[0])
        context = page.context
        await page.get_by_test_id("request-floor").click()
        await expect(page.get_by_test_id("position")).to_contain_text("#1")

        await context.set_offline(True)
        await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "reconnecting", timeout=30_000)

        # offline: the click is held, shown as not sent, and the screen still says #1 as the server does
        await page.get_by_test_id("withdraw").click()
        pending = page.get_by_test_id("pending")
        await expect(pending).to_have_attribute("data-phase", "offline")
        await expect(pending).to_contain_text("Not sent: “Withdraw my request”")
        await expect(page.get_by_test_id("position")).to_contain_text("#1")

        # back online: asked, not sent; the delegate drops it and is told so
        await context.set_offline(False)
        await expect(pending).to_have_attribute("data-phase", "back", timeout=30_000)
        await expect(page.get_by_test_id("pending-send")).to_be_focused()
        await ok(chair, "set_speaking_limit", cls="council_member", seconds=180)  # a command through the server after the reconnect
        runtime = await node.runtime()
        assert [r.delegation for r in runtime.state.queues["3"]] == ["argentina"]
        await page.get_by_test_id("pending-drop").click()
        await expect(pending).to_have_count(0)
        await expect(page.get_by_test_id("notice")).to_contain_text("Not sent: “Withdraw my request”.")
        await expect(page.get_by_test_id("position")).to_contain_text("#1")
        assert [r.delegation for r in runtime.state.queues["3"]] == ["argentina"]

        # again, and this time the delegate confirms: it is sent once, and the screen follows
        await context.set_offline(True)
        await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "reconnecting", timeout=30_000)
        await page.keyboard.press("w")
        await expect(pending).to_have_attribute("data-phase", "offline")
        await context.set_offline(False)
        await expect(pending).to_have_attribute("data-phase", "back", timeout=30_000)
        await page.get_by_test_id("pending-send").click()
        await expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "idle")
        assert runtime.state.queues["3"] == []
        withdrawals = [e for _, e in await runtime.store.read("test", 0) if b"floor_request_withdrawn" in e]
        assert len(withdrawals) == 1


async def test_an_action_cut_off_before_its_answer_is_asked_about_and_never_applied_twice(screens, node) -> None:
    """The withdraw reaches the server, and the connection dies before the answer
    comes back: the page does not know whether it was applied, says so, and a
    confirmed resend (same command id) is answered without applying it again."""
    cut = {"armed": False}

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        async def from_page(message: str | bytes) -> None:
            server.send(message)
            if cut["armed"] and isinstance(message, bytes) and b"withdraw_floor_request" in message:
                cut["armed"] = False
                await ws.close()

        ws.on_message(from_page)

    async with python_clients(node, CHAIR) as (chair,):
        await ok(chair, "take_up_item", item="3")
        page = await screens.open(COUNCIL[0], prepare=lambda context: context.route_web_socket(re.compile(r".*/socket\.io/.*"), route))
        await page.get_by_test_id("request-floor").click()
        await expect(page.get_by_test_id("position")).to_contain_text("#1")
        runtime = await node.runtime()
        cut["armed"] = True
        await page.get_by_test_id("withdraw").click()
        pending = page.get_by_test_id("pending")
        await expect(pending).to_have_attribute("data-phase", "back", timeout=30_000)
        await expect(pending).to_have_attribute("data-unsure", "true")
        await expect(pending).to_contain_text("“Withdraw my request” may already have been applied")
        await expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "idle")  # the resynced screen: it was
        assert runtime.state.queues["3"] == []
        await page.get_by_test_id("pending-send").click()
        await expect(pending).to_have_count(0)
        await expect(page.get_by_test_id("notice")).to_have_count(0)  # the first answer again: ok, nothing refused
        withdrawals = [e for _, e in await runtime.store.read("test", 0) if b"floor_request_withdrawn" in e]
        assert len(withdrawals) == 1


def seconds_of_day(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in re.search(r"(\d\d):(\d\d):(\d\d)", text).groups())
    return hours * 3600 + minutes * 60 + seconds


async def test_the_reconnecting_banner_tells_the_time_in_the_consultations_zone_like_the_header_clock(screens, node) -> None:
    # Tokyo (UTC+9) is 9 hours or more from the test consultation's zone (midday_zone: UTC-12..UTC+0)
    page = await screens.open(COUNCIL[1], timezone="Asia/Tokyo")
    runtime = await node.runtime()
    clock = page.get_by_test_id("sitting-clock").locator("strong").first
    before = await clock.text_content()
    await page.context.set_offline(True)
    banner = page.get_by_test_id("stale")
    await expect(banner).to_be_visible(timeout=30_000)
    text = await banner.text_content()
    assert f"({runtime.state.tz})" in text or "(Geneva time)" in text, text
    # the banner's time is the header's zone, seconds apart, not the browser's own, hours apart
    apart = abs(seconds_of_day(text) - seconds_of_day(before)) % 86400
    assert min(apart, 86400 - apart) <= 10, (before, text)
