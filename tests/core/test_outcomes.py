"""Outcomes: proposed conclusions, consensus, deferral by a council member,
package approval, decision by correspondence with a swappable majority
policy; and a consultation never decides."""

import typing

import pytest
from corekit import COUNCIL, NOT_COUNCIL, Consultation, builtins, member, ms, speaker
from vcc.core import next_deadline
from vcc.core.outcomes import MAJORITY_POLICIES, MAY_BLOCK
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import Correspondence
from vcc_protocol.vocabulary import ItemStatus


def propose(cons: Consultation, *items: str) -> None:
    for item in items:
        cons.run(c.ProposeConclusion(id=c.new_id(), item=item, text=f"The consultation takes note of item {item}."), "sec")


# --- proposed conclusion and consensus ------------------------------------------------


def test_proposed_conclusion_by_secretariat_or_chair(cons: Consultation) -> None:
    (event,) = cons.run(c.ProposeConclusion(id=c.new_id(), item="3", text="  Takes note.  "), "sec")
    assert isinstance(event, e.ConclusionProposed) and cons.state.items["3"].conclusion == "Takes note."
    cons.run(c.ProposeConclusion(id=c.new_id(), item="3", text="Takes note, as amended."), "chair")
    assert cons.state.items["3"].conclusion == "Takes note, as amended." and cons.state.items["3"].status == "open"
    assert cons.reject(c.ProposeConclusion(id=c.new_id(), item="3", text=" "), "sec") == "invalid_value"
    assert cons.reject(c.ProposeConclusion(id=c.new_id(), item="99", text="x"), "sec") == "unknown_item"
    assert cons.reject(c.ProposeConclusion(id=c.new_id(), item="3", text="x"), speaker("ch")) == "not_allowed"


def test_consensus_concludes_the_proposed_conclusion(cons: Consultation) -> None:
    assert cons.reject(c.RecordConsensus(id=c.new_id(), item="3"), "chair") == "no_proposed_conclusion"
    propose(cons, "3")
    assert cons.reject(c.RecordConsensus(id=c.new_id(), item="3"), "sec") == "not_allowed"
    assert cons.reject(c.RecordConsensus(id=c.new_id(), item="3"), speaker("ch")) == "not_allowed"
    (event,) = cons.run(c.RecordConsensus(id=c.new_id(), item="3"), "chair")
    assert isinstance(event, e.ConsensusRecorded) and cons.state.items["3"].status == "concluded"
    # The outcome does not change afterwards.
    assert cons.reject(c.RecordConsensus(id=c.new_id(), item="3"), "chair") == "item_closed"
    assert cons.reject(c.ProposeConclusion(id=c.new_id(), item="3", text="x"), "sec") == "item_closed"
    assert cons.reject(c.BlockItem(id=c.new_id(), item="3", kind="objection"), speaker("ch")) == "item_closed"
    assert cons.reject(c.TakeUpItem(id=c.new_id(), item="3"), "chair") == "item_closed"
    assert cons.reject(c.RecordConsensus(id=c.new_id(), item="99"), "chair") == "unknown_item"


# --- objection, postponement, suspension ----------------------------------------------


@pytest.mark.rule("outcomes.MAY_BLOCK")
@pytest.mark.parametrize("kind", ["objection", "postponement", "suspension"])
@pytest.mark.parametrize("delegation", COUNCIL)
def test_a_council_member_defers_the_item_recording_who(cons: Consultation, kind: str, delegation: str) -> None:
    propose(cons, "4")
    # Any member of the delegation, designated speaker or not; with or without voting rights.
    (event,) = cons.run(c.BlockItem(id=c.new_id(), item="4", kind=kind), member(delegation))  # type: ignore[arg-type]
    assert isinstance(event, e.ItemDeferred) and (event.delegation, event.kind, event.actor) == (delegation, kind, member(delegation))
    item = cons.state.items["4"]
    assert (item.status, item.blocked_by, item.block_kind) == ("deferred", delegation, kind)


def test_an_item_is_deferred_even_without_a_proposed_conclusion(cons: Consultation) -> None:
    cons.run(c.BlockItem(id=c.new_id(), item="5", kind="suspension"), speaker("cn"))
    assert cons.state.items["5"].status == "deferred"


