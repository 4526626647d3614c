from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assemblies", "0006_membership_name_key"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                fields=("assembly", "name_key"), name="membership_name_unique_in_assembly"
            ),
        ),
    ]
