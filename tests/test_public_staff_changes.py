"""Every privileged act is public: each admin model and action writes a line in the log.

The admin is driven as staff drive it, through its pages: each change form is read as a
browser reads it (every input, select and textarea with its value, the inline formsets'
management forms included), one field is changed, and the form is posted. Every model the
admin registers is enumerated, with every permission it grants and every bulk action it
offers; a model the admin gains later fails the test until its changes are public too.
"""

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token, TokenProxy

from assemblies.models import (
    AgendaItem,
    Assembly,
    LogEntry,
    Meeting,
    Membership,
    StackEntry,
    StackKind,
)
from proposals import services as proposal_services
from proposals.models import (
    Comment,
    CommentKind,
    Proposal,
    Reading,
    Revision,
    TemperatureCheck,
    TemperatureReading,
)
from sittings import log_text
from sittings import services as sitting_services

# Admin models that hold no assembly's data: what they change is the site's own staff.
NOT_ASSEMBLY_DATA = {Group: "staff groups grant admin permissions to staff accounts only"}

# For each model: the field a change test edits and the value it writes.
CHANGES = {
    Assembly: ("description", "Changed by staff"),
    Membership: ("role", "observer"),
    Meeting: ("location", "The library"),
    AgendaItem: ("position", "7"),
    StackEntry: ("priority", "3"),
    Proposal: ("title", "A title staff wrote"),
    Revision: ("summary", "A summary staff wrote"),
    Comment: ("text", "A comment staff rewrote"),
    TemperatureCheck: ("revision_number", "2"),
    TemperatureReading: ("reading", Reading.DOWN),
    User: ("first_name", "Renamed"),
}


