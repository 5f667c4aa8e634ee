"""Synthetic, realistic-looking data for the benchmarks, loaded with PostgreSQL COPY.

Everything is made up. Personnummer have a valid Luhn check digit (participants.personnummer) but
are random dates and serials, not Skatteverket's test numbers and not anyone's on purpose.

The shape (per participant, seeded, reproducible):
- a förbund (weighted) and a per-person insats in it (weighted by capacity); kön 48/48/4; born 1960–2008;
  8 % anonymous (no identity, no consent, so no readings — as in the product);
- an identity record for every identified participant: a real HMAC pnr_index (so the unique
  index and duplicate search are realistic) and, for one in IDENTITY_REAL_EVERY, real Fernet tokens
  of their personnummer, name and contact; the rest carry one fixed Fernet token per field (the
  benchmarks never decrypt, and encrypting 3 × 200 000 fields would dominate the L load);
- consent to registration and progression measurement; to research for two thirds;
- one enrolment (12 % a second one later, in another insats of the förbund): start spread over the
  last 5½ years, length log-normal (median ~6 months); ended enrolments get an avslutsanledning and
  an income source after that follows it (work → no public support, studies → studiemedel, …);
- a målbildssamtal every 4–8 weeks while enrolled: a self-rating and a mentor assessment (each 95 %),
  sometimes (10 %) an agreed reading; rating answers drift upward with noise from a personal
  baseline (per dimension: baseline ~ N(4, 1.5) on the 1–10 ladder, slope ~ N(0.2, 0.2) per month,
  mentor offset ~ N(−0.3, 0.6), item noise ~ N(0, 0.9)), 2 % of ratings left unanswered, the hours
  item answered 75 % of the time, the mentor's prognosis following the ratings.

Loading: the reference data (instruments, organisations, code lists, bench users) goes through the
product's own seeds and services; the bulk rows are streamed with psycopg 3 `cursor.copy` straight
into the product's tables with ids reserved from their sequences. `fast=True` (bench/run) loads with
`session_replication_role = replica` (no per-row foreign-key triggers; the generator guarantees the
references) and rebuilds surveys_answer's secondary indexes after the load instead of maintaining
them row by row; the smoke test loads with every constraint checked.
"""

import math
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from participants import crypto
from participants.models import (
    EducationLevel,
    ExitReason,
    Forbund,
    IncomeSource,
    Insats,
    MeasurementMode,
    Membership,
    Role,
)
from participants.personnummer import luhn_check_digit
from progression import flow_counts
from surveys.models import ITEMS_ASKED_IN, InstrumentVersion, Item, ScaleKind

SCALES = {"tiny": 30, "S": 2_000, "M": 20_000, "L": 200_000}
BENCH_PASSWORD = "bench-lösenord-2026"  # noqa: S105 - a throw-away benchmark database
BENCH_COORDINATOR = "bench-samordnare"
BENCH_MENTOR = "bench-handledare"
IDENTITY_REAL_EVERY = 20
FORBUND_WEIGHTS = {"sco": 45, "flo": 30, "svo": 25}
PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INCOME_BEFORE_WEIGHTS = {
    "forsorjningsstod": 30,
    "sjukpenning_rehab": 18,
    "aktivitetsstod": 16,
    "aktivitetsersattning": 10,
    "a_kassa": 8,
    "sjukersattning": 8,
    "annan_offentlig": 4,
    "ingen_offentlig": 6,
}
EXIT_WEIGHTS = {
    "arbete": 18,
    "arbete_subventionerat": 8,
    "studier": 12,
    "arbetssokande": 15,
    "fortsatt_rehab": 20,
    "ohalsa": 8,
    "avbrott": 10,
    "flytt": 4,
    "annat": 4,
    "felregistrering": 1,
}
# Income source after, by avslutsanledning: (code or None = same as before, weight).
INCOME_AFTER = {
    "arbete": [("ingen_offentlig", 80), (None, 20)],
    "arbete_subventionerat": [("ingen_offentlig", 50), ("annan_offentlig", 30), (None, 20)],
    "studier": [("studiemedel", 85), (None, 15)],
    "arbetssokande": [("a_kassa", 35), ("aktivitetsstod", 55), (None, 10)],
    "fortsatt_rehab": [("sjukpenning_rehab", 50), (None, 50)],
    "ohalsa": [("sjukpenning_rehab", 60), ("sjukersattning", 30), (None, 10)],
    "avbrott": [(None, 100)],
    "flytt": [(None, 100)],
    "annat": [(None, 100)],
    "felregistrering": [(None, 100)],
}
EDUCATION_WEIGHTS = {
    "forgymnasial": 30,
    "gymnasial": 45,
    "eftergymnasial_kort": 10,
    "eftergymnasial_lang": 8,
    "okand": 7,
}
EXTENTS = ["1.00"] * 6 + ["0.75", "0.50", "0.50", "0.25"]
FLUSH_BYTES = 4 << 20
NULL = "\\N"  # COPY text format


