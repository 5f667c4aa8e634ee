"""A rebuild writes the scores and the progression rows beside the live tables and swaps them in
(progression/derived_tables.py): readers keep the old rows until the swap, what the incremental
path processes meanwhile is not lost, readings erased meanwhile leave no rows behind, and the
schema after the swap is the schema before it."""

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection

from participants.models import Enrolment
from progression import derived_tables, rebuild, scoring
from progression.models import DimensionScore, Progression, RebuildCatchUp, RebuildJob, RebuildPhase
from surveys.models import AssessmentSession
from tests.progression.helpers import enrol, snapshot, snapshot_differences, submit, world_create
from tests.surveys.factories import shipped_version, valid_answers

pytestmark = pytest.mark.django_db

TABLES = (derived_tables.SCORES_TABLE, derived_tables.PROGRESSION_TABLE)
MARCH = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def world():
    """Six enrolments with two readings each, processed by an inline rebuild."""
    world = world_create(insatser=2)
    world.version = shipped_version()
    world.enrolments = [enrol(world, world.insatser[index % 2]) for index in range(6)]
    for enrolment in world.enrolments:
        for days in (0, 90):
            _reading(world, enrolment, MARCH + timedelta(days=days))
    rebuild.progression_rebuild_inline(new_norms_reason="Test", report=lambda message: None)
    return world


def _reading(world, enrolment: Enrolment, occurred_at: datetime, *, processed: bool = False) -> AssessmentSession:
    session = submit(world, enrolment, world.version, "self", valid_answers(world.version, "self"), occurred_at)
    if processed:
        scoring.session_process(session_id=session.pk)  # the incremental path, as the task runs it
    return session


