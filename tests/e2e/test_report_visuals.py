"""The reports as a förbund's board gets them (issue #21, "Done when"): the PDF report pack and every
report page, for the demo förbund and for a förbund without participants, kept as PNG in
test-artifacts/visual/<förbund>/ for a person to look at, and checked for (a) PDF text outside the page
or its margins, (b) chart labels outside their chart, (c) area or instrument codes shown instead of
their names and (d) decimal points in Swedish numbers.

Seeding the demo takes 15–25 s, so one module fixture seeds and renders everything once, with the
database and a live server of its own, and leaves the database as the browser tests leave it. The checks
are parametrized over what it collected: a failure names the förbund, page, viewport and text. The pack
is built through the export job, the path a coordinator's "Rapportbilaga (PDF)" takes."""

import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from participants.demo import DEMO_TODAY
from progression.reports.registry import REPORTS
from tests.database import reseed_migration_data, restore_migrated_database
from tests.e2e.browsing import DESKTOP, PHONE, TABLET, Browsing
from tests.e2e.visuals import PAGE_FACTS, PageView, PdfPage, pdf_pages, word_outside

# The checks read only what the module fixture collected; the mark makes pytest-django create the test
# database that fixture uses (it creates none for a session whose tests do not ask for one).
pytestmark = pytest.mark.django_db

VISUAL = Path(__file__).resolve().parents[2] / "test-artifacts" / "visual"
YEAR = DEMO_TODAY.year  # the demo's data lies in its year, whatever today's date is
DEMO, EMPTY = "sco", "tom"  # the demo's Centrala Östergötland; a förbund with insatser but no participants
FORBUND = (DEMO, EMPTY)
VIEWPORTS = {"desktop": DESKTOP, "tablet": TABLET, "phone": PHONE}
PHOTOGRAPHED = ("desktop", "phone")  # the tablet is measured, not kept: a full-page PNG costs 0.2–0.7 s
PAGES = {"dashboard": "/rapporter/", **{name: f"/rapporter/{name}/" for name in REPORTS}}
# Internal figures for the demo's year (a bare /rapporter/x/ means this calendar year), and the same
# period as it leaves the förbund. The dashboard is always internal; its extern=1 is visited all the same.
MODES = {"intern": f"?period=helar&ar={YEAR}", "extern": f"?extern=1&period=helar&ar={YEAR}"}

# (d) Text that matches \d\.\d but is not a Swedish number, each with the reason it may stay.
NOT_NUMBERS: dict[str, str] = {}
DECIMAL_POINT = re.compile(r"\d\.\d")


@dataclass
class Rendered:
    codes: dict[str, str] = field(default_factory=dict)  # an area's or instrument's code -> its Swedish name
    views: dict[tuple[str, str, str, str], PageView] = field(default_factory=dict)
    packs: dict[str, list[PdfPage]] = field(default_factory=dict)
    pack_errors: dict[str, str] = field(default_factory=dict)


# --- Rendering, once --------------------------------------------------------------------------


