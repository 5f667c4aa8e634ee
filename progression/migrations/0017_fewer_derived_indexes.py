"""Drop the derived tables' indexes that no query or cascade uses (issue #22): each cost every
write and seconds of every rebuild's swap at L. Only the indexes are dropped: Django's own
operations would also drop and add again the foreign keys, checking 15 M rows under lock. Reversed,
the indexes are not made again: nothing needs them."""

import django.db.models.deletion
from django.db import migrations, models


# The indexes Django made for these fields (the same names on PostgreSQL and SQLite; the _like
# index exists on PostgreSQL only).
DROPPED = [
    "progression_dimensionscore_session_id_76647b09",
    "progression_progression_dimension_code_55b698a7",
    "progression_progression_dimension_code_55b698a7_like",
    "progression_progression_enrolment_id_0c199d0a",
    "progression_progression_instrument_id_4da10c2b",
    "progression_progression_norm_id_36d68585",
    "progression_progression_norm_set_id_c469d4aa",
]


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0011_import_job"),
        ("progression", "0016_enrolment_counts"),
        ("surveys", "0005_item_pictogram"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [f"DROP INDEX IF EXISTS {name}" for name in DROPPED],
                    reverse_sql=migrations.RunSQL.noop,
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="dimensionscore",
                    name="session",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="dimension_scores",
                        to="surveys.assessmentsession",
                    ),
                ),
                migrations.AlterField(
                    model_name="progression",
                    name="dimension_code",
                    field=models.SlugField(db_index=False, max_length=60),
                ),
                migrations.AlterField(
                    model_name="progression",
                    name="enrolment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="progressions",
                        to="participants.enrolment",
                    ),
                ),
                migrations.AlterField(
                    model_name="progression",
                    name="instrument",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="surveys.instrument",
                    ),
                ),
                migrations.AlterField(
                    model_name="progression",
                    name="norm",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="progression.norm",
                    ),
                ),
                migrations.AlterField(
                    model_name="progression",
                    name="norm_set",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="progression.normset",
                    ),
                ),
            ],
        )
    ]
