"""The read-only pages: who sees what, and that user text is rendered inert."""

import pytest
from django.urls import reverse

from assemblies import services as assembly_services
from proposals import services
from sittings import services as sitting_services


@pytest.fixture
def private_assembly(other_assembly):
    return other_assembly


def test_it_lists_public_assemblies_only(client, assembly, private_assembly, facilitator_user):
    assembly_services.create_assembly(
        actor=facilitator_user, name="Hidden Link Assembly", visibility="unlisted"
    )
    response = client.get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Liberty Square General Assembly" in body
    assert "Other Assembly" not in body
    assert "Hidden Link Assembly" not in body


def test_it_shows_an_unlisted_assembly_to_anyone_with_the_link(client, facilitator_user):
    unlisted = assembly_services.create_assembly(
        actor=facilitator_user, name="By Link", visibility="unlisted"
    )
    assert client.get(unlisted.get_absolute_url()).status_code == 200


def test_it_answers_404_for_a_private_assembly_to_outsiders(client, private_assembly, participant):
    url = private_assembly.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(participant.user)
    assert client.get(url).status_code == 404


def test_it_shows_a_private_assembly_to_its_members(client, private_assembly, outsider):
    client.force_login(outsider.user)
    response = client.get(private_assembly.get_absolute_url())
    assert response.status_code == 200
    assert "Other Assembly" in response.content.decode()


def test_it_answers_404_for_a_private_assemblys_proposal(client, private_assembly, outsider):
    proposal = services.submit_proposal(actor=outsider, title="Secret plan", text="Hush.")
    assert client.get(proposal.get_absolute_url()).status_code == 404
    client.force_login(outsider.user)
    assert client.get(proposal.get_absolute_url()).status_code == 200


def test_it_answers_404_for_a_proposal_under_the_wrong_assembly(client, proposal, private_assembly):
    url = reverse("proposals:detail", args=[private_assembly.slug, proposal.pk])
    assert client.get(url).status_code == 404


def test_it_shows_the_assembly_page(client, assembly, facilitator, participant, proposal):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Tuesday night GA"
    )
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    response = client.get(assembly.get_absolute_url())
    body = response.content.decode()
    assert "Tuesday night GA" in body
    assert proposal.title in body
    assert "Pat" in body and "Facilitator" in body
    assert "9/10" in body  # the rule, described


def test_it_shows_a_decided_proposal_with_dissent_and_rule(
    client, open_call, facilitator, participant, make_member
):
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    asider = make_member("Sam")
    services.take_position(
        actor=asider, proposal=open_call, kind="stand_aside", reason="I will be away all month."
    )
    decision = services.close_call(actor=facilitator, proposal=open_call)
    body = client.get(open_call.get_absolute_url()).content.decode()
    assert decision.get_outcome_display() in body
    assert "I will be away all month." in body
    assert "Sam" in body
    assert "Rule applied" in body


def test_it_renders_proposal_markdown_but_not_scripts(client, participant):
    proposal = services.submit_proposal(
        actor=participant,
        title="<script>alert('title')</script>",
        text="**bold** <script>alert('x')</script> <img src=x onerror=alert(1)>",
    )
    body = client.get(proposal.get_absolute_url()).content.decode()
    assert "<strong>bold</strong>" in body
    assert "<script>alert" not in body
    assert "onerror" not in body
    assert "&lt;script&gt;alert(&#x27;title&#x27;)" in body


def test_it_marks_a_position_on_an_older_revision_stale(client, open_call, participant):
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    services.revise_proposal(actor=participant, proposal=open_call, text="A **green** tarp.")
    client.force_login(participant.user)
    body = client.get(open_call.get_absolute_url()).content.decode()
    assert "stale" in body
    assert "<strong>green</strong>" in body


def test_it_logs_in_and_out(client, facilitator_user):
    response = client.post(
        reverse("login"), {"username": "fran", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"].is_authenticated
    client.post(reverse("logout"))
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_it_refuses_a_wrong_password_with_a_message(client, facilitator_user):
    response = client.post(reverse("login"), {"username": "fran", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
