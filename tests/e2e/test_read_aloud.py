"""Read-aloud on the participant's phone (surveys/static/surveys/readaloud.js): the device's own voice
in the page's language when it has one, else the clip Stegvis made with espeak-ng, held in memory
from the moment the page opened. Screenshots of the buttons and pictograms at phone and tablet size."""

import os
from typing import Any

import pytest
from playwright.sync_api import expect

from surveys.satisfaction import survey_campaign_create
from surveys.sessions import self_link_create
from surveys.speech import speech_tools
from tests.e2e.browsing import PHONE, TABLET
from tests.surveys.factories import shipped_version

# speechSynthesis without a single voice (as on many Android phones for Arabic, or a Linux browser).
NO_VOICE = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  getVoices: function () { return []; },
  speak: function (utterance) { window.__spoken.push(utterance.text); },
  cancel: function () {}, addEventListener: function () {}, removeEventListener: function () {}
}});
"""
# A device with a Swedish and an English voice, which notes what it is asked to say and stays
# "speaking" until cancelled.
FAKE_VOICES = """
window.__spoken = [];
window.__cancelled = 0;
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  getVoices: function () {
    return [{ lang: "sv-SE", name: "Alva", localService: true, voiceURI: "alva", default: true },
            { lang: "en-GB", name: "Daniel", localService: true, voiceURI: "daniel", default: false }];
  },
  speak: function (utterance) { window.__spoken.push({ text: utterance.text, lang: utterance.lang }); },
  cancel: function () { window.__cancelled += 1; },
  addEventListener: function () {}, removeEventListener: function () {}
}});
"""


PLAYER = "document.querySelector('audio[data-readaloud]')"


@pytest.fixture
def espeak() -> None:
    if speech_tools() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("espeak-ng or lame is missing (CI=true: the read-aloud tests must run)", pytrace=False)
        pytest.skip("espeak-ng or lame is missing: apt-get install espeak-ng lame")


def open_link(browsing: Any, world: Any, script: str, *, language: str = "sv", viewport: dict = PHONE) -> Any:
    _, token = self_link_create(
        enrolment=world.fresh_enrolment, version=world.version, created_by=world.mentor, language=language
    )
    page = browsing.page(viewport, is_mobile=viewport is PHONE, has_touch=True)
    page.add_init_script(script)
    page.goto(f"/s/{token}/")
    expect(page.locator("fieldset.item").first).to_be_visible()
    return page


def test_without_a_voice_a_listen_button_plays_the_clip_made_on_the_server(browsing, world, espeak):
    page = open_link(browsing, world, NO_VOICE)
    question = page.locator("fieldset.item").first
    button = question.locator("> button.listen")
    expect(button).to_have_accessible_name(f"Lyssna: {question.locator('legend').inner_text()}"[:88])
    served = button.get_attribute("data-audio")
    assert served and served.startswith("/tal/sv/") and served.endswith(".mp3"), served
    # Every clip on the page is fetched into memory when it opens, before anything is pressed.
    clips = page.evaluate(
        "() => new Set([...document.querySelectorAll('[data-audio]')].map(b => b.dataset.audio)).size"
    )
    assert clips > 10
    with page.expect_response(lambda response: response.url.endswith(served)) as fetched:
        page.reload()
    assert fetched.value.status == 200
    assert fetched.value.headers["content-type"] == "audio/mpeg"
    page.wait_for_timeout(500)

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(f"() => {{ const a = {PLAYER}; return a && !a.paused && a.currentTime > 0; }}")
    player = page.evaluate(f"() => {{ const a = {PLAYER}; return {{clip: a.dataset.clip, src: a.src}}; }}")
    assert player["clip"] == served
    assert player["src"].startswith("blob:"), "played from memory, not from the network"
    assert page.evaluate("() => window.__spoken") == []
    browsing.screenshot(page, "read-aloud-playing-phone", top="fieldset.item")

    button.click()  # a second press stops it
    expect(button).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("() => document.querySelector('audio[data-readaloud]').paused")
    # The answers' buttons read the stage names, one reading at a time.
    stage = question.locator(".stage").nth(2).locator("button.listen")
    stage.click()
    expect(stage).to_have_attribute("aria-pressed", "true")
    button.click()
    expect(stage).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("() => document.querySelector('audio[data-readaloud]').dataset.clip") == served


def test_with_a_voice_the_device_reads_in_the_page_language(browsing, world):
    page = open_link(browsing, world, FAKE_VOICES, language="en")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    question = page.locator("fieldset.item").first
    button = question.locator("> button.listen")
    expect(button).to_have_accessible_name(f"Listen: {question.locator('legend').inner_text()}"[:88])
    button.click()
    page.wait_for_function("() => window.__spoken.length === 1")
    assert page.evaluate("() => window.__spoken[0]") == {"text": button.get_attribute("data-text"), "lang": "en"}
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("() => document.querySelector('audio[data-readaloud]').paused")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("() => window.__cancelled") >= 1


def test_a_button_with_neither_voice_nor_clip_says_why(browsing, world):
    page = open_link(browsing, world, NO_VOICE)
    page.evaluate("() => document.querySelectorAll('[data-audio]').forEach(b => b.removeAttribute('data-audio'))")
    button = page.locator("fieldset.item").first.locator("> button.listen")
    button.click()
    expect(button).to_have_attribute("aria-disabled", "true")
    assert "ingen röst" in button.get_attribute("title")
    assert page.evaluate("() => window.__spoken") == []


def test_screenshots_of_the_buttons_and_pictograms(browsing, world):
    for name, viewport in [("phone", PHONE), ("tablet", TABLET)]:
        for language in ("sv", "ar"):
            page = open_link(browsing, world, FAKE_VOICES, language=language, viewport=viewport)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            browsing.screenshot(page, f"read-aloud-{language}-{name}", top="h1")
            browsing.audit(page, f"Självskattning med uppläsning ({language}, {name})")
        # The hours question (a number with a pictogram), the form's last step.
        page.evaluate(
            "() => document.querySelectorAll('[data-step]').forEach((s, i, all) => { s.hidden = i < all.length - 1; })"
        )
        browsing.screenshot(page, f"read-aloud-hours-{name}", top="[data-step]:not([hidden]) h2")
    campaign = survey_campaign_create(
        insats=world.insats,
        version=shipped_version("nns-pagaende"),
        period_start=world.fresh_enrolment.start_date,
        period_end=world.fresh_enrolment.start_date,
        number_asked=10,
        created_by=world.mentor,
    )
    survey = browsing.page(PHONE, is_mobile=True, has_touch=True)
    survey.add_init_script(FAKE_VOICES)
    survey.goto(f"/enkat/{campaign.token}/")
    expect(survey.locator(".choice button.listen").first).to_be_visible()
    assert survey.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    browsing.screenshot(survey, "read-aloud-survey-phone", top="fieldset.item")
    browsing.audit(survey, "Deltagarenkät med uppläsning (telefon)")
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())
