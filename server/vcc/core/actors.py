"""Who sends a command, and the table of which roles may send which command."""

from dataclasses import dataclass

from vcc_protocol import commands as c
from vcc_protocol.state import ConsultationState, Delegation, Participant
from vcc_protocol.vocabulary import ADMIN_ACTOR, MEDIA_ACTOR, SCREEN_ACTOR, SYSTEM_ACTOR

from .rejections import Rejected

STAFF_ROLES = frozenset({"secretariat", "technical"})
EVERYONE = frozenset({"delegate", "chair", "secretariat", "interpreter", "technical", "captioner"})
SETUP = frozenset({"secretariat"})
CHAIR = frozenset({"chair"})
DELEGATE = frozenset({"delegate"})
INTERPRETER = frozenset({"interpreter"})
CAPTIONER = frozenset({"captioner"})
SYSTEM = frozenset({"system"})
MEDIA = frozenset({"media"})

#: Command -> the roles that may send it. The admin API acts as the secretariat;
#: the shell's clock is the role "system"; the media adapter, role "media", reports
#: only what Janus heard; the public screen, role "screen", is in no set: it may send
#: no command. Finer rules (a designated speaker, a
#: council member) are checked by the area that owns the rule.
PERMISSIONS: dict[type[c.Command], frozenset[str]] = {
    c.CreateConsultation: SETUP,
    c.AddDelegation: SETUP,
    c.SetVotingRights: SETUP,
    c.AddParticipant: SETUP,
    c.AddItem: SETUP,
    c.SetItemMinutes: SETUP,
    c.PlanAgenda: SETUP,
    c.SetSpeakingLimit: SETUP | CHAIR,
    c.OpenSitting: SETUP | CHAIR,
    c.CloseSitting: CHAIR,
    c.TakeUpItem: CHAIR,
    c.Tick: SYSTEM,
    c.RequestFloor: DELEGATE,
    c.WithdrawFloorRequest: DELEGATE,
    c.MoveFloorRequest: CHAIR,
    c.CloseSpeakersList: CHAIR,
    c.ReopenSpeakersList: CHAIR,
    c.GrantFloor: CHAIR,
    c.RevokeGrant: CHAIR,
    c.GoLive: DELEGATE,
    c.YieldFloor: DELEGATE,
    c.EndSpeech: CHAIR,
    c.TakeBoothDuty: INTERPRETER,
    c.RequestHandover: INTERPRETER,
    c.AcceptHandover: INTERPRETER,
    c.SetBoothMic: INTERPRETER,
    c.SetBoothSource: INTERPRETER,
    c.BoothFinished: INTERPRETER,
    c.OverrideTail: CHAIR,
    c.SignalSpeakSlowly: INTERPRETER,
    c.ObserveBoothSilent: MEDIA,
    c.ObserveBothTalking: MEDIA,
    c.ObserveSpeakerHeard: MEDIA,
    c.PostCaption: CAPTIONER,
    c.CorrectCaption: CAPTIONER,
    c.SetWebcast: SETUP,
    c.ProposeConclusion: SETUP | CHAIR,
    c.RecordConsensus: CHAIR,
    c.BlockItem: DELEGATE | CHAIR,
    c.ProposePackage: CHAIR,
    c.PullFromPackage: DELEGATE | CHAIR,
    c.ApprovePackage: CHAIR,
    c.PointToCorrespondence: CHAIR,
    c.OpenBallot: SETUP,
    c.CastVote: DELEGATE,
    c.RecordVoteByLetter: SETUP,
    c.OpenGrouping: SETUP,
    c.AnswerGrouping: DELEGATE,
    c.ProposeItem: DELEGATE,
    c.CloseGrouping: SETUP,
    c.SubmitContribution: DELEGATE,
    c.RecordConnectionTest: EVERYONE,
    c.RecordAttendance: EVERYONE,
    c.RequestHelp: EVERYONE,
    c.ResolveHelp: frozenset({"technical"}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    role: str
    participant: Participant | None = None
    delegation: Delegation | None = None


def resolve(state: ConsultationState, actor_id: str) -> Actor:
    """The actor behind an id: the clock, the admin API, or a registered participant."""
    if actor_id == SYSTEM_ACTOR:
        return Actor(actor_id, "system")
    if actor_id == ADMIN_ACTOR:
        return Actor(actor_id, "secretariat")
    if actor_id == SCREEN_ACTOR:
        return Actor(actor_id, "screen")
    if actor_id == MEDIA_ACTOR:
        return Actor(actor_id, "media")
    participant = state.participants.get(actor_id)
    if participant is None:
        raise Rejected(
            "unknown_participant", f"No participant {actor_id!r} is registered in this consultation; ask the secretariat for a join link."
        )
    delegation = state.delegations.get(participant.delegation) if participant.delegation else None
    return Actor(actor_id, participant.role, participant, delegation)


def check_permission(command: c.Command, actor: Actor) -> None:
    allowed = PERMISSIONS[type(command)]
    if actor.role not in allowed:
        who = " or ".join(sorted(allowed))
        raise Rejected("not_allowed", f"Only the {who} may {describe(command)}; you are registered as {actor.role}.")


def describe(command: c.Command | type[c.Command]) -> str:
    cls = command if isinstance(command, type) else type(command)
    return (cls.__doc__ or cls.__name__).strip().split("\n")[0].rstrip(".").lower()


def own_delegation(actor: Actor) -> Delegation:
    if actor.delegation is None:
        raise Rejected("not_allowed", "Only a member of a delegation may do this.")
    return actor.delegation