def _catalogue(table: str) -> dict[str, object]:
    """What Django's migrations and the queries rely on: columns, constraints, indexes, the id's sequence."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, attidentity FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [table],
        )
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        indexes = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
    return {"columns": columns, "constraints": constraints, "indexes": indexes, "sequence": sequence}


def test_the_schema_after_a_rebuild_is_the_schema_before_it(world):
    before = {table: _catalogue(table) for table in TABLES}
    # Only the indexes that a query or a cascade uses (progression/migrations/0017).
    assert [name for name, _ in before[derived_tables.PROGRESSION_TABLE]["indexes"]] == [
        "one_progression_per_key",
        "progression_latest_on",
        "progression_progression_first_session_id_df3bf8a6",
        "progression_progression_latest_session_id_9ab0d945",
        "progression_progression_pkey",
    ]
    assert [name for name, _ in before[derived_tables.SCORES_TABLE]["indexes"]] == [
        "one_score_per_dimension",
        "progression_dimensionscore_dimension_id_953f8040",
        "progression_dimensionscore_pkey",
    ]

    rebuild.progression_rebuild_inline(report=lambda message: None)

    assert {table: _catalogue(table) for table in TABLES} == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_class WHERE relname LIKE %s", [f"%{derived_tables.NEXT}%"])
        assert cursor.fetchone()[0] == 0, "a __next table, index or sequence was left behind"
        for table in TABLES:  # the id sequence carries on after the rows written beside
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence(%s, 'id')) > MAX(id) FROM {table}", [table])  # noqa: S608
            assert cursor.fetchone()[0] is True


def test_readers_see_the_old_rows_until_the_swap(world):
    expected = snapshot()
    derived_tables.next_create(derived_tables.PROGRESSION_TABLE)
    for low, high in rebuild.enrolment_ranges(2):
        rebuild.progression_chunk(low, high)

    assert snapshot() == expected  # written beside: the live table is untouched
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {derived_tables.next_name(derived_tables.PROGRESSION_TABLE)}")  # noqa: S608
        assert cursor.fetchone()[0] == Progression.objects.count()

    rebuild.progression_swap()
    assert snapshot_differences(expected, snapshot()) == []


@pytest.mark.parametrize("table", TABLES)
def test_a_reading_processed_during_the_rebuild_is_in_the_table_swapped_in(world, table):
    enrolment = world.enrolments[0]
    derived_tables.next_create(table)
    if table == derived_tables.SCORES_TABLE:
        for low, high in rebuild.session_ranges(3):
            rebuild.score_chunk(low, high)
    else:
        for low, high in rebuild.enrolment_ranges(2):
            rebuild.progression_chunk(low, high)

    late = _reading(world, enrolment, MARCH + timedelta(days=200), processed=True)  # after its chunk ran
    assert list(RebuildCatchUp.objects.values_list("enrolment_id", flat=True)) == [enrolment.pk]

    rebuild.scores_swap() if table == derived_tables.SCORES_TABLE else rebuild.progression_swap()

    assert DimensionScore.objects.filter(session=late).exists()
    assert Progression.objects.filter(enrolment=enrolment, latest_session=late).exists()
    assert not RebuildCatchUp.objects.exists()
    incremental = snapshot()
    rebuild.progression_rebuild_inline(report=lambda message: None)
    assert snapshot_differences(incremental, snapshot()) == []


def test_without_a_rebuild_under_way_the_incremental_path_records_nothing(world):
    _reading(world, world.enrolments[0], MARCH + timedelta(days=200), processed=True)
    assert not RebuildCatchUp.objects.exists()


def test_readings_erased_during_the_rebuild_leave_no_rows_and_the_foreign_keys_hold(world):
    derived_tables.next_create(derived_tables.PROGRESSION_TABLE)
    for low, high in rebuild.enrolment_ranges(2):
        rebuild.progression_chunk(low, high)
    erased = world.enrolments[1]
    sessions = list(AssessmentSession.objects.filter(enrolment=erased))
    DimensionScore.objects.filter(session__in=sessions).delete()
    Progression.objects.filter(enrolment=erased).delete()
    AssessmentSession.objects.filter(pk__in=[session.pk for session in sessions]).delete()  # as an erasure does

    rebuild.progression_swap()

    assert not Progression.objects.filter(enrolment=erased).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' AND NOT convalidated",
            [derived_tables.PROGRESSION_TABLE],
        )
        assert cursor.fetchone()[0] == 0


def test_a_swap_done_already_is_not_done_again(world):
    expected = snapshot()
    rebuild.scores_swap()  # resumed after the process died past the swap: no __next table
    rebuild.progression_swap()
    assert snapshot() == expected


def test_a_new_rebuild_replaces_what_an_unfinished_one_wrote_beside(world):
    expected = snapshot()
    derived_tables.next_create(derived_tables.SCORES_TABLE)
    rebuild.score_chunk(*rebuild.session_ranges(3)[0])  # then the worker died

    rebuild.progression_rebuild_inline(report=lambda message: None)

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [derived_tables.next_name(derived_tables.SCORES_TABLE)])
        assert cursor.fetchone()[0] is None
    assert snapshot_differences(expected, snapshot()) == []


def _next_exists(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [derived_tables.next_name(table)])
        return cursor.fetchone()[0]


def test_a_rebuild_started_during_another_supersedes_it_and_the_first_stops_without_touching_the_tables(world):
    """The outside review's lost rows: a second rebuild dropped the first one's table beside, and the
    first swapped in the second's half-written one. Now the first stops at its next chunk."""
    expected = snapshot()
    started = []

    def second_rebuild_after_the_first_chunk(message: str) -> None:
        if message.startswith("Poäng: 1/") and not started:
            started.append(True)
            rebuild.progression_rebuild_inline(report=lambda message: None)

    with pytest.raises(rebuild.PhaseOver, match="en nyare omräkning"):
        rebuild.progression_rebuild_inline(chunk_size=3, report=second_rebuild_after_the_first_chunk)

    assert started
    first, second = RebuildJob.objects.order_by("id")[1:]  # after the fixture's own rebuild
    assert (first.phase, second.phase) == (RebuildPhase.SUPERSEDED, RebuildPhase.DONE)
    assert not any(_next_exists(table) for table in TABLES)
    assert snapshot_differences(expected, snapshot()) == []


@pytest.mark.parametrize("table", TABLES)
def test_a_rebuild_no_longer_current_neither_creates_nor_swaps_a_table(world, table):
    expected = snapshot()
    derived_tables.next_create(table)
    assert derived_tables.next_create(table, current=lambda: False) is False
    catch_up = scoring.scores_catch_up if table == derived_tables.SCORES_TABLE else scoring.progressions_catch_up
    assert derived_tables.next_swap(table, catch_up, current=lambda: False) is False
    assert _next_exists(table), "the newer rebuild's table beside is left to it"
    assert snapshot() == expected


