"""A mentor on a tablet: register and enrol a participant; hold a whole målbildssamtal (the
participant's self-assessment in participant mode, the mentor's assessment, the comparison and the
agreed plan) within the tap budget, with every required answer enforced; read the journey."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from participants.models import Enrolment, Participant
from progression import goals
from progression.models import Goal, MilestoneStatus
from surveys.models import AssessmentSession, SessionStatus
from surveys.selectors import progression_areas
from tests.e2e.browsing import TABLET
from tests.e2e.helpers import login
from tests.factories import synthetic_personnummer

PERSONNUMMER = synthetic_personnummer(date(1994, 2, 11), serial="372")
CODE = "4711"
# The budget for a conversation with an existing målbild: at most 30 taps besides the
# answers themselves (whose number the instrument sets) and at most 3 typed texts; the two codes of
# participant mode (hand over, take back) are counted apart.
TAP_BUDGET, TEXT_BUDGET, CODES = 30, 3, 2


@dataclass
class Taps:
    """Every tap and typed text of the conversation, as the person on the tablet makes them."""

    taps: int = 0
    answers: int = 0
    texts: int = 0
    codes: int = 0

    def tap(self, target: Locator) -> None:
        target.click()
        self.taps += 1

    def answer(self, option: Locator) -> None:
        option.click()
        self.answers += 1

    def write(self, field: Locator, text: str) -> None:
        field.fill(text)
        self.texts += 1

    def code(self, field: Locator) -> None:
        field.fill(CODE)
        self.codes += 1


def _answer(taps: Taps, fieldsets: Locator, value: int) -> int:
    """Tap an answer in every unanswered choice question of `fieldsets`; returns how many."""
    answered = 0
    for fieldset in fieldsets.all():
        if not fieldset.locator("input[type=radio]").count() or fieldset.locator("input:checked").count():
            continue  # hours are typed and optional; answered questions stay as they are
        options = fieldset.locator("label.option")
        taps.answer(options.nth(min(value, options.count()) - 1))
        answered += 1
    return answered


def _missing_answer_is_named_and_focused(page: Page, question: Locator) -> None:
    """The error names the question in words, the question is marked, and focus is on it."""
    words = question.locator("legend").inner_text().replace("(frivillig)", "").strip()
    expect(page.locator("[data-errors]")).to_contain_text(f"Svara på frågan ”{words}”")
    expect(question.locator(".field-error")).to_have_text("Svara på den här frågan.")
    assert question.evaluate("el => el.contains(document.activeElement)"), "focus moves to the question"


def test_mentor_registers_and_enrols_a_participant_on_a_tablet(browsing, world):
    page = browsing.page(TABLET, has_touch=True)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/logga-in/"))
    browsing.audit(page, "Logga in")
    browsing.screenshot(page, "login-tablet")
    login(page, world.mentor.username, world.password)

    expect(page.get_by_role("heading", name="Mina deltagare", level=1)).to_be_visible()
    browsing.audit(page, "Mina deltagare")
    page.get_by_role("link", name="Registrera deltagare").click()
    expect(page.get_by_role("heading", name="Registrera och skriv in deltagare")).to_be_visible()
    browsing.audit(page, "Registrera deltagare")
    page.get_by_role("textbox", name="Personnummer").fill(PERSONNUMMER)
    page.get_by_label("Namn", exact=True).fill("Mina Exempelsson")
    page.get_by_label("Telefon eller e-post").fill("070-000 00 00")
    page.get_by_label("Kvinna", exact=True).check()
    page.get_by_label("Samtycket gavs").select_option(label="Skriftligt")
    page.get_by_label("Samtycker till mätning av stegförflyttning").check()
    page.get_by_label("Insats", exact=True).select_option(label="Jonsbo försteg")
    page.get_by_label("Högsta avslutade utbildning", exact=True).select_option(label="Gymnasial")
    page.get_by_label("Försörjning före insatsen", exact=True).select_option(label="Försörjningsstöd")
    browsing.screenshot(page, "register-participant-tablet", full_page=True)
    page.get_by_role("button", name="Registrera och skriv in").click()

    expect(page.locator(".messages")).to_contain_text("är registrerad och inskriven i Jonsbo försteg")
    pseudonym = page.locator("h1 .pseudonym").inner_text()
    participant = Participant.objects.get(pseudonym=pseudonym)
    assert Enrolment.objects.filter(participant=participant, insats=world.insats, end_date__isnull=True).exists()
    assert participant.identity is not None, "the identified participant has a record in the identity vault"
    assert PERSONNUMMER not in page.content(), "the participant page never shows the personnummer"
    browsing.audit(page, "Deltagare")

    # In Mina deltagare the new participant is due now: never measured.
    page.get_by_role("link", name="Mina deltagare").first.click()
    row = page.locator("table.caseload tbody tr", has_text=pseudonym)
    expect(row).to_contain_text("Ingen ännu")
    expect(row).to_contain_text("första mätningen")
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())


def test_a_whole_conversation_with_an_existing_malbild_fits_the_tap_budget(browsing, world):
    enrolment = world.fresh_enrolment
    goal = goals.goal_set(enrolment=enrolment, text="Arbeta deltid i caféet", by=world.mentor)
    earlier = goals.milestone_add(
        goal=goal, text="Komma i tid tre dagar i veckan", area="vardag", target_date=None, by=world.mentor
    )
    page = browsing.page(TABLET, has_touch=True)
    login(page, world.mentor.username, world.password)
    expect(page.get_by_role("heading", name="Mina deltagare", level=1)).to_be_visible()
    browsing.screenshot(page, "caseload-tablet", full_page=True)
    taps = Taps()

    # Mina deltagare → Samtal → hand the tablet over with a code.
    taps.tap(page.get_by_role("link", name=f"Målbildssamtal med {world.fresh.pseudonym}"))
    expect(page.get_by_role("heading", name="Målbildssamtal", level=1)).to_be_visible()
    browsing.audit(page, "Målbildssamtal")
    taps.code(page.get_by_label("Kod (4–6 siffror)"))
    taps.tap(page.get_by_role("button", name="Lämna över till deltagaren"))

    # The participant's self-assessment: one area per screen; Nästa refuses an unanswered question.
    expect(page.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()
    expect(page.locator(".mode-label")).to_have_text("Deltagarläge")
    browsing.audit(page, "Självskattning (deltagarläge)")
    step = page.locator("[data-step]:not([hidden])")
    _answer(taps, step.locator("fieldset.item").first, 7)
    taps.tap(page.get_by_role("button", name="Nästa"))
    _missing_answer_is_named_and_focused(page, step.locator("fieldset.item").nth(1))
    expect(page.locator("[data-progress]")).to_have_text(re.compile(r"^Steg 1 av"))
    browsing.screenshot(page, "self-assessment-required-tablet")
    steps = page.locator("[data-step]").count()
    assert steps >= 5, "one area per screen"
    for number in range(1, steps + 1):
        _answer(taps, page.locator("[data-step]:not([hidden]) fieldset.item"), 7 - number % 3)
        if number < steps:
            taps.tap(page.get_by_role("button", name="Nästa"))
            expect(page.locator("[data-progress]")).to_have_text(f"Steg {number + 1} av {steps}")
    browsing.screenshot(page, "self-assessment-tablet")
    taps.tap(page.get_by_role("button", name="Skicka", exact=True))

    # Handed back: the mentor's code leaves participant mode.
    expect(page.get_by_role("heading", name="Tack för dina svar!")).to_be_visible()
    browsing.audit(page, "Tack (deltagarläge)")
    taps.code(page.get_by_label("Koden du valde"))
    taps.tap(page.get_by_role("button", name="Tillbaka till handledarläge"))

    # The mentor's assessment on one page; Skicka refuses while a question is unanswered.
    expect(page.get_by_role("heading", name=f"Din bedömning av {world.fresh.pseudonym}")).to_be_visible()
    browsing.audit(page, "Handledarens bedömning")
    questions = page.locator("form[data-single-page] fieldset.item")
    _answer(taps, questions.filter(has=page.locator("input[type=radio]")).locator("nth=0"), 4)
    taps.tap(page.get_by_role("button", name="Skicka", exact=True))
    _missing_answer_is_named_and_focused(page, questions.nth(1))
    browsing.screenshot(page, "mentor-assessment-required-tablet")
    _answer(taps, questions, 4)
    taps.tap(page.get_by_role("button", name="Skicka", exact=True))

    # Jämför och planera: areas on the ladder, the målbild as it was, a delmål from the area.
    expect(page.get_by_role("heading", name="Jämför och planera")).to_be_visible()
    areas = page.locator("table.areas tbody tr")
    expect(areas.first).to_contain_text(re.compile(r"\d,\d"))
    expect(page.locator("table.areas .badge", has_text="prata om").first).to_be_visible()
    expect(page.locator("table.areas")).not_to_contain_text("halsa")
    expect(page.get_by_label("Målbild")).to_have_value("Arbeta deltid i caféet")
    browsing.audit(page, "Jämför och planera")
    browsing.screenshot(page, "conversation-compare-tablet")
    taps.tap(page.get_by_role("checkbox", name=re.compile("Komma i tid tre dagar")))
    talk_about = page.locator("table.areas tbody tr", has=page.locator(".badge", has_text="prata om")).first
    area = talk_about.locator("th").inner_text()
    taps.tap(talk_about.get_by_role("button", name=f"Nytt delmål i {area}"))
    expect(page.get_by_label("Område", exact=True)).to_have_value(re.compile(r".+"))
    expect(page.get_by_label("Delmål", exact=True)).to_be_focused()
    taps.write(page.get_by_label("Delmål", exact=True), "Prova två dagar i caféet")
    taps.write(page.get_by_label("Vad ska göras"), "Prata med caféets arbetsledare")
    taps.tap(page.get_by_role("radio", name="Tillsammans"))
    browsing.screenshot(page, "conversation-plan-tablet", full_page=True)
    taps.tap(page.get_by_role("button", name="Spara samtalet"))
    expect(page.get_by_role("heading", name="Samtalet är sparat")).to_be_visible()
    expect(page.locator("[data-plan-saved-text]")).to_have_text("Planen är sparad och skickad.", timeout=20_000)
    browsing.audit(page, "Samtalet sparat")

    assert taps.taps <= TAP_BUDGET, f"{taps.taps} taps besides the answers (budget {TAP_BUDGET})"
    assert taps.texts <= TEXT_BUDGET, f"{taps.texts} typed texts (budget {TEXT_BUDGET})"
    assert taps.codes == CODES
    sessions = AssessmentSession.objects.filter(enrolment=enrolment, status=SessionStatus.SUBMITTED)
    answers = sum(session.answers.exclude(value__isnull=True).count() for session in sessions)
    assert taps.answers == answers, "every answer tapped once, and each one stored"
    assert sorted(sessions.values_list("perspective", flat=True)) == ["mentor", "self"]
    goal = Goal.objects.get(enrolment=enrolment, active=True)
    assert goal.text == "Arbeta deltid i caféet"
    earlier.refresh_from_db()
    assert (earlier.status, earlier.achieved_on) == (MilestoneStatus.ACHIEVED, timezone.localdate())
    new = goal.milestones.exclude(pk=earlier.pk).get()
    assert (new.text, new.target_date) == (
        "Prova två dagar i caféet",
        timezone.localdate() + timedelta(weeks=world.insats.reading_interval_weeks),
    )
    assert progression_areas()[new.area] == area, "the delmål is tied to the area it was added from"
    assert list(goal.steps.values_list("what", "who", "due_date")) == [
        ("Prata med caféets arbetsledare", "Tillsammans", timezone.localdate() + timedelta(days=14))
    ]
    print(f"\nmålbildssamtal: {taps.taps} taps, {taps.answers} answers, {taps.texts} texts, {taps.codes} codes")

    # The journey tells it on one timeline.
    page.get_by_role("link", name="Deltagarens resa").click()
    expect(page.get_by_role("heading", name="Deltagarens resa")).to_be_visible()
    timeline = page.locator("svg.chart.timeline")
    expect(timeline).to_be_visible()
    expect(timeline).to_contain_text("Hälsa")
    moves = page.locator("section", has=page.get_by_role("heading", name="Stegförflyttning"))
    expect(moves.locator("table")).to_contain_text("Hälsa")
    expect(page.locator(".facts")).to_contain_text("Delmål uppnådda")
    browsing.audit(page, "Deltagarens resa")
    browsing.screenshot(page, "journey-tablet", full_page=True)
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())
