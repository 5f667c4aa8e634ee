"""Property-based fuzzing of every API operation from the OpenAPI schema (schemathesis), as a mentor and
as a coordinator, over real HTTP against pytest-django's live server with data in the user's scope.

Each (role, operation) gets STEGVIS_FUZZ_EXAMPLES requests (default 25; docs/reliability.md has the
long run), the same ones on every run unless STEGVIS_FUZZ_SEED (default 0) changes. A request is one of
three kinds:

- raw: what schemathesis generates from the schema, valid or invalid (wrong types, missing fields…);
- grounded: a valid request whose path parameters and reference fields (pseudonym, enrolment, insats,
  mentor, code lists, dates, answers…) are real objects in the user's scope, so that it reaches the
  code behind the lookups and, where the role may act, succeeds;
- foreign: a grounded request pointed at objects in another förbund.

Every answer must be no server error and have a documented status code, content type and body. A
foreign request must never succeed, nor may a role succeed where it may not act at all (NO_SUCCESS);
everywhere else some requests must succeed, so the run cannot pass by answering 404 to everything.
"""

import itertools
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from pytest_django.live_server_helper import LiveServer
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.celery import app as celery_app
from participants.api_keys import api_key_create
from participants.models import Role
from participants.services import enrolment_create, participant_register
from progression import goals
from surveys.sessions import session_submit
from tests.api.openapi import schema_operations
from tests.database import reseed_migration_data, restore_migrated_database
from tests.factories import (
    education_level,
    exit_reason,
    income_source,
    operator,
    register_identified,
    registry_world,
    synthetic_personnummer,
    user_with_role,
)
from tests.surveys.factories import progression_consent, shipped_version, valid_answers

FUZZ_EXAMPLES = int(os.environ.get("STEGVIS_FUZZ_EXAMPLES", "25"))
# A fixed seed: CI never fails by chance, and a failure replays with the same seed.
FUZZ_SEED = int(os.environ.get("STEGVIS_FUZZ_SEED", "0"))

# The document /api/schema/ serves, generated in process (no database needed) so that each operation
# is a test of its own.
RAW_SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
# The key comes from our own header; schemathesis need not invent credentials.
SCHEMA = schemathesis.openapi.from_dict(
    RAW_SCHEMA, config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
)
OPERATIONS = sorted(schema_operations(RAW_SCHEMA), key=lambda op: (op[1], op[0]))
WRITES = [op for op in OPERATIONS if op[0] == "POST"]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

ROLES = ["mentor", "coordinator"]
ADMIN_ONLY = {
    ("GET", "/api/v1/deltagare/{pseudonym}/registerutdrag/"),
    ("POST", "/api/v1/deltagare/{pseudonym}/radering/"),
}
# Where a role may not act at all: no request may succeed. Everywhere else some must.
NO_SUCCESS = {
    "mentor": ADMIN_ONLY | {("GET", "/api/v1/rapporter/{name}/")},
    "coordinator": ADMIN_ONLY | set(WRITES),  # reads only
}

# Path parameters and fields that name an object in a förbund: "foreign" requests swap them for
# objects in the other one.
SCOPED_PATH_PARAMETERS = {"pseudonym", "enrolment_id", "session_uuid", "insats_code"}
SCOPED_FIELDS = {"forbund", "insats", "enrolment", "mentor"}

# For the test database (pytest-django creates it for tests that ask) and database access while each
# test runs, which the server's threads share. The transaction the marker wraps a test in holds none
# of our data: the module's fixtures commit it, and the server's threads commit what they write.
pytestmark = pytest.mark.django_db


# --- The server and the data: one world per module, committed --------------------------------------
#
# pytest-django's live_server fixture makes every test that uses it transactional: a flush of every
# table after each test, and the world rebuilt before the next, 2.5 s a test here. So this module runs
# the same server (pytest-django's LiveServer) once, builds the world once, and flushes once at the end.
# Each test of a write acts on objects of its own (world.fresh), so that no test depends on what
# another test's requests changed.


