"""The floor on real screens: priority order on every screen, each delegate
marked, grant -> go live -> yield with the time to floor on the technical
team's dashboard, the routing of a French listener, the interpretation tail."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.async_api import expect
from vcc_protocol.vocabulary import SCREEN_ACTOR
from vcc_testkit.consultations import CHAIR, COUNCIL, FRENCH_SPEAKER, INTERPRETER, OBSERVER_STATE, SECTOR, TECHNICAL

from .helpers import eventually, ok, python_clients, queue_on

pytestmark = pytest.mark.browser

EXPECTED_ORDER = ["argentina", "chile", "orbital-relay-networks-ltd"]


def seconds_shown(ms: int) -> str:
    """``ms`` as the dashboard shows it, to a tenth of a second. The browser's
    Intl.NumberFormat rounds the decimal value half away from zero (150 ms: "0.2 s"),
    where Python's format rounds the binary float (f"{0.15:.1f}" is "0.1")."""
    return f"{(Decimal(ms) / 1000).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} s"


async def test_queue_in_priority_order_everywhere_each_delegate_marked_and_the_floor_cycle(screens, node) -> None:
    chair = await screens.open(CHAIR)
    delegates = {p: await screens.open(p) for p in (SECTOR, OBSERVER_STATE, COUNCIL[0])}
    technical = await screens.open(TECHNICAL)
    screen = await screens.open(SCREEN_ACTOR, path="/screen")

    await chair.locator("tr[data-item='3'] [data-testid=take-up]").click()
    for page in delegates.values():
        await expect(page.get_by_test_id("current-item")).to_contain_text("Item 3")
    # hands from the lowest class first: the queue must still come out council member, observer state, sector member
    await delegates[SECTOR].get_by_test_id("request-floor").click()
    await expect(delegates[SECTOR].get_by_test_id("position")).to_contain_text("#1")
    await delegates[OBSERVER_STATE].get_by_test_id("request-floor").click()
    await delegates[COUNCIL[0]].keyboard.press("r")  # the keyboard shortcut

    for page in (chair, screen, *delegates.values()):
        await eventually(lambda page=page: queue_on(page), EXPECTED_ORDER, what="queue order")
    runtime = await node.runtime()
    assert [r.delegation for r in runtime.state.queues["3"]] == EXPECTED_ORDER

    for participant, page in delegates.items():
        delegation = runtime.state.participants[participant].delegation
        mine = page.locator("[data-testid=queue] > li.mine")
        await expect(mine).to_have_count(1)
        await expect(mine).to_have_attribute("data-delegation", delegation)
        await expect(page.locator("[data-testid=participants] li.me")).to_have_attribute("data-participant", participant)
        place = EXPECTED_ORDER.index(delegation) + 1
        await expect(page.get_by_test_id("position")).to_contain_text(f"#{place}")
    await expect(delegates[COUNCIL[0]].get_by_test_id("you-are-next")).to_be_visible()
    await expect(delegates[COUNCIL[0]].get_by_test_id("live-region")).to_have_text("You are next: check your microphone")
    await expect(delegates[OBSERVER_STATE].get_by_test_id("you-are-next")).to_have_count(0)

    council = delegates[COUNCIL[0]]
    await chair.get_by_test_id("grant-next").click()
    await expect(council.get_by_test_id("you-have-the-floor")).to_be_visible()
    await expect(council.get_by_test_id("live-region")).to_have_text("You have the floor")
    await expect(chair.get_by_test_id("chair-granted")).to_contain_text("Argentina")
    await council.get_by_test_id("go-live").click()
    await expect(council.get_by_test_id("phase")).to_have_attribute("data-phase", "speaking")
    await expect(chair.get_by_test_id("chair-time-to-floor")).to_be_visible()
    await expect(screen.get_by_test_id("screen-speaker")).to_have_text("Argentina")
    await council.get_by_test_id("yield").click()
    await expect(chair.get_by_test_id("grant-next")).to_be_enabled()

    runtime = await node.runtime()
    speech = runtime.state.speeches[-1]
    assert speech.delegation == "argentina" and speech.reason == "yielded"
    await expect(technical.get_by_test_id("ttf-value")).to_have_text([seconds_shown(speech.time_to_floor_ms)])
    await expect(technical.get_by_test_id("ttf-summary")).to_contain_text("1 of 1" if speech.time_to_floor_ms < 3000 else "0 of 1")
    await eventually(lambda: queue_on(chair), EXPECTED_ORDER[1:], what="queue after the grant")


