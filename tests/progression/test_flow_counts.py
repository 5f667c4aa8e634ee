"""progression/flow_counts.py: the enrolment counts the participant flow, exits and income reports read.
Kept by triggers through every kind of write, they must equal a rebuild from the enrolments, and the
reports built from them must equal the reports built from the rows, internal and external."""

import random
import threading
import time
from datetime import date, timedelta

import psycopg
import pytest
from django.db import connection
from django.db.models import Sum

from participants.models import Enrolment, ExitReason, Participant
from participants.services import participant_create
from progression import flow_counts
from progression.models import EnrolmentMonth, RepeatEnrolment
from progression.rebuild import progression_rebuild_inline
from tests.factories import registry_world
from tests.reports.helpers import build, enrol

pytestmark = pytest.mark.django_db

KONS = ["kvinna", "man", "annat", "okant"]
REASONS = ["arbete", "studier", "arbetssokande", "felregistrering", "flytt", "avbrott"]
INCOMES = [None, "forsorjningsstod", "ingen_offentlig", "aktivitetsstod", "studiemedel"]
CUBE_KEY = [
    "event",
    "insats_id",
    "month",
    "kon",
    "is_anonymous",
    "exit_reason_id",
    "income_before_id",
    "income_after_id",
]
CUBE_SUMS = ["n", "key_sum", "n_single", "person_key_single"]
# (filters, also external): figures for spreading outside are made for standard periods only.
SELECTIONS = [
    ({"from": "2025-01-01", "to": "2025-12-31"}, True),
    ({"from": "2025-01-01", "to": "2025-08-31"}, True),
    ({"from": "2026-01-01", "to": "2026-06-30"}, True),
    ({"from": "2025-04-01", "to": "2025-06-30"}, False),
    ({"from": "2026-03-01", "to": "2026-03-31"}, False),
    ({"from": "2023-01-01", "to": "2026-10-31"}, False),
    ({"from": "2025-01-01", "to": "2025-12-31", "kon": "kvinna"}, True),
    ({"from": "2025-01-01", "to": "2025-12-31", "kon": "annat"}, False),
]


def _tables() -> tuple[list[tuple], list[tuple]]:
    """Both tables: the cube summed per key (writers append rows; a key counted down to 0 left
    out), the repeated enrolments; in a fixed order."""
    cube = (
        EnrolmentMonth.objects.values(*CUBE_KEY)
        .annotate(**{f"total_{c}": Sum(c) for c in CUBE_SUMS})
        .exclude(total_n=0)
        .values_list(*CUBE_KEY, *(f"total_{c}" for c in CUBE_SUMS))
        .order_by(*CUBE_KEY)
    )
    repeat = RepeatEnrolment.objects.values_list().order_by("enrolment_id")
    return list(cube), list(repeat)


def assert_counts_equal_a_rebuild() -> None:
    kept = _tables()
    flow_counts.flow_counts_rebuild()
    assert kept == _tables()


def assert_reports_equal_the_row_path(user, monkeypatch) -> None:
    for selection, also_external in SELECTIONS:
        for name in ("participant-flow", "exits", "income-sources"):
            for external in (False, True) if also_external else (False,):
                monkeypatch.setattr(flow_counts, "usable", lambda filters: False)
                rows = build(user, name, external=external, per_kon="1", **selection).data
                monkeypatch.undo()
                counted = build(user, name, external=external, per_kon="1", **selection)
                assert flow_counts.usable(counted.filters), selection
                assert counted.data == rows, (name, selection, external)


def _people(world, rng: random.Random) -> list[Participant]:
    return [
        participant_create(
            forbund=world.sco, kon=rng.choice(KONS), birth_year=rng.randint(1960, 2005), is_anonymous=rng.random() < 0.1
        )
        for _ in range(30)
    ]


def _random_enrolments(world, people: list[Participant], rng: random.Random) -> None:
    """One to three enrolments a person in sco's insatser, one after the other, some ended."""
    for person in people:
        start = date(2023, 1, 1) + timedelta(days=rng.randint(0, 1000))
        for _ in range(rng.choice([1, 1, 2, 3])):
            if start >= date(2026, 10, 1):
                break
            end = start + timedelta(days=rng.randint(0, 500))
            closed = end < date(2026, 10, 31) and rng.random() < 0.7
            enrol(
                person,
                rng.choice([world.jonsbo, world.backaberg]),
                start,
                end=end if closed else None,
                reason=rng.choice(REASONS) if closed else None,
                before=rng.choice(INCOMES),
                after=rng.choice(INCOMES[1:]) if closed else None,
            )
            if not closed:
                break
            start = end + timedelta(days=rng.randint(1, 200))


