"""The floor: requests, the queue in priority order, grant -> go live -> yield.

Rules here: one open request per delegation per item, shared by all its
members, and besides it at most one point of order, which goes first and
leaves the request where it was; the priority order; points of order from
member states only, and allowed on a closed list; only a designated speaker
goes live; every chair move records its reason; time to floor on every
speech: from the grant to the speaker's first audio the media heard, or to
going live when the media heard nothing first.
"""

from itertools import accumulate

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import (
    ConsultationState,
    FailedAttempt,
    Grant,
    Move,
    Request,
    Speech,
    SpeechRecord,
    Tail,
)
from vcc_protocol.vocabulary import DELEGATION_CLASSES, SYSTEM_ACTOR, SpeechEnd

from .actors import Actor, own_delegation
from .clock import require_open_sitting, speaking_limit_ms
from .lookup import known_delegation
from .rejections import Rejected

#: Rule: the order of the floor. Points of order before everything, then
#: council members, then observer member states and the observer, then sector
#: members; first come, first served within a rank.
PRIORITY: dict[str, int] = {
    "council_member": 1,
    "observer_state": 2,
    "observer": 2,
    "sector_member": 3,
}
POINT_OF_ORDER_RANK = 0
#: Rule: points of order come from member-state delegations.
MAY_RAISE_POINT_OF_ORDER = frozenset({"council_member", "observer_state"})


def rank(state: ConsultationState, request: Request) -> int:
    if request.point_of_order:
        return POINT_OF_ORDER_RANK
    return PRIORITY[state.delegations[request.delegation].cls]


def insertion_position(state: ConsultationState, queue: list[Request], new_rank: int) -> int:
    """Before the first request of a lower priority, else at the end: FIFO within a rank.

    Requests the chair moved stay where the chair put them and do not count:
    a council member sent to the back must not pull later council members
    behind the sector members ahead of it.

    The requests that count are in priority order (each was put in its place
    here, and a delegation's class never changes), so the place is found from
    the back: before the requests of a lower priority at the end, and no
    further. Under a burst of a thousand requests, most of them of one class,
    that is a step or two where a scan from the front read the whole queue for
    each request (bench/README.md, "Where a burst's time goes").
    """
    position = len(queue)
    for index in range(len(queue) - 1, -1, -1):
        request = queue[index]
        if request.moved_reason is not None:
            continue
        if rank(state, request) <= new_rank:
            break
        position = index
    return position


def current_item(state: ConsultationState) -> str:
    if state.current_item is None:
        raise Rejected("no_current_item", "No item has been taken up yet; wait for the chair to open an item.")
    return state.current_item


def current_queue(state: ConsultationState) -> list[Request]:
    return state.queues.get(current_item(state), [])


def find_request(queue: list[Request], delegation: str, point_of_order: bool = False) -> int | None:
    """The place of a delegation's request of one kind: its ordinary request, or its point of order."""
    for index, request in enumerate(queue):
        if request.delegation == delegation and request.point_of_order == point_of_order:
            return index
    return None


def first_request(queue: list[Request], delegation: str) -> int | None:
    """The place of a delegation's first request of either kind (its point of order, if it raised one)."""
    for index, request in enumerate(queue):
        if request.delegation == delegation:
            return index
    return None


def request_floor(state: ConsultationState, cmd: c.RequestFloor, actor: Actor, now: int) -> list[e.Event]:
    delegation = own_delegation(actor)
    queue = current_queue(state)
    item = state.items[current_item(state)]
    if item.status != "open":
        raise Rejected("item_closed", f"Item {item.ref} is already {item.status}; wait for the next item.")
    place = find_request(queue, delegation.id, cmd.point_of_order)
    if place is not None:
        what = "raised a point of order" if cmd.point_of_order else "asked for the floor"
        raise Rejected(
            "already_requested",
            f"{delegation.name} already {what} on item {item.ref} (#{place + 1} in the queue); withdraw it first to change it.",
        )
    if _holds_floor(state, delegation.id):
        raise Rejected("already_requested", f"{delegation.name} has the floor now; yield before asking again.")
    if cmd.point_of_order:
        if delegation.cls not in MAY_RAISE_POINT_OF_ORDER:
            raise Rejected("not_allowed", "Only a member-state delegation may raise a point of order; ask for the floor instead.")
    elif item.list_closed:
        raise Rejected("floor_closed", f"The list of speakers on item {item.ref} is closed; only a point of order can still be raised.")
    new = Request(delegation=delegation.id, participant=actor.id, point_of_order=cmd.point_of_order, requested_at=now)
    position = insertion_position(state, queue, rank(state, new))
    return [
        e.FloorRequested(
            at=now,
            actor=actor.id,
            delegation=delegation.id,
            item=item.ref,
            point_of_order=cmd.point_of_order,
            position=position,
            participant=actor.id,
        )
    ]


