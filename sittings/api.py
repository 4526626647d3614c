"""The REST API of sittings: scheduling, starting, adjourning, the agenda, the minutes, and
who facilitates (co-facilitators, stand-ins, stepping aside)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assemblies import selectors
from assemblies.access import (
    get_assembly_for,
    get_meeting_for,
    get_member_for,
    require_facilitator,
)
from assemblies.models import Consent
from assemblies.serializers import (
    AgendaAddSerializer,
    MeetingCreateSerializer,
    MeetingRescheduleSerializer,
    MeetingSerializer,
)
from core.api import Endpoint, Export, created, file_schema, parse
from core.errors import NotFound
from proposals.access import get_proposal_by_id_for
from sittings import services, stand_in
from sittings.minutes import minutes_markdown


@extend_schema(tags=["meetings"])
class MeetingList(Endpoint):
    @extend_schema(summary="An assembly's sittings", responses=MeetingSerializer(many=True))
    def get(self, request, slug):
        assembly, _member = get_assembly_for(request.user, slug)
        return self.page(selectors.meetings_for_listing(assembly), MeetingSerializer)

    @extend_schema(
        summary="Schedule a sitting (facilitators)",
        request=MeetingCreateSerializer,
        responses={201: MeetingSerializer},
    )
    def post(self, request, slug):
        data = parse(MeetingCreateSerializer, request)
        assembly, member = get_assembly_for(request.user, slug)
        require_facilitator(member)
        meeting = services.schedule_meeting(actor=member, assembly=assembly, **data)
        return created(MeetingSerializer, meeting, request)


@extend_schema(tags=["meetings"])
class MeetingDetail(Endpoint):
    serializer_class = MeetingSerializer

    @extend_schema(summary="A sitting with its agenda")
    def get(self, request, meeting_id):
        meeting, _member = get_meeting_for(request.user, meeting_id)
        meeting = selectors.meetings_for_listing(meeting.assembly).get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data)


class _MeetingAction(Endpoint):
    service = None

    @extend_schema(request=None, responses={200: MeetingSerializer})
    def post(self, request, meeting_id):
        meeting, member = get_meeting_for(request.user, meeting_id)
        require_facilitator(member)
        type(self).service(actor=member, meeting=meeting)
        meeting = selectors.meetings_for_listing(meeting.assembly).get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data)


@extend_schema(tags=["meetings"], summary="Start a sitting (facilitators)")
class MeetingStart(_MeetingAction):
    service = staticmethod(services.start_meeting)


@extend_schema(tags=["meetings"], summary="Adjourn a sitting (facilitators)")
class MeetingAdjourn(_MeetingAction):
    service = staticmethod(services.adjourn_meeting)


@extend_schema(tags=["meetings"])
class MeetingReschedule(Endpoint):
    @extend_schema(
        summary="Move a sitting not yet started to another time (facilitators)",
        request=MeetingRescheduleSerializer,
        responses={200: MeetingSerializer},
    )
    def post(self, request, meeting_id):
        data = parse(MeetingRescheduleSerializer, request)
        meeting, member = get_meeting_for(request.user, meeting_id)
        require_facilitator(member)
        services.reschedule_meeting(actor=member, meeting=meeting, **data)
        meeting = selectors.meetings_for_listing(meeting.assembly).get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data)


@extend_schema(tags=["meetings"])
class MeetingAgenda(Endpoint):
    @extend_schema(
        summary="Put a proposal on a sitting's agenda (facilitators)",
        request=AgendaAddSerializer,
        responses={200: MeetingSerializer},
    )
    def post(self, request, meeting_id):
        data = parse(AgendaAddSerializer, request)
        meeting, member = get_meeting_for(request.user, meeting_id)
        require_facilitator(member)
        proposal, _member = get_proposal_by_id_for(request.user, data["proposal_id"])
        services.add_to_agenda(actor=member, meeting=meeting, proposal=proposal)
        meeting = selectors.meetings_for_listing(meeting.assembly).get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data)


class MeetingMinutes(Export):
    @file_schema("text/markdown", "Minutes of a sitting as Markdown", "meetings_minutes_md")
    def get(self, request, meeting_id):
        meeting, _member = get_meeting_for(request.user, meeting_id)
        response = HttpResponse(
            minutes_markdown(meeting), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = f'inline; filename="minutes-{meeting.pk}.md"'
        return response


# --- who facilitates the sitting: co-facilitators, stand-ins, stepping aside --------------------


class ConsentSerializer(serializers.ModelSerializer):
    """A question put to the members present: it passes unless one objects by `closes_at`."""

    candidate = serializers.CharField(source="candidate.display_name")
    candidate_id = serializers.IntegerField()
    raised_by = serializers.CharField(source="raised_by.display_name")

    class Meta:
        model = Consent
        fields = ["id", "kind", "candidate", "candidate_id", "raised_by", "state", "opened_at"]
        fields += ["closes_at", "settled_at"]
        read_only_fields = fields


class FacilitationSerializer(serializers.Serializer):
    facilitators = serializers.ListField(child=serializers.CharField())
    away = serializers.BooleanField(
        help_text="No facilitator has been connected for FACILITATOR_AWAY_SECONDS."
    )
    consent = ConsentSerializer(allow_null=True)


class MemberIdSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


def _facilitation(meeting) -> Response:
    state = stand_in.facilitation_of(type(meeting).objects.get(pk=meeting.pk))
    names = [member.display_name for member in state["facilitators"]]
    return Response(FacilitationSerializer({**state, "facilitators": names}).data)


@extend_schema(tags=["meetings"])
class MeetingFacilitation(Endpoint):
    @extend_schema(
        summary="Who facilitates the sitting, and the question put to those present",
        responses=FacilitationSerializer,
    )
    def get(self, request, meeting_id):
        meeting, _member = get_meeting_for(request.user, meeting_id)
        return _facilitation(meeting)

    @extend_schema(
        summary="Ask a member to co-facilitate this sitting (facilitators)",
        request=MemberIdSerializer,
        responses={200: FacilitationSerializer},
    )
    def post(self, request, meeting_id):
        data = parse(MemberIdSerializer, request)
        meeting, member = get_meeting_for(request.user, meeting_id)
        target = get_member_for(meeting.assembly, data["member_id"])
        stand_in.name_sitting_facilitator(actor=member, meeting=meeting, member=target)
        return _facilitation(meeting)


@extend_schema(tags=["meetings"])
class MeetingFacilitatorRelease(Endpoint):
    @extend_schema(
        summary="End a facilitation for this sitting (a facilitator, or the member herself)",
        request=None,
        responses={200: FacilitationSerializer},
    )
    def delete(self, request, meeting_id, member_id):
        meeting, member = get_meeting_for(request.user, meeting_id)
        target = get_member_for(meeting.assembly, member_id)
        stand_in.release_sitting_facilitator(actor=member, meeting=meeting, member=target)
        return _facilitation(meeting)


@extend_schema(tags=["meetings"])
class MeetingStandIn(Endpoint):
    @extend_schema(
        summary="Offer to stand in as facilitator (no facilitator connected for two minutes)",
        request=None,
        responses={201: ConsentSerializer},
    )
    def post(self, request, meeting_id):
        meeting, member = get_meeting_for(request.user, meeting_id)
        consent = stand_in.offer_to_stand_in(actor=member, meeting=meeting)
        return Response(ConsentSerializer(consent).data, status=201)


@extend_schema(tags=["meetings"])
class MeetingStepAside(Endpoint):
    @extend_schema(
        summary="Point of process: this facilitator should step aside (put to those present)",
        request=MemberIdSerializer,
        responses={201: ConsentSerializer},
    )
    def post(self, request, meeting_id):
        data = parse(MemberIdSerializer, request)
        meeting, member = get_meeting_for(request.user, meeting_id)
        target = get_member_for(meeting.assembly, data["member_id"])
        consent = stand_in.ask_to_step_aside(actor=member, meeting=meeting, facilitator=target)
        return Response(ConsentSerializer(consent).data, status=201)


class _ConsentAction(Endpoint):
    service = None

    @extend_schema(request=None, responses={200: ConsentSerializer})
    def post(self, request, consent_id):
        consent = Consent.objects.select_related("meeting").filter(pk=consent_id).first()
        if consent is None:
            raise NotFound("consent_not_found", _("There is no such question."))
        _meeting, member = get_meeting_for(request.user, consent.meeting_id)
        consent = type(self).service(actor=member, consent=consent)
        return Response(ConsentSerializer(consent).data)


@extend_schema(tags=["meetings"], summary="Object: the question does not pass (members present)")
class ConsentObject(_ConsentAction):
    service = staticmethod(stand_in.object_to)


@extend_schema(tags=["meetings"], summary="Withdraw a question you raised")
class ConsentWithdraw(_ConsentAction):
    service = staticmethod(stand_in.withdraw)
