"""Outcomes: proposed conclusions, consensus, deferral by a council member,
package approval, decision by correspondence with a swappable majority
policy; and a consultation never decides."""

import typing

import pytest
from corekit import COUNCIL, NOT_COUNCIL, Consultation, builtins, member, speaker
from vcc.core.outcomes import MAJORITY_POLICIES, MAY_BLOCK
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.vocabulary import ItemStatus


def propose(cons: Consultation, *items: str) -> None:
    for item in items:
        cons.run(c.ProposeConclusion(item=item, text=f"The consultation takes note of item {item}."), "sec")


# --- proposed conclusion and consensus ------------------------------------------------


def test_proposed_conclusion_by_secretariat_or_chair(cons: Consultation) -> None:
    (event,) = cons.run(c.ProposeConclusion(item="3", text="  Takes note.  "), "sec")
    assert isinstance(event, e.ConclusionProposed) and cons.state.items["3"].conclusion == "Takes note."
    cons.run(c.ProposeConclusion(item="3", text="Takes note, as amended."), "chair")
    assert cons.state.items["3"].conclusion == "Takes note, as amended." and cons.state.items["3"].status == "open"
    assert cons.reject(c.ProposeConclusion(item="3", text=" "), "sec") == "invalid_value"
    assert cons.reject(c.ProposeConclusion(item="99", text="x"), "sec") == "unknown_item"
    assert cons.reject(c.ProposeConclusion(item="3", text="x"), speaker("ch")) == "not_allowed"


def test_consensus_concludes_the_proposed_conclusion(cons: Consultation) -> None:
    assert cons.reject(c.RecordConsensus(item="3"), "chair") == "no_proposed_conclusion"
    propose(cons, "3")
    assert cons.reject(c.RecordConsensus(item="3"), "sec") == "not_allowed"
    assert cons.reject(c.RecordConsensus(item="3"), speaker("ch")) == "not_allowed"
    (event,) = cons.run(c.RecordConsensus(item="3"), "chair")
    assert isinstance(event, e.ConsensusRecorded) and cons.state.items["3"].status == "concluded"
    # The outcome does not change afterwards.
    assert cons.reject(c.RecordConsensus(item="3"), "chair") == "item_closed"
    assert cons.reject(c.ProposeConclusion(item="3", text="x"), "sec") == "item_closed"
    assert cons.reject(c.BlockItem(item="3", kind="objection"), speaker("ch")) == "item_closed"
    assert cons.reject(c.TakeUpItem(item="3"), "chair") == "item_closed"
    assert cons.reject(c.RecordConsensus(item="99"), "chair") == "unknown_item"


# --- objection, postponement, suspension ----------------------------------------------


@pytest.mark.parametrize("kind", ["objection", "postponement", "suspension"])
@pytest.mark.parametrize("delegation", COUNCIL)
def test_a_council_member_defers_the_item_recording_who(cons: Consultation, kind: str, delegation: str) -> None:
    propose(cons, "4")
    # Any member of the delegation, designated speaker or not; with or without voting rights.
    (event,) = cons.run(c.BlockItem(item="4", kind=kind), member(delegation))  # type: ignore[arg-type]
    assert isinstance(event, e.ItemDeferred) and (event.delegation, event.kind, event.actor) == (delegation, kind, member(delegation))
    item = cons.state.items["4"]
    assert (item.status, item.blocked_by, item.block_kind) == ("deferred", delegation, kind)


def test_an_item_is_deferred_even_without_a_proposed_conclusion(cons: Consultation) -> None:
    cons.run(c.BlockItem(item="5", kind="suspension"), speaker("cn"))
    assert cons.state.items["5"].status == "deferred"


@pytest.mark.parametrize("kind", ["objection", "postponement", "suspension"])
@pytest.mark.parametrize("delegation", NOT_COUNCIL)
def test_observers_observer_states_and_sector_members_cannot_block(cons: Consultation, kind: str, delegation: str) -> None:
    assert MAY_BLOCK == {"council_member"}
    propose(cons, "4")
    assert cons.reject(c.BlockItem(item="4", kind=kind), speaker(delegation)) == "only_council_members_may_block"  # type: ignore[arg-type]
    # Nor can the chair record it for them.
    assert cons.reject(c.BlockItem(item="4", kind=kind, delegation=delegation), "chair") == "only_council_members_may_block"  # type: ignore[arg-type]
    assert cons.state.items["4"].status == "open"