def _holds_floor(state: ConsultationState, delegation: str) -> bool:
    return (state.grant is not None and state.grant.delegation == delegation) or (
        state.speech is not None and state.speech.delegation == delegation
    )


def withdraw_floor_request(state: ConsultationState, cmd: c.WithdrawFloorRequest, actor: Actor, now: int) -> list[e.Event]:
    delegation = own_delegation(actor)
    queue = current_queue(state)
    if find_request(queue, delegation.id, cmd.point_of_order) is None:
        what = "point of order" if cmd.point_of_order else "floor request"
        raise Rejected("not_requested", f"{delegation.name} has no open {what} on this item.")
    return [
        e.FloorRequestWithdrawn(
            at=now,
            actor=actor.id,
            delegation=delegation.id,
            item=current_item(state),
            point_of_order=cmd.point_of_order,
        )
    ]


def move_floor_request(state: ConsultationState, cmd: c.MoveFloorRequest, actor: Actor, now: int) -> list[e.Event]:
    queue = current_queue(state)
    known_delegation(state, cmd.delegation)
    place = find_request(queue, cmd.delegation)
    if place is None:
        raise Rejected(
            "not_requested",
            f"{state.delegations[cmd.delegation].name} has no request to move in the queue of this item (a point of order is not moved: it goes first).",
        )
    if not cmd.reason.strip():
        raise Rejected("reason_required", "Give the reason for moving the request; it is recorded.")
    if cmd.position > len(queue):
        raise Rejected("invalid_value", f"The queue has {len(queue)} places; choose a place from 1 to {len(queue)}.")
    return [
        e.FloorRequestMoved(
            at=now,
            actor=actor.id,
            delegation=cmd.delegation,
            item=current_item(state),
            from_position=place,
            to_position=cmd.position - 1,
            reason=cmd.reason.strip(),
        )
    ]


def close_speakers_list(state: ConsultationState, cmd: c.CloseSpeakersList, actor: Actor, now: int) -> list[e.Event]:
    current_queue(state)
    if state.items[current_item(state)].list_closed:
        raise Rejected("floor_closed", "The list of speakers is already closed.")
    return [e.SpeakersListClosed(at=now, actor=actor.id, item=current_item(state))]


def reopen_speakers_list(state: ConsultationState, cmd: c.ReopenSpeakersList, actor: Actor, now: int) -> list[e.Event]:
    current_queue(state)
    if not state.items[current_item(state)].list_closed:
        raise Rejected("invalid_value", "The list of speakers is open already.")
    return [e.SpeakersListReopened(at=now, actor=actor.id, item=current_item(state))]


def grant_floor(state: ConsultationState, cmd: c.GrantFloor, actor: Actor, now: int) -> list[e.Event]:
    require_open_sitting(state, now, "give the floor")
    queue = current_queue(state)
    holder = state.speech or state.grant
    if holder is not None:
        raise Rejected(
            "floor_busy", f"{state.delegations[holder.delegation].name} has the floor; end the speech or revoke the grant first."
        )
    if not queue:
        raise Rejected("queue_empty", "Nobody is waiting for the floor on this item.")
    item = state.items[current_item(state)]
    if item.status != "open":
        raise Rejected("item_closed", f"Item {item.ref} is already {item.status}; take up the next item.")
    if cmd.delegation is None:
        request = queue[0]
    else:
        # A named delegation's point of order, if it raised one, goes before its ordinary request.
        place = first_request(queue, cmd.delegation)
        if place is None:
            raise Rejected("not_requested", f"{cmd.delegation!r} has not asked for the floor on this item.")
        request = queue[place]
    return [
        e.FloorGranted(
            at=now,
            actor=actor.id,
            delegation=request.delegation,
            item=current_item(state),
            point_of_order=request.point_of_order,
        )
    ]


