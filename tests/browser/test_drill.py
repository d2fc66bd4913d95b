"""The floor drill in Chromium, against its practice consultation on the server:
the times shown are the core's, the answers the server's, and the meeting sees nothing."""

from __future__ import annotations

from playwright.async_api import expect
from vcc.api.routes import PRACTICE
from vcc.practice import PREFIX, Script
from vcc_testkit.browser import Screens
from vcc_testkit.consultations import CHAIR, COUNCIL
from vcc_testkit.node import CONSULTATION

#: Quick enough for a test, slow enough to see each step: the scripted parts act through the server's commands.
SCRIPT = Script(chair_reaction_ms=300, others_go_live_ms=300, others_speech_ms=1_000, booth_finishes_ms=300)


async def test_the_drill_runs_on_the_server_and_the_meeting_sees_nothing(screens: Screens, node) -> None:
    rooms = node.server.app[PRACTICE]
    rooms.script = SCRIPT
    real = await node.runtime()
    before = real.seq
    page = await screens.open(COUNCIL[0], path="/drill")
    room = rooms.of(CONSULTATION, COUNCIL[0])
    assert room is not None and room.runtime.consultation.startswith(PREFIX)
    mine = room.runtime.state.participants[COUNCIL[0]].delegation

    # Another delegation speaks when the drill opens: the server's script, seen through the fold.
    await expect(page.get_by_test_id("request-floor")).to_be_enabled()
    await page.keyboard.press("r")
    await expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "queued")
    assert any(r.delegation == mine for r in room.runtime.state.queues[room.runtime.state.current_item])
    await expect(page.get_by_test_id("go-live")).to_be_enabled(timeout=20_000)
    await page.keyboard.press("l")
    attempt = page.get_by_test_id("drill-attempt")
    await expect(attempt).to_have_count(1)
    # The time shown is the one the core recorded (grant -> live), not one the browser measured.
    speech = room.runtime.state.speech
    assert speech is not None and speech.participant == COUNCIL[0]
    assert int(await attempt.get_attribute("data-ms")) == speech.time_to_floor_ms
    await page.keyboard.press("y")
    await expect(page.get_by_test_id("phase")).to_have_attribute("data-phase", "idle")
    assert [s.participant for s in room.runtime.state.speeches][-1] == COUNCIL[0]

    # A second drill of the same participant ends the first: the first page is told so by the server.
    second = await screens.open(COUNCIL[0], path="/drill")
    refused = page.get_by_test_id("drill-refused")
    await expect(refused).to_have_attribute("data-code", "practice_ended")
    await expect(refused).to_contain_text("start a new drill")
    await expect(second.get_by_test_id("request-floor")).to_be_enabled()
    assert rooms.of(CONSULTATION, COUNCIL[0]) is not room and len(rooms.rooms) == 1
    assert real.seq == before and await node.service.store.streams() == [CONSULTATION]


async def test_the_server_refuses_the_drill_to_a_role_that_never_asks_for_the_floor(screens: Screens) -> None:
    page = await screens.open(CHAIR, path="/drill", wait=False)
    refused = page.get_by_test_id("drill-refused")
    await expect(refused).to_have_attribute("data-code", "not_allowed")
    await expect(refused).to_contain_text("for delegates")


async def test_a_delegate_opens_the_drill_from_their_meeting_page(screens: Screens, node) -> None:
    meeting = await screens.open(COUNCIL[1])
    async with meeting.context.expect_page() as opened:
        await meeting.get_by_test_id("open-drill").click()
    drill = await opened.value
    await expect(drill.get_by_test_id("request-floor")).to_be_enabled()
    room = node.server.app[PRACTICE].of(CONSULTATION, COUNCIL[1])
    assert room is not None and room.participant == COUNCIL[1]
    # The meeting page is still on the meeting.
    await expect(meeting.get_by_test_id("connection")).to_have_attribute("data-status", "connected")
