"""Helpers of the proposals service tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from proposals import services


def refused(call, exc_type, code):
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    return info.value


def fresh(obj):
    obj.refresh_from_db()
    return obj


def submit(author, title="Open the kitchen at 8", text="The kitchen opens at 8.", **kwargs):
    return services.submit_proposal(actor=author, title=title, text=text, **kwargs)


def in_an_hour():
    return timezone.now() + timedelta(hours=1)
