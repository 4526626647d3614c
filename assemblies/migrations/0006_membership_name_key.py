"""Display names get a stored comparison key, `assemblies.names.name_key`.

Existing rows may already collide ("Ana" twice, "ANA" and "Ana"): the migration must not
fail on them, and must not rename anybody, since the minutes and tallies show their names.
So the oldest member (by joining time) of each group keeps the plain key, and each later
one gets a key marked with its id after a WORD JOINER (U+2060), which no accepted name can
contain (names with invisible formatting characters are refused). Their names stay as they
were; the next time such a member's name is written (joining again after leaving, the
admin) it must be made unique. The unique constraint follows in 0007, in its own
transaction.
"""

from django.db import migrations

import assemblies.models
from assemblies.names import name_key

MARK = "\u2060"
BATCH = 500


def _key_for(member, seen: set) -> str:
    key = name_key(member.display_name)
    if len(key) > assemblies.models.NAME_KEY_LENGTH or (member.assembly_id, key) in seen:
        key = key[: assemblies.models.NAME_KEY_LENGTH - 21] + MARK + str(member.pk)
    seen.add((member.assembly_id, key))
    return key


def fill_name_keys(apps, schema_editor):
    Membership = apps.get_model("assemblies", "Membership")
    seen: set = set()
    batch = []
    rows = Membership.objects.order_by("assembly_id", "joined_at", "pk").only(
        "pk", "assembly_id", "display_name"
    )
    for member in rows.iterator(chunk_size=BATCH):
        # bulk_update writes the attribute as set here (the field's pre_save is not used).
        member.name_key = _key_for(member, seen)
        batch.append(member)
        if len(batch) == BATCH:
            Membership.objects.bulk_update(batch, ["name_key"])
            batch = []
    Membership.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("assemblies", "0005_projector_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="name_key",
            field=assemblies.models.NameKeyField(default="", editable=False, max_length=320),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
