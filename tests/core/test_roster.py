"""The roster: the consultation is created once, at most three sector members
per sector, delegates belong to delegations, interpreters to booths."""

import pytest
from corekit import Consultation, builtins
from vcc.core.roster import DEFAULT_LIMITS, SECTOR_CAP
from vcc_protocol import commands as c
from vcc_protocol import events as e


def create(**fields) -> c.CreateConsultation:
    return c.CreateConsultation(**{"id": c.new_id(), "code": "C", "title": "T", "days": ["2021-06-08"], **fields})


def test_consultation_is_created_once(cons: Consultation) -> None:
    assert cons.state.created and cons.state.code == "TEST/VCC"
    assert cons.reject(create(), "@admin") == "already_exists"
    assert cons.reject(create(), "sec") == "already_exists"


def test_consultation_created_by_the_secretariat_only() -> None:
    fresh = Consultation(setup=False)
    assert fresh.reject(create(), "@system") == "not_allowed"
    # Nobody is registered yet: a participant id cannot be resolved.
    assert fresh.reject(create(), "sec") == "unknown_participant"
    (event,) = fresh.run(create(), "@admin")
    assert isinstance(event, e.ConsultationCreated)


def test_nothing_but_creation_before_the_consultation_exists() -> None:
    fresh = Consultation(setup=False)
    assert fresh.reject(c.AddItem(id=c.new_id(), item="1", number=1, code="X", title="X"), "@admin") == "not_created"
    assert fresh.reject(c.RequestFloor(id=c.new_id()), "ch-1") == "not_created"
    assert fresh.run(c.Tick(id=c.new_id()), "@system") == []


def test_default_speaking_limits_per_class_3_min_council_members_2_min_others(cons: Consultation) -> None:
    assert cons.state.settings.limits == {"council_member": 180, "observer_state": 120, "observer": 120, "sector_member": 120}
    assert DEFAULT_LIMITS == cons.state.settings.limits
    custom = Consultation(limits={"sector_member": 90})
    assert custom.state.settings.limits["sector_member"] == 90
    assert custom.state.settings.limits["council_member"] == 180


@pytest.mark.parametrize(
    "fields",
    [
        {"slot_start": "15:00", "slot_end": "12:00"},
        {"slot_start": "12:00", "slot_end": "12:00"},
        {"slot_start": "12:00", "slot_end": "25:00"},
        {"slot_start": "12:61", "slot_end": "15:00"},
        {"days": ["2021-06-09", "2021-06-08"]},
        {"days": ["2021-06-08", "2021-06-08"]},
        {"days": ["2021-02-30"]},
        {"days": ["2021-13-01"]},
        {"tz": "Mars/Olympus_Mons"},
        {"tz": "Europe"},
        {"tz": ""},
        {"majority_policy": "whatever the chair likes"},
    ],
    ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items()),
)
def test_consultation_settings_that_cannot_work_are_refused(fields: dict) -> None:
    fresh = Consultation(setup=False)
    assert fresh.reject(create(**fields), "@admin") == "invalid_value"


@pytest.mark.rule("roster.SECTOR_CAP")
def test_sector_cap_three_per_sector(cons: Consultation) -> None:
    assert SECTOR_CAP == 3
    cons.run(c.AddDelegation(id=c.new_id(), delegation="r3", name="Third R", cls="sector_member", sector="R"), "sec")
    # The 4th member of a sector is refused; another sector still has room.
    assert (
        cons.reject(c.AddDelegation(id=c.new_id(), delegation="r4", name="Fourth R", cls="sector_member", sector="R"), "sec")
        == "sector_full"
    )
    assert "r4" not in cons.state.delegations
    cons.run(c.AddDelegation(id=c.new_id(), delegation="t2", name="Second T", cls="sector_member", sector="T"), "sec")
    cons.run(c.AddDelegation(id=c.new_id(), delegation="d1", name="First D", cls="sector_member", sector="D"), "sec")
    sectors = [d.sector for d in cons.state.delegations.values() if d.cls == "sector_member"]
    assert sectors.count("R") == 3


@pytest.mark.rule("roster.SECTOR_CAP")
def test_sector_cap_counts_sector_members_only(cons: Consultation) -> None:
    # States are not sector members: registering many does not fill any sector.
    for n in range(5):
        cons.run(c.AddDelegation(id=c.new_id(), delegation=f"s{n}", name=f"State {n}", cls="observer_state"), "sec")
    cons.run(c.AddDelegation(id=c.new_id(), delegation="r3", name="Third R", cls="sector_member", sector="R"), "sec")


def test_sector_member_needs_a_sector_and_only_sector_members_have_one(cons: Consultation) -> None:
    assert cons.reject(c.AddDelegation(id=c.new_id(), delegation="x", name="X", cls="sector_member"), "sec") == "invalid_value"
    assert cons.reject(c.AddDelegation(id=c.new_id(), delegation="x", name="X", cls="council_member", sector="R"), "sec") == "invalid_value"


def test_only_council_members_have_voting_rights(cons: Consultation) -> None:
    assert (
        cons.reject(c.AddDelegation(id=c.new_id(), delegation="x", name="X", cls="observer_state", voting_rights=True), "sec")
        == "invalid_value"
    )
    assert cons.reject(c.SetVotingRights(id=c.new_id(), delegation="at", voting_rights=True), "sec") == "invalid_value"
    cons.run(c.SetVotingRights(id=c.new_id(), delegation="ch", voting_rights=False), "sec")
    assert cons.state.delegations["ch"].voting_rights is False
    assert cons.reject(c.SetVotingRights(id=c.new_id(), delegation="nowhere", voting_rights=True), "sec") == "unknown_delegation"


