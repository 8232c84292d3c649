"""Each follow-up carries its case's community (the rates read a community's follow-ups by
it), filled in for the follow-ups already written with one statement over the table.

Nullable here and required in 0006: on PostgreSQL the new foreign key's checks wait for
the end of this migration's transaction, and the column cannot be altered while they
are pending.
"""

import django.db.models.deletion
from django.db import migrations, models

# A correlated subquery rather than UPDATE ... FROM: the same statement on SQLite and on
# PostgreSQL. A case keeps its community, so the copy stays true.
FILL = """
UPDATE cases_followup
SET community_id = (
    SELECT cases_case.community_id FROM cases_case WHERE cases_case.id = cases_followup.case_id
)
WHERE community_id IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_case_transfer_pending_index"),
        ("places", "0002_place_search_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="followup",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="places.place",
                verbose_name="居民区",
            ),
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop, elidable=False),
    ]
