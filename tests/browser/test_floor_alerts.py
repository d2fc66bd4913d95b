"""When the floor is given: "Go live" takes the focus; a delegate whose tab is in
the background hears a tone and gets a system notification, unless turned off."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from vcc_testkit.consultations import CHAIR, COUNCIL

from .helpers import ok, python_clients

pytestmark = pytest.mark.browser

# The page's visibility as the test sets it (Playwright cannot send a real tab
# to the background), and a record of every notification and tone the page makes.
OBSERVE = """
window.__hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get() { return window.__hidden ? "hidden" : "visible"; } });
Object.defineProperty(Document.prototype, "hidden", { configurable: true, get() { return window.__hidden; } });
window.__notifications = [];
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) { super(title, options); window.__notifications.push({ title, body: options && options.body }); }
};
window.__tones = 0;
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return realStart.apply(this, args); };
"""


async def announced(page: Page) -> None:
    """Wait until the page has announced the floor (to screen readers): the moment its alerts are
    given, or not. "Go live" can be focused earlier: the element that had the focus may be reused
    for it before the effect that alerts has run."""
    await expect(page.get_by_test_id("live-region")).to_have_text("You have the floor")


async def alerts(page: Page) -> dict:
    return await page.evaluate("() => ({ notifications: window.__notifications, tones: window.__tones })")


async def test_go_live_takes_the_focus_and_a_background_tab_is_alerted_unless_turned_off(screens, node) -> None:
    async with python_clients(node, CHAIR) as (chair,):
        await ok(chair, "take_up_item", item="3")
        page = await screens.open(COUNCIL[0], permissions=["notifications"], init_script=OBSERVE)
        go_live = page.get_by_test_id("go-live")

        # in view: the focus moves to "Go live", and nothing rings
        await page.get_by_test_id("request-floor").click()
        await ok(chair, "grant_floor")
        await expect(go_live).to_be_focused()
        await announced(page)
        assert await alerts(page) == {"notifications": [], "tones": 0}
        await page.keyboard.press("Enter")  # the focused button: live at once
        await expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "speaking")
        await page.get_by_test_id("yield").click()

        # in the background: a tone and a notification
        await page.get_by_test_id("request-floor").click()
        await page.evaluate("window.__hidden = true")
        await ok(chair, "grant_floor")
        await expect(go_live).to_be_focused()
        await page.wait_for_function("window.__tones > 0 && window.__notifications.length > 0")
        assert await alerts(page) == {
            "notifications": [{"title": "You have the floor", "body": "Argentina: go live when you are ready."}],
            "tones": 1,
        }
        await ok(chair, "revoke_grant")

        # both turned off, and the choice outlives a reload
        await page.evaluate("window.__hidden = false")
        await page.get_by_test_id("alert-settings").locator("summary").click()
        await page.get_by_test_id("alert-sound").uncheck()
        await page.get_by_test_id("alert-notification").uncheck()
        await page.reload()
        await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected")
        await page.get_by_test_id("alert-settings").locator("summary").click()
        await expect(page.get_by_test_id("alert-sound")).not_to_be_checked()
        await expect(page.get_by_test_id("alert-notification")).not_to_be_checked()
        await page.get_by_test_id("request-floor").click()
        await page.evaluate("window.__hidden = true")
        await ok(chair, "grant_floor")
        await expect(go_live).to_be_focused()
        await announced(page)  # the same moment the alerts would have been given
        assert await alerts(page) == {"notifications": [], "tones": 0}
