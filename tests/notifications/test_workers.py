"""Real `manage.py db_worker` processes on the test database: sent once, retried, signed."""

import hashlib
import hmac
import itertools
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications import dispatch, tasks
from notifications import services as notification_services
from notifications.models import Delivery, Outbox, OutboxStatus
from proposals import services
from proposals.transparency import signature_valid
from tests.fixtures.servers import ROOT, database_url_of_this_test

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCHEMA = json.loads((Path(ROOT) / "docs" / "webhook-payload.schema.json").read_text())


@pytest.fixture
def start_worker(settings, smtp_server):
    """Start `db_worker` processes sharing this test's database and SMTP server."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    processes = []

    def start(name: str):
        env = {
            **os.environ,
            "DATABASE_URL": database_url_of_this_test(),
            "EMAIL_URL": smtp_server.url,
            "NOTIFY_RETRY_SECONDS": "0.3",
            "SITE_URL": "http://testserver",
            "DEBUG": "0",
        }
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.05",
             "--no-startup-delay", "--worker-id", name],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, processes, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for process in processes:
            assert process.poll() is None, process.stdout.read().decode()
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_two_workers_send_each_email_once(start_worker, smtp_server, make_member, participant):
    members = [make_member() for _ in range(12)]
    proposal = services.submit_proposal(
        actor=participant,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(days=2),
    )
    # The committed submission enqueued its fan-out; hear it twice more and queue every
    # email three times, so both workers reach for the same rows at once.
    for _ in range(2):
        dispatch.fan_out(
            event="proposals.call.opened", assembly_id=proposal.assembly_id, proposal_id=proposal.pk
        )
    for row in Outbox.objects.all():
        tasks.deliver_email.enqueue(outbox_id=row.pk)
    expected = sorted(
        [member.user.email for member in members] + ["fran@example.org", "pat@example.org"]
    )
    assert Outbox.objects.count() == len(expected)
    workers = [start_worker("worker-a"), start_worker("worker-b")]
    wait_for(
        lambda: (
            not Outbox.objects.filter(status=OutboxStatus.PENDING).exists()
            and not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
        ),
        workers,
    )
    received = sorted(to for mail in smtp_server.received for to in mail.envelope_to)
    assert received == expected
    assert set(Outbox.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    # Both workers did some of the work.
    ran_by = {
        worker
        for ids in DBTaskResult.objects.filter(
            task_path="notifications.tasks.deliver_email"
        ).values_list("worker_ids", flat=True)
        for worker in ids
    }
    assert ran_by == {"worker-a", "worker-b"}


def test_an_smtp_failure_is_retried_later_with_backoff(
    start_worker, smtp_server, facilitator, participant
):
    notification_services.set_preference(actor=facilitator, level="none")
    smtp_server.refusals.extend(["451 4.3.0 Mailbox busy, try again"] * 2)
    services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    worker = start_worker("worker-a")
    wait_for(lambda: Outbox.objects.filter(status=OutboxStatus.SENT).exists(), [worker])
    row = Outbox.objects.get()
    assert row.attempts == 3
    assert "451" in row.last_error
    assert [mail.envelope_to for mail in smtp_server.received] == [["pat@example.org"]]
    runs = list(
        DBTaskResult.objects.filter(task_path="notifications.tasks.deliver_email").order_by(
            "enqueued_at"
        )
    )
    assert len(runs) == 3
    # Each retry waited longer than the one before (0.3 s, then 0.6 s).
    gaps = [(b.run_after - a.enqueued_at).total_seconds() for a, b in itertools.pairwise(runs)]
    assert 0.25 < gaps[0] < gaps[1]


def test_webhooks_are_signed_follow_the_schema_and_are_retried(
    start_worker, webhook_receiver, facilitator, participant
):
    webhook_receiver.failures.extend([500, 503])
    webhook = notification_services.add_webhook(
        actor=facilitator, assembly=facilitator.assembly, url=webhook_receiver.url
    )
    proposal = services.submit_proposal(
        actor=participant,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(days=2),
    )
    worker = start_worker("worker-a")
    wait_for(lambda: Delivery.objects.filter(status=OutboxStatus.SENT).exists(), [worker])
    assert [request["status"] for request in webhook_receiver.requests] == [500, 503, 200]
    delivery = Delivery.objects.get()
    assert delivery.attempts == 3 and delivery.response_status == 200
    for request in webhook_receiver.requests:
        headers = request["headers"]
        timestamp = headers["X-Multitude-Timestamp"]
        expected = hmac.new(
            webhook.secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256
        ).hexdigest()
        assert headers["X-Multitude-Signature"] == f"sha256={expected}"
        assert abs(int(timestamp) - time.time()) < 60
        assert headers["X-Multitude-Event"] == "proposals.call.opened"
        jsonschema.validate(request["json"], SCHEMA)
    payload = webhook_receiver.requests[-1]["json"]
    assert payload["event"] == "proposals.call.opened"
    assert payload["proposal"]["id"] == proposal.pk
    assert payload["proposal"]["url"].endswith(f"/a/liberty-square/p/{proposal.pk}/")
    assert payload["assembly"]["name"] == "Liberty Square General Assembly"
    # Every attempt carried the same payload: a bot can tell repeats by "id".
    assert len({request["body"] for request in webhook_receiver.requests}) == 1


def test_a_decision_payload_carries_counts_dissent_and_digest(
    settings, immediate_tasks, webhook_receiver, facilitator, participant
):
    settings.NOTIFY_RETRY_SECONDS = 0
    notification_services.add_webhook(
        actor=facilitator, assembly=facilitator.assembly, url=webhook_receiver.url
    )
    proposal = services.submit_proposal(actor=participant, title="Soup", text="Make soup.")
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    services.take_position(
        actor=participant, proposal=proposal, kind="stand_aside", reason="Busy that week."
    )
    decision = services.close_call(actor=facilitator, proposal=proposal)
    payload = webhook_receiver.requests[-1]["json"]
    jsonschema.validate(payload, SCHEMA)
    assert payload["event"] == "proposals.decision.recorded"
    assert payload["decision"]["outcome"] == decision.outcome
    assert payload["decision"]["counts"] == {"agree": 0, "stand_aside": 1, "block": 0}
    assert payload["decision"]["dissent"] == [
        {"member": "Pat", "kind": "stand_aside", "reason": "Busy that week.", "stated_by": None}
    ]
    assert payload["decision"]["digest"] == decision.digest
    head = payload["decision"]["tree_head"]  # the signed head written with the decision
    assert head["tree_size"] == decision.sequence
    assert signature_valid(head)
