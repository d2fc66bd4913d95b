"""Outcomes per item: proposed conclusions, consensus, deferral, packages and
decision by correspondence.

Rules here: a consultation never decides, it only proposes conclusions; only
a council member can block an item (objection, postponement, suspension),
which defers it to the in-person session; a package is concluded together
unless a council member pulls an item out; the majority for decision by
correspondence is a swappable policy, and its ballot: the council members with
the right to vote when it opens answer yes, no or abstain, on screen or by
letter, one answer per delegation that may change until the deadline, when
the ballot closes by itself and the policy decides.
"""

from collections.abc import Callable

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import Ballot, ConsultationState, Correspondence, Delegation, Item, Vote

from .actors import Actor, own_delegation
from .clock import local_ms
from .lookup import known_delegation, known_item
from .rejections import Rejected

#: Rule: who may block an item.
MAY_BLOCK = frozenset({"council_member"})


def voting_council_members(state: ConsultationState) -> int:
    return sum(1 for d in state.delegations.values() if d.cls == "council_member" and d.voting_rights)


def all_council_members(state: ConsultationState) -> int:
    return sum(1 for d in state.delegations.values() if d.cls == "council_member")


#: Majority rules for decision by correspondence (Rule 3.2): name -> (voters, votes required).
#: The 2021 agenda carries a proposed amendment to how the majority is counted,
#: so the rule is a setting of the consultation, not code.
MAJORITY_POLICIES: dict[str, Callable[[ConsultationState], tuple[int, int]]] = {
    "simple_majority_of_voting_council_members": lambda s: (n := voting_council_members(s), n // 2 + 1),
    "simple_majority_of_all_council_members": lambda s: (n := all_council_members(s), n // 2 + 1),
    "two_thirds_of_voting_council_members": lambda s: (n := voting_council_members(s), -(-2 * n // 3)),
}


def open_item(state: ConsultationState, number: str) -> Item:
    item = known_item(state, number)
    if item.status != "open":
        raise Rejected("item_closed", f"Item {number} is already {item.status}; its outcome cannot change in this consultation.")
    return item


def blocking_delegation(state: ConsultationState, actor: Actor, named: str | None, doing: str) -> Delegation:
    """The council member that blocks: a delegate's own delegation, or the one the chair names."""
    if actor.role == "chair":
        if named is None:
            raise Rejected("invalid_value", f"Name the council member that wishes to {doing}.")
        delegation = known_delegation(state, named)
    else:
        if actor.delegation is None or (named is not None and named != actor.delegation.id):
            raise Rejected("not_allowed", "A delegate speaks only for their own delegation.")
        delegation = actor.delegation
    if delegation.cls not in MAY_BLOCK:
        raise Rejected(
            "only_council_members_may_block",
            f"{delegation.name} is not a council member: only council members may {doing}. It may still speak on the item.",
        )
    return delegation


def propose_conclusion(state: ConsultationState, cmd: c.ProposeConclusion, actor: Actor, now: int) -> list[e.Event]:
    open_item(state, cmd.item)
    if not cmd.text.strip():
        raise Rejected("invalid_value", "Write the text of the proposed conclusion.")
    return [e.ConclusionProposed(at=now, actor=actor.id, item=cmd.item, text=cmd.text.strip())]


def require_conclusion(item: Item) -> None:
    if item.conclusion is None:
        raise Rejected(
            "no_proposed_conclusion", f"Item {item.ref} has no proposed conclusion yet; the secretariat or the chair proposes one first."
        )


def record_consensus(state: ConsultationState, cmd: c.RecordConsensus, actor: Actor, now: int) -> list[e.Event]:
    item = open_item(state, cmd.item)
    require_conclusion(item)
    return [e.ConsensusRecorded(at=now, actor=actor.id, item=cmd.item)]


def block_item(state: ConsultationState, cmd: c.BlockItem, actor: Actor, now: int) -> list[e.Event]:
    open_item(state, cmd.item)
    doing = {"objection": "object", "postponement": "ask to postpone", "suspension": "propose to suspend the discussion"}[cmd.kind]
    delegation = blocking_delegation(state, actor, cmd.delegation, doing)
    return [e.ItemDeferred(at=now, actor=actor.id, item=cmd.item, kind=cmd.kind, delegation=delegation.id)]


def propose_package(state: ConsultationState, cmd: c.ProposePackage, actor: Actor, now: int) -> list[e.Event]:
    if len(set(cmd.items)) != len(cmd.items):
        raise Rejected("invalid_value", "List each item of the package once.")
    for number in cmd.items:
        open_item(state, number)
    return [e.PackageProposed(at=now, actor=actor.id, items=list(cmd.items))]


def pull_from_package(state: ConsultationState, cmd: c.PullFromPackage, actor: Actor, now: int) -> list[e.Event]:
    if cmd.item not in state.package:
        raise Rejected("not_in_package", f"Item {cmd.item} is not in the proposed package.")
    delegation = blocking_delegation(state, actor, cmd.delegation, "pull an item out of the package")
    return [e.ItemPulledFromPackage(at=now, actor=actor.id, item=cmd.item, delegation=delegation.id)]


def approve_package(state: ConsultationState, cmd: c.ApprovePackage, actor: Actor, now: int) -> list[e.Event]:
    if not state.package:
        raise Rejected("no_package", "No package has been proposed, or every item was pulled out.")
    for number in state.package:
        require_conclusion(state.items[number])
    return [e.PackageApproved(at=now, actor=actor.id, items=list(state.package))]


def point_to_correspondence(state: ConsultationState, cmd: c.PointToCorrespondence, actor: Actor, now: int) -> list[e.Event]:
    item = open_item(state, cmd.item)
    require_conclusion(item)
    policy = state.settings.majority_policy
    voters, required = MAJORITY_POLICIES[policy](state)
    return [e.PointedToCorrespondence(at=now, actor=actor.id, item=cmd.item, policy=policy, voters=voters, required=required)]


def open_ballot(state: ConsultationState, cmd: c.OpenBallot, actor: Actor, now: int) -> list[e.Event]:
    item = known_item(state, cmd.item)
    if item.status != "correspondence":
        raise Rejected(
            "not_in_correspondence", f"Item {item.ref} has not been pointed to decision by correspondence; the chair points it there first."
        )
    if cmd.item in state.ballots:
        raise Rejected("already_exists", f"The ballot on item {item.ref} has already been opened.")
    deadline = local_ms(cmd.deadline, state.tz)
    if deadline <= now:
        raise Rejected("invalid_value", f"The deadline {cmd.deadline} ({state.tz}) is already past; choose a later one.")
    # Rule: those with the right to vote when the ballot opens answer; the policy counts the majority.
    electorate = [d.id for d in state.delegations.values() if d.cls == "council_member" and d.voting_rights]
    if not electorate:
        raise Rejected("invalid_value", "No council member has the right to vote; record voting rights before opening a ballot.")
    policy = state.settings.majority_policy
    _, required = MAJORITY_POLICIES[policy](state)
    return [
        e.BallotOpened(
            at=now,
            actor=actor.id,
            item=cmd.item,
            deadline=deadline,
            deadline_local=f"{cmd.deadline.replace('T', ' ')} {state.tz}",
            policy=policy,
            electorate=electorate,
            required=required,
        )
    ]


def open_ballot_of(state: ConsultationState, ref: str, now: int) -> Ballot:
    ballot = state.ballots.get(ref)
    if ballot is None:
        raise Rejected("no_ballot", f"No ballot has been opened on item {ref}; the secretariat opens it.")
    if ballot.closed_at is not None or now >= ballot.deadline:
        raise Rejected(
            "deadline_passed", f"The ballot on item {ref} closed at {ballot.deadline_local}; answers can no longer be given or changed."
        )
    return ballot


def voter(ballot: Ballot, delegation: Delegation) -> str:
    if delegation.id not in ballot.electorate:
        raise Rejected(
            "not_allowed",
            f"{delegation.name} was not a council member with the right to vote when the ballot opened, so it does not answer; it may follow the result.",
        )
    return delegation.id


def cast_vote(state: ConsultationState, cmd: c.CastVote, actor: Actor, now: int) -> list[e.Event]:
    ballot = open_ballot_of(state, cmd.item, now)
    own = own_delegation(actor)
    delegation = voter(ballot, own)
    given = ballot.votes.get(delegation)
    if given is not None and given.answer == cmd.answer:
        raise Rejected("invalid_value", f"{own.name} has already answered {cmd.answer}; choose another answer to change it.")
    return [e.VoteCast(at=now, actor=actor.id, item=cmd.item, delegation=delegation, answer=cmd.answer, participant=actor.id)]


def record_vote_by_letter(state: ConsultationState, cmd: c.RecordVoteByLetter, actor: Actor, now: int) -> list[e.Event]:
    ballot = open_ballot_of(state, cmd.item, now)
    delegation = voter(ballot, known_delegation(state, cmd.delegation))
    if not cmd.reference.strip():
        raise Rejected("invalid_value", "Give the letter's reference (for instance its number and date); it goes into the report.")
    return [e.VoteCast(at=now, actor=actor.id, item=cmd.item, delegation=delegation, answer=cmd.answer, reference=cmd.reference.strip())]


def close_due_ballots(state: ConsultationState, actor: str, now: int) -> list[e.Event]:
    """The ballots whose deadline has passed, closed and counted under their policy:
    approved when the yes votes reach the number the policy required."""
    events: list[e.Event] = []
    for ballot in state.ballots.values():
        if ballot.closed_at is None and now >= ballot.deadline:
            answers = [v.answer for v in ballot.votes.values()]
            yes = answers.count("yes")
            events.append(
                e.BallotClosed(
                    at=now,
                    actor=actor,
                    item=ballot.item,
                    yes=yes,
                    no=answers.count("no"),
                    abstain=answers.count("abstain"),
                    not_replied=[d for d in ballot.electorate if d not in ballot.votes],
                    required=ballot.required,
                    result="approved" if yes >= ballot.required else "not_approved",
                )
            )
    return events


def ballot_deadlines(state: ConsultationState) -> list[int]:
    return [b.deadline for b in state.ballots.values() if b.closed_at is None]


# --- appliers --------------------------------------------------------------------------


def _leave_package(state: ConsultationState, number: str) -> None:
    if number in state.package:
        state.package.remove(number)


def _conclusion_proposed(state: ConsultationState, ev: e.ConclusionProposed) -> None:
    state.items[ev.item].conclusion = ev.text


def _consensus(state: ConsultationState, ev: e.ConsensusRecorded) -> None:
    item = state.items[ev.item]
    item.status, item.concluded_by = "concluded", "consensus"
    _leave_package(state, ev.item)


def _deferred(state: ConsultationState, ev: e.ItemDeferred) -> None:
    item = state.items[ev.item]
    item.status, item.blocked_by, item.block_kind = "deferred", ev.delegation, ev.kind
    _leave_package(state, ev.item)


def _package_proposed(state: ConsultationState, ev: e.PackageProposed) -> None:
    state.package = list(ev.items)


def _pulled(state: ConsultationState, ev: e.ItemPulledFromPackage) -> None:
    _leave_package(state, ev.item)


def _package_approved(state: ConsultationState, ev: e.PackageApproved) -> None:
    for number in ev.items:
        item = state.items[number]
        item.status, item.concluded_by = "concluded", "package"
    state.package = []


def _correspondence(state: ConsultationState, ev: e.PointedToCorrespondence) -> None:
    item = state.items[ev.item]
    item.status = "correspondence"
    item.correspondence = Correspondence(policy=ev.policy, voters=ev.voters, required=ev.required)
    _leave_package(state, ev.item)


def _ballot_opened(state: ConsultationState, ev: e.BallotOpened) -> None:
    state.ballots[ev.item] = Ballot(
        item=ev.item,
        opened_at=ev.at,
        deadline=ev.deadline,
        deadline_local=ev.deadline_local,
        policy=ev.policy,
        electorate=list(ev.electorate),
        required=ev.required,
    )


def _vote_cast(state: ConsultationState, ev: e.VoteCast) -> None:
    state.ballots[ev.item].votes[ev.delegation] = Vote(answer=ev.answer, at=ev.at, participant=ev.participant, reference=ev.reference)


def _ballot_closed(state: ConsultationState, ev: e.BallotClosed) -> None:
    ballot = state.ballots[ev.item]
    ballot.closed_at, ballot.result = ev.at, ev.result
    ballot.tally = {"yes": ev.yes, "no": ev.no, "abstain": ev.abstain}


DECIDERS = {
    c.ProposeConclusion: propose_conclusion,
    c.RecordConsensus: record_consensus,
    c.BlockItem: block_item,
    c.ProposePackage: propose_package,
    c.PullFromPackage: pull_from_package,
    c.ApprovePackage: approve_package,
    c.PointToCorrespondence: point_to_correspondence,
    c.OpenBallot: open_ballot,
    c.CastVote: cast_vote,
    c.RecordVoteByLetter: record_vote_by_letter,
}
APPLIERS = {
    e.ConclusionProposed: _conclusion_proposed,
    e.ConsensusRecorded: _consensus,
    e.ItemDeferred: _deferred,
    e.PackageProposed: _package_proposed,
    e.ItemPulledFromPackage: _pulled,
    e.PackageApproved: _package_approved,
    e.PointedToCorrespondence: _correspondence,
    e.BallotOpened: _ballot_opened,
    e.VoteCast: _vote_cast,
    e.BallotClosed: _ballot_closed,
}
