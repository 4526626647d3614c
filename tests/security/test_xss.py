"""Every text a user controls is rendered inert everywhere it appears.

Payloads go into titles, proposal texts, comments, amendments, reasons and display names;
then every page, the projector, the console, the log, the minutes, the exports and the live
snapshot are parsed, and no script, event handler or javascript: URL of theirs may appear.
"""

import csv
import io
import json
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from assemblies import services as assembly_services
from proposals import services
from sittings import live
from sittings import services as sitting_services

PAYLOADS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "\"><svg onload=alert('xss-3')>",
    "[click me](javascript:alert('xss-4'))",
    "<a href=\"javascript:alert('xss-5')\">link</a>",
    "</textarea><script>alert('xss-6')</script>",
    "<iframe src=\"javascript:alert('xss-7')\"></iframe>",
    "<style>body{display:none}</style>",
    '\'";!--"<XSS>=&{()}',
    "{{ 7|add:7 }}{% now 'Y' %}",
]
PAYLOAD_TEXT = "\n\n".join(PAYLOADS)


class Inspector(HTMLParser):
    """Collects what could execute: inline scripts, handlers, javascript: URLs, frames."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not (
            attributes.get("src", "").startswith("/static/")
            or attributes.get("type") == "application/json"
        ):
            self.problems.append(f"script tag {attrs}")
        if tag in ("iframe", "object", "embed", "style"):
            self.problems.append(f"{tag} tag")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} has {name}={value!r}")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"{tag} {name}={value!r}")


def assert_inert(body: str, where: str) -> None:
    inspector = Inspector()
    inspector.feed(body)
    assert not inspector.problems, f"{where}: {inspector.problems}"
    for payload in PAYLOADS:
        if "<" in payload:
            assert payload not in body, f"{where}: raw {payload!r}"


@pytest.fixture
def poisoned(assembly, facilitator, participant, make_member):
    """An assembly whose every user-controlled text carries the payloads."""
    assembly_services.update_assembly(
        actor=facilitator, assembly=assembly, description=PAYLOAD_TEXT
    )
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="GA " + PAYLOADS[1]
    )
    evil = make_member(PAYLOADS[2][:80])
    proposal = services.submit_proposal(actor=evil, title=PAYLOADS[0], text=PAYLOAD_TEXT)
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=proposal)
    question = services.add_comment(
        actor=participant, proposal=proposal, kind="question", text=PAYLOAD_TEXT
    )
    services.add_comment(
        actor=evil, proposal=proposal, kind="answer", text=PAYLOADS[4], parent=question
    )
    services.add_comment(actor=participant, proposal=proposal, kind="concern", text=PAYLOADS[5])
    amendment = services.add_comment(
        actor=participant,
        proposal=proposal,
        kind="amendment",
        text=PAYLOADS[6],
        proposed_text=PAYLOAD_TEXT + "\n\nmore",
    )
    services.accept_amendment(actor=evil, amendment=amendment)
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    services.take_position(actor=evil, proposal=proposal, kind="block", reason=PAYLOAD_TEXT)
    services.take_position(
        actor=participant, proposal=proposal, kind="stand_aside", reason=PAYLOADS[1]
    )
    return {"proposal": proposal, "meeting": meeting, "evil": evil}


def page_urls(assembly, proposal, meeting):
    slug = assembly.slug
    return [
        reverse("home"),
        assembly.get_absolute_url(),
        proposal.get_absolute_url(),
        reverse("proposals:diff", args=[slug, proposal.pk]) + "?from=1&to=2",
        reverse("sittings:projector", args=[slug]),
        reverse("sittings:console", args=[slug]),
        reverse("sittings:log", args=[slug]),
        reverse("sittings:minutes", args=[slug, meeting.pk]),
    ]


def test_it_renders_every_page_inert(client, assembly, facilitator, poisoned):
    client.force_login(facilitator.user)
    for url in page_urls(assembly, poisoned["proposal"], poisoned["meeting"]):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode(), url)


def test_it_renders_the_decided_page_and_minutes_inert(client, assembly, facilitator, poisoned):
    services.close_call(actor=facilitator, proposal=poisoned["proposal"])
    client.force_login(facilitator.user)
    for url in page_urls(assembly, poisoned["proposal"], poisoned["meeting"]):
        assert_inert(client.get(url).content.decode(), url)
    markdown = client.get(
        reverse("sittings:minutes_md", args=[assembly.slug, poisoned["meeting"].pk])
    )
    assert markdown["Content-Type"].startswith("text/markdown")
    assert markdown["Content-Disposition"].startswith("attachment")


def test_it_keeps_payloads_as_data_in_exports_and_snapshots(
    client, assembly, facilitator, poisoned
):
    services.close_call(actor=facilitator, proposal=poisoned["proposal"])
    base = f"/api/v1/assemblies/{assembly.slug}"
    history = json.loads(b"".join(client.get(f"{base}/history.json").streaming_content))
    assert PAYLOADS[0] in json.dumps(history, ensure_ascii=False)  # kept exactly, as data
    rows = list(
        csv.reader(
            io.StringIO(b"".join(client.get(f"{base}/decisions.csv").streaming_content).decode())
        )
    )
    assert any(PAYLOADS[0] in cell for row in rows for cell in row)
    for response in (client.get(f"{base}/history.json"), client.get(f"{base}/popolo.json")):
        assert response["Content-Type"].startswith("application/json")
    snapshot = json.loads(live.encode(live.build_snapshot(assembly.pk, 1)))
    assert snapshot["proposals"][0]["title"] == PAYLOADS[0]  # the client renders it as text


def test_it_sends_html_pages_with_a_strict_content_security_policy(client, assembly, poisoned):
    response = client.get(poisoned["proposal"].get_absolute_url())
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
    assert "object-src 'none'" in policy
