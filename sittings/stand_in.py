"""A sitting survives any one person: its facilitators, stand-ins and the quick consent.

A sitting is facilitated by the assembly's facilitators and by the members named for it
(`Membership.facilitates_sitting`); any of them may act. When none has been connected for
FACILITATOR_AWAY_SECONDS while the sitting is in session, any member may offer to stand in;
a point of process may ask a facilitator to step aside. Either opens a *quick consent*: it
is shown on every phone and the projector and passes unless a member present objects
within QUICK_CONSENT_SECONDS. Every step writes a public log line.

The consent is settled by `settle_due_consents`, which each server process runs every
second (`sittings.presence`); several processes may race, and the row lock lets one win.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_active_member, require_facilitator, require_participant
from assemblies.models import (
    Consent,
    ConsentKind,
    ConsentObjection,
    ConsentState,
    Meeting,
    MeetingState,
    Membership,
    MembershipStatus,
    Role,
)
from core.errors import Conflict, NotFound, PermissionDenied
from sittings.services import log, publish

FACILITATING = Q(role=Role.FACILITATOR, stepped_aside_from__isnull=True) | Q(
    facilitates_sitting__isnull=False
)


def facilitators_of(meeting: Meeting):
    """Who facilitates this sitting now: the assembly's facilitators who did not step aside,
    and the members named for it or accepted as stand-ins."""
    return Membership.objects.filter(
        Q(role=Role.FACILITATOR, stepped_aside_from__isnull=True) | Q(facilitates_sitting=meeting),
        assembly_id=meeting.assembly_id,
        status=MembershipStatus.ACTIVE,
    ).order_by("display_name", "pk")


def open_consent(meeting: Meeting) -> Consent | None:
    return (
        meeting.consents.filter(state=ConsentState.OPEN)
        .select_related("candidate", "raised_by")
        .first()
    )


def facilitation_of(meeting: Meeting) -> dict:
    """The one reader of who facilitates the sitting now, whether they are all away, and the
    question open to the members present (snapshot, pages and API all read this)."""
    return {
        "facilitators": list(facilitators_of(meeting)),
        "away": meeting.facilitators_away_at is not None,
        "consent": open_consent(meeting),
    }


def in_session_locked(actor: Membership, meeting: Meeting | None) -> Meeting:
    """The actor's sitting, locked, refused unless it is in session."""
    if meeting is None or meeting.assembly_id != actor.assembly_id:
        raise NotFound("meeting_not_found", _("There is no such sitting."))
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state != MeetingState.IN_SESSION:
        raise Conflict("meeting_not_in_session", _("This sitting is not in session."))
    return meeting


def member_locked(meeting: Meeting, member: Membership) -> Membership:
    member = Membership.objects.select_for_update().filter(pk=member.pk).first()
    if member is None or member.assembly_id != meeting.assembly_id or not member.is_active:
        raise NotFound("member_not_found", _("There is no such member."))
    return member


# --- facilitators named for one sitting ------------------------------------------------------


@transaction.atomic
def name_sitting_facilitator(*, actor: Membership, meeting: Meeting, member: Membership):
    """A facilitator asks a member to co-facilitate this sitting, until it ends."""
    require_facilitator(actor)
    meeting = in_session_locked(actor, meeting)
    member = member_locked(meeting, member)
    require_participant(member)
    if member.is_facilitator:
        raise Conflict(
            "already_facilitating",
            _("%(name)s already facilitates.") % {"name": member.display_name},
        )
    member.facilitates_sitting = meeting
    member.save(update_fields=["facilitates_sitting"])
    log(meeting, actor, "assemblies.sitting_facilitator.named", member=member.display_name)
    publish(meeting, "facilitation")
    return member


@transaction.atomic
def release_sitting_facilitator(*, actor: Membership, meeting: Meeting, member: Membership):
    """A facilitator (or the member herself) ends a facilitation for this sitting only."""
    require_active_member(actor)
    if actor.pk != member.pk:
        require_facilitator(actor)
    meeting = in_session_locked(actor, meeting)
    member = member_locked(meeting, member)
    if member.facilitates_sitting_id != meeting.pk:
        raise Conflict(
            "not_sitting_facilitator",
            _("%(name)s does not facilitate this sitting only.") % {"name": member.display_name},
        )
    _require_someone_left(meeting, member)
    member.facilitates_sitting = None
    member.save(update_fields=["facilitates_sitting"])
    log(meeting, actor, "assemblies.sitting_facilitator.released", member=member.display_name)
    publish(meeting, "facilitation")
    return member


