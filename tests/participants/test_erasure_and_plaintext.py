"""A personnummer is never stored, logged or shown in plaintext outside the identity reveal, and
erasure removes the person's identity from every table while the statistics stay.

The database checks dump the test database with pg_dump, so the data must be committed: those tests
are transactional (with serialized rollback, so the seeded code lists come back for later tests).
"""

import io
import logging
import os
import subprocess
from collections import Counter
from datetime import date

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from participants import gdpr, hooks
from participants.models import (
    AccessAction,
    AccessEvent,
    Consent,
    ConsentPurpose,
    Enrolment,
    IdentityRecord,
    MentorAssignment,
    Participant,
    Role,
)
from participants.personnummer import parse_personnummer
from participants.services import (
    consent_record,
    enrolment_change_mentor,
    enrolment_close,
    identity_read,
    identity_rectify,
    participant_erase,
    participant_lookup,
    participant_register,
)
from participants.tasks import erase_expired_identities
from tests.factories import (
    EnrolmentFactory,
    exit_reason,
    income_source,
    operator,
    personnummer_forms,
    register_form_data,
    register_identified,
    registry_world,
    synthetic_personnummer,
    user_with_role,
)

PG_DUMP = "/usr/bin/pg_dump"
committed = pytest.mark.django_db(transaction=True)

PNR = synthetic_personnummer(date(1979, 11, 23), serial="358")
NAME = "Ylva Raderingsprov"
CONTACT = "ylva.raderingsprov@example.invalid"
OTHER_PNR = synthetic_personnummer(date(1992, 4, 8), serial="846")
OTHER_NAME = "Kvarstående Kontrollperson"


def pg_dump(*extra: str) -> str:
    """The whole test database as pg_dump prints it (schema and data)."""
    settings = connection.settings_dict
    command = [PG_DUMP, "--no-owner", "--no-privileges", "--dbname", settings["NAME"], *extra]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            command += [flag, str(settings[key])]
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=120).stdout


def decoded_sessions() -> str:
    """Session payloads are signed base64; decode them so a search sees what they hold."""
    return "\n".join(repr(session.get_decoded()) for session in Session.objects.all())


def assert_no_personnummer(text: str, personnummer: str, where: str) -> None:
    for form in personnummer_forms(personnummer):
        assert form not in text, f"Personnumret ({form}) står i klartext i {where}"


