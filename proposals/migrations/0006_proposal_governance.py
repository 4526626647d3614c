"""Proposals of the assembly's own organisation (roles given by decision).

The roles a proposal changes are fixed from its submission on, and a decided proposal's
with everything else it was decided on (0004): the trigger function gains the column.
"""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION multitude_guard_decided_proposal() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.governance::text IS DISTINCT FROM OLD.governance::text THEN
        RAISE EXCEPTION 'multitude: the roles proposal % changes are fixed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.phase NOT IN ('decided', 'withdrawn') THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'multitude: decided proposal % cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.title IS DISTINCT FROM OLD.title
        OR NEW.phase IS DISTINCT FROM OLD.phase
        OR NEW.rule::text IS DISTINCT FROM OLD.rule::text
        OR NEW.revision_number IS DISTINCT FROM OLD.revision_number
        OR NEW.assembly_id IS DISTINCT FROM OLD.assembly_id
    THEN
        RAISE EXCEPTION 'multitude: decided proposal % is immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


GOVERNANCE_CHECK = FORWARD[FORWARD.index("    IF TG_OP = 'UPDATE'") : FORWARD.index("    IF OLD.phase")]
BACKWARD = FORWARD.replace(GOVERNANCE_CHECK, "")  # 0004's function, as it was


def _run_on_postgresql(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # A plain cursor: the SQL holds `%` (RAISE formats) that must not be read as parameters.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def forward(apps, schema_editor):
    _run_on_postgresql(schema_editor, FORWARD)


def backward(apps, schema_editor):
    _run_on_postgresql(schema_editor, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0005_rendered_html")]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="governance",
            field=models.JSONField(
                blank=True, editable=False, null=True, verbose_name="roles it changes"
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
