"""Interpretation: booths, duty and handover, the microphone that is the duty's, sources and
relay, the listener routing, the interpretation tail, the speak-slowly signal."""

import pytest
from corekit import MINUTE, SECOND, Consultation, interpreter, speaker
from vcc.core import next_deadline
from vcc.core.interpretation import relay_chain, route
from vcc.core.views import views
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.views import RouteWarning
from vcc_protocol.vocabulary import LANGUAGES, MEDIA_ACTOR


def live_speech(cons: Consultation, delegation: str = "ch") -> None:
    cons.hand(speaker(delegation))
    cons.grant()
    cons.go_live(speaker(delegation))


# --- booths and duty ------------------------------------------------------------------


def test_six_booths(cons: Consultation) -> None:
    assert list(cons.state.booths) == list(LANGUAGES) == ["ar", "zh", "en", "fr", "ru", "es"]
    assert all(b.source == "floor" and b.on_duty is None and not b.mic_open for b in cons.state.booths.values())


def test_take_duty_in_own_booth(cons: Consultation) -> None:
    (event,) = cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("en"))
    assert isinstance(event, e.BoothDutyTaken) and (event.booth, event.participant) == ("en", "i-en-1")
    assert cons.state.booths["en"].on_duty == "i-en-1" and cons.state.booths["en"].duty_since == cons.now
    assert cons.reject(c.TakeBoothDuty(id=c.new_id()), interpreter("en")) == "invalid_value"
    # The partner asks for a handover instead of taking the duty.
    assert cons.reject(c.TakeBoothDuty(id=c.new_id()), interpreter("en", 2)) == "not_allowed"
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("fr", 2))
    # Wrong role.
    assert cons.reject(c.TakeBoothDuty(id=c.new_id()), speaker("ch")) == "not_allowed"
    assert cons.reject(c.TakeBoothDuty(id=c.new_id()), "chair") == "not_allowed"


def test_handover_request_and_accept(cons: Consultation) -> None:
    assert cons.reject(c.RequestHandover(id=c.new_id()), interpreter("en", 2)) == "not_on_duty"
    assert cons.reject(c.AcceptHandover(id=c.new_id()), interpreter("en", 1)) == "no_handover"
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("en", 1))
    cons.later(25 * 60)
    (requested,) = cons.run(c.RequestHandover(id=c.new_id()), interpreter("en", 2))
    assert isinstance(requested, e.HandoverRequested) and cons.state.booths["en"].handover_requested_by == "i-en-2"
    assert cons.reject(c.RequestHandover(id=c.new_id()), interpreter("en", 1)) == "invalid_value"
    # The one who asked cannot accept their own request.
    assert cons.reject(c.AcceptHandover(id=c.new_id()), interpreter("en", 2)) == "not_allowed"
    (done,) = cons.run(c.AcceptHandover(id=c.new_id()), interpreter("en", 1))
    assert isinstance(done, e.HandoverCompleted) and (done.from_participant, done.to_participant) == ("i-en-1", "i-en-2")
    booth = cons.state.booths["en"]
    assert (booth.on_duty, booth.duty_since, booth.handover_requested_by) == ("i-en-2", cons.now, None)


def test_handover_asked_by_the_interpreter_on_duty(cons: Consultation) -> None:
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("zh", 1))
    cons.run(c.RequestHandover(id=c.new_id()), interpreter("zh", 1))
    (done,) = cons.run(c.AcceptHandover(id=c.new_id()), interpreter("zh", 2))
    assert isinstance(done, e.HandoverCompleted) and (done.from_participant, done.to_participant) == ("i-zh-1", "i-zh-2")


