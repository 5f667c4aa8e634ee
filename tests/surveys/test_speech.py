"""Read-aloud clips (surveys/speech.py): generated with espeak-ng when an instrument loads, a förbund's
recording winning, found by the `speech_audio` filter and served by surveys.media."""

import logging
import os
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from surveys import speech
from surveys.loading import parse_definition
from surveys.services import instrument_load
from surveys.speech import instruction_texts, speech_clip_url, speech_root, speech_tools, text_key
from tests.surveys.factories import definition_data, item_data
from tests.surveys.test_attachment_loading import MP3

pytestmark = pytest.mark.django_db

# What a participant sees of tests.surveys.factories.definition_data(), language by language: the self
# wording of the items they are asked, their areas' names, and their scales' stages, options and units.
PARTICIPANT_TEXTS = {
    ("sv", "Jag mår bra."),
    ("en", "I feel well."),
    ("sv_lattlast", "Jag mår bra nu."),
    ("ar", "أشعر أنني بخير."),
    ("sv", "Jag har ont."),
    ("sv", "Mina timmar i veckan"),
    ("sv", "Har du en kontakt?"),
    ("sv", "Hälsa"),
    ("en", "Health"),
    ("sv_lattlast", "Må bra"),
    ("sv", "Övrigt"),
    ("sv", "Låg"),
    ("sv", "Hög"),
    ("en", "High"),
    ("sv", "timmar"),
    ("en", "hours"),
    ("sv", "Ja"),
    ("sv", "Nej"),
    ("en", "Yes"),
    ("en", "No"),
    ("sv_lattlast", "Ja"),
    ("sv_lattlast", "Nej"),
}
# Only the mentor is asked these: no clip.
MENTOR_TEXTS = {("sv", "Deltagaren mår bra."), ("sv", "Tror du på deltagaren?"), ("sv", "Kanske")}


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def espeak() -> None:
    """The clips need Debian's espeak-ng and lame (scripts/test installs them as root)."""
    if speech_tools() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("espeak-ng or lame is missing (CI=true: the read-aloud tests must run)", pytrace=False)
        pytest.skip("espeak-ng or lame is missing: apt-get install espeak-ng lame")


def arabic_definition_data() -> dict:
    data = definition_data()
    item_data(data, "halsa_1")["texts"]["self"]["ar"] = "أشعر أنني بخير."
    return data


