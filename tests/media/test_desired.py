"""The procedure -> media mapping (``vcc.media.desired``), pure: every floor and
booth transition, the channel feeds, and invariants over random sequences."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from vcc.core import Rejected
from vcc.media.desired import CHANNELS, FLOOR, ROOMS, DesiredMedia, desired_media
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import LANGUAGES, SYSTEM_ACTOR

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from corekit import DELEGATIONS, MINUTE, Consultation, interpreter, member, speaker  # noqa: E402

INTERPRETERS = {lang: {interpreter(lang, 1), interpreter(lang, 2)} for lang in LANGUAGES}


@pytest.fixture
def sitting() -> Consultation:
    cons = Consultation()
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    return cons


def media(cons: Consultation) -> DesiredMedia:
    return desired_media(cons.state)


def floor_open(cons: Consultation) -> set[str]:
    return {p for p, open_ in media(cons).rooms[FLOOR].items() if open_}


def floor(cons: Consultation) -> dict[str, bool]:
    return media(cons).rooms[FLOOR]


# --- the mixes and channels that always exist -----------------------------------------


def test_seven_mixes_and_seven_channels_before_anything_happens() -> None:
    cons = Consultation()
    wanted = media(cons)
    assert set(wanted.rooms) == set(ROOMS) == {"floor", *(f"booth-{lang}" for lang in LANGUAGES)}
    assert set(wanted.feeds) == set(CHANNELS) == {"floor", *LANGUAGES}
    # Nobody speaks: the floor channel carries the floor, each language its booth.
    assert wanted.feeds == {"floor": "floor", **{lang: f"booth-{lang}" for lang in LANGUAGES}}
    # The chair is in the floor mix, heard; every interpreter in their booth, silent.
    assert floor(cons) == {"chair": True}
    for lang in LANGUAGES:
        assert wanted.rooms[f"booth-{lang}"] == {p: False for p in INTERPRETERS[lang]}


def test_an_empty_state_has_empty_mixes() -> None:
    from vcc.core import ConsultationState

    wanted = desired_media(ConsultationState())
    assert all(members == {} for members in wanted.rooms.values())


# --- the floor ------------------------------------------------------------------------


def test_a_floor_request_connects_the_delegation_in_advance_muted(sitting: Consultation) -> None:
    sitting.hand(member("ch"))
    sitting.hand(speaker("us"))
    # The requester and the delegation's designated speaker(s), all muted.
    assert floor(sitting) == {"chair": True, member("ch"): False, speaker("ch"): False, speaker("us"): False}


def test_withdrawing_the_request_disconnects(sitting: Consultation) -> None:
    sitting.hand(speaker("us"))
    sitting.run(c.WithdrawFloorRequest(id=c.new_id()), speaker("us"))
    assert floor(sitting) == {"chair": True}


def test_the_grant_opens_the_designated_speakers_only(sitting: Consultation) -> None:
    sitting.hand(member("ch"))
    sitting.hand(speaker("us"))
    sitting.grant("ch")
    # The member who asked is not a designated speaker: they may not go live, so they leave the mix.
    assert floor(sitting) == {"chair": True, speaker("ch"): True, speaker("us"): False}


def test_a_point_of_order_granted_opens_the_speaker_whose_request_still_waits(sitting: Consultation) -> None:
    sitting.hand(speaker("us"))
    sitting.hand(speaker("ch"))
    sitting.run(c.RequestFloor(id=c.new_id(), point_of_order=True), speaker("ch"))
    sitting.grant("ch")
    # The delegation's ordinary request keeps its place in the queue; its speaker is heard all the same.
    assert floor(sitting) == {"chair": True, speaker("ch"): True, speaker("us"): False}


def test_going_live_leaves_only_the_speaker_open(sitting: Consultation) -> None:
    sitting.hand(speaker("cn"))
    sitting.hand(speaker("us"))
    sitting.grant("cn")
    sitting.later(2)
    sitting.go_live(speaker("cn"))
    assert floor_open(sitting) == {"chair", speaker("cn")}
    assert floor(sitting)[speaker("us")] is False


@pytest.mark.parametrize("end", ["yield", "chair_cut", "revoke", "auto_cut", "slot_end"])
def test_every_end_of_the_floor_closes_the_microphone(end: str) -> None:
    cons = Consultation(auto_cut=True, limits={"council_member": 60})
    cons.open_sitting(0, "14:50")
    cons.take_up("3")
    cons.hand(speaker("ch"))
    cons.grant("ch")
    assert speaker("ch") in floor_open(cons)
    if end == "revoke":
        cons.run(c.RevokeGrant(id=c.new_id()), "chair")
    else:
        cons.later(1)
        cons.go_live(speaker("ch"))
        assert speaker("ch") in floor_open(cons)
        if end == "yield":
            cons.yield_floor(speaker("ch"))
        elif end == "chair_cut":
            cons.run(c.EndSpeech(id=c.new_id()), "chair")
        elif end == "auto_cut":
            cons.later(61)
        else:
            cons.advance(cons.at("15:00"))
    assert cons.state.speech is None and cons.state.grant is None
    assert floor_open(cons) == {"chair"}


def test_the_grant_opens_nothing_while_the_interpretation_tail_holds(sitting: Consultation) -> None:
    sitting.booth_live("en")
    sitting.hand(speaker("cn"))
    ended = sitting.speak("ch", seconds=30)
    sitting.grant("cn")
    assert floor(sitting)[speaker("cn")] is False, "the next speaker would be heard over the end of the interpretation"
    sitting.tick(ended.tail_until)
    assert floor(sitting)[speaker("cn")] is True


def test_the_booth_finishing_ends_the_tail_and_opens_the_granted_speaker(sitting: Consultation) -> None:
    sitting.booth_live("en")
    sitting.hand(speaker("cn"))
    sitting.speak("ch", seconds=30)
    sitting.grant("cn")
    sitting.run(c.BoothFinished(id=c.new_id()), interpreter("en"))
    assert floor(sitting)[speaker("cn")] is True


# --- the booths -----------------------------------------------------------------------


def test_only_the_interpreter_on_duty_with_the_microphone_open_is_heard(sitting: Consultation) -> None:
    room = "booth-fr"
    sitting.run(c.TakeBoothDuty(id=c.new_id()), interpreter("fr", 1))
    assert media(sitting).rooms[room] == {interpreter("fr", 1): False, interpreter("fr", 2): False}
    sitting.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter("fr", 1))
    assert media(sitting).rooms[room] == {interpreter("fr", 1): True, interpreter("fr", 2): False}
    # The partner off duty cannot open the booth's microphone: a second voice cannot happen.
    assert sitting.reject(c.SetBoothMic(id=c.new_id(), live=True), interpreter("fr", 2)) == "not_on_duty"
    assert media(sitting).rooms[room] == {interpreter("fr", 1): True, interpreter("fr", 2): False}
    sitting.run(c.SetBoothMic(id=c.new_id(), live=False), interpreter("fr", 1))
    assert media(sitting).rooms[room] == {interpreter("fr", 1): False, interpreter("fr", 2): False}


def test_a_handover_closes_the_outgoing_microphone_and_the_incoming_interpreter_opens_theirs(sitting: Consultation) -> None:
    room = "booth-zh"
    sitting.booth_live("zh", 1)
    sitting.run(c.RequestHandover(id=c.new_id()), interpreter("zh", 2))
    assert media(sitting).rooms[room] == {interpreter("zh", 1): True, interpreter("zh", 2): False}
    sitting.run(c.AcceptHandover(id=c.new_id()), interpreter("zh", 1))
    assert media(sitting).rooms[room] == {interpreter("zh", 1): False, interpreter("zh", 2): False}
    sitting.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter("zh", 2))
    assert media(sitting).rooms[room] == {interpreter("zh", 1): False, interpreter("zh", 2): True}


def test_the_partners_off_duty_are_metered_measured_and_never_heard(sitting: Consultation) -> None:
    # Metered: in the mix at volume 0, so AudioBridge measures their talking (the both-live
    # alarm) while the mix carries none of their sound; the one on duty never is.
    booth = "booth-ru"
    first, partner = interpreter("ru", 1), interpreter("ru", 2)
    assert {(booth, first), (booth, partner)} <= media(sitting).metered, "nobody on duty: both measured"
    sitting.booth_live("ru", 1)
    assert (booth, first) not in media(sitting).metered and (booth, partner) in media(sitting).metered
    assert media(sitting).rooms[booth] == {first: True, partner: False}
    sitting.run(c.RequestHandover(id=c.new_id()), partner)
    sitting.run(c.AcceptHandover(id=c.new_id()), first)
    assert (booth, first) in media(sitting).metered and (booth, partner) not in media(sitting).metered
    assert all(room.startswith("booth-") for room, _ in media(sitting).metered), "nobody on the floor is metered"


# --- the channels ---------------------------------------------------------------------


@pytest.mark.parametrize("delegation, language", [(d[0], d[5]) for d in DELEGATIONS if d[2] == "council_member"])
def test_the_floor_language_channel_carries_the_floor(sitting: Consultation, delegation: str, language: str) -> None:
    sitting.hand(speaker(delegation))
    sitting.grant(delegation)
    assert media(sitting).feeds[language] == f"booth-{language}", "before the speech, every channel carries its booth"
    sitting.go_live(speaker(delegation))
    feeds = media(sitting).feeds
    assert feeds[language] == FLOOR and feeds[FLOOR] == FLOOR
    assert all(feeds[lang] == f"booth-{lang}" for lang in LANGUAGES if lang != language)
    sitting.yield_floor(speaker(delegation))
    assert media(sitting).feeds[language] == f"booth-{language}"


def test_a_change_of_floor_language_moves_one_feed(sitting: Consultation) -> None:
    sitting.hand(speaker("cn"))
    sitting.speak("ch", seconds=10)  # French
    sitting.grant("cn")
    before = media(sitting).feeds
    sitting.go_live(speaker("cn"))  # Chinese
    after = media(sitting).feeds
    assert {ch for ch in CHANNELS if before[ch] != after[ch]} == {"zh"}


# --- invariants over random sequences ---------------------------------------------------

DELEGATES = [p for d in DELEGATIONS for p in (speaker(d[0]), member(d[0]))]
ALL_INTERPRETERS = [p for pair in INTERPRETERS.values() for p in sorted(pair)]


def random_command(rng: random.Random, cons: Consultation) -> tuple[c.Command, str]:
    roll = rng.random()
    if roll < 0.3:
        return c.RequestFloor(id=c.new_id(), point_of_order=rng.random() < 0.1), rng.choice(DELEGATES)
    if roll < 0.45:
        return c.GrantFloor(id=c.new_id()), "chair"
    if roll < 0.6:
        granted = cons.state.grant.delegation if cons.state.grant is not None else rng.choice(DELEGATIONS)[0]
        return c.GoLive(id=c.new_id()), speaker(granted)
    if roll < 0.68:
        speech = cons.state.speech
        return c.YieldFloor(id=c.new_id()), speech.participant if speech is not None else rng.choice(DELEGATES)
    if roll < 0.72:
        return rng.choice([c.EndSpeech(id=c.new_id()), c.RevokeGrant(id=c.new_id()), c.OverrideTail(id=c.new_id())]), "chair"
    if roll < 0.75:
        return c.WithdrawFloorRequest(id=c.new_id()), rng.choice(DELEGATES)
    commands: list[c.Command] = [
        c.TakeBoothDuty(id=c.new_id()),
        c.RequestHandover(id=c.new_id()),
        c.AcceptHandover(id=c.new_id()),
        c.SetBoothMic(id=c.new_id(), live=True),
        c.SetBoothMic(id=c.new_id(), live=False),
        c.BoothFinished(id=c.new_id()),
        c.SetBoothSource(id=c.new_id(), source=rng.choice(["floor", *LANGUAGES])),
    ]
    return rng.choice(commands), rng.choice(ALL_INTERPRETERS)


def check_invariants(cons: Consultation, wanted: DesiredMedia) -> set[str]:
    """The rules the media must keep whatever the sequence; returns what was seen, to check the walk is not vacuous."""
    state = cons.state
    seen: set[str] = set()
    heard = {p for p, open_ in wanted.rooms[FLOOR].items() if open_ and p != "chair"}
    # At most one delegation is heard on the floor, and only the one holding it.
    delegations = {state.participants[p].delegation for p in heard}
    assert len(delegations) <= 1
    if state.speech is not None:
        assert heard == {state.speech.participant}
        seen.add("speech")
    elif state.grant is not None and state.tail is None:
        assert delegations <= {state.grant.delegation}
        seen.add("grant" if heard else "grant_nobody_designated")
    else:
        assert heard == set(), "nobody but the chair is heard without a grant or a speech, nor during the tail"
        if state.grant is not None:
            seen.add("grant_during_tail")
    # Everyone waiting in the queue is connected in advance, muted, unless the
    # delegation holds the floor meanwhile (on a point of order, its request keeps its place).
    holding = {state.speech.delegation} if state.speech is not None else set()
    if state.grant is not None and state.tail is None:
        holding.add(state.grant.delegation)
    for request in state.queues.get(state.current_item, []) if state.current_item is not None else []:
        if request.delegation in holding:
            continue
        assert wanted.rooms[FLOOR][request.participant] is False
        seen.add("queued")
    for lang in LANGUAGES:
        booth = state.booths[lang]
        room = wanted.rooms[f"booth-{lang}"]
        assert set(room) == INTERPRETERS[lang]
        opened = {p for p, open_ in room.items() if open_}
        assert opened <= {booth.on_duty}, "an off-duty interpreter is never heard"
        assert opened == ({booth.on_duty} if booth.mic_open else set())
        if opened:
            seen.add("booth_heard")
        expected = FLOOR if lang == state.floor_language else f"booth-{lang}"
        assert wanted.feeds[lang] == expected, "the floor language's channel carries the floor; the others their booth"
    assert wanted.feeds[FLOOR] == FLOOR
    return seen


@pytest.mark.parametrize("seed", range(8))
def test_invariants_over_random_sequences(seed: int) -> None:
    rng = random.Random(seed)
    cons = Consultation(strict=False, tail_ms=rng.choice([0, 4_000]))
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    seen: set[str] = set()
    for _ in range(400):
        command, actor = random_command(rng, cons)
        try:
            cons.run(command, actor)
        except Rejected:
            pass
        cons.later(rng.choice([0, 0.5, 2, 5]))
        if cons.state.sitting is None or cons.state.sitting.closed_at is not None:
            break
        seen |= check_invariants(cons, desired_media(cons.state))
    assert {"speech", "grant", "queued", "booth_heard"} <= seen, f"the walk did not reach the floor and the booths: {seen}"


def test_the_random_walk_reaches_the_tail_and_an_open_booth() -> None:
    seen: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        cons = Consultation(strict=False)
        cons.open_sitting(0, "12:00")
        cons.take_up("3")
        for _ in range(400):
            command, actor = random_command(rng, cons)
            try:
                cons.run(command, actor)
            except Rejected:
                pass
            cons.later(rng.choice([0, 0.5, 2, 5]))
            seen |= check_invariants(cons, desired_media(cons.state))
    assert {"grant_during_tail", "booth_heard"} <= seen, seen


def test_a_tick_from_the_system_changes_no_media_by_itself(sitting: Consultation) -> None:
    before = media(sitting)
    sitting.run(c.Tick(id=c.new_id()), SYSTEM_ACTOR)
    sitting.later(MINUTE / 1000)
    assert media(sitting) == before
