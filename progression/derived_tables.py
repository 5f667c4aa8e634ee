"""A rebuild writes a derived table beside the live one and swaps it in (PostgreSQL).

`<table>__next` has the live table's columns, defaults, checks and unique constraints, but no other
index and no foreign key, so a row written costs no upkeep of them: the rebuild's chunks write it
as fast as PostgreSQL writes a fresh table. Readers keep seeing the live rows until the swap, the
new ones after it; never an empty table.

While a `__next` table exists, the incremental path still writes the live tables and records the
enrolments it processed (RebuildCatchUp); the swap derives those enrolments' rows again into the
new table, so nothing processed during a rebuild is lost. Every writer of a derived table holds
the rebuild lock shared for its transaction; creating a `__next` table and swapping it in hold it
exclusively, so no write falls between the moment a writer looks for `__next` and its commit.

One rebuild owns the `__next` tables at a time: creating one and swapping it in ask the caller's
`current()` (is my rebuild job still in this phase?) under the exclusive lock, and a chunk asks the
same under the shared lock, so a superseded rebuild can neither drop nor swap in what a newer one
writes (progression.rebuild).

The swap builds the live table's other indexes on the new table, one pass each (kept if a failed
swap is run again), then in one short transaction drops the live table and gives the new one its
name, its indexes' and constraints' names and its foreign keys (NOT VALID: no scan under the lock).
It waits at most SWAP_LOCK_TIMEOUT for the live table, then lets go and tries again: a writer that
changed live rows before asking for the rebuild lock is never deadlocked by it (writers take that
lock first; participants.hooks.DERIVED_DATA_LOCKS makes a consent withdrawal do so too).
Afterwards, rows of readings or enrolments erased during the rebuild are deleted and the foreign
keys validated, without blocking writers. The schema after a swap is the schema before it (a test
compares the catalogue).

On SQLite (the embedded default: one process, no concurrent writer) the rebuild empties the live
table and writes it in place."""

import re
import time
from collections.abc import Callable

from django.db import OperationalError, connection, transaction

# pg_advisory_xact_lock key of the rebuild lock: "stegvis" in ASCII.
REBUILD_LOCK = 0x73746567766973
NEXT = "__next"

SCORES_TABLE = "progression_dimensionscore"
PROGRESSION_TABLE = "progression_progression"

# The swap waits at most this long for the live table, then lets go of everything and tries again:
# a transaction that already changed live rows (a consent withdrawal deleting readings) and waits
# for the rebuild lock is never made to wait for the swap, nor chosen as a deadlock's victim.
SWAP_LOCK_TIMEOUT = "300ms"
SWAP_ATTEMPTS = 20


def always() -> bool:
    return True


def beside() -> bool:
    """Whether a rebuild writes beside the live tables (PostgreSQL) or in place (SQLite)."""
    return connection.vendor == "postgresql"


def next_name(table: str) -> str:
    return table + NEXT


def rebuild_target(table: str) -> str:
    """The table a rebuild's chunks write."""
    return next_name(table) if beside() else table


def rebuild_lock(*, exclusive: bool = False) -> None:
    """Hold the rebuild lock until this transaction ends (see the module's docstring)."""
    if not beside():
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [REBUILD_LOCK])


def rebuild_writing() -> bool:
    """Whether a rebuild is writing a derived table beside the live one now."""
    if not beside():
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname IN (%s, %s) AND relkind = 'r' "
            "AND relnamespace = current_schema()::regnamespace)",
            [next_name(SCORES_TABLE), next_name(PROGRESSION_TABLE)],
        )
        return cursor.fetchone()[0]


def catch_up_record(enrolments_sql: str, params: list[int]) -> None:
    """The incremental path, in the transaction of its writes: record the enrolments it processed
    (SQL selecting enrolment ids, with its params) if a rebuild is writing beside the live tables."""
    rebuild_lock()
    if not rebuild_writing():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO progression_rebuildcatchup (enrolment_id) {enrolments_sql} "  # noqa: S608
            "ON CONFLICT (enrolment_id) DO NOTHING",
            params,
        )


def _constraints(cursor, table: str, kinds: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's constraints of these kinds ('p', 'u', 'f'), by name."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = ANY(%s) ORDER BY conname",
        [table, list(kinds)],
    )
    return cursor.fetchall()


def _plain_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's indexes that no constraint owns, by name."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid "
        "AND k.contype IN ('p', 'u', 'x')) ORDER BY c.relname",
        [table],
    )
    return cursor.fetchall()


def _temporary_name(table: str, name: str) -> str:
    """The name an index or constraint has on `<table>__next` until the swap (at most 63 bytes)."""
    return f"{name[:50]}{NEXT}"


def next_create(table: str, *, current: Callable[[], bool] = always) -> bool:
    """Start writing `table` anew: on PostgreSQL an empty `<table>__next` with its unique
    constraints (which the writers' ON CONFLICT and deletes by key use); on SQLite the live table
    emptied. Replaces what an earlier, unfinished rebuild left. Does nothing and returns False if
    `current()` says, under the rebuild lock, that the calling rebuild is no longer the current one
    (a newer rebuild owns the tables now)."""
    with transaction.atomic(), connection.cursor() as cursor:
        rebuild_lock(exclusive=True)
        if not current():
            return False
        if not beside():
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - module constants only
            return True
        following = next_name(table)
        cursor.execute(f"DROP TABLE IF EXISTS {following}")
        cursor.execute(f"CREATE TABLE {following} (LIKE {table} INCLUDING ALL EXCLUDING INDEXES)")
        for name, definition in _constraints(cursor, table, "u"):
            cursor.execute(f"ALTER TABLE {following} ADD CONSTRAINT {_temporary_name(table, name)} {definition}")
    return True


