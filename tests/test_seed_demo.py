"""`manage.py seed_demo`: a demo assembly in every phase, and running it twice changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from assemblies.models import (
    AgendaItem,
    Assembly,
    LogEntry,
    Meeting,
    MeetingState,
    Membership,
    Role,
)
from proposals.models import (
    Comment,
    CommentKind,
    CommentStatus,
    Decision,
    Outcome,
    Phase,
    Position,
    PositionKind,
    Proposal,
    Revision,
    TemperatureCheck,
    TemperatureReading,
)

COUNTED = [
    User,
    Assembly,
    Membership,
    Meeting,
    AgendaItem,
    LogEntry,
    Proposal,
    Revision,
    Comment,
    Position,
    TemperatureCheck,
    TemperatureReading,
    Decision,
]


@pytest.fixture(autouse=True)
def _not_debug(settings):
    settings.DEBUG = False


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def demo(db):
    return seed()


def test_it_is_idempotent(demo):
    first = counts()
    assert first["Assembly"] == 1
    assert first["Proposal"] >= 5
    assert first["Decision"] == 2
    second_output = seed()
    assert counts() == first
    assert "nothing changed" in second_output


def test_it_creates_the_demo_assembly(demo):
    assembly = Assembly.objects.get(slug="demo")
    assert assembly.name == "Demo General Assembly"
    assert assembly.is_public
    assert assembly.decision_rule["preset"] == "occupy_modified_consensus"
    meeting = assembly.meetings.get()
    assert meeting.title == "Tonight's general assembly"
    assert meeting.state == MeetingState.IN_SESSION
    assert meeting.current_proposal is not None
    assert meeting.agenda_items.count() == assembly.proposals.count()


def test_it_creates_the_demo_accounts(demo):
    assembly = Assembly.objects.get(slug="demo")
    facilitator = assembly.memberships.get(user__username="facilitator")
    assert facilitator.role == Role.FACILITATOR
    assert facilitator.user.check_password("demo-facilitator")
    participants = assembly.memberships.filter(role=Role.PARTICIPANT)
    assert participants.count() >= 8
    for username in ("ana", "ben", "chloe", "dev", "eli"):
        member = participants.get(user__username=username)
        assert member.user.check_password("demo-participant")
    assert assembly.memberships.filter(role=Role.OBSERVER).count() == 1


def test_it_decides_with_a_stand_aside(demo):
    decision = Decision.objects.get(outcome=Outcome.CONSENSUS_WITH_STAND_ASIDES)
    assert decision.stand_aside_count >= 1
    assert decision.block_count == 0
    stand_asides = Position.objects.filter(
        proposal=decision.proposal, is_current=True, kind=PositionKind.STAND_ASIDE
    )
    assert stand_asides.exists()
    assert all(position.reason for position in stand_asides)
    assert all(
        entry["reason"]
        for entry in decision.record["positions"]
        if entry["kind"] == PositionKind.STAND_ASIDE
    )


def test_it_decides_by_modified_consensus_at_nine_tenths(demo):
    decision = Decision.objects.get(outcome=Outcome.MODIFIED_CONSENSUS)
    assert decision.counts == {"agree": 9, "stand_aside": 0, "block": 1}
    block = Position.objects.get(proposal=decision.proposal, kind=PositionKind.BLOCK)
    assert block.reason


def test_it_covers_the_phases(demo):
    phases = set(Proposal.objects.values_list("phase", flat=True))
    assert {Phase.QUESTIONS, Phase.CALL, Phase.DECIDED} <= phases
    assert phases & {Phase.CONCERNS, Phase.AMENDMENTS}


def test_it_has_an_answered_question(demo):
    proposal = Proposal.objects.get(phase=Phase.QUESTIONS)
    question = proposal.comments.filter(kind=CommentKind.QUESTION).first()
    assert question.status == CommentStatus.ADDRESSED
    assert question.replies.filter(kind=CommentKind.ANSWER).exists()


def test_it_has_an_accepted_friendly_amendment(demo):
    amendment = Comment.objects.get(kind=CommentKind.AMENDMENT)
    assert amendment.status == CommentStatus.ACCEPTED
    proposal = amendment.proposal
    assert proposal.revision_number == 2
    assert proposal.revisions.get(number=2).amendment == amendment
    assert proposal.comments.filter(kind=CommentKind.CONCERN).exists()


def test_it_has_a_call_with_positions_and_no_block(demo):
    proposal = Proposal.objects.get(phase=Phase.CALL)
    kinds = list(proposal.positions.filter(is_current=True).values_list("kind", flat=True))
    assert PositionKind.AGREE in kinds
    assert PositionKind.STAND_ASIDE in kinds
    assert PositionKind.BLOCK not in kinds
    assert proposal.positions.get(kind=PositionKind.STAND_ASIDE).reason


def test_it_has_an_open_temperature_check_with_readings(demo):
    check = TemperatureCheck.objects.get(closed_at__isnull=True)
    assert check.readings.count() >= 3


def test_it_prints_the_join_code_and_the_addresses(demo, settings):
    assembly = Assembly.objects.get(slug="demo")
    base = settings.SITE_URL.rstrip("/")
    again = seed()
    for output in (demo, again):
        assert assembly.join_code in output
        assert f"{base}/\n" in output
        assert f"{base}/a/demo/" in output
        assert f"{base}/admin/" in output
        assert "demo-facilitator" in output
        for proposal in assembly.proposals.all():
            assert f"{base}/a/demo/p/{proposal.pk}/" in output


def test_it_creates_no_admin_without_debug_or_the_option(demo):
    assert not User.objects.filter(username="admin").exists()


def test_it_creates_the_admin_with_the_option(db):
    output = seed("--admin")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("demo-admin")
    assert "demo-admin" in output
    before = counts()
    seed("--admin")
    assert counts() == before


def test_it_creates_the_admin_when_debug_is_on(db, settings):
    settings.DEBUG = True
    seed()
    assert User.objects.get(username="admin").is_superuser


def test_it_prints_nothing_when_quiet(db):
    assert seed("--quiet") == ""
    assert Assembly.objects.filter(slug="demo").exists()
    assert seed("--quiet") == ""


def test_it_emails_nobody_about_its_made_up_history(demo):
    from django_tasks_db.models import DBTaskResult

    from notifications.models import Outbox

    assert not DBTaskResult.objects.exists()
    assert not Outbox.objects.exists()
