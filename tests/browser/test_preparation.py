"""Before the sitting, on real screens: the agenda consultation (the secretariat
opens it and watches the tally; council members answer and see only their own
answers; others see that only council members answer), written contributions
(text, a PDF, a third page refused in plain words, the list on another
screen), and the booth handover and the chair's package hint."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, async_playwright, expect
from vcc_testkit.browser import Screens, launch, tokens_of
from vcc_testkit.consultations import (
    CHAIR,
    COUNCIL,
    COUNCIL_NON_SPEAKER,
    INTERPRETER,
    OBSERVER_STATE,
    PARTNER,
    SECRETARIAT,
)
from vcc_testkit.documents import pdf

from .helpers import ok, python_clients

pytestmark = pytest.mark.browser


def grouping_item(page: Page, number: int):  # noqa: ANN201 - a Locator
    return page.locator(f"[data-testid=grouping-items] > li[data-item='{number}']")


def tally_cell(page: Page, number: int, column: str):  # noqa: ANN201 - a Locator
    return page.locator(f"[data-testid=tally] tr[data-item='{number}'] [data-testid=tally-{column}]")


async def test_the_agenda_consultation_answers_are_each_delegations_own_and_the_tally_is_live(screens, node) -> None:
    runtime = await node.runtime()
    councils = sum(1 for d in runtime.state.delegations.values() if d.cls == "council_member")
    deadline = (datetime.now(ZoneInfo(runtime.state.tz)) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    secretariat = await screens.open(SECRETARIAT)
    await secretariat.get_by_test_id("tab-grouping").click()
    await secretariat.get_by_test_id("grouping-deadline-input").fill(deadline)
    await secretariat.get_by_test_id("open-grouping-button").click()
    await expect(secretariat.get_by_test_id("grouping-status")).to_have_attribute("data-phase", "open")
    await expect(secretariat.get_by_test_id("close-grouping")).to_be_disabled()
    await expect(secretariat.get_by_test_id("close-grouping-why")).to_contain_text("close it after that")
    await expect(tally_cell(secretariat, 1, "none")).to_have_attribute("data-n", str(councils))

    argentina, brazil, chile = [await screens.open(p) for p in (COUNCIL[0], COUNCIL[1], OBSERVER_STATE)]
    for page in (argentina, brazil, chile):
        await page.get_by_test_id("tab-grouping").click()
    await expect(argentina.get_by_test_id("grouping-deadline")).to_have_attribute("data-passed", "false")
    await expect(argentina.get_by_test_id("grouping-deadline")).to_contain_text("left")

    await grouping_item(argentina, 1).get_by_test_id("answer-agree").click()
    await grouping_item(argentina, 2).get_by_test_id("answer-other").click()
    await grouping_item(brazil, 1).get_by_test_id("answer-other").click()
    await expect(grouping_item(argentina, 2)).to_have_attribute("data-answer", "other_group")
    await expect(tally_cell(secretariat, 2, "other")).to_have_attribute("data-n", "1")
    await grouping_item(argentina, 2).get_by_test_id("answer-agree").click()  # Argentina changes its answer

    # the secretariat's tally follows, live
    await expect(tally_cell(secretariat, 2, "other")).to_have_attribute("data-n", "0")
    await expect(tally_cell(secretariat, 2, "agree")).to_have_attribute("data-n", "1")
    await expect(tally_cell(secretariat, 1, "agree")).to_have_attribute("data-n", "1")
    await expect(tally_cell(secretariat, 1, "other")).to_have_attribute("data-n", "1")
    await expect(tally_cell(secretariat, 1, "none")).to_have_attribute("data-n", str(councils - 2))
    await tally_cell(secretariat, 1, "other").locator("summary").click()
    await expect(tally_cell(secretariat, 1, "other")).to_contain_text("Brazil")
    await expect(secretariat.get_by_test_id("grouping-answered-count")).to_contain_text(f"2 of {councils}")

    # each delegation sees its own answers, not the others'
    await expect(grouping_item(argentina, 1)).to_have_attribute("data-answer", "agree")
    await expect(grouping_item(argentina, 2)).to_have_attribute("data-answer", "agree")
    await expect(grouping_item(brazil, 1)).to_have_attribute("data-answer", "other_group")
    await expect(grouping_item(brazil, 2)).to_have_attribute("data-answer", "")
    await expect(grouping_item(brazil, 2).get_by_test_id("my-answer")).to_have_text("Not answered")
    await expect(brazil.get_by_test_id("my-progress")).to_contain_text("answered 1 of")
    # another member of Argentina's delegation answers elsewhere: Argentina's screen follows
    async with python_clients(node, COUNCIL_NON_SPEAKER) as (colleague,):
        await ok(colleague, "answer_grouping", item="3", answer="other_group")
    await expect(grouping_item(argentina, 3)).to_have_attribute("data-answer", "other_group")
    await expect(grouping_item(brazil, 3)).to_have_attribute("data-answer", "")

    # an observer state follows, cannot answer, and sees only how many answered
    await expect(chile.get_by_test_id("grouping-not-council")).to_contain_text("Only council members answer")
    await expect(chile.get_by_test_id("answer-agree")).to_have_count(0)
    await expect(chile.get_by_test_id("grouping-answered-count")).to_contain_text(f"2 of {councils}")
    await expect(chile.get_by_test_id("my-answer")).to_have_count(0)

    runtime = await node.runtime()
    assert runtime.state.grouping.answers == {"argentina": {"1": "agree", "2": "agree", "3": "other_group"}, "brazil": {"1": "other_group"}}
    # the answers come back from the server after a reload
    await argentina.reload()
    await argentina.get_by_test_id("tab-grouping").click()
    await expect(grouping_item(argentina, 1)).to_have_attribute("data-answer", "agree")
    await expect(grouping_item(argentina, 3)).to_have_attribute("data-answer", "other_group")


class LaggingClock:
    """The node's clock, behind the wall clock until the test catches it up (past a deadline).
    The browser reads the server's time from the welcome and the pings, which is the wall clock."""

    def __init__(self, lag_ms: int) -> None:
        self.lag_ms = lag_ms

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 - self.lag_ms