def test_the_chair_records_a_block_for_a_named_council_member(cons: Consultation) -> None:
    assert cons.reject(c.BlockItem(item="4", kind="objection"), "chair") == "invalid_value"
    assert cons.reject(c.BlockItem(item="4", kind="objection", delegation="xx"), "chair") == "unknown_delegation"
    (event,) = cons.run(c.BlockItem(item="4", kind="postponement", delegation="us"), "chair")
    assert isinstance(event, e.ItemDeferred) and (event.delegation, event.actor) == ("us", "chair")


def test_a_delegate_blocks_only_for_their_own_delegation(cons: Consultation) -> None:
    assert cons.reject(c.BlockItem(item="4", kind="objection", delegation="cn"), speaker("ch")) == "not_allowed"
    assert cons.reject(c.BlockItem(item="4", kind="objection", delegation="ch"), speaker("at")) == "not_allowed"
    cons.run(c.BlockItem(item="4", kind="objection", delegation="ch"), speaker("ch"))


def test_block_wrong_role_and_unknown_item(cons: Consultation) -> None:
    for actor in ("sec", "tech", "i-en-1", "@admin"):
        assert cons.reject(c.BlockItem(item="4", kind="objection", delegation="ch"), actor) == "not_allowed"
    assert cons.reject(c.BlockItem(item="99", kind="objection"), speaker("ch")) == "unknown_item"


# --- the package ----------------------------------------------------------------------


def test_package_approval_concludes_all_its_items(cons: Consultation) -> None:
    propose(cons, "1", "2", "3")
    (event,) = cons.run(c.ProposePackage(items=["1", "2", "3"]), "chair")
    assert isinstance(event, e.PackageProposed) and cons.state.package == ["1", "2", "3"]
    (approved,) = cons.run(c.ApprovePackage(), "chair")
    assert isinstance(approved, e.PackageApproved) and approved.items == ["1", "2", "3"]
    assert [cons.state.items[n].status for n in ("1", "2", "3")] == ["concluded"] * 3
    assert cons.state.package == []
    assert cons.reject(c.ApprovePackage(), "chair") == "no_package"


def test_a_council_member_pulls_an_item_out_of_the_package(cons: Consultation) -> None:
    propose(cons, "1", "2")
    cons.run(c.ProposePackage(items=["1", "2", "3"]), "chair")
    (pulled,) = cons.run(c.PullFromPackage(item="3"), member("py"))
    assert isinstance(pulled, e.ItemPulledFromPackage) and pulled.delegation == "py"
    # Item 3 has no proposed conclusion, but it is out of the package now.
    cons.run(c.ApprovePackage(), "chair")
    assert [cons.state.items[n].status for n in ("1", "2", "3")] == ["concluded", "concluded", "open"]


def test_pulling_from_the_package_bad_cases(cons: Consultation) -> None:
    cons.run(c.ProposePackage(items=["1", "2"]), "chair")
    for delegation in NOT_COUNCIL:
        assert cons.reject(c.PullFromPackage(item="1"), speaker(delegation)) == "only_council_members_may_block"
    assert cons.reject(c.PullFromPackage(item="1", delegation="ps"), "chair") == "only_council_members_may_block"
    assert cons.reject(c.PullFromPackage(item="1"), "chair") == "invalid_value"
    assert cons.reject(c.PullFromPackage(item="3"), speaker("ch")) == "not_in_package"
    assert cons.reject(c.PullFromPackage(item="1"), "sec") == "not_allowed"
    cons.run(c.PullFromPackage(item="2", delegation="cn"), "chair")
    cons.run(c.PullFromPackage(item="1"), speaker("cn"))
    assert cons.reject(c.ApprovePackage(), "chair") == "no_package"


def test_package_approval_needs_every_proposed_conclusion(cons: Consultation) -> None:
    propose(cons, "1")
    cons.run(c.ProposePackage(items=["1", "2"]), "chair")
    assert cons.reject(c.ApprovePackage(), "chair") == "no_proposed_conclusion"
    propose(cons, "2")
    cons.run(c.ApprovePackage(), "chair")


