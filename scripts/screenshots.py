"""Screenshots of every view of the browser client, at desktop width and at
390 px phone width, and the chair's console as a 1366x768 laptop shows it
without scrolling, into docs/screenshots/ (PNG).

    .venv/bin/python scripts/screenshots.py [--only NAME-PREFIX]

``--only`` writes (and replaces) just the screenshots whose names start with
the prefix, e.g. ``--only chair-console-laptop``.

It builds the client if needed, starts a node in this process on a temporary
store with the demo roster and the 2021 agenda and its own Janus (the media
plane, as ``vcc serve --media managed`` runs it), plays a sitting (requests of
every class, speeches with their time to floor, booths, outcomes, connection
tests, help requests), and photographs each role's screen in real Chromium,
whose fake microphone plays a tone: the pages publish and hear real audio.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import msgspec  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.async_api import Page, Playwright, async_playwright, expect  # noqa: E402
from vcc.client import ConsultationClient  # noqa: E402
from vcc_protocol import commands as c  # noqa: E402
from vcc_protocol.vocabulary import SCREEN_ACTOR  # noqa: E402
from vcc_testkit.audio import browser_with_microphone, tone_wav  # noqa: E402
from vcc_testkit.browser import DESKTOP, PHONE, Screens, tokens_of  # noqa: E402
from vcc_testkit.build import ensure_built  # noqa: E402
from vcc_testkit.consultations import (  # noqa: E402
    CAPTIONER,
    CHAIR,
    COUNCIL,
    FRENCH_SPEAKER,
    INTERPRETER,
    OBSERVER,
    OBSERVER_STATE,
    PARTNER,
    SECRETARIAT,
    SECTOR,
    TECHNICAL,
    live_commands,
)
from vcc_testkit.documents import pdf  # noqa: E402
from vcc_testkit.node import CONSULTATION, Node, start_node  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
#: The chair's laptop: the floor, the queue and the outcome must be in view at once.
LAPTOP = {"width": 1366, "height": 768}
#: Only screenshots whose names start with this are written (``--only``).
only = ""


class ReplayClock:
    """The node's clock: behind the wall clock by a lag the script shrinks to
    play a sitting's minutes in a few seconds; at the end it is the wall clock."""

    def __init__(self, lag_ms: int) -> None:
        self.lag = lag_ms

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 - self.lag

    def advance(self, ms: int) -> None:
        self.lag = max(self.lag - ms, 0)


def consultation_commands(now_ms: int) -> list[c.Command]:
    """The live test consultation, in Geneva time when Geneva's day allows a slot around now
    (the screenshots then show "Geneva"), else in the tests' midday zone."""
    commands = live_commands(now_ms)
    geneva = datetime.fromtimestamp(now_ms / 1000, ZoneInfo("Europe/Zurich"))
    create = commands[0]
    # Two more days, so that the plan and the forecast span days; contributions open for ten more days.
    days = [date.fromisoformat(create.days[0]) + timedelta(days=n) for n in range(3)]
    create = msgspec.structs.replace(
        create, days=[d.isoformat() for d in days], contributions_deadline=(days[0] + timedelta(days=10)).isoformat()
    )
    if 2 <= geneva.hour < 20:
        start, end = geneva - timedelta(hours=1), geneva + timedelta(hours=3)
        first = geneva.date()
        create = msgspec.structs.replace(
            create,
            tz="Europe/Zurich",
            days=[(first + timedelta(days=n)).isoformat() for n in range(3)],
            slot_start=f"{start:%H:%M}",
            slot_end=f"{end:%H:%M}",
            contributions_deadline=(first + timedelta(days=10)).isoformat(),
        )
    commands[0] = create
    return [*commands, c.SetWebcast(id=c.new_id(), public=True)]