def test_handover_alert_after_the_turn_default_30_minutes(sitting: Consultation) -> None:
    cons = sitting
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("ru"))
    since = cons.now
    assert next_deadline(cons.state) == since + 30 * MINUTE
    assert cons.tick(since + 30 * MINUTE - 1) == []
    (alert,) = cons.tick(since + 30 * MINUTE)
    assert isinstance(alert, e.HandoverDue) and (alert.booth, alert.participant, alert.on_duty_since) == ("ru", "i-ru-1", since)
    assert cons.state.booths["ru"].handover_alerted
    assert cons.tick() == [] and next_deadline(cons.state) == cons.state.sitting.ends_at
    # After the handover the partner's turn starts: a new alert 30 minutes later.
    cons.run(c.RequestHandover(id=c.new_id()), interpreter("ru", 2))
    cons.run(c.AcceptHandover(id=c.new_id()), interpreter("ru", 1))
    assert next_deadline(cons.state) == cons.now + 30 * MINUTE


def test_turn_length_is_a_setting() -> None:
    cons = Consultation(turn_minutes=20)
    cons.open_sitting()
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("ar"))
    assert next_deadline(cons.state) == cons.now + 20 * MINUTE


def test_the_turn_counts_only_during_a_sitting_no_alarm_overnight(cons: Consultation) -> None:
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("ar"))
    assert next_deadline(cons.state) is None
    assert cons.tick(cons.now + 45 * MINUTE) == []


@pytest.mark.rule("interpretation.set_booth_mic")
def test_only_the_interpreter_on_duty_opens_the_booth_microphone(cons: Consultation) -> None:
    # Nobody on duty: nobody opens the microphone.
    assert cons.reject(c.SetBoothMic(id=c.new_id(), live=True), interpreter("es", 1)) == "not_on_duty"
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("es"))
    # The partner off duty cannot open it, nor close it.
    assert cons.reject(c.SetBoothMic(id=c.new_id(), live=True), interpreter("es", 2)) == "not_on_duty"
    (mic,) = cons.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter("es", 1))
    assert isinstance(mic, e.BoothMicSet) and cons.state.booths["es"].mic_open
    assert cons.reject(c.SetBoothMic(id=c.new_id(), live=False), interpreter("es", 2)) == "not_on_duty"
    assert cons.reject(c.SetBoothMic(id=c.new_id(), live=True), interpreter("es", 1)) == "invalid_value"
    cons.run(c.SetBoothMic(id=c.new_id(), live=False), interpreter("es", 1))
    assert not cons.state.booths["es"].mic_open
    assert cons.reject(c.SetBoothMic(id=c.new_id(), live=False), interpreter("es", 1)) == "invalid_value"
    # Another booth's interpreter has no say over this one's microphone: each opens their own booth's.
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("en", 2))
    cons.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter("en", 2))
    assert cons.state.booths["en"].mic_open and not cons.state.booths["es"].mic_open


@pytest.mark.rule("interpretation._handover_completed")
@pytest.mark.parametrize("asked_by", ["outgoing", "incoming"])
def test_a_handover_closes_the_outgoing_microphone_and_the_incoming_opens_it(cons: Consultation, asked_by: str) -> None:
    outgoing, incoming = interpreter("fr", 1), interpreter("fr", 2)
    cons.run(c.TakeBoothDuty(id=c.new_id()), outgoing)
    cons.run(c.SetBoothMic(id=c.new_id(), live=True), outgoing)
    asker, accepter = (outgoing, incoming) if asked_by == "outgoing" else (incoming, outgoing)
    cons.run(c.RequestHandover(id=c.new_id()), asker)
    (done,) = cons.run(c.AcceptHandover(id=c.new_id()), accepter)
    assert isinstance(done, e.HandoverCompleted) and (done.from_participant, done.to_participant) == (outgoing, incoming)
    booth = cons.state.booths["fr"]
    assert booth.on_duty == incoming and not booth.mic_open
    # The outgoing interpreter can no longer open it; the incoming one does.
    assert cons.reject(c.SetBoothMic(id=c.new_id(), live=True), outgoing) == "not_on_duty"
    cons.run(c.SetBoothMic(id=c.new_id(), live=True), incoming)
    assert booth.mic_open
    refolded = cons.refolded()["booths"]["fr"]
    assert (refolded["on_duty"], refolded["mic_open"]) == (incoming, True)


