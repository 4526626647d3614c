"""Each event reaches a real SMTP server: recipients, language, headers and links."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services as notification_services
from notifications.models import Outbox, OutboxStatus
from proposals import services
from sittings import services as sitting_services

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s<>\"]+")


def subjects(server, address):
    return [mail.subject for mail in server.to(address)]


def test_it_tells_every_member_with_an_email_of_an_online_call(
    mail, facilitator, participant, observer, guest
):
    with mail.after():
        proposal = services.submit_proposal(
            actor=participant,
            title="Share the bike trailer",
            text="Anyone may borrow it.",
            closes_at=timezone.now() + timedelta(days=3),
        )
    addresses = sorted(to for received in mail.server.received for to in received.envelope_to)
    assert addresses == ["fran@example.org", "olive@example.org", "pat@example.org"]
    [received] = mail.server.to("pat@example.org")
    message = received.message
    assert received.subject == "[Liberty Square General Assembly] Call for consensus: " + (
        "Share the bike trailer"
    )
    assert message["List-Unsubscribe"].startswith("<http://testserver/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Content-Language"] == "en"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = received.text, received.html
    assert "Closes:" in text and "Rule:" in text
    for kind in ("agree", "stand_aside", "block"):
        assert f"/a/liberty-square/p/{proposal.pk}/respond/{kind}/?t=" in text
        assert f"/a/liberty-square/p/{proposal.pk}/respond/{kind}/?t=" in html
    assert f"http://testserver/a/liberty-square/p/{proposal.pk}/" in text
    assert '<html lang="en">' in html
    # An observer hears of it but is offered no answer to give.
    [to_observer] = mail.server.to("olive@example.org")
    assert "/respond/" not in to_observer.text
    assert Outbox.objects.filter(status=OutboxStatus.SENT).count() == 3


def test_it_writes_to_each_member_in_their_language(mail, facilitator, participant):
    notification_services.set_preference(actor=participant, language="fr")
    notification_services.set_preference(actor=facilitator, language="es")
    with mail.after():
        services.submit_proposal(
            actor=participant,
            title="Partager la remorque",
            text="Chacun peut l'emprunter.",
            closes_at=timezone.now() + timedelta(days=3),
        )
    [french] = mail.server.to("pat@example.org")
    assert french.subject.startswith("[Liberty Square General Assembly] Appel au consensus")
    assert french.message["Content-Language"] == "fr"
    assert '<html lang="fr">' in french.html
    assert "Clôture\u00a0:" in french.text
    [spanish] = mail.server.to("fran@example.org")
    assert "Llamada al consenso" in spanish.subject


def test_a_guest_without_an_email_gets_nothing(mail, facilitator, participant, guest):
    with mail.after():
        services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    assert not Outbox.objects.filter(membership=guest).exists()
    assert sorted(mail.server.received[i].envelope_to[0] for i in range(2)) == [
        "fran@example.org",
        "pat@example.org",
    ]


def test_each_member_is_written_once_per_event_even_when_it_is_heard_twice(
    mail, facilitator, participant
):
    from notifications import dispatch

    with mail.after():
        proposal = services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    with mail.after():
        dispatch.fan_out(
            event="proposals.proposal.submitted",
            assembly_id=proposal.assembly_id,
            proposal_id=proposal.pk,
        )
    assert subjects(mail.server, "pat@example.org") == [
        "[Liberty Square General Assembly] New proposal: Soup"
    ]


def test_only_calls_and_decisions_skips_new_proposals(mail, facilitator, participant):
    notification_services.set_preference(actor=participant, level="calls")
    with mail.after():
        proposal = services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    assert mail.server.to("pat@example.org") == []
    with mail.after():
        services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert subjects(mail.server, "pat@example.org") == [
        "[Liberty Square General Assembly] Call for consensus: Soup"
    ]


def test_nothing_means_nothing(mail, facilitator, participant):
    notification_services.set_preference(actor=participant, level="none")
    with mail.after():
        proposal = services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
        services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert mail.server.to("pat@example.org") == []


def test_the_decision_email_has_outcome_counts_reasons_and_digest(
    mail, facilitator, participant, make_member
):
    blocker = make_member("Bea")
    with mail.after():
        proposal = services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
        services.call_for_consensus(actor=facilitator, proposal=proposal)
        services.take_position(actor=participant, proposal=proposal, kind="agree")
        services.take_position(
            actor=facilitator,
            proposal=proposal,
            kind="stand_aside",
            reason="I cannot cook this week.",
        )
        services.take_position(
            actor=blocker, proposal=proposal, kind="block", reason="Soup harms the river."
        )
    mail.server.received.clear()
    with mail.after():
        decision = services.close_call(actor=facilitator, proposal=proposal)
    [received] = mail.server.to("pat@example.org")
    assert received.subject == "[Liberty Square General Assembly] Decided: Soup"
    text = received.text
    assert decision.get_outcome_display() in text
    assert "Agree: 1 · Stand aside: 1 · Block: 1" in text
    assert "Fran (Stand aside): I cannot cook this week." in text
    assert "Bea (Block): Soup harms the river." in text
    assert decision.digest in text and decision.digest in received.html


def test_a_reminder_goes_only_to_members_with_no_position(mail, facilitator, participant, observer):
    with mail.after():
        proposal = services.submit_proposal(
            actor=participant,
            title="Soup",
            text="Make soup.",
            closes_at=timezone.now() + timedelta(hours=30),
        )
        services.take_position(actor=participant, proposal=proposal, kind="agree")
    mail.server.received.clear()
    later = timezone.now() + timedelta(hours=7)
    with mail.after():
        [reminder] = services.announce_closing_calls(now=later)
        assert services.announce_closing_calls(now=later) == []  # once
    assert reminder.lead_hours == 24
    assert [to for mail_ in mail.server.received for to in mail_.envelope_to] == [
        "fran@example.org"
    ]
    [received] = mail.server.received
    assert received.subject == "[Liberty Square General Assembly] Closes in 24 h: Soup"
    assert "you have not taken a position yet" in received.text
    assert "/respond/agree/" in received.text


def test_digest_members_get_one_email_for_the_day_but_reminders_at_once(
    mail, settings, facilitator, participant
):
    from django_tasks_db.models import DBTaskResult

    from notifications import dispatch

    # The database backend keeps the digest's task until its hour (an immediate one cannot).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    notification_services.set_preference(actor=participant, level="digest")
    with mail.after():
        first = services.submit_proposal(actor=facilitator, title="Soup", text="Make soup.")
        services.submit_proposal(actor=facilitator, title="Bread", text="Bake bread.")
    for stored in DBTaskResult.objects.filter(task_path="notifications.tasks.fan_out"):
        with mail.after():
            dispatch.fan_out(**stored.args_kwargs["kwargs"])
    assert mail.server.to("pat@example.org") == []
    assert Outbox.objects.filter(membership=participant, digest=True).count() == 2
    waiting = DBTaskResult.objects.filter(task_path="notifications.tasks.send_digest")
    assert waiting.count() == 2
    assert all(task.run_after == dispatch.next_digest_time() for task in waiting)
    with mail.after():
        dispatch.send_digest(participant.pk)
        dispatch.send_digest(participant.pk)  # a second task finds nothing left
    [digest] = mail.server.to("pat@example.org")
    assert digest.subject == ("[Liberty Square General Assembly] Your daily digest: 2 news")
    assert "Soup" in digest.text and "Bread" in digest.text
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    services.call_for_consensus(actor=facilitator, proposal=first)
    first.call_opened_at = timezone.now() - timedelta(hours=2)
    first.closes_at = timezone.now() + timedelta(minutes=50)
    first.save(update_fields=["call_opened_at", "closes_at"])
    with mail.after():
        services.announce_closing_calls()
    assert subjects(mail.server, "pat@example.org")[-1] == (
        "[Liberty Square General Assembly] Closes in 1 h: Soup"
    )


def test_a_sitting_scheduled_and_moved(mail, assembly, facilitator, participant):
    when = timezone.now() + timedelta(days=5)
    with mail.after():
        meeting = sitting_services.schedule_meeting(
            actor=facilitator, assembly=assembly, title="May sitting", scheduled_for=when
        )
    with mail.after():
        sitting_services.reschedule_meeting(
            actor=facilitator, meeting=meeting, scheduled_for=when + timedelta(days=1)
        )
    assert subjects(mail.server, "pat@example.org") == [
        "[Liberty Square General Assembly] Sitting scheduled: May sitting",
        "[Liberty Square General Assembly] Sitting moved: May sitting",
    ]
    moved = mail.server.to("pat@example.org")[1]
    assert f"/a/liberty-square/sittings/{meeting.pk}/sitting.ics" in moved.text


def test_a_proposal_put_on_a_sittings_agenda(mail, assembly, facilitator, participant):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="May sitting"
    )
    proposal = services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    with mail.after():
        sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    assert subjects(mail.server, "pat@example.org") == [
        "[Liberty Square General Assembly] On the agenda of May sitting: Soup"
    ]


def test_an_smtp_refusal_is_recorded_and_retried(mail, settings, facilitator, participant):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    mail.server.refusals.extend(["451 4.3.0 Try again later"] * 2)
    with mail.after():
        services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    # The immediate backend retries at once; the database backend waits (test_workers.py).
    rows = {row.membership_id: row for row in Outbox.objects.all()}
    assert {row.status for row in rows.values()} == {OutboxStatus.SENT}
    assert sum(row.attempts for row in rows.values()) == 4
    assert len(mail.server.received) == 2


def test_a_member_who_unsubscribed_before_the_send_gets_nothing(
    mail, settings, facilitator, participant
):
    from notifications import dispatch

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    dispatch.fan_out(
        event="proposals.proposal.submitted",
        assembly_id=participant.assembly_id,
        proposal_id=services.submit_proposal(actor=participant, title="Soup", text="Soup.").pk,
    )
    notification_services.unsubscribe(actor=participant)
    row = Outbox.objects.get(membership=participant)
    assert dispatch.deliver_email(row.pk) == OutboxStatus.SKIPPED
    assert mail.server.to("pat@example.org") == []


def test_the_giver_alone_hears_that_her_proxy_was_used(mail, facilitator, participant, make_member):
    ana, ben = make_member("Ana"), make_member("Ben")
    ana.user.email, ben.user.email = "ana@example.org", "ben@example.org"
    ana.user.save(update_fields=["email"])
    ben.user.save(update_fields=["email"])
    notification_services.set_preference(actor=ana, language="es")
    proposal = services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    services.give_proxy(
        actor=ana, holder=ben, proposal=proposal, mandate="stand_aside", reason="Estoy fuera."
    )
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    mail.server.received.clear()
    with mail.after():
        services.take_position(actor=ben, proposal=proposal, kind="stand_aside", for_member=ana)
    assert [to for r in mail.server.received for to in r.envelope_to] == ["ana@example.org"]
    [received] = mail.server.to("ana@example.org")
    assert received.subject == "[Liberty Square General Assembly] Ben usó tu poder: Soup"
    assert "Estoy fuera." in received.text
    assert f"http://testserver/a/liberty-square/p/{proposal.pk}/" in received.text
    assert received.message["List-Unsubscribe"].startswith("<http://testserver/unsubscribe/")
    mail.server.received.clear()
    with mail.after():
        decision = services.close_call(actor=facilitator, proposal=proposal)
    [to_pat] = mail.server.to("pat@example.org")
    assert "Ben for Ana (Stand aside): Estoy fuera." in to_pat.text
    assert str(decision.sequence) in to_pat.text  # the signed tree head's size