def test_duplicate_delegation_participant_item(cons: Consultation) -> None:
    assert cons.reject(c.AddDelegation(id=c.new_id(), delegation="ch", name="Again", cls="council_member"), "sec") == "already_exists"
    assert (
        cons.reject(c.AddParticipant(id=c.new_id(), participant="ch-1", name="Again", role="delegate", delegation="ch"), "sec")
        == "already_exists"
    )
    assert cons.reject(c.AddItem(id=c.new_id(), item="1", number=1, code="X", title="X"), "sec") == "already_exists"


def test_delegate_belongs_to_a_known_delegation(cons: Consultation) -> None:
    assert cons.reject(c.AddParticipant(id=c.new_id(), participant="x", name="X", role="delegate"), "sec") == "invalid_value"
    assert (
        cons.reject(c.AddParticipant(id=c.new_id(), participant="x", name="X", role="delegate", delegation="nowhere"), "sec")
        == "unknown_delegation"
    )
    assert cons.reject(c.AddParticipant(id=c.new_id(), participant="x", name="X", role="chair", delegation="ch"), "sec") == "invalid_value"


def test_interpreter_has_a_booth_and_nobody_else(cons: Consultation) -> None:
    assert cons.reject(c.AddParticipant(id=c.new_id(), participant="x", name="X", role="interpreter"), "sec") == "invalid_value"
    assert cons.reject(c.AddParticipant(id=c.new_id(), participant="x", name="X", role="technical", booth="en"), "sec") == "invalid_value"


def test_only_a_delegate_is_a_designated_speaker(cons: Consultation) -> None:
    assert (
        cons.reject(c.AddParticipant(id=c.new_id(), participant="x", name="X", role="chair", designated_speaker=True), "sec")
        == "invalid_value"
    )


def test_items_keep_agenda_order_and_their_estimate(cons: Consultation) -> None:
    cons.run(c.AddItem(id=c.new_id(), item="9", number=9, code="ADM 9", title="Late item", minutes=40), "sec")
    assert cons.state.agenda == ["1", "2", "3", "4", "5", "9"]
    cons.run(c.SetItemMinutes(id=c.new_id(), item="9", minutes=25), "sec")
    assert cons.state.items["9"].minutes == 25
    assert cons.reject(c.SetItemMinutes(id=c.new_id(), item="99", minutes=25), "sec") == "unknown_item"


def test_roster_commands_are_setup_commands(cons: Consultation) -> None:
    # Wrong role: the chair and delegates do not register anybody.
    assert cons.reject(c.AddDelegation(id=c.new_id(), delegation="x", name="X", cls="observer_state"), "chair") == "not_allowed"
    assert (
        cons.reject(c.AddParticipant(id=c.new_id(), participant="x", name="X", role="delegate", delegation="ch"), "ch-1") == "not_allowed"
    )
    assert cons.reject(c.AddItem(id=c.new_id(), item="7", number=7, code="X", title="X"), "tech") == "not_allowed"


def test_unknown_actor_is_refused(cons: Consultation) -> None:
    assert cons.reject(c.RequestFloor(id=c.new_id()), "nobody") == "unknown_participant"


def test_refold_equals_live_state(cons: Consultation) -> None:
    assert cons.refolded() == builtins(cons.state)
    assert len(cons.state.delegations) == 10 and len(cons.state.participants) == 2 * 10 + 4 + 12


@pytest.mark.rule("roster.add_item")
def test_items_are_known_by_their_code_and_numbers_repeat_across_sections() -> None:
    """The 2020 list: two sections, each numbered from 1 (U1.., D1..)."""
    cons = Consultation()
    urgent, deferred = "Urgent items for the virtual session", "Items deferred to the in-person session"
    cons.run(c.AddItem(id=c.new_id(), item="U1", number=1, code="U1", title="Budget", section=urgent), "sec")
    cons.run(c.AddItem(id=c.new_id(), item="D1", number=1, code="D1", title="Strategic plan", section=deferred, group=2), "sec")
    cons.run(c.AddItem(id=c.new_id(), item="U2", number=2, code="U2", title="Dates", section=urgent), "sec")
    assert cons.reject(c.AddItem(id=c.new_id(), item="U1", number=3, code="U1", title="Again", section=urgent), "sec") == "already_exists"
    assert (cons.state.items["U1"].number, cons.state.items["D1"].number) == (1, 1)
    # Sections keep the order they come in; the agenda keeps the group-1 items in the list's order.
    assert cons.state.sections == [urgent, deferred]
    assert cons.state.agenda[-2:] == ["U1", "U2"] and "D1" not in cons.state.agenda
    cons.take_up("U2")
    assert cons.state.current_item == "U2"
    assert cons.refolded() == builtins(cons.state)


def test_the_circulars_deadlines_are_kept_with_their_names() -> None:
    cons = Consultation(setup=False)
    deadlines = {"Replies on the grouping of items": "2020-05-22", "Written contributions": "2020-05-29"}
    cons.run(
        c.CreateConsultation(
            id=c.new_id(), code="C20/VCC", title="VCC", days=["2020-06-09"], deadlines=deadlines, rules_slot="12:00-15:00"
        ),
        "@admin",
    )
    assert cons.state.deadlines == deadlines
    # A slot that departs from the rules' (the demo's) is said in every language from this, not from a note in English.
    assert cons.state.rules_slot == "12:00-15:00"


def test_ids_of_the_services_own_actors_cannot_be_registered(cons: Consultation) -> None:
    """The clock and the media adapter act as "@system" and "@media": a participant
    registered under such an id would speak with their authority."""
    for reserved in ("@media", "@system", "@anything"):
        added = c.AddParticipant(id=c.new_id(), participant=reserved, name="X", role="technical")
        assert cons.reject(added, "@admin") == "invalid_value"
