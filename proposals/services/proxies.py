"""Proxies that fit consensus: a member away gives her voice to another member, with a mandate.

A proxy covers one sitting (every proposal decided at it) or one proposal. Its mandate is
the position to state, or "use your judgement"; a proxy may block in the giver's name only
where the assembly allows it *and* the mandate says so. A member carries at most
`Assembly.proxy_cap` proxies for the same sitting or proposal (0: the assembly takes none).
The giver (or the holder, declining it) may revoke it until the call opens; a position the
giver states herself always overrides the proxy's, and once she has stated her own, the
holder can no longer state one for her. Every step writes a public log line.

Concurrency: giving and revoking lock the giver's (and the holder's) membership row, the
same row a position stated for the giver locks, so a revoke and the holder's statement are
one before the other, never both half-done (the rules are in docs/hybrid.md).
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_participant
from assemblies.models import Meeting, MeetingState, Membership, MembershipStatus, Role
from assemblies.services import record_action
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.events import publish_on_commit
from proposals.models import FINAL_PHASES, Mandate, Phase, Position, PositionKind, Proposal, Proxy
from proposals.selectors import proxy_call_opened
from proposals.services._common import clean_reason


@transaction.atomic
def give_proxy(
    *,
    actor: Membership,
    holder: Membership | None,
    meeting: Meeting | None = None,
    proposal: Proposal | None = None,
    mandate: str,
    may_block: bool = False,
    reason: str = "",
) -> Proxy:
    """`actor` gives her proxy for `meeting` or `proposal` to `holder`."""
    require_participant(actor)
    assembly = actor.assembly
    if assembly.proxy_cap == 0:
        raise PermissionDenied("proxies_off", _("This assembly does not take proxies."))
    if holder is None or holder.assembly_id != actor.assembly_id:
        raise NotFound("member_not_found", _("There is no such member in this assembly."))
    if holder.pk == actor.pk:
        raise DomainError("proxy_to_oneself", _("Give your proxy to another member."))
    giver, holder = _lock_pair(actor, holder)
    require_participant(giver)
    if holder.status != MembershipStatus.ACTIVE or holder.role == Role.OBSERVER:
        raise DomainError(
            "holder_cannot_take_part",
            _("%(name)s cannot take part in decisions, so cannot carry a proxy.")
            % {"name": holder.display_name},
        )
    meeting, proposal = _scope(assembly.pk, meeting, proposal)
    mandate, may_block, reason = _clean_mandate(assembly, mandate, may_block, reason)
    covering = _overlapping(meeting, proposal)
    if Proxy.objects.filter(covering, giver=giver, revoked_at__isnull=True).exists():
        raise Conflict(
            "proxy_already_given",
            _("You already gave your proxy for this; revoke it before giving another."),
        )
    carried = Proxy.objects.filter(covering, holder=holder, revoked_at__isnull=True).count()
    if carried >= assembly.proxy_cap:
        raise Conflict(
            "proxy_cap",
            _(
                "%(name)s already carries %(count)d proxy for this; this assembly allows "
                "%(cap)d per member."
            )
            % {"name": holder.display_name, "count": carried, "cap": assembly.proxy_cap},
        )
    proxy = Proxy.objects.create(
        assembly=assembly,
        giver=giver,
        holder=holder,
        meeting=meeting,
        proposal=proposal,
        mandate=mandate,
        may_block=may_block,
        reason=reason,
    )
    _log(proxy, giver, "proposals.proxy.given")
    _announce(proxy)
    return proxy


@transaction.atomic
def revoke_proxy(*, actor: Membership, proxy: Proxy) -> Proxy:
    """The giver takes her proxy back, or the holder declines it: until the call opens."""
    if actor is None or actor.pk not in (proxy.giver_id, proxy.holder_id):
        raise NotFound("proxy_not_found", _("There is no such proxy."))
    _lock_pair(proxy.giver, proxy.holder)
    proxy = Proxy.objects.select_for_update().get(pk=proxy.pk)
    if proxy.revoked_at is not None:
        return proxy  # revoked already: the same answer again
    if proxy_call_opened(proxy):
        raise Conflict(
            "proxy_call_open",
            _(
                "The call for consensus has opened: the proxy stands. State your own position "
                "instead; it overrides the proxy's."
            ),
        )
    proxy.revoked_at = timezone.now()
    proxy.save(update_fields=["revoked_at"])
    action = "proposals.proxy.revoked" if actor.pk == proxy.giver_id else "proposals.proxy.declined"
    _log(proxy, actor, action)
    _announce(proxy)
    return proxy


def proxy_for_statement(*, holder: Membership, giver: Membership, proposal: Proposal) -> Proxy:
    """The proxy `holder` uses to state `giver`'s position on `proposal` (rows locked by the
    caller), or the refusal saying why she may not."""
    proxy = (
        Proxy.objects.filter(
            Proxy.covering(proposal), giver=giver, holder=holder, revoked_at__isnull=True
        )
        .order_by("pk")
        .first()
    )
    if proxy is None:
        raise PermissionDenied(
            "no_proxy",
            _("You do not carry %(name)s's proxy for this proposal.")
            % {"name": giver.display_name},
        )
    own = Position.objects.filter(
        proposal=proposal, member=giver, is_current=True, stated_by__isnull=True
    ).exists()
    if own:
        raise Conflict(
            "giver_stated_own",
            _("%(name)s stated their own position: it stands, and their proxy no longer applies.")
            % {"name": giver.display_name},
        )
    return proxy


def check_mandate(proxy: Proxy, kind: str) -> None:
    """Whether the mandate (and the assembly) let the holder state `kind` for the giver."""
    labels = dict(PositionKind.choices)
    if proxy.mandate != Mandate.JUDGEMENT and kind != proxy.mandate:
        raise Conflict(
            "proxy_mandate",
            _("%(name)s's mandate is to state: %(kind)s.")
            % {"name": proxy.giver.display_name, "kind": labels[proxy.mandate]},
        )
    if kind == PositionKind.BLOCK and not (proxy.assembly.proxy_may_block and proxy.may_block):
        raise Conflict(
            "proxy_may_not_block",
            _("This proxy may not block in %(name)s's name.") % {"name": proxy.giver.display_name},
        )


# --- helpers ----------------------------------------------------------------------------------


def _lock_pair(first: Membership, second: Membership) -> tuple[Membership, Membership]:
    """Both membership rows, locked in id order (as a position locks them): no deadlock."""
    rows = {
        member.pk: member
        for member in Membership.objects.select_for_update(no_key=True)
        .select_related("assembly")
        .filter(pk__in=sorted({first.pk, second.pk}))
        .order_by("pk")
    }
    return rows[first.pk], rows[second.pk]


def _scope(assembly_id: int, meeting, proposal) -> tuple[Meeting | None, Proposal | None]:
    if (meeting is None) == (proposal is None):
        raise DomainError("proxy_scope", _("Give a proxy for one sitting or for one proposal."))
    if meeting is not None:
        if meeting.assembly_id != assembly_id:
            raise NotFound("meeting_not_found", _("There is no such sitting."))
        if meeting.state == MeetingState.ADJOURNED:
            raise Conflict("meeting_adjourned", _("This sitting is over."))
        return meeting, None
    if proposal.assembly_id != assembly_id:
        raise NotFound("proposal_not_found", _("There is no such proposal."))
    if proposal.phase in FINAL_PHASES or proposal.phase == Phase.TABLED:
        raise Conflict("proposal_closed", _("This proposal is no longer open."))
    return None, proposal


def _clean_mandate(assembly, mandate: str, may_block: bool, reason: str):
    if mandate not in Mandate.values:
        raise DomainError(
            "invalid_mandate", _("Choose the position to state, or “use your judgement”.")
        )
    blocks = mandate == Mandate.BLOCK or (mandate == Mandate.JUDGEMENT and may_block)
    if blocks and not assembly.proxy_may_block:
        raise PermissionDenied(
            "proxy_block_not_allowed", _("In this assembly a proxy may not block.")
        )
    return mandate, blocks, clean_reason(reason)


def _overlapping(meeting: Meeting | None, proposal: Proposal | None) -> Q:
    """Proxies that would apply to some of the same proposals as this scope."""
    if meeting is not None:
        return Q(meeting=meeting) | Q(proposal__meeting=meeting)
    return Proxy.covering(proposal)


def scope_title(proxy: Proxy) -> str:
    if proxy.proposal_id:
        return proxy.proposal.title
    return proxy.meeting.title


def _log(proxy: Proxy, actor: Membership, action: str) -> None:
    record_action(
        assembly=proxy.assembly,
        actor=actor,
        meeting=proxy.meeting or (proxy.proposal.meeting if proxy.proposal_id else None),
        action=action,
        giver=proxy.giver.display_name,
        holder=proxy.holder.display_name,
        scope=scope_title(proxy),
        scope_kind="sitting" if proxy.meeting_id else "proposal",
        mandate=proxy.mandate,
        may_block=proxy.may_block,
        proxy_id=proxy.pk,
    )


def _announce(proxy: Proxy) -> None:
    publish_on_commit(
        assembly_id=proxy.assembly_id,
        proposal_id=proxy.proposal_id,
        meeting_id=proxy.meeting_id,
        kind="proxy",
        member_ids=(proxy.giver_id, proxy.holder_id),
    )