def test_counts_and_reports_follow_every_kind_of_write(monkeypatch):
    world = registry_world()
    rng = random.Random(22)
    people = _people(world, rng)
    _random_enrolments(world, people, rng)
    assert Enrolment.objects.count() > 35 and _tables()[1], "people with one and with several enrolments"
    assert_counts_equal_a_rebuild()
    assert_reports_equal_the_row_path(world.coordinator_sco, monkeypatch)

    # Writes the services do not make, as an admin or a script might: every path is counted.
    first, second, third = Enrolment.objects.filter(end_date__isnull=False).order_by("id")[:3]
    Enrolment.objects.filter(pk=first.pk).update(exit_reason=ExitReason.objects.get(code="felregistrering"))
    Enrolment.objects.filter(pk=second.pk).update(end_date=None, exit_reason=None, income_after=None)
    Enrolment.objects.filter(pk=third.pk).update(
        insats=world.backaberg if third.insats == world.jonsbo else world.jonsbo
    )
    Participant.objects.filter(pk__in=[people[0].pk, people[1].pk]).update(kon="man", is_anonymous=False)
    Participant.objects.filter(pk=people[2].pk).update(kon="annat")
    Participant.objects.filter(pk=people[3].pk).update(record_key=people[3].record_key + 1)
    repeat_person = Enrolment.objects.values("participant").order_by("-participant").first()["participant"]
    Enrolment.objects.filter(participant_id=repeat_person).order_by("id").first().delete()
    assert_counts_equal_a_rebuild()
    assert_reports_equal_the_row_path(world.coordinator_sco, monkeypatch)

    # An exit reason counted again (or no longer): everything is counted anew.
    ExitReason.objects.filter(code="felregistrering").update(excluded_from_reports=False)
    assert_counts_equal_a_rebuild()
    assert_reports_equal_the_row_path(world.coordinator_sco, monkeypatch)


def test_a_second_enrolment_makes_the_first_one_a_repeat_and_the_person_is_counted_once(monkeypatch):
    world = registry_world()
    person = participant_create(forbund=world.sco, kon="kvinna", birth_year=1990)
    enrol(
        person,
        world.jonsbo,
        date(2025, 2, 1),
        end=date(2025, 5, 31),
        reason="arbete",
        before="a_kassa",
        after="ingen_offentlig",
    )
    assert _tables()[1] == []
    enrol(person, world.backaberg, date(2025, 6, 2))

    flow = build(world.coordinator_sco, "participant-flow").data
    assert (flow["registrations"]["total"], flow["unique_persons"]["total"]) == (2, 1)
    assert sorted(row[1] for row in _tables()[1]) == [person.pk, person.pk]
    assert_counts_equal_a_rebuild()


def test_the_rebuild_writes_the_counts_again(monkeypatch):
    world = registry_world()
    people = _people(world, random.Random(7))
    _random_enrolments(world, people, random.Random(8))
    kept = _tables()
    EnrolmentMonth.objects.all().delete()
    RepeatEnrolment.objects.all().delete()

    progression_rebuild_inline(report=lambda message: None)

    assert _tables() == kept != ([], [])


@pytest.mark.parametrize(
    ("selection", "usable"),
    [
        ({"from": "2025-01-01", "to": "2025-12-31"}, True),
        ({"from": "2025-02-01", "to": "2025-02-28"}, True),
        ({"from": "2025-01-02", "to": "2025-12-31"}, False),
        ({"from": "2025-01-01", "to": "2025-12-30"}, False),
        ({"from": "2025-01-01", "to": "2025-12-31", "aldersgrupp": "25-34"}, False),
    ],
)
def test_the_counts_are_read_only_for_whole_months_without_an_age_band(selection, usable):
    world = registry_world()
    report = build(world.coordinator_sco, "participant-flow", **selection)
    assert flow_counts.usable(report.filters) is usable


# An open copy of a closed enrolment with another start, insats and participant, written in SQL on a
# connection of its own: (start, insats id, participant id, the closed enrolment's id).
_COPIED = ", ".join(
    f.column
    for f in Enrolment._meta.concrete_fields
    if f.column
    not in {"id", "start_date", "insats_id", "participant_id", "end_date", "exit_reason_id", "income_after_id"}
    | {"income_after_extent", "record_key"}
)
_COPY = (
    f"INSERT INTO participants_enrolment ({_COPIED}, start_date, insats_id, participant_id) "  # noqa: S608 - columns
    f"SELECT {_COPIED}, %s, %s, %s FROM participants_enrolment WHERE id = %s"
)


def _connect() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )


