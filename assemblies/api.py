"""REST edge for assemblies, members and sittings: parse, authorise, call one service, render.

Reads go through `access` (outsiders get 404 for private things) and `selectors`; every
write is one call to `assemblies.services` (or `accounts` for tokens).
"""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from assemblies import accounts, join_guard, selectors, services
from assemblies.access import (
    get_assembly_for,
    get_assembly_for_join_link,
    get_member_for,
    require_facilitator,
)
from assemblies.serializers import (
    AssemblyCreateSerializer,
    AssemblySerializer,
    AssemblyUpdateSerializer,
    JoinedSerializer,
    JoinSerializer,
    MemberSerializer,
    RoleChangeSerializer,
)
from core.api import Endpoint, parse


def render_assembly(request, assembly, member, status=200) -> Response:
    data = AssemblySerializer(assembly, context={"request": request, "member": member}).data
    return Response(data, status=status)


@extend_schema(tags=["assemblies"])
class AssemblyList(Endpoint):
    @extend_schema(
        summary="Public assemblies and your own",
        responses=AssemblySerializer(many=True),
    )
    def get(self, request):
        return self.page(selectors.assemblies_for_listing(request.user), AssemblySerializer)

    @extend_schema(
        summary="Create an assembly (you become its first facilitator)",
        request=AssemblyCreateSerializer,
        responses={201: AssemblySerializer},
    )
    def post(self, request):
        data = parse(AssemblyCreateSerializer, request)
        assembly = services.create_assembly(actor=request.user, **data)
        _assembly, member = get_assembly_for(request.user, assembly.slug)
        return render_assembly(request, assembly, member, status=201)


@extend_schema(tags=["assemblies"])
class AssemblyDetail(Endpoint):
    @extend_schema(summary="An assembly (facilitators also see its join code)")
    def get(self, request, slug):
        assembly, member = get_assembly_for(request.user, slug)
        return render_assembly(request, assembly, member)

    @extend_schema(
        summary="Change an assembly (facilitators)",
        request=AssemblyUpdateSerializer,
        responses=AssemblySerializer,
    )
    def patch(self, request, slug):
        data = parse(AssemblyUpdateSerializer, request, partial=True)
        assembly, member = get_assembly_for(request.user, slug)
        require_facilitator(member)
        assembly = services.update_assembly(actor=member, assembly=assembly, **data)
        return render_assembly(request, assembly, member)

    serializer_class = AssemblySerializer


@extend_schema(tags=["assemblies"])
class Join(Endpoint):
    """Join with the code shown at the sitting: no account needed, a token comes back.

    With a session or a token, the caller's own account joins; without, a passwordless
    guest account is made. An account may join a public or unlisted assembly without a code.
    """

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Join an assembly by code",
        request=JoinSerializer,
        responses={201: JoinedSerializer},
    )
    def post(self, request, slug):
        data = parse(JoinSerializer, request)
        code = data.get("code", "")
        # Wrong codes only are counted, per client and assembly: a crowd on one address
        # typing the right code is never held back.
        assembly, _code_ok = join_guard.guarded_lookup(
            request, slug, code, lambda: get_assembly_for_join_link(request.user, slug, code)
        )
        member = services.join(
            user=request.user, assembly=assembly, code=code, display_name=data["display_name"]
        )
        token = accounts.api_token_for(user=member.user)
        body = {"token": token.key, "member": MemberSerializer(member).data}
        return Response(body, status=201)


@extend_schema(tags=["members"])
class MemberList(Endpoint):
    @extend_schema(
        summary="Members (facilitators also see pending, departed and removed ones)",
        responses=MemberSerializer(many=True),
    )
    def get(self, request, slug):
        assembly, member = get_assembly_for(request.user, slug)
        everyone = member is not None and member.is_facilitator
        return self.page(
            selectors.members_for_listing(assembly, everyone=everyone), MemberSerializer
        )

    @extend_schema(
        summary="Give a member a role (facilitators)",
        request=RoleChangeSerializer,
        responses={200: MemberSerializer},
    )
    def post(self, request, slug):
        data = parse(RoleChangeSerializer, request)
        assembly, actor = get_assembly_for(request.user, slug)
        require_facilitator(actor)
        target = get_member_for(assembly, data["member_id"])
        target = services.change_role(actor=actor, member=target, role=data["role"])
        return Response(MemberSerializer(target).data)


class _MemberAction(Endpoint):
    service = None

    @extend_schema(request=None, responses={200: MemberSerializer})
    def post(self, request, slug, member_id):
        assembly, actor = get_assembly_for(request.user, slug)
        require_facilitator(actor)
        target = get_member_for(assembly, member_id)
        target = type(self).service(actor=actor, member=target)
        return Response(MemberSerializer(target).data)


@extend_schema(tags=["members"], summary="Admit a member waiting to be admitted (facilitators)")
class MemberAdmit(_MemberAction):
    service = staticmethod(services.admit_member)


@extend_schema(tags=["members"], summary="Remove a member (facilitators)")
class MemberRemove(_MemberAction):
    service = staticmethod(services.remove_member)