def revoke_grant(state: ConsultationState, cmd: c.RevokeGrant, actor: Actor, now: int) -> list[e.Event]:
    if state.grant is None:
        raise Rejected("not_granted", "No grant is waiting to be taken up; to stop a speech, end it.")
    return [e.GrantRevoked(at=now, actor=actor.id, delegation=state.grant.delegation, item=state.grant.item)]


def go_live(state: ConsultationState, cmd: c.GoLive, actor: Actor, now: int) -> list[e.Event]:
    delegation = own_delegation(actor)
    grant = state.grant
    if grant is None or grant.delegation != delegation.id:
        raise Rejected("not_granted", f"The chair has not given {delegation.name} the floor; ask for the floor and wait for the grant.")
    participant = actor.participant
    assert participant is not None
    if not participant.designated_speaker:
        raise Rejected(
            "not_designated_speaker",
            f"{participant.name} is not a designated speaker of {delegation.name}; a designated speaker must go live.",
        )
    require_open_sitting(state, now, "go live")
    if state.tail is not None and now < state.tail.until:
        booths = ", ".join(state.tail.booths)
        seconds = (state.tail.until - now + 999) // 1000
        raise Rejected("interpretation_tail", f"Interpretation finishing, please wait (booths {booths}; at most {seconds} s).")
    limit = speaking_limit_ms(state, grant.item, delegation.cls)
    floor_at = now if grant.heard_at is None else grant.heard_at
    return [
        e.SpeakerWentLive(
            at=now,
            actor=actor.id,
            participant=actor.id,
            delegation=delegation.id,
            item=grant.item,
            language=participant.languages[0] if participant.languages else "en",
            time_to_floor_ms=floor_at - grant.granted_at,
            limit_ms=limit,
        )
    ]


def observe_speaker_heard(state: ConsultationState, cmd: c.ObserveSpeakerHeard, actor: Actor, now: int) -> list[e.Event]:
    """Rule: time to floor ends when the speaker is really heard. The grant opens the
    delegation's designated speakers, so one may speak before pressing "go live": the
    first audio the media hears from the granted delegation's speaker, or from the live
    speaker, ends it, once per grant and once per speech."""
    speaker = state.participants.get(cmd.participant)
    speech, grant = state.speech, state.grant
    if speech is not None and speech.participant == cmd.participant:
        if speech.heard:
            raise Rejected("already_heard", "The speaker's audio was already heard in this speech.")
        floor_at = speech.started_at - speech.time_to_floor_ms
        return [
            e.SpeakerHeard(
                at=now, actor=actor.id, participant=cmd.participant, delegation=speech.delegation, time_to_floor_ms=now - floor_at
            )
        ]
    if grant is not None and speaker is not None and speaker.delegation == grant.delegation and speaker.designated_speaker:
        if grant.heard_at is not None:
            raise Rejected("already_heard", "The granted delegation's speaker was already heard.")
        return [
            e.SpeakerHeard(
                at=now, actor=actor.id, participant=cmd.participant, delegation=grant.delegation, time_to_floor_ms=now - grant.granted_at
            )
        ]
    raise Rejected(
        "not_granted",
        f"{cmd.participant!r} neither speaks nor is a designated speaker of the delegation given the floor; the media hears only those.",
    )


def yield_floor(state: ConsultationState, cmd: c.YieldFloor, actor: Actor, now: int) -> list[e.Event]:
    speech = state.speech
    if speech is None or actor.delegation is None or speech.delegation != actor.delegation.id:
        raise Rejected("no_speech", "You are not speaking; nothing to yield.")
    return [speech_ended(state, actor.id, now, "yielded", at_most=_slot_end(state))]


def end_speech(state: ConsultationState, cmd: c.EndSpeech, actor: Actor, now: int) -> list[e.Event]:
    if state.speech is None:
        raise Rejected("no_speech", "Nobody is speaking; to take back a grant not taken up, revoke it.")
    return [speech_ended(state, actor.id, now, "ended_by_chair", at_most=_slot_end(state))]


def _slot_end(state: ConsultationState) -> int | None:
    """A speech ended after the slot end but before the tick still ended at the slot end."""
    return state.sitting.ends_at if state.sitting is not None else None


