"""participants/services.py: registration, consent and enrolment rules."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from participants import hooks
from participants.models import (
    Consent,
    ConsentPurpose,
    Enrolment,
    IdentityRecord,
    MeasurementMode,
    MentorAssignment,
    Participant,
    Role,
)
from participants.selectors import consent_current, consent_granted, participant_list_for_user
from participants.services import (
    ParticipantAlreadyRegistered,
    consent_record,
    enrolment_change_mentor,
    enrolment_close,
    enrolment_create,
    participant_register,
)
from tests.factories import (
    EnrolmentFactory,
    InsatsFactory,
    education_level,
    exit_reason,
    income_source,
    operator,
    register_identified,
    registry_world,
    synthetic_personnummer,
    user_with_role,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
PNR = synthetic_personnummer(date(1985, 6, 14), serial="417")


@pytest.fixture
def world():
    return registry_world()


# --- Registration --------------------------------------------------------------------------


def test_identified_registration_stores_identity_encrypted_and_registration_consent(world):
    participant = register_identified(
        forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name="Testa Testsson", today=TODAY
    )
    assert participant.pseudonym.startswith("SCÖ-")
    assert participant.birth_year == 1985
    assert participant.is_anonymous is False
    record = IdentityRecord.objects.get(participant=participant)
    assert record.forbund == world.sco
    assert "198506144" not in record.personnummer_encrypted
    assert "Testsson" not in record.name_encrypted
    consent = Consent.objects.get(participant=participant)
    assert (consent.purpose, consent.granted, consent.channel) == (ConsentPurpose.REGISTRATION, True, "written")
    assert consent.recorded_by == world.mentor_jonsbo


@pytest.mark.parametrize(
    "second_form",
    [PNR, PNR.replace("-", ""), PNR[2:], PNR[2:].replace("-", "")],
    ids=["same", "12-digits-no-dash", "10-digits-dash", "10-digits"],
)
def test_duplicate_in_same_forbund_raises_with_the_existing_participant(world, second_form):
    first = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, today=TODAY)
    with pytest.raises(ParticipantAlreadyRegistered) as caught:
        register_identified(
            forbund=world.sco, by=world.mentor_backaberg, personnummer=second_form, name="Annat Namn", today=TODAY
        )
    assert caught.value.participant == first
    assert first.pseudonym in str(caught.value)
    assert Participant.objects.count() == 1
    assert IdentityRecord.objects.count() == 1


def test_same_personnummer_in_another_forbund_is_a_separate_participant(world):
    in_sco = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, today=TODAY)
    in_svo = register_identified(forbund=world.svo, by=world.mentor_natursteget, personnummer=PNR, today=TODAY)
    assert in_sco != in_svo
    assert in_svo.pseudonym.startswith("SVÖ-")
    assert IdentityRecord.objects.filter(participant__in=[in_sco, in_svo]).count() == 2
    # The keyed index is the same: duplicate detection is per förbund, not global.
    assert in_sco.identity.pnr_index == in_svo.identity.pnr_index


def test_identified_registration_requires_name_and_consent(world):
    with pytest.raises(ValidationError) as caught:
        participant_register(
            forbund=world.sco,
            registered_by=world.mentor_jonsbo,
            kon="man",
            personnummer=PNR,
            name="  ",
            today=TODAY,
        )
    errors = caught.value.message_dict
    assert errors["name"] == ["Ange deltagarens namn."]
    assert "kräver samtycke" in errors["consent_channel"][0]
    assert not Participant.objects.exists()


def test_anonymous_registration_stores_no_identity_and_no_consent(world):
    participant = participant_register(
        forbund=world.sco,
        registered_by=world.mentor_jonsbo,
        kon="man",
        birth_year=1990,
        anonymous=True,
        # Given by mistake with the anonymous choice: must be ignored, never stored.
        personnummer=PNR,
        name="Testa Testsson",
        contact="070-000 00 00",
        today=TODAY,
    )
    assert participant.is_anonymous is True
    assert participant.birth_year == 1990
    assert participant.kon == "man"
    assert not IdentityRecord.objects.exists()
    assert not Consent.objects.exists()
    # The same person can still be registered with identity later: nothing links the two.
    identified = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, today=TODAY)
    assert identified != participant


def test_anonymous_registration_needs_a_birth_year(world):
    with pytest.raises(ValidationError) as caught:
        participant_register(
            forbund=world.sco, registered_by=world.mentor_jonsbo, kon="kvinna", anonymous=True, today=TODAY
        )
    assert caught.value.message_dict["birth_year"] == ["Ange födelseår för en anonym deltagare."]


def test_anonymous_participant_cannot_give_consent(world):
    participant = participant_register(
        forbund=world.sco, registered_by=world.mentor_jonsbo, kon="kvinna", birth_year=1990, anonymous=True
    )
    with pytest.raises(ValidationError) as caught:
        consent_record(
            participant=participant,
            purpose=ConsentPurpose.PROGRESSION,
            granted=True,
            recorded_by=world.mentor_jonsbo,
            channel="verbal",
            text_version="test-1",
        )
    assert "anonym" in caught.value.message_dict["purpose"][0]
    assert not Consent.objects.exists()


@pytest.mark.parametrize("birth", [date(2009, 1, 1), date(2010, 6, 15)], ids=["17", "16"])
def test_sixteen_and_seventeen_year_olds_need_guardian_consent(world, birth):
    pnr = synthetic_personnummer(birth, serial="552")
    with pytest.raises(ValidationError) as caught:
        register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=pnr, today=TODAY)
    assert "vårdnadshavares samtycke krävs" in caught.value.message_dict["guardian_consent"][0]
    assert not Participant.objects.exists()

    participant = register_identified(
        forbund=world.sco, by=world.mentor_jonsbo, personnummer=pnr, guardian_consent=True, today=TODAY
    )
    assert Consent.objects.get(participant=participant).guardian_consent is True


def test_eighteen_year_old_needs_no_guardian(world):
    participant = register_identified(
        forbund=world.sco, by=world.mentor_jonsbo, personnummer=synthetic_personnummer(date(2008, 1, 1)), today=TODAY
    )
    assert Consent.objects.get(participant=participant).guardian_consent is False


@pytest.mark.parametrize(("birth", "age"), [(date(2011, 1, 1), 15), (date(1958, 1, 1), 68)])
def test_participants_outside_sixteen_to_sixty_seven_are_refused(world, birth, age):
    with pytest.raises(ValidationError) as caught:
        register_identified(
            forbund=world.sco,
            by=world.mentor_jonsbo,
            personnummer=synthetic_personnummer(birth),
            guardian_consent=True,
            today=TODAY,
        )
    assert caught.value.message_dict["birth_year"] == [f"Deltagare ska vara 16–67 år (är {age})."]


def test_guardian_consent_is_also_needed_for_later_consents_of_a_minor(world):
    participant = register_identified(
        forbund=world.sco,
        by=world.mentor_jonsbo,
        personnummer=synthetic_personnummer(date(2009, 5, 5)),
        guardian_consent=True,
        today=TODAY,
    )
    kwargs = {
        "participant": participant,
        "purpose": ConsentPurpose.PROGRESSION,
        "recorded_by": world.mentor_jonsbo,
        "channel": "written",
        "text_version": "test-1",
        "today": TODAY,
    }
    with pytest.raises(ValidationError, match="vårdnadshavares samtycke"):
        consent_record(granted=True, **kwargs)
    assert consent_record(granted=True, guardian_consent=True, **kwargs).guardian_consent is True
    # A withdrawal never waits for a guardian.
    assert consent_record(granted=False, **kwargs).granted is False


# --- Consent is append-only --------------------------------------------------------------


@pytest.fixture
def identified(world):
    return register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, today=TODAY)


@pytest.fixture
def withdrawal_calls():
    calls = []

    def handler(participant, policy):  # noqa: ANN001
        calls.append((participant.pk, policy))

    hooks.PROGRESSION_WITHDRAWAL_HANDLERS.append(handler)
    yield calls
    hooks.PROGRESSION_WITHDRAWAL_HANDLERS.remove(handler)


def _consent(participant, by, purpose, granted, **kwargs):  # noqa: ANN001
    return consent_record(
        participant=participant,
        purpose=purpose,
        granted=granted,
        recorded_by=by,
        channel=kwargs.pop("channel", "verbal"),
        text_version="test-1",
        **kwargs,
    )


def test_withdrawal_is_a_new_record_and_the_latest_one_is_in_force(world, identified):
    given = _consent(identified, world.mentor_jonsbo, ConsentPurpose.PROGRESSION, True)
    assert consent_granted(participant=identified, purpose=ConsentPurpose.PROGRESSION) is True

    withdrawn = _consent(identified, world.mentor_jonsbo, ConsentPurpose.PROGRESSION, False)
    assert withdrawn.pk != given.pk
    given.refresh_from_db()
    assert given.granted is True  # the earlier record is untouched
    assert consent_granted(participant=identified, purpose=ConsentPurpose.PROGRESSION) is False
    assert consent_current(participant=identified, purpose=ConsentPurpose.PROGRESSION) == withdrawn
    assert list(
        Consent.objects.filter(participant=identified, purpose=ConsentPurpose.PROGRESSION)
        .order_by("id")
        .values_list("granted", flat=True)
    ) == [True, False]

    again = _consent(identified, world.mentor_jonsbo, ConsentPurpose.PROGRESSION, True)
    assert consent_current(participant=identified, purpose=ConsentPurpose.PROGRESSION) == again
    assert consent_granted(participant=identified, purpose=ConsentPurpose.PROGRESSION) is True
    # Other purposes are not affected.
    assert consent_granted(participant=identified, purpose=ConsentPurpose.REGISTRATION) is True
    assert consent_granted(participant=identified, purpose=ConsentPurpose.RESEARCH) is False


@pytest.mark.parametrize("policy", ["delete", "anonymise"])
def test_withdrawing_progression_consent_calls_the_handlers_with_the_forbund_policy(
    world, identified, withdrawal_calls, policy
):
    world.sco.progression_withdrawal_policy = policy
    world.sco.save()
    identified.refresh_from_db()
    _consent(identified, world.mentor_jonsbo, ConsentPurpose.PROGRESSION, True)
    assert withdrawal_calls == []
    _consent(identified, world.mentor_jonsbo, ConsentPurpose.PROGRESSION, False)
    assert withdrawal_calls == [(identified.pk, policy)]


def test_withdrawing_another_purpose_does_not_call_progression_handlers(world, identified, withdrawal_calls):
    _consent(identified, world.mentor_jonsbo, ConsentPurpose.RESEARCH, False)
    _consent(identified, world.mentor_jonsbo, ConsentPurpose.REGISTRATION, False)
    assert withdrawal_calls == []


def test_a_failing_withdrawal_handler_leaves_no_withdrawal_recorded(world, identified):
    def failing(participant, policy):  # noqa: ANN001
        raise RuntimeError("progression unavailable")

    hooks.PROGRESSION_WITHDRAWAL_HANDLERS.append(failing)
    try:
        with pytest.raises(RuntimeError):
            _consent(identified, world.mentor_jonsbo, ConsentPurpose.PROGRESSION, False)
    finally:
        hooks.PROGRESSION_WITHDRAWAL_HANDLERS.remove(failing)
    assert not Consent.objects.filter(participant=identified, purpose=ConsentPurpose.PROGRESSION).exists()


def test_sharing_consent_names_the_member_authority(world, identified):
    with pytest.raises(ValidationError) as caught:
        _consent(identified, world.mentor_jonsbo, ConsentPurpose.SHARING, True)
    assert "medlemsmyndighet" in caught.value.message_dict["member_authority"][0]
    consent = _consent(
        identified, world.mentor_jonsbo, ConsentPurpose.SHARING, True, member_authority=" Försäkringskassan "
    )
    assert consent.member_authority == "Försäkringskassan"


def test_consent_needs_channel_and_text_version(world, identified):
    with pytest.raises(ValidationError) as caught:
        consent_record(
            participant=identified,
            purpose=ConsentPurpose.RESEARCH,
            granted=True,
            recorded_by=world.mentor_jonsbo,
            channel="",
            text_version="",
        )
    assert "channel" in caught.value.message_dict


# --- Enrolments ----------------------------------------------------------------------------


def _enrol(participant, insats, start=date(2026, 3, 1), **kwargs):  # noqa: ANN001
    return enrolment_create(
        by=operator(),
        participant=participant,
        insats=insats,
        start_date=start,
        income_before=income_source("sjukpenning_rehab"),
        income_before_extent=Decimal("0.50"),
        education=education_level(),
        years_in_public_support=Decimal("3.5"),
        today=TODAY,
        **kwargs,
    )


def _close(enrolment, end=date(2026, 6, 1), reason="arbete", income="ingen_offentlig"):  # noqa: ANN001
    return enrolment_close(
        by=operator(),
        enrolment=enrolment,
        end_date=end,
        exit_reason=exit_reason(reason),
        income_after=income_source(income) if income else None,
        income_after_extent=Decimal("1.00") if income else None,
        today=TODAY,
    )


def test_enrolment_stores_sus_background_and_first_mentor(world, identified):
    enrolment = _enrol(identified, world.jonsbo, mentor=world.mentor_jonsbo)
    enrolment.refresh_from_db()
    assert enrolment.is_open
    assert enrolment.income_before.code == "sjukpenning_rehab"
    assert enrolment.income_before_extent == Decimal("0.50")
    assert enrolment.education.code == "gymnasial"
    assert enrolment.years_in_public_support == Decimal("3.5")
    assignment = MentorAssignment.objects.get(enrolment=enrolment)
    assert (assignment.mentor, assignment.start_date, assignment.end_date) == (
        world.mentor_jonsbo,
        date(2026, 3, 1),
        None,
    )


def test_only_one_open_enrolment_per_participant_and_insats(world, identified):
    first = _enrol(identified, world.jonsbo)
    with pytest.raises(ValidationError) as caught:
        _enrol(identified, world.jonsbo, start=date(2026, 4, 1))
    assert caught.value.message_dict["insats"] == ["Deltagaren är redan inskriven i insatsen."]
    # Another insats at the same time is fine, and so is coming back after an avslut.
    _enrol(identified, world.backaberg)
    _close(first)
    again = _enrol(identified, world.jonsbo, start=date(2026, 6, 2))
    assert Enrolment.objects.filter(participant=identified, insats=world.jonsbo).count() == 2
    assert again.is_open


def test_database_also_refuses_a_second_open_enrolment(world, identified):
    _enrol(identified, world.jonsbo)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(participant=identified, insats=world.jonsbo, start_date=date(2026, 5, 1))


def test_enrolment_refuses_insats_of_another_forbund_volume_insats_and_far_future_start(world, identified):
    with pytest.raises(ValidationError, match="annat förbund"):
        _enrol(identified, world.natursteget)
    volume = InsatsFactory(forbund=world.sco, code="sip", measurement_mode=MeasurementMode.VOLUME)
    with pytest.raises(ValidationError, match="volym"):
        _enrol(identified, volume)
    with pytest.raises(ValidationError, match="mer än en månad fram"):
        _enrol(identified, world.jonsbo, start=TODAY + timedelta(days=32))
    assert _enrol(identified, world.jonsbo, start=TODAY + timedelta(days=31)).is_open


def test_close_sets_avslut_and_ends_the_mentor_assignment(world, identified):
    enrolment = _enrol(identified, world.jonsbo, mentor=world.mentor_jonsbo)
    closed = _close(enrolment, end=date(2026, 6, 1))
    closed.refresh_from_db()
    assert (closed.end_date, closed.exit_reason.code, closed.income_after.code) == (
        date(2026, 6, 1),
        "arbete",
        "ingen_offentlig",
    )
    assert closed.income_after_extent == Decimal("1.00")
    assert MentorAssignment.objects.get(enrolment=enrolment).end_date == date(2026, 6, 1)


def test_end_date_before_start_is_refused(world, identified):
    enrolment = _enrol(identified, world.jonsbo, start=date(2026, 3, 1))
    with pytest.raises(ValidationError) as caught:
        _close(enrolment, end=date(2026, 2, 28))
    assert "före inskrivningsdatum (2026-03-01)" in caught.value.message_dict["end_date"][0]
    enrolment.refresh_from_db()
    assert enrolment.is_open
    # Same day is allowed (a one-day enrolment).
    assert _close(enrolment, end=date(2026, 3, 1)).end_date == date(2026, 3, 1)


def test_database_refuses_end_before_start_and_closed_without_exit_reason(world, identified):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(
            participant=identified,
            insats=world.jonsbo,
            start_date=date(2026, 3, 1),
            end_date=date(2026, 2, 1),
            exit_reason=exit_reason(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(
            participant=identified, insats=world.jonsbo, start_date=date(2026, 3, 1), end_date=date(2026, 4, 1)
        )


def test_enrolment_create_with_an_end_date_keeps_the_invariants_with_clear_messages(world, identified):
    with pytest.raises(ValidationError) as caught:
        _enrol(identified, world.jonsbo, end_date=date(2026, 2, 1), exit_reason=exit_reason())
    assert "end_date" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _enrol(identified, world.jonsbo, end_date=date(2026, 4, 1))
    assert "exit_reason" in caught.value.message_dict
    assert not Enrolment.objects.exists()


def test_end_date_in_the_future_is_refused(world, identified):
    enrolment = _enrol(identified, world.jonsbo)
    with pytest.raises(ValidationError, match="i framtiden"):
        _close(enrolment, end=TODAY + timedelta(days=1))


def test_cannot_close_twice(world, identified):
    enrolment = _enrol(identified, world.jonsbo)
    _close(enrolment, end=date(2026, 5, 1))
    with pytest.raises(ValidationError) as caught:
        _close(enrolment, end=date(2026, 6, 1), reason="studier")
    assert caught.value.message_dict["end_date"] == ["Inskrivningen avslutades redan 2026-05-01."]
    enrolment.refresh_from_db()
    assert (enrolment.end_date, enrolment.exit_reason.code) == (date(2026, 5, 1), "arbete")


def test_closing_requires_an_exit_reason(world, identified):
    enrolment = _enrol(identified, world.jonsbo)
    with pytest.raises(ValidationError) as caught:
        enrolment_close(
            by=operator(),
            enrolment=enrolment,
            end_date=date(2026, 5, 1),
            exit_reason=None,
            income_after=income_source(),
            income_after_extent=Decimal("1.00"),
            today=TODAY,
        )
    assert "exit_reason" in caught.value.message_dict
    enrolment.refresh_from_db()
    assert enrolment.is_open


def test_closing_requires_income_after_except_for_felregistrering(world, identified):
    enrolment = _enrol(identified, world.jonsbo)
    with pytest.raises(ValidationError) as caught:
        _close(enrolment, reason="arbete", income=None)
    assert caught.value.message_dict["income_after"] == ["Ange försörjningskälla efter insatsen."]

    closed = _close(enrolment, reason="felregistrering", income=None)
    closed.refresh_from_db()
    assert closed.exit_reason.excluded_from_reports is True
    assert closed.income_after is None
    assert closed.income_after_extent is None


# --- Mentor changes --------------------------------------------------------------------------


def test_mentor_changes_are_kept_as_history_and_counted(world, identified):
    second = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-2")
    third = user_with_role(Role.MENTOR, forbund=world.sco, username="mentor-sco")
    enrolment = _enrol(identified, world.jonsbo, mentor=world.mentor_jonsbo)

    enrolment_change_mentor(by=operator(), enrolment=enrolment, mentor=second, from_date=date(2026, 4, 1))
    enrolment_change_mentor(by=operator(), enrolment=enrolment, mentor=third, from_date=date(2026, 5, 1))

    history = list(
        MentorAssignment.objects.filter(enrolment=enrolment).values_list("mentor__username", "start_date", "end_date")
    )
    assert history == [
        ("mentor-jonsbo", date(2026, 3, 1), date(2026, 4, 1)),
        ("mentor-jonsbo-2", date(2026, 4, 1), date(2026, 5, 1)),
        ("mentor-sco", date(2026, 5, 1), None),
    ]
    changes = MentorAssignment.objects.filter(enrolment=enrolment).count() - 1
    assert changes == 2


def test_mentor_change_refuses_same_mentor_dates_before_and_closed_enrolments(world, identified):
    second = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-2")
    enrolment = _enrol(identified, world.jonsbo, mentor=world.mentor_jonsbo)
    with pytest.raises(ValidationError, match="redan deltagarens handledare"):
        enrolment_change_mentor(
            by=operator(), enrolment=enrolment, mentor=world.mentor_jonsbo, from_date=date(2026, 4, 1)
        )
    with pytest.raises(ValidationError, match="före inskrivningen"):
        enrolment_change_mentor(by=operator(), enrolment=enrolment, mentor=second, from_date=date(2026, 2, 1))
    enrolment_change_mentor(by=operator(), enrolment=enrolment, mentor=second, from_date=date(2026, 4, 1))
    with pytest.raises(ValidationError, match="före nuvarande handledares startdatum"):
        enrolment_change_mentor(
            by=operator(), enrolment=enrolment, mentor=world.mentor_jonsbo, from_date=date(2026, 3, 15)
        )
    _close(enrolment, end=date(2026, 5, 1))
    enrolment.refresh_from_db()
    with pytest.raises(ValidationError, match="avslutad"):
        enrolment_change_mentor(
            by=operator(), enrolment=enrolment, mentor=world.mentor_jonsbo, from_date=date(2026, 5, 1)
        )
    assert MentorAssignment.objects.filter(enrolment=enrolment).count() == 2
    assert not MentorAssignment.objects.filter(enrolment=enrolment, end_date__isnull=True).exists()


def test_first_mentor_can_be_assigned_to_an_enrolment_without_one(world, identified):
    enrolment = _enrol(identified, world.jonsbo)
    enrolment_change_mentor(by=operator(), enrolment=enrolment, mentor=world.mentor_jonsbo, from_date=date(2026, 3, 10))
    assert MentorAssignment.objects.get(enrolment=enrolment).mentor == world.mentor_jonsbo


# --- Scope of what was registered -----------------------------------------------------------


def test_enrolled_participant_is_visible_to_the_insats_mentor_only(world, identified):
    _enrol(identified, world.jonsbo)
    other = EnrolmentFactory(insats=world.backaberg).participant
    assert list(participant_list_for_user(user=world.mentor_jonsbo)) == [identified]
    assert set(participant_list_for_user(user=world.coordinator_sco)) == {identified, other}
    assert not participant_list_for_user(user=world.mentor_natursteget).exists()


def test_consents_cannot_be_changed_or_deleted_in_the_admin(client, world, identified):
    consent = Consent.objects.get(participant=identified)
    superuser = user_with_role(Role.ADMIN, forbund=world.sco, username="superadmin", is_superuser=True, is_staff=True)
    client.force_login(superuser)
    change = reverse("admin:participants_consent_change", args=[consent.pk])
    assert client.get(change).status_code == 200  # readable
    assert client.post(change, {"granted": ""}).status_code == 403
    assert (
        client.post(reverse("admin:participants_consent_delete", args=[consent.pk]), {"post": "yes"}).status_code == 403
    )
    assert client.get(reverse("admin:participants_consent_add")).status_code == 403
    consent.refresh_from_db()
    assert consent.granted is True