@pytest.mark.rule("outcomes.MAY_BLOCK")
@pytest.mark.parametrize("kind", ["objection", "postponement", "suspension"])
@pytest.mark.parametrize("delegation", NOT_COUNCIL)
def test_observers_observer_states_and_sector_members_cannot_block(cons: Consultation, kind: str, delegation: str) -> None:
    assert MAY_BLOCK == {"council_member"}
    propose(cons, "4")
    assert cons.reject(c.BlockItem(id=c.new_id(), item="4", kind=kind), speaker(delegation)) == "only_council_members_may_block"  # type: ignore[arg-type]
    # Nor can the chair record it for them.
    assert cons.reject(c.BlockItem(id=c.new_id(), item="4", kind=kind, delegation=delegation), "chair") == "only_council_members_may_block"  # type: ignore[arg-type]
    assert cons.state.items["4"].status == "open"


def test_the_chair_records_a_block_for_a_named_council_member(cons: Consultation) -> None:
    assert cons.reject(c.BlockItem(id=c.new_id(), item="4", kind="objection"), "chair") == "invalid_value"
    assert cons.reject(c.BlockItem(id=c.new_id(), item="4", kind="objection", delegation="xx"), "chair") == "unknown_delegation"
    (event,) = cons.run(c.BlockItem(id=c.new_id(), item="4", kind="postponement", delegation="us"), "chair")
    assert isinstance(event, e.ItemDeferred) and (event.delegation, event.actor) == ("us", "chair")


def test_a_delegate_blocks_only_for_their_own_delegation(cons: Consultation) -> None:
    assert cons.reject(c.BlockItem(id=c.new_id(), item="4", kind="objection", delegation="cn"), speaker("ch")) == "not_allowed"
    assert cons.reject(c.BlockItem(id=c.new_id(), item="4", kind="objection", delegation="ch"), speaker("at")) == "not_allowed"
    cons.run(c.BlockItem(id=c.new_id(), item="4", kind="objection", delegation="ch"), speaker("ch"))


def test_block_wrong_role_and_unknown_item(cons: Consultation) -> None:
    for actor in ("sec", "tech", "i-en-1", "@admin"):
        assert cons.reject(c.BlockItem(id=c.new_id(), item="4", kind="objection", delegation="ch"), actor) == "not_allowed"
    assert cons.reject(c.BlockItem(id=c.new_id(), item="99", kind="objection"), speaker("ch")) == "unknown_item"


# --- the package ----------------------------------------------------------------------


def test_package_approval_concludes_all_its_items(cons: Consultation) -> None:
    propose(cons, "1", "2", "3")
    (event,) = cons.run(c.ProposePackage(id=c.new_id(), items=["1", "2", "3"]), "chair")
    assert isinstance(event, e.PackageProposed) and cons.state.package == ["1", "2", "3"]
    (approved,) = cons.run(c.ApprovePackage(id=c.new_id()), "chair")
    assert isinstance(approved, e.PackageApproved) and approved.items == ["1", "2", "3"]
    assert [cons.state.items[n].status for n in ("1", "2", "3")] == ["concluded"] * 3
    assert cons.state.package == []
    assert cons.reject(c.ApprovePackage(id=c.new_id()), "chair") == "no_package"


def test_a_council_member_pulls_an_item_out_of_the_package(cons: Consultation) -> None:
    propose(cons, "1", "2")
    cons.run(c.ProposePackage(id=c.new_id(), items=["1", "2", "3"]), "chair")
    (pulled,) = cons.run(c.PullFromPackage(id=c.new_id(), item="3"), member("py"))
    assert isinstance(pulled, e.ItemPulledFromPackage) and pulled.delegation == "py"
    # Item 3 has no proposed conclusion, but it is out of the package now.
    cons.run(c.ApprovePackage(id=c.new_id()), "chair")
    assert [cons.state.items[n].status for n in ("1", "2", "3")] == ["concluded", "concluded", "open"]


def test_pulling_from_the_package_bad_cases(cons: Consultation) -> None:
    cons.run(c.ProposePackage(id=c.new_id(), items=["1", "2"]), "chair")
    for delegation in NOT_COUNCIL:
        assert cons.reject(c.PullFromPackage(id=c.new_id(), item="1"), speaker(delegation)) == "only_council_members_may_block"
    assert cons.reject(c.PullFromPackage(id=c.new_id(), item="1", delegation="ps"), "chair") == "only_council_members_may_block"
    assert cons.reject(c.PullFromPackage(id=c.new_id(), item="1"), "chair") == "invalid_value"
    assert cons.reject(c.PullFromPackage(id=c.new_id(), item="3"), speaker("ch")) == "not_in_package"
    assert cons.reject(c.PullFromPackage(id=c.new_id(), item="1"), "sec") == "not_allowed"
    cons.run(c.PullFromPackage(id=c.new_id(), item="2", delegation="cn"), "chair")
    cons.run(c.PullFromPackage(id=c.new_id(), item="1"), speaker("cn"))
    assert cons.reject(c.ApprovePackage(id=c.new_id()), "chair") == "no_package"


