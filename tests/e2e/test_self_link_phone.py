"""A participant answers on their own phone through a single-use link, without an account."""

import re

from playwright.sync_api import expect

from progression.models import DimensionScore
from surveys.models import AssessmentSession, Perspective, SelfAssessmentLink
from tests.e2e.browsing import PHONE, TABLET
from tests.e2e.helpers import answer_steps, ladder_pick, login


def test_participant_answers_on_a_phone_through_a_single_use_link(browsing, world):
    mentor = browsing.page(TABLET, has_touch=True)
    login(mentor, world.mentor.username, world.password)
    mentor.goto(f"/deltagare/{world.fresh.pseudonym}/")
    mentor.get_by_role("link", name="Länk för självskattning").click()
    expect(mentor.get_by_role("heading", name="Länk för självskattning")).to_be_visible()
    browsing.audit(mentor, "Länk för självskattning")
    mentor.get_by_role("button", name="Skapa länk").click()
    expect(mentor.get_by_role("heading", name="Länken är klar")).to_be_visible()
    expect(mentor.get_by_role("img", name="QR-kod för länken till självskattningen")).to_be_visible()
    browsing.audit(mentor, "Länken är klar")
    browsing.screenshot(mentor, "self-link-qr-tablet")
    url = mentor.locator("input.link-field").input_value()
    assert re.fullmatch(rf"{re.escape(browsing.base_url)}/s/[\w-]+/", url), url

    # A new phone: no login, no cookies from the mentor's tablet.
    phone = browsing.page(PHONE, is_mobile=True, has_touch=True)
    phone.goto(url)
    expect(phone.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()
    expect(phone.get_by_role("button", name="Logga ut")).to_have_count(0)
    browsing.audit(phone, "Självskattning via länk (telefon)")
    browsing.screenshot(phone, "self-assessment-phone")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    answer_steps(phone, ladder_pick(6))
    # Hours a week the server would refuse are named before anything is sent, on the question.
    hours = phone.locator("fieldset.item", has=phone.locator("input[data-max]"))
    hours.locator("input").fill("3,5")
    phone.get_by_role("button", name="Skicka", exact=True).click()
    expect(phone.locator("[data-errors]")).to_contain_text("Svara med ett heltal mellan 0 och 60 på frågan ”")
    expect(hours.locator("input")).to_be_focused()
    assert not AssessmentSession.objects.exists()
    hours.locator("input").fill("12")
    phone.get_by_role("button", name="Skicka", exact=True).click()

    expect(phone.get_by_role("heading", name="Tack för dina svar!")).to_be_visible()
    browsing.audit(phone, "Tack (länk)")
    browsing.screenshot(phone, "thanks-phone")

    phone.goto(url)
    expect(phone.get_by_role("heading", name="Länken kan inte användas")).to_be_visible()
    expect(phone.locator(".lead")).to_contain_text("redan använts")
    browsing.audit(phone, "Länken redan använd")

    session = AssessmentSession.objects.get(enrolment=world.fresh_enrolment)
    assert session.perspective == Perspective.SELF
    assert session.answers.filter(item__scale__kind="number").values_list("value", flat=True).get() == 12
    assert DimensionScore.objects.filter(session=session, score__isnull=False).exists()
    assert SelfAssessmentLink.objects.get(enrolment=world.fresh_enrolment).used_at is not None
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())
