"""Min plan (#20): the participant's personal link, its rules (one in force, avslut, erasure, consent,
who may share it), the page behind it (only this participant's plan, nothing identifying, in their
language) and the service worker that keeps it offline."""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from participants import crypto
from participants.models import AccessAction, AccessEvent, Role
from participants.services import enrolment_close, participant_erase
from progression import goals, plan
from progression.models import PlanLink
from surveys.sessions import session_submit
from tests.factories import exit_reason, income_source, personnummer_forms, user_with_role
from tests.surveys.factories import measured_enrolment, progression_consent, shipped_version, valid_answers

pytestmark = pytest.mark.django_db

DUE = date(2099, 3, 5)  # a date whose formatting names the month in every language


@pytest.fixture
def world():
    version = shipped_version()
    ns = measured_enrolment()
    ns.version = version
    goal = goals.goal_set(enrolment=ns.enrolment, text="Arbeta deltid i caféet", by=ns.mentor)
    goals.milestone_add(goal=goal, text="Komma i tid tre dagar", target_date=DUE, by=ns.mentor, area="vardag")
    reached = goals.milestone_add(goal=goal, text="Prova praktik en vecka", target_date=None, by=ns.mentor)
    goals.milestone_set_status(milestone=reached, status="uppnadd", by=ns.mentor)
    goals.action_step_add(
        goal=goal, what="Boka möte med Arbetsförmedlingen", who="Handledaren", due_date=DUE, by=ns.mentor
    )
    done = goals.action_step_add(goal=goal, what="Skriva ett CV", who="Deltagaren", due_date=None, by=ns.mentor)
    goals.action_step_mark(step=done, done=True, by=ns.mentor)
    return ns


def _self_reading(world, days_ago: int, **answers):
    session, _ = session_submit(
        client_uuid=uuid.uuid4(),
        enrolment=world.enrolment,
        version=world.version,
        perspective="self",
        answers=valid_answers(world.version, "self", **answers),
        recorded_by=world.mentor,
        occurred_at=timezone.localtime() - timedelta(days=days_ago),
    )
    return session


def _link(world, language: str = "sv") -> tuple[PlanLink, str]:
    new = plan.plan_link_create(enrolment=world.enrolment, language=language, by=world.mentor)
    return new.link, new.token


def _page(client, token: str, **params):
    return client.get(reverse("my_plan", args=[token]), params)


# --- The link's rules -------------------------------------------------------------------------------


def test_a_link_is_stored_as_a_hash_opens_its_own_plan_and_is_logged(world):
    link, token = _link(world)

    assert token not in link.token_hash and len(token) >= 40
    assert plan.plan_link_open(token=token).pk == link.pk
    link.refresh_from_db()
    assert link.last_opened_at is not None
    event = AccessEvent.objects.get(participant=world.participant, action=AccessAction.EXPORT)
    assert event.user == world.mentor and "Min plan" in event.reason


def test_a_new_link_revokes_the_one_before_and_says_so(world, client):
    first, first_token = _link(world)
    new = plan.plan_link_create(enrolment=world.enrolment, language="en", by=world.mentor)

    assert new.replaced.pk == first.pk
    assert PlanLink.objects.filter(enrolment=world.enrolment, revoked_at__isnull=True).get().pk == new.link.pk
    with pytest.raises(plan.PlanLinkUnusable) as refused:
        plan.plan_link_open(token=first_token)
    assert refused.value.reason == "revoked"

    client.force_login(world.mentor)
    response = client.post(reverse("plan_link", args=[world.enrolment.pk]), {"language": "sv"})
    assert "Den tidigare länken" in response.content.decode()
    assert "fungerar inte längre" in response.content.decode()


def test_a_revoked_link_answers_410_with_the_reason_in_the_participants_language(world, client):
    link, token = _link(world, "en")
    client.force_login(world.mentor)
    confirm = client.get(reverse("plan_link_revoke", args=[world.enrolment.pk]))
    assert confirm.status_code == 200 and "Återkalla länken till Min plan?" in confirm.content.decode()
    assert PlanLink.objects.get(pk=link.pk).revoked_at is None  # the confirmation step changes nothing
    client.post(reverse("plan_link_revoke", args=[world.enrolment.pk]))
    client.logout()

    response = _page(client, token)
    assert response.status_code == 410
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Arbeta deltid" not in html
    link.refresh_from_db()
    assert link.revoked_by == world.mentor
    assert AccessEvent.objects.filter(participant=world.participant, reason__contains="återkallad").exists()


