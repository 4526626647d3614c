"""Django choices from an enum defined elsewhere (a pure module), with translated labels."""

from enum import Enum

from django.db import models


def labelled_choices(
    name: str, values: type[Enum], labels: dict, *, leave_out: frozenset | set = frozenset()
) -> type[models.TextChoices]:
    """`models.TextChoices` with the members of `values` (minus `leave_out`) and `labels`.

    Fails at import when a member has no label, so the two can never drift apart.
    """
    members = [member for member in values if member not in leave_out]
    missing = [member.value for member in members if member not in labels]
    if missing:
        raise ValueError(f"{name}: no label for {', '.join(missing)}")
    return models.TextChoices(
        name, [(member.name, (member.value, labels[member])) for member in members]
    )
