"""Small input and output serializers for the proposals API (shapes only; services decide)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assemblies import rules
from assemblies.models import Role
from assemblies.serializers import DecisionRuleSerializer
from proposals import selectors
from proposals.models import (
    Comment,
    CommentKind,
    Decision,
    Outcome,
    Phase,
    Position,
    PositionKind,
    Proposal,
    Revision,
)

MAX_ID = 2**63 - 1


class CountsSerializer(serializers.Serializer):
    agree = serializers.IntegerField()
    stand_aside = serializers.IntegerField()
    block = serializers.IntegerField()


class MemberRefSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    member = serializers.CharField()


def member_ref(member) -> dict | None:
    return {"member_id": member.pk, "member": member.display_name} if member else None


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.display_name")
    amendment = serializers.IntegerField(source="amendment_id", allow_null=True)

    class Meta:
        model = Revision
        fields = ["number", "text", "summary", "author_id", "author", "amendment", "created_at"]
        read_only_fields = fields


class PositionSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.display_name")
    stated_by = serializers.CharField(
        source="stated_by.display_name",
        allow_null=True,
        default=None,
        help_text="The proxy holder who stated it for the member (“Ben for Ana”), or null.",
    )
    revision = serializers.IntegerField(source="revision_number")
    taken_at = serializers.DateTimeField(source="created_at")
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Position
        fields = [
            "id",
            "member_id",
            "member",
            "stated_by_id",
            "stated_by",
            "proxy_id",
            "kind",
            "reason",
            "revision",
            "stale",
            "is_current",
            "taken_at",
        ]
        read_only_fields = fields

    def get_stale(self, position: Position) -> bool:
        """Taken on an older text: it still counts, but the member is asked to restate it."""
        current = self.context.get("revision_number")
        return current is not None and position.revision_number != current


class CommentSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.display_name")
    revision = serializers.IntegerField(source="revision_number")

    class Meta:
        model = Comment
        fields = [
            "id",
            "kind",
            "member_id",
            "member",
            "text",
            "proposed_text",
            "parent",
            "revision",
            "status",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields


class DecisionSerializer(serializers.ModelSerializer):
    assembly = serializers.CharField(source="assembly.slug")
    proposal_title = serializers.CharField(source="proposal.title")
    passed = serializers.SerializerMethodField()
    counts = CountsSerializer()
    rule = DecisionRuleSerializer(allow_null=True)
    revision = serializers.IntegerField(source="revision_number")
    closed_by = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "assembly",
            "sequence",
            "proposal_id",
            "proposal_title",
            "outcome",
            "passed",
            "counts",
            "rule",
            "revision",
            "closed_by",
            "decided_at",
            "previous_digest",
            "digest",
        ]
        read_only_fields = fields

    def get_passed(self, decision: Decision) -> bool:
        return rules.Outcome(decision.outcome).passed

    @extend_schema_field(MemberRefSerializer(allow_null=True))
    def get_closed_by(self, decision: Decision):
        """Null when an online call closed by itself at its set time."""
        return member_ref(decision.closed_by)


class DecisionDetailSerializer(DecisionSerializer):
    record = serializers.JSONField(
        help_text="The canonical record the digest covers: every position and reason."
    )

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "record"]
        read_only_fields = fields


class GovernanceRoleSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    member = serializers.CharField(help_text="The member's name when it was proposed.")
    role = serializers.ChoiceField(choices=Role.choices, help_text="The role it gives.")
    was = serializers.ChoiceField(choices=Role.choices, help_text="The role before.")


class GovernanceSerializer(serializers.Serializer):
    """What a proposal of roles applies when it passes (null for any other proposal)."""

    roles = GovernanceRoleSerializer(many=True)
    roles_by_decision = serializers.BooleanField(
        required=False, help_text="Present (false) when it lets facilitators give roles again."
    )


class ProposalSerializer(serializers.ModelSerializer):
    """A proposal in a list: its phase, live tally and outcome once decided."""

    assembly = serializers.CharField(source="assembly.slug")
    author = serializers.SerializerMethodField()
    meeting = serializers.IntegerField(source="meeting_id", allow_null=True)
    tally = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "assembly",
            "title",
            "phase",
            "author",
            "meeting",
            "revision_number",
            "closes_at",
            "created_at",
            "updated_at",
            "tally",
            "outcome",
        ]
        read_only_fields = fields

    @extend_schema_field(MemberRefSerializer)
    def get_author(self, proposal: Proposal):
        return member_ref(proposal.author)

    @extend_schema_field(CountsSerializer)
    def get_tally(self, proposal: Proposal):
        tallies = self.context.get("tallies")
        if tallies is not None and proposal.pk in tallies:
            return tallies[proposal.pk].as_dict()
        return selectors.tally_for(proposal).as_dict()

    @extend_schema_field(serializers.ChoiceField(choices=Outcome.choices, allow_null=True))
    def get_outcome(self, proposal: Proposal):
        decision = getattr(proposal, "decision", None) if proposal.is_final else None
        return decision.outcome if decision else None


class ProposalDetailSerializer(ProposalSerializer):
    """One proposal: current revision, phase, tally, current positions, decision once made."""

    revision = serializers.SerializerMethodField()
    rule = DecisionRuleSerializer(
        allow_null=True, help_text="The rule snapshotted when the call for consensus opened."
    )
    governance = GovernanceSerializer(allow_null=True, read_only=True)
    positions = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()

    class Meta(ProposalSerializer.Meta):
        fields = [
            *ProposalSerializer.Meta.fields,
            "call_opened_at",
            "rule",
            "governance",
            "revision",
            "positions",
            "decision",
        ]
        read_only_fields = fields

    @extend_schema_field(RevisionSerializer)
    def get_revision(self, proposal: Proposal):
        revision = selectors.revisions_of(proposal).get(number=proposal.revision_number)
        return RevisionSerializer(revision).data

    @extend_schema_field(PositionSerializer(many=True))
    def get_positions(self, proposal: Proposal):
        context = {"revision_number": proposal.revision_number}
        return PositionSerializer(
            selectors.current_positions(proposal), many=True, context=context
        ).data

    @extend_schema_field(DecisionDetailSerializer(allow_null=True))
    def get_decision(self, proposal: Proposal):
        decision = selectors.decision_of(proposal)
        return DecisionDetailSerializer(decision).data if decision else None


class ProposalCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    text = serializers.CharField(max_length=50_000, help_text="Markdown.")
    meeting_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    closes_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Online proposals: the call opens at once and closes itself at this time.",
    )


class RoleChangeRequestSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    role = serializers.ChoiceField(choices=Role.choices)


class RoleProposalCreateSerializer(serializers.Serializer):
    changes = RoleChangeRequestSerializer(many=True, max_length=20, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5_000)
    roles_by_facilitators = serializers.BooleanField(
        required=False, help_text="Also (or only) let facilitators give roles again."
    )
    meeting_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    closes_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Decided online: the call opens at once and closes itself at this time.",
    )


class CommentCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CommentKind.choices)
    text = serializers.CharField(max_length=50_000)
    parent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Answers only."
    )
    proposed_text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=50_000,
        help_text="Friendly amendments only: the full proposed new text.",
    )


class PositionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PositionKind.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5_000)
    request_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Optional: a retry with the same id is acknowledged, not applied twice.",
    )
    for_member = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Optional: the membership id of a member whose proxy you carry; the "
        "position is stated for her (“Ben for Ana”) within her mandate.",
    )


DISCUSSION_PHASE_CHOICES = [
    (phase.value, phase.label)
    for phase in (Phase.PRESENTED, Phase.QUESTIONS, Phase.CONCERNS, Phase.AMENDMENTS)
]


class PhaseSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=DISCUSSION_PHASE_CHOICES)


class CallSerializer(serializers.Serializer):
    closes_at = serializers.DateTimeField(required=False, allow_null=True)


class DecisionFilterSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Decided at or after.")
    until = serializers.DateTimeField(required=False, help_text="Decided before.")
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)


# --- The transparency log (docs/history-verification.md) ------------------------------------


class TreeHeadSerializer(serializers.Serializer):
    """A signed tree head as published: the signature covers every field but itself."""

    format = serializers.CharField(help_text='Always "multitude-tree-head".')
    assembly = serializers.CharField(help_text="The assembly's slug.")
    tree_size = serializers.IntegerField(help_text="How many decisions the tree covers.")
    root_hash = serializers.CharField(help_text="RFC 9162 Merkle tree hash, lowercase hex.")
    timestamp = serializers.CharField(help_text="When it was signed: UTC ISO 8601, microseconds.")
    key_id = serializers.CharField(help_text="First 16 hex digits of SHA-256(public key).")
    signature = serializers.CharField(help_text="Ed25519 over the signed bytes, base64.")


class CurrentTreeHeadSerializer(TreeHeadSerializer):
    decisions = serializers.IntegerField(
        help_text="Decisions the database holds now (not signed): more than tree_size means "
        "a decision was added without the server's signature."
    )


class InclusionQuerySerializer(serializers.Serializer):
    sequence = serializers.IntegerField(min_value=1, help_text="The decision's sequence.")
    tree_size = serializers.IntegerField(
        min_value=1, required=False, help_text="The tree to prove it in (default: the newest)."
    )


class InclusionProofSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    leaf_index = serializers.IntegerField(help_text="0-based place of the leaf in the tree.")
    tree_size = serializers.IntegerField()
    leaf = serializers.JSONField(help_text='{"digest", "record"}: its canonical JSON is the leaf.')
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || leaf), hex.")
    audit_path = serializers.ListField(
        child=serializers.CharField(), help_text="RFC 9162 §2.1.3 inclusion proof, hex nodes."
    )


class ConsistencyQuerySerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=0, help_text="The earlier tree size.")
    second = serializers.IntegerField(
        min_value=0, required=False, help_text="The later tree size (default: the newest)."
    )


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    proof = serializers.ListField(
        child=serializers.CharField(), help_text="RFC 9162 §2.1.4 consistency proof, hex nodes."
    )


class PublicKeySerializer(serializers.Serializer):
    algorithm = serializers.CharField(help_text='Always "Ed25519".')
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="The 32 raw bytes of the key, base64.")
    public_key_pem = serializers.CharField(help_text="The same key as SubjectPublicKeyInfo PEM.")


class HistoryReportSerializer(serializers.Serializer):
    head = serializers.JSONField(help_text="The signed tree head the browser had kept.")


class HistoryReportResultSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='"reported", or "already_reported".')
    message = serializers.CharField()