async def play_sitting(node: Node, clock: ReplayClock, people: dict[str, ConsultationClient]) -> None:
    """Earlier speeches with realistic times to floor, the booths at work, outcomes, help, connection tests."""
    runtime = await node.runtime()

    async def run(actor: str, command: c.Command, after_ms: int = 0) -> None:
        clock.advance(after_ms)
        answer = await runtime.execute(command, actor)
        assert answer["ok"], (actor, command, answer)

    for booth in ("en", "fr", "es", "ru", "zh", "ar"):
        await run(INTERPRETER[booth], c.TakeBoothDuty(id=c.new_id()))
    await run(INTERPRETER["ar"], c.SetBoothSource(id=c.new_id(), source="fr"))
    await run(INTERPRETER["zh"], c.SetBoothSource(id=c.new_id(), source="en"))
    for number in ("1", "2"):
        await run(CHAIR, c.TakeUpItem(id=c.new_id(), item=number), 20_000)
        await run(
            CHAIR,
            c.ProposeConclusion(id=c.new_id(), item=number, text="The consultation takes note of the report and of the progress made."),
        )
    await run(CHAIR, c.TakeUpItem(id=c.new_id(), item="3"), 10_000)
    speakers = [
        (COUNCIL[2], 2_400),
        ("cuba-delegate-1", 21_000),
        ("china-delegate-1", 1_700),
        (OBSERVER_STATE, 6_500),
        ("kenya-delegate-1", 2_900),
        (FRENCH_SPEAKER, 12_000),
    ]
    for speaker, time_to_floor in speakers:
        if runtime.state.participants.get(speaker) is None:
            continue
        await run(speaker, c.RequestFloor(id=c.new_id()), 3_000)
        await run(CHAIR, c.GrantFloor(id=c.new_id()), 20_000)
        for booth in ("en", "fr", "es", "ru"):
            if not runtime.state.booths[booth].mic_open:
                await run(INTERPRETER[booth], c.SetBoothMic(id=c.new_id(), live=True))
        await run(speaker, c.GoLive(id=c.new_id()), time_to_floor)
        await run(speaker, c.YieldFloor(id=c.new_id()), 95_000)
        await run(CHAIR, c.OverrideTail(id=c.new_id()), 2_000)
    await run(CHAIR, c.RecordConsensus(id=c.new_id(), item="1"))
    await run(CHAIR, c.BlockItem(id=c.new_id(), item="2", kind="postponement", delegation="mexico"))
    await run(CHAIR, c.ProposePackage(id=c.new_id(), items=["5", "6", "7"]))
    # the queue now: a point of order, then council members, observers, a sector member
    for speaker in (SECTOR, OBSERVER, COUNCIL[0], "canada-delegate-1"):
        await run(speaker, c.RequestFloor(id=c.new_id()), 4_000)
    await run(COUNCIL[1], c.RequestFloor(id=c.new_id(), point_of_order=True), 2_000)
    await run(
        CHAIR,
        c.MoveFloorRequest(id=c.new_id(), delegation="palestine", position=4, reason="speaks for the co-sponsors of the contribution"),
    )
    await run("kenya-delegate-1", c.RequestHelp(id=c.new_id(), message="The French channel is silent on my side."), 1_000)
    await run(OBSERVER, c.RequestHelp(id=c.new_id(), message="Where is document C21/8?"), 1_000)
    tests = [
        (COUNCIL[0], "websocket", True, 38.0, 3.1, "ok", "ok", 0.21, "Chrome 126"),
        ("cuba-delegate-1", "polling", False, 410.0, 95.0, "ok", "missing", 0.12, "Firefox 127"),
        (OBSERVER_STATE, "websocket", True, 120.0, 18.0, "silent", "ok", 0.0, "Edge 126"),
        (SECTOR, "websocket", True, 22.0, 1.4, "ok", "ok", 0.33, "Safari 17"),
    ]
    for who, transport, ws, rtt, jitter, mic, cam, level, browser in tests:
        await run(
            who,
            c.RecordConnectionTest(
                id=c.new_id(),
                transport=transport,
                websocket_ok=ws,
                rtt_ms=rtt,
                jitter_ms=jitter,
                clock_offset_ms=-120.0,
                microphone=mic,
                camera=cam,
                input_level=level,
                browser=browser,
            ),
        )
    await prepare(node, runtime, run)
    clock.advance(clock.lag)  # now: the wall clock
    # presence for the technical team: a few more delegates connected, one through a firewall
    for who, transports in (
        (COUNCIL[2], ["websocket"]),
        ("cuba-delegate-1", ["polling"]),
        ("china-delegate-1", ["websocket"]),
        (PARTNER["fr"], ["websocket"]),
    ):
        client = ConsultationClient(node.url, node.token(who), transports=transports)
        await client.connect()
        await client.sio.emit(
            "report",
            {
                "rtt_ms": 35.0 if transports == ["websocket"] else 380.0,
                "jitter_ms": 4.0,
                "clock_offset_ms": 12.0,
                "browser": "Chrome 126",
                "microphone": "granted",
                "input_level": 0.18,
            },
        )
        people[who] = client