def _written_beside_then_the_swap_dies_after_building_its_indexes(table: str) -> None:
    derived_tables.next_create(table)
    if table == derived_tables.SCORES_TABLE:
        for low, high in rebuild.session_ranges(3):
            rebuild.score_chunk(low, high)
    else:
        for low, high in rebuild.enrolment_ranges(2):
            rebuild.progression_chunk(low, high)

    def dying_catch_up(following: str) -> None:
        raise RuntimeError("the worker died in the catch-up")

    with pytest.raises(RuntimeError):
        derived_tables.next_swap(table, dying_catch_up)


def test_a_swap_that_failed_after_building_its_indexes_succeeds_when_run_again(world):
    """The outside review: a failure between the index build and the rename left a table beside
    with its primary key, and every retry then failed on "multiple primary keys"."""
    expected = snapshot()
    _written_beside_then_the_swap_dies_after_building_its_indexes(derived_tables.SCORES_TABLE)
    assert _next_exists(derived_tables.SCORES_TABLE)

    assert rebuild.scores_swap() is True
    assert not _next_exists(derived_tables.SCORES_TABLE)
    assert snapshot_differences(expected, snapshot()) == []


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_holding_live_rows_while_it_waits_for_the_rebuild_lock_is_not_deadlocked_by_the_swap(world):
    """The outside review's deadlock: a transaction that deleted live rows first and then asked for
    the rebuild lock, against a swap that held that lock and asked for the live table. The swap now
    lets go after SWAP_LOCK_TIMEOUT and tries again, so both finish."""
    derived_tables.next_create(derived_tables.SCORES_TABLE)
    for low, high in rebuild.session_ranges(3):
        rebuild.score_chunk(low, high)
    victim = DimensionScore.objects.order_by("id").first()
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    outcome: dict[str, object] = {}

    def withdrawal() -> None:
        try:
            with other.transaction():
                other.execute("DELETE FROM progression_dimensionscore WHERE id = %s", [victim.pk])
                time.sleep(0.8)  # meanwhile the swap takes the rebuild lock and asks for the table
                other.execute("SELECT pg_advisory_xact_lock_shared(%s)", [derived_tables.REBUILD_LOCK])
            outcome["withdrawal"] = "committed"
        except psycopg.Error as exc:
            outcome["withdrawal"] = repr(exc)

    thread = threading.Thread(target=withdrawal)
    thread.start()
    time.sleep(0.2)  # the withdrawal holds its row first
    try:
        outcome["swap"] = rebuild.scores_swap()
    finally:
        thread.join(timeout=30)
        other.close()
    assert outcome == {"withdrawal": "committed", "swap": True}
    assert not _next_exists(derived_tables.SCORES_TABLE)


def test_a_migration_during_the_rebuild_fails_it_and_keeps_the_new_column(world):
    """The outside review: an upgrade that added columns while a rebuild wrote beside, then that
    rebuild's swap, dropped the new columns from the live table (and migrate said they were there)."""
    expected = snapshot()
    migrated = []

    def migrate_after_the_progression_chunks(message: str) -> None:
        if message.startswith("Stegförflyttning:") and not migrated:
            migrated.append(True)
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {derived_tables.PROGRESSION_TABLE} ADD COLUMN added_by_upgrade integer")

    with pytest.raises(rebuild.PhaseOver, match="tabeller ändrades medan den pågick"):
        rebuild.progression_rebuild_inline(report=migrate_after_the_progression_chunks)

    job = RebuildJob.objects.order_by("-id").first()
    assert (job.phase, job.error) == (RebuildPhase.FAILED, rebuild.SCHEMA_CHANGED_MESSAGE)
    assert "added_by_upgrade" in [column[0] for column in _catalogue(derived_tables.PROGRESSION_TABLE)["columns"]]
    assert not any(_next_exists(table) for table in TABLES)
    assert snapshot_differences(expected, snapshot()) == []


def test_an_index_a_migration_dropped_during_the_rebuild_does_not_come_back_with_the_swap(world):
    """The outside review: indexes built beside before migration 0017 dropped their live
    counterparts stayed on the swapped-in table under their temporary names."""
    _written_beside_then_the_swap_dies_after_building_its_indexes(derived_tables.PROGRESSION_TABLE)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX progression_latest_on")  # the upgrade's migration

    assert rebuild.progression_swap() is True
    names = [name for name, _ in _catalogue(derived_tables.PROGRESSION_TABLE)["indexes"]]
    assert "progression_latest_on" not in names
    assert not [name for name in names if name.endswith(derived_tables.NEXT)]