async def grouping_past_its_deadline(make_node) -> tuple:  # noqa: ANN001
    """A node whose agenda consultation was opened 3 minutes ago (its clock lagging) with a deadline
    that has passed by now, Argentina having proposed the other group for item 1."""
    clock = LaggingClock(3 * 60_000)
    node = await make_node(clock=clock)
    runtime = await node.runtime()
    deadline = (datetime.fromtimestamp(clock() / 1000, ZoneInfo(runtime.state.tz)) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    async with python_clients(node, SECRETARIAT, COUNCIL[0]) as (secretariat_client, argentina_client):
        await ok(secretariat_client, "open_grouping", deadline=deadline)
        await ok(argentina_client, "answer_grouping", item="1", answer="other_group")
    clock.lag_ms = 0  # now: the deadline has passed
    return node


def final_say(page: Page, number: int):  # noqa: ANN201 - a Locator
    return page.locator(f"[data-testid=tally] tr[data-item='{number}'] [data-testid=final-say]")


async def test_after_the_deadline_answers_are_locked_and_the_secretariat_chooses_its_final_say(make_node) -> None:
    node = await grouping_past_its_deadline(make_node)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        screens = Screens(browser, node.url, tokens_of(node))
        try:
            secretariat, argentina = await screens.open(SECRETARIAT), await screens.open(COUNCIL[0])
            for page in (secretariat, argentina):
                await page.get_by_test_id("tab-grouping").click()
            await expect(argentina.get_by_test_id("grouping-locked")).to_contain_text("answers can no longer change")
            await expect(grouping_item(argentina, 2).get_by_test_id("answer-agree")).to_be_disabled()
            await expect(grouping_item(argentina, 1)).to_have_attribute("data-answer", "other_group")
            await expect(argentina.get_by_test_id("propose-item")).to_have_count(0)

            await expect(secretariat.get_by_test_id("grouping-status")).to_have_attribute("data-phase", "answers_closed")
            await expect(tally_cell(secretariat, 1, "other")).to_have_attribute("data-n", "1")
            await expect(final_say(secretariat, 13)).to_have_value("2")  # it starts as the proposal
            await expect(secretariat.locator("[data-testid=tally] tr.override")).to_have_count(0)
            await final_say(secretariat, 1).select_option("2")  # as Argentina proposed
            await final_say(secretariat, 13).select_option("1")
            await expect(secretariat.locator("[data-testid=tally] tr.override")).to_have_count(2)
            await expect(secretariat.get_by_test_id("overrides-summary")).to_contain_text("2 items: 1, 13")
            await expect(secretariat.get_by_test_id("close-grouping")).to_be_enabled()
        finally:
            await screens.close()
            await browser.close()


async def test_the_secretariat_closes_the_agenda_consultation_and_the_agenda_follows(make_node) -> None:
    node = await grouping_past_its_deadline(make_node)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        screens = Screens(browser, node.url, tokens_of(node))
        try:
            secretariat = await screens.open(SECRETARIAT)
            await secretariat.get_by_test_id("tab-grouping").click()
            await final_say(secretariat, 1).select_option("2")
            await final_say(secretariat, 13).select_option("1")
            await secretariat.get_by_test_id("close-grouping").click()
            await secretariat.get_by_test_id("close-grouping-confirm").click()
            await expect(secretariat.get_by_test_id("grouping-status")).to_have_attribute("data-phase", "closed", timeout=3_000)
            await expect(secretariat.locator("[data-testid=tally] tr.override")).to_have_count(2)
            argentina = await screens.open(COUNCIL[0])
            await argentina.get_by_test_id("tab-grouping").click()
            await expect(grouping_item(argentina, 1).get_by_test_id("item-group")).to_have_text("Group 2")
            await expect(grouping_item(argentina, 1)).to_contain_text("changed by the secretariat")
            runtime = await node.runtime()
            assert runtime.state.grouping.overrides == ["1", "13"]
            assert "1" not in runtime.state.agenda and "13" in runtime.state.agenda
        finally:
            await screens.close()
            await browser.close()


async def test_member_states_contribute_text_and_a_pdf_a_third_page_is_refused_and_others_see_the_list(screens, node, tmp_path) -> None:
    argentina = await screens.open(COUNCIL[0])
    chile = await screens.open(OBSERVER_STATE)
    for page in (argentina, chile):
        await page.get_by_test_id("tab-contributions").click()
    await expect(argentina.get_by_test_id("contributions-deadline")).to_have_attribute("data-passed", "false")

    # text, with a co-submitter
    await argentina.get_by_test_id("contribution-item").select_option("3")
    await argentina.get_by_test_id("contribution-title").fill("Comments on the report")
    await argentina.get_by_test_id("contribution-document").fill("C21/33")
    await argentina.get_by_test_id("co-submitters").locator("summary").click()
    await argentina.get_by_placeholder("Find a member state").fill("Braz")
    await argentina.get_by_label("Brazil", exact=True).check()
    await argentina.get_by_test_id("contribution-comments").fill("x" * 7_100)
    # Beyond two pages (the server's limits: 2 of 3,500 characters).
    await expect(argentina.get_by_test_id("contribution-length")).to_contain_text("of 7,000 characters")
    await expect(argentina.get_by_test_id("submit-contribution")).to_be_disabled()
    await argentina.get_by_test_id("contribution-comments").fill("We welcome the report and its progress.")
    await argentina.get_by_test_id("contribution-way-forward").fill("Take note of the report.")
    await argentina.get_by_test_id("submit-contribution").click()
    await expect(argentina.get_by_test_id("contribution-done")).to_contain_text("Comments on the report")

    # a one-page PDF
    await argentina.get_by_test_id("contribution-title").fill("Our written comments")
    await argentina.get_by_test_id("send-as-file").check()
    await argentina.get_by_test_id("contribution-file").set_input_files(
        files=[{"name": "ours.pdf", "mimeType": "application/pdf", "buffer": pdf(1)}]
    )
    await argentina.get_by_test_id("submit-contribution").click()
    await expect(argentina.get_by_test_id("contribution-done")).to_contain_text("Our written comments")

    # three pages, then a file of another type: refused, said in plain words
    await argentina.get_by_test_id("contribution-title").fill("Too long")
    await argentina.get_by_test_id("contribution-file").set_input_files(
        files=[{"name": "long.pdf", "mimeType": "application/pdf", "buffer": pdf(3)}]
    )
    await argentina.get_by_test_id("submit-contribution").click()
    await expect(argentina.get_by_test_id("contribution-error")).to_contain_text("more than two pages")
    await argentina.get_by_test_id("contribution-file").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just notes"}]
    )
    await argentina.get_by_test_id("submit-contribution").click()
    await expect(argentina.get_by_test_id("contribution-error")).to_contain_text("send a PDF or a Word (DOCX) file")

    # another delegation's screen lists both, with the file to download
    listed = chile.locator("[data-testid=contribution-list] .c-item[data-item='3'] [data-testid=contribution]")
    await expect(listed).to_have_count(2)
    await expect(listed.first).to_contain_text("Argentina, Brazil")
    await expect(listed.first).to_contain_text("1 page")
    await expect(chile.get_by_test_id("contribution-not-member")).to_have_count(0)
    async with chile.expect_download() as download:
        await listed.nth(1).get_by_test_id("contribution-download").click()
    saved = tmp_path / "ours.pdf"
    await (await download.value).save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")

    runtime = await node.runtime()
    got = sorted(runtime.state.contributions.values(), key=lambda c: c.at)
    assert [(c.title, c.submitters, c.pages, c.file is not None) for c in got] == [
        ("Comments on the report", ["argentina", "brazil"], 1, False),
        ("Our written comments", ["argentina"], 1, True),
    ]


