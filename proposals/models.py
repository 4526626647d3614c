"""What is decided: Proposal, Revision, Position, Comment, temperature checks, Decision."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from assemblies import rules
from assemblies.rules import DecisionRule
from core.choices import labelled_choices
from core.markdown import render_markdown


class Phase(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PRESENTED = "presented", _("Presented")
    QUESTIONS = "questions", _("Clarifying questions")
    CONCERNS = "concerns", _("Concerns")
    AMENDMENTS = "amendments", _("Friendly amendments")
    CALL = "call", _("Call for consensus")
    DECIDED = "decided", _("Decided")
    TABLED = "tabled", _("Tabled")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The discussion phases, in the order a general assembly moves through them.
DISCUSSION_PHASES = [Phase.PRESENTED, Phase.QUESTIONS, Phase.CONCERNS, Phase.AMENDMENTS]
OPEN_PHASES = [Phase.DRAFT, *DISCUSSION_PHASES, Phase.CALL]
FINAL_PHASES = [Phase.DECIDED, Phase.WITHDRAWN]


class Proposal(models.Model):
    assembly = models.ForeignKey(
        "assemblies.Assembly", on_delete=models.PROTECT, related_name="proposals"
    )
    meeting = models.ForeignKey(
        "assemblies.Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
        help_text=_("The sitting it is decided at; empty for an online proposal."),
    )
    author = models.ForeignKey(
        "assemblies.Membership", on_delete=models.PROTECT, related_name="proposals"
    )
    title = models.CharField(_("title"), max_length=200)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.DRAFT)
    revision_number = models.PositiveIntegerField(_("current revision"), default=1)
    # The assembly's rule as it was when the call for consensus opened (DecisionRule.to_dict()).
    rule = models.JSONField(_("decision rule applied"), null=True, blank=True)
    call_opened_at = models.DateTimeField(null=True, blank=True)
    # Online proposals: the call for consensus closes by itself at this time.
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True, db_index=True)
    # A proposal of the assembly's own organisation: what the rule applies if it passes,
    # {"roles": [{"member_id", "member", "role", "was"}], "roles_by_decision": false?}.
    # Fixed when submitted (a revision changes the words, never this); None for the rest.
    governance = models.JSONField(_("roles it changes"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(phase__in=[choice.value for choice in Phase]),
                name="proposal_phase_valid",
            ),
            models.CheckConstraint(
                condition=Q(rule__isnull=False) | ~Q(phase__in=["call", "decided"]),
                name="proposal_call_has_rule",
            ),
        ]
        indexes = [models.Index(fields=["assembly", "phase"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("proposals:detail", args=[self.assembly.slug, self.pk])

    @property
    def decision_rule(self) -> DecisionRule | None:
        return DecisionRule.from_dict(self.rule) if self.rule else None

    @property
    def is_open_for_positions(self) -> bool:
        return self.phase == Phase.CALL

    @property
    def is_final(self) -> bool:
        return self.phase in FINAL_PHASES


class Revision(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("number"))
    text = models.TextField(_("text"), help_text=_("Markdown."))
    # Rendered once when the revision is written (its text never changes), never per view.
    text_html = models.TextField(editable=False, blank=True, default="")
    summary = models.CharField(_("summary of change"), max_length=300, blank=True)
    author = models.ForeignKey("assemblies.Membership", on_delete=models.PROTECT, related_name="+")
    amendment = models.OneToOneField(
        "Comment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resulting_revision",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["proposal", "number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="revision_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="revision_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal} r{self.number}"

    def save(self, *args, **kwargs):
        if self._state.adding or not self.text_html:
            self.text_html = render_markdown(self.text)
        super().save(*args, **kwargs)


# The kinds and outcomes are defined once, in the pure rules; here they get their labels.
PositionKind = labelled_choices(
    "PositionKind",
    rules.PositionKind,
    {
        rules.PositionKind.AGREE: _("Agree"),
        rules.PositionKind.STAND_ASIDE: _("Stand aside"),
        rules.PositionKind.BLOCK: _("Block"),
    },
)


class Position(models.Model):
    """One statement of a member's position. Append-only: a change is a new row.

    Exactly one row per member and proposal is `is_current`, enforced by a partial unique
    constraint; the previous row keeps its place in the history.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="positions")
    member = models.ForeignKey(
        "assemblies.Membership", on_delete=models.PROTECT, related_name="positions"
    )
    kind = models.CharField(_("position"), max_length=12, choices=PositionKind.choices)
    reason = models.TextField(_("reason"), blank=True)
    revision_number = models.PositiveIntegerField(_("revision"))
    is_current = models.BooleanField(default=True)
    # Set by clients that retry (the websocket, the API): a retry is acknowledged, not re-applied.
    request_id = models.CharField(max_length=64, blank=True)
    # Set when a proxy holder stated it for `member` ("Ben for Ana"); `proxy` is the proxy used.
    stated_by = models.ForeignKey(
        "assemblies.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="positions_stated_for_others",
    )
    proxy = models.ForeignKey(
        "Proxy", null=True, blank=True, on_delete=models.PROTECT, related_name="positions"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "member"],
                condition=Q(is_current=True),
                name="position_one_current_per_member",
            ),
            models.UniqueConstraint(
                fields=["member", "request_id"],
                condition=~Q(request_id=""),
                name="position_request_id_once",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["agree", "stand_aside", "block"]),
                name="position_kind_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["proposal", "kind"],
                condition=Q(is_current=True),
                name="position_current_by_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.who}: {self.get_kind_display()}"

    @property
    def who(self) -> str:
        """ "Ana", or "Ben for Ana" when Ben stated it with her proxy."""
        if self.stated_by_id:
            return proxy_label(self.stated_by.display_name, self.member.display_name)
        return self.member.display_name