def test_a_handover_during_a_speech_leaves_the_booth_muted_until_the_incoming_opens(sitting: Consultation) -> None:
    sitting.booth_live("en")
    live_speech(sitting)
    sitting.run(c.RequestHandover(id=c.new_id()), interpreter("en", 2))
    sitting.run(c.AcceptHandover(id=c.new_id()), interpreter("en", 1))
    assert route(sitting.state, "en").warning == RouteWarning(booth="en", own=True, kind="muted")
    sitting.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter("en", 2))
    assert route(sitting.state, "en").warning is None


def test_older_logs_fold_into_one_microphone_per_booth() -> None:
    """Logs from before the rule: a partner off duty opened a second microphone (with the
    alarm), and a handover left the outgoing one open. Folded now, the booth's microphone
    is the duty's: a handover closes it, a partner's microphone never was the booth's."""
    from vcc.core import fold

    cons = Consultation()
    at, a, b = cons.now, interpreter("es", 1), interpreter("es", 2)
    old = [
        e.BoothDutyTaken(at=at, actor=a, booth="es", participant=a),
        e.BoothMicSet(at=at, actor=a, booth="es", participant=a, live=True),
        e.BoothMicSet(at=at, actor=b, booth="es", participant=b, live=True),
        e.BothPartnersLive(at=at, actor=b, booth="es"),
        e.BoothMicSet(at=at, actor=a, booth="es", participant=a, live=False),
    ]
    state = fold(old, cons.state)
    assert state.booths["es"].on_duty == a and not state.booths["es"].mic_open
    state = fold(
        [
            e.BoothMicSet(at=at, actor=a, booth="es", participant=a, live=True),
            e.HandoverCompleted(at=at, actor=b, booth="es", from_participant=a, to_participant=b),
        ],
        state,
    )
    assert state.booths["es"].on_duty == b and not state.booths["es"].mic_open
    state = fold([e.BoothMicSet(at=at, actor=a, booth="es", participant=a, live=False)], state)
    assert not state.booths["es"].mic_open


# --- sources and relay ----------------------------------------------------------------


def test_booth_source_floor_or_relay_with_depth(cons: Consultation) -> None:
    (event,) = cons.run(c.SetBoothSource(id=c.new_id(), source="fr"), interpreter("ar"))
    assert isinstance(event, e.BoothSourceSet) and cons.state.booths["ar"].source == "fr"
    cons.run(c.SetBoothSource(id=c.new_id(), source="ar"), interpreter("zh"))
    assert relay_chain(cons.state, "zh") == ["ar", "fr"]
    assert relay_chain(cons.state, "fr") == []
    assert cons.reject(c.SetBoothSource(id=c.new_id(), source="ar"), interpreter("zh", 2)) == "invalid_value"
    cons.run(c.SetBoothSource(id=c.new_id(), source="floor"), interpreter("ar", 2))
    assert relay_chain(cons.state, "zh") == ["ar"]


@pytest.mark.parametrize(
    ("setup", "booth", "source"),
    [
        ([], "en", "en"),
        ([("fr", "en")], "en", "fr"),
        ([("fr", "en"), ("ru", "fr")], "en", "ru"),
    ],
    ids=["itself", "two-booth-cycle", "three-booth-cycle"],
)
def test_no_relay_cycles(cons: Consultation, setup: list, booth: str, source: str) -> None:
    for b, s in setup:
        cons.run(c.SetBoothSource(id=c.new_id(), source=s), interpreter(b))
    assert cons.reject(c.SetBoothSource(id=c.new_id(), source=source), interpreter(booth)) == "relay_cycle"
    assert cons.state.booths[booth].source == "floor"


# --- the floor language and the listener routing --------------------------------------


def test_floor_language_set_when_the_speaker_goes_live(sitting: Consultation) -> None:
    assert sitting.state.floor_language is None
    live_speech(sitting, "cn")
    assert sitting.state.floor_language == "zh"