def test_package_approval_needs_every_proposed_conclusion(cons: Consultation) -> None:
    propose(cons, "1")
    cons.run(c.ProposePackage(id=c.new_id(), items=["1", "2"]), "chair")
    assert cons.reject(c.ApprovePackage(id=c.new_id()), "chair") == "no_proposed_conclusion"
    propose(cons, "2")
    cons.run(c.ApprovePackage(id=c.new_id()), "chair")


def test_proposing_a_package_bad_cases(cons: Consultation) -> None:
    assert cons.reject(c.ProposePackage(id=c.new_id(), items=["1", "1"]), "chair") == "invalid_value"
    assert cons.reject(c.ProposePackage(id=c.new_id(), items=["1", "99"]), "chair") == "unknown_item"
    cons.run(c.BlockItem(id=c.new_id(), item="2", kind="objection"), speaker("ch"))
    assert cons.reject(c.ProposePackage(id=c.new_id(), items=["1", "2"]), "chair") == "item_closed"
    assert cons.reject(c.ProposePackage(id=c.new_id(), items=["1"]), "sec") == "not_allowed"
    assert cons.reject(c.ApprovePackage(id=c.new_id()), "sec") == "not_allowed"


def test_an_item_leaves_the_package_when_it_gets_another_outcome(cons: Consultation) -> None:
    propose(cons, "1", "2")
    cons.run(c.ProposePackage(id=c.new_id(), items=["1", "2"]), "chair")
    cons.run(c.BlockItem(id=c.new_id(), item="2", kind="objection"), speaker("us"))
    assert cons.state.package == ["1"]
    cons.run(c.ApprovePackage(id=c.new_id()), "chair")
    assert (cons.state.items["1"].status, cons.state.items["2"].status) == ("concluded", "deferred")


# --- decision by correspondence -------------------------------------------------------


