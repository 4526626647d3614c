"""Participation in the browser, through Django's test client: joining, discussing, positions.

Every refusal is shown with its message; nothing changes when a request is refused.
"""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from assemblies import services as assembly_services
from proposals import services
from proposals.models import Comment, Position


def url(name, proposal, *args):
    return reverse(f"proposals:{name}", args=[proposal.assembly.slug, proposal.pk, *args])


# --- joining ----------------------------------------------------------------------------------


def test_it_joins_by_code_with_only_a_display_name(client, assembly):
    response = client.post(
        reverse("assemblies:join"), {"code": assembly.join_code.lower(), "display_name": "Kim"}
    )
    assert response.status_code == 302
    member = assembly.memberships.get(display_name="Kim")
    assert member.joined_via == "code"
    assert not member.user.has_usable_password()
    # The browser session now is that member.
    assert client.get(assembly.get_absolute_url()).context["member"] == member


def test_it_refuses_a_wrong_code_with_a_message_on_the_field(client, assembly):
    response = client.post(reverse("assemblies:join"), {"code": "NOPE2345", "display_name": "Kim"})
    assert response.status_code == 400
    assert "That join code is not valid." in response.content.decode()
    assert not assembly.memberships.filter(display_name="Kim").exists()
    assert not User.objects.filter(username__startswith="guest-").exists()


def test_it_joins_a_private_assembly_through_its_join_link(client, other_assembly):
    link = reverse("assemblies:join_link", args=[other_assembly.slug])
    assert client.get(link).status_code == 404  # no code: nothing to see
    response = client.get(link, {"code": other_assembly.join_code})
    assert response.status_code == 200
    response = client.post(link, {"code": other_assembly.join_code, "display_name": "Ren"})
    assert response.status_code == 302
    assert client.get(other_assembly.get_absolute_url()).status_code == 200


def test_it_lets_an_account_join_a_public_assembly_without_a_code(client, assembly):
    User.objects.create_user("ada", password="pw-long-enough-123")
    client.login(username="ada", password="pw-long-enough-123")
    link = reverse("assemblies:join_link", args=[assembly.slug])
    assert client.post(link, {"display_name": "Ada"}).status_code == 302
    assert assembly.memberships.get(display_name="Ada").joined_via == "account"


def test_it_refuses_a_guest_without_a_code_on_a_public_assembly(client, assembly):
    link = reverse("assemblies:join_link", args=[assembly.slug])
    response = client.post(link, {"display_name": "Nobody"})
    assert response.status_code in (200, 400)
    assert not assembly.memberships.filter(display_name="Nobody").exists()


def test_it_lets_a_guest_keep_their_identity_with_email_and_password(client, assembly):
    client.post(reverse("assemblies:join"), {"code": assembly.join_code, "display_name": "Kim"})
    response = client.post(
        reverse("account"), {"email": "kim@example.org", "password": "a-long-pass-phrase-9"}
    )
    assert response.status_code == 302
    client.logout()
    assert client.login(username="kim@example.org", password="a-long-pass-phrase-9")
    assert client.get(assembly.get_absolute_url()).context["member"].display_name == "Kim"


def test_it_signs_up_with_email_and_password(client, db):
    response = client.post(
        reverse("signup"), {"email": "New@Example.org", "password": "a-long-pass-phrase-9"}
    )
    assert response.status_code == 302
    assert User.objects.get(username="new@example.org").check_password("a-long-pass-phrase-9")


def test_it_refuses_a_weak_password_at_signup(client, db):
    response = client.post(reverse("signup"), {"email": "x@example.org", "password": "123"})
    assert response.status_code == 400
    assert not User.objects.filter(username="x@example.org").exists()


def test_it_leaves_an_assembly(client, assembly, participant):
    client.force_login(participant.user)
    response = client.post(reverse("assemblies:leave", args=[assembly.slug]))
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.status == "left"


# --- discussion -----------------------------------------------------------------------------


def test_it_asks_a_clarifying_question(client, proposal, participant):
    client.force_login(participant.user)
    response = client.post(url("comment", proposal, "question"), {"question-text": "Which shop?"})
    assert response.status_code == 302
    assert Comment.objects.get(proposal=proposal).kind == "question"