@pytest.mark.rule("interpretation.route")
def test_route_same_language_plays_the_floor_no_echo(sitting: Consultation) -> None:
    for lang in LANGUAGES:
        sitting.booth_live(lang)
    live_speech(sitting, "ch")  # French on the floor
    fr = route(sitting.state, "fr")
    assert (fr.play, fr.kind, fr.relay, fr.warning) == ("floor", "own_language", [], None)
    en = route(sitting.state, "en")
    assert (en.play, en.kind, en.relay, en.warning) == ("en", "interpreted", [], None)
    floor = route(sitting.state, "floor")
    assert (floor.play, floor.kind) == ("floor", "floor")


def test_route_relay_with_provenance(sitting: Consultation) -> None:
    for lang in LANGUAGES:
        sitting.booth_live(lang)
    # Chinese on the floor; the English booth interprets it, French and Arabic relay English.
    sitting.run(c.SetBoothSource(id=c.new_id(), source="en"), interpreter("fr"))
    sitting.run(c.SetBoothSource(id=c.new_id(), source="fr"), interpreter("ar"))
    live_speech(sitting, "cn")
    fr = route(sitting.state, "fr")
    assert (fr.play, fr.kind, fr.relay, fr.warning) == ("fr", "relay", ["en"], None)
    ar = route(sitting.state, "ar")
    assert (ar.kind, ar.relay) == ("relay", ["fr", "en"])


@pytest.mark.rule("interpretation.route")
def test_route_relay_of_the_floor_language_booth_is_from_the_floor(sitting: Consultation) -> None:
    for lang in LANGUAGES:
        sitting.booth_live(lang)
    sitting.run(c.SetBoothSource(id=c.new_id(), source="en"), interpreter("ru"))
    live_speech(sitting, "us")  # English on the floor: the English booth is silent
    ru = route(sitting.state, "ru")
    assert (ru.play, ru.kind, ru.relay) == ("ru", "interpreted", [])


def test_route_warns_when_the_relay_source_is_muted_or_in_handover(sitting: Consultation) -> None:
    for lang in LANGUAGES:
        sitting.booth_live(lang)
    sitting.run(c.SetBoothSource(id=c.new_id(), source="en"), interpreter("fr"))
    live_speech(sitting, "cn")
    sitting.run(c.SetBoothMic(id=c.new_id(), live=False), interpreter("en"))
    fr = route(sitting.state, "fr")
    assert fr.play == "fr" and fr.warning == RouteWarning(booth="en", own=False, kind="muted")
    sitting.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter("en"))
    assert route(sitting.state, "fr").warning is None
    sitting.run(c.RequestHandover(id=c.new_id()), interpreter("en", 2))
    fr = route(sitting.state, "fr")
    assert fr.warning == RouteWarning(booth="en", own=False, kind="handover")
    # The listener's own booth muted is a warning too.
    sitting.run(c.SetBoothMic(id=c.new_id(), live=False), interpreter("ru"))
    assert route(sitting.state, "ru").warning == RouteWarning(booth="ru", own=True, kind="muted")


def test_no_warning_when_nobody_speaks(cons: Consultation) -> None:
    assert route(cons.state, "en").warning is None
    assert route(cons.state, "floor").kind == "floor"


# --- the interpretation tail ----------------------------------------------------------


