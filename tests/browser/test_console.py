"""The chair's console on a laptop: the floor, the queue and the outcome in view
at once, and a queue that tells each request's story."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from vcc_testkit.consultations import CHAIR, COUNCIL, OBSERVER_STATE, SECTOR

from .helpers import eventually, ok, python_clients, queue_on

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


async def fully_in_view(page: Page, testid: str) -> bool:
    """Whether the element lies wholly inside the window, with the page not scrolled."""
    return await page.get_by_test_id(testid).evaluate(
        """element => {
            const box = element.getBoundingClientRect();
            return window.scrollY === 0 && box.top >= 0 && box.left >= 0 && box.bottom <= window.innerHeight && box.right <= window.innerWidth && box.height > 0;
        }"""
    )


async def test_at_1366x768_the_floor_the_queue_and_the_outcome_are_in_view_and_each_request_tells_its_story(screens, node) -> None:
    async with python_clients(node, CHAIR, COUNCIL[0], COUNCIL[1], OBSERVER_STATE, SECTOR) as (chair, argentina, brazil, chile, sector):
        await ok(chair, "take_up_item", item="3")
        for _ in range(2):  # Argentina speaks twice on the item
            await ok(argentina, "request_floor")
            await ok(chair, "grant_floor")
            await ok(argentina, "go_live")
            await ok(argentina, "yield_floor")
        for client in (sector, chile, brazil, argentina):
            await ok(client, "request_floor")
        await ok(chair, "propose_conclusion", item="3", text="The consultation takes note of the report.")

        page = await screens.open(CHAIR, viewport=LAPTOP)
        await eventually(lambda: queue_on(page), ["brazil", "argentina", "chile", "orbital-relay-networks-ltd"], what="the chair's queue")
        for testid in ("chair-floor", "chair-queue", "outcome-card"):
            assert await fully_in_view(page, testid), f"{testid} is not wholly in view at 1366x768"
        for testid in ("grant-next", "record-consensus", "propose-conclusion"):
            assert await fully_in_view(page, testid), f"{testid} is not in view at 1366x768"

        runtime = await node.runtime()
        queue = {r.delegation: r for r in runtime.state.queues["3"]}
        rows = {d: page.locator(f"[data-testid=queue] > li[data-delegation='{d}']") for d in queue}
        await expect(rows["argentina"].get_by_test_id("spoke")).to_have_attribute("data-n", "2")
        await expect(rows["argentina"].get_by_test_id("spoke")).to_have_text("spoke 2 times on this item")
        for delegation in ("brazil", "chile", "orbital-relay-networks-ltd"):
            await expect(rows[delegation].get_by_test_id("spoke")).to_have_text("has not spoken on this item")
        # the time of the request as the header clock shows it (the consultation's zone), and the wait growing
        shown = await page.evaluate(
            "([at, tz]) => new Intl.DateTimeFormat('en-GB', {timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23'}).format(new Date(at))",
            [queue["chile"].requested_at, runtime.state.tz],
        )
        await expect(rows["chile"].get_by_test_id("requested-at")).to_have_text(f"asked at {shown}")
        waited = rows["chile"].get_by_test_id("waited")
        first = await waited.text_content()
        await expect(waited).not_to_have_text(first, timeout=5000)
