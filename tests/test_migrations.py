"""The models and the migrations agree, and a database migrated on an earlier main (before
the stored HTML and the decided-text triggers) migrates forward in place."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
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


@pytest.mark.django_db(transaction=True)
def test_names_that_already_collide_migrate_with_no_one_renamed():
    """Before names were unique, an assembly could hold "Ana", "ANA" and a full-width "Ana".
    The oldest keeps the plain key; the others get keys marked with their id, and keep their
    names."""
    old = _migrate([("assemblies", "0005_projector_key")])
    User = old.get_model("auth", "User")
    Assembly = old.get_model("assemblies", "Assembly")
    Membership = old.get_model("assemblies", "Membership")
    here = Assembly.objects.create(name="GA", slug="ga", join_code="DUPCODE2")
    there = Assembly.objects.create(name="GB", slug="gb", join_code="DUPCODE3")
    names = [
        (here, "Ana"),
        (here, "ANA"),
        (here, "\uff22en"),
        (here, "\uff21\uff4e\uff41"),
        (there, "ana"),
    ]
    for number, (assembly, name) in enumerate(names):
        user = User.objects.create(username=f"person-{number}")
        Membership.objects.create(assembly=assembly, user=user, display_name=name)

    new = _migrate(_latest())
    Membership = new.get_model("assemblies", "Membership")
    rows = list(Membership.objects.order_by("pk").values_list("pk", "display_name", "name_key"))
    assert [name for _pk, name, _key in rows] == [name for _assembly, name in names]
    assert [key for _pk, _name, key in rows] == [
        "ana",
        f"ana\u2060{rows[1][0]}",
        "ben",
        f"ana\u2060{rows[3][0]}",
        "ana",
    ]
    with pytest.raises(IntegrityError):
        Membership.objects.create(
            assembly_id=here.pk,
            user=new.get_model("auth", "User").objects.create(username="late"),
            display_name="Ana",
            name_key="ana",
        )
