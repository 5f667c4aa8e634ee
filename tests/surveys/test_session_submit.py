"""session_submit and session_correct on the shipped stegvis-progression instrument.

Item codes come from the loaded instrument (tests.surveys.factories), so a reworded item in the
shipped YAML does not break these tests; test_the_shipped_instrument_has_what_these_tests_rely_on
says what they do rely on.
"""

import threading
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from participants.services import enrolment_close
from surveys import hooks
from surveys.models import Answer, AppliesTo, AssessmentSession, Item, SessionStatus
from surveys.sessions import session_correct, session_submit
from tests.factories import exit_reason, income_source, operator
from tests.surveys.factories import (
    draft_copy,
    ladder_items,
    measured_enrolment,
    mentor_only_item,
    progression_consent,
    shipped_version,
    stored_readings,
    valid_answers,
)


@pytest.fixture
def version(db):
    return shipped_version()


@pytest.fixture
def world(db):
    return measured_enrolment()


@pytest.fixture
def codes(version):
    """Item codes by role: ladder (required, both perspectives), mentor_only, optional."""
    optional = Item.objects.filter(version=version, required=False, applies_to=AppliesTo.BOTH)
    return SimpleNamespace(
        ladder=ladder_items(version),
        mentor_only=mentor_only_item(version),
        optional=optional.values_list("code", flat=True).first(),
    )


def _self(version, **overrides):  # noqa: ANN001
    return valid_answers(version, "self", **overrides)


def _mentor(version, **overrides):  # noqa: ANN001
    return valid_answers(version, "mentor", **overrides)


def _submit(world, version, answers, *, perspective="self", client_uuid=None, **kwargs):  # noqa: ANN001
    return session_submit(
        client_uuid=client_uuid or uuid.uuid4(),
        enrolment=world.enrolment,
        version=version,
        perspective=perspective,
        answers=answers,
        recorded_by=world.mentor,
        **kwargs,
    )


def _stored_answers(session: AssessmentSession) -> dict[str, int | None]:
    return dict(Answer.objects.filter(session=session).values_list("item__code", "value"))


def _refused(world, version, answers, **kwargs) -> dict[str, list[str]]:  # noqa: ANN001
    """Submit, expect a ValidationError, and check that nothing at all was stored."""
    before = stored_readings()
    with pytest.raises(ValidationError) as excinfo:
        _submit(world, version, answers, **kwargs)
    assert stored_readings() == before
    return excinfo.value.message_dict


def _close(enrolment) -> None:  # noqa: ANN001
    enrolment_close(
        by=operator(),
        enrolment=enrolment,
        end_date=timezone.localdate(),
        exit_reason=exit_reason("arbete"),
        income_after=income_source("ingen_offentlig"),
        income_after_extent=Decimal("1"),
    )
    enrolment.refresh_from_db()


def test_the_shipped_instrument_has_what_these_tests_rely_on(version, codes):
    ladder = Item.objects.filter(version=version, code__in=codes.ladder).select_related("scale")
    assert len(codes.ladder) >= 8
    assert {(item.scale.min_value, item.scale.max_value) for item in ladder} == {(1, 10)}
    assert codes.mentor_only is not None
    assert codes.optional is not None


# --- Valid readings -----------------------------------------------------------------------------


def test_a_self_assessment_is_stored_with_every_answer(world, version, codes):
    answers = _self(version)
    client_uuid = uuid.uuid4()

    session, created = _submit(world, version, answers, client_uuid=client_uuid)

    assert created is True
    session.refresh_from_db()
    assert (session.enrolment, session.version, session.perspective) == (world.enrolment, version, "self")
    assert (session.client_uuid, session.status, session.recorded_by) == (client_uuid, "submitted", world.mentor)
    assert session.submitted_at is not None
    assert _stored_answers(session) == answers
    assert set(codes.ladder) | {codes.optional} <= set(answers)
    assert codes.mentor_only not in answers


def test_a_mentor_assessment_is_stored_with_every_answer_including_mentor_only_items(world, version, codes):
    answers = _mentor(version)

    session, created = _submit(world, version, answers, perspective="mentor")

    assert created is True
    assert AssessmentSession.objects.get().perspective == "mentor"
    assert _stored_answers(session) == answers
    assert codes.mentor_only in _stored_answers(session)


