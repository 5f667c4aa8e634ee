"""The pseudonymised analysis export: who is in it, what is left out, and that exports do not join."""

import csv
import io
import random
import re
import uuid
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse
from openpyxl import load_workbook

from participants.models import AccessEvent, Consent, ConsentPurpose, Role
from participants.services import consent_record, participant_create
from progression import analysis, scoring
from progression.models import DimensionScore, ExportJob
from progression.reports.filters import parse_filter
from surveys.models import AssessmentSession, SessionStatus
from surveys.sessions import session_submit
from tests.factories import InsatsFactory, registry_world, user_with_role
from tests.reports.helpers import enrol
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers

pytestmark = pytest.mark.django_db
# Rows as recorded (months, 5-year bands): for the tests of who is in the file, not of k-anonymity.
AS_RECORDED = analysis.AnonymityPlan(analysis.FINEST, persons=0, smallest_class=0)


@pytest.fixture
def world():
    version = shipped_version()
    ns = measured_enrolment()
    sessions = [
        session_submit(
            client_uuid=f"00000000-0000-0000-0000-00000000000{number}",
            enrolment=ns.enrolment,
            version=version,
            perspective=perspective,
            answers=valid_answers(version, perspective),
            recorded_by=ns.mentor,
        )[0]
        for number, perspective in ((1, "self"), (2, "mentor"))
    ]
    scoring.sessions_score(session_ids=[s.pk for s in sessions])  # on-commit hooks do not run inside a test
    ns.filters = parse_filter(
        user=type(ns.mentor)(is_superuser=True, is_active=True),
        params=QueryDict(f"forbund={ns.forbund.code}&from=2020-01-01&to=2030-12-31"),
        default_year=2026,
    )
    return ns


def _research(ns, granted: bool) -> None:
    consent_record(
        participant=ns.participant,
        purpose=ConsentPurpose.RESEARCH,
        granted=granted,
        recorded_by=ns.mentor,
        channel="written",
        text_version="test-1",
    )


def test_only_people_with_research_consent_take_part(world):
    key = analysis.new_key()
    assert len(list(analysis.long_rows(world.filters, key, AS_RECORDED))) == 1  # the header only
    _research(world, True)
    rows = list(analysis.long_rows(world.filters, key, AS_RECORDED))
    assert len(rows) > 1 and {row[16] for row in rows[1:]} == {"self", "mentor"}
    _research(world, False)
    assert len(list(analysis.long_rows(world.filters, key, AS_RECORDED))) == 1


def test_every_background_column_holds_its_own_value(world):
    """As recorded (the finest level), each column says what its name says, in both shapes."""
    _research(world, True)
    scoring.enrolments_progress(enrolment_ids=[world.enrolment.pk])
    enrolment, participant = world.enrolment, world.participant
    start, band = enrolment.start_date, participant.birth_year - participant.birth_year % 5
    expected = {
        "insats": enrolment.insats.code,
        "kon": participant.kon,
        "fodelsear": f"{band}-{band + 4}",
        "inskrivningsdatum": f"{start:%Y-%m}",
        "avslutsdatum": "",
        "forsorjning_fore": enrolment.income_before.code if enrolment.income_before else "",
        "utbildning": enrolment.education.code if enrolment.education else "",
    }
    for rows in (analysis.long_rows, analysis.wide_rows):
        header, first, *_ = list(rows(world.filters, analysis.new_key(), AS_RECORDED))
        assert {name: first[header.index(name)] for name in expected} == expected, rows.__name__
    header, *wide = list(analysis.wide_rows(world.filters, analysis.new_key(), AS_RECORDED))
    antal = [wide[0][i] for i, name in enumerate(header) if name.endswith("_self_antal")]
    assert antal and set(antal) == {"1"}  # one self-assessment


