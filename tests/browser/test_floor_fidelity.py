"""The floor in use, on real screens: a queued delegation raises a point of
order and keeps its place; a handover closes the outgoing interpreter's
microphone on every screen (and after a reload); a decision by correspondence
from the opening of the ballot to the report."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Page, async_playwright, expect
from vcc_protocol import commands as c
from vcc_testkit.consultations import CHAIR, COUNCIL, INTERPRETER, OBSERVER_STATE, PARTNER, SECRETARIAT
from vcc_testkit.node import CONSULTATION

from .helpers import eventually, ok, python_clients

pytestmark = pytest.mark.browser


async def queue_rows(page: Page) -> list[tuple[str, bool]]:
    """The queue as the screen shows it: (delegation, is it a point of order)."""
    return [
        (row["delegation"], row["pointOfOrder"] == "true")
        for row in await page.eval_on_selector_all("[data-testid=queue] > li", "rows => rows.map(r => ({...r.dataset}))")
    ]


async def test_a_queued_delegation_raises_a_point_of_order_and_keeps_its_place(screens, node) -> None:
    chair = await screens.open(CHAIR)
    brazil = await screens.open(COUNCIL[1])
    chile = await screens.open(OBSERVER_STATE)
    screen = await screens.open(COUNCIL[2], path="/screen")
    async with python_clients(node, CHAIR, COUNCIL[0]) as (chair_client, argentina):
        await ok(chair_client, "take_up_item", item="3")
        await ok(argentina, "request_floor")
        await brazil.get_by_test_id("request-floor").click()
        await chile.get_by_test_id("request-floor").click()
        before = [("argentina", False), ("brazil", False), ("chile", False)]
        for page in (chair, brazil, chile):
            await eventually(lambda page=page: queue_rows(page), before, what="queue before the point of order")
        await expect(brazil.get_by_test_id("position")).to_contain_text("#2")

        # Queued, Brazil still sees the point-of-order button, and raises one (its keyboard shortcut).
        await expect(brazil.get_by_test_id("point-of-order")).to_be_visible()
        await brazil.keyboard.press("p")
        after = [("brazil", True), ("argentina", False), ("brazil", False), ("chile", False)]
        for page in (chair, brazil, chile, screen):
            await eventually(lambda page=page: queue_rows(page), after, what="queue after the point of order")
        # Brazil's own screen marks both its rows as its delegation's.
        await expect(brazil.locator("[data-testid=queue] > li.mine")).to_have_count(2)
        await expect(brazil.get_by_test_id("point-of-order-raised")).to_have_attribute("data-place", "1")
        # Its ordinary request is where it was: after Argentina, before Chile.
        await expect(brazil.get_by_test_id("phase")).to_have_attribute("data-phase", "queued")
        await expect(brazil.get_by_test_id("position")).to_contain_text("#3")

        # The chair gives the floor to the point of order; Brazil speaks on it and yields.
        await chair.get_by_test_id("grant-next").click()
        await expect(brazil.get_by_test_id("granted-point-of-order")).to_be_visible()
        await brazil.get_by_test_id("go-live").click()
        await expect(brazil.get_by_test_id("phase")).to_have_attribute("data-phase", "speaking")
        await brazil.get_by_test_id("yield").click()
        back = [("argentina", False), ("brazil", False), ("chile", False)]
        for page in (chair, brazil, chile, screen):
            await eventually(lambda page=page: queue_rows(page), back, what="queue after the point of order was heard")
        await expect(brazil.get_by_test_id("phase")).to_have_attribute("data-phase", "queued")
        await expect(brazil.get_by_test_id("position")).to_contain_text("#2")

        # A second point of order, withdrawn: the request stays.
        await brazil.get_by_test_id("point-of-order").click()
        await expect(brazil.get_by_test_id("withdraw-point-of-order")).to_be_visible()
        await brazil.get_by_test_id("withdraw-point-of-order").click()
        await eventually(lambda: queue_rows(chair), back, what="queue after withdrawing the point of order")
        runtime = await node.runtime()
        assert [(r.delegation, r.point_of_order) for r in runtime.state.queues["3"]] == back


async def mic_state(page: Page, booth: str) -> str | None:
    return await page.get_attribute(f"tr[data-booth='{booth}'] [data-testid=booth-mic]", "data-open")


async def test_a_handover_closes_the_outgoing_microphone_on_every_screen(screens, node) -> None:
    outgoing = await screens.open(INTERPRETER["fr"])
    incoming = await screens.open(PARTNER["fr"])
    chair = await screens.open(CHAIR)
    await outgoing.get_by_test_id("take-duty").click()
    await expect(outgoing.get_by_test_id("duty")).to_contain_text("You are on duty")
    # Muted, the button is neither large nor green; the partner off duty cannot open the microphone.
    mic = outgoing.get_by_test_id("mic")
    await expect(mic).to_have_attribute("data-live", "false")
    assert "big" not in (await mic.get_attribute("class") or "").split() and "go" not in (await mic.get_attribute("class") or "").split()
    await expect(incoming.get_by_test_id("mic")).to_be_disabled()
    await expect(incoming.get_by_test_id("mic-off-duty")).to_be_visible()
    async with python_clients(node, PARTNER["fr"]) as (partner_client,):
        refused = await partner_client.send("set_booth_mic", live=True)
    assert refused["error"]["code"] == "not_on_duty"

    await mic.click()
    await expect(mic).to_have_attribute("data-live", "true")
    for page in (outgoing, incoming, chair):
        await eventually(lambda page=page: mic_state(page, "fr"), "true", what="booth table: French microphone open")

    await incoming.get_by_test_id("request-handover").click()
    await outgoing.get_by_test_id("accept-handover").click()
    await expect(incoming.get_by_test_id("duty")).to_contain_text("You are on duty")
    # Every screen agrees: the outgoing microphone is closed, the incoming one not yet open.
    await expect(outgoing.get_by_test_id("mic")).to_have_attribute("data-live", "false")
    await expect(outgoing.get_by_test_id("mic")).to_be_disabled()
    await expect(incoming.get_by_test_id("mic")).to_have_attribute("data-live", "false")
    for page in (outgoing, incoming, chair):
        await eventually(lambda page=page: mic_state(page, "fr"), "false", what="booth table: French microphone closed by the handover")
    runtime = await node.runtime()
    assert (runtime.state.booths["fr"].on_duty, runtime.state.booths["fr"].mic_open) == (PARTNER["fr"], False)

    # The incoming interpreter opens it; a reload shows the same on every screen.
    await incoming.keyboard.press("m")
    await expect(incoming.get_by_test_id("mic")).to_have_attribute("data-live", "true")
    for page in (outgoing, incoming, chair):
        await page.reload()
        await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected", timeout=15_000)
        await eventually(lambda page=page: mic_state(page, "fr"), "true", what="booth table after a reload")
    await expect(incoming.get_by_test_id("mic")).to_have_attribute("data-live", "true")
    await expect(outgoing.get_by_test_id("mic")).to_have_attribute("data-live", "false")
    await expect(outgoing.get_by_test_id("mic")).to_be_disabled()


def clock_at_second(second: int):  # noqa: ANN201
    """A clock at the real pace that reads ``second`` seconds past a whole minute now."""
    real = time.time_ns() // 1_000_000
    offset = (second * 1000 - real % 60_000) % 60_000
    return lambda: time.time_ns() // 1_000_000 + offset


async def test_a_decision_by_correspondence_from_the_ballot_to_the_report(make_node) -> None:
    # The ballot closes at the next whole minute, 55 s after the node starts: by itself, at its deadline.
    node = await make_node(clock=clock_at_second(5))
    runtime = await node.runtime()
    tz = ZoneInfo(runtime.state.tz)
    now = datetime.fromtimestamp(node.service.clock() / 1000, tz)
    deadline = (now.replace(second=0, microsecond=0) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    answers = await node.service.execute_all(
        CONSULTATION,
        [
            c.ProposeConclusion(id=c.new_id(), item="3", text="The Council approves the proposal by correspondence."),
            c.PointToCorrespondence(id=c.new_id(), item="3"),
        ],
        CHAIR,
    )
    assert all(a["ok"] for a in answers), answers

    async with async_playwright() as playwright:
        from vcc_testkit.browser import Screens, launch, tokens_of

        browser = await launch(playwright)
        screens = Screens(browser, node.url, tokens_of(node))
        try:
            secretariat = await screens.open(SECRETARIAT)
            argentina = await screens.open(COUNCIL[0])
            chile = await screens.open(OBSERVER_STATE)
            chair = await screens.open(CHAIR)
            await chair.get_by_test_id("outcome-item").select_option("3")
            await secretariat.get_by_test_id("ballot-item").select_option("3")
            await secretariat.get_by_test_id("ballot-deadline").fill(deadline)
            await secretariat.get_by_test_id("open-ballot").click()
            ballot = runtime.state.ballots
            await expect(argentina.locator("[data-testid=ballot][data-item='3']")).to_be_visible()
            assert ballot["3"].required == len(ballot["3"].electorate) // 2 + 1

            # A voting council member answers from its screen, changes its mind, and the answer survives a reload.
            await argentina.get_by_test_id("vote-no").click()
            await expect(argentina.get_by_test_id("ballot-mine")).to_have_attribute("data-answer", "no")
            await argentina.get_by_test_id("vote-yes").click()
            await expect(argentina.get_by_test_id("ballot-mine")).to_have_attribute("data-answer", "yes")
            await argentina.reload()
            await expect(argentina.get_by_test_id("ballot-mine")).to_have_attribute("data-answer", "yes")
            # An observer state sees the ballot but does not answer.
            await expect(chile.locator("[data-testid=ballot]")).to_contain_text("does not answer")
            await expect(chile.get_by_test_id("vote-yes")).to_have_count(0)

            # The secretariat records Brazil's reply received by letter.
            await secretariat.locator("[data-testid=ballot] details summary").click()
            await secretariat.get_by_test_id("letter-delegation").select_option("brazil")
            await secretariat.get_by_test_id("letter-answer").select_option("yes")
            await secretariat.get_by_test_id("letter-reference").fill("Note verbale 2021/117")
            await secretariat.get_by_test_id("record-letter").click()
            await expect(secretariat.locator("tr[data-delegation='brazil']")).to_have_attribute("data-answer", "yes")

            # Enough other council members answer (on their screens' command, through the service) for the majority;
            # one says no and the rest do not reply.
            others = [d for d in ballot["3"].electorate if d not in ("argentina", "brazil")]
            yes_needed = ballot["3"].required - 2
            for index, delegation in enumerate(others[: yes_needed + 1]):
                voter = next(p.id for p in runtime.state.participants.values() if p.delegation == delegation)
                answer = "no" if index == yes_needed else "yes"
                (sent,) = await node.service.execute_all(CONSULTATION, [c.CastVote(id=c.new_id(), item="3", answer=answer)], voter)
                assert sent["ok"], sent

            # The deadline closes the ballot by itself; every screen shows the result.
            for page in (argentina, secretariat, chile):
                await expect(page.get_by_test_id("ballot-result")).to_have_attribute("data-result", "approved", timeout=70_000)
            await expect(argentina.get_by_test_id("vote-yes")).to_have_count(0)
            await expect(chair.get_by_test_id("outcome-ballot")).to_contain_text("Approved")
            closed = runtime.state.ballots["3"]
            assert closed.tally == {"yes": ballot["3"].required, "no": 1, "abstain": 0} and closed.closed_at is not None
            assert closed.closed_at >= int(datetime.strptime(deadline, "%Y-%m-%dT%H:%M").replace(tzinfo=tz).timestamp() * 1000)
        finally:
            await screens.close()
            await browser.close()

    admin = {"Authorization": f"Bearer {node.admin_token()}"}
    async with aiohttp.ClientSession(headers=admin) as http:
        report = await (await http.get(f"{node.url}/api/consultations/{CONSULTATION}/reports/conclusions")).text()
    assert "The Council approves the proposal by correspondence." in report
    voters = len(closed.electorate)
    silent = voters - closed.tally["yes"] - 1
    assert (
        f"approved, with {closed.tally['yes']} yes, 1 no, 0 abstentions and {silent} without reply; "
        f"{closed.required} yes of the {voters} council members with the right to vote were required."
    ) in report
    assert "- Argentina: yes (on screen)" in report
    assert "- Brazil: yes (by letter, Note verbale 2021/117)" in report
    assert report.count(": no reply") == silent
