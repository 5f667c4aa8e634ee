"""A mentor on a tablet: register and enrol a participant, hold the målbildssamtal (the participant's
self-assessment in participant mode, the mentor's assessment, the comparison) and set goals."""

import re
from datetime import date, timedelta

from django.utils import timezone
from playwright.sync_api import expect

from participants.models import Enrolment, Participant
from progression.models import DimensionScore, Goal
from surveys.models import AssessmentSession, SessionStatus
from tests.e2e.browsing import TABLET
from tests.e2e.helpers import answer_steps, ladder_pick, login
from tests.factories import synthetic_personnummer

PERSONNUMMER = synthetic_personnummer(date(1994, 2, 11), serial="372")


def test_mentor_registers_enrols_and_holds_the_conversation_on_a_tablet(browsing, world):
    page = browsing.page(TABLET, has_touch=True)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/logga-in/"))
    browsing.audit(page, "Logga in")
    browsing.screenshot(page, "login-tablet")
    login(page, world.mentor.username, world.password)

    # Mina deltagare → Registrera deltagare: person, consent and inskrivning in one form.
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
    enrolment = Enrolment.objects.get(participant=participant, insats=world.insats, end_date__isnull=True)
    assert participant.identity is not None, "the identified participant has a record in the identity vault"
    assert PERSONNUMMER not in page.content(), "the participant page never shows the personnummer"
    browsing.audit(page, "Deltagare")

    # Målbildssamtal → hand the tablet over.
    page.get_by_role("link", name="Målbildssamtal").click()
    expect(page.get_by_role("heading", name="Målbildssamtal", level=1)).to_be_visible()
    browsing.audit(page, "Målbildssamtal")
    page.get_by_label("Kod (4–6 siffror)").fill("4711")
    page.get_by_label("Samma kod igen").fill("4711")
    page.get_by_role("button", name="Lämna över till deltagaren").click()

    expect(page.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()
    expect(page.locator(".mode-label")).to_have_text("Deltagarläge")
    browsing.audit(page, "Självskattning (deltagarläge)")
    browsing.screenshot(page, "self-assessment-tablet")
    steps = page.locator("[data-step]").count()
    assert steps >= 5, "one area per screen"
    assert answer_steps(page, ladder_pick(7)) == steps
    page.get_by_role("button", name="Skicka", exact=True).click()

    # The participant hands the tablet back; the mentor's code leaves participant mode.
    expect(page.get_by_role("heading", name="Tack för dina svar!")).to_be_visible()
    browsing.audit(page, "Tack (deltagarläge)")
    page.get_by_label("Koden du valde").fill("4711")
    page.get_by_role("button", name="Tillbaka till handledarläge").click()

    expect(page.get_by_role("heading", name=f"Din bedömning av {pseudonym}")).to_be_visible()
    browsing.audit(page, "Handledarens bedömning")
    answer_steps(page, ladder_pick(4))
    page.get_by_role("button", name="Skicka", exact=True).click()

    # Jämför: both readings side by side with the radar chart.
    expect(page.get_by_role("heading", name="Självskattning och bedömning")).to_be_visible()
    radar = page.locator("svg.chart.radar")
    expect(radar).to_be_visible()
    expect(radar.locator("title")).to_have_text(re.compile("Självskattning och handledarens bedömning"))
    expect(page.locator("table.compare .badge", has_text="prata om").first).to_be_visible()
    browsing.audit(page, "Jämförelse")
    browsing.screenshot(page, "compare-radar-tablet")

    # Deltagarens resa: målbild and delmål.
    page.get_by_role("link", name="Deltagarens resa").click()
    expect(page.get_by_role("heading", name="Deltagarens resa")).to_be_visible()
    page.get_by_label("Målbild").fill("Arbeta deltid i caféet")
    page.get_by_role("button", name="Spara målbild").click()
    expect(page.locator(".goal-text")).to_contain_text("Arbeta deltid i caféet")
    target = timezone.localdate() + timedelta(days=30)
    page.get_by_label("Nytt delmål").fill("Komma i tid tre dagar i veckan")
    page.get_by_label("Klart senast").fill(target.isoformat())
    page.get_by_role("button", name="Lägg till", exact=True).click()
    milestone_row = page.get_by_role("row").filter(has_text="Komma i tid tre dagar i veckan")
    expect(milestone_row).to_contain_text(target.isoformat())

    all_readings = page.locator("section", has=page.get_by_role("heading", name="Alla mätningar"))
    readings = all_readings.locator("table").first.locator("tbody tr")
    expect(readings).to_have_count(2)
    expect(readings.filter(has_text="Självskattning")).to_have_count(1)
    expect(readings.filter(has_text="Handledarens bedömning")).to_have_count(1)
    expect(all_readings.get_by_role("heading", name="Skillnad handledare − deltagare")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    browsing.audit(page, "Deltagarens resa")
    browsing.screenshot(page, "journey-tablet", full_page=True)

    sessions = AssessmentSession.objects.filter(enrolment=enrolment, status=SessionStatus.SUBMITTED)
    assert sorted(sessions.values_list("perspective", flat=True)) == ["mentor", "self"]
    assert DimensionScore.objects.filter(session__in=sessions).values("session").distinct().count() == 2
    goal = Goal.objects.get(enrolment=enrolment, active=True)
    assert goal.text == "Arbeta deltid i caféet"
    assert list(goal.milestones.values_list("text", "target_date")) == [("Komma i tid tre dagar i veckan", target)]

    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())