async def prepare(node: Node, runtime, run) -> None:  # noqa: ANN001
    """Before the sitting: the agenda consultation open for three more days, answered by most
    council members (Argentina, the screenshots' delegate, halfway), two proposed items, contributions."""
    state = runtime.state
    deadline = datetime.fromtimestamp(time.time() + 3 * 86400, ZoneInfo(state.tz)).strftime("%Y-%m-%dT23:59")
    await run(SECRETARIAT, c.OpenGrouping(id=c.new_id(), deadline=deadline))
    rng = random.Random(3)
    disputed = {"13": 0.5, "18": 0.3, "30": 0.6, "41": 0.25, "52": 0.4}
    first_delegate = {}
    for p in state.participants.values():
        if p.delegation and p.designated_speaker:
            first_delegate.setdefault(p.delegation, p.id)
    council = [d.id for d in state.delegations.values() if d.cls == "council_member" and d.id in first_delegate]
    for delegation in council[:36]:
        items = list(state.items) if delegation != "argentina" else list(state.items)[:30]
        for number in items:
            answer = "other_group" if rng.random() < disputed.get(number, 0.0) else "agree"
            await run(first_delegate[delegation], c.AnswerGrouping(id=c.new_id(), item=number, answer=answer))
    await run(
        first_delegate[council[3]],
        c.ProposeItem(id=c.new_id(), title="Report on the resilience of the secretariat's remote-meeting platform", group=1),
    )
    await run(first_delegate[council[7]], c.ProposeItem(id=c.new_id(), title="Dates of the next in-person session", group=2))
    await run(
        COUNCIL[1],
        c.SubmitContribution(
            id=c.new_id(),
            contribution="brazil-1",
            item="3",
            title="Comments on the report of the working group",
            co_submitters=["canada"],
            document="C21/33",
            comments="We welcome the report and the progress made since the last session. " * 6,
            way_forward="The consultation takes note of the report and invites the working group to continue its work.",
        ),
    )
    await run(
        OBSERVER_STATE,
        c.SubmitContribution(
            id=c.new_id(),
            contribution="chile-1",
            item="8",
            title="Proposal on the calendar of meetings",
            document="C21/12",
            comments="The calendar should leave two weeks between the working groups and the session.",
            way_forward="Adopt the calendar as amended.",
        ),
    )
    form = aiohttp.FormData()
    for name, value in {"contribution": "kenya-1", "item": "3", "title": "Written contribution of Kenya", "document": "C21/33"}.items():
        form.add_field(name, value)
    form.add_field("file", pdf(2), filename="Kenya-C21-33.pdf", content_type="application/pdf")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token('kenya-delegate-1')}"}) as http:
        async with http.post(f"{node.url}/api/consultations/{CONSULTATION}/contributions", data=form) as response:
            assert response.status == 201, await response.text()


async def shoot(page: Page, name: str, full_page: bool = True) -> None:
    if not name.startswith(only):
        return
    await page.wait_for_timeout(400)
    path = OUT / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    # 256 colours without dithering keep the text sharp at a third of the size: the repository carries every screenshot.
    Image.open(path).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"  {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


