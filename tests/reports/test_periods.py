"""Closed report periods (progression/reports/periods.py): a closed year gives the same figures after
new readings arrive, in every report, selection and protection; other selections and open periods
say that their figures may change; closing and reopening are refused with a Swedish message where
they must be."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils import timezone
from factory import Transformer

from participants.models import Role
from progression import scoring
from progression.models import ClosureStatus, FrozenReport, PeriodClosure
from progression.reports.periods import ClosureError, period_close, period_reopen
from progression.reports.registry import REPORTS, report_compute
from tests.factories import user_with_role
from tests.progression.helpers import enrol, item_infos, norms_now, rating_answers, submit, world_create
from tests.reports.helpers import build
from tests.surveys.factories import shipped_version, valid_answers

pytestmark = pytest.mark.django_db

YEAR = {"period": "helar", "ar": "2025", "from": "", "to": ""}


class Measured:
    """A förbund with two insatser and eight enrolments measured in autumn 2025 (self and mentor)."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(7)
        self.version = shipped_version("stegvis-progression")
        self.infos = item_infos(self.version)
        self.world = world_create(insatser=2)
        password = Transformer.Force(make_password(None))
        self.coordinator = user_with_role(Role.COORDINATOR, forbund=self.world.forbund, password=password)
        self.admin = user_with_role(Role.ADMIN, forbund=self.world.forbund, password=password)
        self.enrolments = [enrol(self.world, self.world.insatser[i % 2]) for i in range(8)]
        for days in (0, 30):
            for index, enrolment in enumerate(self.enrolments):
                self.reading(enrolment, datetime(2025, 11, 1, 9, tzinfo=UTC) + timedelta(days=days), index * 0.2)
            if days == 0:
                norms_now(minimum_n=5)  # from the baselines, before the second readings are classified

    def reading(self, enrolment, occurred_at: datetime, level: float) -> None:  # noqa: ANN001
        effects = {info.dimension: 0.0 for info in self.infos}
        for perspective in ("self", "mentor"):
            answers = valid_answers(self.version, perspective)
            answers.update(rating_answers(self.rng, self.infos, perspective, level, effects))
            session = submit(self.world, enrolment, self.version, perspective, answers, occurred_at)
            scoring.session_process(session_id=session.pk)

    def params(self, **extra: str) -> dict[str, str]:
        return {"forbund": self.world.forbund.code, **YEAR, **extra}


@pytest.fixture
def measured() -> Measured:
    return Measured()


def _close(measured: Measured, django_capture_on_commit_callbacks) -> PeriodClosure:  # noqa: ANN001
    with django_capture_on_commit_callbacks(execute=True):
        closure = period_close(by=measured.coordinator, forbund=measured.world.forbund, preset="helar", year=2025)
    closure.refresh_from_db()
    return closure


def _figures(report) -> tuple:  # noqa: ANN001
    tables = [(t.title, t.columns, t.rows, t.note) for t in report.tables]
    return report.data, tables, report.charts, report.empty_message


SELECTIONS = ["förbund", "first", "second"]


def _selection(measured: Measured, selection: str) -> dict:
    if selection == "förbund":
        return {}
    return {"insats": measured.world.insatser[0 if selection == "first" else 1].code}


def test_a_closed_year_gives_identical_figures_after_new_readings_arrive(measured, django_capture_on_commit_callbacks):
    """Every report, for the whole förbund and each insats, exact and protected: the same figures
    after readings in 2026 have moved every enrolment's latest reading out of 2025, while the same
    report computed from today's data has changed (so the test can fail)."""
    user = measured.coordinator
    variants = [(name, sel, ext) for name in REPORTS for sel in SELECTIONS for ext in (False, True)]
    before = {
        v: _figures(build(user, v[0], external=v[2], **measured.params(**_selection(measured, v[1])))) for v in variants
    }
    closure = _close(measured, django_capture_on_commit_callbacks)
    assert closure.status == ClosureStatus.CLOSED
    assert closure.progress == 100
    assert closure.norm_set is not None and closure.algorithm_version == scoring.ALGORITHM_VERSION

    for index, enrolment in enumerate(measured.enrolments):
        measured.reading(enrolment, datetime(2026, 3, 2, 9, tzinfo=UTC), 2 + index * 0.3)
    for index, enrolment in enumerate(measured.enrolments[:4]):  # registered late, dated in the closed year
        measured.reading(enrolment, datetime(2025, 12, 20, 9, tzinfo=UTC), 3 + index * 0.4)

    for variant in variants:
        name, selection, external = variant
        report = build(user, name, external=external, **measured.params(**_selection(measured, selection)))
        assert _figures(report) == before[variant], variant
        assert report.period_status["status"] == "frozen"
        assert report.period_status["norm_set"] == closure.norm_set.version
        assert any(line.startswith("Fryst: Helår 2025 stängdes") for line in report.definitions)
    live = report_compute("progression", build(user, "progression", **measured.params()).filters)
    assert _figures(live) != before[("progression", "förbund", False)]  # the late readings moved it


