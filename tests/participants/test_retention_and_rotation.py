"""Retention (identity erased N years after the last avslut, per förbund) and key rotation."""

import io
import logging
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.utils import timezone

from participants import crypto
from participants.management.commands import rotate_identity_keys
from participants.models import AccessAction, AccessEvent, IdentityRecord, Participant
from participants.services import (
    ParticipantAlreadyRegistered,
    identity_read,
    identity_retention_due,
    identity_retention_erase,
    participant_erase,
    participant_lookup,
    participant_register,
)
from participants.tasks import erase_expired_identities
from tests.factories import (
    EnrolmentFactory,
    exit_reason,
    operator,
    personnummer_forms,
    register_identified,
    registry_world,
    synthetic_personnummer,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)  # sco keeps identities 2 years after avslut (cutoff 2024-06-15), svo 5 (2021-06-15)


@pytest.fixture
def world():
    world = registry_world()
    world.svo.identity_retention_years = 5
    world.svo.save()
    return world


def _person(world, forbund, serial, *enrolments):  # noqa: ANN001
    """An identified participant with enrolments given as (insats, start, end or None)."""
    participant = register_identified(
        forbund=forbund,
        by=world.mentor_jonsbo if forbund == world.sco else world.mentor_natursteget,
        personnummer=synthetic_personnummer(date(1980, 1, 1), serial=serial),
        today=TODAY,
    )
    for insats, start, end in enrolments:
        EnrolmentFactory(
            participant=participant,
            insats=insats,
            start_date=start,
            end_date=end,
            exit_reason=exit_reason() if end else None,
        )
    return participant


@pytest.fixture
def people(world):
    jonsbo, backaberg, natursteget = world.jonsbo, world.backaberg, world.natursteget
    anonymous = participant_register(
        forbund=world.sco, registered_by=world.mentor_jonsbo, kon="man", birth_year=1980, anonymous=True
    )
    EnrolmentFactory(
        participant=anonymous,
        insats=jonsbo,
        start_date=date(2019, 1, 1),
        end_date=date(2020, 1, 1),
        exit_reason=exit_reason(),
    )
    erased = _person(world, world.sco, "109", (jonsbo, date(2019, 1, 1), date(2020, 1, 1)))
    participant_erase(participant=erased, by=operator(), reason="Tidigare radering")
    return {
        "sco_expired": _person(world, world.sco, "101", (jonsbo, date(2023, 1, 1), date(2024, 6, 1))),
        "sco_on_the_cutoff": _person(world, world.sco, "102", (jonsbo, date(2023, 1, 1), date(2024, 6, 15))),
        "sco_day_after_cutoff": _person(world, world.sco, "103", (jonsbo, date(2023, 1, 1), date(2024, 6, 16))),
        "sco_recent": _person(world, world.sco, "104", (jonsbo, date(2024, 1, 1), date(2025, 1, 1))),
        "sco_old_but_open_elsewhere": _person(
            world, world.sco, "105", (jonsbo, date(2019, 1, 1), date(2020, 1, 1)), (backaberg, date(2026, 1, 1), None)
        ),
        "sco_old_then_recent": _person(
            world,
            world.sco,
            "106",
            (jonsbo, date(2019, 1, 1), date(2020, 1, 1)),
            (backaberg, date(2025, 1, 1), date(2025, 12, 1)),
        ),
        "sco_never_enrolled": _person(world, world.sco, "107"),
        "svo_within_five_years": _person(world, world.svo, "101", (natursteget, date(2020, 1, 1), date(2022, 1, 1))),
        "svo_expired": _person(world, world.svo, "108", (natursteget, date(2019, 1, 1), date(2021, 1, 1))),
        "anonymous": anonymous,
        "erased": erased,
    }


EXPECTED_DUE = {"sco_expired", "sco_on_the_cutoff", "svo_expired"}


def _names(people, pseudonyms):  # noqa: ANN001
    by_pseudonym = {p.pseudonym: name for name, p in people.items()}
    return {by_pseudonym[pseudonym] for pseudonym in pseudonyms}


def test_due_list_follows_each_forbunds_retention_and_spares_open_enrolments(people):
    assert _names(people, [p.pseudonym for p in identity_retention_due(today=TODAY)]) == EXPECTED_DUE


def test_dry_run_lists_without_erasing(people):
    records_before = IdentityRecord.objects.count()
    listed = identity_retention_erase(today=TODAY, dry_run=True)
    assert _names(people, listed) == EXPECTED_DUE
    assert IdentityRecord.objects.count() == records_before
    assert not Participant.objects.filter(identity_erased_at__isnull=False).exclude(pk=people["erased"].pk).exists()
    assert not AccessEvent.objects.filter(action=AccessAction.ERASE).exclude(participant=people["erased"]).exists()


def test_real_run_erases_exactly_those_due_and_is_idempotent(people):
    records_before = IdentityRecord.objects.count()
    erased = identity_retention_erase(today=TODAY)
    assert _names(people, erased) == EXPECTED_DUE
    assert IdentityRecord.objects.count() == records_before - len(EXPECTED_DUE)
    for name, participant in people.items():
        participant.refresh_from_db()
        has_identity = IdentityRecord.objects.filter(participant=participant).exists()
        if name in EXPECTED_DUE:
            assert not has_identity, name
            assert participant.identity_erased_at is not None, name
            event = AccessEvent.objects.get(participant=participant, action=AccessAction.ERASE)
            assert event.user is None
            assert "Gallring" in event.reason
        elif name not in {"anonymous", "erased"}:
            assert has_identity, name
            assert participant.identity_erased_at is None, name
    # Statistics stay: every participant and enrolment is still there.
    assert Participant.objects.count() == len(people)
    assert identity_retention_erase(today=TODAY) == []


