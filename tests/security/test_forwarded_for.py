"""X-Forwarded-For is believed only from a configured proxy (FORWARDED_ALLOW_IPS).

Issue 13: the image ran uvicorn with `--forwarded-allow-ips '*'`, so any client named its own
address and got a fresh rate-limit budget with every request. Wrong join codes are counted
per client address (JOIN_FAILURE_RATE); a real uvicorn process is guessed at with a new
random X-Forwarded-For each time.

In these tests the test process is the client at 127.0.0.1; FORWARDED_ALLOW_IPS names some
other (documentation) address as the proxy, so 127.0.0.1 is an untrusted client.
"""

import json
import random
import shlex
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ELSEWHERE = "192.0.2.10"  # TEST-NET-1: nothing is ever sent there
# Day-long windows: a test never straddles two (django-ratelimit's windows are fixed).
LIMIT = {"JOIN_FAILURE_RATE": "3/d"}


def dockerfile_proxy_options() -> tuple[str, ...]:
    """The image's uvicorn options, less where it listens and how many workers it runs."""
    cmd_line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    args = json.loads(cmd_line.removeprefix("CMD").strip())
    assert args[0] == "uvicorn", cmd_line
    options, skip = [], False
    for arg in args[2:]:
        if skip:
            skip = False
        elif arg in ("--host", "--port", "--workers"):
            skip = True
        else:
            options.append(arg)
    return tuple(options)


def random_address() -> str:
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"  # a reserved range


def join(server, assembly, code, name, forwarded_for):
    return requests.post(
        f"{server['http']}/api/v1/assemblies/{assembly.slug}/join/",
        json={"code": code, "display_name": name},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )


def guess_then_try_the_right_code(server, assembly, forwarded_for):
    """Three wrong codes, then a fourth: 429 when all four came from one client. (A right
    code is never refused, so the limit shows on the wrong one.)"""
    for n in range(3):
        assert join(server, assembly, "WRONG234", f"G{n}", forwarded_for()).status_code == 400
    return join(server, assembly, "WRONG345", "Guesser", forwarded_for())


def test_the_images_uvicorn_does_not_believe_any_clients_forwarded_for(start_server, assembly):
    # As the image runs it: uvicorn applies X-Forwarded-For only from FORWARDED_ALLOW_IPS.
    options = dockerfile_proxy_options()
    assert "--proxy-headers" in options, shlex.join(options)
    server = start_server(uvicorn_options=options, FORWARDED_ALLOW_IPS=ELSEWHERE, **LIMIT)
    response = guess_then_try_the_right_code(server, assembly, random_address)
    assert response.status_code == 429, response.text
    assert not assembly.memberships.filter(display_name="Guesser").exists()


def test_the_app_reads_the_proxy_header_only_from_a_trusted_proxy(start_server, assembly):
    # uvicorn leaves the peer alone; the app's own TRUSTED_PROXY_HEADER must not trust it.
    server = start_server(
        uvicorn_options=("--no-proxy-headers",),
        TRUSTED_PROXY_HEADER="HTTP_X_FORWARDED_FOR",
        FORWARDED_ALLOW_IPS=ELSEWHERE,
        **LIMIT,
    )
    response = guess_then_try_the_right_code(server, assembly, random_address)
    assert response.status_code == 429, response.text


@pytest.mark.parametrize("uvicorn_options", [(), ("--no-proxy-headers",)], ids=["uvicorn", "app"])
def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(
    start_server, assembly, uvicorn_options
):
    # 127.0.0.1 is the proxy here; it appends the address it saw to whatever the client sent.
    server = start_server(
        uvicorn_options=uvicorn_options,
        TRUSTED_PROXY_HEADER="HTTP_X_FORWARDED_FOR",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        **LIMIT,
    )

    def spoofed_then_seen():
        return f"{random_address()}, 203.0.113.5"

    # A guesser who prepends made-up addresses is still counted as what the proxy saw...
    assert guess_then_try_the_right_code(server, assembly, spoofed_then_seen).status_code == 429
    # ...and someone else behind the same proxy is not held back by it.
    response = join(server, assembly, assembly.join_code, "Neighbour", "203.0.113.6")
    assert response.status_code == 201, response.text
