"""Every participant-facing page in every participant language: each visible string comes from that
language's catalogue or the instrument's text in that language (never a Swedish leftover), the page
says its lang and dir, axe-core finds nothing serious, and the read-aloud buttons work from the
keyboard.

The pages: the self-assessment by link (with its refusals, thank-you page and the link's error
pages), the self-assessment in participant mode on the tablet and its thank-you page, the
satisfaction survey (with its refusal, thank-you and closed pages) and Min plan."""

import gettext
import re
import uuid
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import dates, timezone, translation
from django.utils.translation import to_locale
from playwright.sync_api import expect

from config.languages import PARTICIPANT_LANGUAGES, Language
from participants.models import Insats
from progression import goals
from progression.models import MilestoneStatus
from progression.plan import plan_link_create
from surveys.models import Dimension, InstrumentPurpose, Item, Scale, SelfAssessmentLink
from surveys.satisfaction import survey_campaign_create
from surveys.sessions import self_link_create, session_submit
from tests.e2e.browsing import PHONE, TABLET
from tests.e2e.helpers import login_by_cookie
from tests.surveys.factories import shipped_version, valid_answers

LOCALE = Path(settings.BASE_DIR) / "locale"
# The product's name, and each language's name in itself (the language menu).
PROPER_NAMES = {"Stegvis"} | {language.name for language in PARTICIPANT_LANGUAGES}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")

# Speech synthesis with a voice in every language, recording what it is asked to say.
FAKE_SPEECH = """
window.__spoken = [];
(function () {
  var voices = ["sv-SE", "en-GB", "ar-SA"].map(function (lang) {
    return { lang: lang, name: "fake " + lang, localService: true, default: false, voiceURI: lang };
  });
  var fake = {
    speaking: false, pending: false, paused: false, onvoiceschanged: null,
    getVoices: function () { return voices; },
    speak: function (utterance) {
      var lang = utterance.lang || (utterance.voice && utterance.voice.lang) || "";
      window.__spoken.push({ text: utterance.text, lang: lang });
      setTimeout(function () { if (utterance.onend) { utterance.onend(new Event("end")); } }, 10); },
    cancel: function () {}, pause: function () {}, resume: function () {},
    addEventListener: function () {}, removeEventListener: function () {}
  };
  Object.defineProperty(window, "speechSynthesis", { value: fake, configurable: true });
})();
"""


def _catalogue(language: Language) -> dict[Any, str]:
    """msgid -> msgstr of the project's catalogues in the language (Swedish: msgid -> msgid)."""
    if language.code == "sv":
        ids: dict[Any, str] = {}
        for other in PARTICIPANT_LANGUAGES:
            if other.code != "sv":
                ids.update({key: key for key in _catalogue(other)})
        return ids
    directory = LOCALE / to_locale(language.code)
    catalogue: dict[Any, str] = {}
    for domain in ("django", "djangojs"):
        with open(directory / "LC_MESSAGES" / f"{domain}.mo", "rb") as handle:
            catalogue.update(gettext.GNUTranslations(handle)._catalog)  # noqa: SLF001
    return {key: value for key, value in catalogue.items() if key}


def _instrument_texts(key: str) -> set[str]:
    """Every participant-visible text of the instruments in the language."""
    texts: set[str] = set()
    for label in Dimension.objects.values_list("label", flat=True):
        texts.add(label.get(key, ""))
    for wording, pictogram in Item.objects.values_list("texts", "pictogram"):
        texts.add(wording.get("self", {}).get(key, ""))
        texts.add((pictogram or {}).get("alt", {}).get(key, ""))
    for scale in Scale.objects.all():
        texts.add((scale.unit or {}).get(key, ""))
        texts.update(stage["label"].get(key, "") for stage in scale.stages)
        for option in scale.options:
            texts.add(option["label"].get(key, ""))
            texts.add((option.get("pictogram") or {}).get("alt", {}).get(key, ""))
    return {text for text in texts if text}


@cache
def _patterns(code: str) -> tuple[list[re.Pattern[str]], set[str], set[str]]:
    """(patterns of the language's catalogue strings with their placeholders as groups, exact strings
    allowed, Swedish strings)."""
    language = next(language for language in PARTICIPANT_LANGUAGES if language.code == code)
    strings = {value for value in _catalogue(language).values() if isinstance(value, str)}
    patterns = [
        re.compile("(.+?)".join(re.escape(part.strip()) for part in PLACEHOLDER.split(text)), re.S)
        for text in strings
        if PLACEHOLDER.search(text)
    ]
    swedish = set(_catalogue(PARTICIPANT_LANGUAGES[0])) | _instrument_texts("sv")
    exact = {text.strip() for text in strings} | _instrument_texts(language.key) | PROPER_NAMES | _month_names(code)
    return patterns, exact, {text for text in swedish if isinstance(text, str)}