def test_a_reading_is_dated_by_its_local_day(world):
    """Half past midnight in Stockholm on 1 June is still 31 May in UTC: the file says June."""
    _research(world, True)
    AssessmentSession.objects.filter(enrolment=world.enrolment).update(
        occurred_at=datetime(2025, 5, 31, 22, 30, tzinfo=UTC)
    )

    header, *rows = list(analysis.long_rows(world.filters, analysis.new_key(), AS_RECORDED))

    assert rows and {row[header.index("matdatum")] for row in rows} == {"2025-06"}


def test_two_exports_cannot_be_joined_unless_they_share_a_key(world):
    _research(world, True)
    first, second = analysis.new_key(), analysis.new_key()
    person = {list(analysis.wide_rows(world.filters, k, AS_RECORDED))[1][0] for k in (first, second)}
    assert len(person) == 2
    assert (
        list(analysis.wide_rows(world.filters, first, AS_RECORDED))[1][0]
        == list(analysis.wide_rows(world.filters, first, AS_RECORDED))[1][0]
    )
    assert world.participant.pseudonym not in {row[0] for row in analysis.long_rows(world.filters, first, AS_RECORDED)}


def test_no_identity_or_free_text_in_the_file(world):
    _research(world, True)
    handle = io.StringIO()
    count = analysis.write_csv(analysis.long_rows(world.filters, analysis.new_key(), AS_RECORDED), handle)
    text = handle.getvalue()
    assert count == len(text.strip().splitlines()) - 1
    assert world.participant.pseudonym not in text
    assert "Testa Testsson" not in text
    header = next(csv.reader(text.splitlines(), delimiter=";"))
    assert header == analysis.LONG_COLUMNS


def test_web_export_is_a_logged_job_and_key_reuse_is_for_admins(client, world, django_capture_on_commit_callbacks):
    _research(world, True)
    people = registry_world()
    client.force_login(people.coordinator_sco)
    url = reverse("analysis_export") + "?forbund=sco&from=2020-01-01&to=2030-12-31"
    response = client.post(url, {"shape": "wide", "format": "csv", "reuse": "1"})
    assert "Bara en administratör" in response.text
    response = client.post(url, {"shape": "wide", "format": "csv", "reuse": "²"})  # a digit to str.isdigit
    assert response.status_code == 200 and "Bara en administratör" in response.text
    assert not ExportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"shape": "wide", "format": "xlsx"})
    job = ExportJob.objects.get()
    assert response.url == reverse("export_status", args=[job.pk])
    assert (job.kind, job.status, job.external) == ("analysis-wide", "done", False)
    assert AccessEvent.objects.filter(action="export", reason__startswith="Analysexport").count() == 1


# --- k-anonymity ------------------------------------------------------------------------------------

# Every background column someone outside could know about a person, insats to år i offentlig försörjning.
QUASI_IDENTIFIER_COLUMNS = analysis.LONG_COLUMNS[3:15]
EVERYTHING_LEFT_OUT = ("*",) * analysis.QUASI_IDENTIFIER_COUNT


