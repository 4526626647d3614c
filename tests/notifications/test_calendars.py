"""The iCalendar feeds parse with `icalendar` and carry RFC 5545's essentials."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from assemblies import services as assembly_services
from notifications import services as notification_services
from notifications.selectors import preference_for
from proposals import services
from sittings import services as sitting_services

pytestmark = pytest.mark.django_db


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def assert_rfc5545_essentials(calendar: Calendar) -> None:
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    events = calendar.walk("VEVENT")
    assert events
    uids = [str(event["UID"]) for event in events]
    assert len(set(uids)) == len(uids)
    for event in events:
        for prop in ("UID", "DTSTAMP", "DTSTART"):
            assert prop in event, prop
        assert event.decoded("DTSTAMP").tzinfo is not None
        if "DTEND" in event:
            assert event.decoded("DTEND") >= event.decoded("DTSTART")


def whole_seconds(value):
    return value.replace(microsecond=0)


@pytest.fixture
def sitting(assembly, facilitator):
    return sitting_services.schedule_meeting(
        actor=facilitator,
        assembly=assembly,
        title="May sitting",
        scheduled_for=timezone.now() + timedelta(days=5),
        location="Liberty Square",
    )


@pytest.fixture
def online(participant):
    return services.submit_proposal(
        actor=participant,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(days=2),
    )


def test_the_public_feed_has_sittings_and_closing_times(client, sitting, online):
    calendar = parse(client.get("/a/liberty-square/calendar.ics"))
    assert_rfc5545_essentials(calendar)
    by_uid = {str(event["UID"]).split("@")[0]: event for event in calendar.walk("VEVENT")}
    meeting = by_uid[f"sitting-{sitting.pk}"]
    assert str(meeting["SUMMARY"]) == "Liberty Square General Assembly: May sitting"
    assert str(meeting["LOCATION"]) == "Liberty Square"
    assert meeting.decoded("DTSTART") == whole_seconds(sitting.scheduled_for)
    closing = by_uid[f"closing-{online.pk}"]
    assert closing.decoded("DTSTART") == whole_seconds(online.closes_at)
    assert "Share the bike trailer" in str(closing["SUMMARY"])


def test_a_moved_sitting_keeps_its_uid(client, facilitator, sitting):
    before = parse(client.get("/a/liberty-square/calendar.ics")).walk("VEVENT")[0]["UID"]
    sitting_services.reschedule_meeting(
        actor=facilitator, meeting=sitting, scheduled_for=sitting.scheduled_for + timedelta(1)
    )
    after = parse(client.get("/a/liberty-square/calendar.ics")).walk("VEVENT")[0]
    assert after["UID"] == before
    assert after.decoded("DTSTART") == whole_seconds(sitting.scheduled_for + timedelta(1))


def test_a_private_assembly_has_only_secret_member_feeds(client, assembly, facilitator, sitting):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, visibility="private")
    assert client.get("/a/liberty-square/calendar.ics").status_code == 404
    key = preference_for(facilitator).calendar_key
    calendar = parse(client.get(f"/a/liberty-square/calendar/{key}.ics"))  # no login
    assert_rfc5545_essentials(calendar)
    assert client.get("/a/liberty-square/calendar/not-the-key.ics").status_code == 404


def test_a_new_calendar_address_revokes_the_old(client, facilitator, sitting):
    old = preference_for(facilitator).calendar_key
    notification_services.regenerate_calendar_key(actor=facilitator)
    new = preference_for(facilitator).calendar_key
    assert new != old
    assert client.get(f"/a/liberty-square/calendar/{old}.ics").status_code == 404
    assert client.get(f"/a/liberty-square/calendar/{new}.ics").status_code == 200


def test_a_key_of_one_assembly_opens_no_other(client, outsider, sitting):
    key = preference_for(outsider).calendar_key
    assert client.get(f"/a/liberty-square/calendar/{key}.ics").status_code == 404


def test_a_former_members_key_stops_working(client, participant, sitting):
    key = preference_for(participant).calendar_key
    assembly_services.leave_assembly(member=participant)
    assert client.get(f"/a/liberty-square/calendar/{key}.ics").status_code == 404


def test_each_sitting_has_an_add_to_calendar_file(client, sitting):
    response = client.get(f"/a/liberty-square/sittings/{sitting.pk}/sitting.ics")
    assert 'filename="sitting-' in response["Content-Disposition"]
    calendar = parse(response)
    assert_rfc5545_essentials(calendar)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=2)
    page = client.get("/a/liberty-square/")
    assert f"/a/liberty-square/sittings/{sitting.pk}/sitting.ics".encode() in page.content


def test_a_private_sittings_file_needs_membership(client, assembly, facilitator, sitting):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, visibility="private")
    url = f"/a/liberty-square/sittings/{sitting.pk}/sitting.ics"
    assert client.get(url).status_code == 404
    client.force_login(facilitator.user)
    assert client.get(url).status_code == 200
