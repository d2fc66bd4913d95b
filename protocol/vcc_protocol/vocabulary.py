"""Closed sets of words the protocol uses (see ../shared/domain.md, Vocabulary)."""

from typing import Literal

Language = Literal["ar", "zh", "en", "fr", "ru", "es"]
LANGUAGES: tuple[Language, ...] = ("ar", "zh", "en", "fr", "ru", "es")

#: A listener's channel: one of the six interpretation channels or the floor itself.
Channel = Literal["floor", "ar", "zh", "en", "fr", "ru", "es"]

DelegationClass = Literal["council_member", "observer_state", "observer", "sector_member"]
DELEGATION_CLASSES: tuple[DelegationClass, ...] = (
    "council_member",
    "observer_state",
    "observer",
    "sector_member",
)

Sector = Literal["R", "T", "D"]
SECTORS: tuple[Sector, ...] = ("R", "T", "D")

#: A captioner writes the floor's captions: a human writer, or a machine-captioning process with its own token.
Role = Literal["delegate", "chair", "secretariat", "interpreter", "technical", "captioner"]
ROLES: tuple[Role, ...] = ("delegate", "chair", "secretariat", "interpreter", "technical", "captioner")

BlockKind = Literal["objection", "postponement", "suspension"]
ItemStatus = Literal["open", "concluded", "deferred", "correspondence"]
SpeechEnd = Literal["yielded", "ended_by_chair", "time_limit", "slot_end"]
SittingEnd = Literal["slot_end", "chair"]
GroupingAnswer = Literal["agree", "other_group"]
#: A council member's answer in a decision by correspondence.
VoteAnswer = Literal["yes", "no", "abstain"]
BallotResult = Literal["approved", "not_approved"]
ItemKind = Literal["report", "decision", "information", "other"]

#: Actors that are not participants: the shell's clock, the admin API, the
#: public screen (a projector or webcast: it shows the meeting and sends nothing),
#: and the media adapter (what Janus heard, sent by the server, never by a browser).
SYSTEM_ACTOR = "@system"
MEDIA_ACTOR = "@media"
ADMIN_ACTOR = "@admin"
SCREEN_ACTOR = "@screen"
