"""Proposals of roles: where the assembly gives roles by decision, a role changes this way.

Any participant proposes; the proposal follows the way of every other (discussion, the call
for consensus, the assembly's rule); when it passes, `apply_governance_decision` applies it
in the same transaction as the decision, and each log line cites that decision.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assemblies.access import require_participant
from assemblies.models import Assembly, Membership, Role
from assemblies.services import check_role_changes
from core.errors import Conflict, DomainError
from proposals.models import Proposal
from proposals.services._common import MAX_REASON, MAX_TITLE, clean_text
from proposals.services.lifecycle import submit_proposal


@transaction.atomic
def propose_roles(
    *,
    actor: Membership,
    changes: list[tuple[Membership, str]],
    reason: str = "",
    roles_by_facilitators: bool = False,
    meeting=None,
    closes_at: datetime | None = None,
) -> Proposal:
    """Propose to appoint or recall (`changes`: [(member, role)]) and/or to let facilitators
    give roles again (`roles_by_facilitators`)."""
    require_participant(actor)
    assembly = Assembly.objects.get(pk=actor.assembly_id)
    if not assembly.roles_by_decision:
        raise Conflict(
            "roles_by_facilitators",
            _("In this assembly a facilitator gives roles: there is nothing to decide."),
        )
    entries = check_role_changes(assembly=assembly, changes=changes)
    if not entries and not roles_by_facilitators:
        raise DomainError("no_change", _("Choose at least one member and a new role."))
    if (reason or "").strip():
        reason = clean_text(reason, code="reason", message="", limit=MAX_REASON)
    governance = {"roles": entries}
    if roles_by_facilitators:
        governance["roles_by_decision"] = False
    return submit_proposal(
        actor=actor,
        title=_title(entries, roles_by_facilitators),
        text=_text(entries, roles_by_facilitators, reason),
        meeting=meeting,
        closes_at=closes_at,
        governance=governance,
    )


def _change(entry: dict) -> str:
    return _("%(member)s: %(was)s → %(role)s") % {
        "member": entry["member"],
        "was": Role(entry["was"]).label,
        "role": Role(entry["role"]).label,
    }


def _title(entries: list[dict], roles_by_facilitators: bool) -> str:
    if not entries:
        return _("Roles: let facilitators give roles again")
    shown = [_change(entry) for entry in entries[:3]]
    more = len(entries) - len(shown)
    if more:
        shown.append(ngettext("and %(n)s more", "and %(n)s more", more) % {"n": more})
    title = _("Roles: %(changes)s") % {"changes": "; ".join(shown)}
    return title[: MAX_TITLE - 1] + "…" if len(title) > MAX_TITLE else title


def _text(entries: list[dict], roles_by_facilitators: bool, reason: str) -> str:
    lines = [_("If this proposal passes, the assembly's rule applies these changes:"), ""]
    lines += [f"- {_change(entry)}" for entry in entries]
    if roles_by_facilitators:
        lines.append("- " + _("From then on, facilitators give roles without a decision."))
    if reason:
        lines += ["", reason]
    return "\n".join(lines)
