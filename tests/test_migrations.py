"""The models and the migrations agree, and a database migrated on an earlier main (before
the stored HTML and the decided-text triggers) migrates forward in place."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


BEFORE = [("assemblies", "0003_hand_signals"), ("proposals", "0003_trigger_waits_for_close")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_an_earlier_database_migrates_forward_with_its_texts_rendered():
    old = _migrate(BEFORE)
    User = old.get_model("auth", "User")
    Assembly = old.get_model("assemblies", "Assembly")
    Membership = old.get_model("assemblies", "Membership")
    Proposal = old.get_model("proposals", "Proposal")
    Revision = old.get_model("proposals", "Revision")
    Comment = old.get_model("proposals", "Comment")
    user = User.objects.create(username="old-timer")
    assembly = Assembly.objects.create(
        name="Old GA", slug="old-ga", join_code="OLDCODE2", description="We **meet** here."
    )
    member = Membership.objects.create(assembly=assembly, user=user, display_name="Old")
    proposal = Proposal.objects.create(assembly=assembly, author=member, title="Old idea")
    Revision.objects.create(proposal=proposal, number=1, text="A *lasting* text.", author=member)
    Comment.objects.create(
        proposal=proposal, member=member, kind="concern", text="`Too` old?", revision_number=1
    )

    new = _migrate(_latest())
    assert new.get_model("assemblies", "Assembly").objects.get().description_html == (
        "<p>We <strong>meet</strong> here.</p>\n"
    )
    revision = new.get_model("proposals", "Revision").objects.get()
    assert revision.text_html == "<p>A <em>lasting</em> text.</p>\n"
    comment = new.get_model("proposals", "Comment").objects.get()
    assert comment.text_html == "<p><code>Too</code> old?</p>\n"


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
