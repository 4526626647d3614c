import pytest

from assemblies import services as assembly_services
from tests.conftest import make_user


@pytest.fixture
def immediate_tasks(settings):
    """Tasks run at once in this process (the worker's own tests use the database backend
    and real `db_worker` processes)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def mail(smtp_server, immediate_tasks, django_capture_on_commit_callbacks, settings):
    """Run a block of writes and everything their commits set off; returns the SMTP server.

    with mail.after():
        services.call_for_consensus(...)
    """
    settings.SITE_URL = "http://testserver"

    class Mail:
        server = smtp_server

        @staticmethod
        def after():
            return django_capture_on_commit_callbacks(execute=True)

    return Mail()


@pytest.fixture
def guest(assembly):
    """Joined with a name only: an account with no email address."""
    user = make_user("gus")
    user.email = ""
    user.save(update_fields=["email"])
    return assembly_services.join_assembly(user=user, assembly=assembly, display_name="Gus")
