"""Every operation in the OpenAPI schema, called once with real data: success status and exactly the
documented body. OPERATIONS names the test for each; an endpoint added without a test fails
test_every_operation_has_a_test."""

import json
import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from participants.models import Enrolment, IdentityRecord, Participant, Role
from progression.models import Goal
from surveys.models import AssessmentSession
from tests.api.openapi import assert_matches_schema, operation_key, schema_operations
from tests.factories import synthetic_personnummer, user_with_role
from tests.surveys.factories import valid_answers

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("GET", "/api/v1/insatser/"): "test_insats_list",
    ("GET", "/api/v1/insatser/{code}/"): "test_insats_retrieve",
    ("GET", "/api/v1/insatser/{code}/inskrivningar/"): "test_insats_enrolment_list",
    ("GET", "/api/v1/deltagare/"): "test_participant_list",
    ("POST", "/api/v1/deltagare/"): "test_participant_register",
    ("GET", "/api/v1/deltagare/{pseudonym}/"): "test_participant_retrieve",
    ("POST", "/api/v1/deltagare/{pseudonym}/samtycken/"): "test_participant_consent_create",
    ("POST", "/api/v1/deltagare/{pseudonym}/inskrivningar/"): "test_participant_enrol",
    ("POST", "/api/v1/deltagare/{pseudonym}/identitet/"): "test_participant_identity_read",
    ("POST", "/api/v1/deltagare/{pseudonym}/identitet/rattelse/"): "test_participant_identity_rectify",
    ("GET", "/api/v1/deltagare/{pseudonym}/registerutdrag/"): "test_participant_export",
    ("POST", "/api/v1/deltagare/{pseudonym}/radering/"): "test_participant_erase",
    ("POST", "/api/v1/inskrivningar/{enrolment_id}/avslut/"): "test_enrolment_close",
    ("POST", "/api/v1/inskrivningar/{enrolment_id}/handledare/"): "test_enrolment_mentor_change",
    ("GET", "/api/v1/inskrivningar/{enrolment_id}/stegforflyttning/"): "test_enrolment_progression",
    ("GET", "/api/v1/inskrivningar/{enrolment_id}/mal/"): "test_enrolment_goals",
    ("POST", "/api/v1/inskrivningar/{enrolment_id}/mal/"): "test_enrolment_goals_update",
    ("POST", "/api/v1/inskrivningar/{enrolment_id}/samtal/"): "test_conversation_save",
    ("GET", "/api/v1/instrument/"): "test_instrument_list",
    ("GET", "/api/v1/instrument/{code}/"): "test_instrument_form",
    ("GET", "/api/v1/bedomningar/"): "test_session_list",
    ("POST", "/api/v1/bedomningar/"): "test_session_submit",
    ("GET", "/api/v1/bedomningar/{client_uuid}/"): "test_session_retrieve",
    ("GET", "/api/v1/bedomningar/{client_uuid}/poang/"): "test_session_scores",
    ("GET", "/api/v1/rapporter/{name}/"): "test_report_retrieve",
}


@pytest.fixture
def world(api_world):
    return api_world


@pytest.fixture
def call(client, schema, request):
    """call(user, method, url, data, status=…): the operation under test, as `user`. Checks that the
    URL is the operation this test is named for in OPERATIONS, the status, and the body's shape."""

    def _call(user, method: str, url: str, data: dict | None = None, *, status: int = 200):  # noqa: ANN202
        key = operation_key(method, url)
        assert OPERATIONS.get(key) == request.node.originalname, f"{key} is not the operation this test covers"
        client.force_login(user)
        if method == "GET":
            response = client.get(url, data or {})
        else:
            response = client.generic(method, url, json.dumps(data or {}), content_type="application/json")
        assert response.status_code == status, response.content[:500]
        body = response.json() if response.content else None
        assert_matches_schema(schema, *key, status, body)
        return body

    return _call


def test_every_operation_has_a_test(schema):
    assert schema_operations(schema) == set(OPERATIONS), "Add a test here for each new or removed operation"
    for name in OPERATIONS.values():
        assert callable(globals().get(name)), f"{name} is named in OPERATIONS but not defined"


# --- Insatser -----------------------------------------------------------------------------------------


def test_insats_list(call, world):
    body = call(world.coordinator_sco, "GET", reverse("api_insats_list"))
    assert [row["code"] for row in body["results"]] == sorted(["backaberg", "jonsbo", world.insats.code])


def test_insats_retrieve(call, world):
    body = call(world.mentor_jonsbo, "GET", reverse("api_insats_detail", args=["jonsbo"]))
    assert (body["code"], body["forbund"]) == ("jonsbo", "sco")