@pytest.fixture
def cohort(settings, tmp_path):
    """120 people with research consent in Jonsbo and Backaberg (sco) with varied kön, birth years,
    dates, exits, incomes, education and years in public support, two of them in a third, small
    insats; every enrolment with one reading."""
    settings.MEDIA_ROOT = tmp_path
    people = registry_world()
    small = InsatsFactory(code="lilla", name="Lilla gruppen", forbund=people.sco)
    version = shipped_version("stegvis-progression")
    dimension = version.dimensions.filter(is_rating=True).first()
    rng = random.Random(5)
    for index in range(122):
        person = participant_create(forbund=people.sco, kon=rng.choice(["kvinna"] * 12 + ["man"] * 12 + ["annat"]),
                                    birth_year=rng.randint(1960, 2005))  # fmt: skip
        Consent.objects.create(participant=person, purpose=ConsentPurpose.RESEARCH, granted=True, channel="written",
                               text_version="test", recorded_by=people.admin_sco)  # fmt: skip
        insats = small if index >= 120 else (people.jonsbo if index % 2 else people.backaberg)
        start = date(2025, 1, 1) + timedelta(days=rng.randint(0, 330))
        enrolment = enrol(
            person,
            insats,
            start,
            end=start + timedelta(days=rng.randint(10, 200)),
            reason=rng.choice(["arbete", "arbete", "studier", "fortsatt_rehab"]),
            before=rng.choice(["forsorjningsstod", "forsorjningsstod", "aktivitetsstod"]),
            before_extent=rng.choice(["1", "1", "0.5"]),
            after=rng.choice(["ingen_offentlig", "forsorjningsstod"]),
            education=rng.choice(["gymnasial", "forgymnasial"]),
            years=f"{rng.randint(0, 120) / 10:.1f}",
        )
        readings = 1 + (index % 4 == 0) + (index % 13 == 0) * 3  # mostly 1, some 2, a few 4 or 5
        for number in range(readings):
            moment = datetime(start.year, start.month, start.day, 10, tzinfo=UTC) + timedelta(days=30 * number)
            session = AssessmentSession.objects.create(
                enrolment=enrolment, version=version, perspective="self", client_uuid=uuid.uuid4(),
                status=SessionStatus.SUBMITTED, occurred_at=moment, submitted_at=moment,
            )  # fmt: skip
            DimensionScore.objects.create(
                session=session, dimension=dimension, score=rng.uniform(0, 100), answered=3, items=3,
                algorithm_version=1,
            )  # fmt: skip
    people.filters = parse_filter(
        user=people.admin_sco, params=QueryDict("forbund=sco&from=2025-01-01&to=2025-12-31"), default_year=2025
    )
    return people


def classes_in(header: list[str], rows: list[list]) -> Counter:
    """Distinct persons per combination of what an outsider could know, counted from the file: the
    quasi-identifier columns, and how many readings a person has (the wide shape's …_antal columns;
    in the long shape the person's number of rows per perspective)."""
    columns = [header.index(name) for name in QUASI_IDENTIFIER_COLUMNS]
    columns += [index for index, name in enumerate(header) if name.endswith("_antal")]
    rows_per_perspective: Counter = Counter()
    if "perspektiv" in header:
        rows_per_perspective = Counter((row[0], row[header.index("perspektiv")]) for row in rows)
    persons: dict[tuple, set] = {}
    for row in rows:
        counts = tuple(rows_per_perspective[(row[0], p)] for p in ("self", "mentor", "agreed"))
        persons.setdefault((*(row[i] for i in columns), counts), set()).add(row[0])
    return Counter({key: len(members) for key, members in persons.items()})


def plan_for(cohort, shape: str) -> analysis.AnonymityPlan:  # noqa: ANN001
    return analysis.anonymity_plan(analysis.enrolments_in_file(cohort.filters, shape), shape=shape)


@pytest.mark.parametrize("shape", ["long", "wide"])
def test_every_combination_of_quasi_identifiers_is_shared_by_at_least_five_persons(cohort, shape, tmp_path):
    path = analysis.export_file(
        filters=cohort.filters, key=analysis.new_key(), shape=shape, file_format="xlsx", stem=tmp_path / "export"
    )

    book = load_workbook(path, read_only=True)
    header, *rows = [list(row) for row in book["Data"].iter_rows(values_only=True)]
    readme = [row[0] for row in book["LÄS MIG"].iter_rows(values_only=True)]
    classes = classes_in(header, rows)
    # The long shape shows the readings in its rows: persons with an unusual number leave it.
    assert len({row[0] for row in rows}) == 122 - (len(plan_for(cohort, shape).suppressed) if shape == "long" else 0)
    assert min(classes.values()) >= analysis.K, classes.most_common()[-3:]
    # What was generalised is in the file, and it is what the rows show.
    plan = analysis.anonymity_plan(analysis.enrolments_in_file(cohort.filters, shape), shape=shape)
    assert any("minst 5 personer" in line for line in readme)
    for line in plan.generalisation.describe():
        assert f"- {line}" in readme
    assert "lilla" not in {row[header.index("insats")] for row in rows}  # two people: merged or left out
    assert not any(re.fullmatch(r"\d{4}", str(row[header.index("fodelsear")])) for row in rows)
    for column in ("inskrivningsdatum", "avslutsdatum", *(["matdatum"] if shape == "long" else [])):
        assert not any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(row[header.index(column)])) for row in rows)