async def test_a_french_listener_hears_the_floor_while_a_french_speaker_is_live(screens, node) -> None:
    listener = await screens.open(COUNCIL[1])
    await listener.get_by_role("radio", name="French").check()
    hearing = listener.get_by_test_id("hearing")
    await expect(hearing).to_have_attribute("data-play", "fr")
    async with python_clients(node, CHAIR, FRENCH_SPEAKER, INTERPRETER["es"]) as (chair, speaker, spanish_booth):
        await ok(chair, "take_up_item", item="3")
        await ok(speaker, "request_floor")
        await ok(chair, "grant_floor")
        await ok(speaker, "go_live")
        await expect(hearing).to_have_attribute("data-play", "floor")
        await expect(hearing).to_contain_text("French is the speaker's own language")
        # a Spanish listener whose booth relays the French booth is in effect on the floor's interpretation
        await ok(spanish_booth, "set_booth_source", source="en")
        await listener.get_by_role("radio", name="Spanish").check()
        await expect(hearing).to_have_attribute("data-play", "es")
        await expect(hearing).to_contain_text("Spanish, relay of English")
        await expect(listener.get_by_test_id("route-warning")).to_contain_text("muted")
        await listener.get_by_role("radio", name="French").check()
        await ok(speaker, "yield_floor")
        await expect(hearing).to_have_attribute("data-play", "fr")


async def test_the_next_speaker_waits_through_the_tail_until_the_booths_finish(make_node, tmp_path) -> None:
    from playwright.async_api import async_playwright
    from vcc_testkit.browser import Screens, launch, tokens_of

    node = await make_node(tail_ms=60_000)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        screens = Screens(browser, node.url, tokens_of(node))
        try:
            french_booth = await screens.open(INTERPRETER["fr"])
            next_speaker = await screens.open(COUNCIL[1])
            async with python_clients(node, CHAIR, COUNCIL[0], INTERPRETER["en"]) as (chair, first, english_booth):
                await french_booth.get_by_test_id("take-duty").click()
                await expect(french_booth.get_by_test_id("duty")).to_contain_text("You are on duty")
                await french_booth.get_by_test_id("mic").click()
                await expect(french_booth.get_by_test_id("mic")).to_have_attribute("data-live", "true")
                await ok(english_booth, "take_booth_duty")
                await ok(english_booth, "set_booth_mic", live=True)
                await ok(chair, "take_up_item", item="3")
                await ok(first, "request_floor")
                await next_speaker.get_by_test_id("request-floor").click()
                await ok(chair, "grant_floor")
                await ok(first, "go_live")
                await ok(first, "yield_floor")  # both booths are live: the tail holds the next speaker
                await ok(chair, "grant_floor")
                await expect(next_speaker.get_by_test_id("phase")).to_have_attribute("data-phase", "tail")
                await expect(next_speaker.get_by_test_id("tail-wait")).to_contain_text("Interpretation finishing, please wait")
                await expect(next_speaker.get_by_test_id("go-live")).to_be_disabled()
                async with python_clients(node, COUNCIL[1]) as (same_delegate,):
                    refused = await same_delegate.send("go_live")
                assert refused["error"]["code"] == "interpretation_tail"
                await french_booth.keyboard.press("f")  # the booth's "finished" shortcut
                await expect(french_booth.get_by_test_id("booth-finished")).to_have_count(0)
                await expect(next_speaker.get_by_test_id("go-live")).to_be_disabled()
                await ok(english_booth, "booth_finished")
                await expect(next_speaker.get_by_test_id("go-live")).to_be_enabled()
                await next_speaker.get_by_test_id("go-live").click()
                await expect(next_speaker.get_by_test_id("phase")).to_have_attribute("data-phase", "speaking")
                runtime = await node.runtime()
                assert runtime.state.speech is not None and runtime.state.speech.delegation == "brazil"
        finally:
            await screens.close()
            await browser.close()
