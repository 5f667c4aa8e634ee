"""Shared data for the API tests: the registry world plus one measured enrolment with two scored
mentor readings, and the generated OpenAPI schema."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from surveys.sessions import session_submit
from tests.factories import registry_world
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers


@pytest.fixture(autouse=True)
def _rate_limit_counters_of_its_own(settings):
    """Each API test counts its requests against the API's rate limits (config/throttling.py) under a
    cache key prefix of its own, on the same Redis: what it sends adds nothing to the counters other
    tests, and later test runs within the hour, share (all from 127.0.0.1, user ids repeating from
    one fresh database to the next)."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"api-test-{uuid.uuid4().hex}"}}


@pytest.fixture(scope="session")
def schema(django_db_blocker) -> dict:
    """The OpenAPI document, generated as /api/schema/ serves it."""
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def api_world(db, django_capture_on_commit_callbacks):
    """registry_world() plus, in förbund sco, a measured enrolment (world.enrolment, its mentor
    world.mentor) with two submitted mentor readings three weeks apart, scored as in production."""
    world = registry_world()
    world.version = shipped_version()
    measured = measured_enrolment(forbund=world.sco)
    world.insats, world.mentor = measured.insats, measured.mentor
    world.participant, world.enrolment = measured.participant, measured.enrolment
    world.sessions = []
    with django_capture_on_commit_callbacks(execute=True):
        for days_ago in (21, 1):
            session, _ = session_submit(
                client_uuid=uuid.uuid4(),
                enrolment=world.enrolment,
                version=world.version,
                perspective="mentor",
                answers=valid_answers(world.version, "mentor"),
                recorded_by=world.mentor,
                occurred_at=timezone.localtime() - timedelta(days=days_ago),
            )
            world.sessions.append(session)
    return world