def _require_someone_left(meeting: Meeting, leaving: Membership) -> None:
    if not facilitators_of(meeting).exclude(pk=leaving.pk).exists():
        raise Conflict(
            "last_sitting_facilitator", _("The sitting would have nobody left to facilitate it.")
        )


# --- the quick consent -------------------------------------------------------------------------


def _open(meeting: Meeting, kind: str, candidate: Membership, actor: Membership) -> Consent:
    if meeting.consents.filter(state=ConsentState.OPEN).exists():
        raise Conflict(
            "consent_open",
            _("The members present are already asked a question: wait until it is settled."),
        )
    now = timezone.now()
    return Consent.objects.create(
        meeting=meeting,
        kind=kind,
        candidate=candidate,
        raised_by=actor,
        opened_at=now,
        closes_at=now + timedelta(seconds=settings.QUICK_CONSENT_SECONDS),
    )


@transaction.atomic
def offer_to_stand_in(*, actor: Membership, meeting: Meeting | None) -> Consent:
    """No facilitator has been connected for two minutes: a member offers to facilitate."""
    require_participant(actor)
    meeting = in_session_locked(actor, meeting)
    if actor.is_facilitator:
        raise Conflict("already_facilitating", _("You already facilitate this sitting."))
    if meeting.facilitators_away_at is None:
        raise Conflict(
            "facilitator_present",
            _(
                "A facilitator is connected. A member may offer to stand in once no "
                "facilitator has been connected for %(minutes)s minutes."
            )
            % {"minutes": round(settings.FACILITATOR_AWAY_SECONDS / 60, 1)},
        )
    consent = _open(meeting, ConsentKind.STAND_IN, actor, actor)
    log(meeting, actor, "assemblies.consent.stand_in_offered", seconds=_window())
    publish(meeting, "facilitation")
    return consent


@transaction.atomic
def ask_to_step_aside(
    *, actor: Membership, meeting: Meeting | None, facilitator: Membership
) -> Consent:
    """A point of process: "the facilitator should step aside", put to the members present."""
    require_participant(actor)
    meeting = in_session_locked(actor, meeting)
    facilitator = member_locked(meeting, facilitator)
    if not facilitators_of(meeting).filter(pk=facilitator.pk).exists():
        raise Conflict(
            "not_facilitating",
            _("%(name)s does not facilitate this sitting.") % {"name": facilitator.display_name},
        )
    if facilitator.pk == actor.pk:
        raise Conflict(
            "own_step_aside", _("To stop facilitating yourself, hand over to another facilitator.")
        )
    consent = _open(meeting, ConsentKind.STEP_ASIDE, facilitator, actor)
    log(
        meeting,
        actor,
        "assemblies.consent.step_aside_asked",
        member=facilitator.display_name,
        seconds=_window(),
    )
    publish(meeting, "facilitation")
    return consent


def _window() -> int:
    return round(settings.QUICK_CONSENT_SECONDS)


def _lock_open(actor: Membership, consent: Consent, now: datetime) -> Consent:
    consent = (
        Consent.objects.select_for_update()
        .select_related("meeting", "candidate")
        .filter(pk=consent.pk, meeting__assembly_id=actor.assembly_id)
        .first()
    )
    if consent is None:
        raise NotFound("consent_not_found", _("There is no such question."))
    if consent.state != ConsentState.OPEN or consent.closes_at <= now:
        raise Conflict("consent_closed", _("This question is already settled."))
    return consent


@transaction.atomic
def object_to(*, actor: Membership, consent: Consent) -> Consent:
    """One objection from a member present is enough: the question does not pass."""
    require_participant(actor)
    now = timezone.now()
    consent = _lock_open(actor, consent, now)
    if actor.pk == consent.candidate_id:
        if consent.kind == ConsentKind.STAND_IN:
            raise Conflict("own_offer", _("To take back your offer, withdraw it."))
        raise PermissionDenied(
            "concerned", _("The question is about you: the other members present answer it.")
        )
    ConsentObjection.objects.create(consent=consent, member=actor)
    consent.state, consent.settled_at = ConsentState.OBJECTED, now
    consent.save(update_fields=["state", "settled_at"])
    action = f"assemblies.consent.{consent.kind}_objected"
    log(consent.meeting, actor, action, member=consent.candidate.display_name)
    publish(consent.meeting, "facilitation")
    return consent