def test_an_optional_item_left_out_is_not_an_error(world, version, codes):
    answers = _self(version)
    del answers[codes.optional]

    session, _ = _submit(world, version, answers)

    assert _stored_answers(session) == answers


def test_an_item_can_be_answered_at_both_ends_of_the_ladder(world, version, codes):
    low, high = codes.ladder[:2]
    answers = _self(version, **{low: 1, high: 10})

    session, _ = _submit(world, version, answers)

    assert (_stored_answers(session)[low], _stored_answers(session)[high]) == (1, 10)


# --- Idempotency --------------------------------------------------------------------------------


def test_the_same_client_uuid_five_times_stores_one_session_with_the_same_answers(world, version):
    client_uuid = uuid.uuid4()
    answers = _self(version)

    results = [_submit(world, version, answers, client_uuid=client_uuid) for _ in range(5)]

    assert [created for _, created in results] == [True, False, False, False, False]
    assert len({session.pk for session, _ in results}) == 1
    assert AssessmentSession.objects.count() == 1
    assert Answer.objects.count() == len(answers)
    assert _stored_answers(results[0][0]) == answers


def test_a_resubmission_with_other_answers_returns_the_stored_session_unchanged(world, version, codes):
    first_item = codes.ladder[0]
    client_uuid = uuid.uuid4()
    first, _ = _submit(world, version, _self(version, **{first_item: 2}), client_uuid=client_uuid)

    again, created = _submit(world, version, _self(version, **{first_item: 9}), client_uuid=str(client_uuid))

    assert (again.pk, created) == (first.pk, False)
    assert _stored_answers(first)[first_item] == 2


def test_a_client_uuid_of_another_participants_session_is_refused(world, version):
    client_uuid = uuid.uuid4()
    _submit(world, version, _self(version), client_uuid=client_uuid)
    other = measured_enrolment()

    before = stored_readings()
    with pytest.raises(ValidationError) as excinfo:
        session_submit(
            client_uuid=client_uuid,
            enrolment=other.enrolment,
            version=version,
            perspective="self",
            answers=_self(version),
            recorded_by=other.mentor,
        )
    assert "client_uuid" in excinfo.value.message_dict
    assert stored_readings() == before


def test_a_resend_after_the_enrolment_was_closed_returns_the_stored_reading(world, version):
    """A new reading is checked before it is inserted; a resend is answered with what is stored even
    when the reading would be refused now, as before the INSERT stopped looking the UUID up first."""
    client_uuid = uuid.uuid4()
    first, _ = _submit(world, version, _self(version), client_uuid=client_uuid)
    _close(world.enrolment)

    again, created = _submit(world, version, _self(version), client_uuid=client_uuid)

    assert (again.pk, created) == (first.pk, False)
    assert stored_readings() == (1, len(_self(version)))
    assert list(_refused(world, version, _self(version))) == ["enrolment"]  # a new UUID is refused