@dataclass
class ItemSpec:
    id: int
    code: str
    dimension_index: int | None  # rating dimension position, None for non-rating items
    kind: str  # "rating", "hours", "prognos"
    asked_in: tuple[str, ...]


@dataclass
class World:
    """The reference data the generated rows point at."""

    forbund: dict[str, int]
    prefixes: dict[int, str]
    insatser: dict[int, list[tuple[int, int]]]  # forbund id -> [(insats id, weight)]
    version_id: int
    items: list[ItemSpec]
    rating_dimensions: int
    income: dict[str, int]
    exits: dict[str, int]
    education: dict[str, int]
    recorder_id: int
    coordinator_id: int
    mentor_id: int


@dataclass
class GenerationStats:
    participants: int = 0
    identities: int = 0
    consents: int = 0
    enrolments: int = 0
    sessions: int = 0
    answers: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# --- Reference data ----------------------------------------------------------------------------


def prepare_reference_data(*, password: str = BENCH_PASSWORD) -> World:
    """The shipped instruments and demo organisations (the product's seeds), and the bench users:
    a coordinator of every förbund (reports) and a mentor of every förbund (submissions). Idempotent."""
    from participants.demo import seed_organisations
    from surveys.demo import seed_instruments

    seed_instruments()
    if Forbund.objects.filter(code__in=FORBUND_WEIGHTS).count() != len(FORBUND_WEIGHTS):
        seed_organisations(password=password)
    users = get_user_model()
    coordinator, _ = users.objects.get_or_create(username=BENCH_COORDINATOR, defaults={"first_name": "Bench"})
    mentor, _ = users.objects.get_or_create(username=BENCH_MENTOR, defaults={"first_name": "Bench"})
    for forbund in Forbund.objects.filter(code__in=FORBUND_WEIGHTS):
        Membership.objects.get_or_create(user=coordinator, role=Role.COORDINATOR, forbund=forbund)
        Membership.objects.get_or_create(user=mentor, role=Role.MENTOR, forbund=forbund)
    return load_world()


def load_world() -> World:
    forbund = dict(Forbund.objects.filter(code__in=FORBUND_WEIGHTS).values_list("code", "id"))
    prefixes = dict(Forbund.objects.filter(code__in=FORBUND_WEIGHTS).values_list("id", "pseudonym_prefix"))
    insatser: dict[int, list[tuple[int, int]]] = {}
    for insats in Insats.objects.filter(
        forbund_id__in=forbund.values(), measurement_mode=MeasurementMode.PER_PERSON
    ).order_by("id"):
        insatser.setdefault(insats.forbund_id, []).append((insats.pk, insats.capacity or 10))
    version = (
        InstrumentVersion.objects.filter(instrument__code="stegvis-progression", status="published")
        .order_by("-number")
        .first()
    )
    rating_codes: list[str] = []
    items = []
    for item in (
        Item.objects.filter(version=version).select_related("dimension", "scale").order_by("dimension__order", "order")
    ):
        asked_in = tuple(p for p, applies in ITEMS_ASKED_IN.items() if item.applies_to in applies)
        if item.dimension.is_rating and item.scale.kind == ScaleKind.LADDER:
            if item.dimension.code not in rating_codes:
                rating_codes.append(item.dimension.code)
            items.append(ItemSpec(item.pk, item.code, rating_codes.index(item.dimension.code), "rating", asked_in))
        elif item.scale.kind == ScaleKind.NUMBER:
            items.append(ItemSpec(item.pk, item.code, None, "hours", asked_in))
        else:
            items.append(ItemSpec(item.pk, item.code, None, "prognos", asked_in))
    users = get_user_model()
    return World(
        forbund=forbund,
        prefixes=prefixes,
        insatser=insatser,
        version_id=version.pk,
        items=items,
        rating_dimensions=len(rating_codes),
        income=dict(IncomeSource.objects.values_list("code", "id")),
        exits=dict(ExitReason.objects.values_list("code", "id")),
        education=dict(EducationLevel.objects.values_list("code", "id")),
        recorder_id=users.objects.get(username=BENCH_MENTOR).pk,
        coordinator_id=users.objects.get(username=BENCH_COORDINATOR).pk,
        mentor_id=users.objects.get(username=BENCH_MENTOR).pk,
    )


