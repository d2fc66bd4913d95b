"""The roster: the consultation itself, its delegations and participants.

Rules here: a consultation is created once; at most three sector members per
sector; a delegate belongs to a delegation; an interpreter has a booth.
"""

from datetime import date, timedelta

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import ConsultationState, Delegation, Item, Participant, Settings
from vcc_protocol.vocabulary import LANGUAGES, DelegationClass

from .actors import Actor
from .clock import end_of_day, slot_bounds, zone
from .lookup import known_delegation
from .outcomes import MAJORITY_POLICIES
from .rejections import Rejected

#: Default speaking-time limits per priority class, in seconds (HRC practice: 3 min members, 2 min others).
DEFAULT_LIMITS: dict[DelegationClass, int] = {
    "council_member": 180,
    "observer_state": 120,
    "observer": 120,
    "sector_member": 120,
}

#: Rule: at most three sector members in each sector.
SECTOR_CAP = 3
#: Rule: written contributions are due this many days before the first day (the 2021 circular),
#: unless the consultation sets its own deadline.
CONTRIBUTIONS_DAYS_BEFORE = 14


def create_consultation(state: ConsultationState, cmd: c.CreateConsultation, actor: Actor, now: int) -> list[e.Event]:
    if state.created:
        raise Rejected("already_exists", f"The consultation {state.code} already exists; it is created once.")
    if cmd.slot_start >= cmd.slot_end:
        raise Rejected("invalid_value", f"The slot must end after it starts ({cmd.slot_start}-{cmd.slot_end}).")
    if sorted(set(cmd.days)) != list(cmd.days):
        raise Rejected("invalid_value", "List the days once each, in calendar order.")
    zone(cmd.tz)
    try:
        for day in cmd.days:
            slot_bounds(day, cmd.slot_start, cmd.slot_end, cmd.tz)
    except ValueError:
        raise Rejected(
            "invalid_value",
            f"The days must be calendar dates (YYYY-MM-DD) and the slot wall-clock times (HH:MM); got {', '.join(cmd.days)} and {cmd.slot_start}-{cmd.slot_end}.",
        ) from None
    if cmd.majority_policy not in MAJORITY_POLICIES:
        raise Rejected("invalid_value", f"Unknown majority policy {cmd.majority_policy!r}; use one of {', '.join(MAJORITY_POLICIES)}.")
    last_day = cmd.contributions_deadline or (date.fromisoformat(cmd.days[0]) - timedelta(days=CONTRIBUTIONS_DAYS_BEFORE)).isoformat()
    return [
        e.ConsultationCreated(
            at=now,
            actor=actor.id,
            code=cmd.code,
            title=cmd.title,
            days=list(cmd.days),
            slot_start=cmd.slot_start,
            slot_end=cmd.slot_end,
            tz=cmd.tz,
            limits={**DEFAULT_LIMITS, **cmd.limits},
            auto_cut=cmd.auto_cut,
            tail_ms=cmd.tail_ms,
            turn_minutes=cmd.turn_minutes,
            majority_policy=cmd.majority_policy,
            note=cmd.note,
            rules_slot=cmd.rules_slot,
            contributions_deadline=end_of_day(last_day, cmd.tz),
            deadlines=dict(cmd.deadlines),
        )
    ]


def add_delegation(state: ConsultationState, cmd: c.AddDelegation, actor: Actor, now: int) -> list[e.Event]:
    if cmd.delegation in state.delegations:
        raise Rejected("already_exists", f"The delegation {cmd.delegation!r} is already registered.")
    if cmd.cls == "sector_member":
        if cmd.sector is None:
            raise Rejected("invalid_value", "A sector member needs its sector: R, T or D.")
        in_sector = [d.name for d in state.delegations.values() if d.cls == "sector_member" and d.sector == cmd.sector]
        if len(in_sector) >= SECTOR_CAP:
            raise Rejected(
                "sector_full",
                f"Sector {cmd.sector} already has {SECTOR_CAP} sector members ({', '.join(in_sector)}); at most {SECTOR_CAP} may take part.",
            )
    elif cmd.sector is not None:
        raise Rejected("invalid_value", "Only a sector member has a sector.")
    if cmd.voting_rights and cmd.cls != "council_member":
        raise Rejected("invalid_value", "Only a council member can have the right to vote.")
    return [
        e.DelegationAdded(
            at=now,
            actor=actor.id,
            delegation=cmd.delegation,
            name=cmd.name,
            cls=cmd.cls,
            region=cmd.region,
            sector=cmd.sector,
            voting_rights=cmd.voting_rights,
        )
    ]


def set_voting_rights(state: ConsultationState, cmd: c.SetVotingRights, actor: Actor, now: int) -> list[e.Event]:
    delegation = known_delegation(state, cmd.delegation)
    if delegation.cls != "council_member":
        raise Rejected("invalid_value", f"{delegation.name} is not a council member; only council members vote.")
    return [e.VotingRightsChanged(at=now, actor=actor.id, delegation=cmd.delegation, voting_rights=cmd.voting_rights)]


