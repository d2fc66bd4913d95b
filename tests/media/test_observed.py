"""What the media heard -> commands for the procedure (``vcc.media.observed``), pure:
each observation appears only when the state can use it, and the core accepts it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from vcc.core import decide
from vcc.core.views import views
from vcc.media.observed import observations
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import MEDIA_ACTOR

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from corekit import Consultation, interpreter, member, speaker


@pytest.fixture
def sitting() -> Consultation:
    cons = Consultation()
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    return cons


def observed(cons: Consultation, talking: dict[tuple[str, str], bool]) -> list[c.Command]:
    commands = list(observations(cons.state, talking).values())
    for command in commands:  # each one is a command the core accepts now
        assert decide(cons.state, command, MEDIA_ACTOR, cons.now)
    return commands


def test_a_booth_heard_to_stop_during_the_tail_ends_its_part(sitting: Consultation) -> None:
    sitting.booth_live("en")
    sitting.booth_live("ar")
    on_duty = {lang: interpreter(lang) for lang in ("en", "ar")}
    # Before any speech there is no tail: silence means nothing to the procedure.
    assert observed(sitting, {("booth-en", on_duty["en"]): False}) == []
    sitting.speak("ch", seconds=30)
    assert sitting.state.tail is not None and sitting.state.tail.booths == ["ar", "en"]
    # Still talking, or never heard at all (no microphone connected): the bounded tail decides.
    assert observed(sitting, {("booth-en", on_duty["en"]): True}) == []
    assert observed(sitting, {}) == []
    # The partner off duty is not the booth's voice; another booth's silence is not this one's.
    assert observed(sitting, {("booth-en", interpreter("en", 2)): False, ("booth-fr", interpreter("fr")): False}) == []
    (silent,) = observed(sitting, {("booth-en", on_duty["en"]): False, ("booth-ar", on_duty["ar"]): True})
    assert silent == c.ObserveBoothSilent(id=silent.id, booth="en")
    both = observed(sitting, {("booth-en", on_duty["en"]): False, ("booth-ar", on_duty["ar"]): False})
    assert sorted(cmd.booth for cmd in both) == ["ar", "en"]  # type: ignore[attr-defined]


def test_the_granted_speaker_heard_ends_time_to_floor_once(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.hand(speaker("cn"))
    heard = {("floor", speaker("ch")): True}
    assert observed(sitting, heard) == []  # nobody granted yet
    sitting.grant("ch")
    # The chair talking, a member who is not a designated speaker, someone else's speaker, or silence: nothing.
    assert (
        observed(
            sitting,
            {("floor", "chair"): True, ("floor", member("ch")): True, ("floor", speaker("cn")): True, ("floor", speaker("ch")): False},
        )
        == []
    )
    (first,) = observed(sitting, heard)
    assert first == c.ObserveSpeakerHeard(id=first.id, participant=speaker("ch"))
    sitting.run(first, MEDIA_ACTOR)
    assert observed(sitting, heard) == []  # heard already: time to floor is set
    sitting.go_live(speaker("ch"))
    assert observed(sitting, heard) == []  # the speech inherits it


def test_a_live_speaker_not_yet_heard_is_observed_under_the_speechs_key(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.grant("ch")
    granted = observations(sitting.state, {("floor", speaker("ch")): True})
    sitting.later(2)
    sitting.go_live(speaker("ch"))
    live = observations(sitting.state, {("floor", speaker("ch")): True})
    # A new key: the observation made for the grant is not taken for the speech's.
    assert set(granted).isdisjoint(live)
    (command,) = observed(sitting, {("floor", speaker("ch")): True})
    sitting.run(command, MEDIA_ACTOR)
    assert sitting.state.speech is not None and sitting.state.speech.heard
    assert observed(sitting, {("floor", speaker("ch")): True}) == []


@pytest.mark.rule("interpretation.observe_both_talking")
def test_both_partners_talking_while_one_is_live_raises_the_alarm_and_its_end_clears_it(sitting: Consultation) -> None:
    on_duty, partner = interpreter("es", 1), interpreter("es", 2)
    live, off = ("booth-es", on_duty), ("booth-es", partner)
    # The partner alone, or both talking while the microphone is closed: nobody is on the air.
    assert observed(sitting, {off: True}) == []
    sitting.run(c.TakeBoothDuty(id=c.new_id()), on_duty)
    assert observed(sitting, {live: True, off: True}) == []
    sitting.run(c.SetBoothMic(id=c.new_id(), live=True), on_duty)
    assert observed(sitting, {live: True, off: False}) == [] and observed(sitting, {live: False, off: True}) == []
    (alarm,) = observed(sitting, {live: True, off: True})
    assert alarm == c.ObserveBothTalking(id=alarm.id, booth="es", talking=True)
    sitting.run(alarm, MEDIA_ACTOR)
    assert sitting.state.booths["es"].both_talking
    assert observed(sitting, {live: True, off: True}) == [], "raised once"
    row = next(row for row in views(sitting.state, sitting.now).booths if row.language == "es")
    assert "both_live" in row.alarms
    (clear,) = observed(sitting, {live: True, off: False})
    assert clear == c.ObserveBothTalking(id=clear.id, booth="es", talking=False)
    sitting.run(clear, MEDIA_ACTOR)
    assert not sitting.state.booths["es"].both_talking
    # Nobody may raise it for a booth with nobody live; no browser may send it at all.
    sitting.run(c.SetBoothMic(id=c.new_id(), live=False), on_duty)
    assert sitting.reject(c.ObserveBothTalking(id=c.new_id(), booth="es", talking=True), MEDIA_ACTOR) == "not_on_duty"
    assert sitting.reject(c.ObserveBothTalking(id=c.new_id(), booth="es", talking=True), partner) == "not_allowed"
