"""The other views on real screens: the chair's moves and outcomes, the
secretariat's imports and downloads, the help desk, the languages (the drill: test_drill.py)."""

from __future__ import annotations

import time

import msgspec
import pytest
from playwright.async_api import async_playwright, expect
from vcc_testkit.browser import PHONE, Screens, launch, tokens_of
from vcc_testkit.consultations import CHAIR, COUNCIL, OBSERVER, SECRETARIAT, SECTOR, TECHNICAL, live_commands

from .helpers import eventually, queue_on

pytestmark = pytest.mark.browser

AGENDA_CSV = "number,code,title,documents,package,minutes\n901,ADD 1,An added item,C21/99;C21/100,false,10\n"


async def test_the_chair_moves_a_request_with_a_reason_and_records_an_outcome(screens, node) -> None:
    chair = await screens.open(CHAIR)
    delegates = [await screens.open(p) for p in (COUNCIL[0], OBSERVER, SECTOR)]
    await chair.locator("tr[data-item='3'] [data-testid=take-up]").click()
    for page in delegates:
        await page.get_by_test_id("request-floor").click()
    await eventually(lambda: queue_on(chair), ["argentina", "palestine", "orbital-relay-networks-ltd"])
    row = chair.locator("[data-testid=queue] > li[data-delegation='orbital-relay-networks-ltd']")
    await row.get_by_role("button", name="Move").click()
    await row.get_by_label("To place").select_option("1")
    await row.get_by_label("Reason").fill("the chair's ruling on sector members")
    await row.get_by_role("button", name="Move").last.click()
    order = ["orbital-relay-networks-ltd", "argentina", "palestine"]
    for page in (chair, *delegates):
        await eventually(lambda page=page: queue_on(page), order, what="queue after the move")
    runtime = await node.runtime()
    assert runtime.state.moves[-1].reason == "the chair's ruling on sector members"
    await expect(delegates[2].get_by_test_id("position")).to_contain_text("#1")

    # outcome of item 3: propose a conclusion, record consensus
    await chair.get_by_test_id("conclusion-text").fill("The consultation takes note of the report.")
    await chair.get_by_test_id("propose-conclusion").click()
    await expect(delegates[0].get_by_test_id("current-item")).to_contain_text("takes note of the report")
    await chair.get_by_test_id("record-consensus").click()
    await expect(chair.get_by_test_id("outcome-status")).to_have_text("Concluded")
    await expect(delegates[0].get_by_test_id("current-item")).to_contain_text("Concluded")


async def test_the_secretariat_imports_and_downloads_with_the_admin_link_and_its_own(screens, node, tmp_path) -> None:
    page = await screens.open("@admin")
    agenda = tmp_path / "added.csv"
    agenda.write_text(AGENDA_CSV)
    await page.get_by_test_id("upload-agenda").set_input_files(str(agenda))
    await expect(page.get_by_test_id("notice")).to_contain_text("1 entries imported")
    runtime = await node.runtime()
    assert runtime.state.items["ADD 1"].documents == ["C21/99", "C21/100"]
    # The same file again: all or nothing, and here nothing to do.
    await page.get_by_test_id("upload-agenda").set_input_files(str(agenda))
    await expect(page.get_by_test_id("notice").last).to_contain_text("added.csv: already imported, nothing changed.")
    async with page.expect_download() as links:
        await page.get_by_test_id("download-links").click()
    text = tmp_path / "links.csv"
    await (await links.value).save_as(text)
    assert text.read_text().startswith("participant,name,role,delegation,delegation_class,url")
    async with page.expect_download() as report:
        await page.get_by_test_id("download-conclusions-html").click()
    assert (await report.value).suggested_filename.endswith("conclusions.html")
    # a secretariat member's own join link carries the secretariat's rights: the technical report in Word
    own = await screens.open(SECRETARIAT)
    async with own.expect_download() as technical:
        await own.get_by_test_id("download-technical-docx").click()
    word = tmp_path / "technical.docx"
    await (await technical.value).save_as(word)
    assert (await technical.value).suggested_filename.endswith("technical.docx") and word.read_bytes().startswith(b"PK")
    # edit an item's proposed conclusion
    await page.get_by_test_id("outcome-item").select_option("ADD 1")
    await page.get_by_test_id("conclusion-text").fill("Proposed: to note the added item.")
    await page.get_by_test_id("propose-conclusion").click()
    runtime = await node.runtime()

    async def conclusion() -> str | None:
        return runtime.state.items["ADD 1"].conclusion

    await eventually(conclusion, "Proposed: to note the added item.", what="the proposed conclusion on the server")


