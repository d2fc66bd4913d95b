"""Written contributions before the sitting.

Rules here: a member state (council member or observer state), with any
co-submitters that are member states too, contributes on an item of this
consultation's agenda, before the deadline (by default 14 days before the
first day, until 23:59 Geneva time), in at most two pages; every
submitter's contacts are copied. Text counts as pages by length
(``CHARACTERS_PER_PAGE``); an uploaded PDF or DOCX by the pages the upload
path counted by laying the file out (``vcc.documents.uploads``).
"""

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import ConsultationState, Contribution

from .actors import Actor
from .lookup import known_delegation, known_item
from .rejections import Rejected

#: Rule: who may contribute.
MEMBER_STATES = frozenset({"council_member", "observer_state"})
#: Rule: at most two pages.
MAX_PAGES = 2
#: A page of the template in 11-point type holds about 3,500 characters (500-600 words).
CHARACTERS_PER_PAGE = 3_500


def text_pages(*texts: str) -> int:
    length = sum(len(t) for t in texts)
    return max(1, -(-length // CHARACTERS_PER_PAGE))


def submit_contribution(state: ConsultationState, cmd: c.SubmitContribution, actor: Actor, now: int) -> list[e.Event]:
    own = actor.delegation
    if own is None or own.cls not in MEMBER_STATES:
        raise Rejected("not_allowed", "Only member states submit written contributions.")
    if cmd.contribution in state.contributions:
        raise Rejected("already_exists", f"A contribution {cmd.contribution!r} already exists.")
    item = known_item(state, cmd.item)
    if cmd.item not in state.agenda:
        raise Rejected(
            "not_on_agenda",
            f"Item {item.ref} is not on this consultation's agenda (group {item.group}): contributions are for group-1 items.",
        )
    if state.contributions_deadline is not None and now >= state.contributions_deadline:
        raise Rejected("deadline_passed", "The deadline for written contributions has passed.")
    submitters = [own.id]
    for other in cmd.co_submitters:
        delegation = known_delegation(state, other)
        if delegation.cls not in MEMBER_STATES:
            raise Rejected("not_allowed", f"{delegation.name} is not a member state: only member states submit contributions.")
        if other not in submitters:
            submitters.append(other)
    pages = cmd.file.pages if cmd.file is not None else text_pages(cmd.title, cmd.document, cmd.comments, cmd.way_forward)
    if pages > MAX_PAGES:
        how = (
            f"the file has {pages} pages"
            if cmd.file
            else f"the text is about {pages} pages long (a page is about {CHARACTERS_PER_PAGE} characters)"
        )
        raise Rejected("too_long", f"A contribution may be at most {MAX_PAGES} pages; {how}. Shorten it and send it again.")
    if cmd.file is None and not (cmd.comments.strip() or cmd.way_forward.strip()):
        raise Rejected("invalid_value", "Write your comments or proposed way forward, or upload the contribution as a PDF or DOCX.")
    contacts = {d: [p.contact for p in state.participants.values() if p.delegation == d and p.contact] for d in submitters}
    return [
        e.ContributionSubmitted(
            at=now,
            actor=actor.id,
            contribution=cmd.contribution,
            item=cmd.item,
            title=cmd.title,
            submitters=submitters,
            document=cmd.document,
            comments=cmd.comments,
            way_forward=cmd.way_forward,
            file=cmd.file,
            pages=pages,
            contacts=contacts,
        )
    ]


def _submitted(state: ConsultationState, ev: e.ContributionSubmitted) -> None:
    state.contributions[ev.contribution] = Contribution(
        id=ev.contribution,
        item=ev.item,
        title=ev.title,
        submitters=list(ev.submitters),
        document=ev.document,
        comments=ev.comments,
        way_forward=ev.way_forward,
        file=ev.file,
        pages=ev.pages,
        at=ev.at,
        contacts=dict(ev.contacts) if ev.contacts is not None else None,
    )


DECIDERS = {c.SubmitContribution: submit_contribution}
APPLIERS = {e.ContributionSubmitted: _submitted}
