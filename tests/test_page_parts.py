"""Parts of pages for the live client, and Post/Redirect/Get on every proposal form."""

import pytest

from proposals import services
from proposals.models import Position
from proposals.views import PAGE_PARTS
from sittings import services as sitting_services
from sittings.console import CONSOLE_PARTS, PROJECTOR_PARTS
from sittings.views import ASSEMBLY_PARTS

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("part", sorted(PAGE_PARTS))
def test_every_part_of_the_proposal_page_is_its_own_element(client, open_call, participant, part):
    client.force_login(participant.user)
    page = body(client.get(open_call.get_absolute_url() + f"?part={part}"))
    assert f'data-part="{part}"' in page
    assert "<html" not in page


def test_a_part_is_the_same_markup_as_in_the_whole_page(
    client, open_call, participant, make_member
):
    services.take_position(
        actor=make_member("Bo"), proposal=open_call, kind="block", reason="Line one\nline two"
    )
    client.force_login(participant.user)
    whole = body(client.get(open_call.get_absolute_url()))
    part = body(client.get(open_call.get_absolute_url() + "?part=dissent")).strip()
    assert part in whole
    assert "Line one<br>line two" in part


def test_an_unknown_part_is_the_whole_page(client, open_call, participant):
    client.force_login(participant.user)
    assert "<html" in body(client.get(open_call.get_absolute_url() + "?part=../../etc"))


@pytest.mark.parametrize("part", sorted(ASSEMBLY_PARTS))
def test_every_part_of_the_assembly_page(client, assembly, participant, part):
    client.force_login(participant.user)
    page = body(client.get(assembly.get_absolute_url() + f"?part={part}"))
    assert "<html" not in page


@pytest.mark.parametrize("part", sorted(CONSOLE_PARTS - {"console"}))
def test_every_part_of_the_console(client, assembly, facilitator, part):
    client.force_login(facilitator.user)
    page = body(client.get(f"/a/{assembly.slug}/console/?part={part}"))
    assert f'data-part="{part}"' in page
    assert "<html" not in page


@pytest.mark.parametrize("part", sorted(PROJECTOR_PARTS))
def test_every_part_of_the_projector(client, assembly, part):
    page = body(client.get(f"/a/{assembly.slug}/projector/?part={part}"))
    assert f'data-part="{part}"' in page


def test_a_part_of_the_console_is_refused_to_a_participant(client, assembly, participant):
    client.force_login(participant.user)
    assert client.get(f"/a/{assembly.slug}/console/?part=console-people").status_code == 403


def test_a_part_of_a_private_assembly_reveals_nothing_to_an_outsider(
    client, other_assembly, participant
):
    client.force_login(participant.user)  # a member of another assembly only
    response = client.get(other_assembly.get_absolute_url() + "?part=meeting")
    assert response.status_code == 404


def test_the_floor_notice_points_to_the_proposal_on_the_floor(
    client, assembly, facilitator, participant, open_call
):
    proposal = services.submit_proposal(actor=participant, title="Another", text="Later.")
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=open_call)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=open_call)
    client.force_login(participant.user)
    elsewhere = body(client.get(proposal.get_absolute_url() + "?part=floor-notice"))
    assert "Now on the floor" in elsewhere and open_call.get_absolute_url() in elsewhere
    here = body(client.get(open_call.get_absolute_url() + "?part=floor-notice"))
    assert "Now on the floor" not in here


# --- Post/Redirect/Get ---------------------------------------------------------------------

FORM_ACTIONS = ["position/", "question/", "concern/", "amend/", "temperature/"]


@pytest.mark.parametrize("action", FORM_ACTIONS)
def test_a_form_action_opened_with_get_leads_to_its_page(client, open_call, participant, action):
    """A reload or a history entry on a form's action URL never answers 405."""
    client.force_login(participant.user)
    response = client.get(open_call.get_absolute_url() + action)
    assert response.status_code == 302
    assert response["Location"] == open_call.get_absolute_url()


def test_a_form_action_opened_with_get_reveals_nothing_of_a_private_assembly(
    client, outsider, participant
):
    hidden = services.submit_proposal(actor=outsider, title="Private", text="Members only.")
    client.force_login(participant.user)  # not a member there
    for action in FORM_ACTIONS:
        assert client.get(hidden.get_absolute_url() + action).status_code == 404
    client.logout()
    assert client.get(hidden.get_absolute_url() + "position/").status_code == 404


def test_a_refused_form_is_shown_once_at_the_page_address(client, open_call, participant):
    client.force_login(participant.user)
    response = client.post(
        open_call.get_absolute_url() + "position/", {"kind": "block", "confirm": "True"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(open_call.get_absolute_url())
    first = body(client.get(open_call.get_absolute_url()))
    assert "A block needs a reason" in first
    assert "A block needs a reason" not in body(client.get(open_call.get_absolute_url()))
    assert not Position.objects.exists()


def test_a_live_part_fetch_does_not_take_a_refused_form_away(client, open_call, participant):
    client.force_login(participant.user)
    client.post(open_call.get_absolute_url() + "position/", {"kind": "block"})
    client.get(open_call.get_absolute_url() + "?part=positions")
    assert "A block needs a reason" in body(client.get(open_call.get_absolute_url()))


# --- truth in the record ----------------------------------------------------------------------


def test_a_reason_written_for_one_kind_is_never_stored_under_another(
    client, open_call, participant
):
    client.force_login(participant.user)
    url = open_call.get_absolute_url() + "position/"
    client.post(url, {"kind": "block", "reason_block": "Unsafe.", "confirm": "True"})
    # The page is reloaded: the block's box holds its reason, the others are empty.
    page = body(client.get(open_call.get_absolute_url()))
    assert page.count("Unsafe.") >= 1
    # Agree is chosen without touching anything: the block's reason stays with the block.
    client.post(url, {"kind": "agree", "reason_block": "Unsafe.", "reason_agree": ""})
    current = Position.objects.get(member=participant, is_current=True)
    assert (current.kind, current.reason) == ("agree", "")
    client.post(url, {"kind": "stand_aside", "reason_block": "Unsafe."})
    current = Position.objects.get(member=participant, is_current=True)
    assert (current.kind, current.reason) == ("stand_aside", "")


def test_the_form_says_which_reasons_the_rule_requires(client, open_call, participant):
    client.force_login(participant.user)
    page = body(client.get(open_call.get_absolute_url()))
    block_box = page[page.index('for="id_reason_block"') :][:400]
    aside_box = page[page.index('for="id_reason_stand_aside"') :][:400]
    assert "required by this assembly" in block_box
    assert "optional" in aside_box