class CommentKind(models.TextChoices):
    QUESTION = "question", _("Clarifying question")
    ANSWER = "answer", _("Answer")
    CONCERN = "concern", _("Concern")
    AMENDMENT = "amendment", _("Friendly amendment")


class CommentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ADDRESSED = "addressed", _("Addressed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    member = models.ForeignKey(
        "assemblies.Membership", on_delete=models.PROTECT, related_name="comments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CommentKind.choices)
    # An answer replies to a question; other kinds stand on their own.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    text = models.TextField(_("text"))
    text_html = models.TextField(editable=False, blank=True, default="")
    # A friendly amendment carries the full proposed text of the new revision.
    proposed_text = models.TextField(_("proposed text"), blank=True)
    proposed_text_html = models.TextField(editable=False, blank=True, default="")
    revision_number = models.PositiveIntegerField(_("revision"))
    status = models.CharField(
        _("status"), max_length=10, choices=CommentStatus.choices, default=CommentStatus.OPEN
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["question", "answer", "concern", "amendment"]),
                name="comment_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=False) | ~Q(kind="answer"),
                name="comment_answer_has_question",
            ),
            models.CheckConstraint(
                condition=~Q(proposed_text="") | ~Q(kind="amendment"),
                name="comment_amendment_has_text",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.member.display_name}"

    def save(self, *args, **kwargs):
        # Rendered once, when written: every page shows the stored HTML.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"text", "proposed_text"} & set(update_fields):
            self.text_html = render_markdown(self.text)
            self.proposed_text_html = render_markdown(self.proposed_text)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "text_html", "proposed_text_html"}
        super().save(*args, **kwargs)