async def test_the_booth_handover_and_source_and_why_the_chair_cannot_pull_out_yet(screens, node) -> None:
    first, partner = await screens.open(INTERPRETER["fr"]), await screens.open(PARTNER["fr"])
    chair = await screens.open(CHAIR)
    await first.get_by_test_id("take-duty").click()
    await expect(partner.get_by_test_id("duty")).to_contain_text("is on duty")
    await partner.get_by_test_id("request-handover").click()  # the partner asks to take over
    await first.get_by_test_id("accept-handover").click()
    await expect(partner.get_by_test_id("duty")).to_contain_text("You are on duty")
    await expect(first.get_by_test_id("duty")).to_contain_text("is on duty")
    await partner.get_by_test_id("booth-source").select_option("en")
    await expect(chair.locator("[data-testid=booths] tr[data-booth='fr']")).to_contain_text("relay: English")

    async with python_clients(node, CHAIR) as (chair_client,):
        await ok(chair_client, "propose_package", items=["5", "6"])
    pull = chair.get_by_test_id("pull")
    await expect(pull).to_have_count(2)
    await expect(pull.first).to_be_disabled()
    await expect(chair.get_by_test_id("pull-hint")).to_contain_text("First choose the council member")
    await chair.get_by_test_id("puller").select_option("argentina")
    await expect(chair.get_by_test_id("pull-hint")).to_have_count(0)
    await pull.first.click()
    await expect(pull).to_have_count(1)
    runtime = await node.runtime()
    assert runtime.state.package == ["6"]