def add_participant(state: ConsultationState, cmd: c.AddParticipant, actor: Actor, now: int) -> list[e.Event]:
    if cmd.participant in state.participants:
        raise Rejected("already_exists", f"The participant {cmd.participant!r} is already registered.")
    if cmd.participant.startswith("@"):
        raise Rejected("invalid_value", "Ids starting with @ are the service's own (the clock, the media); choose another id.")
    if cmd.role == "delegate":
        if cmd.delegation is None:
            raise Rejected("invalid_value", "A delegate must belong to a delegation.")
        known_delegation(state, cmd.delegation)
    elif cmd.delegation is not None:
        raise Rejected("invalid_value", f"A participant with the role {cmd.role} does not belong to a delegation.")
    if cmd.role == "interpreter" and cmd.booth is None:
        raise Rejected("invalid_value", f"An interpreter needs a booth: one of {', '.join(LANGUAGES)}.")
    if cmd.role != "interpreter" and cmd.booth is not None:
        raise Rejected("invalid_value", "Only an interpreter has a booth.")
    if cmd.designated_speaker and cmd.role != "delegate":
        raise Rejected("invalid_value", "Only a delegate can be a designated speaker.")
    return [
        e.ParticipantAdded(
            at=now,
            actor=actor.id,
            participant=cmd.participant,
            name=cmd.name,
            role=cmd.role,
            delegation=cmd.delegation,
            languages=list(cmd.languages),
            designated_speaker=cmd.designated_speaker,
            booth=cmd.booth,
            contact=cmd.contact,
        )
    ]


def add_item(state: ConsultationState, cmd: c.AddItem, actor: Actor, now: int) -> list[e.Event]:
    # Rule: an item is known by its ref; numbers repeat across sections (2020: U1 and D1 are both number 1).
    if cmd.item in state.items:
        raise Rejected("already_exists", f"Item {cmd.item} is already on the agenda; give each item its own code.")
    return [
        e.ItemAdded(
            at=now,
            actor=actor.id,
            item=cmd.item,
            number=cmd.number,
            code=cmd.code,
            section=cmd.section,
            title=cmd.title,
            titles=dict(cmd.titles),
            documents=list(cmd.documents),
            package=cmd.package,
            kind=cmd.kind,
            minutes=cmd.minutes,
            group=cmd.group,
        )
    ]


def _created(state: ConsultationState, ev: e.ConsultationCreated) -> None:
    state.created = True
    state.code, state.title, state.days = ev.code, ev.title, list(ev.days)
    state.slot_start, state.slot_end, state.tz, state.note = ev.slot_start, ev.slot_end, ev.tz, ev.note
    state.rules_slot = ev.rules_slot
    state.contributions_deadline = ev.contributions_deadline
    state.deadlines = dict(ev.deadlines)
    state.settings = Settings(
        limits={cls: seconds for cls, seconds in ev.limits.items()},
        auto_cut=ev.auto_cut,
        tail_ms=ev.tail_ms,
        turn_minutes=ev.turn_minutes,
        majority_policy=ev.majority_policy,
    )


def _delegation_added(state: ConsultationState, ev: e.DelegationAdded) -> None:
    state.delegations[ev.delegation] = Delegation(
        id=ev.delegation, name=ev.name, cls=ev.cls, region=ev.region, sector=ev.sector, voting_rights=ev.voting_rights
    )


def _voting_rights_changed(state: ConsultationState, ev: e.VotingRightsChanged) -> None:
    state.delegations[ev.delegation].voting_rights = ev.voting_rights


def _participant_added(state: ConsultationState, ev: e.ParticipantAdded) -> None:
    state.participants[ev.participant] = Participant(
        id=ev.participant,
        name=ev.name,
        role=ev.role,
        delegation=ev.delegation,
        languages=list(ev.languages),
        designated_speaker=ev.designated_speaker,
        booth=ev.booth,
        contact=ev.contact,
    )


def _item_added(state: ConsultationState, ev: e.ItemAdded) -> None:
    state.items[ev.item] = Item(
        ref=ev.item,
        number=ev.number,
        code=ev.code,
        section=ev.section,
        title=ev.title,
        titles={language: title for language, title in ev.titles.items()},
        documents=list(ev.documents),
        package=ev.package,
        kind=ev.kind,
        minutes=ev.minutes,
        group=ev.group,
    )
    if ev.section and ev.section not in state.sections:
        state.sections.append(ev.section)
    if ev.group != 2:
        state.agenda.append(ev.item)


DECIDERS = {
    c.CreateConsultation: create_consultation,
    c.AddDelegation: add_delegation,
    c.SetVotingRights: set_voting_rights,
    c.AddParticipant: add_participant,
    c.AddItem: add_item,
}
APPLIERS = {
    e.ConsultationCreated: _created,
    e.DelegationAdded: _delegation_added,
    e.VotingRightsChanged: _voting_rights_changed,
    e.ParticipantAdded: _participant_added,
    e.ItemAdded: _item_added,
}