# --- COPY helpers --------------------------------------------------------------------------------


def reserve_ids(table: str, count: int) -> int:
    """Reserve `count` ids from the table's identity sequence; returns the first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT GREATEST((SELECT last_value FROM {sequence}), (SELECT COALESCE(MAX(id), 0) FROM {table}))"  # noqa: S608 - our own table names
        )
        last = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, last + max(count, 1)])
    return last + 1


class CopyStream:
    """Rows (already tab-separated text lines) streamed into one COPY, flushed in large writes."""

    def __init__(self, cursor: object, table: str, columns: list[str]) -> None:
        self._context = cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
        self._copy = self._context.__enter__()
        self._parts: list[str] = []
        self._size = 0
        self.rows = 0

    def add(self, line: str) -> None:
        self._parts.append(line)
        self._size += len(line)
        self.rows += 1
        if self._size >= FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._parts:
            self._copy.write("".join(self._parts))
            self._parts, self._size = [], 0

    def close(self) -> None:
        self._flush()
        self._context.__exit__(None, None, None)


def _weighted(rng: random.Random, weights: dict[str, int]) -> Callable[[], str]:
    keys, cumulative, total = list(weights), [], 0
    for key in keys:
        total += weights[key]
        cumulative.append(total)

    def pick() -> str:
        return keys[_bisect(cumulative, rng.random() * total)]

    return pick


def _bisect(cumulative: list[float], x: float) -> int:
    low, high = 0, len(cumulative) - 1
    while low < high:
        middle = (low + high) // 2
        if cumulative[middle] > x:
            high = middle
        else:
            low = middle + 1
    return low


def pseudonym(prefix: str, participant_id: int) -> str:
    """A pseudonym in the product's shape (PREFIX-XXXX-XXXX), unique because it scrambles the id."""
    n = (participant_id * 0x9E3779B1 + 0x5BD1E995) % (1 << 40)
    chars = []
    for _ in range(8):
        chars.append(PSEUDONYM_ALPHABET[n & 31])
        n >>= 5
    return f"{prefix}-{''.join(chars[:4])}-{''.join(chars[4:])}"


def synthetic_pnr(rng: random.Random, birth_year: int) -> str:
    """Twelve digits YYYYMMDDNNNC with a valid Luhn check digit (made up)."""
    month, day, serial = rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 999)
    nine = f"{birth_year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    return f"{birth_year}{nine[2:]}{luhn_check_digit(nine)}"


# --- The people ------------------------------------------------------------------------------------


@dataclass
class _Enrolment:
    id: int
    participant_id: int
    insats_id: int
    start: date
    end: date | None
    measured: bool