@transaction.atomic
def withdraw(*, actor: Membership, consent: Consent) -> Consent:
    """Who raised the question takes it back before it is settled."""
    require_participant(actor)
    now = timezone.now()
    consent = _lock_open(actor, consent, now)
    if actor.pk != consent.raised_by_id:
        raise PermissionDenied(
            "not_yours", _("Only the member who raised this question can withdraw it.")
        )
    consent.state, consent.settled_at = ConsentState.WITHDRAWN, now
    consent.save(update_fields=["state", "settled_at"])
    action = f"assemblies.consent.{consent.kind}_withdrawn"
    log(consent.meeting, actor, action, member=consent.candidate.display_name)
    publish(consent.meeting, "facilitation")
    return consent


def settle_due_consents(now: datetime | None = None) -> int:
    """Accept every open question whose time is up (an objection would have closed it)."""
    now = now or timezone.now()
    due = Consent.objects.filter(state=ConsentState.OPEN, closes_at__lte=now)
    settled = 0
    for consent_id in due.values_list("pk", flat=True):
        settled += _settle(consent_id, now)
    return settled


@transaction.atomic
def _settle(consent_id: int, now: datetime) -> int:
    consent = (
        Consent.objects.select_for_update(skip_locked=True)
        .select_related("meeting", "candidate")
        .filter(pk=consent_id, state=ConsentState.OPEN, closes_at__lte=now)
        .first()
    )
    if consent is None:
        return 0  # another process settles it, or did
    meeting, candidate = consent.meeting, consent.candidate
    consent.state, consent.settled_at = ConsentState.ACCEPTED, now
    consent.save(update_fields=["state", "settled_at"])
    candidate = Membership.objects.select_for_update().get(pk=candidate.pk)
    if consent.kind == ConsentKind.STAND_IN:
        candidate.facilitates_sitting = meeting
        candidate.save(update_fields=["facilitates_sitting"])
        Meeting.objects.filter(pk=meeting.pk).update(
            facilitator_seen_at=now, facilitators_away_at=None
        )
    else:
        candidate.stepped_aside_from = meeting
        if candidate.facilitates_sitting_id == meeting.pk:
            candidate.facilitates_sitting = None
        candidate.save(update_fields=["stepped_aside_from", "facilitates_sitting"])
        if not facilitators_of(meeting).exists():
            # Nobody facilitates now: a stand-in may be offered at once, not in two minutes.
            Meeting.objects.filter(pk=meeting.pk).update(facilitators_away_at=now)
    action = f"assemblies.consent.{consent.kind}_accepted"
    log(meeting, None, action, member=candidate.display_name, seconds=_window())
    publish(meeting, "facilitation")
    return 1


# --- presence ----------------------------------------------------------------------------------


def note_facilitators_connected(member_ids: set[int], now: datetime | None = None) -> int:
    """The sockets of these members are open in this process: mark their sittings seen."""
    if not member_ids:
        return 0
    now = now or timezone.now()
    assemblies = set(
        Membership.objects.filter(FACILITATING, pk__in=member_ids, status=MembershipStatus.ACTIVE)
        .values_list("assembly_id", flat=True)
        .distinct()
    )
    in_session = Meeting.objects.filter(assembly_id__in=assemblies, state=MeetingState.IN_SESSION)
    back = list(in_session.filter(facilitators_away_at__isnull=False))
    seen = in_session.update(facilitator_seen_at=now, facilitators_away_at=None)
    for meeting in back:
        publish(meeting, "facilitation")
    return seen


def note_facilitators_away(now: datetime | None = None) -> int:
    """Mark (once) each sitting in session whose facilitators have all been gone too long."""
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.FACILITATOR_AWAY_SECONDS)
    gone = Meeting.objects.filter(
        Q(facilitator_seen_at__lt=since)
        | Q(facilitator_seen_at__isnull=True, started_at__lt=since),
        state=MeetingState.IN_SESSION,
        facilitators_away_at__isnull=True,
    )
    marked = 0
    for meeting in gone.select_related("assembly"):
        with transaction.atomic():
            # The same condition again: a facilitator may have been seen since the read.
            if gone.filter(pk=meeting.pk).update(facilitators_away_at=now):
                log(meeting, None, "assemblies.meeting.facilitators_away", seconds=_away())
                publish(meeting, "facilitation")
                marked += 1
    return marked


def _away() -> int:
    return round(settings.FACILITATOR_AWAY_SECONDS)