def speech_ended(state: ConsultationState, actor: str, now: int, reason: SpeechEnd, at_most: int | None = None) -> e.SpeechEnded:
    """The end of the running speech; the booths still live start the interpretation tail.

    A tail of 0 ms holds nobody: no booth is listed, so that no tail is left
    for a second tick at the same instant to end (ticks are idempotent).
    """
    speech = state.speech
    assert speech is not None
    end = now if at_most is None else min(now, at_most)
    tail_booths = [b.language for b in state.booths.values() if b.mic_open] if state.settings.tail_ms > 0 else []
    return e.SpeechEnded(
        at=now,
        actor=actor,
        participant=speech.participant,
        delegation=speech.delegation,
        item=speech.item,
        reason=reason,
        duration_ms=end - speech.started_at,
        time_to_floor_ms=speech.time_to_floor_ms,
        tail_booths=tail_booths,
        tail_until=now + state.settings.tail_ms,
    )


def end_of_floor(state: ConsultationState, actor: str, now: int, reason: SpeechEnd, at_most: int | None = None) -> list[e.Event]:
    """What closing a sitting does to the floor: the speech ends (cut), a pending grant lapses."""
    if state.speech is not None:
        return [speech_ended(state, actor, now, reason, at_most)]
    if state.grant is not None:
        return [e.GrantRevoked(at=now, actor=actor, delegation=state.grant.delegation, item=state.grant.item)]
    return []


def speech_remaining_ms(state: ConsultationState, now: int) -> int:
    speech = state.speech
    if speech is None:
        return 0
    return max(speech.ends_at - now, 0)


def _queue_limits_ms(state: ConsultationState, item: str) -> list[int]:
    """The speaking limit of each request in ``item``'s queue. Looked up once per class:
    the views ask for the whole queue after every batch, and a burst queues a thousand."""
    by_class: dict[str, int] = {cls: speaking_limit_ms(state, item, cls) for cls in DELEGATION_CLASSES}
    delegations = state.delegations
    return [by_class[delegations[request.delegation].cls] for request in state.queues.get(item, [])]


def queue_wait_ms(state: ConsultationState, now: int) -> list[int]:
    """The expected wait of each request of the current item's queue: the running
    speech's remainder, the delegation granted the floor, and everyone ahead, each at
    their speaking limit."""
    if state.current_item is None:
        return []
    wait = speech_remaining_ms(state, now)
    if state.grant is not None:
        wait += speaking_limit_ms(state, state.grant.item, state.delegations[state.grant.delegation].cls)
    limits = _queue_limits_ms(state, state.current_item)
    return list(accumulate(limits[:-1], initial=wait)) if limits else []


def queue_waits(state: ConsultationState, now: int) -> list[tuple[Request, int]]:
    """Each request of the current item's queue with its expected wait (``queue_wait_ms``)."""
    if state.current_item is None:
        return []
    return list(zip(state.queues.get(state.current_item, []), queue_wait_ms(state, now), strict=True))


def queue_position(state: ConsultationState, delegation: str, now: int, point_of_order: bool = False) -> tuple[int, int] | None:
    """ "You are #N, about M ms": the place of a delegation's request (or point of order) on the
    current item and the wait (``queue_waits``)."""
    for place, (request, wait) in enumerate(queue_waits(state, now), start=1):
        if request.delegation == delegation and request.point_of_order == point_of_order:
            return place, wait
    return None


def queue_ms(state: ConsultationState, now: int) -> int:
    """Time the current item's queue still needs, each speaker at their limit."""
    if state.current_item is None:
        return 0
    return speech_remaining_ms(state, now) + sum(_queue_limits_ms(state, state.current_item))


# --- appliers --------------------------------------------------------------------------


def _floor_requested(state: ConsultationState, ev: e.FloorRequested) -> None:
    state.queues.setdefault(ev.item, []).insert(
        ev.position,
        Request(delegation=ev.delegation, participant=ev.participant, point_of_order=ev.point_of_order, requested_at=ev.at),
    )


def _remove(state: ConsultationState, item: str, delegation: str, point_of_order: bool) -> Request:
    queue = state.queues[item]
    place = find_request(queue, delegation, point_of_order)
    if place is None:
        # A log from before a delegation could hold a point of order besides its
        # request names no kind when it withdraws or moves: it had one request.
        place = first_request(queue, delegation)
    assert place is not None, f"{delegation} has no request on item {item} to remove"
    return queue.pop(place)


def _withdrawn(state: ConsultationState, ev: e.FloorRequestWithdrawn) -> None:
    _remove(state, ev.item, ev.delegation, ev.point_of_order)


