"""Proxies over the REST API (docs/hybrid.md): list, give, revoke. Stating a position with a
proxy is the positions endpoint with `for_member`. Each view parses, authorises and calls
one service."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assemblies.access import get_assembly_for, get_member_for, require_participant
from core.api import Endpoint, parse, parse_query
from core.errors import NotFound
from proposals import selectors, services
from proposals.access import get_proxy_scope
from proposals.models import Mandate, Proxy
from proposals.services._common import MAX_REASON


class ProxySerializer(serializers.ModelSerializer):
    giver = serializers.CharField(source="giver.display_name")
    holder = serializers.CharField(source="holder.display_name")
    meeting = serializers.IntegerField(source="meeting_id", allow_null=True)
    proposal = serializers.IntegerField(source="proposal_id", allow_null=True)
    active = serializers.BooleanField(source="is_active")
    may_block = serializers.BooleanField(
        help_text="Whether the holder may block in the giver's name (assembly and mandate)."
    )

    class Meta:
        model = Proxy
        fields = [
            "id",
            "giver_id",
            "giver",
            "holder_id",
            "holder",
            "meeting",
            "proposal",
            "mandate",
            "may_block",
            "reason",
            "active",
            "created_at",
            "revoked_at",
        ]
        read_only_fields = fields


class ProxyCreateSerializer(serializers.Serializer):
    holder = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The membership id of who carries it."
    )
    meeting = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="A sitting…"
    )
    proposal = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="…or one proposal."
    )
    mandate = serializers.ChoiceField(
        choices=Mandate.choices, help_text="The position to state, or judgement."
    )
    may_block = serializers.BooleanField(
        required=False, default=False, help_text="With judgement: may block in your name."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_REASON,
        help_text="Your words, stated with a mandated position as its reason.",
    )


class ProxyListFilter(serializers.Serializer):
    all = serializers.BooleanField(required=False, default=False)


@extend_schema(tags=["proxies"])
class AssemblyProxies(Endpoint):
    @extend_schema(
        summary="The assembly's proxies (active ones; ?all=true adds revoked)",
        parameters=[ProxyListFilter],
        responses=ProxySerializer(many=True),
    )
    def get(self, request, slug):
        filters = parse_query(ProxyListFilter, request)
        assembly, _member = get_assembly_for(request.user, slug)
        proxies = selectors.proxies_of(assembly, active_only=not filters["all"])
        return self.page(proxies, ProxySerializer)

    @extend_schema(
        summary="Give your proxy for a sitting or a proposal to another member",
        request=ProxyCreateSerializer,
        responses={201: ProxySerializer},
    )
    def post(self, request, slug):
        data = parse(ProxyCreateSerializer, request)
        assembly, member = get_assembly_for(request.user, slug)
        require_participant(member)
        proxy = services.give_proxy(
            actor=member,
            holder=get_member_for(assembly, data["holder"]),
            mandate=data["mandate"],
            may_block=data["may_block"],
            reason=data.get("reason", ""),
            **get_proxy_scope(
                assembly, meeting_id=data.get("meeting"), proposal_id=data.get("proposal")
            ),
        )
        return Response(ProxySerializer(proxy).data, status=201)


@extend_schema(tags=["proxies"])
class ProxyRevoke(Endpoint):
    @extend_schema(
        summary="Revoke a proxy you gave, or decline one you carry (until the call opens)",
        request=None,
        responses=ProxySerializer,
    )
    def post(self, request, proxy_id):
        proxy = (
            Proxy.objects.select_related("assembly", "giver", "holder", "meeting", "proposal")
            .filter(pk=proxy_id)
            .first()
        )
        if proxy is None:
            raise NotFound("proxy_not_found", _("There is no such proxy."))
        _assembly, member = get_assembly_for(request.user, proxy.assembly.slug)
        proxy = services.revoke_proxy(actor=member, proxy=proxy)
        return Response(ProxySerializer(proxy).data)