def test_the_link_ends_at_avslut(world, client):
    _link_obj, token = _link(world)
    enrolment_close(
        by=world.mentor,
        enrolment=world.enrolment,
        end_date=timezone.localdate(),
        exit_reason=exit_reason("arbete"),
        income_after=income_source("ingen_offentlig"),
        income_after_extent=Decimal("1"),
    )
    with pytest.raises(plan.PlanLinkUnusable) as refused:
        plan.plan_link_open(token=token)
    assert refused.value.reason == "ended"
    response = _page(client, token)
    assert response.status_code == 410 and "avslutad" in response.content.decode()
    with pytest.raises(ValidationError):
        plan.plan_link_create(enrolment=world.enrolment, language="sv", by=world.mentor)


def test_the_link_ends_when_the_person_is_erased(world):
    _link_obj, token = _link(world)
    admin = user_with_role(Role.ADMIN, forbund=world.forbund, can_read_identity=True)
    participant_erase(participant=world.participant, by=admin, reason="Begäran om radering")

    with pytest.raises(plan.PlanLinkUnusable) as refused:
        plan.plan_link_open(token=token)
    assert refused.value.reason == "erased"


def test_the_link_ends_when_consent_is_withdrawn(world, client):
    _link_obj, token = _link(world)
    progression_consent(world.participant, by=world.mentor, granted=False)

    with pytest.raises(plan.PlanLinkUnusable) as refused:
        plan.plan_link_open(token=token)
    assert refused.value.reason == "consent"
    assert _page(client, token).status_code == 410
    client.force_login(world.mentor)
    page = client.get(reverse("plan_link", args=[world.enrolment.pk])).content.decode()
    assert "inte samtyckt" in page and "Skapa länk" not in page


def test_an_unknown_token_is_a_410_too(client):
    response = _page(client, "inte-en-riktig-lank", sprak="en")
    assert response.status_code == 410
    assert '<html lang="en"' in response.content.decode()


