"""PostgreSQL triggers: what a decision rests on never changes once it is decided.

- A revision's text, number and proposal never change (revisions are append-only), and the
  revisions of a decided or withdrawn proposal cannot be deleted.
- A decided or withdrawn proposal keeps its title, phase, rule, current revision and
  assembly, and cannot be deleted.
The decision's digest covers the same (title, text, rule), and `verify_history` compares
them with these rows, so a change made with the triggers switched off is still named.
Other databases (the embedded SQLite default) rely on the services alone.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION multitude_guard_revision() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (
        NEW.proposal_id IS DISTINCT FROM OLD.proposal_id
        OR NEW.number IS DISTINCT FROM OLD.number
        OR NEW.text IS DISTINCT FROM OLD.text
    ) THEN
        RAISE EXCEPTION 'multitude: revisions are append-only (update of %)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM proposals_proposal
        WHERE id = OLD.proposal_id AND phase IN ('decided', 'withdrawn')
    ) THEN
        RAISE EXCEPTION 'multitude: revisions of decided proposal % are immutable', OLD.proposal_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER revision_append_only
    BEFORE UPDATE OR DELETE ON proposals_revision
    FOR EACH ROW EXECUTE FUNCTION multitude_guard_revision();

CREATE OR REPLACE FUNCTION multitude_guard_decided_proposal() RETURNS trigger AS $$
BEGIN
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

CREATE TRIGGER decided_proposal_frozen
    BEFORE UPDATE OR DELETE ON proposals_proposal
    FOR EACH ROW EXECUTE FUNCTION multitude_guard_decided_proposal();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS decided_proposal_frozen ON proposals_proposal;
DROP FUNCTION IF EXISTS multitude_guard_decided_proposal();
DROP TRIGGER IF EXISTS revision_append_only ON proposals_revision;
DROP FUNCTION IF EXISTS multitude_guard_revision();
"""


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
    dependencies = [("proposals", "0003_trigger_waits_for_close")]

    operations = [migrations.RunPython(forward, backward)]
