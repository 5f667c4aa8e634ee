"""Enrolment counts per insats, month and kön, so that the participant flow, exits and income
reports read a few thousand summed rows instead of a förbund's enrolments (issue #22).

Two derived tables, declared here once:

- `progression_enrolmentmonth`: per insats, calendar month, event (`EVENTS`), kön and anonymity,
  the number of enrolments and the sum of their record keys; and of those, the enrolments of people
  with only one counted enrolment (`n_single`) with the sum of the people's record keys. A period of
  whole months is then sums: enrolments open in the period are those started by its last month less
  those ended before its first month, and so on (`FLOW_LINES`).
- `progression_repeatenrolment`: every counted enrolment of a person with more than one, so that
  the distinct persons of a period are the single ones summed plus these counted distinctly.

Felregistreringar (an exit reason excluded from reports) are never counted, as in the row path.

Every write to enrolments, to a participant's kön, anonymity or record key and to an exit reason's
exclusion goes through many paths (services, the import, the admin, erasure): PostgreSQL triggers,
one statement each, keep the tables current for all of them (`TRIGGERS_SQL`, installed by migration
0016). An enrolment trigger locks the people it touches (so that concurrent writes for one person
take turns) and appends to the cube the difference between their enrolments as they were and as
they are: rows are appended, never updated, so writers for different people never wait for each
other; `flow_counts_compact` (a beat task) sums a key's rows into one. The rebuild writes both
tables again from the enrolments (`flow_counts_rebuild`), and a test holds the maintained tables
equal to a rebuild after every kind of write. Not counted: a single statement that both inserts
and updates enrolments of one person (`INSERT … ON CONFLICT DO UPDATE`, a writable CTE); nothing
in Stegvis writes enrolments so.

The reports read these tables only where they give the row path's figures exactly: on PostgreSQL,
for a period of whole months, without an age band (`usable`). On SQLite (the embedded default)
there are no triggers and the reports read the rows.
"""

from calendar import monthrange
from datetime import date
from typing import Any

from django.db import connection

from config.replica import reading_connection
from progression.reports.filters import ReportFilter

CUBE = "progression_enrolmentmonth"
REPEAT = "progression_repeatenrolment"
CUBE_KEY = "insats_id, month, event, kon, is_anonymous, exit_reason_id, income_before_id, income_after_id"
CUBE_SUMS = ["n", "key_sum", "n_single", "person_key_single"]
ENROLMENT_COLUMNS = (
    "id, participant_id, insats_id, start_date, end_date, exit_reason_id, income_before_id, income_after_id, record_key"
)
PEOPLE = "SELECT id, kon, is_anonymous, record_key FROM participants_participant"
ENROLMENTS = f"SELECT {ENROLMENT_COLUMNS} FROM participants_enrolment"


def _counted(enrolments: str, people: str) -> str:
    """The counted enrolments among `enrolments` (which hold every enrolment of their people), with
    the person's kön, anonymity, record key and number of counted enrolments."""
    return f"""
        SELECT e.id, e.participant_id, e.insats_id, e.start_date, e.end_date, e.exit_reason_id,
               e.income_before_id, e.income_after_id, e.record_key, p.kon, p.is_anonymous, p.record_key AS person_key,
               count(*) OVER (PARTITION BY e.participant_id) AS person_enrolments
        FROM ({enrolments}) e
        JOIN ({people}) p ON p.id = e.participant_id
        LEFT JOIN participants_exitreason x ON x.id = e.exit_reason_id
        WHERE x.excluded_from_reports IS NOT TRUE"""


# The cube's events: what each enrolment adds, in its start's or its end's month, with the key
# columns its report groups by (the others 0), so that each report sums only rows of its own grain.
EVENTS = {
    "start": ("start_date", "0", "0", "0"),  # participant flow
    "end": ("end_date", "0", "0", "0"),  # participant flow
    "exit": ("end_date", "coalesce(exit_reason_id, 0)", "0", "0"),  # exits
    "income": ("end_date", "0", "coalesce(income_before_id, 0)", "coalesce(income_after_id, 0)"),  # income
}


def _cube_rows(counted: str, sign: int) -> str:
    """The cube's rows for these counted enrolments, times sign (−1 takes them out)."""
    sums = f"""{sign} * count(*), {sign} * sum(record_key),
               {sign} * count(*) FILTER (WHERE person_enrolments = 1),
               {sign} * coalesce(sum(person_key) FILTER (WHERE person_enrolments = 1), 0)"""
    events = " UNION ALL ".join(
        f"SELECT insats_id, date_trunc('month', {day})::date, '{event}', kon, is_anonymous, {reason}, {before}, "
        f"{after}, {sums} FROM c WHERE {day} IS NOT NULL GROUP BY 1, 2, 4, 5, 6, 7, 8"
        for event, (day, reason, before, after) in EVENTS.items()
    )
    return f"WITH c AS MATERIALIZED ({counted}) {events}"


