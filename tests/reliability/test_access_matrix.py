"""The access matrix: every page and API operation × every role × an object in another förbund.

Generated from the URL conf: a new URL without a rule here fails the test, so nobody adds an
endpoint without deciding who may reach it. Objects live in another förbund (svo); the users hold
every role in sco. They must be refused (403/404/405, or 400 for a report asked about svo) and
never be shown the other förbund's data."""

import uuid
from datetime import date

import pytest
from django.urls import URLResolver, get_resolver, reverse

from participants.models import MeasurementMode, Role
from participants.services import volume_register
from progression import goals
from progression.reports.jobs import export_job_create
from surveys.satisfaction import survey_campaign_create
from surveys.sessions import session_submit
from tests.factories import InsatsFactory, registry_world, user_with_role
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers

pytestmark = pytest.mark.django_db

DENIED = {403, 404, 405}

# Pages with no object: reachable by role; must never show another förbund's data.
NO_OBJECT = {
    "home",
    "mentor_home",
    "coordinator_home",
    "admin_home",
    "participant_register",
    "access_log",
    "import_page",
    "api_token",
    "report_dashboard",
    "report_texts",
    "analysis_export",
    "api_insats_list",
    "api_participant_list",
    "api_session_list",
    "participant_mode_exit",
    "two_factor",
    "logout",
    "login",
}
# Open on purpose: health, documentation of the API shape, the thank-you page, and the instruments'
# questions (no personal data; every role reads the same ones).
PUBLIC = {
    "healthz",
    "public_thanks",
    "api_schema",
    "api_docs",
    "api_redoc",
    "api_instrument_list",
    "api_instrument_form",
}
# Opened with a secret token only (tested separately below with a wrong token).
BY_TOKEN = {"public_self_form", "public_self_submit", "public_survey", "public_survey_submit"}


def _routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("admin/"):
                    continue
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif pattern.name and not str(pattern.pattern).startswith("static"):
                yield pattern.name

    return sorted(set(walk(get_resolver().url_patterns)))


@pytest.fixture
def world():
    ns = registry_world()
    version = shipped_version()
    other = measured_enrolment(forbund=ns.svo)
    session, _ = session_submit(
        client_uuid=uuid.uuid4(),
        enrolment=other.enrolment,
        version=version,
        perspective="mentor",
        answers=valid_answers(version, "mentor"),
        recorded_by=other.mentor,
    )
    goal = goals.goal_set(enrolment=other.enrolment, text="Arbeta i kök", by=other.mentor)
    milestone = goals.milestone_add(goal=goal, text="Praktik", target_date=None, by=other.mentor)
    step = goals.action_step_add(goal=goal, what="Ring", who="Handledaren", due_date=None, by=other.mentor)
    campaign = survey_campaign_create(
        insats=other.insats,
        version=shipped_version("nns-pagaende"),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        number_asked=5,
        created_by=other.mentor,
    )
    volume = InsatsFactory(forbund=ns.svo, code="sip-svo", name="SIP Västra", measurement_mode=MeasurementMode.VOLUME)
    volume_register(
        insats=volume,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 4, 30),
        category="SIP-möten",
        count=7,
        registered_by=other.mentor,
    )
    coordinator_svo = user_with_role(Role.COORDINATOR, forbund=ns.svo, username="samordnare-svo")
    job = export_job_create(
        user=coordinator_svo, kind="participant-flow", file_format="csv", params={"forbund": "svo"}, external=True
    )
    ns.other = other
    ns.secrets = [other.participant.pseudonym, other.insats.name, "SIP Västra", "Arbeta i kök"]
    ns.kwargs = {
        "participant": {"pseudonym": other.participant.pseudonym},
        "enrolment": {"enrolment_id": other.enrolment.pk},
        "insats": {"code": other.insats.code},
    }
    ns.objects = {
        "api_insats_detail": {"code": other.insats.code},
        "api_insats_enrolments": {"code": other.insats.code},
        "insats_detail": {"code": other.insats.code},
        "volume_list": {"code": "sip-svo"},
        "campaign_list": {"code": other.insats.code},
        "campaign_detail": {"code": other.insats.code, "campaign_id": campaign.pk},
        "api_session_detail": {"client_uuid": session.client_uuid},
        "api_session_scores": {"client_uuid": session.client_uuid},
        "milestone_status": {"enrolment_id": other.enrolment.pk, "milestone_id": milestone.pk},
        "step_mark": {"enrolment_id": other.enrolment.pk, "step_id": step.pk},
        "session_submit": {"enrolment_id": other.enrolment.pk, "perspective": "self"},
        "participant_export": {"pseudonym": other.participant.pseudonym, "fmt": "json"},
        "enrolment_close": {"pseudonym": other.participant.pseudonym, "enrolment_id": other.enrolment.pk},
        "mentor_change": {"pseudonym": other.participant.pseudonym, "enrolment_id": other.enrolment.pk},
        "export_status": {"job_id": job.pk},
        "export_download": {"job_id": job.pk},
    }
    ns.reports = {"report_page", "report_csv", "export_start", "api_report"}
    return ns


