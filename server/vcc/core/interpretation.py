"""Interpretation: six booths, duty and handover, microphones, sources and
relay, the listener routing every client follows, and the interpretation tail.

Rules here: the routing (a listener whose channel is the floor language hears
the floor: no same-language echo); no relay cycles; the booth's microphone is
the interpreter on duty's (nobody else opens it, and a handover closes it);
the tail that holds the next speaker until the booths have finished the
previous speech (or the bounded tail has passed): a booth finishes when its
interpreter says so or when the media hears it fall silent; the both-live
alarm, raised and cleared by what the media hears.
"""

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import Booth, ConsultationState, SpeakSlowly
from vcc_protocol.views import ChannelRoute, RouteWarning
from vcc_protocol.vocabulary import Language

from .actors import Actor
from .rejections import Rejected

LANGUAGE_NAMES = {"ar": "Arabic", "zh": "Chinese", "en": "English", "fr": "French", "ru": "Russian", "es": "Spanish"}


def own_booth(state: ConsultationState, actor: Actor) -> Booth:
    participant = actor.participant
    if participant is None or participant.booth is None:
        raise Rejected("not_allowed", "Only an interpreter of a booth may do this.")
    return state.booths[participant.booth]


def take_booth_duty(state: ConsultationState, cmd: c.TakeBoothDuty, actor: Actor, now: int) -> list[e.Event]:
    booth = own_booth(state, actor)
    if booth.on_duty == actor.id:
        raise Rejected("invalid_value", "You are already on duty.")
    if booth.on_duty is not None:
        raise Rejected(
            "not_allowed",
            f"{state.participants[booth.on_duty].name} is on duty in the {LANGUAGE_NAMES[booth.language]} booth; request a handover.",
        )
    return [e.BoothDutyTaken(at=now, actor=actor.id, booth=booth.language, participant=actor.id)]


def request_handover(state: ConsultationState, cmd: c.RequestHandover, actor: Actor, now: int) -> list[e.Event]:
    booth = own_booth(state, actor)
    if booth.on_duty is None:
        raise Rejected("not_on_duty", "Nobody is on duty in this booth; take duty instead.")
    if booth.handover_requested_by is not None:
        raise Rejected(
            "invalid_value", f"{state.participants[booth.handover_requested_by].name} has already asked for a handover; accept it or wait."
        )
    return [e.HandoverRequested(at=now, actor=actor.id, booth=booth.language, participant=actor.id)]


def accept_handover(state: ConsultationState, cmd: c.AcceptHandover, actor: Actor, now: int) -> list[e.Event]:
    booth = own_booth(state, actor)
    requester = booth.handover_requested_by
    if requester is None or booth.on_duty is None:
        raise Rejected("no_handover", "Your partner has not asked for a handover.")
    if requester == actor.id:
        raise Rejected("not_allowed", "Your partner must accept the handover you asked for.")
    incoming = requester if requester != booth.on_duty else actor.id
    return [e.HandoverCompleted(at=now, actor=actor.id, booth=booth.language, from_participant=booth.on_duty, to_participant=incoming)]


def set_booth_mic(state: ConsultationState, cmd: c.SetBoothMic, actor: Actor, now: int) -> list[e.Event]:
    """Rule: only the interpreter on duty opens or closes the booth's microphone."""
    booth = own_booth(state, actor)
    name = LANGUAGE_NAMES[booth.language]
    if booth.on_duty is None:
        raise Rejected("not_on_duty", f"Nobody is on duty in the {name} booth; take duty first, then open the microphone.")
    if booth.on_duty != actor.id:
        raise Rejected(
            "not_on_duty",
            f"{state.participants[booth.on_duty].name} is on duty in the {name} booth and holds its microphone; ask for a handover to take over.",
        )
    if booth.mic_open == cmd.live:
        raise Rejected("invalid_value", f"Your microphone is already {'live' if cmd.live else 'muted'}.")
    return [e.BoothMicSet(at=now, actor=actor.id, booth=booth.language, participant=actor.id, live=cmd.live)]


def relay_chain(state: ConsultationState, language: str) -> list[str]:
    """The booths a booth's output comes through, nearest first: [] when it works from the floor."""
    chain: list[str] = []
    source = state.booths[language].source
    while source != "floor" and source not in chain and source != language:
        chain.append(source)
        source = state.booths[source].source
    return chain