def test_proposing_a_package_bad_cases(cons: Consultation) -> None:
    assert cons.reject(c.ProposePackage(items=["1", "1"]), "chair") == "invalid_value"
    assert cons.reject(c.ProposePackage(items=["1", "99"]), "chair") == "unknown_item"
    cons.run(c.BlockItem(item="2", kind="objection"), speaker("ch"))
    assert cons.reject(c.ProposePackage(items=["1", "2"]), "chair") == "item_closed"
    assert cons.reject(c.ProposePackage(items=["1"]), "sec") == "not_allowed"
    assert cons.reject(c.ApprovePackage(), "sec") == "not_allowed"


def test_an_item_leaves_the_package_when_it_gets_another_outcome(cons: Consultation) -> None:
    propose(cons, "1", "2")
    cons.run(c.ProposePackage(items=["1", "2"]), "chair")
    cons.run(c.BlockItem(item="2", kind="objection"), speaker("us"))
    assert cons.state.package == ["1"]
    cons.run(c.ApprovePackage(), "chair")
    assert (cons.state.items["1"].status, cons.state.items["2"].status) == ("concluded", "deferred")


# --- decision by correspondence -------------------------------------------------------


def test_correspondence_default_simple_majority_of_voting_council_members(cons: Consultation) -> None:
    assert cons.reject(c.PointToCorrespondence(item="4"), "chair") == "no_proposed_conclusion"
    propose(cons, "4")
    assert cons.reject(c.PointToCorrespondence(item="4"), "sec") == "not_allowed"
    (event,) = cons.run(c.PointToCorrespondence(item="4"), "chair")
    # Four council members, three with the right to vote (Paraguay has none).
    assert isinstance(event, e.PointedToCorrespondence)
    assert (event.policy, event.voters, event.required) == ("simple_majority_of_voting_council_members", 3, 2)
    item = cons.state.items["4"]
    assert item.status == "correspondence" and item.correspondence == {"policy": event.policy, "voters": 3, "required": 2}
    assert cons.reject(c.PointToCorrespondence(item="4"), "chair") == "item_closed"


def test_voting_rights_change_the_majority(cons: Consultation) -> None:
    propose(cons, "4")
    cons.run(c.SetVotingRights(delegation="py", voting_rights=True), "sec")
    (event,) = cons.run(c.PointToCorrespondence(item="4"), "chair")
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
    (event,) = cons.run(c.PointToCorrespondence(item="4"), "chair")
    assert (event.policy, event.voters, event.required) == (policy, voters, required)  # type: ignore[attr-defined]


def test_majority_policies_arithmetic() -> None:
    cons = Consultation()
    for n in range(5):
        cons.run(c.AddDelegation(delegation=f"v{n}", name=f"Voter {n}", cls="council_member", voting_rights=True), "sec")
    # 8 voting of 9 council members.
    assert MAJORITY_POLICIES["simple_majority_of_voting_council_members"](cons.state) == (8, 5)
    assert MAJORITY_POLICIES["simple_majority_of_all_council_members"](cons.state) == (9, 5)
    assert MAJORITY_POLICIES["two_thirds_of_voting_council_members"](cons.state) == (8, 6)


# --- never a decision -----------------------------------------------------------------


def test_a_consultation_never_decides(cons: Consultation) -> None:
    assert set(typing.get_args(ItemStatus)) == {"open", "concluded", "deferred", "correspondence"}
    assert not [name for name in e.EVENTS_BY_NAME if "decid" in name or "decision" in name]
    propose(cons, "1", "2", "3", "4")
    cons.run(c.ProposePackage(items=["1", "2"]), "chair")
    cons.run(c.ApprovePackage(), "chair")
    cons.run(c.RecordConsensus(item="3"), "chair")
    cons.run(c.PointToCorrespondence(item="4"), "chair")
    cons.run(c.BlockItem(item="5", kind="postponement"), speaker("ch"))
    statuses = {n: item.status for n, item in cons.state.items.items()}
    assert statuses == {"1": "concluded", "2": "concluded", "3": "concluded", "4": "correspondence", "5": "deferred"}
    # What the report compiles are proposed conclusions, nothing more.
    assert cons.state.items["4"].conclusion == "The consultation takes note of item 4."
    assert cons.refolded() == builtins(cons.state)
