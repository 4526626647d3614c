"""Helpers shared by the benchmarks: a throw-away database and Django set up on it."""

import contextlib
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/multitude"
)


def database_url(base: str, name: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def admin_sql(base: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(database_url(base, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


@contextlib.contextmanager
def throwaway_database(base: str, name: str, keep: bool = False):
    """CREATE DATABASE name on base's server, set Django up on it and migrate; drop after."""
    admin_sql(base, f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = database_url(base, name)
        os.environ["DEBUG"] = "0"
        os.environ.pop("REDIS_URL", None)  # no live layer: changes are marked locally
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multitude.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield database_url(base, name)
    finally:
        if not keep:
            from django.db import connections

            connections.close_all()
            admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def assembly_with_members(members: int, slug: str = "bench"):
    """An assembly (occupy modified consensus), its facilitator and `members` participants."""
    from django.contrib.auth.models import User

    from assemblies import services as assembly_services
    from assemblies.models import JoinedVia, Membership

    founder = User.objects.create_user(f"{slug}-founder")
    assembly = assembly_services.create_assembly(
        actor=founder,
        name="Benchmark Assembly",
        slug=slug,
        display_name="Fran",
        decision_rule={"preset": "occupy_modified_consensus"},
    )
    facilitator = assembly.memberships.get()
    users = User.objects.bulk_create(
        User(username=f"{slug}-{i}", password="!") for i in range(members)
    )
    people = Membership.objects.bulk_create(
        Membership(
            assembly=assembly, user=user, display_name=f"Member {i}", joined_via=JoinedVia.CODE
        )
        for i, user in enumerate(users)
    )
    people = list(
        Membership.objects.select_related("assembly").filter(pk__in=[p.pk for p in people])
    )
    return assembly, facilitator, people


def open_proposal(facilitator, title: str):
    from proposals import services

    proposal = services.submit_proposal(actor=facilitator, title=title, text="We do the thing.")
    return services.call_for_consensus(actor=facilitator, proposal=proposal)
