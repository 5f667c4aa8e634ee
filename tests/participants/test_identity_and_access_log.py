"""Every read of identity data leaves an access event: page reveal, API read, lookup hit, export,
rectification and erasure. Denied or empty reads leave none. The GDPR export shows the log."""

import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from participants import gdpr, hooks
from participants.models import AccessAction, AccessEvent, ConsentPurpose, IdentityRecord, Membership, Role
from participants.personnummer import format_personnummer, parse_personnummer
from participants.services import (
    consent_record,
    identity_read,
    identity_rectify,
    participant_erase,
    participant_lookup,
    participant_register,
)
from tests.factories import (
    EnrolmentFactory,
    exit_reason,
    income_source,
    register_identified,
    registry_world,
    synthetic_personnummer,
    user_with_role,
)

pytestmark = pytest.mark.django_db

PNR = synthetic_personnummer(date(1984, 2, 29), serial="771")
NORMALISED = parse_personnummer(PNR).normalised
NAME = "Idun Provperson"
CONTACT = "idun.provperson@example.invalid"


@pytest.fixture
def world():
    return registry_world()


@pytest.fixture
def person(world):
    participant = register_identified(
        forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME, contact=CONTACT
    )
    EnrolmentFactory(
        participant=participant,
        insats=world.jonsbo,
        mentor=world.mentor_jonsbo,
        income_before=income_source("a_kassa"),
    )
    return participant


def _events(participant, action=None):  # noqa: ANN001
    events = AccessEvent.objects.filter(participant=participant)
    if action:
        events = events.filter(action=action)
    return list(events.order_by("id").values_list("user__username", "action", "reason"))


# --- Reading --------------------------------------------------------------------------------


def test_service_read_decrypts_and_logs_who_whom_and_why(world, person):
    identity = identity_read(user=world.mentor_jonsbo, participant=person, reason="Boka målbildssamtal")
    assert (identity.personnummer, identity.name, identity.contact) == (NORMALISED, NAME, CONTACT)
    assert _events(person) == [("mentor-jonsbo", AccessAction.VIEW, "Boka målbildssamtal")]


def test_every_read_is_logged_again(world, person):
    for _ in range(3):
        identity_read(user=world.mentor_jonsbo, participant=person, reason="Ringa")
    assert len(_events(person, AccessAction.VIEW)) == 3


def test_page_reveal_shows_identity_and_logs_it(client, world, person):
    client.force_login(world.mentor_jonsbo)
    response = client.post(reverse("identity_reveal", args=[person.pseudonym]), {"reason": "Ringa inför samtal"})
    assert response.status_code == 200
    assert NAME in response.text
    assert format_personnummer(NORMALISED) in response.text
    assert CONTACT in response.text
    assert _events(person) == [("mentor-jonsbo", AccessAction.VIEW, "Ringa inför samtal")]