@pytest.mark.django_db(transaction=True)
def test_the_same_client_uuid_from_five_threads_at_once_stores_one_session():
    version = shipped_version()
    world = measured_enrolment()
    client_uuid = uuid.uuid4()
    answers = _self(version)
    start = threading.Barrier(5)
    results: list[tuple[int, bool]] = []
    failures: list[BaseException] = []

    def submit() -> None:
        try:
            start.wait(timeout=10)
            session, created = _submit(world, version, answers, client_uuid=client_uuid)
            results.append((session.pk, created))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert len(results) == 5
    assert len({pk for pk, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, False, True]
    assert AssessmentSession.objects.filter(client_uuid=client_uuid).count() == 1
    assert AssessmentSession.objects.count() == 1
    assert _stored_answers(AssessmentSession.objects.get()) == answers
    assert Answer.objects.count() == len(answers)


# --- Refusals: ValidationError naming the problem, nothing stored ----------------------------------


def test_an_answer_above_the_ladder_is_refused_by_item(world, version, codes):
    item = codes.ladder[0]

    errors = _refused(world, version, _self(version, **{item: 11}))

    assert list(errors) == [item]
    assert "mellan 1 och 10" in errors[item][0]


def test_an_answer_below_the_ladder_is_refused_by_item(world, version, codes):
    item = codes.ladder[2]

    errors = _refused(world, version, _self(version, **{item: 0}))

    assert list(errors) == [item]


def test_an_unknown_item_code_is_refused(world, version):
    errors = _refused(world, version, _self(version, halsa_okand=5))

    assert list(errors) == ["halsa_okand"]
    assert "Okänd fråga" in errors["halsa_okand"][0]


@pytest.mark.parametrize("value", ["7", 7.0, True])
def test_a_value_that_is_not_an_integer_is_refused(world, version, codes, value):
    item = codes.ladder[4]

    errors = _refused(world, version, _self(version, **{item: value}))

    assert list(errors) == [item]
    assert "heltal" in errors[item][0]


@pytest.mark.parametrize("missing", ["removed", "none"])
def test_a_missing_required_item_is_refused(world, version, codes, missing):
    item = codes.ladder[-1]
    answers = _self(version)
    if missing == "removed":
        del answers[item]
    else:
        answers[item] = None

    errors = _refused(world, version, answers)

    assert list(errors) == [item]
    assert errors[item][0].startswith("Svara på frågan ”")


def test_a_mentor_assessment_without_its_mentor_only_item_is_refused(world, version, codes):
    answers = _mentor(version)
    del answers[codes.mentor_only]

    errors = _refused(world, version, answers, perspective="mentor")

    assert list(errors) == [codes.mentor_only]


def test_a_mentor_only_item_in_a_self_assessment_is_refused(world, version, codes):
    value = _mentor(version)[codes.mentor_only]

    errors = _refused(world, version, _self(version, **{codes.mentor_only: value}))

    assert list(errors) == [codes.mentor_only]
    assert "ingår inte i självskattningen" in errors[codes.mentor_only][0]


def test_an_unpublished_version_is_refused(world, version):
    draft = draft_copy(version)

    errors = _refused(world, draft, _self(draft))

    assert list(errors) == ["version"]
    assert "inte publicerad" in errors["version"][0]


def test_a_survey_instrument_is_refused(world, version):
    survey = shipped_version("nns-pagaende")

    errors = _refused(world, survey, {"nns_1": 5})

    assert list(errors) == ["version"]


def test_a_closed_enrolment_is_refused(world, version):
    _close(world.enrolment)

    errors = _refused(world, version, _self(version))

    assert list(errors) == ["enrolment"]
    assert "avslutades" in errors["enrolment"][0]


def test_a_participant_without_progression_consent_is_refused(version):
    world = measured_enrolment(progression=False)

    errors = _refused(world, version, _self(version))

    assert list(errors) == ["enrolment"]
    assert "samtyckt" in errors["enrolment"][0]


def test_a_participant_who_withdrew_progression_consent_is_refused(world, version):
    _submit(world, version, _self(version))
    progression_consent(world.participant, by=world.mentor, granted=False)

    errors = _refused(world, version, _self(version))

    assert list(errors) == ["enrolment"]
    assert "samtyckt" in errors["enrolment"][0]


def test_every_problem_is_named_at_once(world, version, codes):
    too_high, not_an_integer, missing = codes.ladder[0], codes.ladder[4], codes.ladder[-1]
    answers = _self(version, **{too_high: 11, not_an_integer: "7", "okand": 1})
    del answers[missing]

    errors = _refused(world, version, answers)

    assert set(errors) == {too_high, not_an_integer, "okand", missing}


# --- Drafts -------------------------------------------------------------------------------------


def test_a_draft_may_leave_required_items_for_later(world, version, codes):
    first, second = codes.ladder[:2]

    session, created = _submit(world, version, {first: 4, second: None}, draft=True)

    assert created is True
    session.refresh_from_db()
    assert (session.status, session.submitted_at) == (SessionStatus.DRAFT, None)
    assert _stored_answers(session) == {first: 4, second: None}


def test_a_draft_may_not_hold_an_out_of_range_answer(world, version, codes):
    item = codes.ladder[0]

    errors = _refused(world, version, {item: 11}, draft=True)

    assert list(errors) == [item]


def test_a_draft_may_not_hold_a_mentor_only_answer_in_a_self_assessment(world, version, codes):
    errors = _refused(world, version, {codes.ladder[0]: 4, codes.mentor_only: 3}, draft=True)

    assert list(errors) == [codes.mentor_only]


@pytest.mark.parametrize("outside", ["unknown", "mentor_only"])
def test_a_draft_may_not_name_an_item_outside_the_form_even_unanswered(world, version, codes, outside):
    code = "okand_fraga" if outside == "unknown" else codes.mentor_only
    before = stored_readings()
    with pytest.raises(ValidationError) as excinfo:
        _submit(world, version, {codes.ladder[0]: 4, code: None}, draft=True)
    assert list(excinfo.value.message_dict) == [code]
    assert stored_readings() == before


def test_a_draft_is_refused_without_progression_consent(version, codes):
    world = measured_enrolment(progression=False)

    errors = _refused(world, version, {codes.ladder[0]: 4}, draft=True)

    assert list(errors) == ["enrolment"]


def test_submitting_a_drafts_uuid_as_final_completes_the_same_session(world, version, codes):
    first, second = codes.ladder[:2]
    client_uuid = uuid.uuid4()
    draft, _ = _submit(world, version, {first: 4, second: 8}, client_uuid=client_uuid, draft=True)
    answers = _self(version, **{first: 5})

    session, created = _submit(world, version, answers, client_uuid=client_uuid)

    assert session.pk == draft.pk
    assert created is False
    assert AssessmentSession.objects.count() == 1
    session.refresh_from_db()
    assert session.status == SessionStatus.SUBMITTED
    assert session.submitted_at is not None
    assert _stored_answers(session) == answers
    assert Answer.objects.count() == len(answers)


def test_a_draft_completed_with_an_incomplete_form_stays_a_draft(world, version, codes):
    first, second = codes.ladder[:2]
    client_uuid = uuid.uuid4()
    _submit(world, version, {first: 4}, client_uuid=client_uuid, draft=True)

    errors = _refused(world, version, {first: 5}, client_uuid=client_uuid)

    assert second in errors
    session = AssessmentSession.objects.get()
    assert session.status == SessionStatus.DRAFT
    assert _stored_answers(session) == {first: 4}


def test_a_drafts_uuid_cannot_be_completed_for_another_participant(world, version, codes):
    first = codes.ladder[0]
    client_uuid = uuid.uuid4()
    _submit(world, version, {first: 4}, client_uuid=client_uuid, draft=True)
    other = measured_enrolment()

    with pytest.raises(ValidationError) as excinfo:
        session_submit(
            client_uuid=client_uuid,
            enrolment=other.enrolment,
            version=version,
            perspective="self",
            answers=_self(version),
            recorded_by=other.mentor,
        )
    assert "client_uuid" in excinfo.value.message_dict
    session = AssessmentSession.objects.get()
    assert (session.status, _stored_answers(session)) == (SessionStatus.DRAFT, {first: 4})


def test_a_mentor_draft_cannot_be_completed_as_a_self_assessment(world, version, codes):
    client_uuid = uuid.uuid4()
    _submit(world, version, {codes.ladder[0]: 4}, perspective="mentor", client_uuid=client_uuid, draft=True)

    with pytest.raises(ValidationError):
        _submit(world, version, _self(version), perspective="self", client_uuid=client_uuid)
    assert AssessmentSession.objects.get().status == SessionStatus.DRAFT


# --- Corrections --------------------------------------------------------------------------------


def test_a_correction_supersedes_the_original_and_leaves_its_answers(world, version, codes):
    item = codes.ladder[0]
    original_answers = _self(version, **{item: 2})
    original, _ = _submit(world, version, original_answers)
    corrected_answers = _self(version, **{item: 7})

    correction = session_correct(session=original, answers=corrected_answers, corrected_by=world.mentor)

    original.refresh_from_db()
    correction.refresh_from_db()
    assert correction.pk != original.pk
    assert original.status == SessionStatus.SUPERSEDED
    assert correction.status == SessionStatus.SUBMITTED
    assert correction.supersedes == original
    assert original.superseded_by == correction
    assert correction.recorded_by == world.mentor
    assert correction.client_uuid != original.client_uuid
    assert (correction.enrolment, correction.version, correction.perspective, correction.occurred_at) == (
        original.enrolment,
        original.version,
        original.perspective,
        original.occurred_at,
    )
    assert _stored_answers(original) == original_answers
    assert _stored_answers(correction) == corrected_answers


def test_an_invalid_correction_stores_nothing_and_keeps_the_original_submitted(world, version, codes):
    item = codes.ladder[0]
    original, _ = _submit(world, version, _self(version))

    before = stored_readings()
    with pytest.raises(ValidationError) as excinfo:
        session_correct(session=original, answers=_self(version, **{item: 11}), corrected_by=world.mentor)

    assert list(excinfo.value.message_dict) == [item]
    assert stored_readings() == before
    original.refresh_from_db()
    assert original.status == SessionStatus.SUBMITTED


def test_a_superseded_session_cannot_be_corrected_again(world, version, codes):
    item = codes.ladder[0]
    original, _ = _submit(world, version, _self(version))
    session_correct(session=original, answers=_self(version, **{item: 7}), corrected_by=world.mentor)
    original.refresh_from_db()

    before = stored_readings()
    with pytest.raises(ValidationError) as excinfo:
        session_correct(session=original, answers=_self(version, **{item: 8}), corrected_by=world.mentor)
    assert "session" in excinfo.value.message_dict
    assert stored_readings() == before


def test_a_stale_copy_of_a_corrected_session_cannot_be_corrected_again(world, version, codes):
    item = codes.ladder[0]
    original, _ = _submit(world, version, _self(version))
    stale = AssessmentSession.objects.get(pk=original.pk)
    session_correct(session=original, answers=_self(version, **{item: 7}), corrected_by=world.mentor)

    before = stored_readings()
    with pytest.raises(ValidationError):
        session_correct(session=stale, answers=_self(version, **{item: 8}), corrected_by=world.mentor)
    assert stored_readings() == before


def test_a_draft_cannot_be_corrected(world, version, codes):
    draft, _ = _submit(world, version, {codes.ladder[0]: 4}, draft=True)

    with pytest.raises(ValidationError):
        session_correct(session=draft, answers=_self(version), corrected_by=world.mentor)
    assert AssessmentSession.objects.count() == 1


# --- After-commit handlers -----------------------------------------------------------------------


@pytest.fixture
def submitted_ids():
    ids: list[int] = []

    def record(session_id: int) -> None:
        ids.append(session_id)

    hooks.SESSION_SUBMITTED_HANDLERS.append(record)
    yield ids
    hooks.SESSION_SUBMITTED_HANDLERS.remove(record)


def test_handlers_run_only_after_the_commit(world, version, submitted_ids, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        session, _ = _submit(world, version, _self(version))
        assert submitted_ids == []

    assert submitted_ids == [session.pk]


def test_handlers_do_not_run_for_a_draft_but_do_when_it_is_completed(
    world, version, codes, submitted_ids, django_capture_on_commit_callbacks
):
    client_uuid = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        draft, _ = _submit(world, version, {codes.ladder[0]: 4}, client_uuid=client_uuid, draft=True)
    assert submitted_ids == []

    with django_capture_on_commit_callbacks(execute=True):
        _submit(world, version, _self(version), client_uuid=client_uuid)
    assert submitted_ids == [draft.pk]


def test_handlers_do_not_run_for_a_resubmission_or_a_refusal(
    world, version, codes, submitted_ids, django_capture_on_commit_callbacks
):
    client_uuid = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        session, _ = _submit(world, version, _self(version), client_uuid=client_uuid)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(world, version, _self(version), client_uuid=client_uuid)
        with pytest.raises(ValidationError):
            _submit(world, version, _self(version, **{codes.ladder[0]: 11}))

    assert submitted_ids == [session.pk]


def test_handlers_run_for_a_correction(world, version, codes, submitted_ids, django_capture_on_commit_callbacks):
    original, _ = _submit(world, version, _self(version))
    submitted_ids.clear()

    with django_capture_on_commit_callbacks(execute=True):
        correction = session_correct(
            session=original, answers=_self(version, **{codes.ladder[0]: 7}), corrected_by=world.mentor
        )
        assert submitted_ids == []

    assert submitted_ids == [correction.pk]


def test_a_reading_is_inserted_with_every_column_its_model_gives_a_value_in_python():
    """session_submit stores a new reading with its own INSERT … ON CONFLICT, writing each field's
    Python value: a column given a database default (db_default) would need DEFAULT there instead."""
    assert all(field.db_default is NOT_PROVIDED for field in AssessmentSession._meta.local_concrete_fields)
