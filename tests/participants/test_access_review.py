"""Cases an outside review of the access policy tried against the finished module; each is refused
(or logged) now. Synthetic people only."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from participants import access
from participants.importing import COLUMNS, import_enrolments
from participants.models import AccessAction, AccessEvent, ConsentPurpose, Enrolment, Insats, Membership, Role
from participants.services import (
    consent_record,
    enrolment_close,
    enrolment_create,
    enrolment_of_existing,
    identity_rectify,
)
from tests.factories import (
    ForbundFactory,
    InsatsFactory,
    MembershipFactory,
    exit_reason,
    register_identified,
    registry_world,
    synthetic_personnummer,
    upload_import,
    user_with_role,
)

pytestmark = pytest.mark.django_db

PNR = synthetic_personnummer(date(1969, 10, 15), "981")


@pytest.fixture
def world():
    ns = registry_world()
    ns.person = register_identified(forbund=ns.sco, by=ns.mentor_backaberg, personnummer=PNR, name="Ebba Provsdotter")
    ns.enrolment = enrolment_create(
        by=ns.mentor_backaberg, participant=ns.person, insats=ns.backaberg, start_date=date(2026, 2, 1)
    )
    ns.admin_without_identity = user_with_role(Role.ADMIN, forbund=ns.sco, username="admin-utan-identitet")
    return ns


def _csv(**values: str) -> bytes:
    row = {column: "" for column in COLUMNS} | {
        "personnummer": PNR,
        "anonym": "nej",
        "kon": "kvinna",
        "insats": "jonsbo",
        "inskrivningsdatum": "2026-03-01",
        "samtycke": "ja",
    }
    row.update(values)
    return (";".join(COLUMNS) + "\n" + ";".join(row[column] for column in COLUMNS) + "\n").encode()


# --- 1. The registerutdrag holds identity: it needs identity access ------------------------------


def test_an_admin_without_identity_access_gets_no_registerutdrag(client, world):
    client.force_login(world.admin_without_identity)
    pseudonym = world.person.pseudonym
    for response in (
        client.get(reverse("api_export", args=[pseudonym])),
        client.get(reverse("participant_export", args=[pseudonym, "json"])),
        client.get(reverse("participant_export", args=[pseudonym, "html"])),
    ):
        assert response.status_code == 403
        assert "Provsdotter" not in response.content.decode()
    assert not AccessEvent.objects.filter(action=AccessAction.EXPORT).exists()


# --- 2. Roles: never on one's own account, logged, never carried between förbund -----------------


def _as_django_staff(user):  # noqa: ANN001, ANN202
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="participants"))
    return user


def test_an_admin_cannot_give_themselves_identity_access(client, world):
    client.force_login(_as_django_staff(world.admin_without_identity))
    own = Membership.objects.get(user=world.admin_without_identity)
    response = client.post(
        reverse("admin:participants_membership_change", args=[own.pk]),
        {"user": own.user_id, "role": "admin", "forbund": world.sco.pk, "insats": "", "can_read_identity": "on"},
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert not own.can_read_identity
    with pytest.raises(PermissionDenied):
        access.require(access.can_assign_role(world.admin_sco, world.admin_sco, world.sco.pk), "egen")


def test_every_role_change_is_in_the_forbund_log(client, world):
    client.force_login(_as_django_staff(world.admin_sco))
    response = client.post(
        reverse("admin:participants_membership_add"),
        {
            "user": world.coordinator_sco.pk,
            "role": "coordinator",
            "forbund": "",
            "insats": world.jonsbo.pk,
            "can_read_identity": "on",
        },
    )
    assert response.status_code == 302
    event = AccessEvent.objects.get(action=AccessAction.ROLE_CHANGE)
    assert (event.user, event.forbund) == (world.admin_sco, world.sco)
    assert "samordnare-sco: samordnare i Jonsbo försteg, får läsa identitetsuppgifter" in event.reason
    membership = Membership.objects.get(user=world.coordinator_sco, insats=world.jonsbo)
    client.post(reverse("admin:participants_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert AccessEvent.objects.filter(action=AccessAction.ROLE_CHANGE, reason__startswith="Borttagen").exists()
    client.force_login(world.admin_sco)
    assert "samordnare i Jonsbo försteg" in client.get(reverse("access_log")).content.decode()


def test_an_admin_of_two_forbund_cannot_carry_an_insats_or_staff_between_them(client, world):
    flo = ForbundFactory(code="flo", name="Finsam Lekeberg Örebro", pseudonym_prefix="FLÖ")
    coaching = InsatsFactory(code="coaching", name="Coachingteam", forbund=flo)
    MembershipFactory(user=world.admin_sco, role=Role.ADMIN, forbund=flo)
    client.force_login(_as_django_staff(world.admin_sco))
    response = client.post(
        reverse("admin:participants_insats_change", args=[world.backaberg.pk]),
        {
            "forbund": flo.pk,
            "code": "backaberg",
            "name": "Backaberg",
            "category": "forberedande",
            "measurement_mode": "per_person",
            "reading_interval_weeks": "6",
            "active": "on",
            "periods-TOTAL_FORMS": "0",
            "periods-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403
    assert Insats.objects.get(pk=world.backaberg.pk).forbund == world.sco
    response = client.post(
        reverse("admin:participants_membership_add"),
        {"user": world.mentor_jonsbo.pk, "role": "mentor", "forbund": "", "insats": coaching.pk},
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=world.mentor_jonsbo, insats=coaching).exists()


# --- 3. Consent to sharing opens history: it is logged ------------------------------------------


def test_consent_to_sharing_between_insatser_is_in_the_log(world):
    enrolment_of_existing(
        by=world.mentor_jonsbo,
        participant=world.person,
        insats=world.jonsbo,
        reason="Remiss",
        consent_channel="written",
        start_date=date(2026, 3, 1),
    )
    consent_record(
        participant=world.person,
        purpose=ConsentPurpose.INSATS_SHARING,
        granted=True,
        recorded_by=world.mentor_jonsbo,
        channel="verbal",
        text_version="test-1",
    )
    event = AccessEvent.objects.get(action=AccessAction.SHARING_CONSENT)
    assert (event.user, event.participant, event.forbund) == (world.mentor_jonsbo, world.person, world.sco)
    assert event.reason == "Samtycke till delning mellan insatser givet (muntligt)"


# --- 4 and 5b. The import neither reopens enrolments nor crashes on a person already enrolled -------


def test_an_import_does_not_reopen_a_felregistrering_or_a_closed_enrolment(world):
    jonsbo = enrolment_of_existing(
        by=world.mentor_jonsbo,
        participant=world.person,
        insats=world.jonsbo,
        reason="Remiss",
        consent_channel="written",
        start_date=date(2026, 3, 1),
    )
    enrolment_close(
        by=world.mentor_jonsbo,
        enrolment=jonsbo,
        end_date=date(2026, 3, 2),
        exit_reason=exit_reason("felregistrering"),
        income_after=None,
        income_after_extent=None,
    )
    result = import_enrolments(content=_csv(), forbund=world.sco, by=world.admin_sco, dry_run=False)
    assert [(error.column, error.message) for error in result.errors] == [
        ("avslutsdatum", "Inskrivningen avslutades 2026-03-02 i Stegvis; en import öppnar den inte igen.")
    ]
    again = _csv(avslutsdatum="2026-03-02", avslutsanledning="arbete", forsorjning_efter="a_kassa")
    result = import_enrolments(content=again, forbund=world.sco, by=world.admin_sco, dry_run=False)
    assert "felregistrering" in result.errors[0].message
    jonsbo.refresh_from_db()
    assert (jonsbo.end_date, jonsbo.exit_reason.code) == (date(2026, 3, 2), "felregistrering")
    assert not access.can_read_identity(world.mentor_jonsbo, world.person)


def test_an_import_row_for_someone_already_enrolled_in_the_insats_is_a_row_error_and_logged(world):
    content = _csv(insats="backaberg", inskrivningsdatum="2026-04-01")
    result = import_enrolments(content=content, forbund=world.sco, by=world.admin_sco, dry_run=True)
    assert [(error.row, error.message) for error in result.errors] == [
        (2, "Personen har redan en pågående inskrivning i insatsen från 2026-02-01.")
    ]
    assert AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT, participant=world.person).count() == 1


# --- 5a. A rectified personnummer is a look-up ---------------------------------------------------


def test_a_personnummer_that_belongs_to_someone_else_is_refused_and_logged_as_a_hit(world):
    other_pnr = synthetic_personnummer(date(1980, 5, 5), "982")
    other = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=other_pnr)
    with pytest.raises(ValidationError, match="tillhör redan en annan deltagare"):
        identity_rectify(
            user=world.mentor_backaberg, participant=world.person, reason="Fel siffra", personnummer=other_pnr
        )
    hit = AccessEvent.objects.get(action=AccessAction.SEARCH_HIT)
    assert (hit.user, hit.participant) == (world.mentor_backaberg, other)


def test_changing_a_personnummer_needs_the_right_to_look_personnummer_up(world):
    """Identity access to one insats corrects that insats' people's names, but finds nobody by number."""
    insats_reader = user_with_role(Role.COORDINATOR, insats=world.backaberg, username="las-backaberg")
    Membership.objects.filter(user=insats_reader).update(can_read_identity=True)
    identity_rectify(user=insats_reader, participant=world.person, reason="Stavfel i namnet", name="Ebba Rättad")
    other_pnr = synthetic_personnummer(date(1980, 5, 5), "983")
    register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=other_pnr)
    with pytest.raises(PermissionDenied):
        identity_rectify(user=insats_reader, participant=world.person, reason="Fel siffra", personnummer=other_pnr)
    assert not AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT).exists()
    unchanged = identity_rectify(user=insats_reader, participant=world.person, reason="Samma nummer", personnummer=PNR)
    assert unchanged is None  # the same number again is no look-up


# --- 6. Ages hold on every path -----------------------------------------------------------------


def test_a_child_cannot_be_enrolled_as_an_existing_person_or_imported_with_a_far_future_start(
    client, world, django_capture_on_commit_callbacks
):
    fourteen = synthetic_personnummer(timezone.localdate().replace(year=timezone.localdate().year - 14), "985")
    child = register_identified(
        forbund=world.sco, by=world.mentor_jonsbo, personnummer=synthetic_personnummer(date(1990, 1, 1), "986")
    )
    with pytest.raises(ValidationError, match="16–67"):
        identity_rectify(user=world.admin_sco, participant=child, reason="Fel nummer", personnummer=fourteen)
    assert not Enrolment.objects.filter(participant=child).exists()
    far = (timezone.localdate() + timedelta(days=365 * 4)).isoformat()
    result = import_enrolments(
        content=_csv(personnummer=fourteen, inskrivningsdatum=far), forbund=world.sco, by=world.admin_sco, dry_run=True
    )
    assert "mer än en månad fram i tiden" in " ".join(error.message for error in result.errors)
    client.force_login(world.admin_sco)
    response = upload_import(client, django_capture_on_commit_callbacks, _csv(fodelsear="²"))
    assert response.status_code == 200 and "Födelseåret ska vara fyra siffror" in response.content.decode()


def test_enrolling_an_existing_person_checks_the_age_on_the_start_date(world):
    with pytest.raises(ValidationError, match="Deltagaren är 15 år vid inskrivningen"):
        enrolment_create(
            by=world.mentor_jonsbo,
            participant=register_identified(
                forbund=world.sco,
                by=world.mentor_jonsbo,
                personnummer=synthetic_personnummer(date(2009, 6, 1), "987"),
                guardian_consent=True,
                today=date(2026, 5, 1),
            ),
            insats=world.jonsbo,
            start_date=date(2025, 5, 1),
        )


# --- 10. Report figures fetched by another system are an export ---------------------------------


def test_the_report_api_is_logged_as_an_export(client, world):
    client.force_login(world.coordinator_sco)
    assert client.get(reverse("api_report", args=["participant-flow"]), {"forbund": "sco"}).status_code == 200
    event = AccessEvent.objects.get(action=AccessAction.EXPORT)
    assert event.forbund == world.sco and event.reason.startswith("Rapport participant-flow via API (intern)")


def test_an_admin_without_identity_access_keeps_the_form_and_learns_nothing_on_the_register_page(client, world):
    from tests.factories import register_form_data

    client.force_login(world.admin_without_identity)
    for personnummer in (PNR, synthetic_personnummer(date(1985, 3, 3), "988")):  # known, and unknown
        data = register_form_data(world.jonsbo, world.mentor_jonsbo, personnummer=personnummer, name="Hemlig Namnsson")
        response = client.post(reverse("participant_register"), data)
        body = response.content.decode()
        assert response.status_code == 200
        assert "kan bara registrera anonyma deltagare" in body
        assert 'value="Hemlig Namnsson"' in body  # nothing typed is lost
        assert world.person.pseudonym not in body and "finns redan" not in body
    assert not AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT).exists()