def load(data: dict, folder: Path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return instrument_load(definition=parse_definition(data, source=str(folder / "test.yaml"), base_dir=folder))


def clip(language: str, text: str) -> Path:
    return speech_root() / language / f"{text_key(text)}.mp3"


def is_mp3(content: bytes) -> bool:
    return content[:3] == b"ID3" or (content[0] == 0xFF and content[1] & 0xE0 == 0xE0)


def test_loading_generates_a_clip_for_every_text_a_participant_sees_in_every_language(
    media, espeak, tmp_path, django_capture_on_commit_callbacks
):
    load(arabic_definition_data(), tmp_path, django_capture_on_commit_callbacks)
    for language, text in PARTICIPANT_TEXTS:
        path = clip(language, text)
        assert path.is_file(), f"no clip for {language}: {text}"
        content = path.read_bytes()
        assert is_mp3(content) and len(content) > 1000, f"{language}: {text} is not speech in MP3"
    for language, text in MENTOR_TEXTS:
        assert not clip(language, text).exists(), f"a clip for the mentor's {text}"
    # The page instructions in every language the catalogues translate them into.
    for language, text in instruction_texts():
        assert clip(language, text).is_file(), f"no clip for the instruction in {language}"
    assert {language for language, _ in instruction_texts()} >= {"sv", "sv_lattlast"}


def test_each_language_is_read_by_its_own_voice(media, espeak, tmp_path, django_capture_on_commit_callbacks):
    load(arabic_definition_data(), tmp_path, django_capture_on_commit_callbacks)
    # The same letters read by the Swedish and the English voice are different sounds.
    result = speech.speech_generate([("en", "Ja"), ("sv", "Ja")])
    assert (result.created, result.existing) == (1, 1)
    assert clip("en", "Ja").read_bytes() != clip("sv", "Ja").read_bytes()


def test_a_clip_already_made_is_kept(media, espeak):
    first = speech.speech_generate([("sv", "Jag mår bra.")])
    made = clip("sv", "Jag mår bra.").stat().st_mtime_ns
    again = speech.speech_generate([("sv", "Jag mår bra."), ("sv_lattlast", "Jag mår bra.")])
    assert (first.created, again.created, again.existing) == (1, 1, 1)
    assert clip("sv", "Jag mår bra.").stat().st_mtime_ns == made


def test_without_espeak_loading_still_works_and_warns(
    media, tmp_path, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="surveys.speech"):
        version, created = load(definition_data(), tmp_path, django_capture_on_commit_callbacks)
    assert created and version.is_published
    assert "espeak-ng or lame is missing" in caplog.text
    assert not any(speech_root().rglob("*.mp3"))


def test_a_recording_wins_over_the_generated_clip(
    client, media, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    (tmp_path / "fraga.sv.mp3").write_bytes(MP3)
    speech.speech_generate([("sv", "Jag mår bra.")])  # a generated clip, when espeak-ng is there
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)  # and no more: this test is about recordings
    data = definition_data()
    item_data(data, "halsa_1")["audio"] = {"sv": "fraga.sv.mp3"}
    load(data, tmp_path, django_capture_on_commit_callbacks)
    url = speech_clip_url(language="sv", text="Jag mår bra.")
    assert "/inspelat/" in url
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MP3
    # A new recording of the same text replaces the old one (a new address: the old one stays cached).
    (tmp_path / "fraga.sv.mp3").write_bytes(MP3 + b"\xff\xfb\x90\x64")
    load(data, tmp_path, django_capture_on_commit_callbacks)
    newer = speech_clip_url(language="sv", text="Jag mår bra.")
    assert newer != url and "/inspelat/" in newer
    assert len(list((speech_root() / "sv" / "inspelat").iterdir())) == 1


def render_filter(text: str, language_code: str) -> str:
    with translation.override(language_code):
        return Template("{% load surveys_tags %}{{ text|speech_audio }}").render(Context({"text": text}))


def test_the_filter_gives_the_clip_in_the_page_language_without_a_query(media, django_assert_num_queries):
    speech.recording_store(language="en", text="Yes", recording=_recording(media, "en"))
    speech.recording_store(language="sv", text="Ja", recording=_recording(media, "sv"))
    with django_assert_num_queries(0):
        english = render_filter("Yes", "en")
        swedish = render_filter("Ja", "sv")
        missing = render_filter("Nej", "sv")
    assert english.startswith("/tal/en/inspelat/") and swedish.startswith("/tal/sv/inspelat/")
    assert missing == ""
    # A text a language lacks is shown in Swedish, and read by the Swedish clip.
    assert render_filter("Ja", "ar") == swedish
    assert render_filter("Ja", "sv-lattlast") == swedish


def test_the_filter_sees_a_clip_made_after_it_looked(media):
    assert render_filter("Kanske", "sv") == ""
    speech.recording_store(language="sv", text="Kanske", recording=_recording(media, "sv"))
    assert render_filter("Kanske", "sv").startswith("/tal/sv/inspelat/")


def _recording(media: Path, name: str):
    from surveys.attachments import RECORDING_TYPES, attachment_check

    path = media.parent / f"{name}.mp3"
    path.write_bytes(MP3 + name.encode())
    return attachment_check(path, types=RECORDING_TYPES, max_bytes=10**6)


def test_the_clip_is_served_as_mpeg_audio_cached_for_a_year(client, media):
    stored = speech_root() / "sv" / f"{text_key('Ja')}.mp3"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(MP3)
    url = speech_clip_url(language="sv", text="Ja")
    assert url == reverse("speech_clip", args=["sv", stored.name]) == f"/tal/sv/{stored.name}"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert "max-age=31536000" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == MP3
    # Safari asks for audio in byte ranges.
    partial = client.get(url, HTTP_RANGE="bytes=0-9")
    assert partial.status_code == 206
    assert partial.content == MP3[:10]
    assert partial["Content-Range"] == f"bytes 0-9/{len(MP3)}"


@pytest.mark.parametrize(
    "path",
    [
        f"/tal/sv/{'0' * 24}.mp3",  # no such clip
        f"/tal/de/{'0' * 24}.mp3",  # no such language
        "/tal/sv/../../settings.py",
        f"/tal/sv/inspelat/{'0' * 24}.mp3",
    ],
)
def test_an_unknown_clip_is_not_found(client, media, path):
    (speech_root() / "sv").mkdir(parents=True)
    (speech_root() / "sv" / f"{'1' * 24}.mp3").write_bytes(MP3)
    assert client.get(path).status_code == 404
