"""The hall and the phones in one tally, in real browsers against a real uvicorn server."""

import pytest
from playwright.sync_api import expect

from proposals import services as proposal_services
from proposals.models import Decision
from sittings import hall
from sittings import services as sitting_services
from tests.browser.test_live_sitting import live, logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(start_server):
    return start_server()


def test_members_check_in_counters_count_the_hall_and_every_screen_shows_both_parts(
    browser, server, assembly, facilitator, participant, make_member, open_call
):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    meeting = sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=open_call)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=open_call)
    ana, ben = make_member("Ana"), make_member("Ben")
    hall.choose_counters(actor=facilitator, meeting=meeting, members=[ana, ben])
    in_the_hall = [make_member(f"Hall {n}") for n in range(3)]
    proposal_services.take_position(actor=make_member("Online"), proposal=open_call, kind="agree")

    projector = logged_in_page(browser, server, facilitator, phone=False)
    projector.goto(f"{server['http']}/a/{assembly.slug}/projector/")
    live(projector)
    watcher = logged_in_page(browser, server, make_member("Wren"))
    watcher.goto(f"{server['http']}{open_call.get_absolute_url()}")
    live(watcher)
    expect(projector.get_by_role("img", name="QR code with the check-in link")).to_be_visible()

    # A member checks in from the page the QR code opens; the projector's number follows.
    member = logged_in_page(browser, server, participant)
    member.goto(f"{server['http']}/a/{assembly.slug}/check-in/")
    member.get_by_role("button", name="I am here: check in").click()
    expect(member.get_by_text("You are counted present at this sitting.").first).to_be_visible()
    expect(projector.locator("[data-present]").first).to_have_text("1")

    # A counter counts the others at the door.
    counter_a = logged_in_page(browser, server, ana)
    counter_a.goto(f"{server['http']}/a/{assembly.slug}/hall/")
    for person in in_the_hall:
        counter_a.get_by_label("Count a member present").select_option(label=person.display_name)
        counter_a.get_by_role("button", name="Counted present").click()
        expect(counter_a.get_by_text(f"{person.display_name} is counted present.")).to_be_visible()
    expect(counter_a.locator("[data-present]").first).to_have_text("4")
    expect(projector.locator("[data-present]").first).to_have_text("4")

    # The two counters count the hall differently: both counts are shown, nothing counts.
    def enter(page, agree, stand_aside, accepted=True):
        page.goto(f"{server['http']}/a/{assembly.slug}/hall/")
        page.get_by_label("Agree").fill(str(agree))
        page.get_by_label("Stand aside").fill(str(stand_aside))
        page.get_by_label("Block", exact=True).fill("0")
        page.get_by_role("button", name="Enter my count").click()
        if accepted:
            expect(page.get_by_text("Your count of the hall is entered.")).to_be_visible()

    counter_b = logged_in_page(browser, server, ben)
    enter(counter_a, 3, 1)
    enter(counter_b, 2, 1)
    expect(watcher.get_by_text("The two counts of the hall differ.")).to_be_visible()
    expect(watcher.locator('[data-count="agree"]').first).to_have_text("1")
    # The second counter corrects hers: recorded, and every screen shows online, hall, sum.
    enter(counter_b, 3, 1)
    expect(watcher.locator('[data-count="agree"]').first).to_have_text("4")
    expect(watcher.locator(".hall-split")).to_contain_text("In the hall")
    expect(projector.locator(".hall-split")).to_contain_text("Together")

    # A count larger than the people present is refused, with the reason.
    console = logged_in_page(browser, server, facilitator, phone=False)
    console.goto(f"{server['http']}/a/{assembly.slug}/console/")
    console.get_by_role("button", name="Call a recount of the hall").click()
    expect(watcher.locator('[data-count="agree"]').first).to_have_text("1")
    enter(counter_a, 9, 0, accepted=False)
    # The refusal itself (the page's help text also says a count cannot be larger).
    expect(counter_a.locator(".message-error")).to_contain_text("larger than the members present")

    enter(counter_a, 3, 1)
    enter(counter_b, 3, 1)
    decision = proposal_services.close_call(actor=facilitator, proposal=open_call)
    assert Decision.objects.get().pk == decision.pk
    assert decision.record["online_counts"] == {"agree": 1, "stand_aside": 0, "block": 0}
    assert decision.record["hall"]["counts"] == {"agree": 3, "stand_aside": 1, "block": 0}
    watcher.goto(f"{server['http']}{open_call.get_absolute_url()}")
    expect(watcher.locator(".hall-split")).to_contain_text("Together")