def test_it_refuses_an_empty_question_with_a_field_error(client, proposal, participant):
    client.force_login(participant.user)
    response = client.post(url("comment", proposal, "question"), {"question-text": "  "})
    # Post/Redirect/Get on refusal too: the page shows the error, at its own address.
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url() + "#discussion"
    assert "required" in client.get(proposal.get_absolute_url()).content.decode()
    assert not Comment.objects.exists()


def test_it_lets_only_the_author_answer(client, proposal, participant, make_member):
    asker = make_member("Asker")
    question = services.add_comment(actor=asker, proposal=proposal, kind="question", text="Why?")
    client.force_login(asker.user)
    response = client.post(url("answer", proposal, question.pk), {"text": "Because."})
    assert response.status_code == 403
    client.force_login(participant.user)
    assert client.post(url("answer", proposal, question.pk), {"text": "Rain."}).status_code == 302
    assert question.replies.get().text == "Rain."


def test_it_proposes_and_accepts_a_friendly_amendment(client, proposal, participant, make_member):
    friend = make_member("Friend")
    client.force_login(friend.user)
    response = client.post(
        url("amend", proposal),
        {"amendment-text": "Cheaper", "amendment-proposed_text": "A tarp, at most $60."},
    )
    assert response.status_code == 302
    amendment = Comment.objects.get(kind="amendment")
    assert (
        client.post(url("resolve_amendment", proposal, amendment.pk, "accept")).status_code == 403
    )
    client.force_login(participant.user)
    assert (
        client.post(url("resolve_amendment", proposal, amendment.pk, "accept")).status_code == 302
    )
    proposal.refresh_from_db()
    assert proposal.revision_number == 2
    diff = client.get(url("diff", proposal), {"from": 1, "to": 2}).content.decode()
    assert "<ins>" in diff and "<del>" in diff


def test_it_refuses_an_observer_to_comment(client, proposal, observer):
    client.force_login(observer.user)
    response = client.post(url("comment", proposal, "concern"), {"concern-text": "Hmm"})
    assert response.status_code == 403
    assert "Observers can watch" in response.content.decode()
    assert not Comment.objects.exists()


def test_it_answers_404_to_outsiders_posting_into_a_proposal(client, proposal, outsider):
    client.force_login(outsider.user)
    response = client.post(url("comment", proposal, "question"), {"question-text": "Hi"})
    # A public assembly is visible, but an outsider is not a member: refused, nothing stored.
    assert response.status_code in (403, 404)
    assert not Comment.objects.exists()


# --- positions ------------------------------------------------------------------------------


def test_it_takes_and_changes_a_position(client, open_call, participant):
    client.force_login(participant.user)
    assert client.post(url("position", open_call), {"kind": "agree"}).status_code == 302
    response = client.post(
        url("position", open_call),
        {"kind": "stand_aside", "reason_stand_aside": "Away that week."},
    )
    assert response.status_code == 302
    current = Position.objects.get(proposal=open_call, member=participant, is_current=True)
    assert current.kind == "stand_aside"
    assert Position.objects.filter(proposal=open_call, member=participant).count() == 2


def test_it_explains_a_block_before_confirming_it(client, open_call, participant):
    client.force_login(participant.user)
    response = client.post(url("position", open_call), {"kind": "block", "reason_block": "Unsafe."})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "A block is not a vote against" in page
    assert "Unsafe." in page  # the objection, as it will be recorded
    assert not Position.objects.exists()
    response = client.post(
        url("position", open_call),
        {"kind": "block", "reason_block": "Unsafe.", "confirm": "True"},
    )
    assert response.status_code == 302
    assert Position.objects.get().kind == "block"


