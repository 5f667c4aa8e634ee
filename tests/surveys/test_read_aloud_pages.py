"""The participant's forms read every question and answer aloud and show the instrument's pictograms
(surveys/templates/surveys/_item.html); the device side is tests/e2e/test_read_aloud.py."""

from pathlib import Path

import pytest
import tinyhtml5
import yaml
from django.urls import reverse

from surveys import speech
from surveys.attachments import RECORDING_TYPES, attachment_check
from surveys.demo import INSTRUMENTS_DIR
from surveys.loading import parse_definition
from surveys.services import instrument_load
from surveys.sessions import self_link_create
from tests.surveys.factories import measured_enrolment, open_survey, shipped_version
from tests.surveys.test_attachment_loading import MP3

pytestmark = pytest.mark.django_db

HTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world():
    shipped_version()
    return measured_enrolment()


def tree(page: str):
    return tinyhtml5.parse(page)


def find(element, tag: str, css_class: str | None = None) -> list:
    return [
        found
        for found in element.iter(f"{HTML}{tag}")
        if css_class is None or css_class in (found.get("class") or "").split()
    ]


def children(element, tag: str, css_class: str | None = None) -> list:
    return [
        child
        for child in element
        if child.tag == f"{HTML}{tag}" and (css_class is None or css_class in (child.get("class") or "").split())
    ]


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def listen_texts(element) -> list[str]:
    return [button.get("data-text") for button in children(element, "button", "listen")]


def assert_every_question_and_answer_has_a_listen_button(page: str, listen: str = "Lyssna") -> int:
    document = tree(page)
    fieldsets = find(document, "fieldset", "item")
    assert fieldsets, "no questions on the page"
    answers = 0
    for fieldset in fieldsets:
        legend = children(fieldset, "legend")[0]
        optional = "".join(span.text or "" for span in find(legend, "span", "optional"))
        question = text_of(legend).removesuffix(optional).strip()
        assert listen_texts(fieldset) == [question], f"question {question!r}"
        for stage in find(fieldset, "div", "stage"):
            label = text_of(children(stage, "span", "stage-label")[0])
            assert listen_texts(stage) == [label], f"stage {label!r} of {question!r}"
            answers += 1
        for choice in find(fieldset, "div", "choice"):
            label = text_of(children(choice, "label")[0])
            assert listen_texts(choice) == [label], f"option {label!r} of {question!r}"
            answers += 1
    for button in find(document, "button", "listen"):
        assert button.get("type") == "button"
        assert button.get("aria-label").startswith(f"{listen}: {button.get('data-text')[:40]}")
        assert "data-listen" in button.attrib
    # No button inside a label: a label holds nothing interactive.
    for label in find(document, "label"):
        assert not find(label, "button"), text_of(label)
    return answers


def test_every_question_and_stage_on_the_self_assessment_has_a_listen_button(client, world):
    client.force_login(world.mentor)
    page = client.get(reverse("self_form", args=[world.enrolment.pk])).text
    assert assert_every_question_and_answer_has_a_listen_button(page) == 12 * 5  # 12 ladder questions, 5 stages each
    assert 'href="/static/surveys/readaloud.css"' in page


def test_every_question_and_option_on_the_survey_has_a_listen_button(client, world):
    campaign = open_survey(world)
    page = client.get(reverse("public_survey", args=[campaign.token]) + "?sprak=en").text
    # Six graded questions with six options, one yes/no question, all in English.
    assert assert_every_question_and_answer_has_a_listen_button(page, "Listen") == 6 * 6 + 2
    assert 'data-text="Yes"' in page and 'data-text="Not at all"' in page


def test_the_mentor_form_reads_nothing_aloud(client, world):
    client.force_login(world.mentor)
    page = client.get(reverse("mentor_form", args=[world.enrolment.pk])).text
    assert find(tree(page), "fieldset", "item")
    assert "data-listen" not in page


def test_a_button_carries_the_clip_of_its_text_in_the_page_language(client, world, media):
    recording = media.parent / "fraga.mp3"
    recording.write_bytes(MP3)
    question = "I look after my health so that I have the energy to be active."
    speech.recording_store(
        language="en",
        text=question,
        recording=attachment_check(recording, types=RECORDING_TYPES, max_bytes=10**6),
    )
    _, token = self_link_create(enrolment=world.enrolment, version=shipped_version(), created_by=world.mentor)
    document = tree(client.get(reverse("public_self_form", args=[token]) + "?sprak=en").text)
    button = next(b for b in find(document, "button", "listen") if b.get("data-text") == question)
    assert button.get("data-audio") == speech.speech_clip_url(language="en", text=question)
    assert button.get("data-audio").startswith("/tal/en/inspelat/")
    assert client.get(button.get("data-audio")).status_code == 200


def test_a_pictogram_shows_large_with_its_alt_text_in_the_page_language(client, world, media):
    data = yaml.safe_load((INSTRUMENTS_DIR / "stegvis-progression.yaml").read_text(encoding="utf-8"))
    first = data["dimensions"][0]["items"][0]
    first["pictogram"] = {"file": "pictograms/halsa.svg", "alt": {"sv": "Ett hjärta", "en": "A heart", "ar": "قلب"}}
    version, created = instrument_load(
        definition=parse_definition(data, source=str(INSTRUMENTS_DIR / "p.yaml"), base_dir=INSTRUMENTS_DIR)
    )
    assert created
    _, token = self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)
    for language, alt in [("en", "A heart"), ("ar", "قلب"), ("sv_lattlast", "Ett hjärta")]:
        document = tree(client.get(reverse("public_self_form", args=[token]) + f"?sprak={language}").text)
        fieldset = next(f for f in find(document, "fieldset", "item") if f.get("id") == f"item-{first['code']}")
        (image,) = children(fieldset, "img", "pictogram")
        assert image.get("alt") == alt
        assert int(image.get("width")) >= 96
    response = client.get(image.get("src"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "max-age=31536000" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == (INSTRUMENTS_DIR / "pictograms" / "halsa.svg").read_bytes()


@pytest.mark.parametrize("name", [f"{'0' * 24}.svg", "halsa.svg", f"{'0' * 24}.exe", "../settings.py"])
def test_an_unknown_pictogram_is_not_found(client, media, name):
    assert client.get(f"/piktogram/{name}").status_code == 404


def test_the_tablet_keeps_clips_and_pictograms_once_fetched(client):
    worker = client.get(reverse("service_worker")).text
    assert 'var MEDIA = ["/tal/", "/piktogram/"];' in worker
    assert "surveys/readaloud.css" in worker


def test_every_area_of_the_shipped_progression_instrument_has_a_pictogram(client, world):
    version = shipped_version()
    for item in version.items.exclude(applies_to="mentor"):
        assert item.pictogram["file"], item.code
        assert set(item.pictogram["alt"]) == {"sv", "en", "sv_lattlast", "ar"}, item.code
    client.force_login(world.mentor)
    document = tree(client.get(reverse("self_form", args=[world.enrolment.pk])).text)
    images = [
        image for fieldset in find(document, "fieldset", "item") for image in children(fieldset, "img", "pictogram")
    ]
    assert len(images) == 13
    assert {image.get("alt") for image in images} >= {"Ett hjärta med pulsslag", "En väckarklocka"}
    for source in {image.get("src") for image in images}:
        assert client.get(source).status_code == 200, source
