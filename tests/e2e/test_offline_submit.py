"""The connection drops in the middle of an assessment: the answers stay on the device, the form says
so, and they are sent by themselves, once, when the connection returns."""

import re

from playwright.sync_api import expect

from progression.models import DimensionScore
from surveys.models import ITEMS_ASKED_IN, AssessmentSession, Item, Perspective, SessionStatus
from tests.e2e.browsing import TABLET
from tests.e2e.helpers import answer_steps, ladder_pick, login


def test_assessment_submitted_offline_is_stored_once_when_the_connection_returns(browsing, world):
    context = browsing.context(TABLET, has_touch=True)
    page = context.new_page()
    login(page, world.mentor.username, world.password)
    enrolment = world.fresh_enrolment
    page.goto(f"/samtal/{enrolment.pk}/bedomning/")
    pick = ladder_pick(5)
    answer_steps(page, pick, until=3)

    # The garden at Jonsbo has no coverage: the rest of the form is filled without a connection.
    context.set_offline(True)
    page.get_by_role("button", name="Nästa").click()
    answer_steps(page, pick)
    page.get_by_role("button", name="Skicka").click()

    status = page.locator("[data-sync-status]")
    expect(status).to_contain_text("Ingen anslutning")
    expect(status).to_contain_text("sparade på enheten")
    expect(page).to_have_url(re.compile(rf"/samtal/{enrolment.pk}/bedomning/"))
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('stegvis:outbox') || '[]')")
    assert [item["client_uuid"] for item in outbox] == [page.locator("[name=client_uuid]").input_value()]
    browsing.audit(page, "Handledarens bedömning (utan anslutning)")
    browsing.screenshot(page, "offline-pending-tablet")
    assert not AssessmentSession.objects.filter(enrolment=enrolment).exists()

    # Pressing Skicka again while offline only replaces the queued copy.
    page.get_by_role("button", name="Skicka").click()
    assert len(page.evaluate("() => JSON.parse(localStorage.getItem('stegvis:outbox') || '[]')")) == 1

    context.set_offline(False)
    page.wait_for_url(f"**/samtal/{enrolment.pk}/jamforelse/")
    expect(page.locator("svg.chart.radar")).to_be_visible()
    assert page.evaluate("() => JSON.parse(localStorage.getItem('stegvis:outbox') || '[]')") == []

    sessions = AssessmentSession.objects.filter(enrolment=enrolment, perspective=Perspective.MENTOR)
    assert sessions.count() == 1
    session = sessions.get()
    assert session.status == SessionStatus.SUBMITTED
    required = Item.objects.filter(
        version=world.version, applies_to__in=ITEMS_ASKED_IN[Perspective.MENTOR], required=True
    ).count()
    assert session.answers.count() == required
    scored = DimensionScore.objects.filter(session=session, score__isnull=False).values_list("dimension", flat=True)
    assert set(scored) == set(world.version.dimensions.filter(is_rating=True).values_list("pk", flat=True))
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())