async def main() -> None:
    ensure_built()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob(f"{only}*.png"):
        old.unlink()
    async with async_playwright() as playwright:
        for width, viewport in WIDTHS.items():
            print(f"{width}:")
            async with sitting(playwright) as (screens, runtime):
                await shoot_all(screens, runtime, viewport, width)
        print("laptop:")
        async with sitting(playwright) as (screens, runtime):
            await shoot_chair_laptop(screens, runtime)


@asynccontextmanager
async def sitting(playwright: Playwright) -> AsyncIterator[tuple[Screens, Any]]:
    """A node of its own (its own Janus) with the sitting played, and Chromium whose microphone plays a tone.
    Each width gets its own: on one node, the second width's French channel stayed silent (the same
    people's pages reopened seconds after the first width's had closed)."""
    clock = ReplayClock(lag_ms=40 * 60_000)
    people: dict[str, ConsultationClient] = {}
    with tempfile.TemporaryDirectory() as folder:
        node = await start_node(Path(folder) / "store", clock=clock, commands=consultation_commands(clock()), media="managed")
        browser = await browser_with_microphone(playwright, tone_wav(Path(folder) / "440.wav", 440))
        try:
            await play_sitting(node, clock, people)
            screens = Screens(browser, node.url, tokens_of(node))
            yield screens, await node.runtime()
            await screens.close()
        finally:
            await browser.close()
            for client in people.values():
                await client.close()
            await node.server.close()


async def shoot_chair_laptop(screens: Screens, runtime) -> None:  # noqa: ANN001 - a vcc.service.Runtime
    """The chair's console as the window shows it, unscrolled: the queue's story, then a speech."""
    chair = await screens.open(CHAIR, viewport=LAPTOP)
    await expect(chair.get_by_test_id("request-story").first).to_be_visible()
    await shoot(chair, "chair-console-laptop", full_page=False)
    await runtime.execute(c.GrantFloor(id=c.new_id()), CHAIR)  # the point of order first
    await runtime.execute(c.GoLive(id=c.new_id()), COUNCIL[1])
    await expect(chair.get_by_test_id("chair-speaker")).to_be_visible()
    await shoot(chair, "chair-console-speech-laptop", full_page=False)