def _moved(state: ConsultationState, ev: e.FloorRequestMoved) -> None:
    request = _remove(state, ev.item, ev.delegation, False)
    request.moved_reason = ev.reason
    state.queues[ev.item].insert(ev.to_position, request)
    state.moves.append(
        Move(
            delegation=ev.delegation,
            item=ev.item,
            from_position=ev.from_position,
            to_position=ev.to_position,
            reason=ev.reason,
            at=ev.at,
            actor=ev.actor,
        )
    )


def _list_closed(state: ConsultationState, ev: e.SpeakersListClosed) -> None:
    state.items[ev.item].list_closed = True


def _list_reopened(state: ConsultationState, ev: e.SpeakersListReopened) -> None:
    state.items[ev.item].list_closed = False


def _granted(state: ConsultationState, ev: e.FloorGranted) -> None:
    _remove(state, ev.item, ev.delegation, ev.point_of_order)
    state.grant = Grant(delegation=ev.delegation, item=ev.item, point_of_order=ev.point_of_order, granted_at=ev.at)


def _revoked(state: ConsultationState, ev: e.GrantRevoked) -> None:
    grant = state.grant
    assert grant is not None
    cause = "sitting_closed" if ev.actor == SYSTEM_ACTOR else "revoked"
    state.failed_attempts.append(
        FailedAttempt(
            delegation=ev.delegation, item=ev.item, what="grant_not_taken_up", cause=cause, waited_ms=ev.at - grant.granted_at, at=ev.at
        )
    )
    state.grant = None


def _went_live(state: ConsultationState, ev: e.SpeakerWentLive) -> None:
    heard = state.grant is not None and state.grant.heard_at is not None
    state.grant = None
    state.tail = None
    state.speak_slowly = None
    state.floor_language = ev.language
    state.speech = Speech(
        participant=ev.participant,
        delegation=ev.delegation,
        item=ev.item,
        language=ev.language,
        started_at=ev.at,
        time_to_floor_ms=ev.time_to_floor_ms,
        limit_ms=ev.limit_ms,
        heard=heard,
    )


def _heard(state: ConsultationState, ev: e.SpeakerHeard) -> None:
    speech = state.speech
    if speech is not None and speech.participant == ev.participant:
        speech.heard, speech.time_to_floor_ms = True, ev.time_to_floor_ms
    else:
        assert state.grant is not None, "the media hears only a granted or live speaker"
        state.grant.heard_at = ev.at


def _time_exceeded(state: ConsultationState, ev: e.SpeakingTimeExceeded) -> None:
    assert state.speech is not None, "only a running speech exceeds its time (tick)"
    state.speech.warned = True


def _speech_ended(state: ConsultationState, ev: e.SpeechEnded) -> None:
    speech = state.speech
    assert speech is not None
    state.speeches.append(
        SpeechRecord(
            participant=ev.participant,
            delegation=ev.delegation,
            item=ev.item,
            language=speech.language,
            started_at=speech.started_at,
            duration_ms=ev.duration_ms,
            time_to_floor_ms=ev.time_to_floor_ms,
            reason=ev.reason,
        )
    )
    state.speech = None
    state.floor_language = None
    state.speak_slowly = None
    state.tail = Tail(until=ev.tail_until, booths=list(ev.tail_booths)) if ev.tail_booths else None


DECIDERS = {
    c.RequestFloor: request_floor,
    c.WithdrawFloorRequest: withdraw_floor_request,
    c.MoveFloorRequest: move_floor_request,
    c.CloseSpeakersList: close_speakers_list,
    c.ReopenSpeakersList: reopen_speakers_list,
    c.GrantFloor: grant_floor,
    c.RevokeGrant: revoke_grant,
    c.GoLive: go_live,
    c.YieldFloor: yield_floor,
    c.EndSpeech: end_speech,
    c.ObserveSpeakerHeard: observe_speaker_heard,
}
APPLIERS = {
    e.FloorRequested: _floor_requested,
    e.FloorRequestWithdrawn: _withdrawn,
    e.FloorRequestMoved: _moved,
    e.SpeakersListClosed: _list_closed,
    e.SpeakersListReopened: _list_reopened,
    e.FloorGranted: _granted,
    e.GrantRevoked: _revoked,
    e.SpeakerWentLive: _went_live,
    e.SpeakerHeard: _heard,
    e.SpeakingTimeExceeded: _time_exceeded,
    e.SpeechEnded: _speech_ended,
}
