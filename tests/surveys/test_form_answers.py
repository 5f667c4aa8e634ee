"""Answers posted from the HTML forms (målbildssamtal, self-assessment links) become numbers only
when they are ASCII digits; anything else stays text for validation to refuse with a message."""

from surveys.views import parse_answers


def test_only_ascii_digits_become_numbers():
    posted = {"item-a": "²", "item-b": "-3", "item-c": "7", "item-d": " ", "item-e": "٣", "other": "1"}

    assert parse_answers(posted) == {"a": "²", "b": -3, "c": 7, "e": "٣"}