async def shoot_all(screens: Screens, runtime, viewport: dict[str, int], width: str) -> None:  # noqa: ANN001
    open_ = lambda who, **kw: screens.open(who, viewport=viewport, **kw)  # noqa: E731
    chair = await open_(CHAIR)
    delegate = await open_(COUNCIL[0])
    await expect(delegate.get_by_test_id("position")).to_be_visible()
    await shoot(delegate, f"delegate-in-queue-{width}")
    await shoot(chair, f"chair-console-{width}")
    booth = await open_(INTERPRETER["fr"])
    screen = await open_(SCREEN_ACTOR, path="/screen")

    await runtime.execute(c.GrantFloor(id=c.new_id()), CHAIR)  # the point of order first
    await runtime.execute(c.GoLive(id=c.new_id()), COUNCIL[1])
    await runtime.execute(c.SignalSpeakSlowly(id=c.new_id()), INTERPRETER["fr"])
    await runtime.execute(c.YieldFloor(id=c.new_id()), COUNCIL[1])
    await runtime.execute(c.GrantFloor(id=c.new_id(), delegation="argentina"), CHAIR)  # the tail still holds
    await expect(delegate.get_by_test_id("tail-wait")).to_be_visible()
    await shoot(delegate, f"delegate-granted-tail-{width}")
    await shoot(booth, f"booth-finishing-{width}")
    await runtime.execute(c.OverrideTail(id=c.new_id()), CHAIR)
    await expect(delegate.get_by_test_id("go-live")).to_be_enabled()
    await shoot(delegate, f"delegate-you-have-the-floor-{width}")
    await delegate.get_by_test_id("go-live").click()
    await runtime.execute(c.SignalSpeakSlowly(id=c.new_id()), INTERPRETER["es"])
    await expect(delegate.get_by_test_id("speak-slowly")).to_be_visible()
    await shoot(delegate, f"delegate-live-speak-slowly-{width}")
    await shoot(chair, f"chair-console-speech-{width}")
    await shoot(booth, f"booth-{width}")
    await shoot_captions(open_, width)
    await shoot(screen, f"public-screen-{width}")

    # The French booth's console (open above) speaks into the French channel; the Arabic booth works from it.
    answer = await runtime.execute(c.SetBoothMic(id=c.new_id(), live=True), INTERPRETER["ar"])
    assert answer["ok"], answer
    await open_(INTERPRETER["ar"])
    listener = await open_(FRENCH_SPEAKER)
    await listener.get_by_role("radio", name="French").check()
    await hearing(listener)
    await shoot(listener, f"delegate-hearing-french-{width}")
    arabic = await open_(OBSERVER, language="ar")
    await arabic.locator("[data-testid=channels] input[value='ar']").check()
    await hearing(arabic)
    await shoot(arabic, f"delegate-arabic-rtl-{width}")
    chinese = await open_("china-delegate-1", language="zh")
    await shoot(chinese, f"delegate-chinese-{width}")

    technical = await open_(TECHNICAL)
    await expect(technical.locator("[data-testid=connections] tbody tr")).not_to_have_count(0)
    # Each page's WebRTC figures come every 3 s: the listener's row shows its path and the French booth's level.
    listening = technical.locator(f"tr[data-participant='{FRENCH_SPEAKER}']")
    await expect(listening.get_by_test_id("ice")).to_have_text("connected", timeout=15_000)
    await technical.wait_for_function(
        f"() => Number(document.querySelector(\"tr[data-participant='{FRENCH_SPEAKER}'] [data-testid=audio-level]\")?.dataset.level) > 0.05",
        timeout=15_000,
    )
    await shoot(technical, f"technical-dashboard-{width}")
    secretariat = await open_("@admin")
    await shoot(secretariat, f"secretariat-{width}")
    await shoot_preparation(open_, width)

    tester = await open_(SECTOR)
    await tester.get_by_test_id("tab-connection_test").click()
    await tester.get_by_test_id("run-connection-test").click()
    await expect(tester.get_by_test_id("ct-result")).to_be_visible(timeout=30_000)
    await shoot(tester, f"connection-test-{width}")
    await tester.get_by_test_id("tab-help").click()
    await shoot(tester, f"help-{width}")

    # The drill opens from a delegate's join link, on a practice consultation of the server's.
    drill = await open_(COUNCIL[1], path="/drill")
    await expect(drill.get_by_test_id("request-floor")).to_be_enabled()
    await drill.keyboard.press("r")
    # Two other delegations speak first (vcc.practice.Script): about 16 s.
    await expect(drill.get_by_test_id("go-live")).to_be_enabled(timeout=40_000)
    await shoot(drill, f"drill-granted-{width}")
    await drill.keyboard.press("l")
    await expect(drill.get_by_test_id("drill-attempt")).to_have_count(1)
    await shoot(drill, f"drill-result-{width}")
    refused = await open_(None, token="expired-or-damaged", wait=False)
    await expect(refused.get_by_test_id("refused")).to_be_visible()
    await shoot(refused, f"join-refused-{width}")


async def hearing(page: Page) -> None:
    """Until the page plays its channel and shows a level well above silence (its figures come every 3 s)."""
    await expect(page.get_by_test_id("audio-status")).to_have_attribute("data-status", "playing", timeout=15_000)
    await page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=hearing-level]')?.dataset.level) > 0.05", timeout=15_000
    )


CAPTION_LINES = [
    "Thank you, Chair. Argentina welcomes the report of the Council Working Group",
    "and supports the proposed way forward on the draft decision.",
]


