"""Issue 13, findings 4 and 6, against a real server: a crowd behind one address all gets
in, a right code is never refused, guessing from any number of addresses rotates the code
(and the projector shows the new one), the projector of a non-public assembly shows its code
only on a screen opened by a facilitator or with its secret link, and guests per minute are
capped.
"""

import json
import random

import pytest
import requests
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from assemblies import services as assembly_services
from assemblies.models import LogEntry

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BEHIND_A_PROXY = {
    "TRUSTED_PROXY_HEADER": "HTTP_X_FORWARDED_FOR",
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
}


def join(server, assembly, code, name, address="203.0.113.9"):
    return requests.post(
        f"{server['http']}/api/v1/assemblies/{assembly.slug}/join/",
        json={"code": code, "display_name": name},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )


def test_a_crowd_behind_one_address_with_typos_all_gets_in(start_server, assembly):
    server = start_server(**BEHIND_A_PROXY)
    rng = random.Random(7)
    people = 300
    for n in range(people):
        name = f"Crowd {n}"
        if rng.random() < 0.05:  # a typo first, then the code as shown
            assert join(server, assembly, "TYP0CODE", name).status_code in (400, 429)
        response = join(server, assembly, assembly.join_code, name)
        assert response.status_code == 201, (n, response.text)
    assert assembly.memberships.filter(display_name__startswith="Crowd").count() == people


def test_the_right_code_is_never_refused_after_many_wrong_ones(start_server, assembly):
    server = start_server(**BEHIND_A_PROXY, JOIN_FAILURE_RATE="3/d")
    answers = [join(server, assembly, "WRONG234", f"G{n}").status_code for n in range(6)]
    assert answers[:3] == [400] * 3 and set(answers[3:]) == {429}
    assert join(server, assembly, assembly.join_code, "Rightful").status_code == 201


def test_guessing_from_many_addresses_rotates_the_code(start_server, assembly):
    server = start_server(**BEHIND_A_PROXY, JOIN_WRONG_CODES_BEFORE_ROTATION="10")
    old = assembly.join_code
    for n in range(10):
        address = f"198.18.{n}.{n + 1}"
        assert join(server, assembly, f"WRONG{n:03d}", "Guesser", address).status_code == 400
    assembly.refresh_from_db()
    assert assembly.join_code != old
    entry = LogEntry.objects.get(action="assemblies.join_code.rotated_after_guessing")
    assert entry.actor is None and entry.data["wrong_guesses"] == 10
    assert join(server, assembly, old, "Late").status_code == 400
    assert join(server, assembly, assembly.join_code, "Hall").status_code == 201


def _projector(server, assembly, member=None, key=""):
    browser = requests.Session()
    if member is not None:
        client = Client()
        client.force_login(member.user)
        browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    suffix = f"?key={key}" if key else ""
    return browser.get(f"{server['http']}/a/{assembly.slug}/projector/{suffix}", timeout=30)


@pytest.fixture
def private(assembly, facilitator, participant, observer):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, visibility="private")
    assembly.refresh_from_db()
    return assembly


def test_a_private_projector_shows_the_code_only_to_a_facilitator_or_its_link(
    start_server, private, facilitator, participant, observer
):
    server = start_server()
    code = private.join_code
    for member in (participant, observer):
        page = _projector(server, private, member)
        assert page.status_code == 200
        assert code not in page.text
    assert code in _projector(server, private, facilitator).text
    assert code in _projector(server, private, key=private.projector_key).text
    assert _projector(server, private, key="guessed").status_code == 404  # anonymous


def test_the_console_offers_the_projector_link_with_its_secret(client, private, facilitator):
    client.force_login(facilitator.user)
    page = client.get(f"/a/{private.slug}/console/").content.decode()
    assert f"projector/?key={private.projector_key}" in page


def test_guests_made_from_a_code_are_capped_per_minute(start_server, assembly):
    server = start_server(**BEHIND_A_PROXY, JOIN_GUESTS_PER_MINUTE="5")
    answers = [
        join(server, assembly, assembly.join_code, f"Guest {n}", f"198.18.9.{n + 1}")
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [201] * 5 + [429]
    assert answers[-1].json()["code"] == "too_many_guests"


def test_the_projector_links_socket_is_live_on_a_private_assembly(start_server, private):
    server = start_server()
    url = f"{server['ws']}/ws/assemblies/{private.slug}/"
    with connect(f"{url}?key={private.projector_key}") as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
    with connect(f"{url}?key=guessed") as ws, pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    assert ws.close_code == 4403
