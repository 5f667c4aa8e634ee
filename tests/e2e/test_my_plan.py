"""Min plan on the participant's own phone: the mentor gives the link, the plan opens again without a
connection, and a revoked link is gone from the phone once it is online again; the mentor's tablet
keeps its own offline pages beside the plan's worker."""

import re
import uuid
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from progression import goals
from surveys.sessions import session_submit
from tests.e2e.browsing import PHONE, TABLET
from tests.e2e.helpers import login
from tests.surveys.factories import valid_answers

GOAL = "Arbeta deltid i caféet"


def _planned(world) -> None:
    """Two self-assessments and a plan agreed in the målbildssamtal."""
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
    goal = goals.goal_set(enrolment=world.fresh_enrolment, text=GOAL, by=world.mentor)
    goals.milestone_add(
        goal=goal,
        text="Komma i tid tre dagar i veckan",
        area="vardag",
        target_date=timezone.localdate() + timedelta(days=30),
        by=world.mentor,
    )
    goals.action_step_add(
        goal=goal, what="Boka möte med Arbetsförmedlingen", who="Handledaren", due_date=None, by=world.mentor
    )


def _give_link(browsing, mentor) -> str:
    """The mentor makes the link on the Min plan page; returns its address."""
    mentor.get_by_role("button", name="Skapa länk").click()
    expect(mentor.get_by_role("heading", name="Länken till Min plan är klar")).to_be_visible()
    expect(mentor.get_by_role("img", name="QR-kod för länken till Min plan")).to_be_visible()
    url = mentor.locator("input.link-field").input_value()
    assert re.fullmatch(rf"{re.escape(browsing.base_url)}/min-plan/[\w-]+/", url), url
    return url


def _kept(page) -> None:
    """Wait until the plan's worker keeps this page."""
    page.wait_for_function(
        """() => caches.open("stegvis-min-plan").then(c => c.match(location.href)).then(r => Boolean(r))""",
        timeout=20_000,
    )


def test_the_plan_opens_offline_once_visited_and_a_revoked_link_is_gone_when_online(browsing, world):
    _planned(world)
    mentor = browsing.page(TABLET, has_touch=True)
    login(mentor, world.mentor.username, world.password)
    mentor.goto(f"/resa/{world.fresh_enrolment.pk}/")
    mentor.get_by_role("link", name="Min plan").click()
    expect(mentor.get_by_role("heading", name="Min plan", level=1)).to_be_visible()
    browsing.audit(mentor, "Min plan (handledaren)")
    url = _give_link(browsing, mentor)
    browsing.audit(mentor, "Länken till Min plan är klar")
    browsing.screenshot(mentor, "min-plan-link-tablet", full_page=True)

    context = browsing.context(PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(url)
    expect(phone.get_by_role("heading", name="Min plan", level=1)).to_be_visible()
    expect(phone.get_by_text(GOAL)).to_be_visible()
    expect(phone.get_by_role("button", name="Logga ut")).to_have_count(0)
    assert world.fresh.pseudonym not in phone.content()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    _kept(phone)
    browsing.audit(phone, "Min plan (telefon)")
    browsing.screenshot(phone, "min-plan-phone", full_page=True)

    # On the bus without coverage: the plan opens again, and says it is the kept copy.
    context.set_offline(True)
    phone.reload()
    expect(phone.get_by_text(GOAL)).to_be_visible()
    expect(phone.locator("[data-offline-note]")).to_be_visible()
    expect(phone.get_by_text("Komma i tid tre dagar i veckan")).to_be_visible()
    phone.goto(url + "?sprak=en")  # a language never opened: the kept plan in the link's language
    expect(phone.get_by_text(GOAL)).to_be_visible()
    browsing.screenshot(phone, "min-plan-offline-phone")

    # The mentor revokes the link; the phone, online again, no longer shows the plan, even offline.
    context.set_offline(False)
    mentor.goto(f"/resa/{world.fresh_enrolment.pk}/min-plan/")
    mentor.get_by_role("link", name="Återkalla länken").click()
    expect(mentor.get_by_role("heading", name="Återkalla länken till Min plan?")).to_be_visible()
    mentor.get_by_role("button", name="Återkalla länken").click()
    expect(mentor.get_by_text("Länken till Min plan är återkallad.")).to_be_visible()

    phone.goto(url)
    expect(phone.get_by_role("heading", name="Min plan kan inte visas")).to_be_visible()
    expect(phone.get_by_text(GOAL)).to_have_count(0)
    browsing.audit(phone, "Min plan återkallad (telefon)")
    context.set_offline(True)
    for address in (url, url + "?sprak=en"):
        phone.goto(address)
        expect(phone.get_by_role("heading", name="Min plan kan inte visas")).to_be_visible()
        expect(phone.get_by_text(GOAL)).to_have_count(0)
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())


def test_the_mentors_tablet_keeps_its_offline_pages_beside_the_plans_worker(browsing, world):
    _planned(world)
    context = browsing.context(TABLET, has_touch=True)
    tablet = context.new_page()
    login(tablet, world.mentor.username, world.password)
    expect(tablet.get_by_role("heading", name="Mina deltagare", level=1)).to_be_visible()
    tablet.wait_for_function("() => document.body.hasAttribute('data-caseload-cached')", timeout=30_000)
    tablet.goto(f"/resa/{world.fresh_enrolment.pk}/min-plan/")
    _give_link(browsing, tablet)

    # "Visa för deltagaren" opens the plan beside the mentor's page, on the same tablet.
    with context.expect_page() as shown:
        tablet.get_by_role("link", name="Visa för deltagaren").click()
    plan_page = shown.value
    expect(plan_page.get_by_text(GOAL)).to_be_visible()
    _kept(plan_page)
    scopes = plan_page.evaluate(
        "() => navigator.serviceWorker.getRegistrations().then(all => all.map(r => new URL(r.scope).pathname).sort())"
    )
    assert scopes == ["/", "/min-plan/"], scopes
    plan_page.close()

    # Without a connection, the caseload still comes from the app's worker, the plan from its own.
    context.set_offline(True)
    tablet.goto("/mentor/")
    expect(tablet.get_by_role("heading", name="Mina deltagare", level=1)).to_be_visible()
    controller = tablet.evaluate("() => (navigator.serviceWorker.controller || {}).scriptURL")
    assert controller and controller.endswith("/sw.js") and "/min-plan/" not in controller, controller
    tablet.get_by_role("link", name="Målbildssamtal").first.click()
    expect(tablet.get_by_role("heading", name="Målbildssamtal", level=1)).to_be_visible()
