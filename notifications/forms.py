from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.models import Level


class PreferenceForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Emails from this assembly"), choices=Level.choices, widget=forms.RadioSelect
    )
    language = forms.ChoiceField(label=_("Language of the emails"), choices=settings.LANGUAGES)


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=_("Webhook URL"),
        max_length=500,
        help_text=_("An http:// or https:// address your chat bot listens on."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url"}),
    )