def _month_names(code: str) -> set[str]:
    """The language's month names as Django writes dates in it ("2 december 2026", "Dec. 2, 2026")."""
    with translation.override(code):
        names = [
            *dates.MONTHS.values(),
            *dates.MONTHS_3.values(),
            *dates.MONTHS_AP.values(),
            *dates.MONTHS_ALT.values(),
        ]
        return {_core(str(name)) for name in names}


def _core(text: str) -> str:
    """The words of a string without the numbers and marks around them ("6,5 · Provar" -> "Provar")."""
    return re.sub(r"^[\W\d_]+|[\W\d_]+$", "", text)


def _allowed(text: str, patterns: list[re.Pattern[str]], exact: set[str], depth: int = 0) -> bool:
    """From the catalogue: an entry itself; an entry with its placeholders filled with what is itself
    allowed, or a list of such; or sentences of such, one after the other. A string without words (a
    number, a date's digits, a mark) is always allowed."""
    core = _core(text)
    if not core or core in exact or text in exact:
        return True
    if depth > 12:
        return False
    for separator in (", ", " · ", "; "):
        parts = [part for part in text.split(separator) if part]
        if len(parts) > 1 and all(_allowed(part, patterns, exact, depth + 1) for part in parts):
            return True
    for pattern in patterns:
        match = pattern.fullmatch(text) or pattern.fullmatch(core)
        if match and all(_allowed(group, patterns, exact, depth + 1) for group in match.groups()):
            return True
    # Sentences one after the other, each allowed.
    for boundary in re.finditer(r"[.?!:] ", text):
        if _allowed(text[: boundary.start() + 1], patterns, exact, depth + 1) and _allowed(
            text[boundary.end() :], patterns, exact, depth + 1
        ):
            return True
    return False


def _visible_strings(page: Any) -> list[tuple[str, str]]:
    """(text, lang) of every text node a person can see or hear (screen-reader-only text included) and
    of alt, aria-label and title attributes. Nodes in an element with a lang of its own (the language
    menu) are left out, and so is what people wrote themselves (data-user-text: the plan's words)."""
    return page.evaluate(
        """() => {
          const out = [];
          const pageLang = document.documentElement.lang;
          const shown = (el) => el.closest('.visually-hidden') || el.checkVisibility({checkOpacity: false});
          const langOf = (el) => (el.closest('[lang]') || document.documentElement).getAttribute('lang');
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const node = walker.currentNode, el = node.parentElement;
            if (!el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
            const text = node.textContent.replace(/\\s+/g, ' ').trim();
            if (!text || !shown(el) || el.closest('[hidden]') || el.closest('[data-user-text]')) continue;
            out.push([text, langOf(el)]);
          }
          document.querySelectorAll('[data-listen]').forEach((el) => {
            if (!shown(el) || el.closest('[hidden]')) return;
            out.push([el.dataset.text.replace(/\\s+/g, ' ').trim(), langOf(el)]);
          });
          document.querySelectorAll('[alt], [aria-label], [title]').forEach((el) => {
            if (!shown(el) || el.closest('[hidden]') || el.matches('[data-listen]')) return;
            ['alt', 'aria-label', 'title'].forEach((name) => {
              const value = (el.getAttribute(name) || '').replace(/\\s+/g, ' ').trim();
              if (value) out.push([value, langOf(el)]);
            });
          });
          return out.map(([text, lang]) => [text, lang || pageLang]);
        }"""
    )


def assert_in_language(page: Any, language: Language, where: str) -> None:
    """The page says its language and direction, and every string on it is from that language."""
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language.html)
    expect(html).to_have_attribute("dir", "rtl" if language.rtl else "ltr")
    patterns, exact, swedish = _patterns(language.code)
    # What people wrote (the plan's words) and the insatser's names are data, also where a sentence
    # quotes them.
    exact = exact | {_core(text) for text in page.locator("[data-user-text]").all_inner_texts()}
    exact = exact | set(Insats.objects.values_list("name", flat=True))
    foreign = []
    for text, lang in _visible_strings(page):
        if lang != language.html or _allowed(text, patterns, exact):
            continue
        leftover = " (a Swedish string left untranslated)" if language.code != "sv" and text in swedish else ""
        foreign.append(f"{text!r}{leftover}")
    assert not foreign, f"{where} in {language.code}: not from the {language.code} catalogue:\n" + "\n".join(foreign)


