"""The first reading's day and both readings' instrument versions stored in each progression row
(issue #22: the stegförflyttning report joined 250 000 rows to their readings for them at L). The
rows there are filled from their readings in one statement; at 200 000 participants (2.9 M rows)
that took 1½ minutes, with the table locked (docs/deployment.md, Upgrades)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

VERSION = {
    "on_delete": django.db.models.deletion.DO_NOTHING,
    "related_name": "+",
    "db_constraint": False,
    "db_index": False,
    "to": "surveys.instrumentversion",
}


def fill_from_readings(apps, schema_editor):
    connection = schema_editor.connection
    first_on, params = connection.ops.datetime_cast_date_sql("fs.occurred_at", (), settings.TIME_ZONE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE progression_progression SET first_on = {first_on}, first_version_id = fs.version_id, "  # noqa: S608
            "latest_version_id = ls.version_id "
            "FROM surveys_assessmentsession fs, surveys_assessmentsession ls "
            "WHERE fs.id = progression_progression.first_session_id AND ls.id = progression_progression.latest_session_id",
            params,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("progression", "0017_fewer_derived_indexes"),
        ("surveys", "0005_item_pictogram"),
    ]

    operations = [
        migrations.AddField(model_name="progression", name="first_on", field=models.DateField(null=True)),
        migrations.AddField(
            model_name="progression", name="first_version", field=models.ForeignKey(null=True, **VERSION)
        ),
        migrations.AddField(
            model_name="progression", name="latest_version", field=models.ForeignKey(null=True, **VERSION)
        ),
        migrations.RunPython(fill_from_readings, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(model_name="progression", name="first_on", field=models.DateField()),
        migrations.AlterField(model_name="progression", name="first_version", field=models.ForeignKey(**VERSION)),
        migrations.AlterField(model_name="progression", name="latest_version", field=models.ForeignKey(**VERSION)),
    ]