def test_next_speaker_waits_for_the_live_booths(sitting: Consultation) -> None:
    sitting.booth_live("en")
    sitting.booth_live("ar")
    sitting.hand(speaker("cn"))
    ended = sitting.speak("ch", seconds=60)
    assert ended.tail_booths == ["ar", "en"] and ended.tail_until == ended.at + 4 * SECOND
    sitting.grant()
    # Going live during the interpretation tail.
    sitting.later(1)
    assert sitting.reject(c.GoLive(id=c.new_id()), speaker("cn")) == "interpretation_tail"
    (finished,) = sitting.run(c.BoothFinished(id=c.new_id()), interpreter("en"))
    assert isinstance(finished, e.BoothSignalledFinished) and sitting.state.tail is not None
    assert sitting.reject(c.BoothFinished(id=c.new_id()), interpreter("en", 2)) == "no_tail"
    assert sitting.reject(c.GoLive(id=c.new_id()), speaker("cn")) == "interpretation_tail"
    events = sitting.run(c.BoothFinished(id=c.new_id()), interpreter("ar", 2))
    assert sitting.kinds(events) == ["BoothSignalledFinished", "InterpretationTailEnded"]
    assert events[1].reason == "finished" and sitting.state.tail is None  # type: ignore[attr-defined]
    sitting.go_live(speaker("cn"))


@pytest.mark.rule("interpretation.booth_done")
def test_the_booths_silence_heard_by_the_media_ends_the_tail_early(sitting: Consultation) -> None:
    sitting.booth_live("en")
    sitting.booth_live("ar")
    sitting.hand(speaker("cn"))
    sitting.speak("ch", seconds=60)
    sitting.grant()
    sitting.later(1)
    (silent,) = sitting.run(c.ObserveBoothSilent(id=c.new_id(), booth="en"), MEDIA_ACTOR)
    assert isinstance(silent, e.BoothSignalledFinished) and (silent.booth, silent.actor) == ("en", MEDIA_ACTOR)
    assert sitting.reject(c.ObserveBoothSilent(id=c.new_id(), booth="en"), MEDIA_ACTOR) == "no_tail"
    assert sitting.reject(c.ObserveBoothSilent(id=c.new_id(), booth="fr"), MEDIA_ACTOR) == "no_tail"  # not live when the speech ended
    assert sitting.reject(c.GoLive(id=c.new_id()), speaker("cn")) == "interpretation_tail"
    # An interpreter cannot pass for the media (their own word is booth_finished).
    assert sitting.reject(c.ObserveBoothSilent(id=c.new_id(), booth="ar"), interpreter("ar")) == "not_allowed"
    events = sitting.run(c.ObserveBoothSilent(id=c.new_id(), booth="ar"), MEDIA_ACTOR)
    assert sitting.kinds(events) == ["BoothSignalledFinished", "InterpretationTailEnded"]
    assert events[1].reason == "silence" and sitting.state.tail is None  # type: ignore[attr-defined]
    sitting.go_live(speaker("cn"))


def test_both_partners_talking_raises_the_both_live_alarm_until_the_media_hears_it_stop(sitting: Consultation) -> None:
    def both(booth: str, talking: bool) -> c.ObserveBothTalking:
        return c.ObserveBothTalking(id=c.new_id(), booth=booth, talking=talking)

    assert sitting.reject(both("en", True), MEDIA_ACTOR) == "not_on_duty"  # nobody is live: no alarm to raise
    sitting.booth_live("en")
    # Only the media observes: an interpreter cannot raise or clear it.
    assert sitting.reject(both("en", True), interpreter("en", 2)) == "not_allowed"
    (raised,) = sitting.run(both("en", True), MEDIA_ACTOR)
    assert isinstance(raised, e.BothPartnersTalking) and raised.talking and sitting.state.booths["en"].both_talking
    assert "both_live" in next(row.alarms for row in views(sitting.state, sitting.now).booths if row.language == "en")
    assert sitting.reject(both("en", True), MEDIA_ACTOR) == "invalid_value"  # already raised
    sitting.run(c.SetBoothMic(id=c.new_id(), live=False), interpreter("en"))
    # The microphone closing does not clear it: what the media hears does.
    assert sitting.state.booths["en"].both_talking
    (cleared,) = sitting.run(both("en", False), MEDIA_ACTOR)
    assert not cleared.talking and not sitting.state.booths["en"].both_talking  # type: ignore[attr-defined]
    assert "both_live" not in next(row.alarms for row in views(sitting.state, sitting.now).booths if row.language == "en")
    assert sitting.reject(both("en", False), MEDIA_ACTOR) == "invalid_value"  # already clear


