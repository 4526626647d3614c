"""REST edge for proposals, positions, decisions and the exports: parse, authorise through
`access`, call one service, render. The same services serve the pages and the live socket."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from assemblies.access import (
    get_assembly_for,
    get_meeting_for,
    get_member_for,
    require_active_member,
    require_facilitator,
    require_participant,
)
from core.api import (
    Endpoint,
    Export,
    SequenceCursorPagination,
    created,
    file_schema,
    ok,
    parse,
    parse_query,
)
from core.errors import NotFound
from proposals import exports, selectors, services, signing, transparency
from proposals.access import get_comment_for, get_decision_for, get_proposal_by_id_for
from proposals.models import Phase
from proposals.serializers import (
    CallSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    ConsistencyProofSerializer,
    ConsistencyQuerySerializer,
    CurrentTreeHeadSerializer,
    DecisionDetailSerializer,
    DecisionFilterSerializer,
    DecisionSerializer,
    HistoryReportResultSerializer,
    HistoryReportSerializer,
    InclusionProofSerializer,
    InclusionQuerySerializer,
    PhaseSerializer,
    PositionCreateSerializer,
    PositionSerializer,
    ProposalCreateSerializer,
    ProposalDetailSerializer,
    ProposalSerializer,
    PublicKeySerializer,
    RevisionSerializer,
    RoleProposalCreateSerializer,
    TreeHeadSerializer,
)


@extend_schema(tags=["proposals"])
class AssemblyProposals(Endpoint):
    @extend_schema(
        summary="An assembly's proposals with their live tally",
        parameters=[OpenApiParameter("phase", enum=Phase.values, required=False)],
        responses=ProposalSerializer(many=True),
    )
    def get(self, request, slug):
        assembly, _member = get_assembly_for(request.user, slug)
        phase = request.query_params.get("phase")
        if phase not in Phase.values:
            phase = None
        return self.page(
            selectors.proposals_for_listing(assembly, phase=phase),
            ProposalSerializer,
            per_page=lambda rows: {"tallies": selectors.tallies_for(p.pk for p in rows)},
        )

    @extend_schema(
        summary="Write a proposal down (participants)",
        request=ProposalCreateSerializer,
        responses={201: ProposalDetailSerializer},
    )
    def post(self, request, slug):
        data = parse(ProposalCreateSerializer, request)
        _assembly, member = get_assembly_for(request.user, slug)
        require_participant(member)
        meeting = None
        if data.get("meeting_id"):
            meeting, _member = get_meeting_for(request.user, data["meeting_id"])
        proposal = services.submit_proposal(
            actor=member,
            title=data["title"],
            text=data["text"],
            meeting=meeting,
            closes_at=data.get("closes_at"),
        )
        return created(ProposalDetailSerializer, proposal, request)


@extend_schema(tags=["proposals"])
class RoleProposals(Endpoint):
    @extend_schema(
        summary="Propose a change of roles, where the assembly gives roles by decision",
        description=(
            "Any participant may propose to appoint or recall members (a facilitator, an "
            "observer made participant, ...), and/or to let facilitators give roles again. "
            "It is decided like any proposal; when it passes, the assembly's rule applies it "
            "and the public log cites the decision."
        ),
        request=RoleProposalCreateSerializer,
        responses={201: ProposalDetailSerializer},
    )
    def post(self, request, slug):
        data = parse(RoleProposalCreateSerializer, request)
        assembly, member = get_assembly_for(request.user, slug)
        require_participant(member)
        meeting = None
        if data.get("meeting_id"):
            meeting, _member = get_meeting_for(request.user, data["meeting_id"])
        changes = [
            (get_member_for(assembly, change["member_id"]), change["role"])
            for change in data.get("changes", [])
        ]
        proposal = services.propose_roles(
            actor=member,
            changes=changes,
            reason=data.get("reason", ""),
            roles_by_facilitators=data.get("roles_by_facilitators", False),
            meeting=meeting,
            closes_at=data.get("closes_at"),
        )
        return created(ProposalDetailSerializer, proposal, request)


@extend_schema(tags=["proposals"])
class ProposalDetail(Endpoint):
    serializer_class = ProposalDetailSerializer

    @extend_schema(summary="A proposal: current revision, phase, tally, positions, decision")
    def get(self, request, proposal_id):
        proposal, _member = get_proposal_by_id_for(request.user, proposal_id)
        return ok(ProposalDetailSerializer, proposal, request)


@extend_schema(tags=["proposals"])
class ProposalRevisions(Endpoint):
    @extend_schema(summary="Every revision of the text", responses=RevisionSerializer(many=True))
    def get(self, request, proposal_id):
        proposal, _member = get_proposal_by_id_for(request.user, proposal_id)
        return self.page(selectors.revisions_of(proposal), RevisionSerializer)


@extend_schema(tags=["proposals"])
class ProposalComments(Endpoint):
    @extend_schema(
        summary="Clarifying questions, answers, concerns and friendly amendments",
        responses=CommentSerializer(many=True),
    )
    def get(self, request, proposal_id):
        proposal, _member = get_proposal_by_id_for(request.user, proposal_id)
        return self.page(selectors.comments_of(proposal), CommentSerializer)

    @extend_schema(
        summary="Ask, answer, raise a concern or suggest a friendly amendment",
        request=CommentCreateSerializer,
        responses={201: CommentSerializer},
    )
    def post(self, request, proposal_id):
        data = parse(CommentCreateSerializer, request)
        proposal, member = get_proposal_by_id_for(request.user, proposal_id)
        require_participant(member)
        parent = selectors.comment_of(proposal, data.get("parent"))
        comment = services.add_comment(
            actor=member,
            proposal=proposal,
            kind=data["kind"],
            text=data["text"],
            parent=parent,
            proposed_text=data.get("proposed_text", ""),
        )
        return created(CommentSerializer, comment, request)


@extend_schema(tags=["proposals"])
class ProposalPositions(Endpoint):
    @extend_schema(
        summary="Current positions with names and reasons", responses=PositionSerializer(many=True)
    )
    def get(self, request, proposal_id):
        proposal, _member = get_proposal_by_id_for(request.user, proposal_id)
        return self.page(
            selectors.current_positions(proposal),
            PositionSerializer,
            revision_number=proposal.revision_number,
        )

    @extend_schema(
        summary="Take a position: agree, stand aside or block (replaces your current one)",
        request=PositionCreateSerializer,
        responses={201: PositionSerializer},
    )
    def post(self, request, proposal_id):
        data = parse(PositionCreateSerializer, request)
        proposal, member = get_proposal_by_id_for(request.user, proposal_id)
        require_participant(member)
        if "for_member" in data:
            data["for_member"] = get_member_for(proposal.assembly, data["for_member"])
        position = services.take_position(actor=member, proposal=proposal, **data)
        return Response(
            PositionSerializer(
                position, context={"revision_number": proposal.revision_number}
            ).data,
            status=201,
        )


@extend_schema(tags=["facilitation"])
class ProposalPhase(Endpoint):
    @extend_schema(
        summary="Move a proposal between the discussion phases (facilitators)",
        request=PhaseSerializer,
        responses={200: ProposalDetailSerializer},
    )
    def post(self, request, proposal_id):
        data = parse(PhaseSerializer, request)
        proposal, member = get_proposal_by_id_for(request.user, proposal_id)
        require_facilitator(member)
        proposal = services.set_phase(actor=member, proposal=proposal, phase=data["phase"])
        return ok(ProposalDetailSerializer, proposal, request)


@extend_schema(tags=["facilitation"])
class CallForConsensus(Endpoint):
    @extend_schema(
        summary="Open the call for consensus (facilitators); the rule is snapshotted",
        request=CallSerializer,
        responses={200: ProposalDetailSerializer},
    )
    def post(self, request, proposal_id):
        data = parse(CallSerializer, request)
        proposal, member = get_proposal_by_id_for(request.user, proposal_id)
        require_facilitator(member)
        proposal = services.call_for_consensus(
            actor=member, proposal=proposal, closes_at=data.get("closes_at")
        )
        return ok(ProposalDetailSerializer, proposal, request)


@extend_schema(tags=["facilitation"])
class CloseCall(Endpoint):
    @extend_schema(
        summary="Close the call: the rule decides and the decision is recorded (facilitators)",
        request=None,
        responses={201: DecisionDetailSerializer},
    )
    def post(self, request, proposal_id):
        proposal, member = get_proposal_by_id_for(request.user, proposal_id)
        require_facilitator(member)
        decision = services.close_call(actor=member, proposal=proposal)
        return created(DecisionDetailSerializer, decision, request)


@extend_schema(tags=["facilitation"])
class TableProposal(Endpoint):
    @extend_schema(
        summary="Table a proposal for a later sitting (facilitators)",
        request=None,
        responses={200: ProposalDetailSerializer},
    )
    def post(self, request, proposal_id):
        proposal, member = get_proposal_by_id_for(request.user, proposal_id)
        require_facilitator(member)
        proposal = services.table_proposal(actor=member, proposal=proposal)
        return ok(ProposalDetailSerializer, proposal, request)


@extend_schema(tags=["facilitation"])
class WithdrawProposal(Endpoint):
    @extend_schema(
        summary="Withdraw a proposal (its author or a facilitator); recorded in the history",
        request=None,
        responses={201: DecisionDetailSerializer},
    )
    def post(self, request, proposal_id):
        proposal, member = get_proposal_by_id_for(request.user, proposal_id)
        require_participant(member)
        decision = services.withdraw_proposal(actor=member, proposal=proposal)
        return created(DecisionDetailSerializer, decision, request)


class _AmendmentAction(Endpoint):
    service = None

    @extend_schema(request=None, responses={200: CommentSerializer})
    def post(self, request, comment_id):
        comment, member = get_comment_for(request.user, comment_id)
        require_participant(member)
        type(self).service(actor=member, amendment=comment)
        comment.refresh_from_db()
        return ok(CommentSerializer, comment, request)


@extend_schema(tags=["proposals"], summary="Accept a friendly amendment (the proposal's author)")
class AcceptAmendment(_AmendmentAction):
    service = staticmethod(services.accept_amendment)


@extend_schema(tags=["proposals"], summary="Decline a friendly amendment (the proposal's author)")
class DeclineAmendment(_AmendmentAction):
    service = staticmethod(services.decline_amendment)


@extend_schema(tags=["decisions"])
class AssemblyDecisions(Endpoint):
    pagination_class = SequenceCursorPagination

    @extend_schema(
        summary="Decisions, newest first (cursor pagination)",
        parameters=[DecisionFilterSerializer],
        responses=DecisionSerializer(many=True),
    )
    def get(self, request, slug):
        filters = parse_query(DecisionFilterSerializer, request)
        assembly, _member = get_assembly_for(request.user, slug)
        decisions = selectors.decisions_for_listing(assembly, **filters)
        return self.page(decisions, DecisionSerializer)


@extend_schema(tags=["decisions"])
class DecisionDetail(Endpoint):
    serializer_class = DecisionDetailSerializer

    @extend_schema(summary="A decision with its full record and digest")
    def get(self, request, decision_id):
        decision, _member = get_decision_for(request.user, decision_id)
        return ok(DecisionDetailSerializer, decision, request)


# --- Exports ----------------------------------------------------------------------------------


class DecisionsCsv(Export):
    @file_schema(
        "text/csv",
        "Decisions as CSV (streamed)",
        "assemblies_decisions_csv",
        parameters=[DecisionFilterSerializer],
    )
    def get(self, request, slug):
        filters = parse_query(DecisionFilterSerializer, request)
        assembly, _member = get_assembly_for(request.user, slug)
        decisions = selectors.decisions_for_listing(assembly, **filters)
        return exports.csv_response(exports.DecisionsExporter(decisions, slug=assembly.slug))


class PositionsCsv(Export):
    @file_schema(
        "text/csv",
        "Every position on decided proposals as CSV (streamed)",
        "assemblies_positions_csv",
    )
    def get(self, request, slug):
        assembly, _member = get_assembly_for(request.user, slug)
        return exports.csv_response(exports.PositionsExporter(assembly))


class HistoryJson(Export):
    @file_schema(
        "application/json",
        "The verifiable history: every record with its digests (streamed)",
        "assemblies_history_json",
    )
    def get(self, request, slug):
        assembly, _member = get_assembly_for(request.user, slug)
        head, items = exports.history_document(assembly)
        return exports.json_response(head, "decisions", items, f"{assembly.slug}-history.json")


class PopoloJson(Export):
    @file_schema(
        "application/json",
        "Popolo JSON: the assembly with motions, vote events and votes",
        "assemblies_popolo_json",
    )
    def get(self, request, slug):
        assembly, _member = get_assembly_for(request.user, slug)
        head, motions = exports.popolo_document(assembly, base_url=settings.SITE_URL)
        return exports.json_response(head, "motions", motions, f"{assembly.slug}-popolo.json")


# --- The transparency log ---------------------------------------------------------------------


def _no_head() -> NotFound:
    return NotFound("no_tree_head", _("No signed tree head covers that many decisions."))


def _newest_size(assembly) -> int:
    head = transparency.latest_head(assembly)
    if head is None:
        raise _no_head()
    return head.tree_size


@extend_schema(tags=["history"])
class CurrentTreeHead(Endpoint):
    @extend_schema(
        summary="The newest signed tree head, and how many decisions the database holds",
        responses=CurrentTreeHeadSerializer,
    )
    def get(self, request, slug):
        assembly, _member = get_assembly_for(request.user, slug)
        head = transparency.latest_head(assembly)
        if head is None:
            raise NotFound("no_tree_head", _("This assembly has decided nothing yet."))
        document = transparency.head_document(head, assembly.slug)
        document["decisions"] = selectors.decision_count(assembly)
        return Response(document)


@extend_schema(tags=["history"])
class TreeHeadAt(Endpoint):
    @extend_schema(summary="The signed tree head of a given size", responses=TreeHeadSerializer)
    def get(self, request, slug, tree_size):
        assembly, _member = get_assembly_for(request.user, slug)
        head = transparency.head_at(assembly, tree_size)
        if head is None:
            raise _no_head()
        return Response(transparency.head_document(head, assembly.slug))


@extend_schema(tags=["history"])
class InclusionProof(Endpoint):
    @extend_schema(
        summary="The leaf of a decision and its audit path (RFC 9162 inclusion proof)",
        parameters=[InclusionQuerySerializer],
        responses=InclusionProofSerializer,
    )
    def get(self, request, slug):
        query = parse_query(InclusionQuerySerializer, request)
        assembly, _member = get_assembly_for(request.user, slug)
        size = query.get("tree_size") or _newest_size(assembly)
        proof = transparency.inclusion(assembly, sequence=query["sequence"], tree_size=size)
        if proof is None:
            raise NotFound(
                "no_such_leaf", _("The history holds no such decision in a tree of that size.")
            )
        return Response(proof)


@extend_schema(tags=["history"])
class ConsistencyProof(Endpoint):
    @extend_schema(
        summary="The proof that a later tree extends an earlier one (RFC 9162 consistency)",
        parameters=[ConsistencyQuerySerializer],
        responses=ConsistencyProofSerializer,
    )
    def get(self, request, slug):
        query = parse_query(ConsistencyQuerySerializer, request)
        assembly, _member = get_assembly_for(request.user, slug)
        second = query.get("second")
        second = _newest_size(assembly) if second is None else second
        proof = transparency.consistency(assembly, first=query["first"], second=second)
        if proof is None:
            raise NotFound(
                "no_such_tree",
                _("The history holds fewer decisions than asked, or first is after second."),
            )
        return Response(proof)


@extend_schema(tags=["history"])
class HistoryReports(Endpoint):
    @extend_schema(
        summary="Report a tree head the history no longer extends (written in the public log)",
        request=HistoryReportSerializer,
        responses={201: HistoryReportResultSerializer, 200: HistoryReportResultSerializer},
    )
    def post(self, request, slug):
        data = parse(HistoryReportSerializer, request)
        assembly, member = get_assembly_for(request.user, slug)
        member = require_active_member(member)
        _entry, new = services.report_inconsistent_history(
            actor=member, assembly=assembly, head=data["head"]
        )
        if new:
            body = {"code": "reported", "message": _("Written in the assembly's public log.")}
            return Response(body, status=201)
        body = {"code": "already_reported", "message": _("This was already in the public log.")}
        return Response(body)


@extend_schema(tags=["history"])
class HistoryPublicKey(Endpoint):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="The Ed25519 public key that signs every tree head", responses=PublicKeySerializer
    )
    def get(self, request):
        return Response(signing.public_key_document())


def well_known_history_key(request):
    """/.well-known/multitude-history-key: the same document, where monitors look first."""
    return JsonResponse(signing.public_key_document())


class DecisionReceipt(Export):
    @file_schema(
        "application/json",
        "Your receipt for your position in a decision: leaf, inclusion proof, signed head",
        "decisions_receipt_json",
    )
    def get(self, request, decision_id):
        decision, member = get_decision_for(request.user, decision_id)
        receipt = None
        if member is not None:
            receipt = transparency.receipt(decision.assembly, decision, member.pk)
        if receipt is None:
            raise NotFound("no_receipt", _("You took no position in this decision."))
        response = JsonResponse(receipt, json_dumps_params={"ensure_ascii": False})
        filename = f"{decision.assembly.slug}-decision-{decision.sequence}-receipt.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