def _cube_move(before: str, after: str) -> str:
    """Append to the cube what `after` counts less what `before` counted, one row per key whose
    difference is not zero. Appended, never updated: writers for different people never wait for
    each other's rows (readers sum, and `flow_counts_compact` sums the rows of a key into one)."""
    columns = ", ".join(CUBE_SUMS)
    return f"""
        INSERT INTO {CUBE} ({CUBE_KEY}, {columns})
        SELECT {CUBE_KEY}, {", ".join(f"sum({c})" for c in CUBE_SUMS)}
        FROM (({_cube_rows(before, -1)}) UNION ALL ({_cube_rows(after, 1)}))
             AS d ({CUBE_KEY}, {columns})
        GROUP BY {CUBE_KEY}
        HAVING {" OR ".join(f"sum({c}) <> 0" for c in CUBE_SUMS)}"""


def _repeat_rows(counted: str) -> str:
    return f"""
        INSERT INTO {REPEAT} (enrolment_id, participant_id, insats_id, start_date, end_date, kon, is_anonymous,
                              person_key)
        SELECT id, participant_id, insats_id, start_date, end_date, kon, is_anonymous, person_key
        FROM ({counted}) c WHERE person_enrolments > 1"""


def _enrolments_of(people: str) -> str:
    return f"{ENROLMENTS} WHERE participant_id IN ({people})"


def _enrolment_trigger_function(operation: str) -> str:
    """The trigger function after an INSERT, UPDATE or DELETE statement on enrolments: the people
    it touched, locked, move from their enrolments as they were to as they are."""
    old = "SELECT * FROM old_rows" if operation != "insert" else f"{ENROLMENTS} WHERE false"
    new = "SELECT * FROM new_rows" if operation != "delete" else f"{ENROLMENTS} WHERE false"
    touched = f"SELECT participant_id FROM ({old}) o UNION SELECT participant_id FROM ({new}) n"
    before = (
        f"{_enrolments_of(touched)} AND id NOT IN (SELECT id FROM ({new}) n) "
        f"UNION ALL SELECT {ENROLMENT_COLUMNS} FROM ({old}) o"
    )
    after = _enrolments_of(touched)
    return f"""
CREATE OR REPLACE FUNCTION progression_enrolment_counts_{operation}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM participants_participant WHERE id IN ({touched}) ORDER BY id FOR NO KEY UPDATE;
    {_cube_move(_counted(before, PEOPLE), _counted(after, PEOPLE))};
    DELETE FROM {REPEAT} WHERE participant_id IN ({touched});
    {_repeat_rows(_counted(after, PEOPLE))};
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS progression_enrolment_counts_{operation} ON participants_enrolment;
CREATE TRIGGER progression_enrolment_counts_{operation} AFTER {operation.upper()} ON participants_enrolment
    REFERENCING {"OLD TABLE AS old_rows" if operation != "insert" else ""}
                {"NEW TABLE AS new_rows" if operation != "delete" else ""}
    FOR EACH STATEMENT EXECUTE FUNCTION progression_enrolment_counts_{operation}();
"""


# A person's kön, anonymity or record key changed (a kön corrected): their enrolments move between groups.
_CHANGED_PEOPLE = (
    "SELECT o.id FROM old_people o JOIN new_people n ON n.id = o.id "
    "WHERE (o.kon, o.is_anonymous, o.record_key) IS DISTINCT FROM (n.kon, n.is_anonymous, n.record_key)"
)
_PEOPLE_BEFORE = _counted(_enrolments_of(_CHANGED_PEOPLE), "SELECT id, kon, is_anonymous, record_key FROM old_people")
_PEOPLE_AFTER = _counted(_enrolments_of(_CHANGED_PEOPLE), PEOPLE)
PEOPLE_TRIGGER = f"""
CREATE OR REPLACE FUNCTION progression_enrolment_counts_people() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_cube_move(_PEOPLE_BEFORE, _PEOPLE_AFTER)};
    DELETE FROM {REPEAT} WHERE participant_id IN ({_CHANGED_PEOPLE});
    {_repeat_rows(_PEOPLE_AFTER)};
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS progression_enrolment_counts_people ON participants_participant;
CREATE TRIGGER progression_enrolment_counts_people AFTER UPDATE ON participants_participant
    REFERENCING OLD TABLE AS old_people NEW TABLE AS new_people
    FOR EACH STATEMENT EXECUTE FUNCTION progression_enrolment_counts_people();
"""