@pytest.mark.parametrize("who", ["other_insats_mentor", "other_forbund_mentor"])
def test_mentors_of_other_insatser_or_forbund_see_nothing(world, client, who):
    other = measured_enrolment(forbund=world.forbund if who == "other_insats_mentor" else None)
    link, _token = _link(world)
    client.force_login(other.mentor)

    assert client.get(reverse("plan_link", args=[world.enrolment.pk])).status_code == 404
    assert client.post(reverse("plan_link", args=[world.enrolment.pk]), {"language": "sv"}).status_code == 404
    assert client.post(reverse("plan_link_revoke", args=[world.enrolment.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        plan.plan_link_create(enrolment=world.enrolment, language="sv", by=other.mentor)
    with pytest.raises(PermissionDenied):
        plan.plan_link_revoke(link=link, by=other.mentor)
    assert PlanLink.objects.get().revoked_at is None


def test_a_coordinator_who_reads_the_enrolment_may_not_share_its_plan(world, client):
    coordinator = user_with_role(Role.COORDINATOR, forbund=world.forbund)
    _link(world)
    client.force_login(coordinator)

    assert client.get(reverse("plan_link", args=[world.enrolment.pk])).status_code == 403
    assert client.post(reverse("plan_link_revoke", args=[world.enrolment.pk])).status_code == 403
    assert PlanLink.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_mentor_creates_a_link_with_a_qr_code_choosing_the_language(world, client):
    client.force_login(world.mentor)
    form = client.get(reverse("plan_link", args=[world.enrolment.pk])).content.decode()
    assert "العربية – utkast till översättning" in form  # Arabic is offered as a draft

    response = client.post(reverse("plan_link", args=[world.enrolment.pk]), {"language": "ar"})
    html = response.content.decode()
    url = re.search(r'value="(http://testserver/min-plan/[\w-]+/)"', html)[1]
    assert 'src="data:image/svg+xml' in html and "Visa för deltagaren" in html
    assert PlanLink.objects.get().language == "ar"
    assert client.get(url).status_code == 200
    page = client.get(reverse("plan_link", args=[world.enrolment.pk])).content.decode()
    assert "Länken som gäller nu" in page and url not in page  # the token is shown once


# --- The page ----------------------------------------------------------------------------------------


def test_the_page_shows_only_this_participants_plan_and_nothing_identifying(world, client):
    _self_reading(world, 60)
    _self_reading(world, 2)
    other = measured_enrolment(forbund=world.forbund)
    goals.goal_set(enrolment=other.enrolment, text="Någon annans hemliga målbild", by=other.mentor)
    _link_obj, token = _link(world)

    response = _page(client, token)
    html = response.content.decode()
    assert response.status_code == 200
    for shown in (
        "Arbeta deltid i caféet",
        "Komma i tid tre dagar",
        "Prova praktik en vecka",
        "Boka möte med Arbetsförmedlingen",
        "Din handledare",  # the handlingsplan's "Handledaren", said to the participant
        "Vardag",
        '<svg class="chart lanes"',
    ):
        assert shown in html, shown
    assert "Skriva ett CV" not in html  # done: not a next step
    assert "Någon annans" not in html
    identity = world.participant.identity
    name = crypto.decrypt(identity.name_encrypted)
    personnummer = crypto.decrypt(identity.personnummer_encrypted)
    for secret in [world.participant.pseudonym, name, *personnummer_forms(personnummer), world.insats.name]:
        assert secret not in html, secret
    assert response["Cache-Control"].startswith("private")
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "Logga ut" not in html


def test_the_page_is_in_the_links_language_and_switches_with_sprak(world, client):
    _self_reading(world, 3)
    _link_obj, token = _link(world, "en")

    english = _page(client, token).content.decode()
    assert '<html lang="en" dir="ltr"' in english
    assert "Everyday life" in english and "March 5, 2099" in english

    swedish = _page(client, token, sprak="sv").content.decode()
    assert '<html lang="sv"' in swedish and "Vardag" in swedish and "5 mars 2099" in swedish

    arabic = _page(client, token, sprak="ar").content.decode()
    assert '<html lang="ar" dir="rtl"' in arabic and "5 مارس، 2099" in arabic
    assert 'direction="rtl"' in arabic  # the chart's texts run right to left too
    assert "utkast" in arabic or "draft-note" in arabic  # the draft translation says so


def test_without_a_self_assessment_the_page_says_so_instead_of_a_chart(world, client):
    _link_obj, token = _link(world)
    html = _page(client, token).content.decode()
    assert "Du har inte gjort någon självskattning ännu" in html
    assert "<svg" not in html.split("Så har du skattat dig själv")[1]


def test_every_text_block_has_a_read_aloud_button(world, client):
    _self_reading(world, 3)
    _link_obj, token = _link(world)
    html = _page(client, token).content.decode()
    said = re.findall(r'data-text="([^"]*)"', html)
    assert any("Arbeta deltid i caféet" in text for text in said)
    assert any("Boka möte med Arbetsförmedlingen" in text and "5 mars 2099" in text for text in said)
    assert any("stege från 1 till 10" in text for text in said)
    assert len(said) >= 6


# --- Offline --------------------------------------------------------------------------------------------


def test_the_plans_service_worker_is_scoped_to_min_plan_and_the_apps_worker_is_unchanged(client):
    worker = client.get(reverse("plan_service_worker"))
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("application/javascript")
    assert worker["Cache-Control"] == "no-cache"
    body = worker.content.decode()
    assert '"/min-plan/"' in body and "/static/progression/plan.css" in body and "/jsi18n/ar/" in body
    assert reverse("plan_service_worker").startswith("/min-plan/")  # so its scope can be /min-plan/

    app_worker = client.get(reverse("service_worker"))
    assert app_worker.status_code == 200 and app_worker["Service-Worker-Allowed"] == "/"
