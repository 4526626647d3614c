"""PostgreSQL triggers that keep the history append-only, whatever code or person writes.

- A decision can never be updated or deleted.
- A position's content never changes; only its `is_current` flag may go from true to false,
  and only while the proposal is undecided. Once a decision exists, its positions can be
  neither inserted, updated nor deleted.
Other databases (the embedded SQLite default) rely on the services alone.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION multitude_reject_decision_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'multitude: decisions are immutable (% on decision %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER decision_immutable
    BEFORE UPDATE OR DELETE ON proposals_decision
    FOR EACH ROW EXECUTE FUNCTION multitude_reject_decision_change();

CREATE OR REPLACE FUNCTION multitude_guard_position() RETURNS trigger AS $$
DECLARE
    target_proposal bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        target_proposal := NEW.proposal_id;
    ELSE
        target_proposal := OLD.proposal_id;
    END IF;
    IF EXISTS (SELECT 1 FROM proposals_decision WHERE proposal_id = target_proposal) THEN
        RAISE EXCEPTION 'multitude: positions of decided proposal % are immutable', target_proposal
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'multitude: positions are append-only (delete of %)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND (
        NEW.proposal_id IS DISTINCT FROM OLD.proposal_id
        OR NEW.member_id IS DISTINCT FROM OLD.member_id
        OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.reason IS DISTINCT FROM OLD.reason
        OR NEW.revision_number IS DISTINCT FROM OLD.revision_number
        OR NEW.request_id IS DISTINCT FROM OLD.request_id
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR (NEW.is_current AND NOT OLD.is_current)
    ) THEN
        RAISE EXCEPTION 'multitude: positions are append-only (update of %)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER position_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON proposals_position
    FOR EACH ROW EXECUTE FUNCTION multitude_guard_position();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS position_append_only ON proposals_position;
DROP FUNCTION IF EXISTS multitude_guard_position();
DROP TRIGGER IF EXISTS decision_immutable ON proposals_decision;
DROP FUNCTION IF EXISTS multitude_reject_decision_change();
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
    dependencies = [("proposals", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
