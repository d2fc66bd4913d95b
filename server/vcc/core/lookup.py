"""Finding what a command names, or saying plainly that it does not exist."""

from vcc_protocol.state import ConsultationState, Delegation, Item

from .rejections import Rejected


def known_delegation(state: ConsultationState, delegation_id: str) -> Delegation:
    delegation = state.delegations.get(delegation_id)
    if delegation is None:
        raise Rejected("unknown_delegation", f"No delegation {delegation_id!r} is registered; check the roster.")
    return delegation


def known_item(state: ConsultationState, ref: str) -> Item:
    item = state.items.get(ref)
    if item is None:
        raise Rejected("unknown_item", f"There is no item {ref} on the agenda; check the item's code.")
    return item
