"""What the media should be, as a pure function of the procedure's state.

``desired_media(state)`` says which mixes exist, who is in each and whether
their microphone is open, and which mix feeds each listener channel. The
reconciler (``reconciler.py``) makes Janus match it; nothing here does I/O, so
the mapping is tested exhaustively without a media server.

Rules carried out here (the procedure decided them; this only maps):

- the floor mix holds the chair (open) and every delegation on the floor list:
  an open request on the current item connects its requester and its designated
  speakers in advance, muted, so a grant does not wait for a connection;
- the grant opens the granted delegation's designated speakers, unless the
  interpretation tail holds (the next speaker must not be heard over the end
  of the previous interpretation); going live leaves only the speaker open;
  yield, revoke, the auto-cut, the slot end and the chair's cut end the grant or
  the speech, and with it the delegation's place in the mix;
- each booth's mix holds its interpreters; only the one on duty, with the
  booth's microphone open, is heard (an off-duty partner never is). The
  partner off duty is *metered*: in the mix at volume 0, so the mix carries
  none of their sound while AudioBridge still measures when they talk (the
  both-live alarm: ``observed.py``);
- seven listener channels: ``floor`` from the floor mix, and one per language
  from its booth's mix, except the floor language's channel, which carries the
  floor mix itself (no same-language echo, by construction).
"""

from __future__ import annotations

from dataclasses import dataclass

from vcc_protocol.state import Booth, ConsultationState
from vcc_protocol.vocabulary import LANGUAGES

FLOOR = "floor"
#: The listener channels: the floor and one per language.
CHANNELS: tuple[str, ...] = (FLOOR, *LANGUAGES)


def booth_room(language: str) -> str:
    return f"booth-{language}"


ROOMS: tuple[str, ...] = (FLOOR, *(booth_room(lang) for lang in LANGUAGES))


@dataclass(frozen=True)
class DesiredMedia:
    #: Mix ("floor", "booth-en", ...) -> participant -> microphone open.
    rooms: dict[str, dict[str, bool]]
    #: Listener channel ("floor", "en", ...) -> the mix that feeds it.
    feeds: dict[str, str]
    #: (mix, participant) whose closed microphone is measured: unmuted at volume 0, so
    #: AudioBridge reports their talking and the mix carries none of their sound.
    metered: frozenset[tuple[str, str]] = frozenset()


def booth_mic_open(booth: Booth, participant: str) -> bool:
    """Only the interpreter on duty is heard, and only while their microphone is open."""
    return booth.on_duty == participant and booth.mic_open


def floor_members(state: ConsultationState) -> dict[str, bool]:
    members: dict[str, bool] = {p.id: True for p in state.participants.values() if p.role == "chair"}
    queue = state.queues.get(state.current_item, []) if state.current_item is not None else []
    on_list = [request.delegation for request in queue]
    for request in queue:
        members.setdefault(request.participant, False)
    if state.grant is not None:
        on_list.append(state.grant.delegation)
    if state.speech is not None:
        on_list.append(state.speech.delegation)
        members[state.speech.participant] = True
    speakers = [p for p in state.participants.values() if p.designated_speaker and p.delegation in on_list]
    granted = state.grant.delegation if state.grant is not None and state.tail is None else None
    for participant in speakers:
        if participant.delegation == granted:
            # Also when the delegation's ordinary request still waits in the queue
            # (it was granted a point of order): the grant opens its speakers.
            members[participant.id] = True
        else:
            members.setdefault(participant.id, False)
    return members


def booth_members(state: ConsultationState, language: str) -> dict[str, bool]:
    booth = state.booths[language]
    return {p.id: booth_mic_open(booth, p.id) for p in state.participants.values() if p.booth == language}


def feeds(state: ConsultationState) -> dict[str, str]:
    out = {FLOOR: FLOOR}
    for language in LANGUAGES:
        out[language] = FLOOR if language == state.floor_language else booth_room(language)
    return out


def metered(state: ConsultationState) -> frozenset[tuple[str, str]]:
    """Every booth's interpreters off duty: what they say is measured, never heard."""
    return frozenset(
        (booth_room(p.booth), p.id) for p in state.participants.values() if p.booth is not None and state.booths[p.booth].on_duty != p.id
    )


def desired_media(state: ConsultationState) -> DesiredMedia:
    rooms = {FLOOR: floor_members(state)}
    for language in LANGUAGES:
        rooms[booth_room(language)] = booth_members(state, language)
    return DesiredMedia(rooms=rooms, feeds=feeds(state), metered=metered(state))