def generate(
    *,
    participants: int,
    seed: int = 2026,
    today: date | None = None,
    fast: bool = False,
    progress: Callable[[str], None] = print,
    world: World | None = None,
) -> GenerationStats:
    """Generate and COPY `participants` participants with enrolments, consents, identities, readings."""
    today = today or date.today()  # noqa: DTZ011 - a calendar date
    world = world or load_world()
    rng = random.Random(seed)
    stats = GenerationStats()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if fast:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
        enrolments = _people(cursor, world, rng, participants, today, stats)
        stats.seconds["people"] = time.perf_counter() - started
        progress(
            f"  deltagare {stats.participants}, inskrivningar {stats.enrolments} ({stats.seconds['people']:.1f} s)"
        )
        dropped = _drop_answer_indexes(cursor) if fast else []
        _readings(cursor, world, rng, enrolments, today, stats, progress)
        stats.seconds["readings"] = time.perf_counter() - started - stats.seconds["people"]
        if dropped:
            index_started = time.perf_counter()
            for statement in dropped:
                cursor.execute(statement)
            stats.seconds["answer_indexes"] = time.perf_counter() - index_started
        if fast:  # no trigger ran during the load: count the enrolments once, as the rebuild does
            flow_counts.flow_counts_rebuild()
    stats.seconds["total"] = time.perf_counter() - started
    return stats


def _people(
    cursor: object, world: World, rng: random.Random, count: int, today: date, stats: GenerationStats
) -> list[_Enrolment]:
    pick_forbund = _weighted(rng, FORBUND_WEIGHTS)
    pick_income = _weighted(rng, INCOME_BEFORE_WEIGHTS)
    pick_exit = _weighted(rng, EXIT_WEIGHTS)
    pick_education = _weighted(rng, EDUCATION_WEIGHTS)
    insats_pickers = {
        forbund_id: _weighted(rng, {str(i): w for i, w in pairs}) for forbund_id, pairs in world.insatser.items()
    }
    after_pickers = {
        reason: _weighted(rng, {str(c): w for c, w in choices}) for reason, choices in INCOME_AFTER.items()
    }
    first_participant = reserve_ids("participants_participant", count)
    # At most two enrolments and three consents per participant.
    first_enrolment = reserve_ids("participants_enrolment", 2 * count)
    first_consent = reserve_ids("participants_consent", 3 * count)
    first_identity = reserve_ids("participants_identityrecord", count)
    fixed = {field_name: crypto.encrypt(f"bench-{field_name}") for field_name in ("pnr", "name", "contact")}
    participants = CopyStream(
        cursor,
        "participants_participant",
        ["id", "forbund_id", "pseudonym", "kon", "birth_year", "is_anonymous", "created_at"],
    )
    identities_rows: list[str] = []
    consents_rows: list[str] = []
    enrolment_rows: list[str] = []
    seen_pnr: set[tuple[int, str]] = set()
    enrolments: list[_Enrolment] = []
    span_days = int(5.5 * 365)
    next_enrolment, next_consent, next_identity = first_enrolment, first_consent, first_identity
    for index in range(count):
        participant_id = first_participant + index
        forbund_id = world.forbund[pick_forbund()]
        kon = rng.choices(("kvinna", "man", "annat"), weights=(48, 48, 4))[0]
        birth_year = rng.randint(1960, 2008)
        anonymous = rng.random() < 0.08
        start = today - timedelta(days=rng.randint(7, span_days))
        start = max(start, date(birth_year + 16, 1, 1))
        if start > today - timedelta(days=7):
            start = today - timedelta(days=7)
        created = f"{start.isoformat()} 08:00:00+00"
        participants.add(
            f"{participant_id}\t{forbund_id}\t{pseudonym(world.prefixes[forbund_id], participant_id)}\t{kon}\t"
            f"{birth_year}\t{'t' if anonymous else 'f'}\t{created}\n"
        )
        if not anonymous:
            while True:
                pnr = synthetic_pnr(rng, birth_year)
                if (forbund_id, pnr) not in seen_pnr:
                    seen_pnr.add((forbund_id, pnr))
                    break
            if index % IDENTITY_REAL_EVERY == 0:
                tokens = (
                    crypto.encrypt(pnr),
                    crypto.encrypt(f"Bench Testsson {index}"),
                    crypto.encrypt("070-000 00 00"),
                )
            else:
                tokens = (fixed["pnr"], fixed["name"], fixed["contact"])
            identities_rows.append(
                f"{next_identity}\t{participant_id}\t{forbund_id}\t{crypto.pnr_index(pnr)}\t{tokens[0]}\t{tokens[1]}\t"
                f"{tokens[2]}\t{created}\t{created}\n"
            )
            next_identity += 1
            purposes = ["registration", "progression"] + (["research"] if rng.random() < 2 / 3 else [])
            for purpose in purposes:
                consents_rows.append(
                    f"{next_consent}\t{participant_id}\t{purpose}\tt\t\t2026-1\twritten\tf\t{world.recorder_id}\t{created}\n"
                )
                next_consent += 1
        insats_id = int(insats_pickers[forbund_id]())
        while True:
            duration = min(max(int(rng.lognormvariate(math.log(180), 0.6)), 30), 900)
            end = start + timedelta(days=duration)
            closed = end < today
            enrolment_id = next_enrolment
            next_enrolment += 1
            before = pick_income()
            row = [
                str(enrolment_id),
                str(participant_id),
                str(insats_id),
                start.isoformat(),
                end.isoformat() if closed else "\\N",
                str(world.income[before]),
                rng.choice(EXTENTS),
                str(world.education[pick_education()]),
                f"{rng.randint(0, 150) / 10:.1f}",
            ]
            if closed:
                reason = pick_exit()
                after = after_pickers[reason]()
                after = before if after == "None" else after
                row += [str(world.exits[reason]), str(world.income[after]), "1.00" if rng.random() < 0.85 else "0.50"]
            else:
                row += ["\\N", "\\N", "\\N"]
            row.append(f"{start.isoformat()} 08:00:00+00")
            enrolment_rows.append("\t".join(row) + "\n")
            enrolments.append(
                _Enrolment(enrolment_id, participant_id, insats_id, start, end if closed else None, not anonymous)
            )
            if not closed or rng.random() >= 0.12 or len(world.insatser[forbund_id]) < 2:
                break
            # A later enrolment in another insats of the same förbund.
            start = end + timedelta(days=rng.randint(0, 60))
            if start >= today - timedelta(days=7):
                break
            others = [i for i, _ in world.insatser[forbund_id] if i != insats_id]
            insats_id = rng.choice(others)
    participants.close()
    for table, columns, rows in (
        (
            "participants_identityrecord",
            [
                "id",
                "participant_id",
                "forbund_id",
                "pnr_index",
                "personnummer_encrypted",
                "name_encrypted",
                "contact_encrypted",
                "created_at",
                "updated_at",
            ],
            identities_rows,
        ),
        (
            "participants_consent",
            [
                "id",
                "participant_id",
                "purpose",
                "granted",
                "member_authority",
                "text_version",
                "channel",
                "guardian_consent",
                "recorded_by_id",
                "recorded_at",
            ],
            consents_rows,
        ),
        (
            "participants_enrolment",
            [
                "id",
                "participant_id",
                "insats_id",
                "start_date",
                "end_date",
                "income_before_id",
                "income_before_extent",
                "education_id",
                "years_in_public_support",
                "exit_reason_id",
                "income_after_id",
                "income_after_extent",
                "created_at",
            ],
            enrolment_rows,
        ),
    ):
        stream = CopyStream(cursor, table, columns)
        for line in rows:
            stream.add(line)
        stream.close()
    stats.participants = count
    stats.identities = len(identities_rows)
    stats.consents = len(consents_rows)
    stats.enrolments = len(enrolments)
    return enrolments