def check_page(browsing: Any, page: Any, language: Language, where: str) -> None:
    assert_in_language(page, language, where)
    browsing.audit(page, f"{where} ({language.code})")


def keyboard_read_aloud(page: Any, language: Language) -> None:
    """From the top of the page, Tab reaches a Lyssna button, and Enter reads its text in the page's
    language."""
    page.evaluate("() => { window.__spoken = []; document.activeElement && document.activeElement.blur(); }")
    page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.matches('[data-listen]')"):
            break
    else:
        pytest.fail(f"no Lyssna button within 40 Tab presses ({language.code})")
    text = page.evaluate("() => document.activeElement.dataset.text")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__spoken.length > 0")
    spoken = page.evaluate("() => window.__spoken[0]")
    assert spoken["text"] == text
    assert spoken["lang"].lower().startswith(language.html), spoken


@pytest.fixture
def links(world: Any) -> Any:
    """A self-assessment link per language, an expired one, and an open and a closed survey."""
    version = shipped_version()
    made = {}
    for language in PARTICIPANT_LANGUAGES:
        _, made[language.key] = self_link_create(
            enrolment=world.fresh_enrolment, version=version, created_by=world.mentor, language=language.key, days=7
        )
    expired, made["expired"] = self_link_create(
        enrolment=world.fresh_enrolment, version=version, created_by=world.mentor, language="sv", days=7
    )
    SelfAssessmentLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    today = timezone.localdate()
    survey = shipped_version("nns-pagaende")
    assert survey.instrument.purpose == InstrumentPurpose.SATISFACTION
    made["survey"] = survey_campaign_create(
        insats=world.insats,
        version=survey,
        created_by=world.mentor,
        period_start=today - timedelta(days=30),
        period_end=today,
        number_asked=20,
    ).token
    closed = survey_campaign_create(
        insats=world.insats,
        version=shipped_version("nns-avslut"),
        created_by=world.mentor,
        period_start=today - timedelta(days=30),
        period_end=today,
        number_asked=20,
    )
    closed.closed = True
    closed.save(update_fields=["closed"])
    made["closed"] = closed.token
    return made


def _answer_everything(page: Any) -> None:
    """Answer each step's first option (and hours where asked) and send."""
    while True:
        step = page.locator("[data-step]:not([hidden])")
        for fieldset in step.locator("fieldset.item").all():
            number = fieldset.locator("input[data-max]")
            if number.count():
                number.fill("10")
            elif fieldset.locator("input[type=radio]").count():
                fieldset.locator("label.option").first.click()
        if page.locator("[data-next]").is_visible():
            page.locator("[data-next]").click()
        else:
            page.locator("[data-submit]").click()
            return


@pytest.mark.parametrize("language", PARTICIPANT_LANGUAGES, ids=lambda language: language.code)
def test_the_self_assessment_by_link_is_wholly_in_the_participants_language(browsing, world, links, language):
    phone = browsing.page(PHONE, is_mobile=True, has_touch=True)
    phone.add_init_script(FAKE_SPEECH)
    phone.goto(f"/s/{links[language.key]}/")
    expect(phone.locator("[data-progress]")).not_to_be_empty()
    check_page(browsing, phone, language, "self-assessment by link")
    browsing.screenshot(phone, f"self-assessment-{language.code}-phone")
    keyboard_read_aloud(phone, language)

    phone.locator("[data-next]").click()  # nothing answered: the question is named, in the language
    expect(phone.locator("[data-errors]")).to_be_visible()
    check_page(browsing, phone, language, "self-assessment refusing an unanswered question")

    _answer_everything(phone)
    expect(phone.locator("main h1")).to_have_count(1)
    phone.wait_for_url(re.compile(r"/tack/"))
    check_page(browsing, phone, language, "thank-you page")

    phone.goto(f"/s/{links[language.key]}/")
    check_page(browsing, phone, language, "used link")
    phone.goto(f"/s/{links['expired']}/?sprak={language.key}")
    check_page(browsing, phone, language, "expired link")
    phone.goto(f"/s/not-a-token/?sprak={language.key}")
    check_page(browsing, phone, language, "unknown link")
    assert not browsing.blocking_violations()


