"""The tablet where the Wi-Fi does not reach: the caseload kept on the device, participant mode in and
out without a connection, an outbox that loses nothing (an expired session, a stale CSRF token, two
tablets with the same reading), and a logout that warns and then clears the device."""

import json
import re

from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from participants.models import Role
from progression.models import Goal
from surveys.models import AssessmentSession, Perspective
from tests.e2e.browsing import TABLET
from tests.e2e.helpers import answer_steps, ladder_pick, login
from tests.factories import user_with_role

CODE = "2468"


def _tablet(browsing, world):
    """A tablet with the mentor logged in and the caseload kept on it."""
    context = browsing.context(TABLET, has_touch=True)
    page = context.new_page()
    login(page, world.mentor.username, world.password)
    expect(page.get_by_role("heading", name="Mina deltagare", level=1)).to_be_visible()
    page.wait_for_function("() => document.body.hasAttribute('data-caseload-cached')", timeout=30_000)
    return context, page


def _on_device(page, script: str, arg: object = None):  # noqa: ANN202
    """Run a script against the tablet's store (device.js) once the page has loaded it: a heading is
    visible before the page's scripts have run."""
    page.wait_for_function("() => window.StegvisDevice !== undefined")
    return page.evaluate(script, arg)


def _outbox(page) -> list[dict]:
    return _on_device(page, "() => StegvisDevice.outbox()")


def _badge(page):
    return page.locator("[data-sync-badge]")


def _device_text(page) -> str:
    """Everything the tablet keeps: the page cache and the database, as text."""
    return _on_device(
        page,
        """async () => {
            const texts = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) {
                    texts.push(request.url, await (await cache.match(request)).text());
                }
            }
            const keys = await StegvisDevice.keys();
            for (const key of keys) { texts.push(key, JSON.stringify(await StegvisDevice.get(key))); }
            texts.push(JSON.stringify(await StegvisDevice.outbox()));
            return texts.join("\\n");
        }""",
    )


def _mentor_reading(page, world, pick=4):
    page.goto(f"/samtal/{world.fresh_enrolment.pk}/bedomning/")
    answer_steps(page, ladder_pick(pick))
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.get_by_role("heading", name="Jämför och planera")).to_be_visible()