def test_retention_years_are_read_per_forbund(world, people):
    world.sco.identity_retention_years = 10
    world.sco.save()
    assert _names(people, identity_retention_erase(today=TODAY, dry_run=True)) == {"svo_expired"}


def _enrolled_and_closed(world, serial, end):  # noqa: ANN001
    return _person(world, world.sco, serial, (world.jonsbo, end - timedelta(days=200), end))


def test_command_dry_run_then_real_run(world):
    today = timezone.localdate()
    due = _enrolled_and_closed(world, "201", today.replace(year=today.year - 3))
    kept = _enrolled_and_closed(world, "202", today - timedelta(days=30))

    out = io.StringIO()
    call_command("erase_expired_identities", "--dry-run", stdout=out)
    assert due.pseudonym in out.getvalue()
    assert kept.pseudonym not in out.getvalue()
    assert "1 identiteter skulle raderas." in out.getvalue()
    assert IdentityRecord.objects.filter(participant=due).exists()

    out = io.StringIO()
    call_command("erase_expired_identities", stdout=out)
    assert "1 identiteter raderade." in out.getvalue()
    assert not IdentityRecord.objects.filter(participant=due).exists()
    assert IdentityRecord.objects.filter(participant=kept).exists()


def test_nightly_task_logs_pseudonyms_only_and_erases(world, caplog):
    today = timezone.localdate()
    due = _enrolled_and_closed(world, "301", today.replace(year=today.year - 3))
    pnr = synthetic_personnummer(date(1980, 1, 1), serial="301")
    caplog.set_level(logging.INFO, logger="participants.tasks")
    assert erase_expired_identities.delay().get() == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert due.pseudonym in logged
    for form in personnummer_forms(pnr):
        assert form not in logged
    assert not IdentityRecord.objects.filter(participant=due).exists()


def test_nightly_task_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["erase-expired-identities"]
    assert entry["task"] == "participants.tasks.erase_expired_identities"


# --- Key rotation -----------------------------------------------------------------------------------

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def encrypted_under_old_key(world, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    people = {}
    for serial, contact in [("411", "070-411 00 00"), ("412", ""), ("413", "person413@example.invalid")]:
        pnr = synthetic_personnummer(date(1981, 3, 3), serial=serial)
        participant = register_identified(
            forbund=world.sco, by=world.mentor_jonsbo, personnummer=pnr, name=f"Person {serial}", contact=contact
        )
        EnrolmentFactory(participant=participant, insats=world.jonsbo)
        people[pnr] = participant
    return people


def _read(world, participant):  # noqa: ANN001
    return identity_read(user=world.mentor_jonsbo, participant=participant, reason="Kontroll")


def test_rotation_reencrypts_so_that_only_the_new_key_is_needed(world, settings, encrypted_under_old_key):
    before = {r.pk: r for r in IdentityRecord.objects.all()}
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(InvalidToken):  # the premise: the new key alone cannot read old records
        _read(world, next(iter(encrypted_under_old_key.values())))

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = io.StringIO()
    call_command("rotate_identity_keys", stdout=out)
    assert "Klart: 3 identitetsposter" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    for pnr, participant in encrypted_under_old_key.items():
        identity = _read(world, participant)
        serial = pnr[-4:-1]
        assert identity.personnummer == pnr.replace("-", "")
        assert identity.name == f"Person {serial}"
        assert identity.contact == {"411": "070-411 00 00", "412": "", "413": "person413@example.invalid"}[serial]
    for record in IdentityRecord.objects.all():
        old = before[record.pk]
        assert record.personnummer_encrypted != old.personnummer_encrypted
        assert record.name_encrypted != old.name_encrypted
        assert record.pnr_index == old.pnr_index
        assert bool(record.contact_encrypted) == bool(old.contact_encrypted)

    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]  # and the old key no longer opens anything
    for record in IdentityRecord.objects.all():
        with pytest.raises(InvalidToken):
            crypto.decrypt(record.personnummer_encrypted)


def test_rotation_keeps_lookup_and_duplicate_detection(world, settings, encrypted_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_identity_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    pnr, participant = next(iter(encrypted_under_old_key.items()))
    assert participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=pnr, reason="x") == participant
    with pytest.raises(ParticipantAlreadyRegistered):
        register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=pnr)


def test_rotation_works_in_chunks(world, settings, encrypted_under_old_key, monkeypatch):
    monkeypatch.setattr(rotate_identity_keys, "CHUNK", 2)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = io.StringIO()
    call_command("rotate_identity_keys", stdout=out)
    assert "2/3 omkrypterade" in out.getvalue()
    assert "3/3 omkrypterade" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    for participant in encrypted_under_old_key.values():
        assert _read(world, participant).name.startswith("Person ")


def test_new_records_are_written_with_the_first_key(world, settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    participant = register_identified(
        forbund=world.sco, by=world.mentor_jonsbo, personnummer=synthetic_personnummer(date(1981, 3, 3), "414")
    )
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.decrypt(participant.identity.name_encrypted) == "Testa Testsson"
