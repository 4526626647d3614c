"""The REST API of sittings: scheduling, starting, adjourning, the agenda, the minutes."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from assemblies import selectors
from assemblies.access import get_assembly_for, get_meeting_for, require_facilitator
from assemblies.serializers import (
    AgendaAddSerializer,
    MeetingCreateSerializer,
    MeetingRescheduleSerializer,
    MeetingSerializer,
)
from core.api import Endpoint, Export, created, file_schema, parse
from proposals.access import get_proposal_by_id_for
from sittings import services
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
