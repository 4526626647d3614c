"""A signed tree head can never be updated or deleted (PostgreSQL; SQLite relies on the code).

Like the decisions' trigger (0002): a superuser can still switch it off, which is why the
heads are signed with a key kept outside the database (docs/security.md).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION multitude_reject_tree_head_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'multitude: signed tree heads are immutable (% on tree head %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tree_head_immutable
    BEFORE UPDATE OR DELETE ON proposals_treehead
    FOR EACH ROW EXECUTE FUNCTION multitude_reject_tree_head_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tree_head_immutable ON proposals_treehead;
DROP FUNCTION IF EXISTS multitude_reject_tree_head_change();
"""


def _run_on_postgresql(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def sign_existing_histories(apps, schema_editor):
    """An assembly decided before heads existed gets one head over all its decisions."""
    from django.utils import timezone

    from proposals import history, merkle, signing
    from proposals.transparency import signed_bytes

    Assembly = apps.get_model("assemblies", "Assembly")
    Decision = apps.get_model("proposals", "Decision")
    TreeHead = apps.get_model("proposals", "TreeHead")
    now = timezone.now()
    for assembly in Assembly.objects.filter(decisions__isnull=False).distinct():
        rows = Decision.objects.filter(assembly=assembly).order_by("sequence")
        hashes = [
            merkle.leaf_hash(merkle.leaf_bytes(record, digest))
            for record, digest in rows.values_list("record", "digest")
        ]
        root = merkle.root_hash(hashes).hex()
        message = signed_bytes(
            assembly=assembly.slug,
            tree_size=len(hashes),
            root_hash=root,
            timestamp=history.timestamp(now),
            key_id=signing.key_id(),
        )
        TreeHead.objects.create(
            assembly=assembly,
            tree_size=len(hashes),
            root_hash=root,
            signed_at=now,
            key_id=signing.key_id(),
            signature=signing.sign(message),
        )


def forward(apps, schema_editor):
    _run_on_postgresql(schema_editor, FORWARD)


def backward(apps, schema_editor):
    _run_on_postgresql(schema_editor, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0007_tree_heads")]

    operations = [
        migrations.RunPython(sign_existing_histories, migrations.RunPython.noop),
        migrations.RunPython(forward, backward),
    ]