@pytest.fixture(scope="module")
def server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """pytest-django's live server on the test database, for this module; the data it sees is
    committed, and the module ends with a flush that leaves the database as migrations left it (as
    tests/e2e/conftest.py does after its browser tests)."""

    live = LiveServer("localhost")
    live._live_server_modified_settings.enable()
    try:
        yield live
    finally:
        live._live_server_modified_settings.disable()
        live.stop()
        with django_db_blocker.unblock():
            restore_migrated_database()


_serials = itertools.count(300)


def _identified(forbund: Any, by: Any, insats: Any | None, *, closed: bool = False) -> SimpleNamespace:
    """A registered person with consent to progression measurement, enrolled in `insats` (if any)."""
    today = timezone.localdate()
    personnummer = synthetic_personnummer(date(1990, 4, 17), f"{next(_serials) % 1000:03d}")
    participant = register_identified(forbund=forbund, by=by, personnummer=personnummer)
    progression_consent(participant, by=by, granted=True)
    if insats is None:
        return SimpleNamespace(participant=participant, personnummer=personnummer, enrolment=None)
    enrolment = enrolment_create(
        by=operator(),
        participant=participant,
        insats=insats,
        start_date=today - timedelta(days=200 if closed else 60),
        mentor=by,
        income_before=income_source(),
        education=education_level(),
        end_date=today - timedelta(days=100) if closed else None,
        exit_reason=exit_reason() if closed else None,
    )
    return SimpleNamespace(participant=participant, personnummer=personnummer, enrolment=enrolment)


def _reading(enrolment: Any, version: Any, by: Any, days_ago: int, perspective: str = "mentor") -> str:
    session, _ = session_submit(
        client_uuid=uuid.uuid4(),
        enrolment=enrolment,
        version=version,
        perspective=perspective,
        answers=valid_answers(version, perspective),
        recorded_by=by,
        occurred_at=timezone.localtime() - timedelta(days=days_ago),
    )
    return str(session.client_uuid)


