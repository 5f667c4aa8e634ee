"""The access matrix: every page and API operation × every role × an object in another förbund.

Generated from the URL conf: a new URL without a rule here fails the test, so nobody adds an
endpoint without deciding who may reach it. Objects live in another förbund (svo); the users hold
every role in sco. They must be refused (403/404/405, or 400 for a report asked about svo) and
never be shown the other förbund's data.

Users with several memberships (mentor here, coordinator there, admin in a third förbund) get in
svo exactly what their role in svo allows, and never more: a role held elsewhere never combines.
The Django admin's lists and add/change forms and the import are in the matrix too."""

import uuid
from datetime import date

import pytest
from django.urls import URLResolver, get_resolver, reverse

from participants.import_jobs import import_job_create
from participants.models import MeasurementMode, Role
from participants.services import identity_read, volume_register
from progression import goals
from progression.models import ClosureStatus, PeriodClosure
from progression.reports.jobs import export_job_create
from surveys.satisfaction import survey_campaign_create
from surveys.sessions import session_submit
from tests.factories import (
    ForbundFactory,
    InsatsFactory,
    MembershipFactory,
    operator,
    personnummer_forms,
    registry_world,
    upload_import,
    user_with_role,
)
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
    "norms",
    "report_periods",
    "api_insats_list",
    "api_participant_list",
    "api_session_list",
    "device_status",
    "caseload_pages",
    "device_unlock",
    "two_factor",
    "logout",
    "login",
    "api_schema",
    "api_docs",
    "api_redoc",
    "staff_language",
}
# Open on purpose: health, the thank-you page, the tablet's service worker and its "needs a connection"
# page, and the instruments' questions (no personal data; every role reads the same ones). The API's
# documentation needs a login. The scripts' translations, Min plan's service worker, the pictograms
# and the read-aloud clips: a clip is addressed by the SHA-256 of its text, so only whoever has the
# text (its page) finds it.
PUBLIC = {
    "javascript_catalog",
    "plan_service_worker",
    "pictogram",
    "speech_clip",
    "livez",
    "readyz",
    "healthz",
    "public_thanks",
    "service_worker",
    "offline_page",
    "api_instrument_list",
    "api_instrument_form",
}
# Opened with a secret token only (tested separately below with a wrong token).
BY_TOKEN = {"public_self_form", "public_self_submit", "public_survey", "public_survey_submit", "my_plan"}


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
        registered_by=operator(),
    )
    coordinator_svo = user_with_role(Role.COORDINATOR, forbund=ns.svo, username="samordnare-svo")
    job = export_job_create(
        user=coordinator_svo, kind="participant-flow", file_format="csv", params={"forbund": "svo"}, external=True
    )
    import_job = import_job_create(user=coordinator_svo, forbund=ns.svo, content=b"x", file_name="Hemlig-lista.csv")
    closure = PeriodClosure.objects.create(
        forbund=ns.svo,
        date_from=date(2025, 1, 1),
        date_to=date(2025, 12, 31),
        label="Helår 2025",
        status=ClosureStatus.CLOSED,
        closed_by=coordinator_svo,
        algorithm_version=1,
    )
    ns.other = other
    ns.coordinator_svo = coordinator_svo
    ns.secrets = [other.participant.pseudonym, other.insats.name, "SIP Västra", "Arbeta i kök", "Hemlig-lista"]
    personnummer = identity_read(user=other.mentor, participant=other.participant, reason="Testets hemlighet")
    ns.identity_secrets = [personnummer.name, *personnummer_forms(personnummer.personnummer)]
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
        "participant_export": {"pseudonym": other.participant.pseudonym, "fmt": "json"},
        "enrolment_close": {"pseudonym": other.participant.pseudonym, "enrolment_id": other.enrolment.pk},
        "mentor_change": {"pseudonym": other.participant.pseudonym, "enrolment_id": other.enrolment.pk},
        "export_status": {"job_id": job.pk},
        "export_download": {"job_id": job.pk},
        "import_job": {"job_id": import_job.pk},
        "period_close": {"forbund": "svo"},
        "period_reopen": {"closure_id": closure.pk},
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
    "identity_rectify",
    "api_identity_rectify",
}
ENROLMENT_ROUTES = {
    "api_enrolment_close",
    "api_enrolment_mentor",
    "api_enrolment_progression",
    "api_enrolment_goals",
    "api_conversation_save",
    "journey",
    "goal_save",
    "milestone_add",
    "step_add",
    "conversation_hub",
    "self_form",
    "self_done",
    "mentor_form",
    "conversation_compare",
    "self_link_new",
    "plan_link",
    "plan_link_revoke",
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
        for method in (client.get, client.post):  # a POST reaches the views behind require_POST too
            response = method(reverse(name, kwargs=kwargs))
            assert response.status_code in {302, 401, 403, 405}, (name, method.__name__, response.status_code)
            assert not [s for s in world.secrets if s in response.content.decode(errors="replace")], name


# --- Users with several memberships ------------------------------------------------------------

# What a förbund-wide coordinator of svo may open on svo's objects: pseudonymous pages and reports.
COORDINATOR_READS = {
    "api_participant_detail",
    "participant_detail",
    "api_insats_detail",
    "api_insats_enrolments",
    "insats_detail",
    "volume_list",
    "campaign_list",
    "campaign_detail",
    "api_session_detail",
    "api_session_scores",
    "journey",
    "api_enrolment_progression",
    "api_enrolment_goals",
    "report_page",
    "report_csv",
    "export_start",
    "api_report",
    "period_close",  # a förbund-wide coordinator may close svo's periods (refused without confirmation)
}


def _mixed_users(world):
    """Three users holding roles in three förbund; in svo each holds a different one (or none)."""
    flo = ForbundFactory(code="flo", name="Finsam Lekeberg Örebro", pseudonym_prefix="FLÖ")
    coaching = InsatsFactory(code="coaching", name="Coachingteam", forbund=flo)
    isa = InsatsFactory(code="isa-vastra", name="ISA Västra", forbund=world.svo)
    mentor_coordinator_admin = user_with_role(Role.MENTOR, insats=world.jonsbo, username="blandad-1")
    MembershipFactory(user=mentor_coordinator_admin, role=Role.COORDINATOR, forbund=world.svo)
    MembershipFactory(user=mentor_coordinator_admin, role=Role.ADMIN, forbund=flo)
    # Mentor in svo, but in another insats than the person's: no relationship, nothing to see.
    coordinator_mentor_admin = user_with_role(Role.COORDINATOR, forbund=world.sco, username="blandad-2")
    MembershipFactory(user=coordinator_mentor_admin, role=Role.MENTOR, insats=isa)
    MembershipFactory(user=coordinator_mentor_admin, role=Role.ADMIN, forbund=flo)
    # Admin of one svo insats (not the förbund) and admin of sco: no förbund-wide rights in svo.
    admin_admin_mentor = user_with_role(Role.ADMIN, forbund=world.sco, username="blandad-3")
    MembershipFactory(user=admin_admin_mentor, role=Role.ADMIN, insats=isa)
    MembershipFactory(user=admin_admin_mentor, role=Role.MENTOR, insats=coaching)
    # (user, routes whose svo data they may see, routes they may open without seeing svo's person)
    return {
        "blandad-1": (mentor_coordinator_admin, COORDINATOR_READS, set()),
        "blandad-2": (coordinator_mentor_admin, set(), set()),
        "blandad-3": (admin_admin_mentor, set(), world.reports),  # reports on their own svo insats only
    }


@pytest.mark.parametrize("username", ["blandad-1", "blandad-2", "blandad-3"])
def test_users_with_several_memberships_get_only_what_their_role_in_that_forbund_allows(client, world, username):
    user, may_see, may_open = _mixed_users(world)[username]
    client.force_login(user)
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
            if method == "post" and url.startswith("/api/"):
                response = client.post(url, data, content_type="application/json")
            else:
                response = getattr(client, method)(url, data)
            body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
            identity = [secret for secret in world.identity_secrets if secret in body]
            if identity:
                failures.append((name, method, response.status_code, "identitet", identity))
            if name in may_see:
                continue
            allowed = DENIED | ({400} if name in world.reports else set())
            leaked = [secret for secret in world.secrets if secret in body]
            if (response.status_code not in allowed and name not in may_open) or leaked:
                failures.append((name, method, response.status_code, leaked))
    assert failures == [], failures


def test_a_mixed_role_user_cannot_withdraw_consent_where_they_are_only_coordinator(client, world):
    """The review's case: mentor in one förbund, coordinator in another; the page and the API agree."""
    user, _, _ = _mixed_users(world)["blandad-1"]
    client.force_login(user)
    pseudonym = world.other.participant.pseudonym
    withdrawal = {"purpose": "progression", "granted": "0", "channel": "verbal"}
    page = client.post(reverse("consent_record", args=[pseudonym]), withdrawal)
    api = client.post(
        reverse("api_consent", args=[pseudonym]),
        {"purpose": "progression", "granted": False, "channel": "verbal"},
        content_type="application/json",
    )
    assert (page.status_code, api.status_code) == (403, 403)
    assert "Du kan inte registrera samtycken" in page.content.decode()
    assert world.other.participant.consents.filter(granted=False).count() == 0


# --- The Django admin ---------------------------------------------------------------------------


def _with_django_permissions(user):  # noqa: ANN001, ANN202
    """Staff status and every model permission of the registry, as förbund admins were given before
    the access module decided the admin: Django's own permissions must not widen anything."""
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["participants", "progression"]))
    return user


