from django.conf import settings
from rest_framework import serializers

from notifications.models import Level


class PreferenceSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=Level.choices,
        help_text="all: every event as it happens; digest: one email a day (closing reminders "
        "still at once); calls: only calls for consensus, reminders and decisions; none.",
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, help_text="The language of the emails."
    )
    has_email = serializers.BooleanField(
        help_text="False for guests who joined with a name only: nothing can be sent to them "
        "until they add an email on their account page."
    )
    calendar_url = serializers.URLField(
        help_text="The member's secret iCalendar feed of this assembly (works without login)."
    )


class PreferenceInputSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