def _conversation_days(rng: random.Random, enrolment: _Enrolment, today: date) -> Iterator[date]:
    last = enrolment.end or today - timedelta(days=1)
    day = enrolment.start + timedelta(days=rng.randint(3, 14))
    while day <= last:
        yield day
        day += timedelta(days=rng.randint(28, 56))


def _readings(
    cursor: object,
    world: World,
    rng: random.Random,
    enrolments: list[_Enrolment],
    today: date,
    stats: GenerationStats,
    progress: Callable[[str], None],
) -> None:
    measured = [e for e in enrolments if e.measured]
    # Count first so that ids can be reserved in one go (same seed → same days).
    plans: list[tuple[_Enrolment, list[tuple[date, tuple[str, ...]]]]] = []
    session_count = 0
    for enrolment in measured:
        days = []
        for day in _conversation_days(rng, enrolment, today):
            perspectives = tuple(
                p for p, chance in (("self", 0.95), ("mentor", 0.95), ("agreed", 0.10)) if rng.random() < chance
            )
            days.append((day, perspectives))
            session_count += len(perspectives)
        plans.append((enrolment, days))
    first_session = reserve_ids("surveys_assessmentsession", session_count)
    # Items per session ≤ the number of items; reserve the upper bound, the gaps are harmless.
    first_answer = reserve_ids("surveys_answer", session_count * len(world.items))
    sessions = CopyStream(
        cursor,
        "surveys_assessmentsession",
        [
            "id",
            "enrolment_id",
            "version_id",
            "perspective",
            "language",
            "client_uuid",
            "status",
            "occurred_at",
            "recorded_by_id",
            "consent_withdrawn",
            "submitted_at",
            "created_at",
            "updated_at",
        ],
    )
    session_id = first_session
    version_id, recorder = world.version_id, str(world.recorder_id)
    randint = rng.randint
    for enrolment, days in plans:
        for day, perspectives in days:
            stamp = f"{day.isoformat()} {9 + randint(0, 6):02d}:{randint(0, 59):02d}:00+00"
            for perspective in perspectives:
                who = NULL if perspective == "self" else recorder
                sessions.add(
                    f"{session_id}\t{enrolment.id}\t{version_id}\t{perspective}\tsv\t"
                    f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\tsubmitted\t{stamp}\t"
                    f"{who}\tf\t{stamp}\t{stamp}\t{stamp}\n"
                )
                session_id += 1
    sessions.close()
    stats.sessions = sessions.rows
    progress(f"  bedömningar {stats.sessions}")
    # The answers in a second pass over the same plan (one COPY per connection at a time), with
    # their own random stream, so nothing but the plan is held in memory.
    values = random.Random(rng.getrandbits(64))
    gauss, rand = values.gauss, values.random
    answers = CopyStream(cursor, "surveys_answer", ["id", "session_id", "item_id", "value"])
    session_id, answer_id = first_session, first_answer
    dims = world.rating_dimensions
    items_by_perspective = {p: [i for i in world.items if p in i.asked_in] for p in ("self", "mentor", "agreed")}
    for enrolment, days in plans:
        base = [gauss(4.0, 1.5) for _ in range(dims)]
        slope = [gauss(0.2, 0.2) for _ in range(dims)]
        offset = [gauss(-0.3, 0.6) for _ in range(dims)]
        for day, perspectives in days:
            months = (day - enrolment.start).days / 30.0
            for perspective in perspectives:
                shift = 0.0 if perspective == "self" else 1.0 if perspective == "mentor" else 0.5
                mus = [base[d] + slope[d] * months + shift * offset[d] for d in range(dims)]
                level = sum(mus) / dims
                for item in items_by_perspective[perspective]:
                    if item.kind == "rating":
                        if rand() < 0.02:
                            value = "\\N"
                        else:
                            v = round(mus[item.dimension_index] + gauss(0, 0.9))
                            value = str(1 if v < 1 else 10 if v > 10 else v)
                    elif item.kind == "hours":
                        if rand() >= 0.75:
                            continue
                        v = round(level * 3 + gauss(0, 4))
                        value = str(0 if v < 0 else 60 if v > 60 else v)
                    else:
                        v = 1 + int((level - 2) / 2 + gauss(0, 0.5))
                        value = str(1 if v < 1 else 4 if v > 4 else v)
                    answers.add(f"{answer_id}\t{session_id}\t{item.id}\t{value}\n")
                    answer_id += 1
                session_id += 1
    answers.close()
    stats.answers = answers.rows
    progress(f"  svar {stats.answers}")


def _drop_answer_indexes(cursor: object) -> list[str]:
    """Drop surveys_answer's secondary indexes and unique constraint; returns the statements that
    put them back exactly (pg_get_indexdef / pg_get_constraintdef). The primary key stays."""
    cursor.execute(
        """
        SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        WHERE c.conrelid = 'surveys_answer'::regclass AND c.contype = 'u'
        """
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = 'surveys_answer'::regclass AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """
    )
    indexes = cursor.fetchall()
    restore = []
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE surveys_answer DROP CONSTRAINT "{name}"')
        restore.append(f'ALTER TABLE surveys_answer ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
        restore.append(definition)
    return restore