def set_booth_source(state: ConsultationState, cmd: c.SetBoothSource, actor: Actor, now: int) -> list[e.Event]:
    booth = own_booth(state, actor)
    if cmd.source == booth.language:
        raise Rejected("relay_cycle", "A booth cannot relay itself; choose the floor or another booth.")
    if cmd.source != "floor" and booth.language in [cmd.source, *relay_chain(state, cmd.source)]:
        raise Rejected(
            "relay_cycle",
            f"The {LANGUAGE_NAMES[cmd.source]} booth relays the {LANGUAGE_NAMES[booth.language]} booth already; one of them must take the floor.",
        )
    if cmd.source == booth.source:
        raise Rejected("invalid_value", "The booth already works from this source.")
    return [e.BoothSourceSet(at=now, actor=actor.id, booth=booth.language, source=cmd.source)]


def booth_done(state: ConsultationState, language: Language, actor: Actor, now: int, reason: str) -> list[e.Event]:
    """Rule: a booth that has finished the previous speech leaves the tail; the last one ends it."""
    tail = state.tail
    if tail is None or language not in tail.booths:
        raise Rejected("no_tail", f"The {LANGUAGE_NAMES[language]} booth is not finishing a previous speech.")
    events: list[e.Event] = [e.BoothSignalledFinished(at=now, actor=actor.id, booth=language)]
    if tail.booths == [language]:
        events.append(e.InterpretationTailEnded(at=now, actor=actor.id, reason=reason))
    return events


def booth_finished(state: ConsultationState, cmd: c.BoothFinished, actor: Actor, now: int) -> list[e.Event]:
    return booth_done(state, own_booth(state, actor).language, actor, now, "finished")


def observe_booth_silent(state: ConsultationState, cmd: c.ObserveBoothSilent, actor: Actor, now: int) -> list[e.Event]:
    """The booth's silence after the speech ends its part of the tail early; the bounded tail stays the backstop."""
    return booth_done(state, cmd.booth, actor, now, "silence")


def observe_both_talking(state: ConsultationState, cmd: c.ObserveBothTalking, actor: Actor, now: int) -> list[e.Event]:
    """Rule: the both-live alarm stands while the media hears the partner off duty talking
    while the interpreter on duty is live. The partner's microphone is measured, never heard:
    the alarm tells the booth that the one who thinks they are on the air is not."""
    booth = state.booths[cmd.booth]
    if booth.both_talking == cmd.talking:
        raise Rejected("invalid_value", f"The {LANGUAGE_NAMES[cmd.booth]} booth's alarm is already {'raised' if cmd.talking else 'clear'}.")
    if cmd.talking and not (booth.on_duty is not None and booth.mic_open):
        raise Rejected("not_on_duty", f"Nobody is live in the {LANGUAGE_NAMES[cmd.booth]} booth.")
    return [e.BothPartnersTalking(at=now, actor=actor.id, booth=cmd.booth, talking=cmd.talking)]


def override_tail(state: ConsultationState, cmd: c.OverrideTail, actor: Actor, now: int) -> list[e.Event]:
    if state.tail is None:
        raise Rejected("no_tail", "The booths have finished; the next speaker may go live.")
    return [e.InterpretationTailEnded(at=now, actor=actor.id, reason="override")]


def signal_speak_slowly(state: ConsultationState, cmd: c.SignalSpeakSlowly, actor: Actor, now: int) -> list[e.Event]:
    booth = own_booth(state, actor)
    if state.speech is None:
        raise Rejected("no_speech", "Nobody is speaking.")
    return [e.SpeakSlowlySignalled(at=now, actor=actor.id, booth=booth.language, participant=state.speech.participant)]


def tail_holds(state: ConsultationState, now: int) -> bool:
    return state.tail is not None and now < state.tail.until