def test_readings_after_a_period_do_not_move_its_figures_even_before_it_is_closed(measured):
    """Each enrolment counts in a period as it stood at the period's end: a reading next year
    neither removes it from this year nor changes its latest score here."""
    user = measured.coordinator
    before = {
        (name, external): _figures(build(user, name, external=external, **measured.params()))
        for name in ("progression", "participant-flow")
        for external in (False, True)
    }
    assert before[("progression", False)][0]["dimensions"][0]["n"] == 8

    for index, enrolment in enumerate(measured.enrolments):
        measured.reading(enrolment, datetime(2026, 3, 2, 9, tzinfo=UTC), 2 + index * 0.3)

    for (name, external), figures in before.items():
        report = build(user, name, external=external, **measured.params())
        assert report.period_status == {"status": "preliminary"}
        assert _figures(report) == figures, (name, external)
    next_year = build(user, "progression", **measured.params(ar="2026"))
    assert next_year.data["dimensions"][0]["n"] == 8  # the same enrolments, first to their 2026 reading


def test_other_selections_and_open_periods_say_their_figures_may_change(measured, django_capture_on_commit_callbacks):
    user = measured.coordinator
    open_year = build(user, "progression", **measured.params())
    assert open_year.period_status == {"status": "preliminary"}
    assert any(line.startswith("Preliminärt") for line in open_year.definitions)

    _close(measured, django_capture_on_commit_callbacks)
    by_kon = build(user, "progression", kon="kvinna", **measured.params())
    assert by_kon.period_status == {"status": "not_frozen"}
    assert any("bara hela förbundet och varje insats" in line for line in by_kon.definitions)
    tertial = build(user, "progression", **measured.params(period="tertial3"))
    assert tertial.period_status == {"status": "preliminary"}
    assert any("överlappar Helår 2025" in line for line in tertial.definitions)


def test_the_api_and_the_page_show_the_frozen_figures_and_say_so(measured, django_capture_on_commit_callbacks, client):
    _close(measured, django_capture_on_commit_callbacks)
    client.force_login(measured.coordinator)
    query = f"?forbund={measured.world.forbund.code}&period=helar&ar=2025"

    document = client.get(reverse("api_report", kwargs={"name": "progression"}) + query).json()
    page = client.get(reverse("report_page", kwargs={"name": "progression"}) + query).content.decode()

    assert document["period_status"]["status"] == "frozen"
    assert document["period_status"]["period"] == "Helår 2025"
    assert "Fryst: Helår 2025" in page


def test_closing_is_refused_with_a_message_where_it_must_be(measured, django_capture_on_commit_callbacks):
    forbund = measured.world.forbund
    with pytest.raises(ClosureError, match="inte slut än"):
        period_close(by=measured.coordinator, forbund=forbund, preset="helar", year=timezone.localdate().year)
    with pytest.raises(ClosureError, match="samordnare eller administratör"):
        period_close(by=measured.world.mentor, forbund=forbund, preset="helar", year=2025)
    for year in (0, 1999, timezone.localdate().year + 1):
        with pytest.raises(ClosureError, match="Året måste vara mellan 2000 och"):
            period_close(by=measured.coordinator, forbund=forbund, preset="helar", year=year)
    with pytest.raises(ClosureError, match="Välj en period"):
        period_close(by=measured.coordinator, forbund=forbund, preset="manad", year=2025)
    _close(measured, django_capture_on_commit_callbacks)
    with pytest.raises(ClosureError, match="redan stängd"):
        period_close(by=measured.coordinator, forbund=forbund, preset="helar", year=2025)
    assert PeriodClosure.objects.count() == 1


def test_reopening_is_an_admins_action_with_a_reason_and_keeps_the_record(measured, django_capture_on_commit_callbacks):
    closure = _close(measured, django_capture_on_commit_callbacks)
    frozen = FrozenReport.objects.filter(closure=closure).count()
    assert frozen == len(REPORTS) * 3 * 2 + 3 * 2  # reports × selections × exact/protected, + per kön

    with pytest.raises(ClosureError, match="administratör"):
        period_reopen(by=measured.coordinator, closure=closure, reason="Fel i inläsningen av mars")
    with pytest.raises(ClosureError, match="minst 10 tecken"):
        period_reopen(by=measured.admin, closure=closure, reason="fel")
    reopened = period_reopen(by=measured.admin, closure=closure, reason="Fel i inläsningen av mars")

    assert reopened.status == ClosureStatus.REOPENED
    assert reopened.reopened_by == measured.admin and reopened.reopen_reason == "Fel i inläsningen av mars"
    assert FrozenReport.objects.filter(closure=closure).count() == frozen  # kept for the record
    report = build(measured.coordinator, "progression", **measured.params())
    assert report.period_status == {"status": "preliminary"}
    with pytest.raises(ClosureError, match="inte stängd"):
        period_reopen(by=measured.admin, closure=reopened, reason="Fel i inläsningen av mars")
    closed_again = _close(measured, django_capture_on_commit_callbacks)  # a new closure, a new freeze
    assert closed_again.pk != closure.pk and closed_again.status == ClosureStatus.CLOSED