def _admin_urls(model) -> list[str]:  # noqa: ANN001
    """The list and the add form of a model in the admin."""
    info = model._meta.app_label, model._meta.model_name
    return [reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))]


def test_a_forbund_admin_sees_and_is_offered_nothing_of_another_forbund_in_the_django_admin(client, world):
    from django.contrib import admin

    natursteget_mentor = world.other.mentor
    client.force_login(_with_django_permissions(world.admin_sco))
    failures = []
    for model in admin.site._registry:
        for url in _admin_urls(model):
            response = client.get(url)
            body = response.content.decode(errors="replace")
            leaked = [
                text
                for text in [*world.secrets, "Västra Östergötland", natursteget_mentor.username, "samordnare-svo"]
                if text in body
            ]
            if response.status_code not in {200, 302, 403} or leaked:
                failures.append((model.__name__, url, response.status_code, leaked))
    assert failures == [], failures
    # ... while their own förbund is there to run.
    for name in ("insats", "membership", "insatsperiod"):
        response = client.get(reverse(f"admin:participants_{name}_changelist"))
        assert response.status_code == 200, name
    assert "Jonsbo försteg" in client.get(reverse("admin:participants_insats_changelist")).content.decode()


def test_a_forbund_admin_cannot_give_themselves_a_role_or_an_insats_in_another_forbund(client, world):
    from participants.models import ExitReason, Insats, Membership

    client.force_login(_with_django_permissions(world.admin_sco))
    memberships = Membership.objects.count()
    response = client.post(
        reverse("admin:participants_membership_add"),
        {"user": world.admin_sco.pk, "role": "admin", "forbund": world.svo.pk, "insats": ""},
    )
    assert response.status_code == 200 and "giltigt" in response.content.decode()
    response = client.post(
        reverse("admin:participants_membership_add"),
        {"user": world.admin_sco.pk, "role": "mentor", "forbund": "", "insats": world.natursteget.pk},
    )
    assert response.status_code == 200 and "giltigt" in response.content.decode()
    assert Membership.objects.count() == memberships
    response = client.post(
        reverse("admin:participants_insats_add"),
        {
            "forbund": world.svo.pk,
            "code": "smyg",
            "name": "Smyginsats",
            "category": "forberedande",
            "measurement_mode": "per_person",
            "reading_interval_weeks": "6",
            "periods-TOTAL_FORMS": "0",
            "periods-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and not Insats.objects.filter(code="smyg").exists()
    # An svo membership is not even reachable, and the shared code lists are read-only.
    svo_membership = Membership.objects.filter(user=world.coordinator_svo).get()
    response = client.get(reverse("admin:participants_membership_change", args=[svo_membership.pk]))
    assert response.status_code == 302  # "does not exist" back to the index
    felregistrering = ExitReason.objects.get(code="felregistrering")
    response = client.post(
        reverse("admin:participants_exitreason_change", args=[felregistrering.pk]),
        {"code": "felregistrering", "label_sv": "Ändrad", "excluded_from_reports": ""},
    )
    assert response.status_code == 403
    assert ExitReason.objects.get(code="felregistrering").excluded_from_reports


def test_a_forbund_admin_may_still_run_their_own_forbund_in_the_django_admin(client, world):
    from participants.models import Insats, Membership

    client.force_login(world.admin_sco)
    response = client.post(
        reverse("admin:participants_membership_add"),
        {"user": world.mentor_backaberg.pk, "role": "mentor", "forbund": "", "insats": world.jonsbo.pk},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=world.mentor_backaberg, insats=world.jonsbo).exists()
    response = client.post(
        reverse("admin:participants_insats_add"),
        {
            "forbund": world.sco.pk,
            "code": "ny-insats",
            "name": "Ny insats",
            "category": "forberedande",
            "measurement_mode": "per_person",
            "reading_interval_weeks": "6",
            "active": "on",
            "periods-TOTAL_FORMS": "0",
            "periods-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Insats.objects.get(code="ny-insats").forbund == world.sco


# --- The import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["mentor_jonsbo", "coordinator_sco", "admin_sco"])
def test_the_import_never_reaches_another_forbund_or_reveals_a_person(
    client, world, role, django_capture_on_commit_callbacks
):
    from participants.importing import COLUMNS

    personnummer = world.identity_secrets[1]
    values = {column: "" for column in COLUMNS} | {
        "personnummer": personnummer,
        "anonym": "nej",
        "kon": "kvinna",
        "insats": world.other.insats.code,
        "inskrivningsdatum": "2026-01-05",
        "samtycke": "ja",
    }
    content = (";".join(COLUMNS) + "\n" + ";".join(values[c] for c in COLUMNS) + "\n").encode()
    client.force_login(getattr(world, role))
    for forbund in ("svo", "sco"):
        response = upload_import(client, django_capture_on_commit_callbacks, content, forbund=forbund)
        body = response.content.decode(errors="replace")
        assert response.status_code in {200, 403}, (forbund, response.status_code)
        assert "rader utan fel" not in body and 'value="import"' not in body, forbund
        assert not [secret for secret in world.secrets + world.identity_secrets if secret in body], forbund
    if role == "admin_sco":  # the file was checked in sco, where the other förbund's insats is unknown
        assert "Okänd insats" in body


# --- Every export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["mentor_jonsbo", "coordinator_sco", "admin_sco"])
def test_no_export_of_another_forbund_can_be_ordered(client, world, role):
    """The PDF pack, each report's CSV/XLSX job and the analysis export, asked for svo: refused, and
    no job is made (the CSV link and the API are in the matrix above)."""
    from progression.models import ExportJob

    client.force_login(getattr(world, role))
    jobs = ExportJob.objects.count()
    orders = [
        (reverse("export_start", kwargs={"name": "pdf-pack"}), {"forbund": "svo", "format": "pdf"}),
        (reverse("export_start", kwargs={"name": "exits"}), {"forbund": "svo", "format": "xlsx", "extern": "0"}),
        (f"{reverse('analysis_export')}?forbund=svo", {"shape": "long", "format": "csv", "reuse": ""}),
    ]
    for url, data in orders:
        response = client.post(url, data)
        assert response.status_code in {400, 403}, (url, response.status_code)
        assert not [secret for secret in world.secrets if secret in response.content.decode(errors="replace")]
    assert ExportJob.objects.count() == jobs
