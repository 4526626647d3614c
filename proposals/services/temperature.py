"""Temperature checks: a quick, non-binding reading (up / so-so / down) during discussion."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_facilitator, require_participant
from assemblies.models import Membership
from core.errors import Conflict, DomainError
from proposals.models import (
    DISCUSSION_PHASES,
    Phase,
    Proposal,
    Reading,
    TemperatureCheck,
    TemperatureReading,
)
from proposals.selectors import readings_for
from proposals.services._common import (
    lock_proposal,
    log,
    publish,
    require_same_assembly,
)


@transaction.atomic
def open_temperature_check(*, actor: Membership, proposal: Proposal) -> TemperatureCheck:
    require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = lock_proposal(proposal)
    if proposal.phase not in (Phase.DRAFT, *DISCUSSION_PHASES):
        raise Conflict("not_discussing", _("A temperature check is taken during discussion."))
    if proposal.temperature_checks.filter(closed_at__isnull=True).exists():
        raise Conflict("temperature_open", _("A temperature check is already open."))
    check = TemperatureCheck.objects.create(
        proposal=proposal, opened_by=actor, revision_number=proposal.revision_number
    )
    log(proposal, actor, "proposals.temperature.opened")
    publish(proposal, "temperature")
    return check


@transaction.atomic
def close_temperature_check(*, actor: Membership, proposal: Proposal) -> TemperatureCheck:
    require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = lock_proposal(proposal)
    check = proposal.temperature_checks.filter(closed_at__isnull=True).first()
    if check is None:
        raise Conflict("no_temperature_check", _("No temperature check is open."))
    check.closed_at = timezone.now()
    check.save(update_fields=["closed_at"])
    readings = reading_counts(check)
    log(proposal, actor, "proposals.temperature.closed", **readings)
    publish(proposal, "temperature")
    return check


def reading_counts(check: TemperatureCheck) -> dict[str, int]:
    return readings_for([check.pk])[check.pk]


@transaction.atomic
def give_reading(*, actor: Membership, proposal: Proposal, reading: str) -> TemperatureReading:
    require_same_assembly(actor, proposal)
    require_participant(actor)
    if reading not in Reading.values:
        raise DomainError("invalid_reading", _("Choose up, so-so or down."))
    check = proposal.temperature_checks.filter(closed_at__isnull=True).first()
    if check is None:
        raise Conflict("no_temperature_check", _("No temperature check is open."))
    row, _created = TemperatureReading.objects.update_or_create(
        check_run=check, member=actor, defaults={"reading": reading}
    )
    publish(proposal, "temperature")
    return row
