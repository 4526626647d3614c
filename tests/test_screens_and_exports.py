"""Words and screens (issue "A real sitting without a stumble", points 8 and 9), from outside:
the export links, the favicon, empty lists, the amendment form, hand signals, the decisions
table, translated minutes and date formats. The API's index: tests/api/test_index.py."""

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import translation

from assemblies.models import LogEntry
from proposals import services as proposal_services
from proposals.models import Comment, CommentKind
from sittings import services as sitting_services
from sittings.minutes import minutes_markdown

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    translation.activate("en")


class Elements(HTMLParser):
    """The start tags of a page with their attributes, and each text's enclosing tags."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in {"br", "img", "input", "link", "meta", "hr", "source"}:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if data.strip():
            self.texts.append((tuple(self.stack), data.strip()))


def parse(response) -> Elements:
    assert response.status_code == 200, response.status_code
    parser = Elements()
    parser.feed(response.content.decode())
    return parser


def hrefs(page: Elements) -> set[str]:
    return {attrs["href"] for tag, attrs in page.tags if tag == "a" and "href" in attrs}


# --- export links on the pages ------------------------------------------------------------


def test_the_assembly_page_links_to_every_export_with_a_sentence(client, open_call, facilitator):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=open_call.assembly, title="Sunday sitting"
    )
    slug = open_call.assembly.slug
    response = client.get(reverse("sittings:assembly", args=[slug]))
    page = parse(response)
    links = hrefs(page)
    for url in (
        reverse("api:decisions-csv", args=[slug]),
        reverse("api:positions-csv", args=[slug]),
        reverse("api:history-json", args=[slug]),
        reverse("api:popolo-json", args=[slug]),
        reverse("sittings:minutes_md", args=[slug, meeting.pk]),
        reverse("api:index"),
        reverse("api:docs"),
    ):
        assert url in links, url
    body = response.content.decode()
    assert 'id="exports">Export / download</h2>' in body
    assert "python3 tools/verify_history.py history.json" in body
    # Downloads are real navigations, not htmx swaps of the page's body.
    sections = [a for tag, a in page.tags if tag == "section" and a.get("class") == "exports"]
    assert sections and sections[0]["hx-boost"] == "false"


def test_the_proposal_page_links_to_its_exports(client, open_call, facilitator):
    slug = open_call.assembly.slug
    links = hrefs(parse(client.get(open_call.get_absolute_url())))
    assert reverse("api:proposal", args=[open_call.pk]) in links
    assert reverse("api:revisions", args=[open_call.pk]) in links
    assert reverse("api:history-json", args=[slug]) in links
    assert not any(link.startswith("/api/v1/decisions/") for link in links)

    decision = proposal_services.close_call(actor=facilitator, proposal=open_call)
    links = hrefs(parse(client.get(open_call.get_absolute_url())))
    assert reverse("api:decision", args=[decision.pk]) in links


def test_the_exports_linked_from_the_pages_answer(client, open_call, facilitator):
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    slug = open_call.assembly.slug
    for name in ("decisions-csv", "positions-csv", "history-json", "popolo-json"):
        response = client.get(reverse(f"api:{name}", args=[slug]))
        assert response.status_code == 200, name


def test_the_minutes_download_button_is_not_boosted(client, facilitator):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=facilitator.assembly, title="Sunday sitting"
    )
    page = parse(client.get(reverse("sittings:minutes", args=[meeting.assembly.slug, meeting.pk])))
    url = reverse("sittings:minutes_md", args=[meeting.assembly.slug, meeting.pk])
    button = next(a for tag, a in page.tags if tag == "a" and a.get("href") == url)
    assert button["hx-boost"] == "false"
    assert "download" in button


# --- favicon ----------------------------------------------------------------------------------


def test_pages_link_an_svg_favicon_that_is_served(client, db):
    page = parse(client.get("/"))
    icons = [a for tag, a in page.tags if tag == "link" and a.get("rel") == "icon"]
    assert icons and icons[0]["type"] == "image/svg+xml"
    icon = client.get(icons[0]["href"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content)


def test_favicon_ico_is_not_a_404(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("/favicon.svg")
    assert client.head("/favicon.ico").status_code == 302
    assert client.get(response["Location"]).status_code == 200


# --- empty lists ---------------------------------------------------------------------------


def _enclosing(page: Elements, text: str) -> tuple[str, ...]:
    return next(tags for tags, data in page.texts if data == text)


def test_an_empty_log_is_a_sentence_not_a_numbered_item(client, assembly):
    LogEntry.objects.filter(assembly=assembly).delete()
    page = parse(client.get(reverse("sittings:log", args=[assembly.slug])))
    tags = _enclosing(page, "Nothing yet.")
    assert tags[-1] == "p"
    assert "ol" not in tags and "li" not in tags


def test_a_log_with_entries_is_a_list(client, assembly):
    page = parse(client.get(reverse("sittings:log", args=[assembly.slug])))
    assert ("ol", {"class": "log", "reversed": None}) in page.tags
    assert not any(data == "Nothing yet." for _tags, data in page.texts)


def test_no_memberships_is_a_sentence_not_a_list_item(client, db):
    from tests.conftest import make_user

    client.force_login(make_user("newcomer"))
    page = parse(client.get(reverse("account")))
    tags = _enclosing(page, "None yet.")
    assert tags[-1] == "p"
    assert "ul" not in tags and "li" not in tags


# --- the amendment form ---------------------------------------------------------------------


def test_the_amendment_form_starts_with_the_current_text(client, proposal, participant):
    proposal_services.revise_proposal(
        actor=participant, proposal=proposal, text="Revised: a green tarp.", summary="Colour"
    )
    client.force_login(participant.user)
    body = client.get(proposal.get_absolute_url()).content.decode()
    field = r'<textarea name="amendment-proposed_text"[^>]*>(.*?)</textarea>'
    textarea = re.search(field, body, re.S)
    assert textarea is not None
    assert textarea[1].strip() == "Revised: a green tarp."
    assert "It starts as the current text" in body


def test_an_amendment_that_changes_nothing_is_refused(client, proposal, participant):
    client.force_login(participant.user)
    url = reverse("proposals:amend", args=[proposal.assembly.slug, proposal.pk])
    current = proposal.revisions.get(number=proposal.revision_number).text
    unchanged = client.post(
        url,
        {"amendment-text": "Nothing really", "amendment-proposed_text": current + "\r\n"},
    )
    assert unchanged.status_code == 302  # Post/Redirect/Get: the page shows the refusal
    page = client.get(unchanged["Location"]).content.decode()
    assert "This is the current text, unchanged" in page
    assert not Comment.objects.filter(proposal=proposal, kind=CommentKind.AMENDMENT).exists()

    changed = client.post(
        url,
        {"amendment-text": "Cheaper", "amendment-proposed_text": current.replace("$80", "$60")},
    )
    assert changed.status_code == 302
    amendment = Comment.objects.get(proposal=proposal, kind=CommentKind.AMENDMENT)
    assert "$60" in amendment.proposed_text


# --- hand signals ---------------------------------------------------------------------------


def test_hand_signals_are_a_labelled_group_apart_from_positions(client, open_call, participant):
    client.force_login(participant.user)
    page = parse(client.get(open_call.get_absolute_url()))
    groups = [a for tag, a in page.tags if a.get("class") == "hand-signals"]
    assert groups and groups[0]["role"] == "group"
    title_id = groups[0]["aria-labelledby"]
    title = next(a for tag, a in page.tags if a.get("id") == title_id)
    assert title is not None
    assert any(data == "Hand signals — not a position" for _tags, data in page.texts)
    buttons = {a["data-signal"] for tag, a in page.tags if tag == "button" and "data-signal" in a}
    assert buttons == {"agree", "so_so", "disagree", "point_of_process", "wrap_up"}
    # No hand signal reads like the position "Agree".
    texts = [data for tags, data in page.texts if tags and tags[-1] == "button"]
    assert "Agree with what's said" in texts
    assert "Agree" not in texts and "Disagree" not in texts


# --- the decisions table ------------------------------------------------------------------


def test_each_decision_cell_says_what_it_is(client, open_call, facilitator):
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    page = parse(client.get(reverse("sittings:assembly", args=[open_call.assembly.slug])))
    labels = [a.get("data-label") for tag, a in page.tags if tag == "td"]
    assert labels == ["#", "Proposal", "Outcome", "Agree / stand aside / block", "Date"]
    assert any("table-stack" in a.get("class", "") for tag, a in page.tags if tag == "table")


# --- words: minutes, dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "facilitator_word", "blocks"),
    [("en", "(facilitator)", "Blocks:"), ("es", "(facilitador/a)", "Bloqueos:"),
     ("fr", "(facilitateur·rice)", "Blocages\u00a0:")],
)  # fmt: skip
def test_the_minutes_are_in_the_readers_language(
    open_call, facilitator, make_member, language, facilitator_word, blocks
):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=open_call.assembly, title="Sunday sitting"
    )
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=open_call)
    blocker = make_member("Cy")
    proposal_services.take_position(
        actor=blocker, proposal=open_call, kind="block", reason="Second-hand only."
    )
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    with translation.override(language):
        text = minutes_markdown(meeting)
    assert f"- Fran {facilitator_word}" in text
    assert blocks in text
    if language == "en":
        assert "- Cy: Second-hand only." in text
    if language == "fr":
        assert "- Cy\u00a0: Second-hand only." in text


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_a_date_at_the_end_of_a_sentence_leaves_one_period(language):
    evening = datetime(2026, 11, 26, 18, 53, tzinfo=UTC)
    with translation.override(language):
        for name in ("DATETIME_FORMAT", "SHORT_DATETIME_FORMAT", "TIME_FORMAT"):
            assert not date_filter(evening, name).endswith("."), (language, name)
    with translation.override("en"):
        assert date_filter(evening, "DATETIME_FORMAT") == "Nov. 26, 2026, 6:53 PM"


def test_the_closed_by_sentence_has_one_period(client, open_call, facilitator):
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    body = client.get(open_call.get_absolute_url()).content.decode()
    sentence = re.search(r"Closed by Fran on [^<\n]*", body)
    assert sentence is not None
    assert re.search(r"\d:\d\d [AP]M\.$", sentence[0]), sentence[0]