@pytest.fixture(scope="module")
def world(server: LiveServer, django_db_blocker: Any) -> SimpleNamespace:
    """registry_world() with, in Jonsbo (förbund sco): a measured participant (consent, open enrolment,
    four scored readings, a målbild with a delmål and a step), a participant whose enrolment is closed,
    an anonymous one not yet enrolled, and a second mentor; in Natursteget (förbund svo): a measured
    participant, out of everyone's scope here. API keys for mentor_jonsbo and coordinator_sco."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # score the readings now, as tests/conftest.py does per test
    try:
        with django_db_blocker.unblock():
            reseed_migration_data()
            w = registry_world()
            w.version = shipped_version()
            w.second_mentor = user_with_role(Role.MENTOR, insats=w.jonsbo, username="mentor-jonsbo-2")
            w.measured = _identified(w.sco, w.mentor_jonsbo, w.jonsbo)
            w.sessions = [_reading(w.measured.enrolment, w.version, w.mentor_jonsbo, days) for days in (40, 20, 1)]
            w.sessions.append(_reading(w.measured.enrolment, w.version, w.mentor_jonsbo, 1, perspective="self"))
            goal = goals.goal_set(enrolment=w.measured.enrolment, text="Arbeta i ett kök", by=w.mentor_jonsbo)
            goals.milestone_add(goal=goal, text="Praktik två dagar i veckan", target_date=None, by=w.mentor_jonsbo)
            goals.action_step_add(
                goal=goal, what="Ringa restaurangen", who="Deltagaren", due_date=None, by=w.mentor_jonsbo
            )
            w.closed = _identified(w.sco, w.mentor_jonsbo, w.jonsbo, closed=True)
            w.anonymous = participant_register(
                forbund=w.sco, registered_by=w.mentor_jonsbo, kon="man", anonymous=True, birth_year=1985
            )
            w.foreign = _identified(w.svo, w.mentor_natursteget, w.natursteget)
            w.foreign_session = _reading(w.foreign.enrolment, w.version, w.mentor_natursteget, 3)
            w.keys = {
                "mentor": api_key_create(user=w.mentor_jonsbo)[1],
                "coordinator": api_key_create(user=w.coordinator_sco)[1],
            }
            # Objects of its own for each test of a write: a participant enrolled in Jonsbo (with
            # consent), and one registered but not enrolled anywhere.
            w.fresh = [
                SimpleNamespace(
                    enrolled=_identified(w.sco, w.mentor_jonsbo, w.jonsbo),
                    registered=_identified(w.sco, w.mentor_jonsbo, None).participant,
                )
                for _ in range(len(WRITES) * len(ROLES))
            ]
    finally:
        celery_app.conf.task_always_eager = eager
    return w


def _in_scope(world: SimpleNamespace, fresh: SimpleNamespace | None) -> dict[str, list]:
    """What a grounded request puts in a path parameter or field of that name: objects in both roles'
    scope that a mentor of Jonsbo may act on; a write acts on objects of its own (`fresh`)."""
    today = timezone.localdate().isoformat()
    if fresh is None:
        pseudonyms = [world.measured.participant, world.closed.participant, world.anonymous]
        enrolment = world.measured.enrolment
    else:
        pseudonyms = [fresh.enrolled.participant, fresh.registered, world.anonymous]
        enrolment = fresh.enrolled.enrolment
    return {
        "pseudonym": [participant.pseudonym for participant in pseudonyms],
        "enrolment_id": [enrolment.pk],
        "enrolment": [enrolment.pk],
        "session_uuid": world.sessions,
        "insats_code": ["jonsbo"],
        "instrument_code": [world.version.instrument.code],
        "forbund": ["sco"],
        "insats": ["jonsbo"],
        "mentor": [world.second_mentor.username],
        "income_before": ["forsorjningsstod", "a_kassa"],
        "income_after": ["ingen_offentlig", "studiemedel"],
        "education": ["gymnasial"],
        "exit_reason": ["arbete", "felregistrering"],
        "start_date": [today],
        "end_date": [today],
        "from_date": [today],
        # A new person, and one already registered (409).
        "personnummer": [
            synthetic_personnummer(date(1987, 2, 3), f"{next(_serials) % 1000:03d}"),
            world.measured.personnummer,
        ],
        "birth_year": [1985],
        "instrument": [world.version.instrument.code],
        "version": [world.version.number],
        "perspective": ["mentor"],
        "answers": [valid_answers(world.version, "mentor")],
        "occurred_at": [timezone.now().isoformat()],
        # A målbildssamtal's plan (POST …/samtal/).
        "goal": ["Arbeta deltid i caféet"],
        "milestones": [[], [{"text": "Komma i tid", "area": "vardag", "target_date": None}]],
        "steps": [[], [{"what": "Ringa arbetsgivaren", "who": "Deltagaren", "due_date": None}]],
        "achieved": [[]],
    }


def _out_of_scope(world: SimpleNamespace) -> dict[str, list]:
    return {
        "pseudonym": [world.foreign.participant.pseudonym],
        "enrolment_id": [world.foreign.enrolment.pk],
        "enrolment": [world.foreign.enrolment.pk],
        "session_uuid": [world.foreign_session],
        "insats_code": ["natursteget"],
        "forbund": ["svo"],
        "insats": ["natursteget"],
        "mentor": [world.mentor_natursteget.username],
    }


@pytest.fixture(autouse=True)
def _rate_limit_counters_of_its_own(settings: Any) -> None:
    """The module sends some 1,150 requests as two users from one address, within the hour the API's
    rate limits count: each test counts its own (at most FUZZ_EXAMPLES requests) under a key prefix
    of its own, on the same Redis, and adds nothing to the counters other tests and runs share. The
    live server's threads read the same settings."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"fuzz-{uuid.uuid4().hex}"}}


# --- Requests -------------------------------------------------------------------------------------


def _reference_name(path: str, parameter: str) -> str:
    """The key in the values of _in_scope() for a path parameter: two operations call different things
    `code`, and a session's UUID in the path names a stored reading, in a body a new one."""
    if parameter == "code":
        return "instrument_code" if path.startswith("/api/v1/instrument/") else "insats_code"
    if parameter == "client_uuid":
        return "session_uuid"
    return parameter


