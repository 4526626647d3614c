"""What an email or a webhook says about an event: the facts, then words in a language.

`facts(...)` reads the event's objects once; `render_email(...)` writes one member's message
(subject, plain text and HTML, headers) in their language; `webhook_payload(...)` is the
documented JSON of docs/notifications.md.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from assemblies.models import Assembly, Meeting, Membership
from assemblies.rule_text import describe_rule
from core import events
from notifications import tokens
from proposals.models import Decision, Outcome, Position, PositionKind, Proposal
from proposals.selectors import recorded_name, tree_head_of
from proposals.transparency import head_document


def tree_head_for(decision: Decision) -> dict | None:
    """The signed tree head written with this decision (its tree ends with it), as the API
    and history.json publish it: a member can keep it and check the history later."""
    head = tree_head_of(decision)
    return head_document(head, decision.assembly.slug) if head is not None else None


@dataclass
class Facts:
    event: str
    assembly: Assembly
    proposal: Proposal | None = None
    meeting: Meeting | None = None
    decision: Decision | None = None
    reference: str = ""
    dissent: list[dict] = field(default_factory=list)
    # A proxy used: the position the holder stated for the giver.
    position: Position | None = None

    @property
    def addressees(self) -> set[int] | None:
        """The only members who hear of it (a personal event), or None for every member."""
        if self.event == events.PROXY_USED:
            return {self.position.member_id} if self.position is not None else set()
        return None

    @property
    def key(self) -> str:
        """This occurrence of the event, the same for every recipient (the outbox's "once")."""
        if self.proposal is not None and self.event != events.AGENDA_ADDED:
            subject = f"proposal:{self.proposal.pk}"
        elif self.meeting is not None:
            subject = f"meeting:{self.meeting.pk}"
            if self.proposal is not None:
                subject += f":proposal:{self.proposal.pk}"
        else:
            subject = f"assembly:{self.assembly.pk}"
        return f"{self.event}:{subject}" + (f":{self.reference}" if self.reference else "")


def facts(
    *, event: str, assembly_id: int, proposal_id=None, meeting_id=None, reference=""
) -> Facts:
    assembly = Assembly.objects.get(pk=assembly_id)
    proposal = (
        Proposal.objects.select_related("assembly", "meeting").filter(pk=proposal_id).first()
        if proposal_id
        else None
    )
    meeting = Meeting.objects.filter(pk=meeting_id).first() if meeting_id else None
    found = Facts(event=event, assembly=assembly, proposal=proposal, meeting=meeting)
    found.reference = reference
    if event == events.PROXY_USED and reference.startswith("position:"):
        found.position = (
            Position.objects.select_related("member", "stated_by")
            .filter(pk=int(reference.removeprefix("position:")), proposal=proposal)
            .first()
        )
    if event == events.DECISION_RECORDED and proposal is not None:
        found.decision = Decision.objects.filter(proposal=proposal).first()
        if found.decision is not None:
            # The reasons as recorded: the same the history and its digest cover.
            found.dissent = [
                row
                for row in found.decision.record.get("positions", [])
                if row.get("kind") in (PositionKind.BLOCK, PositionKind.STAND_ASIDE)
            ]
    return found


def lead_hours(found: Facts) -> int:
    """A reminder's hours before the closing time (its reference is "24h" or "1h")."""
    hours = found.reference.removesuffix("h")
    return int(hours) if found.event == events.CALL_CLOSING_SOON and hours.isdigit() else 0


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def when(value) -> str:
    """A time in the active language, with its zone named (members live anywhere)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"


def _subject(found: Facts) -> str:
    proposal = found.proposal.title if found.proposal else ""
    meeting = found.meeting.title if found.meeting else ""
    lines = {
        events.PROPOSAL_SUBMITTED: _("New proposal: %(proposal)s"),
        events.AGENDA_ADDED: _("On the agenda of %(meeting)s: %(proposal)s"),
        events.CALL_OPENED: _("Call for consensus: %(proposal)s"),
        events.CALL_CLOSING_SOON: _("Closes in %(hours)s h: %(proposal)s"),
        events.DECISION_RECORDED: _("Decided: %(proposal)s"),
        events.MEETING_SCHEDULED: _("Sitting scheduled: %(meeting)s"),
        events.MEETING_MOVED: _("Sitting moved: %(meeting)s"),
        events.PROXY_USED: _("%(holder)s used your proxy: %(proposal)s"),
    }
    position = found.position
    line = lines[found.event] % {
        "proposal": proposal,
        "meeting": meeting,
        "hours": lead_hours(found),
        "holder": position.stated_by.display_name if position else "",
    }
    return f"[{found.assembly.name}] {line}"


def respond_links(found: Facts, member: Membership) -> list[tuple[str, str]]:
    """(label, URL) of the one-tap answers; each lands on a confirmation page (GET never acts)."""
    if found.proposal is None or not member.can_act:
        return []
    token = tokens.respond_token(member.pk, found.proposal.pk)
    labels = {
        PositionKind.AGREE: _("Agree"),
        PositionKind.STAND_ASIDE: _("Stand aside"),
        PositionKind.BLOCK: _("Block"),
    }
    return [
        (
            labels[kind],
            absolute(
                reverse(
                    "notifications:respond",
                    args=[found.assembly.slug, found.proposal.pk, kind],
                )
                + "?"
                + urlencode({"t": token})
            ),
        )
        for kind in (PositionKind.AGREE, PositionKind.STAND_ASIDE, PositionKind.BLOCK)
    ]


def unsubscribe_url(member: Membership) -> str:
    return absolute(
        reverse("notifications:unsubscribe", args=[tokens.unsubscribe_token(member.pk)])
    )


def _context(found: Facts, member: Membership) -> dict:
    proposal, meeting, decision = found.proposal, found.meeting, found.decision
    context = {
        "event": found.event.rsplit(".", 1)[-1],
        "assembly": found.assembly,
        "assembly_url": absolute(found.assembly.get_absolute_url()),
        "member": member,
        "proposal": proposal,
        "meeting": meeting,
        "hours": lead_hours(found),
        "preferences_url": absolute(
            reverse("notifications:preferences", args=[found.assembly.slug])
        ),
        "unsubscribe_url": unsubscribe_url(member),
        "respond_links": [],
    }
    if proposal is not None:
        context["proposal_url"] = absolute(proposal.get_absolute_url())
        context["closes_at"] = when(proposal.closes_at)
        if proposal.decision_rule is not None:
            context["rule"] = describe_rule(proposal.decision_rule)
        if found.event in (events.CALL_OPENED, events.CALL_CLOSING_SOON):
            context["respond_links"] = respond_links(found, member)
    if found.position is not None:
        context["proxy_position"] = found.position
        context["proxy_kind"] = dict(PositionKind.choices).get(found.position.kind, "")
    if meeting is not None:
        context["meeting_when"] = when(meeting.scheduled_for)
        context["meeting_ics_url"] = absolute(
            reverse("notifications:sitting_ics", args=[found.assembly.slug, meeting.pk])
        )
    if decision is not None:
        context.update(
            decision=decision,
            outcome=dict(Outcome.choices).get(decision.outcome, decision.outcome),
            dissent=[
                {
                    "member": recorded_name(row),  # "Ben for Ana" when stated with a proxy
                    "kind": str(dict(PositionKind.choices).get(row["kind"], row["kind"])),
                    "reason": row.get("reason", ""),
                }
                for row in found.dissent
            ],
            tree_head=tree_head_for(decision),
        )
    return context


def render_email(found: Facts, member: Membership, language: str) -> EmailMultiAlternatives:
    """One member's email about the event, in their language, with one-click unsubscribe."""
    with translation.override(language):
        context = _context(found, member)
        context["language"] = language
        subject = _subject(found)
        text = render_to_string("notifications/email/message.txt", context)
        html = render_to_string("notifications/email/message.html", context)
    return _message(subject, text, html, member, context["unsubscribe_url"], language)


def render_digest(items: list[Facts], member: Membership, language: str):
    with translation.override(language):
        assembly = member.assembly
        entries = []
        for found in items:
            entry = _context(found, member)
            entry["subject"] = _subject(found).removeprefix(f"[{assembly.name}] ")
            entries.append(entry)
        context = {
            "assembly": assembly,
            "assembly_url": absolute(assembly.get_absolute_url()),
            "entries": entries,
            "member": member,
            "language": language,
            "preferences_url": absolute(reverse("notifications:preferences", args=[assembly.slug])),
            "unsubscribe_url": unsubscribe_url(member),
        }
        subject = f"[{assembly.name}] " + _("Your daily digest: %(count)d news") % {
            "count": len(entries)
        }
        text = render_to_string("notifications/email/digest.txt", context)
        html = render_to_string("notifications/email/digest.html", context)
    return _message(subject, text, html, member, context["unsubscribe_url"], language)


def _message(subject, text, html, member, unsubscribe, language) -> EmailMultiAlternatives:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[member.user.email],
        headers={
            # RFC 2369 and RFC 8058: a mail client may offer "unsubscribe" and POST to it.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{member.assembly.name} <{member.assembly.slug}.{host}>",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def webhook_payload(found: Facts, *, delivery_id: int | None = None) -> dict:
    """The JSON a chat bridge receives (schema in docs/notifications.md), in the site's language."""
    proposal, meeting, decision = found.proposal, found.meeting, found.decision
    with translation.override(settings.LANGUAGE_CODE):
        payload = {
            "event": found.event,
            "id": found.key,
            "occurred_at": timezone.now().isoformat(),
            "text": _subject(found),
            "assembly": {
                "slug": found.assembly.slug,
                "name": found.assembly.name,
                "url": absolute(found.assembly.get_absolute_url()),
            },
            "proposal": None,
            "meeting": None,
            "decision": None,
        }
        if proposal is not None:
            payload["proposal"] = {
                "id": proposal.pk,
                "title": proposal.title,
                "phase": proposal.phase,
                "url": absolute(proposal.get_absolute_url()),
                "closes_at": proposal.closes_at.isoformat() if proposal.closes_at else None,
                "rule": describe_rule(proposal.decision_rule) if proposal.decision_rule else None,
            }
        if meeting is not None:
            payload["meeting"] = {
                "id": meeting.pk,
                "title": meeting.title,
                "scheduled_for": meeting.scheduled_for.isoformat()
                if meeting.scheduled_for
                else None,
                "location": meeting.location,
            }
        if decision is not None:
            payload["decision"] = {
                "sequence": decision.sequence,
                "outcome": decision.outcome,
                "counts": decision.counts,
                "dissent": [
                    {
                        "member": row.get("member", ""),
                        "kind": row["kind"],
                        "reason": row.get("reason", ""),
                        # The proxy holder who stated it for the member, if one did.
                        "stated_by": (row.get("stated_by") or {}).get("member"),
                    }
                    for row in found.dissent
                ],
                "digest": decision.digest,
                "tree_head": tree_head_for(decision),
            }
    return payload
