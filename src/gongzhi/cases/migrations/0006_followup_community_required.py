"""Every follow-up has its community (filled in by 0005), and the rates read a community's
follow-ups of a period from (community, recorded_at)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_followup_community"),
    ]

    operations = [
        migrations.AlterField(
            model_name="followup",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="places.place",
                verbose_name="居民区",
            ),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(fields=["community", "recorded_at"], name="follow_up_in_community"),
        ),
    ]