@pytest.mark.django_db(transaction=True)
def test_two_writers_enrolling_one_person_at_once_take_turns():
    """Two connections each add an enrolment of the same person at the same time. The second
    trigger waits for the first writer's lock on the person and then counts the person as having
    three enrolments, not two: the counts still equal a rebuild."""
    world = registry_world()
    person = participant_create(forbund=world.sco, kon="man", birth_year=1985)
    template = enrol(person, world.jonsbo, date(2024, 1, 8), end=date(2024, 3, 1), reason="arbete", after="a_kassa")
    first, second = _connect(), _connect()
    errors: list[str] = []

    def slow_writer() -> None:
        try:
            with first.transaction():
                first.execute(_COPY, [date(2024, 5, 6), world.backaberg.pk, person.pk, template.pk])
                time.sleep(0.6)  # the other writer's trigger waits for this commit
        except psycopg.Error as exc:
            errors.append(repr(exc))

    thread = threading.Thread(target=slow_writer)
    thread.start()
    time.sleep(0.2)
    try:
        with second.transaction():
            second.execute(_COPY, [date(2024, 9, 2), world.jonsbo.pk, person.pk, template.pk])
    finally:
        thread.join(timeout=30)
        first.close()
        second.close()

    assert errors == []
    assert RepeatEnrolment.objects.filter(participant_id=person.pk).count() == 3
    assert_counts_equal_a_rebuild()


def test_the_compaction_sums_a_keys_rows_into_one_and_changes_no_count():
    world = registry_world()
    _random_enrolments(world, _people(world, random.Random(3)), random.Random(4))
    kept = _tables()
    assert EnrolmentMonth.objects.count() > len(kept[0]), "writers appended rows"

    flow_counts.flow_counts_compact()

    assert _tables() == kept
    assert EnrolmentMonth.objects.count() == len(kept[0]), "one row per key, none counted down to 0"


def test_a_saved_exit_reason_counts_everything_again_only_when_its_exclusion_changed():
    world = registry_world()
    person = participant_create(forbund=world.sco, kon="kvinna", birth_year=1990)
    enrol(person, world.jonsbo, date(2025, 2, 1), end=date(2025, 3, 3), reason="avbrott", after="a_kassa")
    stray = EnrolmentMonth.objects.create(
        event="start", insats=world.jonsbo, month=date(2020, 1, 1), kon="man", is_anonymous=False,
        exit_reason_id=0, income_before_id=0, income_after_id=0, n=1, key_sum=1, n_single=1, person_key_single=1,
    )  # fmt: skip
    reason = ExitReason.objects.get(code="avbrott")
    reason.label_sv = "Avbrott (eget val)"
    reason.save()
    assert EnrolmentMonth.objects.filter(pk=stray.pk).exists(), "a new label is no reason to count again"

    reason.excluded_from_reports = True
    reason.save()
    assert not EnrolmentMonth.objects.filter(pk=stray.pk).exists()
    assert _tables() == ([], [])  # the person's one enrolment is a felregistrering now


def test_emptied_enrolments_leave_no_counts():
    world = registry_world()
    _random_enrolments(world, _people(world, random.Random(5)), random.Random(6))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own transaction has deferred checks pending
        cursor.execute("TRUNCATE participants_enrolment CASCADE")
    assert _tables() == ([], [])


@pytest.mark.django_db(transaction=True)
def test_writers_enrolling_different_people_in_one_insats_and_month_do_not_wait_for_each_other():
    """Both enrolments add to the same key; the counts are appended, not updated in place, so the
    second writer does not wait for the first one's commit."""
    world = registry_world()
    template = enrol(
        participant_create(forbund=world.sco, kon="man", birth_year=1985),
        world.jonsbo,
        date(2024, 1, 8),
        end=date(2024, 3, 1),
        reason="arbete",
        after="a_kassa",
    )
    others = [participant_create(forbund=world.sco, kon="man", birth_year=1990) for _ in range(2)]
    first, second = _connect(), _connect()
    try:
        with first.transaction():
            first.execute(_COPY, [date(2024, 5, 6), world.backaberg.pk, others[0].pk, template.pk])
            with second.transaction():
                second.execute("SET LOCAL lock_timeout = '2s'")
                second.execute(_COPY, [date(2024, 5, 7), world.backaberg.pk, others[1].pk, template.pk])
    finally:
        first.close()
        second.close()
    assert_counts_equal_a_rebuild()


def test_people_sharing_a_record_key_each_add_it_to_the_unique_persons_cell(monkeypatch):
    """A cell key is the sum of its people's record keys: two people with the same key (likely among
    hundreds of thousands) add it twice, from the rows and from the counts alike."""
    world = registry_world()
    people = [participant_create(forbund=world.sco, kon="kvinna", birth_year=1980 + i) for i in range(3)]
    Participant.objects.filter(pk__in=[p.pk for p in people]).update(record_key=777_000_000)
    enrol(people[0], world.jonsbo, date(2025, 2, 3))
    enrol(people[1], world.jonsbo, date(2025, 3, 3), end=date(2025, 4, 1), reason="arbete", after="a_kassa")
    enrol(people[1], world.backaberg, date(2025, 5, 5))
    enrol(people[2], world.backaberg, date(2025, 6, 2))

    (group,) = flow_counts.flow_groups(
        build(world.coordinator_sco, "participant-flow").filters, [world.jonsbo.pk, world.backaberg.pk]
    )
    assert (group["unique_persons_n"], group["unique_persons_key"]) == (3, 3 * 777_000_000)
    assert_reports_equal_the_row_path(world.coordinator_sco, monkeypatch)