def test_it_refuses_a_block_without_a_reason(client, open_call, participant):
    client.force_login(participant.user)
    response = client.post(url("position", open_call), {"kind": "block", "confirm": "True"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "A block needs a reason" in page
    assert not Position.objects.exists()


def test_it_refuses_a_position_outside_the_call(client, proposal, participant):
    client.force_login(participant.user)
    response = client.post(url("position", proposal), {"kind": "agree"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Positions can only be taken during the call for consensus." in page
    assert not Position.objects.exists()


def test_it_refuses_a_position_from_an_observer(client, open_call, observer):
    client.force_login(observer.user)
    assert client.post(url("position", open_call), {"kind": "agree"}).status_code == 403
    assert not Position.objects.exists()


def test_it_asks_an_anonymous_visitor_to_log_in(client, open_call):
    response = client.post(url("position", open_call), {"kind": "agree"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_it_gives_a_temperature_reading(client, proposal, facilitator, participant):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    client.force_login(participant.user)
    assert client.post(url("reading", proposal), {"reading": "up"}).status_code == 302
    body = client.get(proposal.get_absolute_url()).content.decode()
    assert 'aria-pressed="true"' in body


def test_it_submits_an_online_proposal_that_opens_at_once(client, assembly, participant):
    client.force_login(participant.user)
    response = client.post(
        reverse("proposals:new", args=[assembly.slug]),
        {"title": "Paint the bench", "text": "Green.", "closes_at": "2099-01-01T12:00"},
    )
    assert response.status_code == 302
    proposal = assembly.proposals.get(title="Paint the bench")
    assert proposal.phase == "call" and proposal.rule is not None


@pytest.mark.parametrize("field,value", [("title", ""), ("closes_at", "2000-01-01T12:00")])
def test_it_refuses_a_bad_proposal_with_field_errors(client, assembly, participant, field, value):
    client.force_login(participant.user)
    data = {"title": "T", "text": "X", "closes_at": "", field: value}
    response = client.post(reverse("proposals:new", args=[assembly.slug]), data)
    assert response.status_code == 400
    assert not assembly.proposals.exists()


def test_it_enforces_csrf_on_forms(open_call, participant):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(participant.user)
    assert client.post(url("position", open_call), {"kind": "agree"}).status_code == 403
    assert not Position.objects.exists()


def test_it_shows_pending_members_that_they_wait(client, assembly, facilitator):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, admission_required=True)
    client.post(reverse("assemblies:join"), {"code": assembly.join_code, "display_name": "Lou"})
    body = client.get(assembly.get_absolute_url()).content.decode()
    assert "Waiting for a facilitator" in body


# --- join-code guessing -------------------------------------------------------------------


@pytest.fixture
def tight_join_limit(settings):
    settings.JOIN_FAILURE_RATE = "5/10m"
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_it_holds_back_a_client_that_keeps_guessing_codes(client, assembly, tight_join_limit):
    for _attempt in range(5):
        wrong = client.post(reverse("assemblies:join"), {"code": "WRONG234", "display_name": "X"})
        assert wrong.status_code == 400
    response = client.post(reverse("assemblies:join"), {"code": "WRONG345", "display_name": "X"})
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    # Issue 13: the right code is never refused, even after the address's budget is spent.
    response = client.post(
        reverse("assemblies:join"), {"code": assembly.join_code, "display_name": "Guesser"}
    )
    assert response.status_code == 302
    # Another client (another address) is not affected.
    other = client_class_for("10.0.0.2")
    assert (
        other.post(
            reverse("assemblies:join"), {"code": assembly.join_code, "display_name": "Neighbour"}
        ).status_code
        == 302
    )


def test_it_never_counts_right_codes_so_a_crowd_on_one_address_gets_in(
    client, assembly, tight_join_limit
):
    # Far more people than the failure limit, all behind one address, all with the right code.
    for n in range(40):
        crowd = client_class_for("192.0.2.1")
        response = crowd.post(
            reverse("assemblies:join"), {"code": assembly.join_code, "display_name": f"P{n}"}
        )
        assert response.status_code == 302
    assert assembly.memberships.filter(display_name__startswith="P").count() == 40


def test_it_limits_guessing_through_join_links_per_assembly(
    client, other_assembly, tight_join_limit
):
    link = reverse("assemblies:join_link", args=[other_assembly.slug])
    for _attempt in range(5):
        assert client.get(link, {"code": "WRONG234"}).status_code == 404
    assert client.get(link, {"code": "WRONG345"}).status_code == 429
    # Issue 13: the right code is never refused.
    assert client.get(link, {"code": other_assembly.join_code}).status_code == 200


def client_class_for(address: str):
    from django.test import Client

    return Client(REMOTE_ADDR=address)
