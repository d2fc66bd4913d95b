"""The floor: requests, the priority order, grant -> go live -> yield, the
list of speakers, speaking-time limits and time to floor."""

import pytest
from corekit import MINUTE, SECOND, Consultation, builtins, member, speaker
from hypothesis import given, settings
from hypothesis import strategies as st
from vcc.core import ConsultationState, next_deadline
from vcc.core.floor import MAY_RAISE_POINT_OF_ORDER, POINT_OF_ORDER_RANK, PRIORITY, insertion_position, queue_position, rank
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import Delegation, Request
from vcc_protocol.vocabulary import MEDIA_ACTOR

# --- one open request per delegation per item -----------------------------------------


def test_one_open_request_per_delegation_shared_by_its_members(sitting: Consultation) -> None:
    event = sitting.hand(member("ch"))
    assert (event.delegation, event.item, event.participant, event.position) == ("ch", "3", "ch-2", 0)
    # Duplicate request, from the same member or another member of the delegation.
    assert sitting.reject(c.RequestFloor(id=c.new_id()), member("ch")) == "already_requested"
    assert sitting.reject(c.RequestFloor(id=c.new_id()), speaker("ch")) == "already_requested"
    assert sitting.queue() == ["ch"]


def test_any_member_may_withdraw_the_delegation_request(sitting: Consultation) -> None:
    sitting.hand(member("ch"))
    (event,) = sitting.run(c.WithdrawFloorRequest(id=c.new_id()), speaker("ch"))
    assert isinstance(event, e.FloorRequestWithdrawn) and event.delegation == "ch"
    assert sitting.queue() == []
    assert sitting.reject(c.WithdrawFloorRequest(id=c.new_id()), member("ch")) == "not_requested"
    # Withdrawn, the delegation may ask again.
    sitting.hand(speaker("ch"))