class _FormReader(HTMLParser):
    """The fields a browser would submit from the admin's change form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form or ("name" not in attrs and tag != "option"):
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self._add(attrs["name"], attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select, self._select_value, self._first_option = attrs["name"], None, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = attrs.get("value", "")
            if "selected" in attrs:
                self._select_value = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._add(self._textarea, "")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select:
            if self._select_value is not None:
                self._add(self._select, self._select_value)
            self._select = None
        elif tag == "textarea":
            if self._textarea:
                # The browser drops the one newline after <textarea>.
                self.data[self._textarea][-1] = self.data[self._textarea][-1].removeprefix("\n")
            self._textarea = None


def _form_of(client, url) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    reader = _FormReader()
    reader.feed(response.text)
    return reader.data


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(autouse=True)
def _plain_settings(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    User.objects.create_superuser(username="maria", email="maria@example.org", password="pw-maria")
    client = Client()
    assert client.login(username="maria", password="pw-maria")
    return client


@pytest.fixture
def rows(assembly, facilitator, participant):
    """One undecided row of every model (what staff may still change), through the services."""
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Thursday sitting", location="The square"
    )
    proposal = proposal_services.submit_proposal(
        actor=participant, title="Buy a tarp", text="We buy a tarp.", meeting=meeting
    )
    proposal = proposal_services.set_phase(actor=facilitator, proposal=proposal, phase="questions")
    proposal_services.add_comment(
        actor=participant, proposal=proposal, kind=CommentKind.QUESTION, text="How much?"
    )
    proposal_services.open_temperature_check(actor=facilitator, proposal=proposal)
    proposal_services.give_reading(actor=participant, proposal=proposal, reading=Reading.UP)
    StackEntry.objects.create(meeting=meeting, member=participant, kind=StackKind.SPEAK)
    Token.objects.create(user=participant.user)
    found = {
        Assembly: assembly,
        Membership: participant,
        Meeting: meeting,
        AgendaItem: AgendaItem.objects.get(meeting=meeting),
        StackEntry: StackEntry.objects.get(),
        Proposal: proposal,
        Revision: proposal.revisions.get(),
        Comment: Comment.objects.get(),
        TemperatureCheck: TemperatureCheck.objects.get(),
        TemperatureReading: TemperatureReading.objects.get(),
        User: participant.user,
        TokenProxy: TokenProxy.objects.get(),
    }
    return found


def _staff_lines(assembly) -> list[LogEntry]:
    return list(assembly.log_entries.filter(action__startswith="site.staff.").order_by("id"))


def _new_line(assembly, before: int, action: str) -> LogEntry:
    lines = _staff_lines(assembly)
    assert len(lines) > before, f"no public line for {action}"
    line = lines[-1]
    assert line.action == action
    assert line.actor_id is None and line.data["staff"] == "maria"
    return line


def _registered():
    return [model for model in admin.site._registry if model not in NOT_ASSEMBLY_DATA]


def test_every_admin_model_is_enumerated():
    assert set(_registered()) <= {*CHANGES, TokenProxy, *_read_only_models()}


def _read_only_models():
    return {
        model for model in _registered() if not _can(model, "change") and not _can(model, "add")
    }


def _can(model, permission: str, obj=None) -> bool:
    request = type("Request", (), {"user": User(is_superuser=True, is_active=True, is_staff=True)})
    return getattr(admin.site._registry[model], f"has_{permission}_permission")(request, obj)


@pytest.mark.parametrize("model", list(CHANGES), ids=lambda m: m.__name__)
def test_a_staff_change_is_public(staff, rows, assembly, model):
    obj = rows[model]
    url = _url(model, "change", obj.pk)
    form = _form_of(staff, url)
    field, value = CHANGES[model]
    assert field in form, f"{field} not on the {model.__name__} form"
    form[field] = [value]
    before = len(_staff_lines(assembly))
    response = staff.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    line = _new_line(assembly, before, "site.staff.changed")
    assert field in line.data["fields"]
    sentence = log_text.describe(line)
    assert sentence.startswith("Site staff maria changed")


def test_a_staff_password_change_is_public(staff, rows, assembly):
    user = rows[User]
    before = len(_staff_lines(assembly))
    response = staff.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "a new long password 1", "password2": "a new long password 1"},
    )
    assert response.status_code == 302
    line = _new_line(assembly, before, "site.staff.changed")
    assert line.data["fields"] == ["password"] and line.data["object"] == "Pat"


@pytest.mark.parametrize("model", list(CHANGES), ids=lambda m: m.__name__)
def test_a_staff_delete_is_public_or_refused(staff, rows, assembly, model):
    obj = rows[model]
    url = _url(model, "delete", obj.pk)
    before = len(_staff_lines(assembly))
    if not _can(model, "delete", obj):
        assert staff.post(url, {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()
        return
    response = staff.post(url, {"post": "yes"})
    if model.objects.filter(pk=obj.pk).exists():
        # Django refuses a delete that protected rows depend on: then nothing changed.
        assert len(_staff_lines(assembly)) == before
        return
    assert response.status_code == 302
    line = _new_line(assembly, before, "site.staff.deleted")
    assert line.data["model"] == str(model._meta.verbose_name)


@pytest.mark.parametrize("model", [*CHANGES, TokenProxy], ids=lambda m: m.__name__)
def test_every_bulk_action_is_public(staff, rows, assembly, model):
    obj = rows[model]
    request = type("Request", (), {"user": User.objects.get(username="maria"), "GET": {}})
    actions = admin.site._registry[model].get_actions(request)
    assert set(actions) <= {"delete_selected"}, "a new admin action needs its public line"
    if "delete_selected" not in actions:
        return
    before = len(_staff_lines(assembly))
    staff.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    if model.objects.filter(pk=obj.pk).exists():
        assert len(_staff_lines(assembly)) == before
    else:
        _new_line(assembly, before, "site.staff.deleted")


def test_a_staff_token_is_public_and_never_shows_its_key(staff, rows, assembly):
    Token.objects.all().delete()
    before = len(_staff_lines(assembly))
    response = staff.post(_url(TokenProxy, "add"), {"user": rows[User].pk})
    assert response.status_code == 302
    line = _new_line(assembly, before, "site.staff.added")
    token = Token.objects.get()
    assert token.key not in str(line.data) and line.data["object"] == "Pat"


def test_a_staff_added_member_through_the_assembly_inline_is_public(staff, rows, assembly):
    url = _url(Assembly, "change", assembly.pk)
    form = _form_of(staff, url)
    newcomer = User.objects.create_user(username="nina")
    prefix = "memberships"
    total = int(form[f"{prefix}-TOTAL_FORMS"][0])
    form[f"{prefix}-TOTAL_FORMS"] = [str(total + 1)]
    new = f"{prefix}-{total}-"
    form.update(
        {
            f"{new}user": [str(newcomer.pk)],
            f"{new}display_name": ["Nina"],
            f"{new}role": ["facilitator"],
            f"{new}status": ["active"],
            f"{new}joined_via": ["account"],
            f"{new}assembly": [str(assembly.pk)],
        }
    )
    before = len(_staff_lines(assembly))
    response = staff.post(url, form)
    assert response.status_code == 302, response.content[:3000]
    line = _new_line(assembly, before, "site.staff.added")
    assert line.data["object"].startswith("Nina")
    assert Membership.objects.get(user=newcomer).role == "facilitator"


def test_staff_cannot_delete_an_assembly_or_a_sitting_that_started(staff, rows, facilitator):
    meeting = sitting_services.start_meeting(actor=facilitator, meeting=rows[Meeting])
    for model, obj in ((Assembly, rows[Assembly]), (Meeting, meeting)):
        assert staff.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()


def test_the_staff_line_shows_on_the_public_log_page(staff, rows, assembly):
    form = _form_of(staff, _url(Assembly, "change", assembly.pk))
    form["description"] = ["Rewritten by staff"]
    staff.post(_url(Assembly, "change", assembly.pk), form)
    page = Client().get(reverse("sittings:log", args=[assembly.slug]))
    assert page.status_code == 200
    assert "Site staff maria changed assembly" in page.text