def _next_exists(cursor, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [next_name(table)])
    return cursor.fetchone()[0]


def next_swap(table: str, catch_up: Callable[[str], None], *, current: Callable[[], bool] = always) -> bool:
    """Put `<table>__next` in the live table's place (see the module's docstring). `catch_up(table)`
    derives the rows of the enrolments in RebuildCatchUp again into the named table; it runs under
    the exclusive rebuild lock, just before the swap. Does nothing and returns False if `current()`
    says, under that lock, that the calling rebuild is no longer the current one. Idempotent, and
    can be run again after any failure: without a `__next` table (swapped already) only the foreign
    keys are checked; indexes built already are kept; on SQLite the live table was written in place.
    Raises SchemaChangedDuringRebuild, having dropped `__next`, if the live table's columns are no
    longer those `__next` was made with (a migration ran during the rebuild)."""
    if not beside():
        return current()
    following = next_name(table)
    changed = False
    with connection.cursor() as cursor:
        if _next_exists(cursor, table):
            if not current():
                return False
            with transaction.atomic():
                _indexes_build(cursor, table)
                cursor.execute(f"ANALYZE {following}")
            for attempt in range(1, SWAP_ATTEMPTS + 1):
                try:
                    with transaction.atomic():
                        rebuild_lock(exclusive=True)
                        if not current():
                            return False
                        if not _next_exists(cursor, table):
                            break  # swapped meanwhile by a redelivered task of the same rebuild
                        if _columns(cursor, table) != _columns(cursor, following):
                            cursor.execute(f"DROP TABLE {following}")
                            changed = True
                            break
                        catch_up(following)
                        cursor.execute("DELETE FROM progression_rebuildcatchup")
                        _rename_into_place(cursor, table)
                    break
                except OperationalError as exc:
                    if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE or attempt == SWAP_ATTEMPTS:
                        raise
                    time.sleep(0.2 * attempt)  # the transaction in the way finishes; then again
        if changed:
            raise SchemaChangedDuringRebuild(table)
        _foreign_keys_validate(cursor, table)
    return True


LOCK_NOT_AVAILABLE = "55P03"


class SchemaChangedDuringRebuild(Exception):
    """The live table's columns changed (an upgrade's migration) after its `__next` table was made:
    swapping it in would drop the new columns. The `__next` table has been dropped."""


def _columns(cursor, table: str) -> list[tuple[str, str, bool]]:
    """(name, type, not null) of the table's columns, by name."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attname",
        [table],
    )
    return cursor.fetchall()


def _indexes_build(cursor, table: str) -> None:
    """The live table's primary key and plain indexes on `<table>__next`, under temporary names."""
    following = next_name(table)
    built = {name for name, _ in _constraints(cursor, following, "p")}
    for name, definition in _constraints(cursor, table, "p"):
        if _temporary_name(table, name) not in built:  # a swap that failed after this step is run again
            cursor.execute(f"ALTER TABLE {following} ADD CONSTRAINT {_temporary_name(table, name)} {definition}")
    for name, definition in _plain_indexes(cursor, table):
        temporary = _temporary_name(table, name)
        cursor.execute(
            re.sub(
                r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ ",
                rf"CREATE \1INDEX IF NOT EXISTS {temporary} ON {following} ",
                definition,
            )
        )


def _rename_into_place(cursor, table: str) -> None:
    """Drop the live table and give `<table>__next` its name, names and foreign keys (NOT VALID)."""
    following = next_name(table)
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [SWAP_LOCK_TIMEOUT])
    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    owned = _constraints(cursor, table, "pu")
    indexes = [name for name, _ in _plain_indexes(cursor, table)]
    foreign_keys = _constraints(cursor, table, "f")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [following])
    sequence = cursor.fetchone()[0]
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checks still deferred on the live table run now
    cursor.execute(f"DROP TABLE {table}")
    cursor.execute(f"ALTER TABLE {following} RENAME TO {table}")
    for name, _ in owned:
        cursor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {_temporary_name(table, name)} TO {name}")
    for name in indexes:
        cursor.execute(f"ALTER INDEX {_temporary_name(table, name)} RENAME TO {name}")
    # An index built beside for one that a migration dropped from the live table meanwhile.
    for name, _ in _plain_indexes(cursor, table):
        if name.endswith(NEXT):
            cursor.execute(f"DROP INDEX {name}")
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {table}_id_seq")
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition} NOT VALID")


FOREIGN_KEYS_SQL = """
    SELECT k.conname, a.attname, k.confrelid::regclass::text, fa.attname
    FROM pg_constraint k
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = k.confkey[1]
    WHERE k.conrelid = %s::regclass AND k.contype = 'f' AND NOT k.convalidated
    ORDER BY k.conname
"""


def _foreign_keys_validate(cursor, table: str) -> None:
    """Delete the rows whose reading, enrolment or norm was erased during the rebuild (they derive
    from nothing now), then validate the foreign keys added NOT VALID at the swap. Neither blocks
    writers; each delete commits on its own."""
    cursor.execute(FOREIGN_KEYS_SQL, [table])
    for name, column, referenced, referenced_column in cursor.fetchall():
        with transaction.atomic():
            cursor.execute(
                f"DELETE FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {referenced} r WHERE r.{referenced_column} = t.{column})"
            )
            cursor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