def _demo_coordinator() -> Any:
    """The demo as `manage.py seed_demo` makes it, committed in one go. Each demo reading queues its
    scoring and closing last year queues its freeze; seed_demo's own rebuild has scored every reading
    already, and last year's frozen reports are not what this module looks at, so those hooks are
    dropped (run eagerly, they took 45 s more)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    with transaction.atomic():
        call_command("seed_demo", password="visual-test-1", stdout=io.StringIO())
        transaction.get_connection().run_on_commit.clear()
    return get_user_model().objects.get(username=f"samordnare-{DEMO}")


def _fixed_record_keys() -> None:
    """Every row's record key made from its place in its table instead of drawn at random. Protected
    figures follow the rows' keys (disclosure.py): with new keys on every run, a 1–4 showed as 5 on
    one run and as 0 on the next, and a column of the PDF's before/after matrix with it, so a table
    too wide for the page failed one run in two. Seeding inserts the rows in the same order on every
    run, so the keys are the same too. Not quite every figure is the same: seed_demo picks the two
    people it also enrols in Jonsbo by their random pseudonyms, and a cell with one of them gets other
    noise. (Not the ids themselves: resetting the sequences would reuse ids that the rest of the suite
    has already seen, and surveys.selectors keeps published versions by id for the process's life.)"""
    from django.apps import apps
    from django.db import connection

    from participants.models import RECORD_KEY_SPACE

    with connection.cursor() as cursor:
        for model in apps.get_models():
            if any(field.name == "record_key" for field in model._meta.fields):
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(
                    f"UPDATE {table} AS target SET record_key = place.number * 2654435761 %% %s "  # noqa: S608
                    f"FROM (SELECT id, row_number() OVER (ORDER BY id) AS number FROM {table}) AS place "
                    "WHERE target.id = place.id",
                    [RECORD_KEY_SPACE],
                )


def _empty_coordinator() -> Any:
    """Nybygget: two insatser with a yearly plan, a coordinator, not yet a participant."""
    from participants.models import Role
    from tests.factories import ForbundFactory, InsatsFactory, user_with_role

    forbund = ForbundFactory(code=EMPTY, name="Finsam Nybygget", pseudonym_prefix="NYB")
    InsatsFactory(code="tom-kartlaggning", name="Kartläggning Nybygget", forbund=forbund)
    InsatsFactory(code="tom-steget", name="Steget Nybygget", forbund=forbund)
    return user_with_role(Role.COORDINATOR, forbund=forbund, username="samordnare-tom", first_name="Tova")


def _codes() -> dict[str, str]:
    """The instruments' area codes that are not their Swedish label in other case ('halsa' for Hälsa,
    not 'vardag' for Vardag), and the instruments' codes ('nns-pagaende'): such a word on a page is a
    code shown instead of a name."""
    from surveys.models import Dimension, Instrument

    codes = dict(Instrument.objects.values_list("code", "name"))
    for code, label in Dimension.objects.values_list("code", "label"):
        swedish = label.get("sv", "") if isinstance(label, dict) else str(label)
        if code.casefold() != swedish.casefold():
            codes[code] = swedish
    return codes


def _pack(user: Any, code: str, folder: Path) -> list[PdfPage]:
    """The PDF report pack as a coordinator's export job makes it (protected figures, helår), kept in
    the folder with one PNG per page."""
    from progression.models import ExportJob, ExportStatus
    from progression.reports import jobs

    job = ExportJob.objects.create(
        user=user,
        kind=jobs.PACK,
        file_format="pdf",
        params={"forbund": code, "period": "helar", "ar": str(YEAR)},
        external=True,
        expires_at=timezone.now() + timedelta(days=1),
    )
    try:
        jobs.export_job_run(job_id=job.pk)
    finally:
        job.refresh_from_db()
    assert job.status == ExportStatus.DONE, f"the export job failed: {job.error}"
    pdf = folder / "pack.pdf"
    pdf.write_bytes((jobs.export_dir() / job.file_name).read_bytes())
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(folder / "pdf")], check=True)
    return pdf_pages(pdf)