def route(state: ConsultationState, channel: str) -> ChannelRoute:
    """The routing every client follows.

    Rule: a listener whose channel is the floor language hears the floor
    itself, never the booth (that booth is silent, or would echo the speaker).
    A booth relaying the floor-language booth is in effect working from the
    floor. A warning when a relay source is muted or mid-handover.
    """
    floor = state.floor_language
    if channel == "floor":
        return ChannelRoute(channel=channel, play="floor", kind="floor")
    if channel == floor:
        return ChannelRoute(channel=channel, play="floor", kind="own_language")
    chain = relay_chain(state, channel)
    if floor in chain:
        chain = chain[: chain.index(floor)]
    warning = _booth_warning(state, channel, own=True)
    if not chain:
        return ChannelRoute(channel=channel, play=channel, kind="interpreted", warning=warning)
    for source in chain:
        warning = warning or _booth_warning(state, source, own=False)
    return ChannelRoute(channel=channel, play=channel, kind="relay", relay=chain, warning=warning)


def _booth_warning(state: ConsultationState, language: str, own: bool) -> RouteWarning | None:
    if state.speech is None:
        return None
    booth = state.booths[language]
    if not booth.mic_open:
        return RouteWarning(booth=language, own=own, kind="muted")
    if booth.handover_requested_by is not None:
        return RouteWarning(booth=language, own=own, kind="handover")
    return None


# --- appliers --------------------------------------------------------------------------


def _duty_taken(state: ConsultationState, ev: e.BoothDutyTaken) -> None:
    booth = state.booths[ev.booth]
    booth.on_duty, booth.duty_since, booth.handover_alerted = ev.participant, ev.at, False


def _handover_requested(state: ConsultationState, ev: e.HandoverRequested) -> None:
    state.booths[ev.booth].handover_requested_by = ev.participant


def _handover_completed(state: ConsultationState, ev: e.HandoverCompleted) -> None:
    """Rule: a handover closes the booth's microphone; the incoming interpreter opens it."""
    booth = state.booths[ev.booth]
    booth.on_duty, booth.duty_since, booth.mic_open = ev.to_participant, ev.at, False
    booth.handover_requested_by, booth.handover_alerted = None, False


def _mic_set(state: ConsultationState, ev: e.BoothMicSet) -> None:
    booth = state.booths[ev.booth]
    # Logs written before the microphone was the duty's may hold a partner off
    # duty opening theirs: that never was the booth's microphone.
    if ev.participant == booth.on_duty:
        booth.mic_open = ev.live


def _both_live(state: ConsultationState, ev: e.BothPartnersLive) -> None:
    """An alarm of older logs: a booth has one microphone now, so it changes nothing."""


def _both_talking(state: ConsultationState, ev: e.BothPartnersTalking) -> None:
    state.booths[ev.booth].both_talking = ev.talking


def _source_set(state: ConsultationState, ev: e.BoothSourceSet) -> None:
    state.booths[ev.booth].source = ev.source


def _booth_finished(state: ConsultationState, ev: e.BoothSignalledFinished) -> None:
    assert state.tail is not None, "a booth signals finished only during a tail (booth_finished)"
    state.tail.booths.remove(ev.booth)


def _tail_ended(state: ConsultationState, ev: e.InterpretationTailEnded) -> None:
    state.tail = None


def _handover_due(state: ConsultationState, ev: e.HandoverDue) -> None:
    state.booths[ev.booth].handover_alerted = True


def _speak_slowly(state: ConsultationState, ev: e.SpeakSlowlySignalled) -> None:
    state.speak_slowly = SpeakSlowly(booth=ev.booth, participant=ev.participant, at=ev.at)


DECIDERS = {
    c.TakeBoothDuty: take_booth_duty,
    c.RequestHandover: request_handover,
    c.AcceptHandover: accept_handover,
    c.SetBoothMic: set_booth_mic,
    c.SetBoothSource: set_booth_source,
    c.BoothFinished: booth_finished,
    c.ObserveBoothSilent: observe_booth_silent,
    c.ObserveBothTalking: observe_both_talking,
    c.OverrideTail: override_tail,
    c.SignalSpeakSlowly: signal_speak_slowly,
}
APPLIERS = {
    e.BoothDutyTaken: _duty_taken,
    e.HandoverRequested: _handover_requested,
    e.HandoverCompleted: _handover_completed,
    e.BoothMicSet: _mic_set,
    e.BothPartnersLive: _both_live,
    e.BothPartnersTalking: _both_talking,
    e.BoothSourceSet: _source_set,
    e.BoothSignalledFinished: _booth_finished,
    e.InterpretationTailEnded: _tail_ended,
    e.HandoverDue: _handover_due,
    e.SpeakSlowlySignalled: _speak_slowly,
}