def _body_fields(method: str, path: str) -> set[str]:
    body = RAW_SCHEMA["paths"][path][method.lower()].get("requestBody", {})
    reference = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return set(RAW_SCHEMA["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {}).get("properties", {}))


def _path_parameters(method: str, path: str) -> set[str]:
    parameters = RAW_SCHEMA["paths"][path][method.lower()].get("parameters", [])
    return {_reference_name(path, parameter["name"]) for parameter in parameters if parameter["in"] == "path"}


def _has_scoped_reference(method: str, path: str) -> bool:
    """Whether the request names an object in a förbund that it reads or acts on."""
    return bool(_path_parameters(method, path) & SCOPED_PATH_PARAMETERS) or (
        method == "POST" and bool(_body_fields(method, path) & SCOPED_FIELDS)
    )


def _ground(case: Any, values: dict[str, list], draw: Any, *, query: bool) -> None:
    """Put values from `values` in the case's path parameters, query (if `query`) and body: where the
    case has a parameter or field of that name, and in every body field of that name the schema has."""
    path = case.operation.path
    if case.path_parameters:
        case.path_parameters = {
            name: draw(st.sampled_from(values[ref])) if (ref := _reference_name(path, name)) in values else value
            for name, value in case.path_parameters.items()
        }
    if query and case.query:
        case.query = {
            name: (value if name not in values else [values[name][0]] if isinstance(value, list) else values[name][0])
            for name, value in case.query.items()
        }
    if isinstance(case.body, dict):
        fields = set(case.body) | _body_fields(case.method, path)
        case.body = {
            name: draw(st.sampled_from(values[name])) if name in values else case.body[name]
            for name in sorted(fields)
            if name in values or name in case.body
        }


@st.composite
def fuzz_requests(draw: Any, method: str, path: str, in_scope: dict, out_of_scope: dict) -> tuple[str, Any]:
    """(kind, case): raw, grounded or foreign (see the module docstring)."""
    operation = SCHEMA[path][method]
    # Hypothesis draws the last choice most often: grounded.
    kinds = (["foreign"] if _has_scoped_reference(method, path) else []) + ["raw", "grounded"]
    kind = draw(st.sampled_from(kinds))
    if kind == "raw":
        mode = draw(st.sampled_from([GenerationMode.NEGATIVE, GenerationMode.POSITIVE]))
        return kind, draw(operation.as_strategy(generation_mode=mode))
    case = draw(operation.as_strategy())
    _ground(case, in_scope, draw, query=True)
    if kind == "foreign":
        _ground(case, out_of_scope, draw, query=False)
    return kind, case


# --- The test -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_survives_fuzzing(server: LiveServer, world: SimpleNamespace, role: str, method: str, path: str):
    # A connection per request: on a kept-alive one the test server's small writes wait out the
    # client's delayed ACK, 40 ms a request.
    headers = {"Authorization": f"Token {world.keys[role]}", "Connection": "close"}
    in_scope = _in_scope(world, world.fresh.pop() if (method, path) in WRITES else None)
    statuses: Counter[tuple[str, int]] = Counter()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @seed(FUZZ_SEED)
    @given(fuzz_requests(method, path, in_scope, _out_of_scope(world)))
    def fuzz(request: tuple[str, Any]) -> None:
        kind, case = request
        response = case.call(base_url=server.url, headers=headers)
        statuses[kind, response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert not (kind == "foreign" and 200 <= response.status_code < 300), (
            f"{case.formatted_path} in another förbund answered {response.status_code}"
        )

    fuzz()

    executed = sum(statuses.values())
    succeeded = sum(count for (_, status), count in statuses.items() if 200 <= status < 300)
    summary = dict(sorted(statuses.items()))
    assert executed >= FUZZ_EXAMPLES * 0.8, f"only {executed} requests ran: {summary}"
    if (method, path) in NO_SUCCESS[role]:
        assert succeeded == 0, f"a {role} may not {method} {path}: {summary}"
    else:
        assert succeeded > 0, f"no request succeeded, so the fuzzing reached nothing: {summary}"
    print(f"{role} {method} {path}: {executed} requests, {summary}")  # with -s: what each run reached
