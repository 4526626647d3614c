"""The body that decides and its sittings: Assembly, Membership, Meeting, agenda, stack, log."""

import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assemblies.names import name_key
from assemblies.rules import DEFAULT_RULE, DecisionRule
from core.markdown import render_markdown

# No 0/O/1/I/L: a join code is read aloud in a noisy park and typed on a phone.
JOIN_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def new_projector_key() -> str:
    return secrets.token_urlsafe(18)


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: listed, readable by anyone")
    UNLISTED = "unlisted", _("Unlisted: readable by anyone with the link")
    PRIVATE = "private", _("Private: members only")


class QuorumOf(models.TextChoices):
    POSITIONS = "positions", _("Positions taken")
    PRESENT = "present", _("Members present")


class Assembly(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    # The description rendered once, when written (core.markdown), never per page view.
    description_html = models.TextField(editable=False, blank=True, default="")
    # The secret of the projector link that shows the join code of a non-public assembly:
    # the screen in the hall shows it, a remote observer or participant does not see it.
    projector_key = models.CharField(max_length=32, default=new_projector_key, editable=False)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    # A `assemblies.rules.DecisionRule` as `to_dict()`; snapshotted into each proposal when
    # its call for consensus opens, so changing it never changes a running vote.
    decision_rule = models.JSONField(_("decision rule"), default=dict)
    join_code = models.CharField(_("join code"), max_length=16, unique=True, default=new_join_code)
    # When set, people who join by code wait until a facilitator admits them.
    admission_required = models.BooleanField(_("admission required"), default=False)
    # When set, roles change only by a decision of the assembly (a proposal of roles), never
    # by a facilitator alone; on for every new assembly (existing ones chose before it existed).
    roles_by_decision = models.BooleanField(_("roles given by decision"), default=True)
    # What the rule's quorum is measured against: the positions taken, or the members present
    # at the sitting (checked in or counted at the door; docs/hybrid.md).
    quorum_of = models.CharField(
        _("quorum measured against"),
        max_length=10,
        choices=QuorumOf.choices,
        default=QuorumOf.POSITIONS,
    )
    # Proxies (docs/hybrid.md): how many absent members' proxies one member may carry at
    # once (0: this assembly takes no proxies), and whether a proxy may ever block in the
    # giver's name (the mandate must say so too).
    proxy_cap = models.PositiveSmallIntegerField(_("proxies one member may carry"), default=1)
    proxy_may_block = models.BooleanField(_("a proxy may block"), default=False)
    # The founder facilitates only until the assembly first appoints a facilitator itself.
    founding_ended = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("assembly")
        verbose_name_plural = _("assemblies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "unlisted", "private"]),
                name="assembly_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(quorum_of__in=["positions", "present"]),
                name="assembly_quorum_of_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Every way of writing a description (services, the admin) renders it here, once.
        self.description_html = render_markdown(self.description)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "description" in update_fields:
            kwargs["update_fields"] = {*update_fields, "description_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("sittings:assembly", args=[self.slug])

    def join_code_stamp(self) -> str:
        """A keyed fingerprint of the join code: it tells a projector that the code changed
        without telling anyone what it is (not computable without the SECRET_KEY)."""
        digest = hmac.new(settings.SECRET_KEY.encode(), self.join_code.encode(), "sha256")
        return digest.hexdigest()[:12]

    @property
    def rule(self) -> DecisionRule:
        """The assembly's rule, parsed (stored as JSON, validated by the services)."""
        return DecisionRule.from_dict(self.decision_rule) if self.decision_rule else DEFAULT_RULE

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE


class Role(models.TextChoices):
    PARTICIPANT = "participant", _("Participant")
    FACILITATOR = "facilitator", _("Facilitator")
    OBSERVER = "observer", _("Observer")


class JoinedVia(models.TextChoices):
    ACCOUNT = "account", _("Account")
    CODE = "code", _("Join code")
    INVITATION = "invitation", _("Added by a facilitator")


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PENDING = "pending", _("Waiting to be admitted")
    LEFT = "left", _("Left")
    REMOVED = "removed", _("Removed")


# The longest `name_key` stored: an 80-character name of compatibility characters can grow
# far longer under NFKC (U+FDFA becomes 18 letters); such a name is refused as too long, so
# the unique index never meets a row too large for it.
NAME_KEY_LENGTH = 320


class NameKeyField(models.CharField):
    """`Membership.name_key`: derived from `display_name` on every write of it (`save`,
    `create`, `bulk_create`), so no path can store a name without its key."""

    def pre_save(self, model_instance, add):
        value = name_key(model_instance.display_name)
        setattr(model_instance, self.attname, value)
        return value


class Membership(models.Model):
    """A person's place in one assembly. People who join by code get a passwordless user.

    Display names are unique within an assembly as `assemblies.names.name_key` compares
    them ("Ana", "ANA" and a full-width "Ana" are one name), for every status: a member who
    left or was removed keeps their name, because the minutes and tallies already show it.
    """

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(
        _("role"), max_length=12, choices=Role.choices, default=Role.PARTICIPANT
    )
    display_name = models.CharField(_("display name"), max_length=80)
    name_key = NameKeyField(max_length=NAME_KEY_LENGTH, editable=False)
    joined_via = models.CharField(
        _("joined via"), max_length=12, choices=JoinedVia.choices, default=JoinedVia.ACCOUNT
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    # Facilitating one sitting without the role: named for it, or a stand-in the members
    # present accepted. Cleared when the sitting is adjourned.
    facilitates_sitting = models.ForeignKey(
        "Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A facilitator the members present asked to step aside: she does not facilitate this
    # sitting (whatever her role) until it is adjourned.
    stepped_aside_from = models.ForeignKey(
        "Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["display_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "assembly"], name="membership_one_per_user"),
            # The services check first and suggest a free name; this decides a race.
            models.UniqueConstraint(
                fields=["assembly", "name_key"], name="membership_name_unique_in_assembly"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["participant", "facilitator", "observer"]),
                name="membership_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "pending", "left", "removed"]),
                name="membership_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["assembly", "status", "role"]),
            # The guests who joined in the last minute (the flood guard of join_by_code):
            # without it each join read every membership of the assembly.
            models.Index(fields=["assembly", "joined_at"], name="membership_recent_joins"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()}, {self.assembly})"

    def save(self, *args, **kwargs):
        # A changed name changes its key too, also when only some fields are written.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "display_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def clean(self):
        """For the admin, whose forms skip the constraint on a field they do not show."""
        super().clean()
        if self.assembly_id is None:
            return
        others = Membership.objects.filter(
            assembly_id=self.assembly_id, name_key=name_key(self.display_name)
        ).exclude(pk=self.pk)
        if others.exists():
            raise ValidationError(
                {"display_name": _("Someone in this assembly already has this name.")}
            )

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE

    @property
    def is_facilitator(self) -> bool:
        """May facilitate now: by role (unless asked to step aside), or for this sitting."""
        if not self.is_active:
            return False
        by_role = self.role == Role.FACILITATOR and self.stepped_aside_from_id is None
        return by_role or self.facilitates_sitting_id is not None

    @property
    def holds_facilitator_role(self) -> bool:
        """The assembly's own facilitator (for what only the assembly's facilitators do:
        its settings, roles and members), not one who stepped aside."""
        return self.is_active and self.role == Role.FACILITATOR and not self.stepped_aside_from_id

    @property
    def can_act(self) -> bool:
        """Observers watch; only active participants and facilitators take part."""
        return self.is_active and self.role != Role.OBSERVER


class MeetingState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    IN_SESSION = "in_session", _("In session")
    ADJOURNED = "adjourned", _("Adjourned")


class Meeting(models.Model):
    """A sitting of the assembly, in a park, a hall, online or all at once."""

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(_("title"), max_length=200)
    location = models.CharField(_("location"), max_length=200, blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=MeetingState.choices, default=MeetingState.SCHEDULED
    )
    current_proposal = models.ForeignKey(
        "proposals.Proposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    progressive_stack = models.BooleanField(_("progressive stack"), default=False)
    # The speaker timer: running while timer_started_at is set.
    timer_seconds = models.PositiveIntegerField(_("speaking time (seconds)"), default=120)
    timer_started_at = models.DateTimeField(null=True, blank=True)
    # The last time a facilitator of the sitting had a live connection (a page or the
    # console); `facilitators_away_at` is set once nobody has for FACILITATOR_AWAY_SECONDS.
    facilitator_seen_at = models.DateTimeField(null=True, blank=True)
    facilitators_away_at = models.DateTimeField(null=True, blank=True)
    # The two members a facilitator chose to count the hall for this sitting (docs/hybrid.md).
    hall_counters = models.ManyToManyField(
        "Membership", blank=True, related_name="counts_sittings", verbose_name=_("hall counters")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sitting")
        verbose_name_plural = _("sittings")
        ordering = ["-scheduled_for", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["scheduled", "in_session", "adjourned"]),
                name="meeting_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | Q(started_at__isnull=False, ended_at__gte=models.F("started_at")),
                name="meeting_ends_after_start",
            ),
            # At most one sitting of an assembly is in session at a time.
            models.UniqueConstraint(
                fields=["assembly"],
                condition=Q(state="in_session"),
                name="meeting_one_in_session_per_assembly",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.assembly})"


class PresenceVia(models.TextChoices):
    CHECK_IN = "check_in", _("Checked in")
    DOOR = "door", _("Counted at the door")


class Presence(models.Model):
    """A member present at a sitting: checked in herself or counted at the door by a counter."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="presences")
    member = models.ForeignKey("Membership", on_delete=models.CASCADE, related_name="+")
    via = models.CharField(_("how"), max_length=10, choices=PresenceVia.choices)
    counted_by = models.ForeignKey(
        "Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presences")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="presence_once_per_sitting"),
            models.CheckConstraint(
                condition=Q(via="check_in", counted_by__isnull=True)
                | Q(via="door", counted_by__isnull=False),
                name="presence_door_has_counter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} at {self.meeting}"


class AgendaItem(models.Model):
    """A proposal on a sitting's agenda, in order; a tabled proposal may return to a later one."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.CASCADE, related_name="agenda_items"
    )
    position = models.PositiveIntegerField(_("order"))

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "proposal"], name="agenda_proposal_once"),
            models.UniqueConstraint(
                fields=["meeting", "position"],
                name="agenda_position_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.proposal}"


class StackKind(models.TextChoices):
    # Listed in the order the stack keeper calls them: priority first.
    POINT_OF_PROCESS = "point_of_process", _("Point of process")
    CLARIFYING_QUESTION = "clarifying_question", _("Clarifying question")
    DIRECT_RESPONSE = "direct_response", _("Direct response")
    POINT_OF_INFORMATION = "point_of_information", _("Point of information")
    SPEAK = "speak", _("To speak")


class StackState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    SPEAKING = "speaking", _("Speaking")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REMOVED = "removed", _("Removed")


def hall_speaker_label(name: str) -> str:
    """How a hall speaker is shown wherever names are: never mistaken for a member."""
    return gettext("%(name)s (in the hall)") % {"name": name}


class StackEntry(models.Model):
    """A request to speak at a sitting, shared by people in the hall and people online.

    Either a member asks (`member`), or the stack keeper puts someone in the hall without a
    phone on the stack by name (`hall_name`): that person is not a member, takes no
    position and is shown as "Ana (in the hall)".
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="stack_entries")
    member = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="stack_entries",
    )
    hall_name = models.CharField(_("name in the hall"), max_length=80, blank=True, default="")
    kind = models.CharField(_("kind"), max_length=24, choices=StackKind.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=StackState.choices, default=StackState.WAITING
    )
    # Raised by the stack keeper (progressive stack, "step up"); higher is called earlier.
    priority = models.SmallIntegerField(_("priority"), default=0)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stack entry")
        verbose_name_plural = _("stack entries")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member", "kind"],
                condition=Q(state="waiting"),
                name="stack_one_waiting_entry_per_kind",
            ),
            models.UniqueConstraint(
                fields=["meeting"],
                condition=Q(state="speaking"),
                name="stack_one_speaker_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False, hall_name="")
                | (Q(member__isnull=True) & ~Q(hall_name="")),
                name="stack_entry_member_or_hall_name",
            ),
        ]
        indexes = [models.Index(fields=["meeting", "state"])]

    def __str__(self) -> str:
        return f"{self.speaker_name}: {self.get_kind_display()} ({self.get_state_display()})"

    @property
    def from_hall(self) -> bool:
        return self.member_id is None

    @property
    def speaker_name(self) -> str:
        """The name shown on the stack, in the log and the minutes."""
        if self.from_hall:
            return hall_speaker_label(self.hall_name)
        return self.member.display_name

    @property
    def speaker_key(self) -> int | str:
        """Who speaks, for the progressive stack: a member's id, or a hall speaker's name."""
        return f"hall:{name_key(self.hall_name)}" if self.from_hall else self.member_id


class LogEntry(models.Model):
    """The public record of every facilitator (and system) action, in the minutes too."""

    assembly = models.ForeignKey(Assembly, on_delete=models.CASCADE, related_name="log_entries")
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.CASCADE, related_name="log_entries"
    )
    actor = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Namespaced action code, e.g. "proposals.call.closed"; rendered to text when shown.
    action = models.CharField(_("action"), max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("facilitation log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class Signal(models.TextChoices):
    AGREE = "agree", _("Agree (up-twinkles)")
    SO_SO = "so_so", _("So-so")
    DISAGREE = "disagree", _("Disagree (down-twinkles)")
    POINT_OF_PROCESS = "point_of_process", _("Point of process")
    POINT_OF_INFORMATION = "point_of_information", _("Point of information")
    CLARIFYING_QUESTION = "clarifying_question", _("Clarifying question")
    DIRECT_RESPONSE = "direct_response", _("Direct response")
    WRAP_UP = "wrap_up", _("Wrap it up")


class HandSignal(models.Model):
    """A member's latest hand signal at a sitting; shown only aggregated and fading.

    One row per member and sitting, overwritten by each new signal: the table stays as
    small as the assembly, however often hands go up.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="hand_signals")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    signal = models.CharField(max_length=24, choices=Signal.choices)
    shown_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("hand signal")
        verbose_name_plural = _("hand signals")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"], name="hand_signal_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(signal__in=[choice.value for choice in Signal]),
                name="hand_signal_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.display_name}: {self.get_signal_display()}"


