"""The 2021 consultation, played from the example data over its nine days.

The agenda (``c21-vcc1-agenda.json``: 58 items on the consultation's agenda,
five of them for package approval) and the demo roster (48 council members,
23 observer states, the observer, 9 sector members, six booths) are imported
as the secretariat would. Then, every day: the chair opens the sitting inside
the slot, takes up items, delegations of every class raise their hands, the
chair grants, the speakers go live (some too soon after the previous speech:
the booths are still interpreting), speak (some past their limit) and yield;
interpreters hand over every 30 minutes; items end by consensus, a package
approval, deferrals by council members and one decision by correspondence;
the last speech of each day is cut by the slot end at 15:00 Geneva time. The
discussions run longer than the plan's 15 minutes an item, and on the last
day the chair lets a long list of speakers run out the time: the forecast
says which items will not fit.

Played once per module (the fixture ``played``); each test checks one part.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from corekit import Consultation, builtins, ms
from vcc.core import Rejected
from vcc.core.forecast import Forecast, forecast
from vcc.core.interpretation import route
from vcc.documents import importers
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import Correspondence
from vcc_protocol.vocabulary import LANGUAGES

AGENDA = importers.example("c21-vcc1-agenda.json")
ROSTER = importers.example("roster-demo.csv")
CHAIR, SEC = "presiding-vice-chair", "council-secretariat-1"
UTC = ZoneInfo("UTC")
PACKAGE = ["1", "2", "7", "8", "9"]
#: item -> (kind, blocked by, recorded by the chair rather than the delegate)
DEFERRALS = {"10": ("objection", "china", False), "21": ("postponement", "brazil", True), "28": ("suspension", "russian-federation", False)}
CORRESPONDENCE = "41"
#: Item discussions finished on each of the first eight days (the package counts as one).
DAILY_QUOTA = 6


def booth_interpreter(lang: str, n: int) -> str:
    return f"interpreter-{lang}-{n}"


@dataclass
class Played:
    cons: Consultation
    create: c.CreateConsultation
    speakers: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    classes: dict[str, list[str]] = field(default_factory=dict)
    tail_refusals: int = 0
    tail_ends: Counter[str] = field(default_factory=Counter)
    observer_block_refused: str | None = None
    route_checks: list[tuple[str, str]] = field(default_factory=list)
    last_day_forecast: Forecast | None = None
    last_day_open: list[int] = field(default_factory=list)
    final_forecast: Forecast | None = None


class Sittings:
    """The chair, the secretariat, the delegations and the booths of the 2021 consultation."""

    def __init__(self) -> None:
        self.rng = random.Random(2021)
        create = importers.consultation_from_agenda(AGENDA)
        self.cons = Consultation(setup=False, strict=False, days=create.days)
        self.cons.chair = CHAIR
        self.cons.now = ms("2021-05-31", "09:00")
        self.played = Played(self.cons, create)

    # --- before the consultation ------------------------------------------------------
    def import_everything(self) -> None:
        cons = self.cons
        cons.run(self.played.create, "@admin")
        for command in importers.roster_from_csv(ROSTER):
            cons.run(command, "@admin")
        for command in importers.items_from_agenda_json(AGENDA):
            cons.run(command, "@admin")
        cons.run(c.PlanAgenda(id=c.new_id()), SEC)
        for pid, p in cons.state.participants.items():
            if p.delegation is not None:
                (self.played.speakers if p.designated_speaker else self.played.members).setdefault(p.delegation, pid)
        for did, d in cons.state.delegations.items():
            self.played.classes.setdefault(d.cls, []).append(did)

    # --- the clock and the booths -----------------------------------------------------
    def advance(self, to: int) -> None:
        """The shell's clock up to ``to``; interpreters hand over when their turn is up."""
        for event in self.cons.advance(to):
            if isinstance(event, e.HandoverDue):
                self.handover(event.booth)
            elif isinstance(event, e.InterpretationTailEnded):
                self.played.tail_ends[event.reason] += 1

    def wait(self, seconds: float) -> None:
        self.advance(self.cons.now + int(seconds * 1000))

    def handover(self, lang: str) -> None:
        booth = self.cons.state.booths[lang]
        outgoing = booth.on_duty
        assert outgoing is not None
        incoming = next(p for p in (booth_interpreter(lang, 1), booth_interpreter(lang, 2)) if p != outgoing)
        self.cons.run(c.RequestHandover(id=c.new_id()), incoming)
        was_open = booth.mic_open
        self.cons.run(c.AcceptHandover(id=c.new_id()), outgoing)
        assert not booth.mic_open, "a handover closes the booth's microphone"
        if was_open:
            self.cons.run(c.SetBoothMic(id=c.new_id(), live=True), incoming)

    def booths_on(self) -> None:
        for lang in LANGUAGES:
            booth = self.cons.state.booths[lang]
            if booth.on_duty is None:
                self.cons.run(c.TakeBoothDuty(id=c.new_id()), booth_interpreter(lang, 1))
            if not booth.mic_open:
                self.cons.run(c.SetBoothMic(id=c.new_id(), live=True), booth.on_duty)  # type: ignore[arg-type]

    def booths_off(self) -> None:
        for booth in self.cons.state.booths.values():
            if booth.mic_open:
                self.cons.run(c.SetBoothMic(id=c.new_id(), live=False), booth.on_duty)  # type: ignore[arg-type]

    # --- the floor --------------------------------------------------------------------
    def raise_hands(self, delegations: list[str]) -> None:
        for did in delegations:
            self.wait(self.rng.uniform(1, 15))
            pid = self.played.members.get(did) if self.rng.random() < 0.3 else None
            self.cons.run(c.RequestFloor(id=c.new_id()), pid or self.played.speakers[did])

    def pick_speakers(self, n: int) -> list[str]:
        classes = self.played.classes
        council = self.rng.sample(classes["council_member"], max(2, n // 2))
        others = self.rng.sample(classes["observer_state"], max(1, n // 4)) + self.rng.sample(classes["sector_member"], 1)
        if self.rng.random() < 0.3:
            others.append("palestine")
        queued = set(
            self.cons.state.queues.get(self.cons.state.current_item, [])
            and [r.delegation for r in self.cons.state.queues[self.cons.state.current_item]]
        )  # type: ignore[index]
        return [d for d in others + council if d not in queued]

    def speech(self, seconds: float) -> None:
        """The chair gives the floor to the first in the queue; the speaker goes live and speaks."""
        cons = self.cons
        granted = cons.grant()
        speaker = self.played.speakers[granted.delegation]
        self.wait(self.rng.choice([1, 2, 3, 5, 8, 12, 20, 25]))
        while True:
            try:
                cons.run(c.GoLive(id=c.new_id()), speaker)
                break
            except Rejected as rejected:
                assert rejected.code == "interpretation_tail"
                self.played.tail_refusals += 1
            # The booths are still on the previous speech: they finish, or the tail runs out, or the chair overrides.
            way = self.played.tail_refusals % 3
            if way == 0:
                for lang in list(cons.state.tail.booths):  # type: ignore[union-attr]
                    cons.run(c.BoothFinished(id=c.new_id()), cons.state.booths[lang].on_duty)  # type: ignore[arg-type]
                self.played.tail_ends["finished"] += 1
            elif way == 1:
                self.advance(cons.state.tail.until)  # type: ignore[union-attr]
            else:
                cons.run(c.OverrideTail(id=c.new_id()), CHAIR)
                self.played.tail_ends["override"] += 1
        language = cons.state.floor_language
        if language is not None and len(self.played.route_checks) < 20:
            other = next(lang for lang in LANGUAGES if lang != language)
            self.played.route_checks.append((route(cons.state, language).play, route(cons.state, other).play))
        self.wait(seconds)
        if cons.state.speech is not None:  # not cut by the slot end
            cons.run(c.YieldFloor(id=c.new_id()), speaker)

    def time_left(self, day: int) -> int:
        return self.cons.at("15:00", day) - self.cons.now

    # --- the items --------------------------------------------------------------------
    def next_item(self) -> int | None:
        for number in self.cons.state.agenda:
            if self.cons.state.items[number].status == "open":
                return number
        return None

    def discuss(self, day: int, number: int, stop_at: str = "14:50") -> bool:
        """Take up an item and give the floor to all who ask; True when its outcome is recorded."""
        cons = self.cons
        if cons.state.current_item != number:
            cons.take_up(number)
        if number in PACKAGE and not cons.state.package:
            for item in PACKAGE:
                cons.run(
                    c.ProposeConclusion(
                        id=c.new_id(),
                        item=item,
                        text=f"The consultation takes note of {cons.state.items[item].code} ({', '.join(cons.state.items[item].documents)}).",
                    ),
                    SEC,
                )
            cons.run(c.ProposePackage(id=c.new_id(), items=PACKAGE), CHAIR)
        elif cons.state.items[number].conclusion is None:
            cons.run(
                c.ProposeConclusion(
                    id=c.new_id(),
                    item=number,
                    text=f"The consultation takes note of {cons.state.items[number].code} and endorses its proposals.",
                ),
                SEC,
            )
        if not cons.queue():
            self.raise_hands(self.pick_speakers(self.rng.randint(6, 9)))
        if number in DEFERRALS and number == cons.state.current_item and self.played.observer_block_refused is None:
            # An observer state cannot object; it may still speak.
            self.played.observer_block_refused = cons.reject(
                c.BlockItem(id=c.new_id(), item=number, kind="objection"), self.played.speakers["sweden"]
            )
        while cons.queue() and cons.now < cons.at(stop_at, day):
            council = cons.state.delegations[cons.queue()[0]].cls == "council_member"
            self.speech(self.rng.uniform(110, 200 if council else 140))
        if cons.queue():
            return False
        if number in PACKAGE:
            cons.run(c.ApprovePackage(id=c.new_id()), CHAIR)
        elif number in DEFERRALS:
            kind, who, by_chair = DEFERRALS[number]
            if by_chair:
                cons.run(c.BlockItem(id=c.new_id(), item=number, kind=kind, delegation=who), CHAIR)  # type: ignore[arg-type]
            else:
                cons.run(c.BlockItem(id=c.new_id(), item=number, kind=kind), self.played.members.get(who) or self.played.speakers[who])  # type: ignore[arg-type]
        elif number == CORRESPONDENCE:
            cons.run(c.PointToCorrespondence(id=c.new_id(), item=number), CHAIR)
        else:
            cons.run(c.RecordConsensus(id=c.new_id(), item=number), CHAIR)
        return True

    def cut_by_the_slot_end(self, day: int) -> None:
        """A council member takes the floor shortly before 15:00 and is still speaking when the slot ends."""
        cons = self.cons
        if not cons.queue():
            did = next(d for d in self.played.classes["council_member"] if d not in cons.queue())
            cons.run(c.RequestFloor(id=c.new_id()), self.played.speakers[did])
        self.advance(max(cons.now, cons.at("14:57:30", day)))
        self.speech(seconds=300)
        assert cons.state.speech is None and cons.state.sitting is None

    def day(self, day: int) -> None:
        cons = self.cons
        self.advance(cons.at("12:00", day) + int(self.rng.uniform(5, 60) * 1000))
        cons.run(c.OpenSitting(id=c.new_id()), CHAIR)
        self.booths_on()
        done = 0
        last = day == len(self.played.create.days) - 1
        while not last and done < DAILY_QUOTA and cons.now < cons.at("14:30", day):
            number = self.next_item()
            if number is None:
                break
            done += self.discuss(day, number)
        if last:
            self.run_out_the_time(day)
        else:
            number = self.next_item()
            if number is not None and cons.state.current_item != number and cons.queue() == []:
                cons.take_up(number)
            self.cut_by_the_slot_end(day)
        self.advance(cons.at("15:00:30", day))
        self.booths_off()

    def run_out_the_time(self, day: int) -> None:
        """The last day: a long list of speakers on the next item, and the chair lets it run."""
        cons = self.cons
        number = self.next_item()
        assert number is not None
        cons.take_up(number)
        council = self.played.classes["council_member"]
        self.raise_hands(
            council[:40] + self.played.classes["observer_state"][:15] + ["palestine"] + self.played.classes["sector_member"][:4]
        )
        self.played.last_day_forecast = forecast(cons.state, cons.now)
        self.played.last_day_open = [n for n in cons.state.agenda if cons.state.items[n].status == "open"]
        while cons.state.sitting is not None and cons.queue():
            council_member = cons.state.delegations[cons.queue()[0]].cls == "council_member"
            self.speech(self.rng.uniform(150, 200 if council_member else 130))
        assert cons.state.sitting is None

    def play(self) -> Played:
        self.import_everything()
        for day in range(len(self.played.create.days)):
            self.day(day)
        self.played.final_forecast = forecast(self.cons.state, self.cons.now)
        return self.played


@pytest.fixture(scope="module")
def played() -> Played:
    return Sittings().play()


# --- the tests ------------------------------------------------------------------------


def test_the_2021_consultation_as_imported(played: Played) -> None:
    state = played.cons.state
    assert (state.code, state.slot_start, state.slot_end, state.tz) == ("C21/VCC-1", "12:00", "15:00", "Europe/Zurich")
    assert state.days == [
        "2021-06-08",
        "2021-06-09",
        "2021-06-10",
        "2021-06-11",
        "2021-06-14",
        "2021-06-15",
        "2021-06-16",
        "2021-06-17",
        "2021-06-18",
    ]
    assert len(state.agenda) == 58 and [n for n in state.agenda if state.items[n].package] == PACKAGE
    assert {cls: len(ds) for cls, ds in played.classes.items()} == {
        "council_member": 48,
        "observer_state": 23,
        "observer": 1,
        "sector_member": 9,
    }


def test_the_plan_puts_every_item_on_a_day_in_agenda_order_never_past_the_slot(played: Played) -> None:
    state = played.cons.state
    assert (state.plan_unplaced, state.plan_overflow_minutes) == ([], 0)
    assert [a.item for a in state.plan] == PACKAGE + [n for n in state.agenda if n not in PACKAGE]
    per_day = Counter()
    for allocation in state.plan:
        per_day[allocation.day] += allocation.minutes
    assert max(per_day.values()) <= 180
    days = [a.day for a in state.plan]
    assert days == sorted(days) and {a.day for a in state.plan if a.item in PACKAGE} == {0}
    # 58 items of 15 minutes: four full days and most of a fifth.
    assert per_day == {0: 180, 1: 180, 2: 180, 3: 180, 4: 150}


def test_every_day_a_sitting_inside_the_slot_closed_by_the_slot_end(played: Played) -> None:
    sittings = played.cons.state.sittings
    assert [s.day for s in sittings] == played.create.days
    for sitting in sittings:
        # June: CEST, so 12:00-15:00 Geneva time is 10:00-13:00 UTC.
        assert ms(sitting.day, "12:00") <= sitting.opened_at < ms(sitting.day, "12:01")
        assert sitting.closed_at == sitting.ends_at == ms(sitting.day, "13:00", UTC)
        assert sitting.close_reason == "slot_end"


def test_the_slot_end_cuts_the_running_speech_every_day(played: Played) -> None:
    cut = [s for s in played.cons.state.speeches if s.reason == "slot_end"]
    assert len(cut) == 9
    for speech in cut:
        day = next(s for s in played.cons.state.sittings if s.opened_at <= speech.started_at < s.ends_at)
        # Counted to 15:00, never beyond.
        assert speech.started_at + speech.duration_ms == day.ends_at
    closings = [ev for ev in played.cons.events if isinstance(ev, e.SittingClosed)]
    assert [ev.actor for ev in closings] == ["@system"] * 9


def test_delegations_of_every_class_spoke_and_every_speech_has_its_time_to_floor(played: Played) -> None:
    state = played.cons.state
    speeches = state.speeches
    assert len(speeches) > 300
    classes = Counter(state.delegations[s.delegation].cls for s in speeches)
    assert set(classes) == {"council_member", "observer_state", "observer", "sector_member"}
    assert all(s.time_to_floor_ms >= 1000 and s.duration_ms > 0 for s in speeches)
    assert all(state.participants[s.participant].designated_speaker for s in speeches)
    # Some requests were raised by a delegation member who is not its speaker.
    requests = [ev for ev in played.cons.events if isinstance(ev, e.FloorRequested)]
    assert any(not state.participants[r.participant].designated_speaker for r in requests)
    warned = [ev for ev in played.cons.events if isinstance(ev, e.SpeakingTimeExceeded)]
    assert warned and all(ev.limit_ms in (120_000, 180_000) for ev in warned)


def test_the_queue_gave_council_members_priority(played: Played) -> None:
    state = played.cons.state
    granted = [ev for ev in played.cons.events if isinstance(ev, e.FloorGranted)]
    # On the last day's long list all 40 council members spoke before any observer state.
    last_item = state.current_item
    last = [state.delegations[g.delegation].cls for g in granted if g.item == last_item and g.at >= state.sittings[-1].opened_at]
    firsts = last[: last.index("observer_state")] if "observer_state" in last else last
    assert set(firsts) == {"council_member"}


def test_the_booths_held_the_next_speaker_until_they_had_finished(played: Played) -> None:
    assert played.tail_refusals >= 6
    assert played.tail_ends["finished"] >= 2 and played.tail_ends["override"] >= 2 and played.tail_ends["elapsed"] >= 2
    overrides = [ev for ev in played.cons.events if isinstance(ev, e.InterpretationTailEnded) and ev.reason == "override"]
    assert overrides and all(ev.actor == CHAIR for ev in overrides)
    # The listener on the speaker's language heard the floor, the others their booth.
    assert played.route_checks and all(same == "floor" and other != "floor" for same, other in played.route_checks)


def test_interpreters_handed_over_every_half_hour(played: Played) -> None:
    alerts = Counter(ev.booth for ev in played.cons.events if isinstance(ev, e.HandoverDue))
    handovers = Counter(ev.booth for ev in played.cons.events if isinstance(ev, e.HandoverCompleted))
    # Every alert was answered by a handover: at least four a day in each of the six booths.
    assert handovers == alerts and set(handovers) == set(LANGUAGES)
    assert min(handovers.values()) >= 9 * 4


def test_outcomes_package_deferrals_correspondence_consensus(played: Played) -> None:
    state = played.cons.state
    items = state.items
    assert all(items[n].status == "concluded" and items[n].concluded_by == "package" for n in PACKAGE)
    (approval,) = [ev for ev in played.cons.events if isinstance(ev, e.PackageApproved)]
    assert approval.items == PACKAGE
    for number, (kind, who, _) in DEFERRALS.items():
        assert (items[number].status, items[number].block_kind, items[number].blocked_by) == ("deferred", kind, who)
    assert played.observer_block_refused == "only_council_members_may_block"
    assert items[CORRESPONDENCE].status == "correspondence"
    # 47 of the 48 council members have the right to vote (Paraguay does not): 24 make a simple majority.
    assert items[CORRESPONDENCE].correspondence == Correspondence(
        policy="simple_majority_of_voting_council_members", voters=47, required=24
    )
    statuses = Counter(item.status for item in items.values())
    assert set(statuses) <= {"open", "concluded", "deferred", "correspondence"}
    assert statuses["deferred"] == 3 and statuses["correspondence"] == 1
    assert statuses["concluded"] > 40 and statuses["open"] >= 2
    # Everything concluded has its proposed conclusion.
    assert all(item.conclusion for item in items.values() if item.status != "open")


def test_the_forecast_says_what_will_not_fit(played: Played) -> None:
    before = played.last_day_forecast
    assert before is not None
    open_items = played.last_day_open
    assert len(open_items) >= 2
    # With the long list of speakers, the last open items will not fit in the last slot.
    assert before.days_left == 0 and before.will_not_fit and before.overflow_minutes > 0
    assert before.will_not_fit == open_items[-len(before.will_not_fit) :]
    assert before.items[0].item == open_items[0] and before.items[0].remaining_minutes > 60
    # After the last slot nothing open fits any more.
    after = played.final_forecast
    assert after is not None and after.minutes_left_today == 0 and after.days_left == 0
    still_open = [n for n in played.cons.state.agenda if played.cons.state.items[n].status == "open"]
    assert after.will_not_fit == still_open and set(before.will_not_fit) <= set(still_open)


def test_elapsed_against_allocated(played: Played) -> None:
    state = played.cons.state
    allocated = {a.item: a.minutes for a in state.plan}
    discussed = [n for n in state.agenda if state.items[n].elapsed_ms > 0]
    assert len(discussed) > 40
    # The discussions ran longer than the plan's 15 minutes an item.
    assert sum(state.items[n].elapsed_ms for n in discussed) / 60_000 > sum(allocated[n] for n in discussed)
    # All the time on items was inside the nine slots.
    assert sum(item.elapsed_ms for item in state.items.values()) <= 9 * 180 * 60_000


def test_folding_all_events_gives_the_live_state(played: Played) -> None:
    assert len(played.cons.events) > 3_000
    assert played.cons.refolded() == builtins(played.cons.state)