def test_a_whole_conversation_without_a_connection_is_stored_once_when_it_returns(browsing, world):
    context, page = _tablet(browsing, world)
    browsing.screenshot(page, "caseload-offline-ready-tablet")
    kept = _device_text(page)
    assert world.fresh.pseudonym in kept  # the caseload is there ...
    for secret in ("Testperson 0", "19850301", "850301-"):  # ... and no name or personnummer
        assert secret not in kept, secret

    # The garden has no coverage from the start: nothing below reaches the server.
    context.set_offline(True)
    page.goto("/mentor/")
    expect(page.get_by_role("heading", name="Mina deltagare", level=1)).to_be_visible()
    expect(_badge(page)).to_have_text("Ingen anslutning")
    page.get_by_role("link", name="Målbildssamtal").first.click()
    expect(page.get_by_role("heading", name="Målbildssamtal", level=1)).to_be_visible()
    browsing.audit(page, "Målbildssamtal (utan anslutning)")
    browsing.screenshot(page, "conversation-hub-offline-tablet", full_page=True)

    # A page the tablet does not keep says so in Swedish.
    page.goto(f"/deltagare/{world.fresh.pseudonym}/")
    expect(page.get_by_role("heading", name="Sidan behöver anslutning")).to_be_visible()
    page.go_back()

    # Participant mode, entered and left offline with a code.
    page.get_by_label("Kod (4–6 siffror)").fill("135")
    page.get_by_role("button", name="Lämna över till deltagaren").click()
    expect(page.locator("[data-handover-error]")).to_have_text("Koden ska vara 4–6 siffror.")
    page.get_by_label("Kod (4–6 siffror)").fill(CODE)
    page.get_by_role("button", name="Lämna över till deltagaren").click()
    expect(page.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()
    self_url = page.url
    for elsewhere in ("/mentor/", f"/samtal/{world.fresh_enrolment.pk}/bedomning/", "/administration/atkomstlogg/"):
        page.goto(elsewhere)
        expect(page).to_have_url(self_url)  # the participant reaches nothing else
    answer_steps(page, ladder_pick(7))
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.get_by_role("heading", name="Tack för dina svar!")).to_be_visible()
    page.get_by_label("Koden du valde").fill("0000")
    page.get_by_role("button", name="Tillbaka till handledarläge").click()
    expect(page.locator("[data-unlock-error]")).to_have_text("Fel kod. Bara handledaren kan lämna deltagarläget.")
    page.get_by_label("Koden du valde").fill(CODE)
    page.get_by_role("button", name="Tillbaka till handledarläge").click()

    # The mentor's assessment, then the comparison with today's readings from the device.
    expect(page.get_by_role("heading", name=re.compile("Din bedömning av"))).to_be_visible()
    answer_steps(page, ladder_pick(4))
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.get_by_role("heading", name="Jämför och planera")).to_be_visible()
    expect(page.locator("[data-device-readings]")).to_be_visible()
    expect(page.locator("table.areas caption")).to_have_text(
        "Per område på stegen 1–10: dagens självskattning och bedömning (sparat på surfplattan)"
    )
    expect(page.locator("table.areas .badge", has_text="prata om").first).to_be_visible()
    expect(_badge(page)).to_have_text("2 väntar på servern")
    browsing.audit(page, "Jämför och planera (utan anslutning)")
    browsing.screenshot(page, "compare-offline-tablet")

    # The plan agreed offline waits in the outbox with the readings.
    page.get_by_label("Målbild").fill("Arbeta deltid i caféet")
    page.locator("table.areas tbody tr").first.get_by_role("button", name=re.compile("Nytt delmål")).click()
    page.get_by_label("Delmål", exact=True).fill("Komma i tid tre dagar i veckan")
    page.get_by_role("button", name="Spara samtalet").click()
    expect(page.get_by_role("heading", name="Samtalet är sparat")).to_be_visible()
    expect(_badge(page)).to_have_text("3 väntar på servern")
    browsing.screenshot(page, "offline-pending-tablet", full_page=True)
    page.reload()  # opened again: it says the plan is saved, and offers additions only, never the same again
    expect(page.locator("[data-plan-saved-text]")).to_have_text(
        "Planen från i dag är sparad på surfplattan och väntar på att skickas."
    )
    expect(page.locator("form[data-plan]")).to_be_hidden()
    expect(page.get_by_role("button", name="Lägg till mer i planen")).to_be_visible()
    assert not AssessmentSession.objects.exists() and not Goal.objects.exists()
    assert sorted(item.get("perspective") or "plan" for item in _outbox(page)) == ["mentor", "plan", "self"]

    context.set_offline(False)
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat \d\d:\d\d$"), timeout=30_000)
    expect(page.locator(".toast", has_text="Skickat").first).to_be_visible()
    browsing.screenshot(page, "sync-badge-sent-tablet")
    assert _outbox(page) == []
    sessions = AssessmentSession.objects.filter(enrolment=world.fresh_enrolment)
    assert sorted(sessions.values_list("perspective", flat=True)) == [Perspective.MENTOR, Perspective.SELF]
    goal = Goal.objects.get(enrolment=world.fresh_enrolment, active=True)
    assert goal.text == "Arbeta deltid i caféet"
    assert list(goal.milestones.values_list("text", "area")) == [("Komma i tid tre dagar i veckan", "halsa")]
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())


