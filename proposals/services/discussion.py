"""Discussion of a proposal: clarifying questions and answers, concerns, friendly amendments."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_participant
from assemblies.models import Membership
from core.errors import Conflict, DomainError, PermissionDenied
from proposals.models import (
    Comment,
    CommentKind,
    CommentStatus,
    Proposal,
    Revision,
)
from proposals.services._common import (
    MAX_TEXT,
    clean_text,
    lock_proposal,
    publish,
    require_open,
    require_same_assembly,
)
from proposals.services.lifecycle import new_revision


@transaction.atomic
def add_comment(
    *,
    actor: Membership,
    proposal: Proposal,
    kind: str,
    text: str,
    parent: Comment | None = None,
    proposed_text: str = "",
) -> Comment:
    """Ask a clarifying question, answer one, raise a concern or suggest a friendly amendment."""
    require_same_assembly(actor, proposal)
    require_participant(actor)
    if kind not in CommentKind.values:
        raise DomainError("invalid_kind", _("Unknown kind of comment."))
    require_open(proposal)
    text = clean_text(
        text, code="text_required", message=_("Please write something."), limit=MAX_TEXT
    )
    parent = _answerable_question(actor, proposal, parent) if kind == CommentKind.ANSWER else None
    if kind == CommentKind.AMENDMENT:
        proposed_text = clean_text(
            proposed_text,
            code="proposed_text_required",
            message=_("A friendly amendment needs the proposed new text."),
            limit=MAX_TEXT,
        )
        if _same_text(proposed_text, proposal.revisions.get(number=proposal.revision_number).text):
            # The page's field starts as the current text: sent back as it was, it amends nothing.
            raise DomainError(
                "proposed_text_unchanged",
                _("This is the current text, unchanged: change what your amendment changes."),
            )
    else:
        proposed_text = ""
    comment = Comment.objects.create(
        proposal=proposal,
        member=actor,
        kind=kind,
        parent=parent,
        text=text,
        proposed_text=proposed_text,
        revision_number=proposal.revision_number,
    )
    if parent is not None and parent.status == CommentStatus.OPEN:
        parent.status = CommentStatus.ADDRESSED
        parent.resolved_at = timezone.now()
        parent.save(update_fields=["status", "resolved_at"])
    publish(proposal, "comment")
    return comment


def _answerable_question(actor: Membership, proposal: Proposal, parent: Comment | None) -> Comment:
    if parent is None or parent.proposal_id != proposal.pk or parent.kind != CommentKind.QUESTION:
        raise DomainError("question_required", _("An answer must reply to a clarifying question."))
    if actor.pk != proposal.author_id and not actor.is_facilitator:
        raise PermissionDenied(
            "not_author", _("Clarifying questions are answered by the author or a facilitator.")
        )
    return parent


def _lock_amendment(actor: Membership, amendment: Comment) -> tuple[Proposal, Comment]:
    proposal = lock_proposal(amendment.proposal)
    require_same_assembly(actor, proposal)
    amendment = Comment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.kind != CommentKind.AMENDMENT:
        raise DomainError("not_amendment", _("This is not a friendly amendment."))
    if proposal.author_id != actor.pk:
        raise PermissionDenied(
            "not_author", _("Only the author of the proposal accepts or declines amendments.")
        )
    if amendment.status != CommentStatus.OPEN:
        raise Conflict("amendment_resolved", _("This amendment was already answered."))
    require_open(proposal)
    return proposal, amendment


@transaction.atomic
def accept_amendment(*, actor: Membership, amendment: Comment) -> Revision:
    """The author accepts: the amended text becomes a new revision; older positions go stale."""
    require_participant(actor)
    proposal, amendment = _lock_amendment(actor, amendment)
    if amendment.revision_number != proposal.revision_number:
        # Its full text was written against an older revision: accepting it now would
        # silently undo the changes made since.
        raise Conflict(
            "amendment_outdated",
            _("This amendment was written for an earlier revision; ask for an updated one."),
        )
    amendment.status = CommentStatus.ACCEPTED
    amendment.resolved_at = timezone.now()
    amendment.save(update_fields=["status", "resolved_at"])
    summary = _("Friendly amendment by %(name)s") % {"name": amendment.member.display_name}
    return new_revision(
        proposal, text=amendment.proposed_text, summary=summary, author=actor, amendment=amendment
    )


@transaction.atomic
def decline_amendment(*, actor: Membership, amendment: Comment) -> Comment:
    require_participant(actor)
    proposal, amendment = _lock_amendment(actor, amendment)
    amendment.status = CommentStatus.DECLINED
    amendment.resolved_at = timezone.now()
    amendment.save(update_fields=["status", "resolved_at"])
    publish(proposal, "comment")
    return amendment


def _same_text(one: str, other: str) -> bool:
    return one.replace("\r\n", "\n").strip() == other.replace("\r\n", "\n").strip()
