"""What the media heard, as commands for the procedure: a pure function of the
state and of who AudioBridge last reported talking in each mix.

The reconciler sends what this returns as the media actor (``@media``), once
per key; the core decides, like for any command, whether it still applies.
"""

from __future__ import annotations

from vcc_protocol import commands as c
from vcc_protocol.state import ConsultationState

from .desired import FLOOR, booth_room

#: What an observation is about: (kind, booth or participant, the tail's end or the grant's or speech's start).
Key = tuple[str, str, int]


def observations(state: ConsultationState, talking: dict[tuple[str, str], bool]) -> dict[Key, c.Command]:
    """What the procedure can use of who AudioBridge hears talking, keyed by what each is about.

    - a booth still in the interpretation tail whose interpreter on duty was heard to stop
      (heard talking, then silent for the booth's window): its silence ends its part of the tail;
    - the speaker of the granted delegation, or the live speaker, heard for the first time:
      the true end of time to floor. Only an unmuted microphone is measured, so only a
      speaker the grant opened can be heard;
    - a booth's partner off duty (metered: measured, never heard) talking while the
      interpreter on duty is live and talking: the both-live alarm; and its end, once
      they no longer both talk (or the one on duty is no longer live).
    """
    out: dict[Key, c.Command] = {}
    tail = state.tail
    for language in tail.booths if tail is not None else ():
        on_duty = state.booths[language].on_duty
        if on_duty is not None and talking.get((booth_room(language), on_duty)) is False:
            out[("silent", language, tail.until)] = c.ObserveBoothSilent(id=c.new_id(), booth=language)  # type: ignore[union-attr, arg-type]
    for language, booth in state.booths.items():
        room = booth_room(language)
        on_air = booth.on_duty is not None and booth.mic_open and talking.get((room, booth.on_duty)) is True
        both = on_air and any(now_talking for (mix, who), now_talking in talking.items() if mix == room and who != booth.on_duty)
        if both != booth.both_talking:
            out[("both" if both else "apart", language, 0)] = c.ObserveBothTalking(id=c.new_id(), booth=booth.language, talking=both)
    speech, grant = state.speech, state.grant
    for (room, participant), now_talking in talking.items():
        if room != FLOOR or not now_talking:
            continue
        if speech is not None:
            if speech.participant == participant and not speech.heard:
                out[("heard", participant, speech.started_at)] = c.ObserveSpeakerHeard(id=c.new_id(), participant=participant)
        elif grant is not None and grant.heard_at is None:
            speaker = state.participants.get(participant)
            if speaker is not None and speaker.delegation == grant.delegation and speaker.designated_speaker:
                out[("heard", participant, grant.granted_at)] = c.ObserveSpeakerHeard(id=c.new_id(), participant=participant)
    return out
