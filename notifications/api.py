"""The REST API of notifications: a member's email settings for an assembly."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api import Endpoint, parse
from notifications import access, selectors, services
from notifications.content import absolute
from notifications.serializers import PreferenceInputSerializer, PreferenceSerializer


def _out(member, preference) -> dict:
    return {
        "level": preference.level,
        "language": selectors.language_of(member.user),
        "has_email": bool(member.user.email),
        "calendar_url": absolute(
            reverse(
                "notifications:member_calendar",
                args=[member.assembly.slug, preference.calendar_key],
            )
        ),
    }


@extend_schema(tags=["notifications"])
class NotificationPreferences(Endpoint):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Your email settings for this assembly", responses=PreferenceSerializer)
    def get(self, request, slug):
        member = access.member_of(request.user, slug)
        return Response(_out(member, selectors.preference_for(member)))

    @extend_schema(
        summary="Change your email settings for this assembly",
        request=PreferenceInputSerializer,
        responses=PreferenceSerializer,
    )
    def patch(self, request, slug):
        data = parse(PreferenceInputSerializer, request)
        member = access.member_of(request.user, slug)
        preference = services.set_preference(actor=member, **data)
        return Response(_out(member, preference))
