"""The shipped default: one schablon for every benefit type until a förbund enters its own."""

from django.db import migrations

SOURCE = (
    "Schablon 162 000 kr per helårsekvivalent: Finsam Uppsala läns genomsnitt för 2022 "
    "(totala utbetalningar ÷ antal helårsekvivalenter)."
)


def seed(apps, schema_editor):
    CostParameter = apps.get_model("progression", "CostParameter")
    for year in (2022, 2023, 2024, 2025, 2026):
        CostParameter.objects.get_or_create(
            year=year, kommun="", income_source=None,
            defaults={"yearly_cost_sek": 162000, "source": SOURCE},
        )


class Migration(migrations.Migration):
    dependencies = [("progression", "0003_socioeconomics")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
