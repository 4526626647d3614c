"""The REST API under /api/v1/: an index, resources, exports, the OpenAPI schema, its docs page."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.permissions import AllowAny

from assemblies import api as assemblies_api
from core.errors import NotFound
from multitude.api_index import ApiIndex
from notifications import api as notifications_api
from proposals import api as proposals_api
from proposals import proxy_api
from sittings import api as sittings_api
from sittings import hall_api


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from local files; its start-up script is a separate same-origin file, so
    the page runs under the site's CSP (script-src 'self' + nonce) with no inline code."""

    template_name = "api/swagger_ui.html"


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, rest=""):
    raise NotFound("not_found", "There is no such API endpoint.")


A = "assemblies/<slug:slug>/"
P = "proposals/<int:proposal_id>/"
M = "meetings/<int:meeting_id>/"

urlpatterns = [
    path("", ApiIndex.as_view(), name="index"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    path("assemblies/", assemblies_api.AssemblyList.as_view(), name="assemblies"),
    path(A, assemblies_api.AssemblyDetail.as_view(), name="assembly"),
    path(A + "join/", assemblies_api.Join.as_view(), name="join"),
    path(A + "members/", assemblies_api.MemberList.as_view(), name="members"),
    path(
        A + "members/<int:member_id>/admit/",
        assemblies_api.MemberAdmit.as_view(),
        name="member-admit",
    ),
    path(
        A + "members/<int:member_id>/remove/",
        assemblies_api.MemberRemove.as_view(),
        name="member-remove",
    ),
    path(
        A + "notifications/",
        notifications_api.NotificationPreferences.as_view(),
        name="notification-preferences",
    ),
    path(A + "meetings/", sittings_api.MeetingList.as_view(), name="meetings"),
    path(A + "proposals/", proposals_api.AssemblyProposals.as_view(), name="proposals"),
    path(A + "proxies/", proxy_api.AssemblyProxies.as_view(), name="proxies"),
    path("proxies/<int:proxy_id>/revoke/", proxy_api.ProxyRevoke.as_view(), name="proxy-revoke"),
    path(A + "role-proposals/", proposals_api.RoleProposals.as_view(), name="role-proposals"),
    path(A + "decisions/", proposals_api.AssemblyDecisions.as_view(), name="decisions"),
    path(A + "decisions.csv", proposals_api.DecisionsCsv.as_view(), name="decisions-csv"),
    path(A + "positions.csv", proposals_api.PositionsCsv.as_view(), name="positions-csv"),
    path(A + "history.json", proposals_api.HistoryJson.as_view(), name="history-json"),
    path(A + "popolo.json", proposals_api.PopoloJson.as_view(), name="popolo-json"),
    path(A + "tree-head/", proposals_api.CurrentTreeHead.as_view(), name="tree-head"),
    path(
        A + "tree-heads/<int:tree_size>/", proposals_api.TreeHeadAt.as_view(), name="tree-head-at"
    ),
    path(A + "proofs/inclusion/", proposals_api.InclusionProof.as_view(), name="inclusion-proof"),
    path(
        A + "proofs/consistency/",
        proposals_api.ConsistencyProof.as_view(),
        name="consistency-proof",
    ),
    path(A + "history-reports/", proposals_api.HistoryReports.as_view(), name="history-reports"),
    path("history/public-key/", proposals_api.HistoryPublicKey.as_view(), name="public-key"),
    path(M, sittings_api.MeetingDetail.as_view(), name="meeting"),
    path(M + "start/", sittings_api.MeetingStart.as_view(), name="meeting-start"),
    path(M + "adjourn/", sittings_api.MeetingAdjourn.as_view(), name="meeting-adjourn"),
    path(M + "reschedule/", sittings_api.MeetingReschedule.as_view(), name="meeting-reschedule"),
    path(M + "agenda/", sittings_api.MeetingAgenda.as_view(), name="meeting-agenda"),
    path(
        M + "facilitators/",
        sittings_api.MeetingFacilitation.as_view(),
        name="meeting-facilitation",
    ),
    path(
        M + "facilitators/<int:member_id>/",
        sittings_api.MeetingFacilitatorRelease.as_view(),
        name="meeting-facilitator",
    ),
    path(M + "stand-in/", sittings_api.MeetingStandIn.as_view(), name="meeting-stand-in"),
    path(M + "step-aside/", sittings_api.MeetingStepAside.as_view(), name="meeting-step-aside"),
    path(
        "consents/<int:consent_id>/object/",
        sittings_api.ConsentObject.as_view(),
        name="consent-object",
    ),
    path(
        "consents/<int:consent_id>/withdraw/",
        sittings_api.ConsentWithdraw.as_view(),
        name="consent-withdraw",
    ),
    path(M + "presence/", hall_api.MeetingPresence.as_view(), name="meeting-presence"),
    path(
        M + "presence/<int:member_id>/",
        hall_api.MeetingDoorCount.as_view(),
        name="meeting-door-count",
    ),
    path(M + "counters/", hall_api.MeetingCounters.as_view(), name="meeting-counters"),
    path(
        M + "proposals/<int:proposal_id>/hall-count/",
        hall_api.HallCountView.as_view(),
        name="hall-count",
    ),
    path(
        M + "proposals/<int:proposal_id>/hall-count/recount/",
        hall_api.HallRecount.as_view(),
        name="hall-recount",
    ),
    path(M + "minutes.md", sittings_api.MeetingMinutes.as_view(), name="meeting-minutes"),
    path(P, proposals_api.ProposalDetail.as_view(), name="proposal"),
    path(P + "revisions/", proposals_api.ProposalRevisions.as_view(), name="revisions"),
    path(P + "comments/", proposals_api.ProposalComments.as_view(), name="comments"),
    path(P + "positions/", proposals_api.ProposalPositions.as_view(), name="positions"),
    path(P + "phase/", proposals_api.ProposalPhase.as_view(), name="phase"),
    path(
        P + "call-for-consensus/",
        proposals_api.CallForConsensus.as_view(),
        name="call-for-consensus",
    ),
    path(P + "close/", proposals_api.CloseCall.as_view(), name="close"),
    path(P + "table/", proposals_api.TableProposal.as_view(), name="table"),
    path(P + "withdraw/", proposals_api.WithdrawProposal.as_view(), name="withdraw"),
    path(
        "comments/<int:comment_id>/accept/",
        proposals_api.AcceptAmendment.as_view(),
        name="amendment-accept",
    ),
    path(
        "comments/<int:comment_id>/decline/",
        proposals_api.DeclineAmendment.as_view(),
        name="amendment-decline",
    ),
    path("decisions/<int:decision_id>/", proposals_api.DecisionDetail.as_view(), name="decision"),
    path(
        "decisions/<int:decision_id>/receipt.json",
        proposals_api.DecisionReceipt.as_view(),
        name="decision-receipt",
    ),
    # Anything else under /api/v1/ (newlines included) answers JSON, not the HTML 404 page.
    re_path(r"^(?P<rest>[\s\S]*)$", not_found),
]