def test_a_reading_waits_through_an_expired_session_and_is_stored_once_after_logging_in_again(browsing, world):
    context, page = _tablet(browsing, world)
    context.set_offline(True)
    _mentor_reading(page, world)
    queued = _outbox(page)
    assert len(queued) == 1

    # While offline the session expired on the server; back online the outbox must not lose it.
    Session.objects.all().delete()
    context.set_offline(False)
    expect(_badge(page)).to_have_text("Logga in igen: 1 väntar", timeout=30_000)
    prompt = page.locator("[data-device-banner]")
    expect(prompt).to_contain_text("Du behöver logga in igen för att skicka 1 sparad bedömning")
    browsing.screenshot(page, "login-again-prompt-tablet")
    assert [item["client_uuid"] for item in _outbox(page)] == [queued[0]["client_uuid"]]
    assert not AssessmentSession.objects.exists()

    prompt.get_by_role("link", name="Logga in igen").click()
    expect(page).to_have_url(re.compile(r"/logga-in/"))
    page.get_by_label("Användarnamn").fill(world.mentor.username)
    page.get_by_label("Lösenord").fill(world.password)
    page.get_by_role("button", name="Logga in").click()  # a new login: a new CSRF token
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    assert _outbox(page) == []
    assert AssessmentSession.objects.filter(client_uuid=queued[0]["client_uuid"]).count() == 1
    assert AssessmentSession.objects.count() == 1


def test_a_stale_csrf_token_is_replaced_and_the_reading_sent_once(browsing, world):
    context, page = _tablet(browsing, world)
    refused = []

    def stale_once(route):
        if not refused and route.request.method == "POST":
            refused.append(route.request.post_data)
            route.fulfill(
                status=403,
                content_type="application/json",
                body=json.dumps({"detail": "CSRF Failed: CSRF token incorrect.", "code": "csrf"}),
            )
        else:
            route.continue_()

    context.route("**/api/v1/bedomningar/", stale_once)
    _mentor_reading(page, world)
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    assert len(refused) == 1
    assert AssessmentSession.objects.count() == 1


def test_two_tablets_sending_the_same_reading_store_it_once(browsing, world):
    first_context, first = _tablet(browsing, world)
    second_context, second = _tablet(browsing, world)
    first_context.set_offline(True)
    _mentor_reading(first, world)
    item = _outbox(first)[0]
    second_context.set_offline(True)
    _on_device(second, "item => StegvisDevice.queue(item)", item)
    first_context.set_offline(False)
    second_context.set_offline(False)
    for page in (first, second):
        _on_device(page, "() => StegvisDevice.flush()")
        expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
        assert _outbox(page) == []
    assert AssessmentSession.objects.filter(client_uuid=item["client_uuid"]).count() == 1