def test_the_generalisation_with_the_least_loss_that_reaches_five_is_chosen(cohort):
    enrolments = analysis.enrolments_in_file(cohort.filters, "wide")
    plan = analysis.anonymity_plan(enrolments)
    rows = list(enrolments.values(*analysis.QUASI_IDENTIFIER_FIELDS))

    assert plan.generalisation != analysis.FINEST  # 122 people, months and 5-year bands: not 5-anonymous
    assert len(plan.suppressed) <= 0.1 * 122
    merged = analysis._merged_small_insatser(rows)
    assert merged == {"lilla", "backaberg"}  # two people in Lilla gruppen, then the next smallest
    for name in analysis.LOSS_PER_LEVEL:  # one level finer on any quasi-identifier needs too much suppression
        level = getattr(plan.generalisation, name)
        if level:
            finer = replace(plan.generalisation, **{name: level - 1})
            finer = replace(finer, merged_insatser=merged if finer.insats == 1 else frozenset())
            assert analysis.suppression_needed(rows, finer) is None, name


def test_a_few_unusual_people_have_their_quasi_identifiers_left_out_instead_of_coarsening_everyone(cohort):
    rows = list(analysis.enrolments_in_file(cohort.filters, "wide").values(*analysis.QUASI_IDENTIFIER_FIELDS))
    plan = analysis.anonymity_plan(analysis.enrolments_in_file(cohort.filters, "wide"))
    groups: dict[tuple, set] = {}
    for row in rows:
        groups.setdefault(plan.quasi_identifiers(row), set()).add(row["participant_id"])
    assert min(len(members) for members in groups.values()) == plan.smallest_class >= 5
    if plan.suppressed:
        assert groups[EVERYTHING_LEFT_OUT] >= plan.suppressed and len(groups[EVERYTHING_LEFT_OUT]) >= 5
        assert any(str(len(plan.suppressed)) in line and "ovanlig" in line for line in plan.describe())


def test_the_coarsest_generalisation_leaves_one_group_of_everyone():
    coarsest = replace(analysis.FINEST, **{name: count - 1 for name, count in analysis.LEVELS.items()})
    row = {"insats__code": "jonsbo", "participant__kon": "man", "participant__birth_year": 1990,
           "start_date": date(2025, 3, 1), "end_date": None, "exit_reason__code": None,
           "income_before__code": "forsorjningsstod", "income_before_extent": 1, "income_after__code": None,
           "income_after_extent": None, "education__code": "gymnasial", "years_in_public_support": 2.5,
           "readings_self": 2, "readings_mentor": 2, "readings_agreed": 0}  # fmt: skip
    assert coarsest.quasi_identifiers(row) == EVERYTHING_LEFT_OUT
    other = row | {"end_date": date(2025, 9, 1), "participant__kon": "annat", "exit_reason__code": "arbete"}
    assert coarsest.quasi_identifiers(other) == EVERYTHING_LEFT_OUT


def test_years_in_public_support_are_never_written_exactly():
    assert [analysis.FINEST.support_band(years) for years in (0, 0.9, 1, 2.5, 4.9, 9.9, 10, 33.3, None)] == [
        "<1", "<1", "1-2", "2-3", "3-5", "5-10", ">10", ">10", ""
    ]  # fmt: skip