class TemperatureCheck(models.Model):
    """A quick, non-binding reading (up / so-so / down) while a proposal is discussed."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="temperature_checks"
    )
    opened_by = models.ForeignKey(
        "assemblies.Membership", on_delete=models.PROTECT, related_name="+"
    )
    revision_number = models.PositiveIntegerField()
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("temperature check")
        verbose_name_plural = _("temperature checks")
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"],
                condition=Q(closed_at__isnull=True),
                name="temperature_one_open_per_proposal",
            )
        ]

    def __str__(self) -> str:
        return f"Temperature check on {self.proposal}"


class Reading(models.TextChoices):
    UP = "up", _("Up (warm)")
    SO_SO = "so_so", _("So-so")
    DOWN = "down", _("Down (cold)")


class TemperatureReading(models.Model):
    check_run = models.ForeignKey(
        TemperatureCheck, on_delete=models.CASCADE, related_name="readings"
    )
    member = models.ForeignKey("assemblies.Membership", on_delete=models.CASCADE, related_name="+")
    reading = models.CharField(max_length=6, choices=Reading.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["check_run", "member"], name="temperature_one_reading_per_member"
            ),
            models.CheckConstraint(
                condition=Q(reading__in=["up", "so_so", "down"]), name="temperature_reading_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.display_name}: {self.get_reading_display()}"


# What a decision records: every outcome but "tabled" (tabling sets a proposal aside undecided).
Outcome = labelled_choices(
    "Outcome",
    rules.Outcome,
    {
        rules.Outcome.CONSENSUS: _("Consensus"),
        rules.Outcome.CONSENSUS_WITH_STAND_ASIDES: _("Consensus with stand-asides"),
        rules.Outcome.MODIFIED_CONSENSUS: _("Passed by modified consensus"),
        rules.Outcome.BLOCKED: _("Blocked"),
        rules.Outcome.TOO_MANY_STAND_ASIDES: _("No consensus: too many stand-asides"),
        rules.Outcome.NO_QUORUM: _("No quorum"),
        rules.Outcome.WITHDRAWN: _("Withdrawn"),
    },
    leave_out={rules.Outcome.TABLED},
)


class Decision(models.Model):
    """The immutable record of how a proposal ended, chained by digest within its assembly."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="decision")
    assembly = models.ForeignKey(
        "assemblies.Assembly", on_delete=models.PROTECT, related_name="decisions"
    )
    sequence = models.PositiveIntegerField(_("number in the assembly's history"))
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices)
    agree_count = models.PositiveIntegerField(default=0)
    stand_aside_count = models.PositiveIntegerField(default=0)
    block_count = models.PositiveIntegerField(default=0)
    rule = models.JSONField(_("decision rule applied"), null=True, blank=True)
    revision_number = models.PositiveIntegerField()
    closed_by = models.ForeignKey(
        "assemblies.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when an online call closed at its set time."),
    )
    decided_at = models.DateTimeField()
    # The canonical record the digest covers, including every position and reason.
    record = models.JSONField()
    # The hall's share of the counts, when the hall was counted: {"agree", "stand_aside",
    # "block"}; the counts above are the sum of online and hall (docs/hybrid.md).
    hall_counts = models.JSONField(null=True, blank=True)
    previous_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["assembly", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "sequence"], name="decision_sequence_unique"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[choice.value for choice in Outcome]),
                name="decision_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.proposal}: {self.get_outcome_display()}"

    def get_absolute_url(self) -> str:
        return self.proposal.get_absolute_url()

    @property
    def counts(self) -> dict[str, int]:
        return {
            "agree": self.agree_count,
            "stand_aside": self.stand_aside_count,
            "block": self.block_count,
        }

    @property
    def online_counts(self) -> dict[str, int]:
        """The positions taken on phones and computers: the counts less the hall's."""
        hall = self.hall_counts or {}
        return {kind: n - hall.get(kind, 0) for kind, n in self.counts.items()}


class TreeHead(models.Model):
    """A signed tree head: the size and Merkle root of an assembly's decisions at one time.

    Written with each decision, in its transaction, and never changed (a trigger on
    PostgreSQL). The signature covers `proposals.transparency.signed_bytes`; the key is not in
    the database, so a head cannot be forged by rewriting this table.
    """

    assembly = models.ForeignKey(
        "assemblies.Assembly", on_delete=models.PROTECT, related_name="tree_heads"
    )
    tree_size = models.PositiveIntegerField(_("number of decisions covered"))
    root_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=88)

    class Meta:
        verbose_name = _("signed tree head")
        verbose_name_plural = _("signed tree heads")
        ordering = ["assembly", "tree_size"]
        constraints = [
            models.UniqueConstraint(fields=["assembly", "tree_size"], name="tree_head_size_unique")
        ]

    def __str__(self) -> str:
        return f"{self.assembly_id} @{self.tree_size} {self.root_hash[:12]}"