@pytest.mark.parametrize("language", PARTICIPANT_LANGUAGES, ids=lambda language: language.code)
def test_the_survey_is_wholly_in_the_participants_language(browsing, world, links, language):
    phone = browsing.page(PHONE, is_mobile=True, has_touch=True)
    phone.add_init_script(FAKE_SPEECH)
    phone.goto(f"/enkat/{links['survey']}/?sprak={language.key}")
    check_page(browsing, phone, language, "survey")
    keyboard_read_aloud(phone, language)
    while phone.locator("[data-next]").is_visible():
        phone.locator("[data-next]").click()
    phone.locator("[data-submit]").click()  # nothing answered: the server's refusal, in the language
    expect(phone.locator("[data-errors]")).to_be_visible()
    check_page(browsing, phone, language, "survey refusing no answers")
    phone.goto(f"/enkat/{links['survey']}/?sprak={language.key}")
    _answer_everything(phone)
    phone.wait_for_url(re.compile(r"/tack/"))
    check_page(browsing, phone, language, "survey thank-you page")
    phone.goto(f"/enkat/{links['closed']}/?sprak={language.key}")
    check_page(browsing, phone, language, "closed survey")
    assert not browsing.blocking_violations()


@pytest.mark.parametrize("language", PARTICIPANT_LANGUAGES, ids=lambda language: language.code)
def test_participant_mode_on_the_tablet_is_wholly_in_the_participants_language(browsing, world, language):
    context = browsing.context(TABLET, has_touch=True)
    login_by_cookie(context, world.mentor, browsing.base_url)
    tablet = context.new_page()
    tablet.add_init_script(FAKE_SPEECH)
    tablet.goto(f"/samtal/{world.fresh_enrolment.pk}/")  # the mentor hands the tablet over in the language
    tablet.locator("#id_language").select_option(language.key)
    tablet.locator("#id_code").fill("2468")
    tablet.locator("form[data-handover] button[type=submit]").click()
    tablet.wait_for_url(re.compile(r"/sjalvskattning/"))
    expect(tablet.locator("[data-progress]")).not_to_be_empty()
    check_page(browsing, tablet, language, "self-assessment in participant mode")
    keyboard_read_aloud(tablet, language)
    tablet.locator("[data-next]").click()
    expect(tablet.locator("[data-errors]")).to_be_visible()
    check_page(browsing, tablet, language, "participant mode refusing an unanswered question")
    _answer_everything(tablet)
    tablet.wait_for_url(re.compile(r"/klar/"))
    tablet.locator("#id_unlock_code").fill("1111")  # a wrong code: the refusal is in the language too
    tablet.locator("form[data-unlock] button[type=submit]").click()
    expect(tablet.locator("[data-unlock-error]")).to_be_visible()
    check_page(browsing, tablet, language, "thank-you page in participant mode")
    assert not browsing.blocking_violations()


@pytest.fixture
def plan_token(world: Any) -> str:
    """A plan agreed in the målbildssamtal, two self-assessments, and a Min plan link (Swedish)."""
    for days_ago in (40, 1):
        session_submit(
            client_uuid=uuid.uuid4(),
            enrolment=world.fresh_enrolment,
            version=world.version,
            perspective="self",
            answers=valid_answers(world.version, "self"),
            recorded_by=world.mentor,
            occurred_at=timezone.localtime() - timedelta(days=days_ago),
        )
    goal = goals.goal_set(enrolment=world.fresh_enrolment, text="Arbeta deltid i caféet", by=world.mentor)
    for text, reached in (("Komma i tid tre dagar i veckan", False), ("Hitta busstiderna", True)):
        milestone = goals.milestone_add(
            goal=goal, text=text, area="vardag", target_date=timezone.localdate() + timedelta(days=30), by=world.mentor
        )
        if reached:
            goals.milestone_set_status(milestone=milestone, status=MilestoneStatus.ACHIEVED, by=world.mentor)
    for who in ("Handledaren", "Deltagaren", "Tillsammans"):
        goals.action_step_add(
            goal=goal, what="Boka möte", who=who, due_date=timezone.localdate() + timedelta(days=7), by=world.mentor
        )
    return plan_link_create(enrolment=world.fresh_enrolment, language="sv", by=world.mentor).token


@pytest.mark.parametrize("language", PARTICIPANT_LANGUAGES, ids=lambda language: language.code)
def test_min_plan_is_wholly_in_the_participants_language(browsing, world, plan_token, language):
    phone = browsing.page(PHONE, is_mobile=True, has_touch=True)
    phone.add_init_script(FAKE_SPEECH)
    phone.goto(f"/min-plan/{plan_token}/?sprak={language.key}")
    check_page(browsing, phone, language, "Min plan")
    browsing.screenshot(phone, f"min-plan-{language.code}-phone", full_page=True)
    keyboard_read_aloud(phone, language)
    phone.goto(f"/min-plan/not-a-token/?sprak={language.key}")
    check_page(browsing, phone, language, "Min plan, unknown link")
    assert not browsing.blocking_violations()