# Everything again from the enrolments: the rebuild, and a change of which exit reasons are excluded.
# The lock waits for the writers under way and holds new ones back for the two statements (about
# two seconds at 200 000 participants); the caller runs it in a transaction of its own.
REBUILD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION progression_enrolment_counts_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE {CUBE}, {REPEAT} IN SHARE ROW EXCLUSIVE MODE;
    WITH gone AS (DELETE FROM {CUBE})
    INSERT INTO {CUBE} ({CUBE_KEY}, {", ".join(CUBE_SUMS)}) {_cube_rows(_counted(ENROLMENTS, PEOPLE), 1)};
    DELETE FROM {REPEAT};
    {_repeat_rows(_counted(ENROLMENTS, PEOPLE))};
END $$;
CREATE OR REPLACE FUNCTION progression_enrolment_counts_exit_reasons() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_reasons o JOIN new_reasons n ON n.id = o.id
        WHERE o.excluded_from_reports IS DISTINCT FROM n.excluded_from_reports
    ) THEN
        PERFORM progression_enrolment_counts_rebuild();
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS progression_enrolment_counts_exit_reasons ON participants_exitreason;
CREATE TRIGGER progression_enrolment_counts_exit_reasons AFTER UPDATE ON participants_exitreason
    REFERENCING OLD TABLE AS old_reasons NEW TABLE AS new_reasons
    FOR EACH STATEMENT EXECUTE FUNCTION progression_enrolment_counts_exit_reasons();
CREATE OR REPLACE FUNCTION progression_enrolment_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {CUBE};
    DELETE FROM {REPEAT};
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS progression_enrolment_counts_truncate ON participants_enrolment;
CREATE TRIGGER progression_enrolment_counts_truncate AFTER TRUNCATE ON participants_enrolment
    FOR EACH STATEMENT EXECUTE FUNCTION progression_enrolment_counts_truncate();
"""

TRIGGERS_SQL = "".join(_enrolment_trigger_function(op) for op in ("insert", "update", "delete")) + (
    PEOPLE_TRIGGER + REBUILD_FUNCTION
)


def flow_counts_rebuild() -> int:
    """Write both tables again from the enrolments (the rebuild, after its summaries phase); the
    number of cube rows. Nothing on SQLite, where the reports read the rows."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT progression_enrolment_counts_rebuild()")
        cursor.execute(f"ANALYZE {CUBE}, {REPEAT}")
        cursor.execute(f"SELECT count(*) FROM {CUBE}")
        return cursor.fetchone()[0]


# One statement, one snapshot: the rows it deletes are exactly the rows it sums, and rows appended
# meanwhile by writers it does not see are left as they are.
COMPACT_SQL = f"""
    WITH gone AS (DELETE FROM {CUBE} RETURNING {CUBE_KEY}, {", ".join(CUBE_SUMS)})
    INSERT INTO {CUBE} ({CUBE_KEY}, {", ".join(CUBE_SUMS)})
    SELECT {CUBE_KEY}, {", ".join(f"sum({c})" for c in CUBE_SUMS)} FROM gone GROUP BY {CUBE_KEY}
    HAVING {" OR ".join(f"sum({c}) <> 0" for c in CUBE_SUMS)}
"""