class CallReminder(models.Model):
    """A call's closing announced ahead of time (`lead_hours` before `closes_at`), once.

    The row is the "once": the online closer's ticker runs in every server process, and the
    unique constraint lets exactly one of them announce each reminder. A call whose closing
    time is moved gets reminders again for its new time.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reminders")
    lead_hours = models.PositiveSmallIntegerField()
    closes_at = models.DateTimeField()
    announced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "lead_hours", "closes_at"], name="call_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead_hours} h before {self.closes_at:%Y-%m-%d %H:%M} ({self.proposal_id})"


class HallCount(models.Model):
    """One counter's count of the hall on a call for consensus (docs/hybrid.md).

    The hall's figures are recorded when the two counters' current counts agree; a recount
    clears both (`cleared_at`), and the counters count again.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="hall_counts")
    meeting = models.ForeignKey("assemblies.Meeting", on_delete=models.CASCADE, related_name="+")
    counter = models.ForeignKey("assemblies.Membership", on_delete=models.PROTECT, related_name="+")
    agree = models.PositiveIntegerField(_("agree"))
    stand_aside = models.PositiveIntegerField(_("stand aside"))
    block = models.PositiveIntegerField(_("block"))
    # The blocks as spoken in the hall: [{"name": "Rosa" or "" (from the hall), "reason"}].
    blocks = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hall count")
        verbose_name_plural = _("hall counts")
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "counter"],
                condition=Q(cleared_at__isnull=True),
                name="hall_count_one_current_per_counter",
            )
        ]

    def __str__(self) -> str:
        return f"Hall count of {self.proposal} by {self.counter}"

    @property
    def tally(self) -> rules.Tally:
        return rules.Tally(agree=self.agree, stand_aside=self.stand_aside, block=self.block)


class Mandate(models.TextChoices):
    """What a proxy holder is asked to do: state one position, or use her judgement."""

    AGREE = "agree", _("State agree")
    STAND_ASIDE = "stand_aside", _("State stand aside")
    BLOCK = "block", _("State block")
    JUDGEMENT = "judgement", _("Use your judgement")


class Proxy(models.Model):
    """A member's proxy, given to another member for one sitting or one proposal.

    The holder may state the giver's position ("Ben for Ana") on what it covers, within the
    mandate; the giver's own position always overrides it. Revocable until the call opens;
    a revoked proxy keeps its row (the public log refers to it).
    """

    assembly = models.ForeignKey(
        "assemblies.Assembly", on_delete=models.PROTECT, related_name="proxies"
    )
    giver = models.ForeignKey(
        "assemblies.Membership", on_delete=models.PROTECT, related_name="proxies_given"
    )
    holder = models.ForeignKey(
        "assemblies.Membership", on_delete=models.PROTECT, related_name="proxies_held"
    )
    # Exactly one of the two: every proposal decided at that sitting, or this one proposal.
    meeting = models.ForeignKey(
        "assemblies.Meeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proxies",
    )
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.PROTECT, related_name="proxies"
    )
    mandate = models.CharField(_("mandate"), max_length=12, choices=Mandate.choices)
    # The mandate's own choice; it counts only where the assembly lets proxies block at all.
    may_block = models.BooleanField(_("may block in my name"), default=False)
    # The giver's words, stated with a mandated position as its reason.
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("proxy")
        verbose_name_plural = _("proxies")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(meeting__isnull=True, proposal__isnull=False)
                | Q(meeting__isnull=False, proposal__isnull=True),
                name="proxy_one_scope",
            ),
            models.CheckConstraint(
                condition=~Q(giver=models.F("holder")), name="proxy_not_to_oneself"
            ),
            models.CheckConstraint(
                condition=Q(mandate__in=["agree", "stand_aside", "block", "judgement"]),
                name="proxy_mandate_valid",
            ),
            models.UniqueConstraint(
                fields=["giver", "meeting"],
                condition=Q(revoked_at__isnull=True, meeting__isnull=False),
                name="proxy_one_per_sitting",
            ),
            models.UniqueConstraint(
                fields=["giver", "proposal"],
                condition=Q(revoked_at__isnull=True, proposal__isnull=False),
                name="proxy_one_per_proposal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.giver} → {self.holder} ({self.mandate})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def covering(proposal: Proposal) -> Q:
        """Proxies that apply to `proposal`: for it, or for the sitting it is decided at."""
        if proposal.meeting_id:
            return Q(proposal=proposal) | Q(meeting_id=proposal.meeting_id)
        return Q(proposal=proposal)


def proxy_label(holder: str, giver: str) -> str:
    """How a position stated with a proxy is named everywhere: "Ben for Ana"."""
    return _("%(holder)s for %(giver)s") % {"holder": holder, "giver": giver}