@pytest.fixture
def sql_and_app_logs(caplog):
    """Capture every log record, SQL statements with their parameters included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = previous


@committed
def test_personnummer_is_nowhere_in_plaintext_after_a_full_registry_lifecycle(client, sql_and_app_logs):
    world = registry_world()
    admin = world.admin_sco
    shown: dict[str, str] = {}

    # Mentor registers through the page, then someone tries again through the page and the API.
    client.force_login(world.mentor_jonsbo)
    form = register_form_data(world.jonsbo, world.mentor_jonsbo, personnummer=PNR, name=NAME, contact=CONTACT)
    response = client.post(reverse("participant_register"), form, follow=True)
    assert response.status_code == 200
    participant = Participant.objects.get()
    shown["participant page"] = response.text
    assert participant.pseudonym in response.text
    client.force_login(world.mentor_backaberg)
    duplicate = register_form_data(world.backaberg, world.mentor_backaberg, personnummer=PNR[2:].replace("-", ""))
    # The notice repeats the form as typed (hidden fields), so it is not one of the pages searched below.
    assert "Skriv in" in client.post(reverse("participant_register"), duplicate).text
    api_duplicate = client.post(
        reverse("api_participant_list"),
        {"forbund": "sco", "kon": "kvinna", "personnummer": PNR, "name": NAME, "consent_channel": "written"},
        content_type="application/json",
    )
    assert api_duplicate.status_code == 409
    shown["API 409"] = api_duplicate.text

    # Everyday work: read identity, consent, change mentor, close, export, rectify, lookup.
    client.force_login(world.mentor_jonsbo)
    revealed = client.post(reverse("identity_reveal", args=[participant.pseudonym]), {"reason": "Boka samtal"})
    assert NAME in revealed.text  # the one place the identity is meant to be shown
    api_read = client.post(
        reverse("api_identity", args=[participant.pseudonym]), {"reason": "Ringa"}, content_type="application/json"
    )
    assert api_read.json()["personnummer"] == parse_personnummer(PNR).normalised
    consent_record(
        participant=participant,
        purpose=ConsentPurpose.PROGRESSION,
        granted=False,
        recorded_by=world.mentor_jonsbo,
        channel="verbal",
        text_version="test-1",
    )
    enrolment = participant.enrolments.get()
    second = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-2")
    enrolment_change_mentor(by=operator(), enrolment=enrolment, mentor=second, from_date=enrolment.start_date)
    enrolment_close(
        by=operator(),
        enrolment=enrolment,
        end_date=enrolment.start_date,
        exit_reason=exit_reason("studier"),
        income_after=income_source("studiemedel"),
        income_after_extent=None,
    )
    identity_rectify(user=world.mentor_jonsbo, participant=participant, reason="Nytt nummer", contact="070-111 22 33")
    participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=PNR, reason="Sökning")
    client.force_login(admin)
    assert client.get(reverse("participant_export", args=[participant.pseudonym, "json"])).status_code == 200
    assert client.get(reverse("api_export", args=[participant.pseudonym])).status_code == 200

    # Every page, API list and report a user can open without asking for the identity.
    for user, url_name, args in [
        (world.mentor_jonsbo, "mentor_home", []),
        (world.mentor_jonsbo, "insats_detail", ["jonsbo"]),
        (world.mentor_jonsbo, "participant_detail", [participant.pseudonym]),
        (world.mentor_jonsbo, "api_participant_list", []),
        (world.mentor_jonsbo, "api_participant_detail", [participant.pseudonym]),
        (world.mentor_jonsbo, "api_insats_enrolments", ["jonsbo"]),
        (world.coordinator_sco, "report_dashboard", []),
        (world.coordinator_sco, "participant_detail", [participant.pseudonym]),
        (admin, "admin_home", []),
        (admin, "access_log", []),
        (admin, "participant_detail", [participant.pseudonym]),
    ]:
        client.force_login(user)
        response = client.get(reverse(url_name, args=args))
        assert response.status_code == 200, url_name
        shown[f"{url_name} ({user.username})"] = response.text
    out = io.StringIO()
    call_command("erase_expired_identities", "--dry-run", stdout=out)
    call_command("rotate_identity_keys", stdout=out)
    erase_expired_identities.delay()
    shown["management commands"] = out.getvalue()

    for where, text in shown.items():
        assert_no_personnummer(text, PNR, where)
        assert NAME not in text, where
    logged = "\n".join(record.getMessage() for record in sql_and_app_logs.records)
    assert "INSERT INTO" in logged  # the SQL log really was captured
    assert_no_personnummer(logged, PNR, "loggen")
    assert NAME not in logged and CONTACT not in logged

    dump = pg_dump()
    assert participant.pseudonym in dump  # the dump sees the committed data
    assert IdentityRecord.objects.get().personnummer_encrypted in dump
    assert_no_personnummer(dump, PNR, "databasdumpen")
    assert NAME not in dump
    assert CONTACT not in dump and "070-111 22 33" not in dump
    assert_no_personnummer(decoded_sessions(), PNR, "sessionerna")


@committed
def test_anonymous_registration_leaves_no_trace_of_a_personnummer_given_by_mistake(client):
    world = registry_world()
    client.force_login(world.mentor_jonsbo)
    form = register_form_data(
        world.jonsbo, world.mentor_jonsbo, anonymous="1", birth_year="1979", personnummer=PNR, name=NAME
    )
    response = client.post(reverse("participant_register"), form, follow=True)
    assert response.status_code == 200
    participant = Participant.objects.get()
    assert participant.is_anonymous
    dump = pg_dump("--data-only")
    assert participant.pseudonym in dump
    assert_no_personnummer(dump, PNR, "databasdumpen")
    assert NAME not in dump
    assert not IdentityRecord.objects.exists()


# --- Erasure ----------------------------------------------------------------------------------


def _statistics() -> dict:
    """What reports count: participants, enrolments per insats and kön, and the rest of the history."""
    return {
        "participants": Participant.objects.count(),
        "participants_by_kon": Counter(dict(Participant.objects.values_list("kon").annotate(n=Count("id")))),
        "enrolments_by_insats_and_kon": sorted(
            Enrolment.objects.values("insats__code", "participant__kon")
            .annotate(n=Count("id"))
            .values_list("insats__code", "participant__kon", "n")
        ),
        "closed_enrolments_by_exit_reason": sorted(
            Enrolment.objects.filter(end_date__isnull=False)
            .values("exit_reason__code")
            .annotate(n=Count("id"))
            .values_list("exit_reason__code", "n")
        ),
        "birth_years": sorted(Participant.objects.values_list("birth_year", flat=True)),
        "mentor_assignments": MentorAssignment.objects.count(),
        "consents": Consent.objects.count(),
    }


def _populate(world):  # noqa: ANN001
    person = register_identified(
        forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME, contact=CONTACT
    )
    other = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=OTHER_PNR, name=OTHER_NAME)
    # The same person in another förbund is another registration; erasing in sco must not touch it.
    in_svo = register_identified(forbund=world.svo, by=world.mentor_natursteget, personnummer=PNR, name=NAME)
    anonymous = participant_register(
        forbund=world.sco, registered_by=world.mentor_jonsbo, kon="man", birth_year=1970, anonymous=True
    )
    second = user_with_role(Role.MENTOR, insats=world.jonsbo, username="mentor-jonsbo-2")
    first = EnrolmentFactory(participant=person, insats=world.jonsbo, mentor=world.mentor_jonsbo)
    enrolment_change_mentor(by=operator(), enrolment=first, mentor=second, from_date=date(2026, 4, 1))
    enrolment_close(
        by=operator(),
        enrolment=first,
        end_date=date(2026, 5, 1),
        exit_reason=exit_reason("arbete"),
        income_after=income_source("ingen_offentlig"),
        income_after_extent=None,
    )
    EnrolmentFactory(participant=person, insats=world.backaberg, mentor=world.mentor_backaberg)
    EnrolmentFactory(participant=other, insats=world.jonsbo, mentor=world.mentor_jonsbo)
    EnrolmentFactory(participant=anonymous, insats=world.jonsbo)
    EnrolmentFactory(participant=in_svo, insats=world.natursteget)
    consent_record(
        participant=person,
        purpose=ConsentPurpose.SHARING,
        granted=True,
        member_authority="Försäkringskassan",
        recorded_by=world.mentor_jonsbo,
        channel="written",
        text_version="test-1",
    )
    identity_read(user=world.mentor_jonsbo, participant=person, reason="Boka samtal")
    identity_rectify(user=world.mentor_jonsbo, participant=person, reason="Ny e-post", contact=CONTACT)
    participant_lookup(user=world.mentor_backaberg, forbund=world.sco, personnummer=PNR, reason="Inskrivning")
    gdpr.participant_export(participant=person, by=world.admin_sco, reason="Registerutdrag")
    return person, other, in_svo


@committed
def test_erasure_removes_identity_from_every_table_and_keeps_the_statistics():
    world = registry_world()
    person, other, in_svo = _populate(world)
    record = IdentityRecord.objects.get(participant=person)
    traces = [record.personnummer_encrypted, record.name_encrypted, record.contact_encrypted]
    other_record = IdentityRecord.objects.get(participant=other)
    before = _statistics()
    access_events_before = AccessEvent.objects.filter(participant=person).count()

    dump = pg_dump()
    for trace in traces:
        assert trace in dump  # the dump does see the vault before erasure
    assert_no_personnummer(dump, PNR, "databasdumpen före radering")

    participant_erase(participant=person, by=world.admin_sco, reason="Begäran om radering")

    dump = pg_dump()
    assert person.pseudonym in dump
    assert_no_personnummer(dump, PNR, "databasdumpen efter radering")
    assert NAME not in dump
    assert CONTACT not in dump
    for trace in traces:
        assert trace not in dump, "krypterad identitet eller pnr-index finns kvar efter radering"
    assert not IdentityRecord.objects.filter(forbund=world.sco, pnr_index=record.pnr_index).exists()
    # Nothing else went: the other person in sco, and the same person's registration in svo (which
    # is why the keyed index, the same in every förbund, may still be in the dump).
    assert other_record.personnummer_encrypted in dump
    assert IdentityRecord.objects.filter(participant=in_svo, pnr_index=record.pnr_index).exists()

    assert _statistics() == before
    person.refresh_from_db()
    assert person.identity_erased_at is not None
    assert (person.kon, person.birth_year) == ("kvinna", 1979)
    # The audit trail stays (pseudonymous) and records the erasure itself.
    events = AccessEvent.objects.filter(participant=person)
    assert events.count() == access_events_before + 1
    assert events.filter(action=AccessAction.ERASE, user=world.admin_sco).exists()


@committed
def test_erasure_through_the_api_leaves_nothing_and_the_person_cannot_be_found_again(client):
    world = registry_world()
    person, _, _ = _populate(world)
    before = _statistics()
    client.force_login(world.admin_sco)
    response = client.post(
        reverse("api_erasure", args=[person.pseudonym]), {"reason": "Begäran"}, content_type="application/json"
    )
    assert response.status_code == 204
    dump = pg_dump()
    assert_no_personnummer(dump, PNR, "databasdumpen")
    assert NAME not in dump and CONTACT not in dump
    assert _statistics() == before

    assert participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=PNR, reason="x") is None
    client.force_login(world.mentor_jonsbo)
    response = client.post(
        reverse("api_identity", args=[person.pseudonym]), {"reason": "Ringa"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert NAME not in response.text


@pytest.mark.django_db
def test_erased_person_registered_again_becomes_a_new_unlinked_participant():
    world = registry_world()
    person = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME)
    EnrolmentFactory(participant=person, insats=world.jonsbo)
    participant_erase(participant=person, by=world.admin_sco, reason="Begäran")
    again = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME)
    assert again.pk != person.pk
    assert again.pseudonym != person.pseudonym
    assert participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=PNR, reason="x") == again
    with pytest.raises(LookupError):
        identity_read(user=world.mentor_jonsbo, participant=person, reason="x")


@pytest.mark.django_db
def test_erasure_calls_the_handlers_of_other_apps():
    world = registry_world()
    person = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME)
    seen = []

    def handler(participant):  # noqa: ANN001
        seen.append((participant.pk, IdentityRecord.objects.filter(participant=participant).exists()))

    hooks.ERASURE_HANDLERS.append(handler)
    try:
        participant_erase(participant=person, by=world.admin_sco, reason="Begäran om radering")
    finally:
        hooks.ERASURE_HANDLERS.remove(handler)
    assert seen == [(person.pk, False)]
    assert AccessEvent.objects.get(participant=person).user == world.admin_sco


@pytest.mark.django_db
def test_participant_page_shows_the_erasure_and_offers_no_reveal(client):
    world = registry_world()
    person = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=PNR, name=NAME)
    EnrolmentFactory(participant=person, insats=world.jonsbo)
    participant_erase(participant=person, by=world.admin_sco, reason="Begäran")
    client.force_login(world.mentor_jonsbo)
    response = client.get(reverse("participant_detail", args=[person.pseudonym]))
    assert response.status_code == 200
    assert "Raderad" in response.text
    assert reverse("identity_reveal", args=[person.pseudonym]) not in response.text