async def shoot_captions(open_, width: str) -> None:  # noqa: ANN001
    """The captioner writing the current speech, then the public webcast page showing it."""
    captioner = await open_(CAPTIONER)
    for text in CAPTION_LINES:
        await captioner.get_by_test_id("caption-input").fill(text)
        await captioner.get_by_test_id("caption-input").press("Enter")
        await expect(captioner.get_by_test_id("caption-input")).to_have_value("")
        await captioner.wait_for_timeout(600)  # the captions' pace: one line every 500 ms at most
    await shoot(captioner, f"captioner-{width}")
    webcast = await open_(None, path=f"/webcast/{CONSULTATION}", wait=False)
    await expect(webcast.get_by_test_id("caption-line")).to_have_count(len(CAPTION_LINES))
    await webcast.get_by_test_id("webcast-listen").click()
    await webcast.wait_for_function("() => !document.querySelector('[data-testid=webcast-player]').paused", timeout=30_000)
    await shoot(webcast, f"webcast-{width}")


async def shoot_preparation(open_, width: str) -> None:  # noqa: ANN001
    """The agenda consultation, contributions and the plan: a council member's, an observer state's and the secretariat's."""
    council = await open_(COUNCIL[0])
    await council.get_by_test_id("tab-grouping").click()
    await expect(council.locator("[data-testid=grouping-items] > li[data-answer='agree']").first).to_be_visible()
    await shoot(council, f"delegate-agenda-consultation-{width}", full_page=False)
    arabic = await open_(COUNCIL[0], language="ar")
    await arabic.get_by_test_id("tab-grouping").click()
    await expect(arabic.locator("[data-testid=grouping-items] > li[data-answer='agree']").first).to_be_visible()
    await shoot(arabic, f"delegate-agenda-consultation-arabic-{width}", full_page=False)
    observer = await open_(OBSERVER_STATE)
    await observer.get_by_test_id("tab-grouping").click()
    await shoot(observer, f"observer-agenda-consultation-{width}", full_page=False)
    await observer.get_by_test_id("tab-contributions").click()
    await shoot(observer, f"contributions-{width}")
    await council.get_by_test_id("tab-contributions").click()
    await council.get_by_test_id("contribution-item").select_option("3")
    await council.get_by_test_id("contribution-title").fill("Our comments on C21/33")
    await council.get_by_test_id("contribution-document").fill("C21/33")
    await council.get_by_test_id("co-submitters").locator("summary").click()
    await council.get_by_label("Brazil", exact=True).check()
    await council.get_by_label("Chile", exact=True).check()
    await council.get_by_test_id("co-submitters").locator("summary").click()
    await council.get_by_test_id("send-as-file").check()
    await council.get_by_test_id("contribution-file").set_input_files(
        files=[{"name": "comments.pdf", "mimeType": "application/pdf", "buffer": pdf(3)}]
    )
    await council.get_by_test_id("submit-contribution").click()
    await expect(council.get_by_test_id("contribution-error")).to_be_visible()
    await shoot(council, f"delegate-contribution-refused-{width}")
    await council.get_by_test_id("tab-plan").click()
    await shoot(council, f"delegate-plan-{width}")
    secretariat = await open_(SECRETARIAT)
    await secretariat.get_by_test_id("tab-grouping").click()
    await expect(secretariat.locator("[data-testid=tally] [data-testid=tally-agree]").first).not_to_have_attribute("data-n", "0")
    await secretariat.locator("[data-testid=tally] tr[data-item='13'] [data-testid=final-say]").select_option("1")  # the final say differs
    await secretariat.get_by_test_id("tally-filter").select_option("other_group")
    await shoot(secretariat, f"secretariat-agenda-consultation-{width}")
    await secretariat.get_by_test_id("tab-plan").click()
    await shoot(secretariat, f"secretariat-plan-{width}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Screenshots of every view into docs/screenshots/.")
    parser.add_argument("--only", default="", metavar="NAME-PREFIX", help="write only the screenshots whose names start with this")
    only = parser.parse_args().only
    asyncio.run(main())