def _pages(browsing: Browsing, user: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """One page per viewport, each in a context of its own with the user logged in, and the JavaScript
    errors or CSP violations each reports."""
    from tests.e2e.helpers import login_by_cookie

    pages, errors = {}, {}
    for name, viewport in VIEWPORTS.items():
        context = browsing.context(viewport)
        login_by_cookie(context, user, browsing.base_url)
        pages[name], errors[name] = context.new_page(), []
        pages[name].on("pageerror", lambda error, seen=errors[name]: seen.append(str(error)))
        pages[name].on(
            "console",
            lambda message, seen=errors[name]: (
                seen.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
    return pages, errors


def _visit(pages: dict[str, Any], errors: dict[str, list[str]], url: str, png: str) -> dict[str, PageView]:
    """The URL in every viewport's page at once (the server renders them side by side), then each
    measured, and photographed as test-artifacts/visual/<förbund>/<png>-<viewport>.png."""
    seen = {name: len(found) for name, found in errors.items()}
    for page in pages.values():
        page.evaluate("url => setTimeout(() => window.location.assign(url))", url)
    views = {}
    for name, page in pages.items():
        page.wait_for_url(lambda address: address == url, wait_until="load")
        page.evaluate("document.fonts.ready")  # text is measured in the page's own fonts
        views[name] = PageView(**page.evaluate(PAGE_FACTS))
        if name in PHOTOGRAPHED:
            page.screenshot(path=f"{png}-{name}.png", full_page=True, animations="disabled")
        views[name].errors = errors[name][seen[name] :]
    return views


@pytest.fixture(scope="module")
def rendered(browser: Any, django_db_setup: None, django_db_blocker: Any) -> Iterator[Rendered]:
    """Seed (from an empty database, for the same record keys on every run), render every
    page at every viewport and build both packs; the database is emptied again before the checks run.
    A live server of its own: pytest-django's would make every check below a transactional test that
    flushes the database."""
    from django.core.management import call_command
    from django.db import connections
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    from config.celery import app as celery_app

    result = Rendered()
    eager = celery_app.conf.task_always_eager
    with django_db_blocker.unblock(), override_settings(REQUIRE_TWO_FACTOR=False):
        celery_app.conf.task_always_eager = True  # a task queued on the way runs here, not left in Redis
        server = LiveServer("localhost")
        browsing = Browsing(browser, server.url, "report-visuals")
        try:
            with server._live_server_modified_settings:
                call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
                reseed_migration_data()
                users = {DEMO: _demo_coordinator(), EMPTY: _empty_coordinator()}
                _fixed_record_keys()
                result.codes = _codes()
                for code, user in users.items():
                    folder = VISUAL / code
                    folder.mkdir(parents=True, exist_ok=True)
                    for stale in [*folder.glob("*.png"), *folder.glob("*.pdf")]:
                        stale.unlink()
                    try:
                        result.packs[code] = _pack(user, code, folder)
                    except Exception as exc:  # the PDF checks fail with this; the pages are checked all the same
                        result.pack_errors[code] = f"{type(exc).__name__}: {exc}"
                    pages, errors = _pages(browsing, user)
                    for page_name, path in PAGES.items():
                        for mode, query in MODES.items():
                            url, png = server.url + path + query, str(folder / f"{page_name}-{mode}")
                            for viewport, view in _visit(pages, errors, url, png).items():
                                result.views[code, page_name, mode, viewport] = view
                    for page in pages.values():
                        page.context.close()
        finally:
            for context in browsing.contexts:
                context.close()  # a no-op for those closed above
            server.stop()
            celery_app.conf.task_always_eager = eager
            restore_migrated_database()
            # While Playwright's loop is alive this thread's connection sits where the test database's
            # teardown does not close it (tests/e2e/conftest.py): close it, or DROP DATABASE waits.
            connections.close_all()
    yield result
    connections.close_all()  # the checks' own (empty) test transactions opened one again


# --- The checks -------------------------------------------------------------------------------

PAGE_CASES = [
    pytest.param(code, page_name, mode, viewport, id=f"{code}-{page_name}-{mode}-{viewport}")
    for code in FORBUND
    for page_name in PAGES
    for mode in MODES
    for viewport in VIEWPORTS
]


def _view(rendered: Rendered, code: str, page_name: str, mode: str, viewport: str) -> PageView:
    view = rendered.views[code, page_name, mode, viewport]
    assert view.status == 200 and view.heading, f"{PAGES[page_name]}{MODES[mode]}: HTTP {view.status}"
    return view


def _around(text: str, match: re.Match) -> str:
    start, end = max(0, match.start() - 40), min(len(text), match.end() + 40)
    return "…" + " ".join(text[start:end].split()) + "…"


def _code_pattern(rendered: Rendered) -> re.Pattern:
    assert rendered.codes, "no code differs from its name: this check would check nothing"
    return re.compile(rf"(?<![\w-])({'|'.join(map(re.escape, rendered.codes))})(?![\w-])", re.IGNORECASE)


def _decimal_points(text: str) -> list[str]:
    return [
        _around(text, match)
        for match in DECIMAL_POINT.finditer(text)
        if not any(re.search(allowed, _around(text, match)) for allowed in NOT_NUMBERS)
    ]


@pytest.mark.parametrize(("code", "page_name", "mode", "viewport"), PAGE_CASES)
def test_report_page_shows_without_errors(rendered, code, page_name, mode, viewport):
    view = _view(rendered, code, page_name, mode, viewport)
    assert not view.errors, "JavaScript errors or CSP violations:\n" + "\n".join(view.errors)


@pytest.mark.parametrize(("code", "page_name", "mode", "viewport"), PAGE_CASES)
def test_chart_labels_inside_the_chart(rendered, code, page_name, mode, viewport):
    view = _view(rendered, code, page_name, mode, viewport)
    assert not view.clipped, f"{view.heading}: {len(view.clipped)} chart texts clipped:\n" + "\n".join(view.clipped)


@pytest.mark.parametrize(("code", "page_name", "mode", "viewport"), PAGE_CASES)
def test_page_shows_names_not_codes(rendered, code, page_name, mode, viewport):
    view = _view(rendered, code, page_name, mode, viewport)
    pattern = _code_pattern(rendered)
    shown = [
        f"{match[0]!r} for {rendered.codes[match[0].lower()]}: {_around(view.text, match)}"
        for match in pattern.finditer(view.text)
    ]
    assert not shown, f"{view.heading}: codes on the page:\n" + "\n".join(shown)


@pytest.mark.parametrize(("code", "page_name", "mode", "viewport"), PAGE_CASES)
def test_page_numbers_have_decimal_commas(rendered, code, page_name, mode, viewport):
    view = _view(rendered, code, page_name, mode, viewport)
    points = _decimal_points(view.text)
    assert not points, f"{view.heading}: decimal points on the page:\n" + "\n".join(points)


def _pack_pages(rendered: Rendered, code: str) -> list[PdfPage]:
    assert code not in rendered.pack_errors, f"no PDF pack: {rendered.pack_errors.get(code)}"
    pages = rendered.packs[code]
    assert pages and any(page.words for page in pages), "the PDF pack has no text"
    return pages


@pytest.mark.parametrize("code", FORBUND)
def test_pdf_words_inside_the_page(rendered, code):
    pages = _pack_pages(rendered, code)
    misplaced = [
        f"page {page.number}: {word.text!r} {why} in line {word.line!r}"
        for page in pages
        for word in page.words
        if (why := word_outside(word, page))
    ]
    assert not misplaced, f"{len(misplaced)} words outside the page's text area:\n" + "\n".join(misplaced[:40])


@pytest.mark.parametrize("code", FORBUND)
def test_pdf_shows_names_not_codes(rendered, code):
    pattern = _code_pattern(rendered)
    shown = [
        f"page {page.number}: {match[0]!r} for {rendered.codes[match[0].lower()]} in {line!r}"
        for page in _pack_pages(rendered, code)
        for line in page.lines
        for match in pattern.finditer(line)
    ]
    assert not shown, "codes in the PDF:\n" + "\n".join(shown)


@pytest.mark.parametrize("code", FORBUND)
def test_pdf_numbers_have_decimal_commas(rendered, code):
    points = [
        f"page {page.number}: {point}"
        for page in _pack_pages(rendered, code)
        for line in page.lines
        for point in _decimal_points(line)
    ]
    assert not points, "decimal points in the PDF:\n" + "\n".join(points)


@pytest.mark.parametrize("code", FORBUND)
def test_pdf_explains_every_dash_on_the_page_where_it_stands(rendered, code):
    """A "–" standing alone is a figure not shown, alone or before its n ("– (n = 5 avslutade)");
    the footnote that says why is on the same page."""
    unexplained = [
        f"page {page.number}: {line!r}"
        for page in _pack_pages(rendered, code)
        if not any("– = visas inte" in text or "– = ingen uppgift" in text for text in page.lines)
        for line in page.lines
        if "–" in line.split()
    ]
    assert not unexplained, "a dash without its footnote on the page:\n" + "\n".join(unexplained)