def test_correspondence_default_simple_majority_of_voting_council_members(cons: Consultation) -> None:
    assert cons.reject(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair") == "no_proposed_conclusion"
    propose(cons, "4")
    assert cons.reject(c.PointToCorrespondence(id=c.new_id(), item="4"), "sec") == "not_allowed"
    (event,) = cons.run(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair")
    # Four council members, three with the right to vote (Paraguay has none).
    assert isinstance(event, e.PointedToCorrespondence)
    assert (event.policy, event.voters, event.required) == ("simple_majority_of_voting_council_members", 3, 2)
    item = cons.state.items["4"]
    assert item.status == "correspondence" and item.correspondence == Correspondence(policy=event.policy, voters=3, required=2)
    assert cons.reject(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair") == "item_closed"


def test_voting_rights_change_the_majority(cons: Consultation) -> None:
    propose(cons, "4")
    cons.run(c.SetVotingRights(id=c.new_id(), delegation="py", voting_rights=True), "sec")
    (event,) = cons.run(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair")
    assert (event.voters, event.required) == (4, 3)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("policy", "voters", "required"),
    [
        ("simple_majority_of_voting_council_members", 3, 2),
        ("simple_majority_of_all_council_members", 4, 3),
        ("two_thirds_of_voting_council_members", 3, 2),
    ],
)
def test_swapping_the_majority_policy_changes_the_result(policy: str, voters: int, required: int) -> None:
    cons = Consultation(majority_policy=policy)
    propose(cons, "4")
    (event,) = cons.run(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair")
    assert (event.policy, event.voters, event.required) == (policy, voters, required)  # type: ignore[attr-defined]


def test_majority_policies_arithmetic() -> None:
    cons = Consultation()
    for n in range(5):
        cons.run(c.AddDelegation(id=c.new_id(), delegation=f"v{n}", name=f"Voter {n}", cls="council_member", voting_rights=True), "sec")
    # 8 voting of 9 council members.
    assert MAJORITY_POLICIES["simple_majority_of_voting_council_members"](cons.state) == (8, 5)
    assert MAJORITY_POLICIES["simple_majority_of_all_council_members"](cons.state) == (9, 5)
    assert MAJORITY_POLICIES["two_thirds_of_voting_council_members"](cons.state) == (8, 6)


# --- the ballot of decision by correspondence ------------------------------------------

DEADLINE = "2021-06-10T17:00"


def pointed(cons: Consultation, item: str = "4") -> None:
    propose(cons, item)
    cons.run(c.PointToCorrespondence(id=c.new_id(), item=item), "chair")


def balloting(cons: Consultation, item: str = "4") -> e.BallotOpened:
    pointed(cons, item)
    (event,) = cons.run(c.OpenBallot(id=c.new_id(), item=item, deadline=DEADLINE), "sec")
    assert isinstance(event, e.BallotOpened)
    return event


def test_the_secretariat_opens_a_ballot_on_an_item_pointed_to_correspondence(cons: Consultation) -> None:
    propose(cons, "4")
    assert cons.reject(c.OpenBallot(id=c.new_id(), item="4", deadline=DEADLINE), "sec") == "not_in_correspondence"
    assert cons.reject(c.OpenBallot(id=c.new_id(), item="99", deadline=DEADLINE), "sec") == "unknown_item"
    cons.run(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair")
    assert cons.reject(c.OpenBallot(id=c.new_id(), item="4", deadline="2021-06-01T17:00"), "sec") == "invalid_value"
    assert cons.reject(c.OpenBallot(id=c.new_id(), item="4", deadline=DEADLINE), "chair") == "not_allowed"
    (event,) = cons.run(c.OpenBallot(id=c.new_id(), item="4", deadline=DEADLINE), "sec")
    # Who may vote: the council members with the right to vote (Paraguay has none).
    assert isinstance(event, e.BallotOpened)
    assert (event.electorate, event.required, event.policy) == (["ch", "cn", "us"], 2, "simple_majority_of_voting_council_members")
    assert event.deadline == ms("2021-06-10", "17:00") and event.deadline_local == "2021-06-10 17:00 Europe/Zurich"
    assert next_deadline(cons.state) == event.deadline
    assert cons.reject(c.OpenBallot(id=c.new_id(), item="4", deadline=DEADLINE), "sec") == "already_exists"


@pytest.mark.rule("outcomes.open_ballot")
def test_only_voting_council_members_answer_one_answer_per_delegation(cons: Consultation) -> None:
    balloting(cons)
    assert cons.reject(c.CastVote(id=c.new_id(), item="3", answer="yes"), speaker("ch")) == "no_ballot"
    for delegation in ("py", *NOT_COUNCIL):  # no right to vote, or not a council member
        assert cons.reject(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker(delegation)) == "not_allowed"
    assert cons.reject(c.CastVote(id=c.new_id(), item="4", answer="yes"), "chair") == "not_allowed"
    (vote,) = cons.run(c.CastVote(id=c.new_id(), item="4", answer="yes"), member("ch"))
    assert isinstance(vote, e.VoteCast) and (vote.delegation, vote.participant, vote.reference) == ("ch", member("ch"), None)
    # Any member answers for the delegation: one answer, which the same answer does not repeat ...
    assert cons.reject(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker("ch")) == "invalid_value"
    # ... and which may change until the deadline: the latest counts.
    cons.run(c.CastVote(id=c.new_id(), item="4", answer="no"), speaker("ch"))
    votes = cons.state.ballots["4"].votes
    assert list(votes) == ["ch"] and votes["ch"].answer == "no" and votes["ch"].participant == speaker("ch")


def test_the_secretariat_records_a_reply_received_by_letter(cons: Consultation) -> None:
    balloting(cons)
    assert (
        cons.reject(c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="cn", answer="yes", reference="  "), "sec") == "invalid_value"
    )
    assert (
        cons.reject(c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="at", answer="yes", reference="Note 12"), "sec")
        == "not_allowed"
    )
    assert (
        cons.reject(c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="xx", answer="yes", reference="Note 12"), "sec")
        == "unknown_delegation"
    )
    assert (
        cons.reject(c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="cn", answer="yes", reference="Note 12"), speaker("cn"))
        == "not_allowed"
    )
    (vote,) = cons.run(
        c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="cn", answer="abstain", reference=" Note verbale 2021/117 "), "sec"
    )
    assert isinstance(vote, e.VoteCast) and (vote.participant, vote.reference) == (None, "Note verbale 2021/117")
    # A later letter, or the delegation on screen, replaces it before the deadline.
    cons.run(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker("cn"))
    assert cons.state.ballots["4"].votes["cn"].answer == "yes" and cons.state.ballots["4"].votes["cn"].reference is None