def flow_counts_compact() -> int:
    """Sum the rows the writers appended into one row per key (a beat task, every ten minutes);
    the number of rows left. Nothing on SQLite."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(COMPACT_SQL)
        return cursor.rowcount


# --- Reading ---------------------------------------------------------------------------------------


def _last_day(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def usable(filters: ReportFilter) -> bool:
    """Whether the counts give the row path's figures for this selection: a period of whole months,
    no age band (ages are not counted), PostgreSQL (triggers keep the counts)."""
    return (
        connection.vendor == "postgresql"
        and not filters.age_band
        and filters.date_from.day == 1
        and filters.date_to == _last_day(filters.date_to)
    )


# Each line of the participant flow from the cube's sums up to the period's last month, per
# (event, anonymous, in the period or before it): the parts added and the parts taken away.
Part = tuple[str, bool, bool | None]  # (event, anonymous, in the period; None: either)
FLOW_LINES: dict[str, tuple[list[Part], list[Part]]] = {
    # open some day of the period: started by its last month, less those ended before its first
    "registrations": ([("start", False, None)], [("end", False, False)]),
    "anonymous": ([("start", True, None)], [("end", True, False)]),
    "started": ([("start", False, True)], []),
    "ended": ([("end", False, True)], []),
    "active_at_end": ([("start", False, None)], [("end", False, None)]),
}


def _line(sums: dict[tuple[str, bool, bool], list[int]], line: str, column: int) -> int:
    added, taken = FLOW_LINES[line]

    def total(parts: list[Part]) -> int:
        return sum(
            values[column]
            for (event, anonymous, in_period), values in sums.items()
            for want_event, want_anonymous, want_in_period in parts
            if (event, anonymous) == (want_event, want_anonymous) and want_in_period in (None, in_period)
        )

    return total(added) - total(taken)


def _selection(filters: ReportFilter, insats_ids: list[int]) -> tuple[str, dict[str, Any]]:
    where = "insats_id = ANY(%(insatser)s)" + (" AND kon = %(kon)s" if filters.kon else "")
    return where, {
        "insatser": insats_ids,
        "kon": filters.kon,
        "first": filters.date_from,
        "last": filters.date_to.replace(day=1),
        "date_from": filters.date_from,
        "date_to": filters.date_to,
    }


def flow_groups(filters: ReportFilter, insats_ids: list[int]) -> list[dict[str, Any]]:
    """The participant flow's lines per kön, as the row path's grouped query gives them:
    {"participant__kon", "<line>_n", "<line>_key", …, "unique_persons_n", "unique_persons_key"}.
    One statement: the cube's sums per kön, event, anonymity and whether in the period or before,
    and the people with more than one enrolment open in the period, each counted once."""
    where, params = _selection(filters, insats_ids)
    with reading_connection().cursor() as cursor:
        cursor.execute(
            f"""SELECT kon, event, is_anonymous, month >= %(first)s, sum(n), sum(key_sum), sum(n_single),
                       sum(person_key_single)
            FROM {CUBE} WHERE {where} AND event IN ('start', 'end') AND month <= %(last)s GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT kon, 'repeat', false, true, count(*), sum(person_key), 0, 0 FROM (
                SELECT DISTINCT participant_id, kon, person_key FROM {REPEAT}
                WHERE {where} AND NOT is_anonymous AND start_date <= %(date_to)s
                AND (end_date IS NULL OR end_date >= %(date_from)s)
            ) people GROUP BY kon""",
            params,
        )
        rows = cursor.fetchall()
    sums: dict[str, dict[tuple[str, bool, bool], list[int]]] = {}
    for kon, event, anonymous, in_period, *values in rows:
        sums.setdefault(kon, {})[(event, anonymous, in_period)] = [int(value) for value in values]
    result = []
    for kon, of_kon in sorted(sums.items()):
        group: dict[str, Any] = {"participant__kon": kon}
        for line in FLOW_LINES:
            group[f"{line}_n"], group[f"{line}_key"] = _line(of_kon, line, 0), _line(of_kon, line, 1)
        # People with one counted enrolment open in the period (n_single and person_key_single, summed
        # as registrations are), and people with more (repeat), each once.
        repeated = of_kon.get(("repeat", False, True), [0, 0])
        group["unique_persons_n"] = _line(of_kon, "registrations", 2) + repeated[0]
        group["unique_persons_key"] = _line(of_kon, "registrations", 3) + repeated[1]
        result.append(group)
    return result


def _ended_groups(
    filters: ReportFilter, insats_ids: list[int], event: str, columns: list[str]
) -> list[tuple[Any, ...]]:
    """The identified enrolments ended in the period per the event's columns and kön: (*values,
    kön, n, key sum), a value 0 (not given) as None, as the row path's grouped queries give them."""
    where, params = _selection(filters, insats_ids)
    given = ", ".join(f"nullif({column}, 0)" for column in columns)
    with reading_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT {given}, kon, sum(n), sum(key_sum) FROM {CUBE} WHERE {where} AND event = %(event)s "
            f"AND NOT is_anonymous AND month BETWEEN %(first)s AND %(last)s "
            f"GROUP BY {', '.join(str(i) for i in range(1, len(columns) + 2))} HAVING sum(n) <> 0",
            params | {"event": event},
        )
        return cursor.fetchall()


def income_groups(filters: ReportFilter, insats_ids: list[int]) -> list[dict[str, Any]]:
    """For the income report: {"income_before_id", "income_after_id", "participant__kon", "n", "key"}."""
    return [
        {"income_before_id": before, "income_after_id": after, "participant__kon": kon, "n": n, "key": key}
        for before, after, kon, n, key in _ended_groups(
            filters, insats_ids, "income", ["income_before_id", "income_after_id"]
        )
    ]


def exit_groups(filters: ReportFilter, insats_ids: list[int]) -> list[dict[str, Any]]:
    """For the exits report: {"exit_reason_id", "participant__kon", "n", "key"}."""
    return [
        {"exit_reason_id": reason, "participant__kon": kon, "n": n, "key": key}
        for reason, kon, n, key in _ended_groups(filters, insats_ids, "exit", ["exit_reason_id"])
    ]
