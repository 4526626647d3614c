"""Shared fixtures: one assembly with the four permission levels, built through the services.

Every permission test uses the same cast: a facilitator, a participant, an observer and an
outsider (a member of another assembly).
"""

import uuid

import pytest
from django.contrib.auth.models import User

from assemblies import services as assembly_services
from assemblies.models import Role
from proposals import services as proposal_services

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.private_services",
    "tests.fixtures.mail",
]


@pytest.fixture(scope="session", autouse=True)
def _own_cache_namespace():
    """Rate-limit counters (login failures, tokens made, wrong join codes) of one run never
    meet another's: the test database is made anew each run, so ids and names repeat."""
    from django.conf import settings
    from django.test import override_settings

    default = {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex[:10]}"}
    with override_settings(CACHES={**settings.CACHES, "default": default}):
        yield


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Production hashes static file names after collectstatic; tests serve them as they are."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests create many users. Production keeps argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, password: str = "correct horse battery staple") -> User:
    return User.objects.create_user(
        username=username, email=f"{username}@example.org", password=password
    )


@pytest.fixture
def facilitator_user(db):
    return make_user("fran")


@pytest.fixture
def assembly(facilitator_user):
    return assembly_services.create_assembly(
        actor=facilitator_user,
        name="Liberty Square General Assembly",
        slug="liberty-square",
        display_name="Fran",
        decision_rule={"preset": "occupy_modified_consensus"},
        # Most tests give roles directly; tests/assemblies/test_roles_by_decision.py decides them.
        roles_by_decision=False,
    )


@pytest.fixture
def facilitator(assembly, facilitator_user):
    return assembly.memberships.get(user=facilitator_user)


def _member(assembly, username, display_name, role=Role.PARTICIPANT):
    user = make_user(username)
    member = assembly_services.join_assembly(
        user=user, assembly=assembly, display_name=display_name
    )
    if role != Role.PARTICIPANT:
        founder = assembly.memberships.get(role=Role.FACILITATOR, user=assembly.created_by)
        member = assembly_services.change_role(actor=founder, member=member, role=role)
    return member


@pytest.fixture
def participant(assembly):
    return _member(assembly, "pat", "Pat")


@pytest.fixture
def observer(assembly):
    return _member(assembly, "olive", "Olive", Role.OBSERVER)


@pytest.fixture
def other_assembly(db):
    owner = make_user("oscar")
    return assembly_services.create_assembly(
        actor=owner,
        name="Other Assembly",
        slug="other",
        visibility="private",
        display_name="Oscar",
        roles_by_decision=False,
    )


@pytest.fixture
def outsider(other_assembly):
    """A facilitator elsewhere: powerful in their own assembly, nobody in ours."""
    return other_assembly.memberships.get()


@pytest.fixture
def pending_member(assembly, facilitator):
    """Waits for admission; the assembly then lets later joiners straight in again."""
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, admission_required=True)
    member = assembly_services.join_assembly(
        user=make_user("penny"), assembly=assembly, display_name="Penny"
    )
    assembly_services.update_assembly(
        actor=facilitator, assembly=assembly, admission_required=False
    )
    return member


@pytest.fixture
def make_member(assembly):
    counter = iter(range(1, 100_000))

    def build(display_name: str | None = None, role: str = Role.PARTICIPANT):
        n = next(counter)
        return _member(assembly, f"member{n}", display_name or f"Member {n}", role)

    return build


@pytest.fixture
def proposal(facilitator, participant):
    return proposal_services.submit_proposal(
        actor=participant,
        title="Buy a second tarp for the kitchen",
        text="We buy a **blue tarp** for the kitchen, at most $80, from the general fund.",
    )


@pytest.fixture
def open_call(proposal, facilitator):
    return proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