@pytest.mark.parametrize(
    ("policy", "answers", "result", "required"),
    [
        ("simple_majority_of_voting_council_members", {"ch": "yes", "cn": "yes"}, "approved", 2),
        # A majority of the members, not of the votes cast: one yes and silence is not enough.
        ("simple_majority_of_voting_council_members", {"ch": "yes", "cn": "abstain"}, "not_approved", 2),
        ("simple_majority_of_voting_council_members", {"ch": "yes"}, "not_approved", 2),
        # All four council members count, Paraguay's missing right to vote included: 3 yes needed of 3 voters.
        ("simple_majority_of_all_council_members", {"ch": "yes", "cn": "yes"}, "not_approved", 3),
        ("simple_majority_of_all_council_members", {"ch": "yes", "cn": "yes", "us": "yes"}, "approved", 3),
        ("two_thirds_of_voting_council_members", {"ch": "yes", "cn": "yes", "us": "no"}, "approved", 2),
    ],
)
def test_the_tally_applies_the_consultation_policy(policy: str, answers: dict[str, str], result: str, required: int) -> None:
    cons = Consultation(majority_policy=policy)
    opened = balloting(cons)
    assert opened.required == required
    for delegation, answer in answers.items():
        cons.run(c.CastVote(id=c.new_id(), item="4", answer=answer), speaker(delegation))  # type: ignore[arg-type]
    (closed,) = cons.advance(opened.deadline)
    assert isinstance(closed, e.BallotClosed) and closed.result == result and closed.required == required
    assert (closed.yes, closed.no, closed.abstain) == tuple(list(answers.values()).count(a) for a in ("yes", "no", "abstain"))
    assert closed.not_replied == [d for d in opened.electorate if d not in answers]


def test_the_deadline_closes_the_ballot_by_itself(cons: Consultation) -> None:
    opened = balloting(cons)
    cons.run(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker("ch"))
    cons.run(c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="us", answer="yes", reference="Letter of 9 June"), "sec")
    # A minute before: nothing to do yet, answers still change.
    assert cons.tick(opened.deadline - 60_000) == []
    cons.run(c.CastVote(id=c.new_id(), item="4", answer="no"), speaker("cn"))
    # At the deadline the shell's tick closes it, once.
    assert next_deadline(cons.state) == opened.deadline
    (closed,) = cons.tick(opened.deadline)
    assert isinstance(closed, e.BallotClosed) and closed.actor == "@system"
    assert (closed.yes, closed.no, closed.abstain, closed.not_replied, closed.result) == (2, 1, 0, [], "approved")
    assert cons.tick(opened.deadline + 1) == [] and next_deadline(cons.state) is None
    ballot = cons.state.ballots["4"]
    assert (ballot.closed_at, ballot.result, ballot.tally) == (opened.deadline, "approved", {"yes": 2, "no": 1, "abstain": 0})
    # After the deadline nobody answers or changes an answer, on screen or by letter.
    assert cons.reject(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker("cn")) == "deadline_passed"
    assert (
        cons.reject(c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="cn", answer="yes", reference="Late letter"), "sec")
        == "deadline_passed"
    )
    assert cons.refolded() == builtins(cons.state)


def test_answers_refused_at_the_deadline_even_before_the_tick(cons: Consultation) -> None:
    opened = balloting(cons)
    assert cons.reject(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker("ch"), at=opened.deadline) == "deadline_passed"


@pytest.mark.rule("outcomes.open_ballot")
def test_the_electorate_is_fixed_when_the_ballot_opens(cons: Consultation) -> None:
    opened = balloting(cons)
    cons.run(c.SetVotingRights(id=c.new_id(), delegation="py", voting_rights=True), "sec")
    cons.run(c.SetVotingRights(id=c.new_id(), delegation="us", voting_rights=False), "sec")
    assert cons.reject(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker("py")) == "not_allowed"
    cons.run(c.CastVote(id=c.new_id(), item="4", answer="yes"), speaker("us"))
    assert cons.state.ballots["4"].electorate == opened.electorate == ["ch", "cn", "us"]


# --- never a decision -----------------------------------------------------------------


def test_a_consultation_never_decides(cons: Consultation) -> None:
    assert set(typing.get_args(ItemStatus)) == {"open", "concluded", "deferred", "correspondence"}
    assert not [name for name in e.EVENTS_BY_NAME if "decid" in name or "decision" in name]
    propose(cons, "1", "2", "3", "4")
    cons.run(c.ProposePackage(id=c.new_id(), items=["1", "2"]), "chair")
    cons.run(c.ApprovePackage(id=c.new_id()), "chair")
    cons.run(c.RecordConsensus(id=c.new_id(), item="3"), "chair")
    cons.run(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair")
    cons.run(c.BlockItem(id=c.new_id(), item="5", kind="postponement"), speaker("ch"))
    statuses = {n: item.status for n, item in cons.state.items.items()}
    assert statuses == {"1": "concluded", "2": "concluded", "3": "concluded", "4": "correspondence", "5": "deferred"}
    # What the report compiles are proposed conclusions, nothing more.
    assert cons.state.items["4"].conclusion == "The consultation takes note of item 4."
    assert cons.refolded() == builtins(cons.state)
