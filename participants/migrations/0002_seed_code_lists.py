"""Reference code lists from domain/codes.md, so a freshly migrated database already has them."""

from django.db import migrations

INCOME_SOURCES = [
    ("a_kassa", "A-kassa", "Unemployment insurance", "a_kassa"),
    ("aktivitetsersattning", "Aktivitetsersättning", "Activity compensation", "forsakringskassan"),
    ("aktivitetsstod", "Aktivitetsstöd", "Activity support", "arbetsformedlingen"),
    ("annan_offentlig", "Annan offentlig försörjning", "Other public support", "annan"),
    ("forsorjningsstod", "Försörjningsstöd", "Social assistance", "kommun"),
    ("ingen_offentlig", "Ingen offentlig försörjning", "No public support", "ingen"),
    ("sjukersattning", "Sjukersättning", "Sickness compensation", "forsakringskassan"),
    ("sjukpenning_rehab", "Sjukpenning/Rehabpenning", "Sickness/rehabilitation benefit", "forsakringskassan"),
    ("studiemedel", "Studiestöd/Studiemedel", "Student finance", "csn"),
]

# code, label, English, work/studies, further rehab, excluded
EXIT_REASONS = [
    ("arbete", "Arbete (osubventionerat)", "Work (unsubsidised)", True, False, False),
    ("arbete_subventionerat", "Arbete med stöd (t.ex. lönestöd)", "Subsidised work", True, False, False),
    ("studier", "Studier", "Studies", True, False, False),
    ("arbetssokande", "Aktivt arbetssökande", "Active job seeking", True, False, False),
    ("fortsatt_rehab", "Fortsatt rehabilitering / annan aktör", "Further rehabilitation", False, True, False),
    ("ohalsa", "Sjukdom / ohälsa", "Illness", False, False, False),
    ("avbrott", "Avbrott / uteblivit", "Dropped out", False, False, False),
    ("flytt", "Flyttat", "Moved", False, False, False),
    ("annat", "Annat", "Other", False, False, False),
    ("felregistrering", "Felregistrering", "Registered by mistake", False, False, True),
]

EDUCATION_LEVELS = [
    ("forgymnasial", "Förgymnasial (grundskola eller kortare)", "Compulsory school or less"),
    ("gymnasial", "Gymnasial", "Upper secondary"),
    ("eftergymnasial_kort", "Eftergymnasial, kortare än 3 år", "Post-secondary, under 3 years"),
    ("eftergymnasial_lang", "Eftergymnasial, 3 år eller längre", "Post-secondary, 3 years or more"),
    ("okand", "Okänd", "Unknown"),
]


def seed(apps, schema_editor):
    IncomeSource = apps.get_model("participants", "IncomeSource")
    ExitReason = apps.get_model("participants", "ExitReason")
    EducationLevel = apps.get_model("participants", "EducationLevel")
    for order, (code, sv, en, payer) in enumerate(INCOME_SOURCES):
        IncomeSource.objects.update_or_create(
            code=code, defaults={"label_sv": sv, "label_en": en, "payer": payer, "sort_order": order}
        )
    for order, (code, sv, en, work, rehab, excluded) in enumerate(EXIT_REASONS):
        ExitReason.objects.update_or_create(
            code=code,
            defaults={
                "label_sv": sv,
                "label_en": en,
                "sort_order": order,
                "counts_as_work_or_studies": work,
                "counts_as_further_rehab": rehab,
                "excluded_from_reports": excluded,
            },
        )
    for order, (code, sv, en) in enumerate(EDUCATION_LEVELS):
        EducationLevel.objects.update_or_create(code=code, defaults={"label_sv": sv, "label_en": en, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("participants", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
