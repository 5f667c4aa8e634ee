"""One test per rule of the access module (participants/access.py), on synthetic people."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from participants import access
from participants.access import Page
from participants.models import AccessAction, AccessEvent, ConsentPurpose, Membership, Role
from participants.services import (
    consent_record,
    enrolment_close,
    enrolment_create,
    enrolment_of_existing,
    identity_read,
    membership_delete,
    participant_lookup,
    participant_register,
)
from tests.factories import (
    EnrolmentFactory,
    InsatsFactory,
    MembershipFactory,
    UserFactory,
    exit_reason,
    income_source,
    operator,
    register_identified,
    registry_world,
    synthetic_personnummer,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ns = registry_world()
    ns.pnr = synthetic_personnummer(date(1991, 5, 6), "311")
    ns.person = register_identified(forbund=ns.sco, by=ns.mentor_backaberg, personnummer=ns.pnr)
    ns.backaberg_enrolment = enrolment_create(
        by=ns.mentor_backaberg, participant=ns.person, insats=ns.backaberg, start_date=date(2026, 2, 1)
    )
    return ns


def _enrol_in_jonsbo(world, **extra):
    return enrolment_of_existing(
        by=world.mentor_jonsbo,
        participant=world.person,
        insats=world.jonsbo,
        reason="Remiss från Arbetsförmedlingen",
        consent_channel="written",
        start_date=date(2026, 3, 1),
        **extra,
    )


# --- roles and scope -----------------------------------------------------------------------------


def test_an_insats_membership_covers_that_insats_and_a_forbund_membership_all_of_its_insatser(world):
    assert set(access.insatser_where(world.mentor_jonsbo, (Role.MENTOR,))) == {world.jonsbo}
    assert set(access.insatser_where(world.coordinator_sco, (Role.COORDINATOR,))) == {world.jonsbo, world.backaberg}
    assert not access.insatser_where(world.coordinator_sco, (Role.MENTOR,)).exists()


def test_roles_in_different_forbund_never_combine(world):
    """Mentor in Natursteget (svo) and coordinator in sco: the coordinator role in sco gives no casework."""
    mixed = world.mentor_natursteget
    MembershipFactory(user=mixed, role=Role.COORDINATOR, forbund=world.sco)
    assert access.may_open(mixed, Page.REGISTER)  # casework somewhere (svo)
    assert not access.can_record_consent(mixed, world.person)
    assert not access.can_enrol(mixed, world.backaberg)
    assert not access.can_read_identity(mixed, world.person)
    assert not access.enrolments_writable_by(mixed).filter(pk=world.backaberg_enrolment.pk).exists()
    with pytest.raises(PermissionDenied):
        consent_record(
            participant=world.person,
            purpose=ConsentPurpose.RESEARCH,
            granted=False,
            recorded_by=mixed,
            channel="verbal",
            text_version="test-1",
        )


def test_one_enrolment_is_writable_exactly_when_it_is_among_the_users_writable_enrolments(world):
    """access.enrolment_writable_by (one enrolment, in Python) and enrolments_writable_by (SQL) read
    the same grants: they agree for every role and scope, on open, closed, felregistrerade enrolments
    and enrolments in another förbund."""
    felregistrering, avslutad = exit_reason("felregistrering"), exit_reason("arbete")
    enrolments = {
        "backaberg open": world.backaberg_enrolment,
        "jonsbo felregistrering": EnrolmentFactory(
            insats=world.jonsbo, end_date=date(2026, 4, 1), exit_reason=felregistrering
        ),
        "jonsbo avslutad": EnrolmentFactory(insats=world.jonsbo, end_date=date(2026, 4, 1), exit_reason=avslutad),
        "natursteget open": EnrolmentFactory(insats=world.natursteget),
        "natursteget felregistrering": EnrolmentFactory(
            insats=world.natursteget, end_date=date(2026, 4, 1), exit_reason=felregistrering
        ),
    }
    # Mentor in all of svo; coordinator in sco, admin in one of its insatser.
    mixed = user_with_role(Role.MENTOR, forbund=world.svo)
    MembershipFactory(user=mixed, role=Role.COORDINATOR, forbund=world.sco)
    MembershipFactory(user=mixed, role=Role.ADMIN, insats=world.jonsbo)
    users = {
        "mentor jonsbo": world.mentor_jonsbo,
        "mentor backaberg": world.mentor_backaberg,
        "mentor natursteget": world.mentor_natursteget,
        "coordinator sco": world.coordinator_sco,
        "admin sco": world.admin_sco,
        "admin jonsbo": user_with_role(Role.ADMIN, insats=world.jonsbo),
        "mentor in all of sco": user_with_role(Role.MENTOR, forbund=world.sco),
        "mixed": mixed,
        "no role": UserFactory(),
        "superuser": operator(),
        "anonymous": AnonymousUser(),
    }
    writable = {}
    for user_name, user in users.items():
        for enrolment_name, enrolment in enrolments.items():
            one = access.enrolment_writable_by(user, access.enrolment_place(enrolment.pk))
            many = access.enrolments_writable_by(user).filter(pk=enrolment.pk).exists()
            assert one == many, (user_name, enrolment_name, one, many)
            writable[user_name, enrolment_name] = one
    assert writable["mentor jonsbo", "jonsbo avslutad"] and not writable["mentor jonsbo", "jonsbo felregistrering"]
    assert writable["admin jonsbo", "jonsbo felregistrering"] and not writable["admin jonsbo", "backaberg open"]
    assert writable["mentor in all of sco", "backaberg open"] and not writable["coordinator sco", "backaberg open"]
    assert writable["mixed", "natursteget open"] and writable["mixed", "jonsbo felregistrering"]
    assert not writable["mixed", "backaberg open"] and not writable["mixed", "natursteget felregistrering"]
    assert all(writable["superuser", name] for name in enrolments)
    assert not any(writable[name, enrolment] for name in ("no role", "anonymous") for enrolment in enrolments)
    assert access.enrolment_place(max(e.pk for e in enrolments.values()) + 1) is None


def test_a_request_reads_a_users_memberships_once_and_again_after_one_changes(world, django_assert_num_queries):
    coordinator = world.coordinator_sco
    with access.memberships_read_once():
        with django_assert_num_queries(1):
            assert access.requires_two_factor(coordinator) and access.has_any_role(coordinator)
            fingerprint = access.roles_fingerprint(coordinator)
        membership_delete(by=world.admin_sco, membership=Membership.objects.get(user=coordinator))
        assert not access.has_any_role(coordinator) and not access.requires_two_factor(coordinator)
        assert access.roles_fingerprint(coordinator) != fingerprint
    MembershipFactory(user=coordinator, role=Role.COORDINATOR, forbund=world.sco)
    with django_assert_num_queries(2):  # outside a request every question reads the database
        assert access.has_any_role(coordinator) and access.requires_two_factor(coordinator)
    assert access.roles_fingerprint(coordinator) == fingerprint


def test_pages_open_by_role_and_forbund_wide_pages_need_a_forbund_membership(world):
    assert access.pages_open_to(world.mentor_jonsbo) == {"caseload", "register"}
    assert access.pages_open_to(world.coordinator_sco) == {"coordinator_start", "reports", "import"}
    assert access.pages_open_to(world.admin_sco) == {
        "admin_start",
        "coordinator_start",
        "register",
        "reports",
        "import",
        "access_log",
    }
    assert access.landing_page(world.admin_sco) == "admin_home"
    insats_admin = user_with_role(Role.ADMIN, insats=world.jonsbo, username="admin-jonsbo")
    assert "access_log" not in access.pages_open_to(insats_admin)
    assert "import" not in access.pages_open_to(user_with_role(Role.COORDINATOR, insats=world.jonsbo))
    assert access.landing_page(world.coordinator_sco) == "coordinator_home"
    assert access.landing_page(UserFactory()) is None


def test_two_factor_for_coordinators_admins_and_superusers_only(world):
    assert not access.requires_two_factor(world.mentor_jonsbo)
    assert access.requires_two_factor(world.coordinator_sco)
    assert access.requires_two_factor(UserFactory(is_superuser=True))


def test_the_roles_fingerprint_changes_with_every_membership_change(world):
    before = access.roles_fingerprint(world.mentor_jonsbo)
    membership = MembershipFactory(user=world.mentor_jonsbo, role=Role.COORDINATOR, forbund=world.svo)
    assert access.roles_fingerprint(world.mentor_jonsbo) != before
    membership.delete()
    assert access.roles_fingerprint(world.mentor_jonsbo) == before
    Membership.objects.filter(user=world.mentor_jonsbo).update(can_read_identity=True)
    assert access.roles_fingerprint(world.mentor_jonsbo) != before


# --- relationships -----------------------------------------------------------------------------


def test_a_mentor_reads_identity_only_through_an_enrolment_in_their_insats(world):
    assert access.can_read_identity(world.mentor_backaberg, world.person)
    assert not access.can_read_identity(world.mentor_jonsbo, world.person)
    assert not access.can_read_identity(world.coordinator_sco, world.person)
    with pytest.raises(PermissionDenied):
        identity_read(user=world.mentor_jonsbo, participant=world.person, reason="nyfiken")


def test_a_normal_avslut_keeps_the_relationship_and_a_felregistrering_ends_it_at_once(world):
    enrolment_close(
        by=world.mentor_backaberg,
        enrolment=world.backaberg_enrolment,
        end_date=date(2026, 3, 1),
        exit_reason=exit_reason("arbete"),
        income_after=income_source("ingen_offentlig"),
        income_after_extent=None,
    )
    assert access.can_read_identity(world.mentor_backaberg, world.person)
    jonsbo = _enrol_in_jonsbo(world)
    assert access.can_read_identity(world.mentor_jonsbo, world.person)
    enrolment_close(
        by=world.mentor_jonsbo,
        enrolment=jonsbo,
        end_date=date(2026, 3, 1),
        exit_reason=exit_reason("felregistrering"),
        income_after=None,
        income_after_extent=None,
    )
    assert not access.can_read_identity(world.mentor_jonsbo, world.person)
    assert not access.enrolments_readable_by(world.mentor_jonsbo).filter(pk=jonsbo.pk).exists()
    assert not access.participants_readable_by(world.mentor_jonsbo).filter(pk=world.person.pk).exists()
    # Coordinators still see the felregistrering, to correct the reports.
    assert access.enrolments_readable_by(world.coordinator_sco).filter(pk=jonsbo.pk).exists()


def test_another_insats_enrolments_stay_hidden_without_consent_to_sharing(world):
    jonsbo = _enrol_in_jonsbo(world)
    readable = access.enrolments_readable_by(world.mentor_jonsbo)
    assert set(readable.filter(participant=world.person)) == {jonsbo}

    def sharing(granted: bool) -> None:
        consent_record(
            participant=world.person,
            purpose=ConsentPurpose.INSATS_SHARING,
            granted=granted,
            recorded_by=world.mentor_jonsbo,
            channel="written",
            text_version="test-1",
        )

    sharing(True)
    assert set(readable.filter(participant=world.person)) == {jonsbo, world.backaberg_enrolment}
    assert not access.enrolments_writable_by(world.mentor_jonsbo).filter(pk=world.backaberg_enrolment.pk).exists()
    sharing(False)
    assert set(readable.filter(participant=world.person)) == {jonsbo}


def test_identity_access_granted_on_a_membership_covers_its_scope_only(world):
    granted = user_with_role(Role.COORDINATOR, forbund=world.sco, username="samordnare-med-identitet")
    Membership.objects.filter(user=granted).update(can_read_identity=True)
    assert access.can_read_identity(granted, world.person)
    in_jonsbo = user_with_role(Role.COORDINATOR, insats=world.jonsbo, username="samordnare-jonsbo")
    Membership.objects.filter(user=in_jonsbo).update(can_read_identity=True)
    assert not access.can_read_identity(in_jonsbo, world.person)  # the person is in Backaberg only


# --- personnummer look-ups and registration ------------------------------------------------------


def test_a_lookup_without_identity_access_reveals_nothing_and_a_hit_is_logged(world):
    with pytest.raises(PermissionDenied):
        participant_lookup(user=world.coordinator_sco, forbund=world.sco, personnummer=world.pnr, reason="test")
    assert not AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT).exists()
    found = participant_lookup(user=world.mentor_jonsbo, forbund=world.sco, personnummer=world.pnr, reason="test")
    assert found == world.person
    assert AccessEvent.objects.filter(
        action=AccessAction.SEARCH_HIT, user=world.mentor_jonsbo, participant=world.person, forbund=world.sco
    ).exists()


def test_registering_an_identified_person_needs_identity_access_in_the_forbund(world):
    admin_without_identity = user_with_role(Role.ADMIN, forbund=world.sco, username="admin-utan-identitet")
    with pytest.raises(PermissionDenied):
        register_identified(forbund=world.sco, by=admin_without_identity, personnummer=world.pnr)
    anonymous = participant_register(
        forbund=world.sco, registered_by=admin_without_identity, kon="man", birth_year=1980, anonymous=True
    )
    assert anonymous.is_anonymous
    with pytest.raises(PermissionDenied):
        participant_register(
            forbund=world.svo, registered_by=world.admin_sco, kon="man", birth_year=1980, anonymous=True
        )


def test_enrolling_an_existing_person_records_fresh_consent_and_the_reason(world):
    with pytest.raises(ValidationError) as refused:
        enrolment_of_existing(
            by=world.mentor_jonsbo,
            participant=world.person,
            insats=world.jonsbo,
            reason="",
            consent_channel="",
            start_date=date(2026, 3, 1),
        )
    assert set(refused.value.message_dict) == {"reason", "consent_channel"}
    consents = world.person.consents.count()
    _enrol_in_jonsbo(world)
    assert world.person.consents.count() == consents + 1
    event = AccessEvent.objects.get(action=AccessAction.ENROL_EXISTING)
    assert (event.user, event.participant, event.forbund) == (world.mentor_jonsbo, world.person, world.sco)
    assert "Remiss från Arbetsförmedlingen" in event.reason


def test_a_mentor_cannot_enrol_into_an_insats_where_they_do_no_casework(world):
    with pytest.raises(PermissionDenied):
        enrolment_create(
            by=world.mentor_jonsbo, participant=world.person, insats=world.backaberg, start_date=date(2026, 3, 1)
        )


# --- age from the full date of birth -------------------------------------------------------------


def test_a_17_year_old_born_in_december_needs_a_guardians_consent(world):
    today = date(2026, 12, 3)
    born = date(2008, 12, 20)  # 17 today, 18 in the calendar year
    with pytest.raises(ValidationError) as refused:
        register_identified(
            forbund=world.sco, by=world.mentor_jonsbo, personnummer=synthetic_personnummer(born, "412"), today=today
        )
    assert "vårdnadshavares samtycke" in refused.value.message_dict["guardian_consent"][0]


def test_a_15_year_old_is_refused_even_when_turning_16_this_year(world):
    today = date(2026, 3, 1)
    born = date(2010, 11, 30)  # 16 in the calendar year, 15 today
    with pytest.raises(ValidationError) as refused:
        register_identified(
            forbund=world.sco,
            by=world.mentor_jonsbo,
            personnummer=synthetic_personnummer(born, "413"),
            guardian_consent=True,
            today=today,
        )
    assert "(är 15)" in refused.value.message_dict["birth_year"][0]


def test_consent_of_a_minor_needs_a_guardian_by_the_full_date_of_birth(world):
    born = timezone.localdate().replace(year=timezone.localdate().year - 18) + timedelta(days=1)  # 18 tomorrow
    minor = register_identified(
        forbund=world.sco,
        by=world.mentor_backaberg,
        personnummer=synthetic_personnummer(born, "414"),
        guardian_consent=True,
    )
    EnrolmentFactory(participant=minor, insats=world.backaberg, mentor=world.mentor_backaberg)
    with pytest.raises(ValidationError):
        consent_record(
            participant=minor,
            purpose=ConsentPurpose.PROGRESSION,
            granted=True,
            recorded_by=world.mentor_backaberg,
            channel="written",
            text_version="test-1",
        )


# --- administration, import, exports -------------------------------------------------------------


def test_data_subject_requests_are_for_forbund_wide_admins_with_identity_access(world):
    assert access.can_answer_data_subject_requests(world.admin_sco, world.person)
    admin_without_identity = user_with_role(Role.ADMIN, forbund=world.sco, username="admin-utan-identitet")
    assert not access.can_answer_data_subject_requests(admin_without_identity, world.person)
    insats_admin = user_with_role(Role.ADMIN, insats=world.backaberg, username="admin-backaberg")
    assert not access.can_answer_data_subject_requests(insats_admin, world.person)
    svo_admin = user_with_role(Role.ADMIN, forbund=world.svo, username="admin-svo")
    assert not access.can_answer_data_subject_requests(svo_admin, world.person)


def test_import_is_for_forbund_wide_coordinators_and_admins(world):
    assert set(access.forbund_for_import(world.coordinator_sco)) == {world.sco}
    assert not access.forbund_for_import(user_with_role(Role.COORDINATOR, insats=world.jonsbo)).exists()
    assert not access.forbund_for_import(world.mentor_jonsbo).exists()


def test_the_admin_site_lists_only_the_admins_own_staff(world):
    assert access.can_use_admin_site(world.admin_sco)
    assert not access.can_use_admin_site(world.coordinator_sco)
    newcomer = UserFactory(username="ny-anvandare")
    assignable = set(access.users_assignable_by(world.admin_sco))
    assert {world.mentor_jonsbo, world.coordinator_sco, newcomer} <= assignable
    assert world.mentor_natursteget not in assignable
    assert not access.can_edit_shared_reference_data(world.admin_sco)
    assert access.can_edit_shared_reference_data(UserFactory(is_superuser=True))


def test_an_export_is_downloaded_by_its_owner_while_they_still_read_the_reports(world):
    kwargs = {"owner_id": world.coordinator_sco.pk, "forbund_code": "sco", "insats_codes": ["jonsbo"]}
    assert access.can_download_export(world.coordinator_sco, **kwargs)
    assert not access.can_download_export(world.admin_sco, **kwargs)
    Membership.objects.filter(user=world.coordinator_sco).delete()
    assert not access.can_download_export(world.coordinator_sco, **kwargs)


def test_an_insats_in_another_forbund_is_never_reached_through_a_forbund_role(world):
    other = InsatsFactory(code="annan", forbund=world.svo)
    assert not access.insatser_readable_by(world.admin_sco).filter(pk=other.pk).exists()
    assert not access.insatser_for_reports(world.coordinator_sco).filter(pk=other.pk).exists()