async def test_help_request_reaches_the_technical_team_and_is_resolved(screens) -> None:
    delegate = await screens.open(COUNCIL[0], viewport=PHONE)
    technical = await screens.open(TECHNICAL)
    await delegate.get_by_test_id("tab-help").click()
    await delegate.get_by_label("Your message").fill("No sound on the French channel")
    await delegate.get_by_role("button", name="Send to the technical team").click()
    await expect(technical.get_by_test_id("help-requests")).to_contain_text("No sound on the French channel")
    await expect(delegate.get_by_test_id("help-open")).to_be_visible()
    await technical.get_by_test_id("resolve-help").click()
    await expect(delegate.get_by_test_id("help-open")).to_have_count(0)
    await expect(technical.get_by_test_id("attendance")).to_contain_text("2 participants from 1 state")


async def test_the_arabic_interface_is_right_to_left_and_remembered(screens) -> None:
    page = await screens.open(COUNCIL[0])
    await page.get_by_test_id("language").select_option("ar")
    html = page.locator("html")
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(html).to_have_attribute("lang", "ar")
    await expect(page.get_by_test_id("request-floor")).to_contain_text("طلب الكلمة")
    await page.reload()
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await page.get_by_test_id("language").select_option("zh")
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(page.get_by_test_id("request-floor")).to_contain_text("请求发言")


SECTIONED_CSV = (
    "number,code,title,documents,package,minutes,section\n"
    "1,U1,Budget adjustments,,false,10,Urgent items for the virtual session\n"
    "1,D1,Strategic plan,,false,10,Items deferred to the in-person session\n"
)


async def test_sections_are_shown_and_titles_in_the_participants_language_or_said_to_be_english(screens, node, tmp_path) -> None:
    admin = await screens.open("@admin")
    agenda = tmp_path / "sections.csv"
    agenda.write_text(SECTIONED_CSV)
    await admin.get_by_test_id("upload-agenda").set_input_files(str(agenda))
    await expect(admin.get_by_test_id("notice")).to_contain_text("2 entries imported")
    # Both items are number 1: each is known by its code.
    assert [(ref, item.number) for ref, item in (await node.runtime()).state.items.items() if item.section] == [("U1", 1), ("D1", 1)]
    chair = await screens.open(CHAIR)
    sections = chair.locator("table.agenda tr.section-row")
    await expect(sections).to_have_text(["Urgent items for the virtual session", "Items deferred to the in-person session"])
    await chair.locator("tr[data-item='U1'] [data-testid=take-up]").click()
    french = await screens.open(COUNCIL[0], language="fr")
    card = french.get_by_test_id("current-item")
    await expect(card.get_by_test_id("item-section")).to_have_text("Urgent items for the virtual session")
    await expect(card.get_by_test_id("title-language")).to_have_text(
        "Affiché en anglais : la circulaire ne donne pas de titre dans votre langue."
    )
    # Item 3 of the 2021 agenda has a Chinese title: a Chinese screen shows it, and no note.
    await chair.locator("tr[data-item='3'] [data-testid=take-up]").click()
    chinese = await screens.open(COUNCIL[1], language="zh")
    card = chinese.get_by_test_id("current-item")
    await expect(card.locator(".item-title")).to_contain_text("国际电联互联网活动")
    await expect(card.get_by_test_id("title-language")).to_have_count(0)
    await expect(card.get_by_test_id("item-section")).to_have_count(0)


async def test_a_shifted_slot_is_announced_in_the_screens_language(make_node) -> None:
    """The demo shifts the slot to start now: every screen says so in its own language."""
    commands = live_commands(time.time_ns() // 1_000_000)
    commands[0] = msgspec.structs.replace(commands[0], rules_slot="12:00-15:00", note="Demo mode (English note)")
    node = await make_node(commands=commands)
    state = (await node.runtime()).state
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        screens = Screens(browser, node.url, tokens_of(node))
        try:
            french = await screens.open(COUNCIL[0], language="fr")
            await expect(french.get_by_test_id("slot-note")).to_have_text(
                f"Mode démonstration : le créneau a été déplacé à {state.slot_start}-{state.slot_end} {state.tz} à partir d'aujourd'hui "
                "(le règlement prévoit 12:00-15:00) pour que la démonstration puisse être essayée à toute heure."
            )
            chinese = await screens.open(COUNCIL[1], language="zh")
            await expect(chinese.get_by_test_id("slot-note")).to_contain_text("演示模式")
        finally:
            await screens.close()
            await browser.close()