def test_insats_enrolment_list(call, world):
    body = call(world.mentor, "GET", reverse("api_insats_enrolments", args=[world.insats.code]))
    assert [row["id"] for row in body["results"]] == [world.enrolment.pk]
    assert body["results"][0]["mentor_history"][0]["mentor"] == world.mentor.username


# --- Deltagare ----------------------------------------------------------------------------------------


def test_participant_list(call, world):
    body = call(world.coordinator_sco, "GET", reverse("api_participant_list"))
    assert [row["pseudonym"] for row in body["results"]] == [world.participant.pseudonym]


def test_participant_register(call, world):
    body = call(
        world.mentor_jonsbo,
        "POST",
        reverse("api_participant_list"),
        {
            "forbund": "sco",
            "kon": "man",
            "personnummer": synthetic_personnummer(date(1985, 6, 2), serial="431"),
            "name": "Test Testsson",
            "consent_channel": "written",
        },
        status=201,
    )
    assert Participant.objects.get(pseudonym=body["pseudonym"]).kon == "man"


def test_participant_retrieve(call, world):
    body = call(world.mentor, "GET", reverse("api_participant_detail", args=[world.participant.pseudonym]))
    assert [row["id"] for row in body["enrolments"]] == [world.enrolment.pk]
    assert {row["purpose"] for row in body["consents"]} == {"registration", "progression"}


def test_participant_consent_create(call, world):
    body = call(
        world.mentor,
        "POST",
        reverse("api_consent", args=[world.participant.pseudonym]),
        {"purpose": "research", "granted": True, "channel": "verbal"},
        status=201,
    )
    assert (body["purpose"], body["granted"]) == ("research", True)
    assert "recorded_by" not in body  # would name staff of another insats in a participant's consent history


def test_participant_enrol(call, world):
    body = call(
        world.admin_sco,
        "POST",
        reverse("api_enrol", args=[world.participant.pseudonym]),
        {
            "insats": "jonsbo",
            "start_date": timezone.localdate().isoformat(),
            "mentor": world.mentor_jonsbo.username,
            "income_before": "a_kassa",
            "income_before_extent": "0.50",
            "education": "gymnasial",
            "reason": "Remiss från Arbetsförmedlingen",
            "consent_channel": "written",
        },
        status=201,
    )
    assert (body["insats"], body["income_before_extent"]) == ("jonsbo", 0.5)
    assert Enrolment.objects.filter(participant=world.participant).count() == 2


def test_participant_identity_read(call, world):
    body = call(
        world.mentor,
        "POST",
        reverse("api_identity", args=[world.participant.pseudonym]),
        {"reason": "Ringa om nästa möte"},
    )
    assert body["personnummer"].startswith("19900417")


def test_participant_identity_rectify(call, world):
    body = call(
        world.mentor,
        "POST",
        reverse("api_identity_rectify", args=[world.participant.pseudonym]),
        {"name": "Rättat Namn", "reason": "Namnet var felstavat"},
    )
    assert body["name"] == "Rättat Namn"


def test_participant_export(call, world):
    body = call(world.admin_sco, "GET", reverse("api_export", args=[world.participant.pseudonym]))
    assert body["pseudonym"] == world.participant.pseudonym


def test_participant_erase(call, world):
    call(
        world.admin_sco,
        "POST",
        reverse("api_erasure", args=[world.participant.pseudonym]),
        {"reason": "Begäran om radering"},
        status=204,
    )
    assert not IdentityRecord.objects.filter(participant=world.participant).exists()


# --- Inskrivningar ------------------------------------------------------------------------------------


def test_enrolment_close(call, world):
    body = call(
        world.mentor,
        "POST",
        reverse("api_enrolment_close", args=[world.enrolment.pk]),
        {"end_date": timezone.localdate().isoformat(), "exit_reason": "arbete", "income_after": "ingen_offentlig"},
    )
    assert (body["end_date"], body["exit_reason"], body["income_after"]) == (
        timezone.localdate().isoformat(),
        "arbete",
        "ingen_offentlig",
    )
    assert body["income_after_extent"] == 1.0


def test_enrolment_mentor_change(call, world):
    successor = user_with_role(Role.MENTOR, insats=world.insats, username="efterträdare")
    body = call(
        world.mentor,
        "POST",
        reverse("api_enrolment_mentor", args=[world.enrolment.pk]),
        {"mentor": successor.username, "from_date": timezone.localdate().isoformat()},
    )
    assert [row["mentor"] for row in body["mentor_history"]] == [world.mentor.username, "efterträdare"]


def test_enrolment_progression(call, world):
    body = call(world.mentor, "GET", reverse("api_enrolment_progression", args=[world.enrolment.pk]))
    assert body["enrolment"] == world.enrolment.pk
    assert body["progression"], "two scored readings give a progression per dimension"
    assert {row["n_readings"] for row in body["progression"]} == {2}


