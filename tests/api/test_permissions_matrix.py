"""Every endpoint, by every kind of caller, on public and private assemblies.

Callers: anonymous, participant, observer, facilitator, and a member (facilitator, even) of
another assembly. Each refusal is checked for its status, its `{"code", "message"}` body,
and that nothing at all changed in the database.
"""

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from assemblies.models import Assembly, LogEntry, Meeting, Membership
from proposals.models import Comment, Decision, Position, Proposal, Revision

ROLES = ["anonymous", "participant", "observer", "facilitator", "outsider"]


def snapshot() -> dict:
    """Everything a refused request could have touched."""
    return {
        "assemblies": list(
            Assembly.objects.order_by("pk").values_list(
                "pk", "name", "description", "visibility", "decision_rule", "join_code"
            )
        ),
        "members": list(
            Membership.objects.order_by("pk").values_list("pk", "role", "status", "display_name")
        ),
        "meetings": list(Meeting.objects.order_by("pk").values_list("pk", "state", "title")),
        "proposals": list(
            Proposal.objects.order_by("pk").values_list("pk", "phase", "revision_number", "rule")
        ),
        "revisions": Revision.objects.count(),
        "positions": list(Position.objects.order_by("pk").values_list("pk", "is_current")),
        "comments": Comment.objects.count(),
        "decisions": Decision.objects.count(),
        "log": LogEntry.objects.count(),
        "users": User.objects.count(),
        "tokens": sorted(Token.objects.values_list("key", flat=True)),
    }


# (method, path, body, expected status by role on a PUBLIC assembly)
R = dict.fromkeys(ROLES, 200)  # a read anyone may do on a public assembly


def only(*, facilitator=200, participant=403, observer=403):
    """A write: anonymous 401, outsiders 403 on a public assembly (they may see, not act)."""
    return {
        "anonymous": 401,
        "participant": participant,
        "observer": observer,
        "facilitator": facilitator,
        "outsider": 403,
    }


ENDPOINTS = [
    ("get", "/api/v1/assemblies/ga/", None, R),
    ("get", "/api/v1/assemblies/ga/members/", None, R),
    ("get", "/api/v1/assemblies/ga/meetings/", None, R),
    ("get", "/api/v1/meetings/{meeting}/", None, R),
    ("get", "/api/v1/meetings/{meeting}/minutes.md", None, R),
    ("get", "/api/v1/assemblies/ga/proposals/", None, R),
    ("get", "/api/v1/proposals/{call}/", None, R),
    ("get", "/api/v1/proposals/{call}/revisions/", None, R),
    ("get", "/api/v1/proposals/{call}/comments/", None, R),
    ("get", "/api/v1/proposals/{call}/positions/", None, R),
    ("get", "/api/v1/assemblies/ga/decisions/", None, R),
    ("get", "/api/v1/decisions/{decision}/", None, R),
    ("get", "/api/v1/assemblies/ga/decisions.csv", None, R),
    ("get", "/api/v1/assemblies/ga/positions.csv", None, R),
    ("get", "/api/v1/assemblies/ga/history.json", None, R),
    ("get", "/api/v1/assemblies/ga/popolo.json", None, R),
    ("get", "/api/v1/assemblies/ga/tree-head/", None, R),
    ("get", "/api/v1/assemblies/ga/tree-heads/1/", None, R),
    ("get", "/api/v1/assemblies/ga/proofs/inclusion/?sequence=1", None, R),
    ("get", "/api/v1/assemblies/ga/proofs/consistency/?first=0", None, R),
    (
        "post",
        "/api/v1/assemblies/ga/history-reports/",
        {"head": {"assembly": "ga", "tree_size": 1, "root_hash": "00", "signature": "x"}},
        only(facilitator=400, participant=400, observer=400),
    ),
    ("patch", "/api/v1/assemblies/ga/", {"name": "Taken over"}, only()),
    (
        "patch",
        "/api/v1/assemblies/ga/",
        {"decision_rule": {"preset": "consent"}},
        only(),
    ),
    (
        "post",
        "/api/v1/assemblies/ga/members/",
        {"member_id": "{participant_id}", "role": "facilitator"},
        only(),
    ),
    ("post", "/api/v1/assemblies/ga/members/{participant_id}/admit/", None, only(facilitator=409)),
    ("post", "/api/v1/assemblies/ga/members/{participant_id}/remove/", None, only()),
    ("post", "/api/v1/assemblies/ga/meetings/", {"title": "New"}, only(facilitator=201)),
    ("post", "/api/v1/meetings/{meeting}/start/", None, only()),
    ("post", "/api/v1/meetings/{meeting}/agenda/", {"proposal_id": "{draft}"}, only()),
    (
        "post",
        "/api/v1/assemblies/ga/proposals/",
        {"title": "T", "text": "x"},
        only(facilitator=201, participant=201),
    ),
    (
        "post",
        "/api/v1/proposals/{draft}/comments/",
        {"kind": "concern", "text": "x"},
        only(facilitator=201, participant=201),
    ),
    (
        "post",
        "/api/v1/proposals/{call}/positions/",
        {"kind": "agree"},
        only(facilitator=201, participant=201),
    ),
    ("post", "/api/v1/proposals/{draft}/phase/", {"phase": "questions"}, only()),
    ("post", "/api/v1/proposals/{draft}/call-for-consensus/", {}, only()),
    ("post", "/api/v1/proposals/{call}/close/", None, only(facilitator=201)),
    ("post", "/api/v1/proposals/{draft}/table/", None, only()),
    ("post", "/api/v1/proposals/{draft}/withdraw/", None, only(facilitator=201, participant=201)),
    (
        "post",
        "/api/v1/assemblies/ga/join/",
        {"code": "ZZZZ2222", "display_name": "Eve"},
        dict.fromkeys(ROLES, 400),
    ),
]


def expected_status(public_expectation: dict, role: str, visibility: str, method: str) -> int:
    if visibility == "public":
        return public_expectation[role]
    if role == "anonymous":
        return 404 if method == "get" or public_expectation[role] == 400 else 401
    if role == "outsider":
        return 404
    return public_expectation[role]


def fill(value, world):
    ids = {
        "meeting": world.meeting.pk,
        "call": world.call.pk,
        "draft": world.draft.pk,
        "decision": world.decision.pk,
        "participant_id": world.members["participant"].pk,
    }
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, world) for key, item in value.items()}
    return value


@pytest.mark.parametrize("visibility", ["public", "private"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "payload", "public_expectation"),
    ENDPOINTS,
    ids=[f"{m.upper()} {p}" for m, p, _b, _e in ENDPOINTS],
)
def test_permission(
    client_as, build_world, visibility, role, method, path, payload, public_expectation
):
    world = build_world(visibility)
    client = client_as(None if role == "anonymous" else world.members[role])
    before = snapshot()
    response = getattr(client, method)(fill(path, world), fill(payload, world))
    expected = expected_status(public_expectation, role, visibility, method)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == expected, content[:300]
    if expected >= 400:
        assert set(response.json()) >= {"code", "message"}
        assert snapshot() == before
