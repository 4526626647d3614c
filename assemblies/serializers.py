"""Small input and output serializers for the assemblies API. No business rules here:
the services validate the meaning, these only check the shape."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assemblies.models import Assembly, Meeting, Membership, QuorumOf, Role, Visibility
from assemblies.rule_text import describe_rule
from assemblies.rules import PRESET_LABELS, DecisionRule, RuleError

FRACTION_HELP = 'An exact fraction written "p/q", such as "9/10"; never a float.'


class DecisionRuleSerializer(serializers.Serializer):
    """A decision rule: a preset, parameters, or a preset with some parameters overridden."""

    preset = serializers.ChoiceField(choices=list(PRESET_LABELS), allow_null=True, required=False)
    max_blocks = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    fallback_supermajority = serializers.RegexField(
        r"^\d+/\d+$", allow_null=True, required=False, help_text=FRACTION_HELP
    )
    stand_aside_limit = serializers.RegexField(
        r"^\d+/\d+$", allow_null=True, required=False, help_text=FRACTION_HELP
    )
    quorum = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    reason_required_for_block = serializers.BooleanField(required=False)
    reason_required_for_stand_aside = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    f"unknown decision rule keys: {', '.join(sorted(map(str, unknown)))}"
                )
        values = super().to_internal_value(data)
        try:
            DecisionRule.from_dict(values)
        except RuleError as error:
            raise serializers.ValidationError(str(error)) from error
        return values


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "display_name", "role", "status", "joined_via", "joined_at"]
        read_only_fields = fields


class AssemblySerializer(serializers.ModelSerializer):
    decision_rule = serializers.SerializerMethodField()
    decision_rule_description = serializers.SerializerMethodField()
    my_membership = serializers.SerializerMethodField()
    join_code = serializers.SerializerMethodField()

    class Meta:
        model = Assembly
        fields = [
            "slug",
            "name",
            "description",
            "visibility",
            "admission_required",
            "roles_by_decision",
            "quorum_of",
            "proxy_cap",
            "proxy_may_block",
            "decision_rule",
            "decision_rule_description",
            "created_at",
            "my_membership",
            "join_code",
        ]
        read_only_fields = fields

    def _mine(self, assembly: Assembly) -> Membership | None:
        # Listing prefetches it as `mine`; the detail view passes it in the context.
        if hasattr(assembly, "mine"):
            return assembly.mine[0] if assembly.mine else None
        return self.context.get("member")

    @extend_schema_field(DecisionRuleSerializer)
    def get_decision_rule(self, assembly: Assembly) -> dict:
        """Every parameter, fractions as "p/q" strings, and the preset it came from."""
        return DecisionRule.from_dict(assembly.decision_rule or {}).to_dict()

    def get_decision_rule_description(self, assembly: Assembly) -> str:
        return describe_rule(assembly.rule)

    @extend_schema_field(MemberSerializer(allow_null=True))
    def get_my_membership(self, assembly: Assembly):
        member = self._mine(assembly)
        return MemberSerializer(member).data if member is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_join_code(self, assembly: Assembly) -> str | None:
        """Shown to the assembly's facilitators only."""
        member = self._mine(assembly)
        return assembly.join_code if member is not None and member.is_facilitator else None


class AssemblyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=80, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    decision_rule = DecisionRuleSerializer(required=False)
    admission_required = serializers.BooleanField(required=False)
    roles_by_decision = serializers.BooleanField(
        required=False,
        help_text="Roles change only by a decision of the assembly (default true).",
    )
    display_name = serializers.CharField(
        required=False, allow_blank=True, max_length=80, help_text="Your name in this assembly."
    )


class AssemblyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    decision_rule = DecisionRuleSerializer(required=False)
    admission_required = serializers.BooleanField(required=False)
    roles_by_decision = serializers.BooleanField(
        required=False,
        help_text="Only true is accepted here: turning it off takes a decision of the assembly.",
    )
    quorum_of = serializers.ChoiceField(
        choices=QuorumOf.choices,
        required=False,
        help_text="What the rule's quorum counts: positions taken, or members present.",
    )
    proxy_cap = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=20,
        help_text="How many proxies one member may carry for a sitting or proposal (0: none).",
    )
    proxy_may_block = serializers.BooleanField(
        required=False,
        help_text="Whether a proxy may block in the giver's name (the mandate must say so too).",
    )


class JoinSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="The join code of the sitting."
    )
    display_name = serializers.CharField(max_length=200)


class JoinedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send it as "Authorization: Token <token>".')
    member = MemberSerializer()


class RoleChangeSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    role = serializers.ChoiceField(choices=Role.choices)


class AgendaItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    proposal_id = serializers.IntegerField()
    title = serializers.CharField(source="proposal.title")
    phase = serializers.CharField(source="proposal.phase")


class MeetingSerializer(serializers.ModelSerializer):
    assembly = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "assembly",
            "title",
            "location",
            "scheduled_for",
            "started_at",
            "ended_at",
            "state",
            "current_proposal",
            "agenda",
        ]
        read_only_fields = fields


class MeetingCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True)


class MeetingRescheduleSerializer(serializers.Serializer):
    scheduled_for = serializers.DateTimeField()
    location = serializers.CharField(max_length=200, required=False)


class AgendaAddSerializer(serializers.Serializer):
    proposal_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
