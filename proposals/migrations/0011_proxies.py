"""Proxies (docs/hybrid.md): Proxy, a position's `stated_by` and `proxy`; the assembly's
cap and block setting are in assemblies 0012. Who stated a position is as append-only as
the rest of it: the position trigger now refuses changing `stated_by_id` and `proxy_id`.
"""

import django.db.models.deletion
from django.db import migrations, models

GUARD_COLUMNS = """
        OR NEW.request_id IS DISTINCT FROM OLD.request_id"""


def forward(apps, schema_editor):
    """The guard of 0003, with the two new columns among those that never change."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from importlib import import_module

    guard = import_module("proposals.migrations.0003_trigger_waits_for_close").GUARD
    assert GUARD_COLUMNS in guard
    guard = guard.replace(
        GUARD_COLUMNS,
        GUARD_COLUMNS
        + """
        OR NEW.stated_by_id IS DISTINCT FROM OLD.stated_by_id
        OR NEW.proxy_id IS DISTINCT FROM OLD.proxy_id""",
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(guard)


class Migration(migrations.Migration):

    dependencies = [
        ('assemblies', '0012_proxies'),
        ('proposals', '0010_hall_counts'),
    ]

    operations = [
        migrations.AddField(
            model_name='position',
            name='stated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='positions_stated_for_others', to='assemblies.membership'),
        ),
        migrations.CreateModel(
            name='Proxy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mandate', models.CharField(choices=[('agree', 'State agree'), ('stand_aside', 'State stand aside'), ('block', 'State block'), ('judgement', 'Use your judgement')], max_length=12, verbose_name='mandate')),
                ('may_block', models.BooleanField(default=False, verbose_name='may block in my name')),
                ('reason', models.TextField(blank=True, verbose_name='reason')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('assembly', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='proxies', to='assemblies.assembly')),
                ('giver', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='proxies_given', to='assemblies.membership')),
                ('holder', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='proxies_held', to='assemblies.membership')),
                ('meeting', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='proxies', to='assemblies.meeting')),
                ('proposal', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='proxies', to='proposals.proposal')),
            ],
            options={
                'verbose_name': 'proxy',
                'verbose_name_plural': 'proxies',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='position',
            name='proxy',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='positions', to='proposals.proxy'),
        ),
        migrations.AddConstraint(
            model_name='proxy',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('meeting__isnull', True), ('proposal__isnull', False)), models.Q(('meeting__isnull', False), ('proposal__isnull', True)), _connector='OR'), name='proxy_one_scope'),
        ),
        migrations.AddConstraint(
            model_name='proxy',
            constraint=models.CheckConstraint(condition=models.Q(('giver', models.F('holder')), _negated=True), name='proxy_not_to_oneself'),
        ),
        migrations.AddConstraint(
            model_name='proxy',
            constraint=models.CheckConstraint(condition=models.Q(('mandate__in', ['agree', 'stand_aside', 'block', 'judgement'])), name='proxy_mandate_valid'),
        ),
        migrations.AddConstraint(
            model_name='proxy',
            constraint=models.UniqueConstraint(condition=models.Q(('meeting__isnull', False), ('revoked_at__isnull', True)), fields=('giver', 'meeting'), name='proxy_one_per_sitting'),
        ),
        migrations.AddConstraint(
            model_name='proxy',
            constraint=models.UniqueConstraint(condition=models.Q(('proposal__isnull', False), ('revoked_at__isnull', True)), fields=('giver', 'proposal'), name='proxy_one_per_proposal'),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
