"""The join endpoint counts wrong codes only: guessers wait, a crowd on one address gets in."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def tight_limit(settings):
    settings.JOIN_FAILURE_RATE = "5/10m"
    cache.clear()
    yield
    cache.clear()


def join(assembly, code, name, address="198.51.100.7"):
    client = APIClient(REMOTE_ADDR=address)
    return client.post(
        f"/api/v1/assemblies/{assembly.slug}/join/",
        {"code": code, "display_name": name},
        format="json",
    )


def test_it_holds_back_a_guesser_with_429_but_never_refuses_the_right_code(assembly):
    for _attempt in range(5):
        assert join(assembly, "WRONG234", "G").status_code == 400
    response = join(assembly, "WRONG345", "G")
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"
    assert not assembly.memberships.filter(display_name="G").exists()
    # Issue 13: a right code is never refused, even from an address past its budget.
    assert join(assembly, assembly.join_code, "G").status_code == 201
    assert join(assembly, assembly.join_code, "H", address="198.51.100.8").status_code == 201


def test_it_lets_a_crowd_behind_one_address_join_with_the_right_code(assembly):
    # Ten times the failure limit, all from one address: nobody is held back.
    for n in range(50):
        assert join(assembly, assembly.join_code, f"Crowd {n}").status_code == 201
    assert assembly.memberships.filter(display_name__startswith="Crowd").count() == 50
