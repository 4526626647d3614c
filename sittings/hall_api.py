"""The REST API of the whole assembly: presence, the hall's counters and its counts
(docs/hybrid.md). Each view parses, authorises through `access.py` and calls one service."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assemblies.access import get_meeting_for, get_member_for
from assemblies.selectors import presence_of, present_members
from core.api import Endpoint, parse
from core.errors import NotFound
from proposals.access import get_proposal_by_id_for
from proposals.selectors import hall_count_for, online_tallies_for, tally_for
from proposals.serializers import CountsSerializer
from sittings import hall


class PresentMemberSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    member = serializers.CharField(source="member.display_name")
    via = serializers.CharField(help_text="check_in (herself) or door (counted by a counter)")
    counted_by = serializers.CharField(source="counted_by.display_name", allow_null=True)


class PresenceSerializer(serializers.Serializer):
    present = serializers.IntegerField()
    checked_in = serializers.IntegerField()
    at_door = serializers.IntegerField()
    counters = serializers.ListField(child=serializers.CharField())
    members = PresentMemberSerializer(many=True)


def _presence(meeting) -> Response:
    return Response(
        PresenceSerializer(
            {
                **presence_of(meeting),
                "counters": _counters(meeting),
                "members": list(present_members(meeting)),
            }
        ).data
    )


def _counters(meeting) -> list[str]:
    return [m.display_name for m in meeting.hall_counters.order_by("display_name", "pk")]


class CountersInputSerializer(serializers.Serializer):
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=2,
        max_length=2,
    )


@extend_schema(tags=["hall"])
class MeetingPresence(Endpoint):
    @extend_schema(
        summary="Who is present at the sitting (numbers, names), and its hall counters",
        responses=PresenceSerializer,
    )
    def get(self, request, meeting_id):
        meeting, _member = get_meeting_for(request.user, meeting_id)
        return _presence(meeting)

    @extend_schema(
        summary="Check in: mark yourself present at the sitting in session",
        request=None,
        responses={200: PresenceSerializer},
    )
    def post(self, request, meeting_id):
        meeting, member = get_meeting_for(request.user, meeting_id)
        hall.check_in(actor=member, meeting=meeting)
        return _presence(meeting)


@extend_schema(tags=["hall"])
class MeetingDoorCount(Endpoint):
    @extend_schema(
        summary="Count a member present at the door (the sitting's counters)",
        operation_id="meetings_presence_door_count",
        request=None,
        responses={200: PresenceSerializer},
    )
    def post(self, request, meeting_id, member_id):
        meeting, member = get_meeting_for(request.user, meeting_id)
        target = get_member_for(meeting.assembly, member_id)
        hall.count_at_door(actor=member, meeting=meeting, member=target)
        return _presence(meeting)


@extend_schema(tags=["hall"])
class MeetingCounters(Endpoint):
    @extend_schema(
        summary="Choose the sitting's two hall counters (facilitators)",
        request=CountersInputSerializer,
        responses={200: PresenceSerializer},
    )
    def post(self, request, meeting_id):
        data = parse(CountersInputSerializer, request)
        meeting, member = get_meeting_for(request.user, meeting_id)
        members = [get_member_for(meeting.assembly, pk) for pk in data["member_ids"]]
        hall.choose_counters(actor=member, meeting=meeting, members=members)
        return _presence(meeting)


class HallBlockSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=80,
        allow_blank=True,
        default="",
        help_text='The blocker\'s name, or "" (from the hall).',
    )
    reason = serializers.CharField(max_length=2000, allow_blank=True, default="")


class HallCountInputSerializer(serializers.Serializer):
    agree = serializers.IntegerField(min_value=0, max_value=1_000_000)
    stand_aside = serializers.IntegerField(min_value=0, max_value=1_000_000)
    block = serializers.IntegerField(min_value=0, max_value=1_000_000)
    blocks = HallBlockSerializer(many=True, required=False, default=list, max_length=10_000)


class HallEntrySerializer(serializers.Serializer):
    counter = serializers.CharField()
    counts = CountsSerializer()


class HallStateSerializer(serializers.Serializer):
    proposal_id = serializers.IntegerField()
    state = serializers.ChoiceField(
        choices=["none", "waiting", "differs", "recorded"],
        help_text="recorded once the two counters' counts agree; differs shows both.",
    )
    counts = CountsSerializer(allow_null=True, help_text="The hall's recorded count.")
    entries = HallEntrySerializer(many=True)
    difference = CountsSerializer(allow_null=True, help_text="Second count less the first.")
    blocks = HallBlockSerializer(many=True)
    online = CountsSerializer(help_text="Positions taken online.")
    total = CountsSerializer(help_text="Online and hall together: what the rule applies to.")


def _hall_state(proposal) -> Response:
    return Response(
        HallStateSerializer(
            {
                "proposal_id": proposal.pk,
                **hall_count_for(proposal).as_dict(),
                "online": online_tallies_for([proposal.pk])[proposal.pk].as_dict(),
                "total": tally_for(proposal).as_dict(),
            }
        ).data
    )


def _proposal_in(request, meeting, proposal_id):
    proposal, _viewer = get_proposal_by_id_for(request.user, proposal_id)
    if proposal.assembly_id != meeting.assembly_id:
        raise NotFound("proposal_not_found", _("There is no such proposal."))
    return proposal


@extend_schema(tags=["hall"])
class HallCountView(Endpoint):
    @extend_schema(
        summary="The hall's count on a proposal: both counters' entries, online and the sum",
        responses=HallStateSerializer,
    )
    def get(self, request, meeting_id, proposal_id):
        meeting, _member = get_meeting_for(request.user, meeting_id)
        return _hall_state(_proposal_in(request, meeting, proposal_id))

    @extend_schema(
        summary="Enter your count of the hall (the sitting's counters, during the call)",
        request=HallCountInputSerializer,
        responses={200: HallStateSerializer},
    )
    def post(self, request, meeting_id, proposal_id):
        data = parse(HallCountInputSerializer, request)
        meeting, member = get_meeting_for(request.user, meeting_id)
        proposal = _proposal_in(request, meeting, proposal_id)
        hall.enter_hall_count(actor=member, meeting=meeting, proposal=proposal, **data)
        return _hall_state(proposal)


@extend_schema(tags=["hall"])
class HallRecount(Endpoint):
    @extend_schema(
        summary="Call a recount: both counts of the hall are cleared (facilitators)",
        request=None,
        responses={200: HallStateSerializer},
    )
    def post(self, request, meeting_id, proposal_id):
        meeting, member = get_meeting_for(request.user, meeting_id)
        proposal = _proposal_in(request, meeting, proposal_id)
        hall.call_recount(actor=member, meeting=meeting, proposal=proposal)
        return _hall_state(proposal)
