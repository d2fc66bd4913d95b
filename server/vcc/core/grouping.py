"""The agenda consultation before the sitting: which items are urgent enough for
this consultation (group 1) and which wait for the in-person session (group 2).

Rules here: only council members answer, per item, agreeing with the
secretariat's proposal or proposing the other group, and may propose new
items; answers may change until the deadline (Geneva time) and not after; the
secretariat closes the consultation after the deadline, with the final say
per item, which derives the agenda.
"""

from dataclasses import dataclass

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import ConsultationState, Grouping, ProposedItem

from .actors import Actor
from .clock import local_ms
from .lookup import known_item
from .rejections import Rejected

#: Rule: who answers the agenda consultation.
MAY_ANSWER = frozenset({"council_member"})


def open_grouping(state: ConsultationState, cmd: c.OpenGrouping, actor: Actor, now: int) -> list[e.Event]:
    if state.grouping is not None:
        raise Rejected("already_exists", "The agenda consultation has already been opened.")
    if not state.items:
        raise Rejected("invalid_value", "Import the list of items before opening the agenda consultation.")
    deadline = local_ms(cmd.deadline, state.tz)
    if deadline <= now:
        raise Rejected("invalid_value", f"The deadline {cmd.deadline} ({state.tz}) is already past; choose a later one.")
    return [e.GroupingOpened(at=now, actor=actor.id, deadline=deadline, deadline_local=f"{cmd.deadline.replace('T', ' ')} {state.tz}")]


def open_consultation(state: ConsultationState, now: int, doing: str) -> Grouping:
    grouping = state.grouping
    if grouping is None or grouping.closed:
        raise Rejected("no_grouping", f"No agenda consultation is open: nothing to {doing}.")
    if now >= grouping.deadline:
        raise Rejected("deadline_passed", f"The deadline ({grouping.deadline_local}) has passed: answers can no longer change.")
    return grouping


def answering_council_member(actor: Actor) -> str:
    if actor.delegation is None or actor.delegation.cls not in MAY_ANSWER:
        raise Rejected("not_allowed", "Only council members answer the agenda consultation.")
    return actor.delegation.id


def answer_grouping(state: ConsultationState, cmd: c.AnswerGrouping, actor: Actor, now: int) -> list[e.Event]:
    delegation = answering_council_member(actor)
    open_consultation(state, now, "answer")
    known_item(state, cmd.item)
    return [e.GroupingAnswered(at=now, actor=actor.id, delegation=delegation, item=cmd.item, answer=cmd.answer, participant=actor.id)]


def propose_item(state: ConsultationState, cmd: c.ProposeItem, actor: Actor, now: int) -> list[e.Event]:
    delegation = answering_council_member(actor)
    open_consultation(state, now, "propose")
    if not cmd.title.strip():
        raise Rejected("invalid_value", "Give the title of the item you propose.")
    return [e.ItemProposed(at=now, actor=actor.id, delegation=delegation, title=cmd.title.strip(), group=cmd.group)]


def close_grouping(state: ConsultationState, cmd: c.CloseGrouping, actor: Actor, now: int) -> list[e.Event]:
    grouping = state.grouping
    if grouping is None or grouping.closed:
        raise Rejected("no_grouping", "No agenda consultation is open.")
    if now < grouping.deadline:
        raise Rejected("deadline_not_passed", f"Council members may answer until {grouping.deadline_local}; close it after that.")
    final = dict(cmd.final)
    for ref in final:
        known_item(state, ref)
    groups = {n: final.get(n, item.group or 1) for n, item in state.items.items()}
    overrides = [n for n in state.items if n in final and final[n] != state.items[n].group]
    agenda = [n for n in state.items if groups[n] == 1]  # the order the items were added in: the circular's
    return [e.GroupingClosed(at=now, actor=actor.id, groups=groups, overrides=overrides, agenda=agenda)]


@dataclass(frozen=True)
class ItemTally:
    item: str
    proposed_group: int | None
    agree: list[str]
    other_group: list[str]
    no_answer: list[str]


def tally(state: ConsultationState) -> list[ItemTally]:
    """Per item: which council members agree, propose the other group, or have not answered."""
    members = [d.id for d in state.delegations.values() if d.cls in MAY_ANSWER]
    answers = state.grouping.answers if state.grouping else {}
    out = []
    for number, item in state.items.items():
        given = {m: answers.get(m, {}).get(number) for m in members}
        out.append(
            ItemTally(
                number,
                item.group,
                [m for m, a in given.items() if a == "agree"],
                [m for m, a in given.items() if a == "other_group"],
                [m for m in members if m not in answers or number not in answers[m]],
            )
        )
    return out


def _opened(state: ConsultationState, ev: e.GroupingOpened) -> None:
    state.grouping = Grouping(deadline=ev.deadline, deadline_local=ev.deadline_local)


def _answered(state: ConsultationState, ev: e.GroupingAnswered) -> None:
    assert state.grouping is not None, "answers come only once the grouping is open (answer_grouping)"
    state.grouping.answers.setdefault(ev.delegation, {})[ev.item] = ev.answer


def _proposed(state: ConsultationState, ev: e.ItemProposed) -> None:
    assert state.grouping is not None, "items are proposed only once the grouping is open (propose_item)"
    state.grouping.proposed_items.append(ProposedItem(delegation=ev.delegation, title=ev.title, group=ev.group, at=ev.at))


def _closed(state: ConsultationState, ev: e.GroupingClosed) -> None:
    grouping = state.grouping
    assert grouping is not None
    grouping.closed, grouping.overrides = True, list(ev.overrides)
    for number, group in ev.groups.items():
        state.items[number].group = group
    state.agenda = list(ev.agenda)


DECIDERS = {
    c.OpenGrouping: open_grouping,
    c.AnswerGrouping: answer_grouping,
    c.ProposeItem: propose_item,
    c.CloseGrouping: close_grouping,
}
APPLIERS = {
    e.GroupingOpened: _opened,
    e.GroupingAnswered: _answered,
    e.ItemProposed: _proposed,
    e.GroupingClosed: _closed,
}