class ConsentKind(models.TextChoices):
    STAND_IN = "stand_in", _("Stand in as facilitator")
    STEP_ASIDE = "step_aside", _("The facilitator should step aside")


class ConsentState(models.TextChoices):
    OPEN = "open", _("open")
    ACCEPTED = "accepted", _("accepted")
    OBJECTED = "objected", _("objected to")
    WITHDRAWN = "withdrawn", _("withdrawn")
    LAPSED = "lapsed", _("lapsed")  # the sitting ended first


class Consent(models.Model):
    """A quick consent of the members present: accepted unless someone objects in time.

    `candidate` is the member who offers to stand in, or the facilitator asked to step aside.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=12, choices=ConsentKind.choices)
    candidate = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=ConsentState.choices, default=ConsentState.OPEN)
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField(db_index=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("quick consent")
        verbose_name_plural = _("quick consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["stand_in", "step_aside"]), name="consent_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=[choice.value for choice in ConsentState]),
                name="consent_state_valid",
            ),
            # One question at a time before the members present.
            models.UniqueConstraint(
                fields=["meeting"], condition=Q(state="open"), name="consent_one_open_per_sitting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.candidate.display_name}"


class ConsentObjection(models.Model):
    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="objections")
    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [
            models.UniqueConstraint(
                fields=["consent", "member"], name="consent_objection_one_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member.display_name} objects to {self.consent}"
