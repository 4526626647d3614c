"""Fuzzing the console's forms and the join endpoints (issue 13) against a real server:
whatever a facilitator's browser or a stranger sends, the answer is a redirect with a
message, a refusal (400/403/404/429) or a join, never a 500."""

import re

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sittings import services as sitting_services
from sittings.console import ACTIONS
from tests.security.test_hostile_input import console_post, logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FIELDS = ["meeting", "proposal", "entry", "item", "member", "seconds", "scheduled_for",
          "title", "display_name", "kind", "phase", "on"]  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["²", "-1", "1e9", "9" * 30, "\x00", "\u202e", "2026-02-30T25:61", "null"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
forms = st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=5)


def test_console_actions_never_answer_500(start_server, assembly, facilitator, open_call):
    server = start_server()
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    browser = logged_in(server, facilitator)

    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(action=st.sampled_from(sorted(ACTIONS)), form=forms)
    def one(action, form):
        response = console_post(browser, assembly.slug, action, form)
        assert response.status_code in (302, 400, 403, 404), (action, form, response.status_code)

    one()


def test_the_join_endpoints_never_answer_500(start_server, assembly):
    server = start_server()

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(code=hostile_text, name=hostile_text)
    def one(code, name):
        api = requests.post(
            f"{server['http']}/api/v1/assemblies/{assembly.slug}/join/",
            json={"code": code, "display_name": name},
            timeout=30,
        )
        assert api.status_code in (201, 400, 429), (code, name, api.text[:200])
        browser = requests.Session()
        form = browser.get(f"{server['http']}/join/", timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        page = browser.post(
            f"{server['http']}/join/",
            data={"csrfmiddlewaretoken": token, "code": code, "display_name": name},
            headers={"Referer": f"{server['http']}/join/"},
            allow_redirects=False,
            timeout=30,
        )
        assert page.status_code in (302, 400, 429), (code, name, page.status_code)

    one()
