"""The registry through its pages and its API: registration, duplicates, scope and role limits."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from participants.models import (
    AccessAction,
    AccessEvent,
    Consent,
    ConsentPurpose,
    Enrolment,
    IdentityRecord,
    Membership,
    MentorAssignment,
    Participant,
    Role,
)
from participants.services import enrolment_change_mentor
from tests.factories import (
    EnrolmentFactory,
    operator,
    personnummer_forms,
    register_form_data,
    register_identified,
    registry_world,
    synthetic_personnummer,
    user_with_role,
)

pytestmark = pytest.mark.django_db

PNR = synthetic_personnummer(date(1988, 9, 17), serial="624")  # the one register_form_data uses
NAME = "Siv Exempelsdotter"
OTHER_PNR = synthetic_personnummer(date(1975, 1, 30), serial="913")
OTHER_NAME = "Bo Backabergsson"


@pytest.fixture
def world():
    return registry_world()


def _today() -> date:
    return timezone.localdate()


def _api_post(client, url, data):  # noqa: ANN001
    return client.post(url, data, content_type="application/json")


# --- Register page ----------------------------------------------------------------------------


def test_mentor_registers_through_the_page_and_lands_on_the_participant(client, world):
    client.force_login(world.mentor_jonsbo)
    assert client.get(reverse("participant_register")).status_code == 200
    response = client.post(
        reverse("participant_register"), register_form_data(world.jonsbo, world.mentor_jonsbo), follow=True
    )
    participant = Participant.objects.get()
    assert response.redirect_chain[-1] == (reverse("participant_detail", args=[participant.pseudonym]), 302)
    assert response.status_code == 200
    assert participant.pseudonym in response.text
    assert "Jonsbo försteg" in response.text
    assert "Försörjningsstöd" in response.text
    assert "är registrerad och inskriven" in response.text
    for form in personnummer_forms(PNR):
        assert form not in response.text
    assert NAME not in response.text

    assert (participant.kon, participant.birth_year, participant.is_anonymous) == ("kvinna", 1988, False)
    assert IdentityRecord.objects.filter(participant=participant, forbund=world.sco).exists()
    enrolment = Enrolment.objects.get(participant=participant)
    assert (enrolment.insats, enrolment.start_date, enrolment.income_before.code, enrolment.education.code) == (
        world.jonsbo,
        _today(),
        "forsorjningsstod",
        "gymnasial",
    )
    assert str(enrolment.income_before_extent) == "0.75"
    assert str(enrolment.years_in_public_support) == "4.5"
    assert MentorAssignment.objects.get(enrolment=enrolment).mentor == world.mentor_jonsbo
    assert sorted(Consent.objects.filter(participant=participant).values_list("purpose", "granted", "channel")) == [
        (ConsentPurpose.PROGRESSION, True, "written"),
        (ConsentPurpose.REGISTRATION, True, "written"),
        (ConsentPurpose.RESEARCH, True, "written"),
    ]


def test_register_page_refuses_invalid_personnummer_in_swedish(client, world):
    client.force_login(world.mentor_jonsbo)
    bad = PNR[:-1] + str((int(PNR[-1]) + 1) % 10)
    response = client.post(
        reverse("participant_register"), register_form_data(world.jonsbo, world.mentor_jonsbo, personnummer=bad)
    )
    assert response.status_code == 200
    assert "Kontrollsiffran stämmer inte" in response.text
    assert not Participant.objects.exists()


def test_register_page_asks_for_guardian_consent_for_a_seventeen_year_old(client, world):
    minor = synthetic_personnummer(date(_today().year - 17, 1, 15), serial="482")
    client.force_login(world.mentor_jonsbo)
    data = register_form_data(world.jonsbo, world.mentor_jonsbo, personnummer=minor)
    response = client.post(reverse("participant_register"), data)
    assert response.status_code == 200
    assert "vårdnadshavares samtycke krävs" in response.text
    assert not Participant.objects.exists()

    response = client.post(reverse("participant_register"), {**data, "guardian_consent": "on"})
    assert response.status_code == 302
    assert Consent.objects.filter(purpose=ConsentPurpose.REGISTRATION, guardian_consent=True).count() == 1


def test_register_page_anonymous_stores_no_identity(client, world):
    client.force_login(world.mentor_jonsbo)
    data = register_form_data(
        world.jonsbo, world.mentor_jonsbo, anonymous="1", personnummer="", name="", contact="", birth_year="1990"
    )
    response = client.post(reverse("participant_register"), data)
    assert response.status_code == 302
    participant = Participant.objects.get()
    assert participant.is_anonymous and participant.birth_year == 1990
    assert not IdentityRecord.objects.exists()
    assert not Consent.objects.exists()
    assert Enrolment.objects.filter(participant=participant, insats=world.jonsbo).exists()


def test_duplicate_on_the_page_shows_the_existing_pseudonym_and_offers_to_enrol_it(client, world):
    existing = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME)
    EnrolmentFactory(participant=existing, insats=world.jonsbo)
    client.force_login(world.mentor_backaberg)
    data = register_form_data(world.backaberg, world.mentor_backaberg, personnummer=PNR[2:].replace("-", ""))
    response = client.post(reverse("participant_register"), data)
    assert response.status_code == 200
    assert existing.pseudonym in response.text
    assert "Skriv in" in response.text
    assert 'name="use_existing" value="on"' in response.text
    assert Participant.objects.count() == 1
    assert AccessEvent.objects.filter(
        participant=existing, user=world.mentor_backaberg, action=AccessAction.SEARCH_HIT
    ).exists()

    # "Skriv in" posts the same form again with use_existing and a reason: the existing person is
    # enrolled, with their fresh consent and the reason in the access log.
    response = client.post(reverse("participant_register"), {**data, "use_existing": "on"})
    assert response.status_code == 200
    assert "Ange varför du skriver in personen" in response.text
    consents = existing.consents.count()
    response = client.post(
        reverse("participant_register"), {**data, "use_existing": "on", "reason": "Remiss från Försäkringskassan"}
    )
    assert response.status_code == 302
    assert response.url == reverse("participant_detail", args=[existing.pseudonym])
    assert Participant.objects.count() == 1
    assert set(Enrolment.objects.filter(participant=existing).values_list("insats__code", flat=True)) == {
        "jonsbo",
        "backaberg",
    }
    assert existing.consents.count() == consents + 3  # registration, progression, research
    event = AccessEvent.objects.get(participant=existing, action=AccessAction.ENROL_EXISTING)
    assert event.user == world.mentor_backaberg and "Remiss från Försäkringskassan" in event.reason
    # Their time in Jonsbo stays hidden from the Backaberg mentor (no consent to sharing).
    page = client.get(reverse("participant_detail", args=[existing.pseudonym]))
    assert "Backaberg" in page.text and "Jonsbo" not in page.text


def test_use_existing_with_an_invalid_personnummer_is_a_form_error(client, world):
    client.force_login(world.mentor_jonsbo)
    data = register_form_data(world.jonsbo, world.mentor_jonsbo, personnummer="19881317-1234", use_existing="on")
    response = client.post(reverse("participant_register"), data)
    assert response.status_code == 200
    assert "Datumet i personnumret finns inte" in response.text
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize("anonymous", ["0", "1"])
def test_refused_enrolment_on_the_register_page_leaves_no_participant_behind(client, world, anonymous):
    client.force_login(world.mentor_jonsbo)
    too_late = (_today() + timedelta(days=60)).isoformat()
    data = register_form_data(world.jonsbo, world.mentor_jonsbo, anonymous=anonymous, birth_year="1988")
    response = client.post(reverse("participant_register"), {**data, "start_date": too_late})
    assert response.status_code == 200
    assert "mer än en månad fram" in response.text
    assert not Participant.objects.exists()
    assert not IdentityRecord.objects.exists()


def test_use_existing_for_an_unknown_personnummer_says_so(client, world):
    client.force_login(world.mentor_jonsbo)
    data = register_form_data(world.jonsbo, world.mentor_jonsbo, use_existing="on")
    response = client.post(reverse("participant_register"), data)
    assert response.status_code == 200
    assert "Ingen deltagare med det personnumret hittades" in response.text
    assert not Participant.objects.exists()


def test_same_personnummer_in_another_forbund_registers_on_the_page(client, world):
    register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR)
    client.force_login(world.mentor_natursteget)
    response = client.post(
        reverse("participant_register"), register_form_data(world.natursteget, world.mentor_natursteget)
    )
    assert response.status_code == 302
    assert Participant.objects.filter(forbund=world.svo, pseudonym__startswith="SVÖ-").count() == 1


def test_register_page_is_for_mentors_and_admins_of_per_person_insatser(client, world):
    client.force_login(world.coordinator_sco)
    assert client.get(reverse("participant_register")).status_code == 403
    client.force_login(world.mentor_jonsbo)
    assert 'value="backaberg"' not in client.get(reverse("participant_register")).text
    response = client.post(reverse("participant_register"), register_form_data(world.backaberg, world.mentor_jonsbo))
    assert response.status_code == 200  # the form again, with an error on the insats
    assert not Participant.objects.exists()


# --- Participant page by role -----------------------------------------------------------------


@pytest.fixture
def jonsbo_person(world):
    participant = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME)
    EnrolmentFactory(participant=participant, insats=world.jonsbo, mentor=world.mentor_jonsbo)
    return participant


@pytest.fixture
def backaberg_person(world):
    participant = register_identified(
        forbund=world.sco, by=world.mentor_backaberg, personnummer=OTHER_PNR, name=OTHER_NAME
    )
    EnrolmentFactory(participant=participant, insats=world.backaberg, mentor=world.mentor_backaberg)
    return participant


def test_mentor_sees_the_reveal_form_for_own_participant(client, world, jonsbo_person):
    client.force_login(world.mentor_jonsbo)
    response = client.get(reverse("participant_detail", args=[jonsbo_person.pseudonym]))
    assert response.status_code == 200
    assert reverse("identity_reveal", args=[jonsbo_person.pseudonym]) in response.text
    assert NAME not in response.text


def test_coordinator_sees_the_participant_but_no_reveal_form(client, world, jonsbo_person):
    client.force_login(world.coordinator_sco)
    response = client.get(reverse("participant_detail", args=[jonsbo_person.pseudonym]))
    assert response.status_code == 200
    assert jonsbo_person.pseudonym in response.text
    assert "Jonsbo försteg" in response.text
    assert reverse("identity_reveal", args=[jonsbo_person.pseudonym]) not in response.text
    assert NAME not in response.text


def test_coordinator_with_identity_right_gets_the_reveal_form_and_the_identity(client, world, jonsbo_person):
    Membership.objects.filter(user=world.coordinator_sco).update(can_read_identity=True)
    client.force_login(world.coordinator_sco)
    response = client.get(reverse("participant_detail", args=[jonsbo_person.pseudonym]))
    assert reverse("identity_reveal", args=[jonsbo_person.pseudonym]) in response.text
    response = client.post(reverse("identity_reveal", args=[jonsbo_person.pseudonym]), {"reason": "Utvärdering"})
    assert response.status_code == 200
    assert NAME in response.text


def test_coordinator_of_another_forbund_cannot_open_the_participant(client, world, jonsbo_person):
    coordinator_svo = user_with_role(Role.COORDINATOR, forbund=world.svo, username="samordnare-svo")
    Membership.objects.filter(user=coordinator_svo).update(can_read_identity=True)
    client.force_login(coordinator_svo)
    assert client.get(reverse("participant_detail", args=[jonsbo_person.pseudonym])).status_code == 404
    response = client.post(reverse("identity_reveal", args=[jonsbo_person.pseudonym]), {"reason": "Nyfiken"})
    assert response.status_code == 404
    assert NAME not in response.text


# --- A mentor reaches nothing of another insats ---------------------------------------------------


def _page_requests(person, enrolment):  # noqa: ANN001
    p = person.pseudonym
    return [
        ("get", reverse("participant_detail", args=[p]), {}),
        ("post", reverse("identity_reveal", args=[p]), {"reason": "Nyfiken"}),
        ("get", reverse("enrol_existing", args=[p]), {}),
        ("post", reverse("consent_record", args=[p]), {"purpose": "research", "granted": "0", "channel": "verbal"}),
        ("get", reverse("enrolment_close", args=[p, enrolment.pk]), {}),
        (
            "post",
            reverse("enrolment_close", args=[p, enrolment.pk]),
            {"end_date": "2026-06-01", "exit_reason": "avbrott", "confirm": "1"},
        ),
        ("get", reverse("mentor_change", args=[p, enrolment.pk]), {}),
        ("get", reverse("participant_export", args=[p, "json"]), {}),
        ("get", reverse("participant_export", args=[p, "html"]), {}),
        ("post", reverse("participant_erase", args=[p]), {"reason": "Nyfiken"}),
    ]


def _api_requests(person, enrolment, mentor):  # noqa: ANN001
    p = person.pseudonym
    return [
        ("get", reverse("api_participant_detail", args=[p]), {}),
        ("post", reverse("api_identity", args=[p]), {"reason": "Nyfiken"}),
        ("get", reverse("api_export", args=[p]), {}),
        ("post", reverse("api_erasure", args=[p]), {"reason": "Nyfiken"}),
        ("post", reverse("api_consent", args=[p]), {"purpose": "research", "granted": False, "channel": "verbal"}),
        (
            "post",
            reverse("api_enrol", args=[p]),
            {
                "insats": "jonsbo",
                "start_date": "2026-06-01",
                "income_before": "a_kassa",
                "education": "gymnasial",
            },
        ),
        (
            "post",
            reverse("api_enrolment_close", args=[enrolment.pk]),
            {"end_date": "2026-06-01", "exit_reason": "arbete"},
        ),
        (
            "post",
            reverse("api_enrolment_mentor", args=[enrolment.pk]),
            {"mentor": mentor.username, "from_date": "2026-06-01"},
        ),
    ]


def _snapshot(person):  # noqa: ANN001
    return (
        Enrolment.objects.filter(participant=person).count(),
        list(Enrolment.objects.filter(participant=person).values_list("end_date", flat=True)),
        MentorAssignment.objects.filter(enrolment__participant=person).count(),
        Consent.objects.filter(participant=person).count(),
        IdentityRecord.objects.filter(participant=person).exists(),
        AccessEvent.objects.filter(participant=person).count(),
    )


def test_mentor_cannot_reach_another_insats_participant_through_pages(client, world, backaberg_person):
    enrolment = backaberg_person.enrolments.get()
    before = _snapshot(backaberg_person)
    client.force_login(world.mentor_jonsbo)
    for method, url, data in _page_requests(backaberg_person, enrolment):
        response = getattr(client, method)(url, data)
        assert response.status_code in (403, 404), (method, url, response.status_code)
        for secret in [OTHER_NAME, *personnummer_forms(OTHER_PNR), "Backaberg"]:
            assert secret not in response.text, (url, secret)
    assert _snapshot(backaberg_person) == before


def test_mentor_cannot_reach_another_insats_participant_through_the_api(client, world, backaberg_person):
    enrolment = backaberg_person.enrolments.get()
    before = _snapshot(backaberg_person)
    client.force_login(world.mentor_jonsbo)
    for method, url, data in _api_requests(backaberg_person, enrolment, world.mentor_jonsbo):
        response = getattr(client, method)(url, data, content_type="application/json")
        assert response.status_code in (403, 404), (method, url, response.status_code)
        for secret in [OTHER_NAME, *personnummer_forms(OTHER_PNR), backaberg_person.pseudonym, "backaberg"]:
            assert secret not in response.text, (url, secret)
    listed = client.get(reverse("api_participant_list")).json()["results"]
    assert backaberg_person.pseudonym not in [row["pseudonym"] for row in listed]
    assert _snapshot(backaberg_person) == before


def test_mentor_of_another_forbund_reaches_nothing_either(client, world, jonsbo_person):
    enrolment = jonsbo_person.enrolments.get()
    before = _snapshot(jonsbo_person)
    client.force_login(world.mentor_natursteget)
    for method, url, data in _page_requests(jonsbo_person, enrolment):
        response = getattr(client, method)(url, data)
        assert response.status_code in (403, 404), url
        assert NAME not in response.text
    for method, url, data in _api_requests(jonsbo_person, enrolment, world.mentor_natursteget):
        response = getattr(client, method)(url, data, content_type="application/json")
        assert response.status_code in (403, 404), url
        assert NAME not in response.text
    assert _snapshot(jonsbo_person) == before


def test_shared_participant_enrolment_in_the_other_insats_cannot_be_changed(client, world, jonsbo_person):
    other = EnrolmentFactory(participant=jonsbo_person, insats=world.backaberg, mentor=world.mentor_backaberg)
    client.force_login(world.mentor_jonsbo)
    page = client.post(
        reverse("enrolment_close", args=[jonsbo_person.pseudonym, other.pk]),
        {"end_date": "2026-06-01", "exit_reason": "avbrott", "income_after": "a_kassa", "income_after_extent": "1.00"},
    )
    assert page.status_code in (403, 404)
    api = _api_post(
        client,
        reverse("api_enrolment_close", args=[other.pk]),
        {"end_date": "2026-06-01", "exit_reason": "avbrott", "income_after": "a_kassa"},
    )
    assert api.status_code in (403, 404)
    api = _api_post(
        client,
        reverse("api_enrolment_mentor", args=[other.pk]),
        {"mentor": world.mentor_jonsbo.username, "from_date": "2026-06-01"},
    )
    assert api.status_code in (403, 404)
    other.refresh_from_db()
    assert other.is_open
    assert MentorAssignment.objects.get(enrolment=other).mentor == world.mentor_backaberg


def test_coordinator_reads_but_cannot_write(client, world, jonsbo_person):
    enrolment = jonsbo_person.enrolments.get()
    client.force_login(world.coordinator_sco)
    assert client.get(reverse("api_participant_detail", args=[jonsbo_person.pseudonym])).status_code == 200
    response = _api_post(
        client,
        reverse("api_enrolment_close", args=[enrolment.pk]),
        {"end_date": "2026-06-01", "exit_reason": "arbete", "income_after": "a_kassa"},
    )
    assert response.status_code == 403
    response = _api_post(
        client,
        reverse("api_consent", args=[jonsbo_person.pseudonym]),
        {"purpose": "research", "granted": True, "channel": "verbal"},
    )
    assert response.status_code == 403
    assert client.get(reverse("enrolment_close", args=[jonsbo_person.pseudonym, enrolment.pk])).status_code == 403
    enrolment.refresh_from_db()
    assert enrolment.is_open


# --- API: register, duplicates, enrol, close, mentor, consent -------------------------------------


def _register_payload(**overrides):  # noqa: ANN001
    return {
        "forbund": "sco",
        "kon": "kvinna",
        "personnummer": PNR,
        "name": NAME,
        "contact": "070-000 12 34",
        "consent_channel": "digital",
        **overrides,
    }


def test_api_registers_and_returns_only_pseudonymous_data(client, world):
    client.force_login(world.mentor_jonsbo)
    response = _api_post(client, reverse("api_participant_list"), _register_payload())
    assert response.status_code == 201
    body = response.json()
    participant = Participant.objects.get()
    assert body["pseudonym"] == participant.pseudonym
    assert (body["forbund"], body["kon"], body["birth_year"], body["is_anonymous"]) == ("sco", "kvinna", 1988, False)
    assert NAME not in response.text
    for form in personnummer_forms(PNR):
        assert form not in response.text
    assert IdentityRecord.objects.filter(participant=participant).exists()


def test_api_duplicate_in_the_same_forbund_is_409_with_the_pseudonym(client, world):
    existing = register_identified(forbund=world.sco, by=world.mentor_backaberg, personnummer=PNR)
    client.force_login(world.mentor_jonsbo)
    response = _api_post(client, reverse("api_participant_list"), _register_payload(personnummer=PNR[2:]))
    assert response.status_code == 409
    assert response.json()["pseudonym"] == existing.pseudonym
    assert Participant.objects.count() == 1


def test_api_same_personnummer_in_another_forbund_is_allowed(client, world):
    register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR)
    client.force_login(world.mentor_natursteget)
    response = _api_post(client, reverse("api_participant_list"), _register_payload(forbund="svo"))
    assert response.status_code == 201
    assert response.json()["pseudonym"].startswith("SVÖ-")


def test_api_refuses_a_forbund_outside_the_users_scope(client, world):
    client.force_login(world.mentor_natursteget)
    response = _api_post(client, reverse("api_participant_list"), _register_payload(forbund="sco"))
    assert response.status_code == 400
    assert "forbund" in response.json()
    assert not Participant.objects.exists()


def test_api_anonymous_registration_stores_no_identity(client, world):
    client.force_login(world.mentor_jonsbo)
    response = _api_post(
        client,
        reverse("api_participant_list"),
        {"forbund": "sco", "kon": "man", "anonymous": True, "birth_year": 1991},
    )
    assert response.status_code == 201
    assert response.json()["is_anonymous"] is True
    assert not IdentityRecord.objects.exists()
    assert not Consent.objects.exists()


def test_api_minor_needs_guardian_consent(client, world):
    minor = synthetic_personnummer(date(_today().year - 16, 2, 2), serial="348")
    client.force_login(world.mentor_jonsbo)
    response = _api_post(client, reverse("api_participant_list"), _register_payload(personnummer=minor))
    assert response.status_code == 400
    assert "vårdnadshavares samtycke" in response.json()["guardian_consent"][0]
    response = _api_post(
        client, reverse("api_participant_list"), _register_payload(personnummer=minor, guardian_consent=True)
    )
    assert response.status_code == 201


def test_api_registered_participant_can_be_enrolled_by_the_same_mentor(client, world):
    client.force_login(world.mentor_jonsbo)
    pseudonym = _api_post(client, reverse("api_participant_list"), _register_payload()).json()["pseudonym"]
    response = _api_post(
        client,
        reverse("api_enrol", args=[pseudonym]),
        {
            "insats": "jonsbo",
            "start_date": _today().isoformat(),
            "mentor": world.mentor_jonsbo.username,
            "income_before": "a_kassa",
            "education": "gymnasial",
            "reason": "Nyregistrerad via verksamhetssystemet",
            "consent_channel": "written",
        },
    )
    assert response.status_code == 201
    assert response.json()["insats"] == "jonsbo"


def test_api_enrol_close_and_mentor_history(client, world, jonsbo_person):
    second = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-2")
    client.force_login(world.mentor_jonsbo)
    response = _api_post(
        client,
        reverse("api_enrol", args=[jonsbo_person.pseudonym]),
        {
            "insats": "jonsbo",
            "start_date": "2026-04-01",
            "income_before": "a_kassa",
            "education": "gymnasial",
            "reason": "Återkommer",
            "consent_channel": "verbal",
        },
    )
    assert response.status_code == 400
    assert "redan inskriven" in response.json()["insats"][0]
    response = _api_post(
        client,
        reverse("api_enrol", args=[jonsbo_person.pseudonym]),
        {
            "insats": "backaberg",
            "start_date": "2026-04-01",
            "income_before": "a_kassa",
            "education": "gymnasial",
            "reason": "Byter insats",
            "consent_channel": "verbal",
        },
    )
    assert response.status_code == 400  # not an insats this mentor works in

    enrolment = jonsbo_person.enrolments.get()
    response = _api_post(
        client,
        reverse("api_enrolment_mentor", args=[enrolment.pk]),
        {"mentor": second.username, "from_date": "2026-04-01"},
    )
    assert response.status_code == 200
    assert [(row["mentor"], row["from"], row["to"]) for row in response.json()["mentor_history"]] == [
        ("mentor-jonsbo", "2026-03-01", "2026-04-01"),
        ("mentor-jonsbo-2", "2026-04-01", None),
    ]
    response = _api_post(
        client,
        reverse("api_enrolment_mentor", args=[enrolment.pk]),
        {"mentor": world.mentor_backaberg.username, "from_date": "2026-05-01"},
    )
    assert response.status_code == 400  # not a mentor in Jonsbo

    close = reverse("api_enrolment_close", args=[enrolment.pk])
    response = _api_post(client, close, {"end_date": "2026-06-01"})
    assert response.status_code == 400
    assert "exit_reason" in response.json()
    response = _api_post(client, close, {"end_date": "2026-02-01", "exit_reason": "arbete", "income_after": "a_kassa"})
    assert response.status_code == 400
    assert "före inskrivningsdatum" in response.json()["end_date"][0]
    response = _api_post(client, close, {"end_date": "2026-06-01", "exit_reason": "arbete"})
    assert response.status_code == 400
    assert "income_after" in response.json()
    response = _api_post(client, close, {"end_date": "2026-06-01", "exit_reason": "felregistrering"})
    assert response.status_code == 200
    assert (response.json()["end_date"], response.json()["exit_reason"], response.json()["income_after"]) == (
        "2026-06-01",
        "felregistrering",
        None,
    )
    assert response.json()["mentor_history"][-1]["to"] == "2026-06-01"
    # A felregistrering ends the mentor's access through the enrolment at once.
    again = {"end_date": "2026-06-02", "exit_reason": "arbete", "income_after": "a_kassa"}
    assert _api_post(client, close, again).status_code == 404
    client.force_login(world.admin_sco)
    response = _api_post(client, close, again)
    assert response.status_code == 400
    assert "avslutades redan" in response.json()["end_date"][0]


def test_api_consent_withdrawal_is_appended(client, world, jonsbo_person):
    client.force_login(world.mentor_jonsbo)
    url = reverse("api_consent", args=[jonsbo_person.pseudonym])
    assert _api_post(client, url, {"purpose": "progression", "granted": True, "channel": "verbal"}).status_code == 201
    response = _api_post(client, url, {"purpose": "progression", "granted": False, "channel": "written"})
    assert response.status_code == 201
    assert response.json()["granted"] is False
    consents = client.get(reverse("api_participant_detail", args=[jonsbo_person.pseudonym])).json()["consents"]
    assert sorted((c["purpose"], c["granted"]) for c in consents) == [
        ("progression", False),
        ("progression", True),
        ("registration", True),
    ]


def test_page_consent_withdrawal_shows_as_withdrawn(client, world, jonsbo_person):
    client.force_login(world.mentor_jonsbo)
    url = reverse("consent_record", args=[jonsbo_person.pseudonym])
    client.post(url, {"purpose": "progression", "granted": "1", "channel": "verbal"})
    response = client.post(url, {"purpose": "progression", "granted": "0", "channel": "verbal"}, follow=True)
    assert response.status_code == 200
    assert "Återkallat" in response.text
    assert list(
        Consent.objects.filter(participant=jonsbo_person, purpose="progression")
        .order_by("id")
        .values_list("granted", flat=True)
    ) == [True, False]


# --- Mentor change history on the page ------------------------------------------------------


def test_mentor_change_on_the_page_keeps_history_and_counts_changes(client, world, jonsbo_person):
    second = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-2")
    third = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-3")
    enrolment = jonsbo_person.enrolments.get()
    client.force_login(world.mentor_jonsbo)
    url = reverse("mentor_change", args=[jonsbo_person.pseudonym, enrolment.pk])
    response = client.post(url, {"mentor": str(second.pk), "from_date": "2026-04-01"})
    assert response.status_code == 302
    enrolment_change_mentor(by=operator(), enrolment=enrolment, mentor=third, from_date=date(2026, 5, 1))
    response = client.get(reverse("participant_detail", args=[jonsbo_person.pseudonym]))
    assert "Handledarbyten: 2" in response.text
    for username in ["mentor-jonsbo", "mentor-jonsbo-2", "mentor-jonsbo-3"]:
        assert username in response.text
    assert MentorAssignment.objects.filter(enrolment=enrolment, end_date__isnull=True).get().mentor == third


def test_mentor_change_on_the_page_refuses_a_date_before_the_enrolment(client, world, jonsbo_person):
    second = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-2")
    enrolment = jonsbo_person.enrolments.get()
    client.force_login(world.mentor_jonsbo)
    url = reverse("mentor_change", args=[jonsbo_person.pseudonym, enrolment.pk])
    response = client.post(url, {"mentor": str(second.pk), "from_date": (enrolment.start_date - timedelta(days=1))})
    assert response.status_code == 200
    assert "före inskrivningen" in response.text
    assert MentorAssignment.objects.filter(enrolment=enrolment).count() == 1


def test_close_on_the_page_with_felregistrering_needs_no_income_after(client, world, jonsbo_person):
    enrolment = jonsbo_person.enrolments.get()
    client.force_login(world.mentor_jonsbo)
    url = reverse("enrolment_close", args=[jonsbo_person.pseudonym, enrolment.pk])
    response = client.post(url, {"end_date": "2026-06-01", "exit_reason": "arbete", "income_after_extent": "1.00"})
    assert response.status_code == 200
    assert "Ange försörjningskälla efter insatsen" in response.text
    data = {"end_date": "2026-06-01", "exit_reason": "felregistrering", "income_after_extent": "1.00"}
    confirmation = client.post(url, data)
    assert confirmation.status_code == 200 and "Bekräfta avslutet" in confirmation.text
    enrolment.refresh_from_db()
    assert enrolment.end_date is None, "nothing is closed before the confirmation"
    response = client.post(url, {**data, "confirm": "1"})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.end_date, enrolment.exit_reason.code, enrolment.income_after) == (
        date(2026, 6, 1),
        "felregistrering",
        None,
    )
