"""Browser end-to-end tests: Playwright drives Debian's Chromium against pytest-django's live server.

The browser is the system's /usr/bin/chromium (scripts/test installs the Debian package when it is
missing and we are root); Playwright never downloads one. Without a browser the tests skip locally
and fail with a clear message when CI=true.
"""

import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from participants.models import Role
from participants.services import enrolment_close, enrolment_create
from surveys.sessions import session_submit
from tests.database import reseed_migration_data, restore_migrated_database
from tests.e2e.browsing import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Browsing
from tests.factories import (
    TEST_PASSWORD,
    ForbundFactory,
    InsatsFactory,
    education_level,
    exit_reason,
    income_source,
    operator,
    register_identified,
    synthetic_personnummer,
    user_with_role,
)
from tests.surveys.factories import progression_consent, shipped_version, valid_answers


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser end-to-end test (Playwright + Debian's Chromium)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed  # type: ignore[attr-defined]
    return report


# --- The browser ----------------------------------------------------------------------------


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="package")
def _async_unsafe_while_browsing() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running in this thread, and Django refuses synchronous
    database calls while one runs unless told it is safe. Only while the browser tests run: set for the
    whole session it would leak into other tests' subprocesses (manage.py check --deploy rejects it)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_async_unsafe_while_browsing: None) -> Iterator[Any]:
    """One headless Chromium for the browser tests; each test gets fresh contexts. It stops with the
    package, so that no event loop is left running in the tests that come after."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: run scripts/test (it installs requirements.txt)")
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"No Chromium at {CHROMIUM}: install Debian's 'chromium' package (scripts/test does as root)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browsing(request: pytest.FixtureRequest, browser: Any, live_server: Any) -> Iterator[Browsing]:
    name = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
    session = Browsing(browser, live_server.url, name)
    yield session
    session.close(failed=getattr(request.node, "e2e_failed", True))
    assert not session.page_errors, "JavaScript errors or CSP violations:\n" + "\n".join(session.page_errors)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """Export files go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- Demo-like data, built with the project's services ---------------------------------------


@pytest.fixture(scope="package", autouse=True)
def _database_as_migrated_after_e2e(
    django_db_setup: None, django_db_blocker: Any, _async_unsafe_while_browsing: None
) -> Iterator[None]:
    """Leave the database as migrations left it for the tests that run after the browser tests.

    Each browser test ends with a flush that re-creates content types and permissions under new ids and
    drops the code lists. A later test with serialized_rollback would then collide with those ids, and a
    later one without it would miss the code lists. So: put back the very rows Django serialized after
    migrating when it did (some test asked for serialized_rollback), else reseed the code lists."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        restore_migrated_database()
        # While Playwright's loop is alive, Django keeps this thread's connection in a context-local
        # slot that the test-database teardown does not close; an open session blocks DROP DATABASE.
        connections.close_all()


def _reading_values(version: Any, perspective: str, lift: int) -> dict[str, Any]:
    """Valid answers, with every ladder answer moved up by `lift` steps (capped at the top)."""
    answers = valid_answers(version, perspective)
    ladder = {item.code for item in version.items.filter(scale__kind="ladder")}
    return {code: min(10, max(1, value + lift)) if code in ladder else value for code, value in answers.items()}


def _participant(world: SimpleNamespace, number: int, kon: str) -> Any:
    """An identified participant (synthetic personnummer) who consented to progression measurement."""
    person = register_identified(
        forbund=world.forbund,
        by=world.mentor,
        kon=kon,
        name=f"Testperson {number}",
        personnummer=synthetic_personnummer(date(1985 + number, 3, 1 + number), serial=f"{200 + number}"),
    )
    progression_consent(person, by=world.mentor, granted=True)
    return person


@pytest.fixture
def world(transactional_db: None) -> SimpleNamespace:
    """Jonsbo försteg in Centrala Östergötland: a mentor and a coordinator who log in with a real
    password, and a participant with progression consent in an open enrolment, no readings yet."""
    reseed_migration_data()
    sco = ForbundFactory(code="sco", name="Samordningsförbundet Centrala Östergötland", pseudonym_prefix="SCÖ")
    jonsbo = InsatsFactory(code="jonsbo", name="Jonsbo försteg", forbund=sco, capacity=20)
    world = SimpleNamespace(
        version=shipped_version(),
        forbund=sco,
        insats=jonsbo,
        mentor=user_with_role(Role.MENTOR, insats=jonsbo, username="handledare", first_name="Maja", last_name="Lind"),
        coordinator=user_with_role(
            Role.COORDINATOR, forbund=sco, username="samordnare", first_name="Sam", last_name="Ordnare"
        ),
        password=TEST_PASSWORD,
    )
    world.fresh = _participant(world, 0, "kvinna")
    world.fresh_enrolment = enrolment_create(
        by=operator(),
        participant=world.fresh,
        insats=jonsbo,
        start_date=timezone.localdate() - timedelta(days=30),
        mentor=world.mentor,
        income_before=income_source("forsorjningsstod"),
        education=education_level("gymnasial"),
    )
    return world


@pytest.fixture
def measured_world(world: SimpleNamespace) -> SimpleNamespace:
    """The world plus six participants with two readings from each perspective (60 days apart, the
    latest today), three of them ended today: reports for this year have figures and charts."""
    today, now = timezone.localdate(), timezone.now()
    income_after = ["ingen_offentlig", "aktivitetsstod", "forsorjningsstod"]
    for number in range(1, 7):
        enrolment = enrolment_create(
            by=operator(),
            participant=_participant(world, number, "kvinna" if number % 2 else "man"),
            insats=world.insats,
            start_date=today - timedelta(days=120),
            mentor=world.mentor,
            income_before=income_source("forsorjningsstod" if number % 3 else "sjukpenning_rehab"),
            education=education_level("gymnasial"),
        )
        for lift, occurred_at in ((0, now - timedelta(days=60)), (1 + number % 3, now - timedelta(minutes=5))):
            for perspective in ("self", "mentor"):
                session_submit(
                    client_uuid=f"00000000-0000-4000-8000-{number:04d}{lift:04d}{len(perspective):04d}",
                    enrolment=enrolment,
                    version=world.version,
                    perspective=perspective,
                    answers=_reading_values(world.version, perspective, lift),
                    recorded_by=world.mentor,
                    occurred_at=occurred_at,
                )
        if number <= 3:
            enrolment_close(
                by=operator(),
                enrolment=enrolment,
                end_date=today,
                exit_reason=exit_reason("arbete" if number == 1 else "studier"),
                income_after=income_source(income_after[number - 1]),
                income_after_extent=Decimal("1"),
            )
    world.measured_enrolment = enrolment  # open, with two readings from each perspective
    return world


@pytest.fixture(scope="session", autouse=True)
def _clean_artifacts() -> None:
    """Failure screenshots and axe reports of this run only; other screenshots are overwritten."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in [*ARTIFACTS.glob("FAILED-*.png"), *ARTIFACTS.glob("axe-*.json")]:
        stale.unlink()
