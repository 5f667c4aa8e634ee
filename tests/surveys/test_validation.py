"""validate_answers: every way an answer set can be wrong, in the words a mentor would read."""

import pytest

from surveys.validation import validate_answers
from tests.surveys.factories import load

pytestmark = pytest.mark.django_db

# halsa_1, halsa_2: ladder 1–10 (both); timmar: number 0–60, optional (both);
# kontakt: yes_no (self only); prognos: choice 3/2/1 (mentor only).
VALID_SELF = {"halsa_1": 7, "halsa_2": 1, "timmar": 20, "kontakt": 0}
VALID_MENTOR = {"halsa_1": 10, "halsa_2": 3, "timmar": 0, "prognos": 2}


@pytest.fixture
def version():
    return load()[0]


def _errors(version, answers, perspective="self"):
    return validate_answers(version=version, perspective=perspective, answers=answers)


def test_a_complete_answer_set_is_valid_in_one_query(version, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert _errors(version, VALID_SELF) == {}
    assert _errors(version, VALID_MENTOR, "mentor") == {}


def test_optional_items_may_be_left_out_or_none(version):
    answers = {**VALID_SELF, "timmar": None}
    assert _errors(version, answers) == {}
    del answers["timmar"]
    assert _errors(version, answers) == {}


def test_agreed_reading_takes_the_items_both_perspectives_rate(version):
    assert _errors(version, {"halsa_1": 5, "halsa_2": 5}, "agreed") == {}
    assert _errors(version, {"halsa_1": 5, "halsa_2": 5, "kontakt": 1}, "agreed") == {
        "kontakt": "Frågan ”Har du en kontakt?” ingår inte i den gemensamma bedömningen."
    }


def test_unknown_item(version):
    assert _errors(version, {**VALID_SELF, "halsa_3": 5}) == {"halsa_3": "Okänd fråga: halsa_3"}


def test_item_from_the_other_perspective(version):
    assert _errors(version, {**VALID_SELF, "prognos": 3}) == {
        "prognos": "Frågan ”Tror du på deltagaren?” ingår inte i självskattningen."
    }
    assert _errors(version, {**VALID_MENTOR, "kontakt": 1}, "mentor") == {
        "kontakt": "Frågan ”Har du en kontakt?” ingår inte i handledarens bedömning."
    }


@pytest.mark.parametrize("value", [0, 11, -3])
def test_ladder_value_out_of_range(version, value):
    assert _errors(version, {**VALID_SELF, "halsa_1": value}) == {
        "halsa_1": "Svaret på frågan ”Jag mår bra.” måste vara ett heltal mellan 1 och 10."
    }


@pytest.mark.parametrize("value", [-1, 61])
def test_number_out_of_range(version, value):
    assert _errors(version, {**VALID_SELF, "timmar": value}) == {
        "timmar": "Svaret på frågan ”Mina timmar i veckan” måste vara ett heltal mellan 0 och 60."
    }


@pytest.mark.parametrize(("value", "shown"), [("5", "'5'"), (5.0, "5.0"), (True, "True"), ([5], "[5]")])
def test_wrong_type(version, value, shown):
    assert _errors(version, {**VALID_SELF, "halsa_1": value}) == {
        "halsa_1": f"Svaret på frågan ”Jag mår bra.” måste vara ett heltal, inte {shown}."
    }


def test_required_item_missing_or_none(version):
    answers = {**VALID_SELF, "halsa_2": None}
    del answers["kontakt"]
    assert _errors(version, answers) == {
        "halsa_2": "Svara på frågan ”Jag har ont.”",
        "kontakt": "Svara på frågan ”Har du en kontakt?”",
    }


def test_required_items_of_the_other_perspective_are_not_demanded(version):
    assert "prognos" not in _errors(version, VALID_SELF)
    assert "kontakt" not in _errors(version, VALID_MENTOR, "mentor")


def test_choice_value_not_among_the_options(version):
    assert _errors(version, {**VALID_MENTOR, "prognos": 4}, "mentor") == {
        "prognos": "Svaret på frågan ”Tror du på deltagaren?” måste vara ett av värdena 3 (Ja), 2 (Kanske), 1 (Nej)."
    }


def test_yes_no_takes_1_or_0(version):
    assert _errors(version, {**VALID_SELF, "kontakt": 1}) == {}
    assert _errors(version, {**VALID_SELF, "kontakt": 2}) == {
        "kontakt": "Svaret på frågan ”Har du en kontakt?” måste vara ett av värdena 1 (Ja), 0 (Nej)."
    }


def test_several_errors_are_reported_together(version):
    errors = _errors(version, {"halsa_1": 12, "okand": 1, "kontakt": "ja"})
    assert set(errors) == {"halsa_1", "okand", "kontakt", "halsa_2"}


def test_unknown_perspective_is_a_programming_error(version):
    with pytest.raises(ValueError, match="Okänt perspektiv: deltagare"):
        _errors(version, VALID_SELF, "deltagare")
