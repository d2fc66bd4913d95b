"""The public screen's own link and role; names in Arabic; confirmations that
name the action; texts that fit and read."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from vcc_protocol.vocabulary import SCREEN_ACTOR
from vcc_testkit.consultations import CHAIR, COUNCIL, SECRETARIAT, SECTOR, TECHNICAL

from .helpers import eventually, ok, python_clients, queue_on

pytestmark = pytest.mark.browser


def connections_of(node, actor: str) -> int:  # noqa: ANN001
    return sum(1 for session in node.gateway.sessions.values() if session.actor == actor)


async def connections(node, actor: str) -> int:  # noqa: ANN001
    return connections_of(node, actor)


async def test_the_public_screen_joins_with_its_own_link_and_a_participants_link_is_turned_away(screens, node) -> None:
    secretariat = await screens.open(SECRETARIAT)
    link = secretariat.get_by_test_id("screen-link")
    await expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(node.url)}/screen#t=."))
    screen = await screens.open(None, path="/screen", token=(await link.get_attribute("href")).split("#t=", 1)[1])
    technical = await screens.open(TECHNICAL)
    async with python_clients(node, CHAIR, SECTOR) as (chair, sector):
        await ok(chair, "take_up_item", item="3")
        await ok(sector, "request_floor")
        await eventually(lambda: queue_on(screen), ["orbital-relay-networks-ltd"], what="the public screen's queue")
    assert connections_of(node, SCREEN_ACTOR) == 1
    await expect(technical.locator(f"[data-testid=connections] tr[data-participant='{SCREEN_ACTOR}']")).to_contain_text("Public screen")
    session = next(s for s in node.gateway.sessions.values() if s.actor == SCREEN_ACTOR)
    assert (session.role, session.audience) == ("screen", "public")

    # a delegate's link opened as the screen: told to ask for the screen's link, and not kept as a second connection
    delegate = await screens.open(COUNCIL[0])
    assert connections_of(node, COUNCIL[0]) == 1
    wrong = await screens.open(None, path="/screen", token=screens.tokens(COUNCIL[0]), wait=False)
    await expect(wrong.get_by_test_id("screen-needs-own-link")).to_contain_text("The public screen has its own link")
    await eventually(lambda: connections(node, COUNCIL[0]), 1, what="the delegate's connections")
    await expect(delegate.get_by_test_id("connection")).to_have_attribute("data-status", "connected")


def luminance(rgb: str) -> float:
    channels = [int(x) / 255 for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_the_over_limit_time_reads_on_the_public_screens_navy(screens) -> None:
    screen = await screens.open(SCREEN_ACTOR, path="/screen")
    colours = await screen.evaluate(
        """() => {
            const floor = document.querySelector(".screen-floor");
            const timer = document.createElement("div");
            timer.className = "timer over large";
            timer.innerHTML = '<span class="elapsed">2:31</span><span class="over-note">Over the limit</span>';
            floor.append(timer);
            const seen = [".elapsed", ".over-note"].map((s) => getComputedStyle(timer.querySelector(s)).color);
            timer.remove();
            return { background: getComputedStyle(floor).backgroundColor, seen };
        }"""
    )
    for colour in colours["seen"]:
        assert contrast(colour, colours["background"]) >= 4.5, colours


async def test_in_arabic_a_delegation_name_keeps_its_full_stop_and_a_deferral_names_its_action(screens, node) -> None:
    async with python_clients(node, CHAIR, COUNCIL[1]) as (chair, brazil):
        await ok(chair, "take_up_item", item="3")
        await ok(brazil, "request_floor")
        sector = await screens.open(SECTOR, language="ar")
        await sector.get_by_test_id("request-floor").click()
        row = sector.locator("[data-testid=queue] > li[data-delegation='orbital-relay-networks-ltd'] bdi.name")
        await expect(row).to_have_text("Orbital Relay Networks Ltd.")
        # in a sentence: isolated, so the full stop stays at the end of the name
        heading = await sector.locator("#floor-h").text_content()
        assert "\u2068Orbital Relay Networks Ltd.\u2069" in heading, heading
        chair_page = await screens.open(CHAIR, language="ar")
        await ok(chair, "grant_floor")
        granted = await chair_page.get_by_test_id("chair-granted").text_content()
        assert "\u2068Brazil\u2069" in granted, granted

    argentina = await screens.open(COUNCIL[0])
    await argentina.locator(".block-actions summary").click()
    await argentina.get_by_test_id("block-postponement").click()
    await expect(argentina.locator(".confirm")).to_contain_text("Ask to postpone item 3?")
    await expect(argentina.get_by_test_id("block-postponement-confirm")).to_have_text("Confirm: Ask to postpone")
    await argentina.keyboard.press("Escape")
    await argentina.get_by_test_id("block-objection").click()
    await expect(argentina.locator(".confirm")).to_contain_text("Object to the proposed conclusion of item 3?")
    await expect(argentina.get_by_test_id("block-objection-confirm")).to_have_text("Confirm: Object to the proposed conclusion")


@pytest.mark.parametrize("language", ["en", "fr", "ru", "ar"])
async def test_the_participant_search_shows_its_whole_placeholder(screens, language: str) -> None:
    page = await screens.open(COUNCIL[0], language=language)
    search = page.locator(".participants-card input[type=search]")
    fits = await search.evaluate(
        """input => {
            const style = getComputedStyle(input);
            const context = document.createElement("canvas").getContext("2d");
            context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return { text: context.measureText(input.placeholder).width, room };
        }"""
    )
    assert fits["text"] <= fits["room"], fits