def test_logout_warns_about_unsent_readings_and_clears_the_tablet_once_they_are_sent(browsing, world):
    context, page = _tablet(browsing, world)
    context.set_offline(True)
    _mentor_reading(page, world)
    page.get_by_role("button", name="Logga ut").click()
    dialog = page.locator("dialog[data-logout-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("1 bedömning har inte tagits emot av servern ännu (ingen anslutning)")
    browsing.screenshot(page, "logout-warning-tablet")
    dialog.get_by_role("button", name="Stanna kvar och skicka senare").click()
    expect(dialog).to_be_hidden()
    assert len(_outbox(page)) == 1

    context.set_offline(False)
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/logga-in/"))
    assert _on_device(page, "() => StegvisDevice.keys()") == []
    assert _outbox(page) == []
    assert "stegvis-pages" not in page.evaluate("() => caches.keys()")
    assert AssessmentSession.objects.count() == 1
    page.goto("/mentor/")
    expect(page).to_have_url(re.compile(r"/logga-in/"))  # logged out on the server too


# --- What an outside review tried -----------------------------------------------------------------


def test_a_reading_reopened_and_left_does_not_swallow_the_next_one(browsing, world):
    """A queued reading opened again (to correct it) and left: once it is sent, the next reading gets
    a UUID of its own."""
    context, page = _tablet(browsing, world)
    context.set_offline(True)
    _mentor_reading(page, world)
    page.goto(f"/samtal/{world.fresh_enrolment.pk}/bedomning/")
    expect(page.locator("[data-sync-status]")).to_contain_text("väntar på att skickas")
    page.locator("fieldset.item label.option").first.click()  # saves a draft with the queued reading's UUID
    context.set_offline(False)
    page.goto("/mentor/")
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    _mentor_reading(page, world, pick=8)
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    assert AssessmentSession.objects.filter(enrolment=world.fresh_enrolment).count() == 2


def test_changes_to_a_reading_the_server_already_had_are_kept_and_can_be_sent_as_a_new_one(browsing, world):
    context, page = _tablet(browsing, world)
    lost_answer = []

    def stored_but_answer_lost(route):
        if not lost_answer and route.request.method == "POST":
            lost_answer.append(route.fetch())  # the server stores it; the Wi-Fi drops the answer
            route.abort("connectionreset")
        else:
            route.continue_()

    context.route("**/api/v1/bedomningar/", stored_but_answer_lost)
    _mentor_reading(page, world, pick=3)
    expect(_badge(page)).to_have_text("1 väntar på servern", timeout=30_000)
    assert AssessmentSession.objects.count() == 1
    _mentor_reading(page, world, pick=9)  # opened again from the outbox and changed
    expect(_badge(page)).to_have_text("1 bedömning behöver rättas", timeout=30_000)
    _badge(page).click()
    dialog = page.locator("dialog[data-sync-dialog]")
    expect(dialog).to_contain_text("redan tagit emot den här bedömningen med andra svar")
    dialog.get_by_role("button", name="Skicka som ny bedömning").click()
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    assert AssessmentSession.objects.count() == 2


def test_another_mentors_logout_keeps_the_first_mentors_unsent_reading(browsing, world):
    other = user_with_role(Role.MENTOR, insats=world.insats, username="handledare-2", password=world.password)
    context, page = _tablet(browsing, world)
    context.set_offline(True)
    _mentor_reading(page, world)
    Session.objects.all().delete()
    context.set_offline(False)
    login(page, other.username, world.password)
    expect(page.locator("[data-device-banner]")).to_contain_text("väntar på att handledare loggar in")
    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/logga-in/"))  # nothing of theirs was unsent: no warning
    assert len(_outbox(page)) == 1
    login(page, world.mentor.username, world.password)
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    assert AssessmentSession.objects.count() == 1


def test_participant_mode_survives_an_ended_session_without_a_redirect_loop(browsing, world):
    context, page = _tablet(browsing, world)
    page.goto(f"/samtal/{world.fresh_enrolment.pk}/")
    page.get_by_label("Kod (4–6 siffror)").fill(CODE)
    page.get_by_role("button", name="Lämna över till deltagaren").click()
    expect(page.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()
    page.goto(f"/samtal/{world.fresh_enrolment.pk}/sjalvskattning/klar/")
    forgot = page.locator("details.forgot")
    forgot.locator("summary").click()
    for _ in range(5):  # five wrong passwords end the mentor's session ...
        forgot.get_by_label("Ditt lösenord (behöver anslutning)").fill("fel-losenord")
        with page.expect_response(lambda response: "/enhet/las-upp/" in response.url):  # one attempt at a time
            forgot.get_by_role("button", name="Lås upp med lösenordet").click()
    expect(page.locator("[data-unlock-password-error]")).to_contain_text("Inloggningen har upphört")
    context.set_offline(True)
    page.goto("/mentor/")  # ... but participant mode stays, offline too
    expect(page.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()
    context.set_offline(False)
    page.reload()  # online: the server sends the form to the login page, which participant mode allows
    expect(page).to_have_url(re.compile(r"/logga-in/"))
    login(page, world.mentor.username, world.password)
    expect(page.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()


def test_a_request_that_never_answers_does_not_hold_up_the_logout(browsing, world):
    context, page = _tablet(browsing, world)
    context.route("**/api/v1/bedomningar/", lambda route: None)  # swallowed: no answer, ever
    _mentor_reading(page, world)
    page.get_by_role("button", name="Logga ut").click()
    dialog = page.locator("dialog[data-logout-dialog]")
    expect(dialog).to_be_visible(timeout=20_000)
    expect(dialog).to_contain_text("1 bedömning har inte tagits emot av servern ännu")


def test_a_server_error_shows_the_kept_page_and_a_proxy_page_leaves_the_reading_waiting(browsing, world):
    context, page = _tablet(browsing, world)
    hub = f"/samtal/{world.fresh_enrolment.pk}/"
    context.route(f"**{hub}", lambda route: route.fulfill(status=502, body="<h1>502 Bad Gateway</h1>"))
    page.goto(hub)
    expect(page.get_by_role("heading", name="Målbildssamtal", level=1)).to_be_visible()
    context.unroute(f"**{hub}")

    def proxy_page(route):
        if route.request.method == "POST":
            route.fulfill(status=403, content_type="text/html", body="<h1>Åtkomst nekad av proxyn</h1>")
        else:
            route.continue_()

    context.route("**/api/v1/bedomningar/", proxy_page)
    _mentor_reading(page, world)
    _on_device(page, "() => StegvisDevice.flush()")
    expect(_badge(page)).to_have_text("1 väntar på servern")
    assert [item["state"] for item in _outbox(page)] == ["waiting"]
    context.unroute("**/api/v1/bedomningar/")
    _on_device(page, "() => StegvisDevice.flush()")
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)


def _offline_plan(page, world, goal: str) -> None:
    """Agree a plan on the comparison screen with this målbild, without a connection."""
    page.goto(f"/samtal/{world.fresh_enrolment.pk}/jamforelse/")
    page.wait_for_selector("form[data-restored]", state="attached")
    more = page.get_by_role("button", name="Lägg till mer i planen")
    if more.is_visible():
        more.click()
    page.get_by_label("Målbild").fill(goal)
    page.get_by_role("button", name="Spara samtalet").click()
    expect(page.get_by_role("heading", name="Samtalet är sparat")).to_be_visible()


def test_plans_agreed_offline_reach_the_server_in_the_order_they_were_agreed(browsing, world):
    context, page = _tablet(browsing, world)
    context.set_offline(True)
    for goal in ("Första målbilden", "Andra målbilden", "Tredje målbilden"):
        _offline_plan(page, world, goal)
    assert [item["body"]["goal"] for item in _outbox(page)] == [
        "Första målbilden",
        "Andra målbilden",
        "Tredje målbilden",
    ]
    context.set_offline(False)
    expect(_badge(page)).to_have_text(re.compile(r"^Allt skickat"), timeout=30_000)
    assert Goal.objects.get(enrolment=world.fresh_enrolment, active=True).text == "Tredje målbilden"


def test_an_item_that_gets_no_answer_does_not_hold_back_the_rest(browsing, world):
    context, page = _tablet(browsing, world)
    context.set_offline(True)
    _mentor_reading(page, world)
    stuck = _outbox(page)[0]["client_uuid"]
    _offline_plan(page, world, "Arbeta deltid i caféet")

    def swallow_the_reading(route):
        if stuck in (route.request.post_data or ""):
            return  # no answer, ever
        route.continue_()

    context.route("**/api/v1/**", swallow_the_reading)
    context.set_offline(False)
    _on_device(page, "() => StegvisDevice.flush()")
    expect(_badge(page)).to_have_text("1 väntar på servern", timeout=40_000)
    assert Goal.objects.get(enrolment=world.fresh_enrolment, active=True).text == "Arbeta deltid i caféet"
    assert [item["client_uuid"] for item in _outbox(page)] == [stuck]
