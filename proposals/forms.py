from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.models import PositionKind, Reading


class PositionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Your position"), choices=PositionKind.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say why, especially for a block or a stand-aside."),
    )
    # A block is confirmed in a second step, after the page has said what a block means.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    request_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class CommentForm(forms.Form):
    """A clarifying question or a concern; the URL says which."""

    text = forms.CharField(
        label=_("Your text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Answer"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AmendmentForm(forms.Form):
    text = forms.CharField(
        label=_("What you change and why"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    proposed_text = forms.CharField(
        label=_("The whole text as amended"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("It starts as the current text: change what your amendment changes."),
    )


class ReadingForm(forms.Form):
    reading = forms.ChoiceField(choices=Reading.choices)


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("Proposal"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("What, why and how. Markdown works: **bold**, lists, links."),
    )
    closes_at = forms.DateTimeField(
        label=_("Decide online until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_(
            "Optional. For a proposal decided online, without a sitting: the call for "
            "consensus opens now and closes by itself at this time."
        ),
    )