def test_page_reveal_without_a_reason_shows_nothing_and_logs_nothing(client, world, person):
    client.force_login(world.mentor_jonsbo)
    response = client.post(reverse("identity_reveal", args=[person.pseudonym]), {"reason": ""}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("participant_detail", args=[person.pseudonym])
    assert "Ange varför" in response.text
    assert NAME not in response.text
    assert _events(person) == []


def test_page_reveal_needs_post(client, world, person):
    client.force_login(world.mentor_jonsbo)
    assert client.get(reverse("identity_reveal", args=[person.pseudonym])).status_code == 405
    assert _events(person) == []


def test_api_identity_read_returns_identity_and_logs_it(client, world, person):
    client.force_login(world.mentor_jonsbo)
    response = client.post(
        reverse("api_identity", args=[person.pseudonym]), {"reason": "Kontakt via API"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"personnummer": NORMALISED, "name": NAME, "contact": CONTACT}
    assert _events(person) == [("mentor-jonsbo", AccessAction.VIEW, "Kontakt via API")]


def test_api_identity_read_needs_a_reason(client, world, person):
    client.force_login(world.mentor_jonsbo)
    response = client.post(reverse("api_identity", args=[person.pseudonym]), {}, content_type="application/json")
    assert response.status_code == 400
    assert NAME not in response.text
    assert _events(person) == []


def test_coordinator_without_identity_right_is_refused_and_nothing_is_logged(client, world, person):
    client.force_login(world.coordinator_sco)
    response = client.post(
        reverse("api_identity", args=[person.pseudonym]), {"reason": "Nyfiken"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert NAME not in response.text and NORMALISED not in response.text
    response = client.post(reverse("identity_reveal", args=[person.pseudonym]), {"reason": "Nyfiken"})
    assert response.status_code == 403
    assert NAME not in response.text
    with pytest.raises(PermissionDenied):
        identity_read(user=world.coordinator_sco, participant=person, reason="Nyfiken")
    assert _events(person) == []


def test_coordinator_granted_identity_right_can_read_and_is_logged(client, world, person):
    Membership.objects.filter(user=world.coordinator_sco).update(can_read_identity=True)
    client.force_login(world.coordinator_sco)
    response = client.post(
        reverse("api_identity", args=[person.pseudonym]), {"reason": "Utvärdering"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == NAME
    assert _events(person) == [("samordnare-sco", AccessAction.VIEW, "Utvärdering")]


def test_mentor_of_another_insats_cannot_read_identity(world, person):
    with pytest.raises(PermissionDenied):
        identity_read(user=world.mentor_backaberg, participant=person, reason="Fel insats")
    with pytest.raises(PermissionDenied):
        identity_read(user=world.mentor_natursteget, participant=person, reason="Fel förbund")
    assert _events(person) == []


def test_mentor_keeps_identity_access_after_avslut(world, person):
    enrolment = person.enrolments.get()
    enrolment.end_date, enrolment.exit_reason = date(2026, 6, 1), exit_reason()
    enrolment.save()
    assert identity_read(user=world.mentor_jonsbo, participant=person, reason="Uppföljning").name == NAME


def test_anonymous_participant_has_no_identity_to_read(client, world):
    anonymous = participant_register(
        forbund=world.sco, registered_by=world.mentor_jonsbo, kon="man", birth_year=1990, anonymous=True
    )
    EnrolmentFactory(participant=anonymous, insats=world.jonsbo)
    with pytest.raises(LookupError):
        identity_read(user=world.mentor_jonsbo, participant=anonymous, reason="Ringa")
    client.force_login(world.mentor_jonsbo)
    response = client.post(
        reverse("api_identity", args=[anonymous.pseudonym]), {"reason": "Ringa"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert not AccessEvent.objects.exists()


# --- Lookup by personnummer -----------------------------------------------------------------


@pytest.mark.parametrize("form", [PNR, PNR.replace("-", ""), PNR[2:], PNR[2:].replace("-", "")])
def test_lookup_hit_in_any_form_is_logged(world, person, form):
    found = participant_lookup(user=world.mentor_backaberg, forbund=world.sco, personnummer=form, reason="Inskrivning")
    assert found == person
    assert _events(person) == [("mentor-backaberg", AccessAction.SEARCH_HIT, "Inskrivning")]


def test_lookup_miss_and_other_forbund_log_nothing(world, person):
    other = synthetic_personnummer(date(1984, 2, 29), serial="772")
    assert participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=other, reason="x") is None
    assert participant_lookup(user=world.mentor_natursteget, forbund=world.svo, personnummer=PNR, reason="x") is None
    assert not AccessEvent.objects.exists()


def test_duplicate_registration_through_the_api_is_a_logged_lookup_hit(client, world, person):
    client.force_login(world.mentor_backaberg)
    response = client.post(
        reverse("api_participant_list"),
        {"forbund": "sco", "kon": "kvinna", "personnummer": PNR, "name": "Någon", "consent_channel": "written"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["pseudonym"] == person.pseudonym
    assert [(user, action) for user, action, _ in _events(person)] == [("mentor-backaberg", AccessAction.SEARCH_HIT)]


# --- Rectification and erasure --------------------------------------------------------------


def test_rectify_changes_identity_and_is_logged(world, person):
    new_pnr = synthetic_personnummer(date(1984, 3, 1), serial="771")
    identity_rectify(
        user=world.mentor_jonsbo,
        participant=person,
        reason="Fel personnummer vid registrering",
        name="Idun Rättad",
        contact="",
        personnummer=new_pnr,
    )
    assert _events(person) == [("mentor-jonsbo", AccessAction.RECTIFY, "Fel personnummer vid registrering")]
    identity = identity_read(user=world.mentor_jonsbo, participant=person, reason="Kontroll")
    assert (identity.personnummer, identity.name, identity.contact) == (
        parse_personnummer(new_pnr).normalised,
        "Idun Rättad",
        "",
    )
    # The index follows the new number; the old one finds no one.
    assert participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=new_pnr, reason="x") == person
    assert participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=PNR, reason="x") is None


def test_rectify_refuses_empty_name_invalid_or_taken_personnummer(world, person):
    taken = synthetic_personnummer(date(1990, 1, 1), serial="115")
    register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=taken)
    with pytest.raises(ValidationError, match="Namnet får inte vara tomt"):
        identity_rectify(user=world.mentor_jonsbo, participant=person, reason="Fel i importen", name=" ")
    with pytest.raises(ValidationError, match="Kontrollsiffran"):
        identity_rectify(
            user=world.mentor_jonsbo, participant=person, reason="Fel i importen", personnummer=taken[:-1] + "0"
        )
    with pytest.raises(ValidationError, match="tillhör redan en annan deltagare"):
        identity_rectify(user=world.mentor_jonsbo, participant=person, reason="Fel i importen", personnummer=taken)
    assert identity_read(user=world.mentor_jonsbo, participant=person, reason="x").personnummer == NORMALISED
    assert _events(person, AccessAction.RECTIFY) == []


def test_rectify_by_someone_without_identity_right_is_refused(world, person):
    with pytest.raises(PermissionDenied):
        identity_rectify(user=world.coordinator_sco, participant=person, reason="Fel i importen", name="Hackad")
    assert identity_read(user=world.mentor_jonsbo, participant=person, reason="x").name == NAME
    assert _events(person, AccessAction.RECTIFY) == []


def test_erase_is_logged(world, person):
    participant_erase(participant=person, by=world.admin_sco, reason="Begäran om radering")
    assert _events(person) == [("admin-sco", AccessAction.ERASE, "Begäran om radering")]


def test_erasure_by_page_and_api_is_logged_and_only_for_the_forbund_admin(client, world, person):
    client.force_login(world.mentor_jonsbo)
    assert client.post(reverse("participant_erase", args=[person.pseudonym]), {"reason": "x y z"}).status_code == 403
    response = client.post(
        reverse("api_erasure", args=[person.pseudonym]), {"reason": "x y z"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert IdentityRecord.objects.filter(participant=person).exists()

    client.force_login(world.admin_sco)
    response = client.post(reverse("participant_erase", args=[person.pseudonym]), {"reason": "Begäran"})
    assert response.status_code == 302
    assert not IdentityRecord.objects.filter(participant=person).exists()
    assert _events(person) == [("admin-sco", AccessAction.ERASE, "Begäran")]


# --- The GDPR export ------------------------------------------------------------------------


@pytest.fixture
def rich_person(world, person):
    consent_record(
        participant=person,
        purpose=ConsentPurpose.PROGRESSION,
        granted=True,
        recorded_by=world.mentor_jonsbo,
        channel="digital",
        text_version="test-1",
    )
    consent_record(
        participant=person,
        purpose=ConsentPurpose.PROGRESSION,
        granted=False,
        recorded_by=world.mentor_jonsbo,
        channel="verbal",
        text_version="test-1",
    )
    identity_read(user=world.mentor_jonsbo, participant=person, reason="Boka samtal")
    return person


def test_export_contains_identity_consents_enrolments_and_the_access_log_with_itself(world, rich_person):
    data = gdpr.participant_export(participant=rich_person, by=world.admin_sco, reason="Registerutdrag")
    assert data["pseudonym"] == rich_person.pseudonym
    assert data["identitet"] == {"personnummer": NORMALISED, "namn": NAME, "kontakt": CONTACT}
    assert sorted((c["andamal"], c["beslut"], c["hur"]) for c in data["samtycken"]) == [
        ("Mätning av stegförflyttning", "samtycker", "Digitalt"),
        ("Mätning av stegförflyttning", "återkallat", "Muntligt"),
        ("Registrering och uppföljning", "samtycker", "Skriftligt"),
    ]
    [enrolment] = data["inskrivningar"]
    assert enrolment["insats"] == "Jonsbo försteg"
    assert enrolment["inskrivningsdatum"] == "2026-03-01"
    assert enrolment["forsorjning_fore"] == "A-kassa"
    assert enrolment["handledare"] == [{"namn": "mentor-jonsbo", "fran": "2026-03-01", "till": None}]
    assert [(e["vem"], e["handelse"], e["anledning"]) for e in data["atkomstlogg"]] == [
        ("mentor-jonsbo", "Visade identitet", "Boka samtal"),
        ("admin-sco", "Export", "Registerutdrag"),
    ]
    assert _events(rich_person, AccessAction.EXPORT) == [("admin-sco", AccessAction.EXPORT, "Registerutdrag")]
    json.dumps(data)  # serialisable as it stands


def test_export_includes_sections_from_other_apps(world, person):
    def section(participant):  # noqa: ANN001
        return {"matningar": [{"pseudonym": participant.pseudonym}]}

    hooks.EXPORT_SECTIONS.append(section)
    try:
        data = gdpr.participant_export(participant=person, by=world.admin_sco, reason="x")
    finally:
        hooks.EXPORT_SECTIONS.remove(section)
    assert data["matningar"] == [{"pseudonym": person.pseudonym}]


def test_json_export_page_downloads_and_is_logged(client, world, rich_person):
    client.force_login(world.admin_sco)
    response = client.get(reverse("participant_export", args=[rich_person.pseudonym, "json"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["identitet"]["namn"] == NAME
    assert data["atkomstlogg"][-1]["handelse"] == "Export"
    assert [u for u, a, _ in _events(rich_person, AccessAction.EXPORT)] == ["admin-sco"]


def test_html_export_page_renders_everything(client, world, rich_person):
    client.force_login(world.admin_sco)
    response = client.get(reverse("participant_export", args=[rich_person.pseudonym, "html"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    for text in [rich_person.pseudonym, NAME, NORMALISED, CONTACT, "Jonsbo försteg", "återkallat", "Boka samtal"]:
        assert text in response.text
    assert len(_events(rich_person, AccessAction.EXPORT)) == 1


def test_api_export_is_for_forbund_admins_and_logged(client, world, person):
    client.force_login(world.mentor_jonsbo)
    assert client.get(reverse("api_export", args=[person.pseudonym])).status_code == 403
    client.force_login(world.coordinator_sco)
    assert client.get(reverse("api_export", args=[person.pseudonym])).status_code == 403
    assert _events(person) == []

    client.force_login(world.admin_sco)
    response = client.get(reverse("api_export", args=[person.pseudonym]))
    assert response.status_code == 200
    assert response.json()["identitet"]["personnummer"] == NORMALISED
    assert _events(person) == [("admin-sco", AccessAction.EXPORT, "Registerutdrag via API")]


def test_export_page_is_refused_to_the_admin_of_another_forbund(client, world, person):
    other_admin = user_with_role(Role.ADMIN, forbund=world.svo, username="admin-svo")
    client.force_login(other_admin)
    response = client.get(reverse("participant_export", args=[person.pseudonym, "json"]))
    assert response.status_code in (403, 404)
    assert NAME not in response.text
    assert _events(person) == []


def test_export_after_erasure_has_no_identity_but_keeps_the_log(world, person):
    identity_read(user=world.mentor_jonsbo, participant=person, reason="Ringa")
    participant_erase(participant=person, by=world.admin_sco, reason="Begäran")
    data = gdpr.participant_export(participant=person, by=world.admin_sco, reason="Efter radering")
    assert data["identitet"] is None
    assert data["identitet_raderad"] is not None
    assert [e["handelse"] for e in data["atkomstlogg"]] == ["Visade identitet", "Radering", "Export"]


# --- The access log page ------------------------------------------------------------------


def test_access_log_page_is_for_admins_of_the_forbund(client, world, person):
    identity_read(user=world.mentor_jonsbo, participant=person, reason="Ringa om tid")
    svo_person = register_identified(forbund=world.svo, by=world.mentor_natursteget, personnummer=PNR)
    EnrolmentFactory(participant=svo_person, insats=world.natursteget)
    identity_read(user=world.mentor_natursteget, participant=svo_person, reason="Natursteget läser")

    client.force_login(world.mentor_jonsbo)
    assert client.get(reverse("access_log")).status_code == 403

    client.force_login(world.admin_sco)
    response = client.get(reverse("access_log"))
    assert response.status_code == 200
    assert person.pseudonym in response.text
    assert "Ringa om tid" in response.text
    assert svo_person.pseudonym not in response.text
    assert "Natursteget läser" not in response.text