def test_the_periods_page_closes_and_reopens_with_confirmation(measured, django_capture_on_commit_callbacks, client):
    forbund = measured.world.forbund
    page = reverse("report_periods")
    client.force_login(measured.coordinator)
    assert "Ingen period är stängd ännu" in client.get(page).content.decode()

    unconfirmed = client.post(
        reverse("period_close", args=[forbund.code]), {"period": "helar", "ar": "2025"}, follow=True
    )
    assert "Bekräfta att rapporterna för perioden fryses" in unconfirmed.content.decode()
    bad_year = client.post(
        reverse("period_close", args=[forbund.code]), {"period": "helar", "ar": "20x5", "confirm": "1"}, follow=True
    )
    assert "Året måste skrivas med fyra siffror" in bad_year.content.decode()
    year_zero = client.post(
        reverse("period_close", args=[forbund.code]), {"period": "helar", "ar": "0000", "confirm": "1"}, follow=True
    )
    assert year_zero.status_code == 200 and "Året måste vara mellan 2000" in year_zero.content.decode()
    assert not PeriodClosure.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("period_close", args=[forbund.code]), {"period": "helar", "ar": "2025", "confirm": "1"})
    body = client.get(page).content.decode()
    assert "Helår 2025 stängs" in body and "Stängd: rapporterna är frysta" in body
    closure = PeriodClosure.objects.get()
    assert (
        client.post(reverse("period_reopen", args=[closure.pk]), {"confirm": "1", "reason": "x" * 20}).status_code
        == 403
    )

    client.force_login(measured.admin)
    no_reason = client.post(reverse("period_reopen", args=[closure.pk]), {"confirm": "1", "reason": "fel"}, follow=True)
    assert "minst 10 tecken" in no_reason.content.decode()
    reopened = client.post(
        reverse("period_reopen", args=[closure.pk]),
        {"confirm": "1", "reason": "Marsdata lästes in två gånger"},
        follow=True,
    )
    assert "Öppnad igen" in reopened.content.decode() and "Marsdata lästes in två gånger" in reopened.content.decode()


def test_a_protected_progression_report_adds_up(measured):
    """Outside the organisation: change = latest − first, never more persons, assessed or staged
    than enrolments, and the shares add up to 100."""
    report = build(measured.coordinator, "progression", external=True, **measured.params())
    assert report.data["dimensions"]
    for line in report.data["dimensions"]:
        if line["mean_first"] is not None:
            assert line["mean_change"] == pytest.approx(line["mean_latest"] - line["mean_first"], abs=0.011)
        assert line["persons"] <= line["n"] and line["classified"] <= line["n"] and line["staged"] <= line["n"]
        if line["share_improved"] is not None:
            assert line["share_improved"] + line["share_unchanged"] + line["share_worse"] == pytest.approx(100)
        assert line["mean_change_ci"] is None and line["d_z"] is None and line["months_range"] is None
    assert all(len(table.columns) == len(row) for table in report.tables for row in table.rows)
    assert not any("KI" in column for column in report.tables[0].columns)


def test_a_far_year_and_a_frozen_csv(measured, django_capture_on_commit_callbacks, client):
    """Year 9999 is a report without figures, not a server error; a frozen report's CSV says that it
    is frozen and carries the caveats."""
    assert build(measured.coordinator, "progression", **measured.params(ar="9999")).data["dimensions"] == []
    _close(measured, django_capture_on_commit_callbacks)
    client.force_login(measured.coordinator)
    query = f"?forbund={measured.world.forbund.code}&period=helar&ar=2025&extern=1"
    response = client.get(reverse("report_csv", kwargs={"name": "progression"}) + query)
    text = b"".join(response.streaming_content).decode()
    assert "Fryst: Helår 2025" in text and "Regression mot medelvärdet" in text


def test_a_reopen_reason_with_a_nul_byte_is_refused(measured, django_capture_on_commit_callbacks):
    closure = _close(measured, django_capture_on_commit_callbacks)
    with pytest.raises(ClosureError, match="NUL"):
        period_reopen(by=measured.admin, closure=closure, reason="Fel i mars\x00 och april")
    closure.refresh_from_db()
    assert closure.status == ClosureStatus.CLOSED