def test_enrolment_goals(call, world):
    Goal.objects.create(enrolment=world.enrolment, text="Börja praktik i höst", created_by=world.mentor)
    body = call(world.mentor, "GET", reverse("api_enrolment_goals", args=[world.enrolment.pk]))
    assert body["goal"]["text"] == "Börja praktik i höst"
    assert (body["goal"]["milestones"], body["goal"]["steps"]) == ([], [])


def test_enrolment_goals_update(call, world):
    due = (timezone.localdate() + timedelta(days=14)).isoformat()
    body = call(
        world.mentor,
        "POST",
        reverse("api_enrolment_goals", args=[world.enrolment.pk]),
        {
            "text": "Arbeta halvtid",
            "milestone": "Praktikplats",
            "step_what": "Ringa arbetsgivare",
            "step_who": "Deltagaren",
            "step_due_date": due,
        },
        status=201,
    )
    assert body["goal"]["text"] == "Arbeta halvtid"
    assert [m["text"] for m in body["goal"]["milestones"]] == ["Praktikplats"]
    assert [(s["what"], s["due_date"]) for s in body["goal"]["steps"]] == [("Ringa arbetsgivare", due)]


def test_conversation_save(call, world):
    Goal.objects.create(enrolment=world.enrolment, text="Arbeta halvtid", created_by=world.mentor)
    due = (timezone.localdate() + timedelta(days=42)).isoformat()
    body = call(
        world.mentor,
        "POST",
        reverse("api_conversation_save", args=[world.enrolment.pk]),
        {
            "client_uuid": str(uuid.uuid4()),
            "occurred_at": timezone.now().isoformat(),
            "milestones": [{"text": "Komma i tid", "area": "vardag", "target_date": due}],
            "steps": [{"what": "Ställa väckarklockan", "who": "Deltagaren", "due_date": None}],
        },
        status=201,
    )
    assert body["goal"]["text"] == "Arbeta halvtid", "an empty målbild keeps the current one"
    assert [(m["text"], m["area"], m["target_date"]) for m in body["goal"]["milestones"]] == [
        ("Komma i tid", "vardag", due)
    ]
    assert [s["what"] for s in body["goal"]["steps"]] == ["Ställa väckarklockan"]


# --- Instrument och bedömningar -----------------------------------------------------------------------


def test_instrument_list(call, world):
    body = call(world.mentor, "GET", reverse("api_instrument_list"))
    assert [row["code"] for row in body["results"]] == ["nns-avslut", "nns-pagaende", "stegvis-progression"]


def test_instrument_form(call, world):
    body = call(
        world.mentor,
        "GET",
        reverse("api_instrument_form", args=["stegvis-progression"]),
        {"perspective": "mentor", "language": "sv"},
    )
    asked = {item["code"] for dimension in body["dimensions"] for item in dimension["items"]}
    assert asked == set(valid_answers(world.version, "mentor"))


def test_session_list(call, world):
    body = call(world.mentor, "GET", reverse("api_session_list"), {"enrolment": world.enrolment.pk})
    assert [row["client_uuid"] for row in body["results"]] == [str(s.client_uuid) for s in reversed(world.sessions)]


def test_session_submit(call, world):
    payload = {
        "client_uuid": str(uuid.uuid4()),
        "enrolment": world.enrolment.pk,
        "perspective": "self",
        "answers": valid_answers(world.version, "self"),
    }
    first = call(world.mentor, "POST", reverse("api_session_list"), payload, status=201)
    again = call(world.mentor, "POST", reverse("api_session_list"), payload, status=200)
    assert first == again
    assert AssessmentSession.objects.filter(client_uuid=payload["client_uuid"]).count() == 1


def test_session_retrieve(call, world):
    session = world.sessions[0]
    body = call(world.mentor, "GET", reverse("api_session_detail", args=[session.client_uuid]))
    assert body["answers"] == valid_answers(world.version, "mentor")


def test_session_scores(call, world):
    body = call(world.mentor, "GET", reverse("api_session_scores", args=[world.sessions[0].client_uuid]))
    assert body["scored"] is True
    assert body["scores"] and all(0 <= row["score"] <= 100 for row in body["scores"] if row["score"] is not None)


# --- Rapporter ----------------------------------------------------------------------------------------


def test_report_retrieve(call, world):
    year = timezone.localdate().year
    body = call(
        world.coordinator_sco,
        "GET",
        reverse("api_report", args=["participant-flow"]),
        {"insats": [world.insats.code, "jonsbo"], "period": "helar", "ar": year},
    )
    assert body["report"] == "participant-flow"
    assert sorted(body["filters"]["insats"]) == sorted([world.insats.code, "jonsbo"])
    assert (body["filters"]["from"], body["filters"]["to"]) == (f"{year}-01-01", f"{year}-12-31")