def test_a_forbund_with_fewer_than_five_is_refused_before_anything_is_written(
    cohort, client, django_capture_on_commit_callbacks, tmp_path
):
    for birth_year in (1970, 1980):  # two people with research consent in Västra Östergötland
        person = participant_create(forbund=cohort.svo, kon="kvinna", birth_year=birth_year)
        Consent.objects.create(participant=person, purpose=ConsentPurpose.RESEARCH, granted=True, channel="written",
                               text_version="test", recorded_by=cohort.admin_sco)  # fmt: skip
        enrol(person, cohort.natursteget, date(2025, 3, 1))
    admin_svo = user_with_role(Role.ADMIN, username="admin-svo", forbund=cohort.svo)
    client.force_login(admin_svo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analysis_export") + "?forbund=svo", {"shape": "wide", "format": "csv"})
    job = ExportJob.objects.get()
    assert job.status == "failed" and job.file_name == ""
    assert "Förbundet har färre än 5 personer med forskningssamtycke" in job.error
    assert "2" not in job.error  # not even the exact small number
    assert not list((tmp_path / "exports").glob("*"))
    page = client.get(response.url)
    assert "Exporten kunde inte göras: Förbundet har färre än 5 personer" in page.text


def test_an_export_is_the_whole_forbund_and_says_so_whatever_the_link_asked(
    cohort, client, django_capture_on_commit_callbacks
):
    """A file per insats, kön or period could be subtracted from the whole förbund's and tell what
    that file generalised. Every export holds the same persons; the page says the rest is not used."""
    client.force_login(cohort.admin_sco)
    narrow = reverse("analysis_export") + "?forbund=sco&insats=jonsbo&kon=kvinna&from=2025-03-01&to=2025-03-31"
    assert "urvalet för insats, kön, period används inte här" in client.get(narrow).text
    backgrounds = []
    for url in (narrow, reverse("analysis_export") + "?forbund=sco"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {"shape": "wide", "format": "csv"})
        job = ExportJob.objects.latest("id")
        download = client.get(reverse("export_download", args=[job.pk]))
        with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
            header, *rows = list(csv.reader(io.StringIO(archive.read(archive.namelist()[0]).decode()), delimiter=";"))
            readme = archive.read("LASMIG.txt").decode("utf-8")
        assert len({row[0] for row in rows}) == 122
        assert "Centrala Östergötland, alla insatser och alla år" in readme
        backgrounds.append(Counter(tuple(row[3:15]) for row in rows))
    assert backgrounds[0] == backgrounds[1]  # the same rows: nothing to subtract


def test_a_csv_export_is_a_zip_with_the_data_and_las_mig(cohort, client, django_capture_on_commit_callbacks):
    client.force_login(cohort.admin_sco)
    url = reverse("analysis_export") + "?forbund=sco&from=2025-01-01&to=2025-12-31"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"shape": "long", "format": "csv"})
    job = ExportJob.objects.get()
    assert job.status == "done" and job.file_name.endswith(".zip")
    download = client.get(reverse("export_download", args=[job.pk]))
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        names = archive.namelist()
        data = archive.read(names[0]).decode("utf-8")
        readme = archive.read("LASMIG.txt").decode("utf-8")
    assert names == [job.file_name.replace(".zip", ".csv"), "LASMIG.txt"]
    header, *rows = list(csv.reader(io.StringIO(data), delimiter=";"))
    persons = 122 - len(plan_for(cohort, "long").suppressed)
    assert header == analysis.LONG_COLUMNS and len({row[0] for row in rows}) == persons < len(rows)
    assert min(classes_in(header, rows).values()) >= analysis.K
    assert "k-anonymitet" in readme and "Generaliserat i denna fil:" in readme


def test_the_long_file_is_the_same_whether_read_in_one_query_or_a_few_enrolments_at_a_time(cohort, monkeypatch):
    """The long file reads a thousand enrolments per query (no sort of the whole förbund before the
    first row); in steps of 7 it holds the very same rows in the same order."""
    plan, key = plan_for(cohort, "long"), analysis.new_key()
    whole = list(analysis.long_rows(cohort.filters, key, plan))
    monkeypatch.setattr(analysis, "EXPORT_ENROLMENTS_PER_QUERY", 7)

    stepped = list(analysis.long_rows(cohort.filters, key, plan))

    assert len(whole) > 100  # about 120 enrolments, some with several readings: many steps of 7
    assert stepped == whole