def test_bounded_tail_default_4_seconds(sitting: Consultation) -> None:
    sitting.booth_live("ru")
    sitting.hand(speaker("cn"))
    ended = sitting.speak("ch", seconds=30)
    sitting.grant()
    assert next_deadline(sitting.state) == ended.at + 4 * SECOND
    assert sitting.reject(c.GoLive(id=c.new_id()), speaker("cn"), at=ended.at + 3_999) == "interpretation_tail"
    # Once the tail has passed the speaker goes live, even before the shell's tick.
    sitting.now = ended.at + 4 * SECOND
    assert sitting.state.tail is not None
    live = sitting.go_live(speaker("cn"))
    assert live.at == ended.tail_until and sitting.state.tail is None


def test_tail_elapses_on_the_tick(sitting: Consultation) -> None:
    sitting.booth_live("ru")
    ended = sitting.speak("ch", seconds=30)
    (event,) = sitting.tick(ended.tail_until)
    assert isinstance(event, e.InterpretationTailEnded) and event.reason == "elapsed"
    assert sitting.tick() == []


def test_chair_overrides_the_tail_and_it_is_recorded(sitting: Consultation) -> None:
    sitting.booth_live("es")
    sitting.hand(speaker("cn"))
    sitting.speak("ch", seconds=30)
    sitting.grant()
    assert sitting.reject(c.OverrideTail(id=c.new_id()), speaker("cn")) == "not_allowed"
    assert sitting.reject(c.OverrideTail(id=c.new_id()), interpreter("es")) == "not_allowed"
    (event,) = sitting.run(c.OverrideTail(id=c.new_id()), "chair")
    assert isinstance(event, e.InterpretationTailEnded) and (event.reason, event.actor) == ("override", "chair")
    sitting.go_live(speaker("cn"))
    assert sitting.reject(c.OverrideTail(id=c.new_id()), "chair") == "no_tail"


def test_no_tail_when_no_booth_is_live(sitting: Consultation) -> None:
    sitting.run(c.TakeBoothDuty(id=c.new_id()), interpreter("en"))  # on duty, microphone closed
    ended = sitting.speak("ch", seconds=30)
    assert ended.tail_booths == [] and sitting.state.tail is None
    assert sitting.reject(c.BoothFinished(id=c.new_id()), interpreter("en")) == "no_tail"


def test_tail_configurable() -> None:
    cons = Consultation(tail_ms=10_000)
    cons.open_sitting()
    cons.take_up("3")
    cons.booth_live("en")
    ended = cons.speak("ch", seconds=30)
    assert ended.tail_until == ended.at + 10 * SECOND


def test_zero_tail_holds_nobody() -> None:
    cons = Consultation(tail_ms=0)
    cons.open_sitting()
    cons.take_up("3")
    cons.booth_live("en")
    cons.hand(speaker("cn"))
    cons.speak("ch", seconds=30)
    assert cons.state.tail is None and cons.tick() == []
    cons.grant()
    cons.go_live(speaker("cn"))


# --- speak slowly ---------------------------------------------------------------------


def test_speak_slowly_signal(sitting: Consultation) -> None:
    assert sitting.reject(c.SignalSpeakSlowly(id=c.new_id()), interpreter("ar")) == "no_speech"
    live_speech(sitting, "us")
    assert sitting.reject(c.SignalSpeakSlowly(id=c.new_id()), speaker("cn")) == "not_allowed"
    (event,) = sitting.run(c.SignalSpeakSlowly(id=c.new_id()), interpreter("ar"))
    assert isinstance(event, e.SpeakSlowlySignalled) and (event.booth, event.participant) == ("ar", "us-1")
    slow = sitting.state.speak_slowly
    assert slow is not None and (slow.booth, slow.participant) == ("ar", "us-1")
    sitting.yield_floor(speaker("us"))
    assert sitting.state.speak_slowly is None