def test_requests_are_per_item(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.take_up("4")
    sitting.hand(speaker("ch"))
    assert sitting.queue("3") == ["ch"] and sitting.queue("4") == ["ch"]


def test_request_floor_needs_a_current_open_item(cons: Consultation) -> None:
    assert cons.reject(c.RequestFloor(id=c.new_id()), speaker("ch")) == "no_current_item"
    assert cons.reject(c.WithdrawFloorRequest(id=c.new_id()), speaker("ch")) == "no_current_item"
    cons.take_up("3")
    cons.run(c.ProposeConclusion(id=c.new_id(), item="3", text="Noted."), "sec")
    cons.run(c.RecordConsensus(id=c.new_id(), item="3"), "chair")
    assert cons.reject(c.RequestFloor(id=c.new_id()), speaker("ch")) == "item_closed"


def test_hands_may_be_raised_before_the_sitting_opens(cons: Consultation) -> None:
    cons.take_up("3")
    cons.hand(speaker("at"))
    assert cons.queue() == ["at"]


def test_request_floor_wrong_role(sitting: Consultation) -> None:
    for actor in ("chair", "sec", "tech", "i-en-1", "@admin", "@system"):
        assert sitting.reject(c.RequestFloor(id=c.new_id()), actor) == "not_allowed"
        assert sitting.reject(c.WithdrawFloorRequest(id=c.new_id()), actor) == "not_allowed"


def test_a_delegation_holding_the_floor_cannot_ask_again(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.grant()
    assert sitting.reject(c.RequestFloor(id=c.new_id()), member("ch")) == "already_requested"
    sitting.go_live(speaker("ch"))
    assert sitting.reject(c.RequestFloor(id=c.new_id()), member("ch")) == "already_requested"
    sitting.yield_floor(speaker("ch"))
    sitting.hand(member("ch"))


# --- the order of the floor -----------------------------------------------------------


@pytest.mark.rule("floor.PRIORITY")
def test_priority_order_council_then_observers_then_sector_members(sitting: Consultation) -> None:
    assert PRIORITY == {"council_member": 1, "observer_state": 2, "observer": 2, "sector_member": 3}
    for delegation in ("r1", "ps", "at", "us", "t1", "ch", "pt", "cn"):
        sitting.hand(speaker(delegation))
    assert sitting.queue() == ["us", "ch", "cn", "ps", "at", "pt", "r1", "t1"]


@pytest.mark.rule("floor.PRIORITY")
def test_fifo_within_a_class(sitting: Consultation) -> None:
    for delegation in ("py", "cn", "us", "ch"):
        sitting.hand(speaker(delegation))
        sitting.later(1)
    assert sitting.queue() == ["py", "cn", "us", "ch"]
    requested = [r.requested_at for r in sitting.state.queues["3"]]
    assert requested == sorted(requested)


@pytest.mark.rule("floor.PRIORITY")
def test_points_of_order_before_everything_fifo_among_them(sitting: Consultation) -> None:
    for delegation in ("r1", "ch", "at"):
        sitting.hand(speaker(delegation))
    sitting.hand(speaker("pt"), point_of_order=True)
    event = sitting.hand(speaker("cn"), point_of_order=True)
    assert event.position == 1 and event.point_of_order
    assert sitting.queue() == ["pt", "cn", "ch", "at", "r1"]
    assert sitting.grant().point_of_order is True


def test_a_queued_delegation_raises_a_point_of_order_and_keeps_its_place(sitting: Consultation) -> None:
    for delegation in ("us", "ch", "cn", "at"):
        sitting.hand(speaker(delegation))
    # Switzerland, second in the queue, raises a point of order: it goes first, and its
    # ordinary request stays where it was.
    event = sitting.hand(member("ch"), point_of_order=True)
    assert (event.position, event.point_of_order) == (0, True)
    queue = sitting.state.queues["3"]
    assert [(r.delegation, r.point_of_order) for r in queue] == [("ch", True), ("us", False), ("ch", False), ("cn", False), ("at", False)]
    assert queue_position(sitting.state, "ch", sitting.now, point_of_order=True)[0] == 1  # type: ignore[index]
    # One point of order at a time, besides the request.
    assert sitting.reject(c.RequestFloor(id=c.new_id(), point_of_order=True), speaker("ch")) == "already_requested"
    assert sitting.reject(c.RequestFloor(id=c.new_id()), speaker("ch")) == "already_requested"
    # Granted and spoken, the point of order is done; the request has kept its place (now second).
    granted = sitting.grant()
    assert (granted.delegation, granted.point_of_order) == ("ch", True)
    assert sitting.queue() == ["us", "ch", "cn", "at"]
    assert sitting.reject(c.RequestFloor(id=c.new_id(), point_of_order=True), member("ch")) == "already_requested"  # it has the floor
    sitting.go_live(speaker("ch"))
    sitting.yield_floor(speaker("ch"))
    assert sitting.queue() == ["us", "ch", "cn", "at"]
    assert queue_position(sitting.state, "ch", sitting.now)[0] == 2  # type: ignore[index]
    assert sitting.refolded() == builtins(sitting.state)


def test_withdrawing_a_point_of_order_leaves_the_request_and_the_other_way_round(sitting: Consultation) -> None:
    sitting.hand(speaker("us"))
    sitting.hand(speaker("ch"))
    sitting.hand(speaker("ch"), point_of_order=True)
    (event,) = sitting.run(c.WithdrawFloorRequest(id=c.new_id(), point_of_order=True), member("ch"))
    assert isinstance(event, e.FloorRequestWithdrawn) and event.point_of_order
    assert [(r.delegation, r.point_of_order) for r in sitting.state.queues["3"]] == [("us", False), ("ch", False)]
    assert sitting.reject(c.WithdrawFloorRequest(id=c.new_id(), point_of_order=True), member("ch")) == "not_requested"
    sitting.hand(speaker("ch"), point_of_order=True)
    (event,) = sitting.run(c.WithdrawFloorRequest(id=c.new_id()), speaker("ch"))
    assert not event.point_of_order
    assert [(r.delegation, r.point_of_order) for r in sitting.state.queues["3"]] == [("ch", True), ("us", False)]
    # A point of order alone is no request: nothing else to withdraw.
    assert sitting.reject(c.WithdrawFloorRequest(id=c.new_id()), speaker("ch")) == "not_requested"


def test_a_named_grant_gives_the_point_of_order_first_and_a_move_moves_the_request(sitting: Consultation) -> None:
    for delegation in ("us", "cn", "ch"):
        sitting.hand(speaker(delegation))
    sitting.hand(speaker("ch"), point_of_order=True)
    sitting.run(c.MoveFloorRequest(id=c.new_id(), delegation="ch", position=2, reason="Author of the proposal"), "chair")
    assert [(r.delegation, r.point_of_order) for r in sitting.state.queues["3"]] == [
        ("ch", True),
        ("ch", False),
        ("us", False),
        ("cn", False),
    ]
    assert sitting.grant("ch").point_of_order is True
    assert [(r.delegation, r.point_of_order) for r in sitting.state.queues["3"]] == [("ch", False), ("us", False), ("cn", False)]
    sitting.run(c.RevokeGrant(id=c.new_id()), "chair")
    sitting.hand(speaker("us"), point_of_order=True)
    # A delegation with only a point of order has nothing the chair moves: the point of order goes first.
    sitting.run(c.WithdrawFloorRequest(id=c.new_id()), speaker("us"))
    assert sitting.reject(c.MoveFloorRequest(id=c.new_id(), delegation="us", position=3, reason="Later"), "chair") == "not_requested"


def test_logs_from_before_points_of_order_kept_the_request_still_fold(sitting: Consultation) -> None:
    """A withdrawal or move written when a delegation had one request names no kind: it was that request."""
    from vcc.core import fold

    at = sitting.now
    state = fold(
        [
            e.FloorRequested(
                at=at, actor=speaker("ch"), delegation="ch", item="3", point_of_order=True, position=0, participant=speaker("ch")
            ),
            e.FloorRequested(
                at=at, actor=speaker("cn"), delegation="cn", item="3", point_of_order=True, position=1, participant=speaker("cn")
            ),
            e.FloorRequestWithdrawn(at=at, actor=speaker("ch"), delegation="ch", item="3"),
            e.FloorRequestMoved(at=at, actor="chair", delegation="cn", item="3", from_position=0, to_position=0, reason="Old log"),
        ],
        sitting.state,
    )
    assert [(r.delegation, r.point_of_order) for r in state.queues["3"]] == [("cn", True)]


@pytest.mark.rule("floor.MAY_RAISE_POINT_OF_ORDER")
def test_points_of_order_from_member_state_delegations_only(sitting: Consultation) -> None:
    assert MAY_RAISE_POINT_OF_ORDER == {"council_member", "observer_state"}
    # Wrong class: the observer and sector members ask for the floor, not a point of order.
    assert sitting.reject(c.RequestFloor(id=c.new_id(), point_of_order=True), speaker("ps")) == "not_allowed"
    assert sitting.reject(c.RequestFloor(id=c.new_id(), point_of_order=True), speaker("r1")) == "not_allowed"
    sitting.hand(speaker("ps"))
    sitting.hand(speaker("r1"))


def test_chair_moves_a_request_and_the_reason_is_recorded(sitting: Consultation) -> None:
    for delegation in ("ch", "cn", "at", "r1"):
        sitting.hand(speaker(delegation))
    (event,) = sitting.run(c.MoveFloorRequest(id=c.new_id(), delegation="r1", position=1, reason=" Presents the document "), "chair")
    assert isinstance(event, e.FloorRequestMoved)
    assert (event.from_position, event.to_position, event.reason) == (3, 0, "Presents the document")
    assert sitting.queue() == ["r1", "ch", "cn", "at"]
    (move,) = sitting.state.moves
    assert (move.delegation, move.item, move.reason, move.actor) == ("r1", "3", "Presents the document", "chair")
    assert sitting.state.queues["3"][0].moved_reason == "Presents the document"
    # The first request goes to the one the chair moved up.
    assert sitting.grant().delegation == "r1"


def test_moving_a_request_needs_a_reason(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.hand(speaker("at"))
    assert sitting.reject(c.MoveFloorRequest(id=c.new_id(), delegation="at", position=1, reason=""), "chair") == "reason_required"
    assert sitting.reject(c.MoveFloorRequest(id=c.new_id(), delegation="at", position=1, reason="   "), "chair") == "reason_required"
    assert sitting.queue() == ["ch", "at"] and sitting.state.moves == []


def test_moving_a_request_bad_cases(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.hand(speaker("at"))
    assert sitting.reject(c.MoveFloorRequest(id=c.new_id(), delegation="at", position=3, reason="r"), "chair") == "invalid_value"
    assert sitting.reject(c.MoveFloorRequest(id=c.new_id(), delegation="cn", position=1, reason="r"), "chair") == "not_requested"
    assert sitting.reject(c.MoveFloorRequest(id=c.new_id(), delegation="xx", position=1, reason="r"), "chair") == "unknown_delegation"
    # Wrong role: only the chair moves requests.
    for actor in (speaker("ch"), "sec", "i-en-1", "tech"):
        assert sitting.reject(c.MoveFloorRequest(id=c.new_id(), delegation="at", position=1, reason="r"), actor) == "not_allowed"


def test_new_requests_keep_the_priority_order_around_moved_ones(sitting: Consultation) -> None:
    # The chair sends a council member to the back with a reason ...
    sitting.hand(speaker("ch"))
    sitting.hand(speaker("r1"))
    sitting.run(c.MoveFloorRequest(id=c.new_id(), delegation="ch", position=2, reason="Asked to speak after the sector"), "chair")
    assert sitting.queue() == ["r1", "ch"]
    # ... and a council member asking now still comes before the sector member.
    sitting.hand(speaker("cn"))
    assert sitting.queue() == ["cn", "r1", "ch"]
    # Moved requests keep the place the chair gave them: a sector member moved
    # up stays ahead of later council members, and later requests of the same
    # or a lower priority come after the council member moved back.
    sitting.run(c.MoveFloorRequest(id=c.new_id(), delegation="r1", position=1, reason="Presents the document"), "chair")
    sitting.hand(speaker("us"))
    sitting.hand(speaker("at"))
    assert sitting.queue() == ["r1", "cn", "ch", "us", "at"]
    # A point of order still comes before every request the chair did not move.
    sitting.hand(speaker("pt"), point_of_order=True)
    assert sitting.queue() == ["r1", "pt", "cn", "ch", "us", "at"]


def front_to_back(state: ConsultationState, queue: list[Request], new_rank: int) -> int:
    """The rule as it reads: before the first request the chair did not move of a lower priority."""
    for index, request in enumerate(queue):
        if request.moved_reason is None and rank(state, request) > new_rank:
            return index
    return len(queue)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ask", "point", "move", "withdraw"]), st.sampled_from(sorted(PRIORITY)), st.integers(0, 40))))
def test_the_place_found_from_the_back_is_the_one_the_rule_gives(steps: list[tuple[str, str, int]]) -> None:
    state = ConsultationState(
        delegations={cls: Delegation(id=cls, name=cls, cls=cls, region="", sector=None, voting_rights=False) for cls in PRIORITY}
    )
    queue: list[Request] = []
    for step, (kind, cls, where) in enumerate(steps):
        new = Request(delegation=cls, participant=cls, point_of_order=kind == "point", requested_at=step)
        if kind == "withdraw":
            if queue:
                queue.pop(where % len(queue))
            continue
        for new_rank in (POINT_OF_ORDER_RANK, *PRIORITY.values()):
            assert insertion_position(state, queue, new_rank) == front_to_back(state, queue, new_rank), (queue, new_rank)
        if kind == "move":
            new.moved_reason = "the chair's"
            queue.insert(where % (len(queue) + 1), new)
        else:
            queue.insert(insertion_position(state, queue, rank(state, new)), new)


# --- grant, go live, yield ------------------------------------------------------------


def test_grant_go_live_yield_records_time_to_floor_and_duration(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    granted = sitting.grant()
    assert granted.delegation == "ch" and sitting.state.grant is not None and sitting.queue() == []
    sitting.later(20)
    live = sitting.go_live(speaker("ch"))
    assert live.time_to_floor_ms == 20 * SECOND and live.language == "fr" and live.limit_ms == 180 * SECOND
    assert sitting.state.floor_language == "fr" and sitting.state.grant is None
    sitting.later(95)
    ended = sitting.yield_floor(speaker("ch"))
    assert (ended.reason, ended.duration_ms, ended.time_to_floor_ms) == ("yielded", 95 * SECOND, 20 * SECOND)
    (record,) = sitting.state.speeches
    assert (record.delegation, record.participant, record.duration_ms, record.time_to_floor_ms, record.reason) == (
        "ch",
        "ch-1",
        95_000,
        20_000,
        "yielded",
    )
    assert sitting.state.speech is None and sitting.state.floor_language is None


@pytest.mark.rule("floor.observe_speaker_heard")
def test_time_to_floor_ends_when_the_media_hears_the_speaker_before_going_live(sitting: Consultation) -> None:
    """The grant opens the delegation's microphone: the first audio the media hears is the
    true end of time to floor, even when the speaker presses "go live" later."""
    sitting.hand(speaker("ch"))
    sitting.grant()
    sitting.later(3)
    (heard,) = sitting.run(c.ObserveSpeakerHeard(id=c.new_id(), participant=speaker("ch")), MEDIA_ACTOR)
    assert isinstance(heard, e.SpeakerHeard) and (heard.delegation, heard.time_to_floor_ms) == ("ch", 3 * SECOND)
    assert sitting.reject(c.ObserveSpeakerHeard(id=c.new_id(), participant=speaker("ch")), MEDIA_ACTOR) == "already_heard"
    sitting.later(17)
    live = sitting.go_live(speaker("ch"))
    assert live.time_to_floor_ms == 3 * SECOND and sitting.state.speech is not None and sitting.state.speech.heard
    assert sitting.reject(c.ObserveSpeakerHeard(id=c.new_id(), participant=speaker("ch")), MEDIA_ACTOR) == "already_heard"
    sitting.later(60)
    assert sitting.yield_floor(speaker("ch")).time_to_floor_ms == 3 * SECOND
    assert sitting.state.speeches[-1].time_to_floor_ms == 3 * SECOND


def test_time_to_floor_ends_when_the_media_first_hears_the_live_speaker(sitting: Consultation) -> None:
    """Live, but the media hears nothing yet (a microphone still connecting): time to floor runs on until it does."""
    sitting.hand(speaker("ch"))
    sitting.grant()
    sitting.later(5)
    assert sitting.go_live(speaker("ch")).time_to_floor_ms == 5 * SECOND
    sitting.later(2)
    (heard,) = sitting.run(c.ObserveSpeakerHeard(id=c.new_id(), participant=speaker("ch")), MEDIA_ACTOR)
    assert heard.time_to_floor_ms == 7 * SECOND  # type: ignore[attr-defined]
    assert sitting.state.speech is not None and sitting.state.speech.time_to_floor_ms == 7 * SECOND
    sitting.later(30)
    assert sitting.yield_floor(speaker("ch")).time_to_floor_ms == 7 * SECOND


def test_the_media_hears_only_the_granted_delegations_speakers_or_the_live_one(sitting: Consultation) -> None:
    heard = c.ObserveSpeakerHeard(id=c.new_id(), participant=speaker("ch"))
    assert sitting.reject(heard, MEDIA_ACTOR) == "not_granted"  # nobody has the floor
    sitting.hand(speaker("ch"))
    sitting.hand(speaker("cn"))
    sitting.grant("ch")
    assert sitting.reject(c.ObserveSpeakerHeard(id=c.new_id(), participant=speaker("cn")), MEDIA_ACTOR) == "not_granted"
    assert sitting.reject(c.ObserveSpeakerHeard(id=c.new_id(), participant=member("ch")), MEDIA_ACTOR) == "not_granted"
    assert sitting.reject(c.ObserveSpeakerHeard(id=c.new_id(), participant="nobody"), MEDIA_ACTOR) == "not_granted"
    # A browser cannot claim to have been heard: only the media adapter may.
    assert sitting.reject(heard, speaker("ch")) == "not_allowed"
    assert sitting.reject(heard, "@system") == "not_allowed"


def test_only_a_designated_speaker_may_go_live(sitting: Consultation) -> None:
    sitting.hand(member("ch"))
    sitting.grant()
    assert sitting.reject(c.GoLive(id=c.new_id()), member("ch")) == "not_designated_speaker"
    # Another delegation's speaker was not granted the floor.
    assert sitting.reject(c.GoLive(id=c.new_id()), speaker("cn")) == "not_granted"
    # Wrong role.
    assert sitting.reject(c.GoLive(id=c.new_id()), "chair") == "not_allowed"
    sitting.go_live(speaker("ch"))


def test_go_live_without_a_grant(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    assert sitting.reject(c.GoLive(id=c.new_id()), speaker("ch")) == "not_granted"


def test_grant_the_first_or_a_named_delegation(sitting: Consultation) -> None:
    for delegation in ("ch", "at", "r1"):
        sitting.hand(speaker(delegation))
    assert sitting.grant("at").delegation == "at"
    assert sitting.queue() == ["ch", "r1"]


def test_grant_bad_cases(sitting: Consultation) -> None:
    assert sitting.reject(c.GrantFloor(id=c.new_id()), "chair") == "queue_empty"
    sitting.hand(speaker("ch"))
    assert sitting.reject(c.GrantFloor(id=c.new_id(), delegation="cn"), "chair") == "not_requested"
    assert sitting.reject(c.GrantFloor(id=c.new_id()), speaker("cn")) == "not_allowed"
    assert sitting.reject(c.GrantFloor(id=c.new_id()), "sec") == "not_allowed"
    sitting.grant()
    sitting.hand(speaker("cn"))
    assert sitting.reject(c.GrantFloor(id=c.new_id()), "chair") == "floor_busy"
    sitting.go_live(speaker("ch"))
    assert sitting.reject(c.GrantFloor(id=c.new_id()), "chair") == "floor_busy"


def test_chair_revokes_a_grant_not_taken_up(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.hand(speaker("cn"))
    sitting.grant()
    sitting.later(60)
    (event,) = sitting.run(c.RevokeGrant(id=c.new_id()), "chair")
    assert isinstance(event, e.GrantRevoked) and event.delegation == "ch"
    assert sitting.state.grant is None
    assert sitting.reject(c.GoLive(id=c.new_id()), speaker("ch")) == "not_granted"
    assert sitting.reject(c.RevokeGrant(id=c.new_id()), "chair") == "not_granted"
    assert sitting.grant().delegation == "cn"
    sitting.go_live(speaker("cn"))
    # A grant taken up is a speech: it is ended, not revoked.
    assert sitting.reject(c.RevokeGrant(id=c.new_id()), "chair") == "not_granted"
    assert sitting.reject(c.RevokeGrant(id=c.new_id()), speaker("cn")) == "not_allowed"


def test_chair_ends_the_speech(sitting: Consultation) -> None:
    assert sitting.reject(c.EndSpeech(id=c.new_id()), "chair") == "no_speech"
    sitting.hand(speaker("at"))
    sitting.grant()
    sitting.go_live(speaker("at"))
    sitting.later(30)
    assert sitting.reject(c.EndSpeech(id=c.new_id()), speaker("at")) == "not_allowed"
    (event,) = sitting.run(c.EndSpeech(id=c.new_id()), "chair")
    assert isinstance(event, e.SpeechEnded) and event.reason == "ended_by_chair" and event.duration_ms == 30 * SECOND


def test_only_the_speaking_delegation_yields(sitting: Consultation) -> None:
    assert sitting.reject(c.YieldFloor(id=c.new_id()), speaker("ch")) == "no_speech"
    sitting.hand(speaker("ch"))
    sitting.grant()
    sitting.go_live(speaker("ch"))
    assert sitting.reject(c.YieldFloor(id=c.new_id()), speaker("cn")) == "no_speech"
    assert sitting.reject(c.YieldFloor(id=c.new_id()), "chair") == "not_allowed"


def test_the_item_does_not_change_while_the_floor_is_taken(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.grant()
    assert sitting.reject(c.TakeUpItem(id=c.new_id(), item="4"), "chair") == "floor_busy"
    sitting.go_live(speaker("ch"))
    assert sitting.reject(c.TakeUpItem(id=c.new_id(), item="4"), "chair") == "floor_busy"
    assert sitting.reject(c.TakeUpItem(id=c.new_id(), item="99"), "chair") == "unknown_item"


# --- "you are #N, about M minutes" ----------------------------------------------------


def test_queue_position_and_wait(sitting: Consultation) -> None:
    for delegation in ("at", "ch", "r1"):
        sitting.hand(speaker(delegation))
    now = sitting.now
    # ch (3 min) is ahead of at; at (2 min) and ch ahead of r1.
    assert queue_position(sitting.state, "ch", now) == (1, 0)
    assert queue_position(sitting.state, "at", now) == (2, 3 * MINUTE)
    assert queue_position(sitting.state, "r1", now) == (3, 5 * MINUTE)
    assert queue_position(sitting.state, "cn", now) is None
    sitting.grant()
    # The grant waiting to be taken up counts at its full limit.
    assert queue_position(sitting.state, "at", sitting.now) == (1, 3 * MINUTE)
    sitting.go_live(speaker("ch"))
    sitting.later(60)
    # One minute into a 3-minute speech.
    assert queue_position(sitting.state, "at", sitting.now) == (1, 2 * MINUTE)
    assert queue_position(sitting.state, "r1", sitting.now) == (2, 4 * MINUTE)


# --- the list of speakers -------------------------------------------------------------


def test_close_and_reopen_the_list_points_of_order_still_allowed(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    (event,) = sitting.run(c.CloseSpeakersList(id=c.new_id()), "chair")
    assert isinstance(event, e.SpeakersListClosed) and sitting.state.items["3"].list_closed
    assert sitting.reject(c.RequestFloor(id=c.new_id()), speaker("cn")) == "floor_closed"
    assert sitting.reject(c.CloseSpeakersList(id=c.new_id()), "chair") == "floor_closed"
    sitting.hand(speaker("at"), point_of_order=True)
    assert sitting.queue() == ["at", "ch"]
    # Those on the list keep their place; withdrawing still works.
    sitting.run(c.WithdrawFloorRequest(id=c.new_id()), member("ch"))
    sitting.run(c.ReopenSpeakersList(id=c.new_id()), "chair")
    assert sitting.reject(c.ReopenSpeakersList(id=c.new_id()), "chair") == "invalid_value"
    sitting.hand(speaker("cn"))
    assert sitting.reject(c.CloseSpeakersList(id=c.new_id()), speaker("cn")) == "not_allowed"


def test_the_list_is_closed_per_item(sitting: Consultation) -> None:
    sitting.run(c.CloseSpeakersList(id=c.new_id()), "chair")
    sitting.take_up("4")
    sitting.hand(speaker("cn"))


# --- speaking-time limits -------------------------------------------------------------


@pytest.mark.parametrize(("delegation", "seconds"), [("ch", 180), ("at", 120), ("ps", 120), ("r1", 120)])
def test_default_limits_3_min_council_members_2_min_others(sitting: Consultation, delegation: str, seconds: int) -> None:
    sitting.hand(speaker(delegation))
    sitting.grant()
    assert sitting.go_live(speaker(delegation)).limit_ms == seconds * SECOND


@pytest.mark.rule("clock.speaking_limit_ms")
def test_limit_configurable_per_item_and_per_class(sitting: Consultation) -> None:
    sitting.run(c.SetSpeakingLimit(id=c.new_id(), cls="council_member", seconds=300, item="3"), "chair")
    sitting.run(c.SetSpeakingLimit(id=c.new_id(), cls="sector_member", seconds=60), "sec")
    assert sitting.reject(c.SetSpeakingLimit(id=c.new_id(), cls="sector_member", seconds=60, item="99"), "chair") == "unknown_item"
    assert sitting.reject(c.SetSpeakingLimit(id=c.new_id(), cls="sector_member", seconds=60), speaker("ch")) == "not_allowed"
    sitting.hand(speaker("ch"))
    sitting.grant()
    assert sitting.go_live(speaker("ch")).limit_ms == 300 * SECOND
    sitting.yield_floor(speaker("ch"))
    sitting.hand(speaker("r1"))
    sitting.grant()
    assert sitting.go_live(speaker("r1")).limit_ms == 60 * SECOND
    sitting.yield_floor(speaker("r1"))
    sitting.later(10)
    sitting.take_up("4")
    sitting.hand(speaker("cn"))
    sitting.grant()
    assert sitting.go_live(speaker("cn")).limit_ms == 180 * SECOND  # item 3's limit stays on item 3
    assert sitting.state.items["3"].limits == {"council_member": 300}


def test_passing_the_limit_warns_without_cutting(sitting: Consultation) -> None:
    sitting.hand(speaker("at"))
    sitting.grant()
    started = sitting.go_live(speaker("at")).at
    assert next_deadline(sitting.state) == started + 120 * SECOND
    assert sitting.tick(started + 119 * SECOND) == []
    (warning,) = sitting.tick(started + 120 * SECOND)
    assert isinstance(warning, e.SpeakingTimeExceeded) and warning.delegation == "at" and warning.limit_ms == 120 * SECOND
    assert sitting.state.speech is not None and sitting.state.speech.warned
    # Idempotent: warned once.
    assert sitting.tick() == []
    assert sitting.tick(started + 200 * SECOND) == []
    ended = sitting.yield_floor(speaker("at"))
    assert ended.duration_ms == 200 * SECOND


def test_automatic_cut_only_when_auto_cut() -> None:
    cons = Consultation(auto_cut=True)
    cons.open_sitting()
    cons.take_up("3")
    cons.hand(speaker("ch"))
    cons.grant()
    started = cons.go_live(speaker("ch")).at
    events = cons.tick(started + 185 * SECOND)
    assert cons.kinds(events) == ["SpeakingTimeExceeded", "SpeechEnded"]
    ended = events[1]
    assert isinstance(ended, e.SpeechEnded)
    assert ended.reason == "time_limit" and ended.duration_ms == 180 * SECOND and ended.actor == "@system"
    assert cons.state.speech is None and cons.tick() == []


def test_no_grant_on_an_item_that_already_has_its_outcome(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.run(c.ProposeConclusion(id=c.new_id(), item="3", text="Noted."), "chair")
    sitting.run(c.RecordConsensus(id=c.new_id(), item="3"), "chair")
    assert sitting.reject(c.GrantFloor(id=c.new_id()), "chair") == "item_closed"


@pytest.mark.rule("clock.sitting_is_open", "sitting.slot_end")
def test_a_speech_yielded_after_the_slot_end_but_before_the_tick_ends_at_the_slot_end(sitting: Consultation) -> None:
    sitting.hand(speaker("ch"))
    sitting.run(c.GrantFloor(id=c.new_id()), "chair")
    sitting.run(c.GoLive(id=c.new_id()), speaker("ch"), at=sitting.at("14:59"))
    (ended,) = sitting.run(c.YieldFloor(id=c.new_id()), speaker("ch"), at=sitting.at("15:00:02"))
    assert ended.duration_ms == 60_000
