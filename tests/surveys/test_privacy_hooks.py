"""Readings under the registry's privacy rules: the GDPR export and withdrawn progression consent."""

import json
import uuid

import pytest
from django.core.exceptions import ValidationError

from participants.gdpr import participant_export
from surveys.models import WORDING_FOR, Answer, AssessmentSession, SelfAssessmentLink, SessionStatus
from surveys.sessions import self_link_create, self_link_submit, session_correct, session_submit
from tests.factories import operator
from tests.surveys.factories import (
    ladder_items,
    measured_enrolment,
    progression_consent,
    shipped_version,
    stored_readings,
    valid_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return shipped_version()


def _submit(world, version, perspective="self", **overrides):  # noqa: ANN001
    session, _ = session_submit(
        client_uuid=uuid.uuid4(),
        enrolment=world.enrolment,
        version=version,
        perspective=perspective,
        answers=valid_answers(version, perspective, **overrides),
        recorded_by=world.mentor,
    )
    return session


def _readings(world, version):  # noqa: ANN001
    """A mentor reading, and a self reading that was corrected (superseded original + correction)."""
    first = ladder_items(version)[0]
    mentor = _submit(world, version, "mentor")
    original = _submit(world, version, "self", **{first: 2})
    correction = session_correct(
        session=original, answers=valid_answers(version, "self", **{first: 8}), corrected_by=world.mentor
    )
    original.refresh_from_db()
    return mentor, original, correction


def _answer_rows(session: AssessmentSession) -> list[dict]:
    wording = WORDING_FOR[session.perspective]
    return [
        {"fraga": code, "omrade": area["sv"], "fragetext": texts.get(wording, {}).get("sv", ""), "svar": value}
        for code, area, texts, value in Answer.objects.filter(session=session)
        .order_by("item__code")
        .values_list("item__code", "item__dimension__label", "item__texts", "value")
    ]


# --- GDPR export --------------------------------------------------------------------------------


def test_the_export_holds_every_reading_with_its_answers(version):
    world = measured_enrolment()
    mentor, original, correction = _readings(world, version)
    other = measured_enrolment(forbund=world.forbund)
    _submit(other, version, "self")

    data = participant_export(participant=world.participant, by=operator(), reason="Begäran om registerutdrag")

    readings = data["bedomningar"]
    assert len(readings) == 3
    by_status_and_perspective = {(r["status"], r["perspektiv"]): r for r in readings}
    assert set(by_status_and_perspective) == {
        ("Inlämnad", "Handledarens bedömning"),
        ("Ersatt av en rättelse", "Självskattning"),
        ("Inlämnad", "Självskattning"),
    }
    assert by_status_and_perspective[("Inlämnad", "Handledarens bedömning")]["svar"] == _answer_rows(mentor)
    assert by_status_and_perspective[("Ersatt av en rättelse", "Självskattning")]["svar"] == _answer_rows(original)
    assert by_status_and_perspective[("Inlämnad", "Självskattning")]["svar"] == _answer_rows(correction)
    assert all(r["insats"] == world.insats.name and r["instrument"] == str(version) for r in readings)
    json.dumps(data)  # the export is delivered as JSON


def test_the_export_of_a_participant_without_readings_has_an_empty_section(version):
    world = measured_enrolment()

    data = participant_export(participant=world.participant, by=operator(), reason="Begäran om registerutdrag")

    assert data["bedomningar"] == []


# --- Withdrawn progression consent --------------------------------------------------------------


def test_withdrawal_with_policy_anonymise_keeps_the_readings_marked(version):
    world = measured_enrolment(policy="anonymise")
    readings = _readings(world, version)
    answers_before = {session.pk: _answer_rows(session) for session in readings}
    other = measured_enrolment(forbund=world.forbund)
    others = _submit(other, version, "self")

    progression_consent(world.participant, by=world.mentor, granted=False)

    kept = AssessmentSession.objects.filter(enrolment=world.enrolment)
    assert {session.pk for session in kept} == set(answers_before)
    assert all(session.consent_withdrawn for session in kept)
    assert {session.pk: _answer_rows(session) for session in kept} == answers_before
    assert {session.pk: session.status for session in kept} == {
        readings[0].pk: SessionStatus.SUBMITTED,
        readings[1].pk: SessionStatus.SUPERSEDED,
        readings[2].pk: SessionStatus.SUBMITTED,
    }
    others.refresh_from_db()
    assert others.consent_withdrawn is False


def test_withdrawal_with_policy_delete_removes_the_readings_and_their_answers(version):
    world = measured_enrolment(policy="delete")
    _readings(world, version)
    _, token = self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)
    used_link_session = self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))
    other = measured_enrolment(forbund=world.forbund)
    others = _submit(other, version, "self")
    others_answers = _answer_rows(others)

    progression_consent(world.participant, by=world.mentor, granted=False)

    assert not AssessmentSession.objects.filter(enrolment=world.enrolment).exists()
    assert not Answer.objects.filter(session__enrolment=world.enrolment).exists()
    assert stored_readings() == (1, len(others_answers))
    assert _answer_rows(others) == others_answers
    used = SelfAssessmentLink.objects.get(enrolment=world.enrolment)
    assert used.used_at is not None
    assert used.session is None
    assert not AssessmentSession.objects.filter(pk=used_link_session.pk).exists()


def test_withdrawal_under_policy_delete_empties_the_export_section(version):
    world = measured_enrolment(policy="delete")
    _readings(world, version)

    progression_consent(world.participant, by=world.mentor, granted=False)

    data = participant_export(participant=world.participant, by=operator(), reason="Begäran om registerutdrag")
    assert data["bedomningar"] == []


def test_consent_given_again_allows_new_readings_that_are_not_marked(version):
    world = measured_enrolment(policy="anonymise")
    before = _submit(world, version, "self")
    progression_consent(world.participant, by=world.mentor, granted=False)

    progression_consent(world.participant, by=world.mentor, granted=True)
    after = _submit(world, version, "self")

    before.refresh_from_db()
    assert (before.consent_withdrawn, after.consent_withdrawn) == (True, False)


def test_a_reading_kept_after_withdrawal_cannot_be_corrected_back_into_view(version):
    world = measured_enrolment(policy="anonymise")
    original = _submit(world, version, "self")
    progression_consent(world.participant, by=world.mentor, granted=False)
    original.refresh_from_db()

    try:
        correction = session_correct(
            session=original, answers=valid_answers(version, "self"), corrected_by=world.mentor
        )
    except ValidationError:  # refusing the correction is an acceptable outcome too
        return
    assert correction.consent_withdrawn is True
