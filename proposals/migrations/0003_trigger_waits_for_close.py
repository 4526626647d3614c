"""The position trigger takes the proposal's key-share lock before looking for a decision.

Without it, a raw INSERT racing a close could pass the check (the close's decision not yet
committed) and then wait on the foreign key and succeed: a position of a decided proposal
that is not in its record. With the lock, the check runs after the close commits.
"""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION multitude_guard_position() RETURNS trigger AS $$
DECLARE
    target_proposal bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        target_proposal := NEW.proposal_id;
    ELSE
        target_proposal := OLD.proposal_id;
    END IF;
    PERFORM 1 FROM proposals_proposal WHERE id = target_proposal FOR KEY SHARE;
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
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(GUARD)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0002_history_triggers")]

    # Backwards, the function of 0002 is kept: it only lacked the lock.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
