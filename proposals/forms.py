from django import forms
from django.utils.translation import gettext_lazy as _

from assemblies.models import Role
from core.text import has_visible
from proposals.models import Mandate, PositionKind, Reading
from proposals.services.positions import reason_required_error


def _reason_field(label):
    return forms.CharField(
        label=label,
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PositionForm(forms.Form):
    """A position and the reason written *for that position*.

    Each kind has its own reason box, so a reason written for a block can never be stored
    under an agree or a stand-aside: the one sent is the box of the kind chosen. What the
    assembly's rule requires is said on the box and checked here, before any confirmation.
    """

    kind = forms.ChoiceField(
        label=_("Your position"), choices=PositionKind.choices, widget=forms.RadioSelect
    )
    reason_agree = _reason_field(_("A word of support"))
    reason_stand_aside = _reason_field(_("Why you stand aside"))
    reason_block = _reason_field(_("Your principled objection"))
    # A block is confirmed in a second step, after the page has said what a block means.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    request_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, rule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule
        for kind in PositionKind.values:
            field = self.fields[f"reason_{kind}"]
            field.reason_required = bool(rule and rule.reason_required(kind))
            if field.reason_required:
                field.widget.attrs["aria-required"] = "true"

    def reason_fields(self):
        """(kind, bound reason field) in the order of the choices, for the template."""
        return [(kind, self[f"reason_{kind}"]) for kind in PositionKind.values]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        required = kind and self.rule is not None and self.rule.reason_required(kind)
        if required and not has_visible(data.get(f"reason_{kind}", "")):
            self.add_error(f"reason_{kind}", reason_required_error(kind).message)
        return data

    @property
    def reason(self) -> str:
        """The reason sent with the kind chosen, and only that one."""
        return self.cleaned_data.get(f"reason_{self.cleaned_data['kind']}", "")


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


class RolesForm(forms.Form):
    """A proposal of roles: one role select per active member (a change is a select moved
    off the member's current role), the why, and when it is decided."""

    reason = forms.CharField(
        label=_("Why"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("It goes into the proposal's text, under the changes."),
    )
    roles_by_facilitators = forms.BooleanField(
        label=_("Also let facilitators give roles again, without a decision"),
        required=False,
    )
    closes_at = forms.DateTimeField(
        label=_("Decide online until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_(
            "Optional. Without it the proposal waits for a sitting: a facilitator puts it on "
            "the agenda. With it the call for consensus opens now and closes by itself."
        ),
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        for member in self.members:
            self.fields[self.key(member)] = forms.ChoiceField(
                label=member.display_name, choices=Role.choices, initial=member.role
            )

    @staticmethod
    def key(member) -> str:
        return f"role_{member.pk}"

    def rows(self):
        return [(member, self[self.key(member)]) for member in self.members]

    def changes(self) -> list:
        """[(member, role)] for every select moved off the member's role."""
        return [
            (member, self.cleaned_data[self.key(member)])
            for member in self.members
            if self.cleaned_data[self.key(member)] != member.role
        ]


class ProxyForm(forms.Form):
    """Give one's proxy: for a sitting or a proposal, to a member, with a mandate."""

    scope = forms.ChoiceField(label=_("For"))
    holder = forms.TypedChoiceField(label=_("Who carries it"), coerce=int)
    mandate = forms.ChoiceField(
        label=_("Mandate"), choices=Mandate.choices, widget=forms.RadioSelect
    )
    may_block = forms.BooleanField(
        label=_("With “use your judgement”: they may block in my name"), required=False
    )
    reason = forms.CharField(
        label=_("My words, stated as the reason of the position I ask for"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, sittings=(), proposals=(), members=(), may_block=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [
            (_("Sittings"), [(f"meeting:{m.pk}", m.title) for m in sittings]),
            (_("Proposals"), [(f"proposal:{p.pk}", p.title) for p in proposals]),
        ]
        self.fields["holder"].choices = [(m.pk, m.display_name) for m in members]
        if not may_block:
            # Where proxies may not block, neither the option nor the mandate is offered.
            del self.fields["may_block"]
            self.fields["mandate"].choices = [c for c in Mandate.choices if c[0] != Mandate.BLOCK]

    def scope_of(self) -> tuple[str, int]:
        kind, _sep, pk = self.cleaned_data["scope"].partition(":")
        return kind, int(pk)


class ProxyPositionForm(forms.Form):
    """A position a holder states for the member whose proxy she carries."""

    for_member = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Position"), choices=PositionKind.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    request_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
