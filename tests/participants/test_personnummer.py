"""participants/personnummer.py: which forms are accepted, and a Swedish reason for every refusal.

All numbers are synthetic, built with the module's own Luhn function.
"""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from participants.models import IdentityRecord, Participant, Role
from participants.personnummer import PersonnummerError, format_personnummer, luhn_check_digit, parse_personnummer
from participants.services import participant_register
from tests.factories import ForbundFactory, InsatsFactory, operator, synthetic_personnummer, user_with_role

TODAY = date(2026, 6, 15)
BIRTH = date(1985, 6, 14)


def _with_wrong_check_digit(personnummer: str) -> str:
    right = int(personnummer[-1])
    return personnummer[:-1] + str((right + 1) % 10)


def test_luhn_check_digit_matches_the_skatteverket_rule():
    # 850614-238: weights 2,1,2,1,… give 16→7,5,0,6,2,4,4,3,16→7 = 38, so the check digit is 2.
    assert luhn_check_digit("850614238") == 2
    assert luhn_check_digit("000000000") == 0


@pytest.mark.parametrize(
    ("raw", "expected_year"),
    [
        (synthetic_personnummer(BIRTH), 1985),  # 19850614-2382
        (synthetic_personnummer(BIRTH, separator=""), 1985),  # 198506142382
        (synthetic_personnummer(BIRTH, digits=10), 1985),  # 850614-2382
        (synthetic_personnummer(BIRTH, digits=10, separator=""), 1985),  # 8506142382
        (f"  {synthetic_personnummer(BIRTH, digits=10)} ", 1985),  # surrounding blanks are ignored
    ],
)
def test_valid_forms_are_accepted_and_normalised_to_twelve_digits(raw, expected_year):
    parsed = parse_personnummer(raw, today=TODAY)
    twelve = synthetic_personnummer(BIRTH, separator="")
    assert parsed.normalised == twelve
    assert parsed.birth_date == BIRTH
    assert parsed.birth_year == expected_year
    assert parsed.is_samordningsnummer is False
    assert format_personnummer(parsed.normalised) == synthetic_personnummer(BIRTH)


def test_all_forms_of_one_person_normalise_to_the_same_number():
    forms = [
        synthetic_personnummer(BIRTH),
        synthetic_personnummer(BIRTH, separator=""),
        synthetic_personnummer(BIRTH, digits=10),
        synthetic_personnummer(BIRTH, digits=10, separator=""),
    ]
    assert len({parse_personnummer(raw, today=TODAY).normalised for raw in forms}) == 1


def test_plus_marks_a_person_aged_one_hundred_or_more():
    centenarian = date(1920, 3, 4)
    with_plus = synthetic_personnummer(centenarian, digits=10, separator="+")
    with_dash = synthetic_personnummer(centenarian, digits=10, separator="-")
    assert parse_personnummer(with_plus, today=TODAY).birth_date == date(1920, 3, 4)
    # The same ten digits with '-' belong to someone born in 2020.
    assert parse_personnummer(with_dash, today=TODAY).birth_date == date(2020, 3, 4)


def test_ten_digits_without_plus_take_the_latest_century_not_in_the_future():
    assert parse_personnummer(synthetic_personnummer(date(2001, 1, 2), digits=10), today=TODAY).birth_year == 2001
    assert parse_personnummer(synthetic_personnummer(date(1999, 1, 2), digits=10), today=TODAY).birth_year == 1999


@pytest.mark.parametrize("digits", [10, 12])
def test_samordningsnummer_has_sixty_added_to_the_day(digits):
    raw = synthetic_personnummer(BIRTH, samordningsnummer=True, digits=digits)
    assert "0674" in raw  # day 14 written as 74
    parsed = parse_personnummer(raw, today=TODAY)
    assert parsed.is_samordningsnummer is True
    assert parsed.birth_date == BIRTH
    assert parsed.normalised.startswith("19850674")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Ange ett personnummer"),
        ("19850614-238", "ska ha 10 eller 12 siffror, inte 11"),
        ("850614-23", "ska ha 10 eller 12 siffror, inte 8"),
        ("1985061423831", "ska ha 10 eller 12 siffror, inte 13"),
        ("8506-142383", "ska skrivas ÅÅMMDD-NNNN eller ÅÅÅÅMMDD-NNNN"),
        ("19850614-23A3", "får bara innehålla siffror"),
        ("ÅÅMMDD-NNNN", "får bara innehålla siffror"),
        ("19850614/2383", "får bara innehålla siffror"),
    ],
)
def test_malformed_input_is_refused_in_swedish(raw, message):
    with pytest.raises(PersonnummerError, match=message):
        parse_personnummer(raw, today=TODAY)


@pytest.mark.parametrize("digits", [10, 12])
def test_bad_check_digit_is_refused(digits):
    raw = _with_wrong_check_digit(synthetic_personnummer(BIRTH, digits=digits))
    with pytest.raises(PersonnummerError, match="Kontrollsiffran stämmer inte"):
        parse_personnummer(raw, today=TODAY)


def _with_valid_check_digit(yyyymmdd: str, serial: str = "238") -> str:
    return f"{yyyymmdd}-{serial}{luhn_check_digit(yyyymmdd[2:] + serial)}"


