"""iCalendar (RFC 5545) for an assembly: its sittings and the closing times of online calls.

A sitting has a start and no set end: DTEND is when it adjourned, else SITTING_HOURS after
the start (calendars need an end to draw it). UIDs are stable, so a moved sitting replaces
its old entry in a subscribed calendar instead of adding one.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from notifications.content import absolute

SITTING_HOURS = 2
PRODID = "-//Multitude//Assembly calendar//EN"


def _host() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0]


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _sitting_event(meeting, assembly) -> Event:
    event = Event()
    event.add("uid", f"sitting-{meeting.pk}@{_host()}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", meeting.scheduled_for)
    end = meeting.ended_at or meeting.scheduled_for + timedelta(hours=SITTING_HOURS)
    event.add("dtend", max(end, meeting.scheduled_for))
    event.add("summary", f"{assembly.name}: {meeting.title}")
    if meeting.location:
        event.add("location", meeting.location)
    event.add("url", absolute(assembly.get_absolute_url()))
    event.add("status", "CONFIRMED")
    return event


def _closing_event(proposal, assembly) -> Event:
    event = Event()
    event.add("uid", f"closing-{proposal.pk}@{_host()}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", proposal.closes_at)
    event.add("dtend", proposal.closes_at)
    event.add(
        "summary",
        _("%(assembly)s: the call on “%(title)s” closes")
        % {"assembly": assembly.name, "title": proposal.title},
    )
    event.add("url", absolute(proposal.get_absolute_url()))
    event.add("transp", "TRANSPARENT")
    return event


def assembly_feed(assembly, sittings, closings) -> bytes:
    calendar = _calendar(assembly.name)
    for meeting in sittings:
        calendar.add_component(_sitting_event(meeting, assembly))
    for proposal in closings:
        calendar.add_component(_closing_event(proposal, assembly))
    return calendar.to_ical()


def sitting_file(meeting, assembly) -> bytes:
    calendar = _calendar(f"{assembly.name}: {meeting.title}")
    calendar.add_component(_sitting_event(meeting, assembly))
    return calendar.to_ical()