PARTICIPANT_ROUTES = {
    "api_participant_detail",
    "api_consent",
    "api_enrol",
    "api_identity",
    "api_export",
    "api_erasure",
    "participant_detail",
    "identity_reveal",
    "enrol_existing",
    "consent_record",
    "participant_erase",
}
ENROLMENT_ROUTES = {
    "api_enrolment_close",
    "api_enrolment_mentor",
    "api_enrolment_progression",
    "api_enrolment_goals",
    "journey",
    "goal_save",
    "milestone_add",
    "step_add",
    "conversation_hub",
    "participant_mode_enter",
    "self_form",
    "self_done",
    "mentor_form",
    "conversation_compare",
    "conversation_finish",
    "self_link_new",
}


def _kwargs(world, name: str) -> dict | None:
    if name in world.objects:
        return world.objects[name]
    if name in PARTICIPANT_ROUTES:
        return world.kwargs["participant"]
    if name in ENROLMENT_ROUTES:
        return world.kwargs["enrolment"]
    if name in world.reports:
        return {"name": "participant-flow"}
    return None


def test_every_url_has_an_access_rule(world):
    unruled = [name for name in _routes() if name not in NO_OBJECT | PUBLIC | BY_TOKEN and _kwargs(world, name) is None]
    assert unruled == [], f"Nya adresser utan behörighetsregel i access-matrisen: {unruled}"


@pytest.mark.parametrize("role", ["mentor_jonsbo", "coordinator_sco", "admin_sco"])
def test_objects_of_another_forbund_are_refused_to_every_role(client, world, role):
    client.force_login(getattr(world, role))
    failures = []
    for name in _routes():
        kwargs = _kwargs(world, name)
        if kwargs is None or name in NO_OBJECT | PUBLIC | BY_TOKEN:
            continue
        url = reverse(name, kwargs=kwargs)
        if name in world.reports:
            url += "?forbund=svo"
        for method in ("get", "post"):
            data = {"forbund": "svo", "format": "csv"} if method == "post" and name in world.reports else {}
            response = getattr(client, method)(url, data)
            allowed = DENIED | ({400} if name in world.reports else set())
            body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
            leaked = [secret for secret in world.secrets if secret in body]
            if response.status_code not in allowed or leaked:
                failures.append((name, method, response.status_code, leaked))
    assert failures == [], failures


@pytest.mark.parametrize("role", ["mentor_jonsbo", "coordinator_sco", "admin_sco"])
def test_pages_without_object_never_show_another_forbund(client, world, role):
    client.force_login(getattr(world, role))
    for name in sorted(NO_OBJECT - {"logout", "login"}):
        response = client.get(reverse(name), follow=True)
        body = response.content.decode(errors="replace")
        assert not [secret for secret in world.secrets if secret in body], name


def test_token_pages_refuse_a_wrong_token(client, world):
    for name in sorted(BY_TOKEN):
        for method in ("get", "post"):
            response = getattr(client, method)(reverse(name, kwargs={"token": "fel-token"}))
            assert response.status_code in {405, 410}, (name, method, response.status_code)


def test_anonymous_visitors_get_no_data(client, world):
    for name in _routes():
        if name in PUBLIC | BY_TOKEN | {"login", "logout"}:
            continue
        kwargs = _kwargs(world, name) or {}
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code in {302, 401, 403, 405}, (name, response.status_code)
        assert not [s for s in world.secrets if s in response.content.decode(errors="replace")], name