@pytest.mark.parametrize(
    "yyyymmdd",
    [
        "19810230",  # 30 February
        "19850631",  # 31 June
        "19851301",  # month 13
        "19850014",  # month 0
        "19850600",  # day 0
        "19850692",  # samordningsnummer for day 32
        "19900229",  # not a leap year
    ],
)
def test_impossible_date_is_refused_even_with_a_correct_check_digit(yyyymmdd):
    raw = _with_valid_check_digit(yyyymmdd)
    with pytest.raises(PersonnummerError, match="Datumet i personnumret finns inte"):
        parse_personnummer(raw, today=TODAY)


def test_leap_day_in_a_leap_year_is_accepted():
    assert parse_personnummer(_with_valid_check_digit("19960229"), today=TODAY).birth_date == date(1996, 2, 29)


@pytest.mark.parametrize(
    "raw",
    [
        synthetic_personnummer(date(2026, 7, 1)),  # 12 digits, two weeks ahead
        synthetic_personnummer(date(2026, 7, 1), digits=10),  # 10 digits read in this century
        synthetic_personnummer(date(2031, 1, 1)),
    ],
)
def test_future_birth_date_is_refused(raw):
    with pytest.raises(PersonnummerError, match="ligger i framtiden"):
        parse_personnummer(raw, today=TODAY)


def test_born_today_is_not_in_the_future():
    assert parse_personnummer(synthetic_personnummer(TODAY), today=TODAY).birth_date == TODAY


def test_plus_with_twelve_digits_is_refused():
    raw = synthetic_personnummer(date(1920, 3, 4), separator="+")
    with pytest.raises(PersonnummerError, match="Plustecken används bara i personnummer med 10 siffror"):
        parse_personnummer(raw, today=TODAY)


def test_every_refusal_is_a_value_error_with_a_message():
    with pytest.raises(ValueError, match=r"\w"):
        parse_personnummer("abc", today=TODAY)


# --- The same rules where a person is registered ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("19850614-238", "10 eller 12 siffror, inte 11"),
        ("19850614-2x83", "får bara innehålla siffror"),
        (_with_wrong_check_digit(synthetic_personnummer(BIRTH)), "Kontrollsiffran stämmer inte"),
        (_with_valid_check_digit("19810230"), "Datumet i personnumret finns inte"),
        (synthetic_personnummer(date(2026, 7, 1)), "ligger i framtiden"),
        (synthetic_personnummer(date(1920, 3, 4), separator="+"), "Plustecken"),
    ],
)
def test_registration_refuses_invalid_personnummer_on_the_field_and_stores_nothing(raw, message):
    with pytest.raises(ValidationError) as caught:
        participant_register(
            forbund=ForbundFactory(),
            registered_by=operator(),
            kon="man",
            personnummer=raw,
            name="Testa Testsson",
            consent_channel="written",
            consent_text_version="test-1",
            today=TODAY,
        )
    assert message in " ".join(caught.value.message_dict["personnummer"])
    assert not Participant.objects.exists()
    assert not IdentityRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [
        synthetic_personnummer(BIRTH, serial="417"),
        synthetic_personnummer(BIRTH, serial="417", digits=10, separator=""),
        synthetic_personnummer(BIRTH, serial="417", samordningsnummer=True),
        synthetic_personnummer(date(1963, 2, 1), serial="417", digits=10),
    ],
)
def test_registration_accepts_valid_forms_and_takes_the_birth_year_from_the_number(raw):
    participant = participant_register(
        forbund=ForbundFactory(),
        registered_by=operator(),
        kon="man",
        personnummer=raw,
        name="Testa Testsson",
        consent_channel="verbal",
        consent_text_version="test-1",
        today=TODAY,
    )
    assert participant.birth_year == parse_personnummer(raw, today=TODAY).birth_year
    assert IdentityRecord.objects.filter(participant=participant).exists()


@pytest.mark.django_db
def test_registration_refuses_a_birth_year_that_contradicts_the_number():
    with pytest.raises(ValidationError) as caught:
        participant_register(
            forbund=ForbundFactory(),
            registered_by=operator(),
            kon="man",
            birth_year=1986,
            personnummer=synthetic_personnummer(BIRTH),
            name="Testa Testsson",
            consent_channel="written",
            consent_text_version="test-1",
            today=TODAY,
        )
    assert "Födelseåret stämmer inte med personnumret (1985)" in caught.value.message_dict["birth_year"][0]


@pytest.mark.django_db
def test_api_refuses_a_bad_check_digit_with_the_swedish_message(client):
    forbund = ForbundFactory(code="sco", pseudonym_prefix="SCÖ")
    mentor = user_with_role(Role.MENTOR, insats=InsatsFactory(forbund=forbund))
    client.force_login(mentor)
    response = client.post(
        reverse("api_participant_list"),
        {
            "forbund": "sco",
            "kon": "man",
            "personnummer": _with_wrong_check_digit(synthetic_personnummer(BIRTH)),
            "name": "Testa Testsson",
            "consent_channel": "written",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Kontrollsiffran stämmer inte" in response.json()["personnummer"][0]
    assert not Participant.objects.exists()
