"""Self-assessment links: created for one enrolment, opened without an account, used once."""

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from participants.services import enrolment_close
from surveys.models import AssessmentSession, SelfAssessmentLink, SessionStatus
from surveys.sessions import LinkUnusable, self_link_create, self_link_open, self_link_submit, session_submit
from tests.factories import exit_reason, income_source, operator
from tests.surveys.factories import (
    draft_copy,
    ladder_items,
    measured_enrolment,
    mentor_only_item,
    progression_consent,
    shipped_version,
    stored_readings,
    valid_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return shipped_version()


@pytest.fixture
def world():
    return measured_enrolment()


@pytest.fixture
def link_and_token(world, version):
    return self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)


@pytest.fixture
def first_item(version):
    return ladder_items(version)[0]


def _answers_of(session: AssessmentSession) -> dict[str, int | None]:
    return dict(session.answers.values_list("item__code", "value"))


def test_only_the_hash_of_the_token_is_stored(link_and_token, world, version):
    link, token = link_and_token

    row = SelfAssessmentLink.objects.get(pk=link.pk)
    assert len(token) >= 40
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.token_hash != token
    stored_text = [str(value) for value in SelfAssessmentLink.objects.filter(pk=link.pk).values().get().values()]
    assert not any(token in text for text in stored_text)
    assert (row.enrolment, row.version, row.created_by, row.used_at, row.session) == (
        world.enrolment,
        version,
        world.mentor,
        None,
        None,
    )
    assert timezone.now() + timedelta(days=6) < row.expires_at <= timezone.now() + timedelta(days=7)


def test_each_link_gets_its_own_token(world, version):
    tokens = {
        self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)[1] for _ in range(3)
    }

    assert len(tokens) == 3


def test_a_fresh_link_opens_its_own_enrolment_and_version(link_and_token, world, version):
    link, token = link_and_token

    opened = self_link_open(token=token)

    assert opened.pk == link.pk
    assert (opened.enrolment, opened.version) == (world.enrolment, version)


def test_submitting_stores_a_self_assessment_and_uses_the_link(link_and_token, world, version):
    link, token = link_and_token
    answers = valid_answers(version, "self")

    session = self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=answers)

    assert (session.enrolment, session.version, session.perspective) == (world.enrolment, version, "self")
    assert (session.status, session.recorded_by) == (SessionStatus.SUBMITTED, None)
    assert _answers_of(session) == answers
    link.refresh_from_db()
    assert link.used_at is not None
    assert link.session == session


def test_a_used_link_does_not_open_again(link_and_token, version):
    _, token = link_and_token
    self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))

    with pytest.raises(LinkUnusable, match="redan använts"):
        self_link_open(token=token)


def test_resubmitting_the_same_token_and_uuid_returns_the_stored_session(link_and_token, version, first_item):
    _, token = link_and_token
    client_uuid = uuid.uuid4()
    first = self_link_submit(
        token=token, client_uuid=client_uuid, answers=valid_answers(version, "self", **{first_item: 3})
    )

    again = self_link_submit(
        token=token, client_uuid=str(client_uuid), answers=valid_answers(version, "self", **{first_item: 9})
    )

    assert again.pk == first.pk
    assert AssessmentSession.objects.count() == 1
    assert _answers_of(first)[first_item] == 3


def test_a_used_link_refuses_another_submission(link_and_token, version):
    _, token = link_and_token
    self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))

    before = stored_readings()
    with pytest.raises(LinkUnusable, match="redan använts"):
        self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))
    assert stored_readings() == before


def test_invalid_answers_store_nothing_and_leave_the_link_usable(link_and_token, version, first_item):
    link, token = link_and_token

    before = stored_readings()
    with pytest.raises(ValidationError) as excinfo:
        self_link_submit(
            token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self", **{first_item: 11})
        )

    assert list(excinfo.value.message_dict) == [first_item]
    assert stored_readings() == before
    link.refresh_from_db()
    assert (link.used_at, link.session) == (None, None)
    assert self_link_open(token=token).pk == link.pk


def test_the_link_only_takes_a_self_assessment(link_and_token, version):
    _, token = link_and_token

    with pytest.raises(ValidationError) as excinfo:
        self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "mentor"))

    assert mentor_only_item(version) in excinfo.value.message_dict
    assert AssessmentSession.objects.count() == 0


def test_an_expired_link_does_not_open_or_take_answers(link_and_token, version):
    link, token = link_and_token
    SelfAssessmentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(LinkUnusable, match="gått ut"):
        self_link_open(token=token)
    with pytest.raises(LinkUnusable, match="gått ut"):
        self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))
    assert AssessmentSession.objects.count() == 0


def test_an_unknown_token_does_not_open_or_take_answers(link_and_token, version):
    _, token = link_and_token

    with pytest.raises(LinkUnusable, match="finns inte"):
        self_link_open(token=token + "x")
    with pytest.raises(LinkUnusable, match="finns inte"):
        self_link_submit(token="inte-en-riktig-token", client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))
    assert AssessmentSession.objects.count() == 0


def test_the_stored_hash_is_not_a_token(link_and_token):
    link, _ = link_and_token

    with pytest.raises(LinkUnusable, match="finns inte"):
        self_link_open(token=link.token_hash)


def test_no_link_without_progression_consent(version):
    world = measured_enrolment(progression=False)

    with pytest.raises(ValidationError) as excinfo:
        self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)

    assert "enrolment" in excinfo.value.message_dict
    assert SelfAssessmentLink.objects.count() == 0


def test_no_link_for_a_closed_enrolment(world, version):
    enrolment_close(
        by=operator(),
        enrolment=world.enrolment,
        end_date=timezone.localdate(),
        exit_reason=exit_reason("arbete"),
        income_after=income_source("ingen_offentlig"),
        income_after_extent=Decimal("1"),
    )
    world.enrolment.refresh_from_db()

    with pytest.raises(ValidationError) as excinfo:
        self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)

    assert "avslutades" in excinfo.value.message_dict["enrolment"][0]
    assert SelfAssessmentLink.objects.count() == 0


def test_no_link_to_an_unpublished_version(world, version):
    with pytest.raises(ValidationError) as excinfo:
        self_link_create(enrolment=world.enrolment, version=draft_copy(version), created_by=world.mentor)

    assert "version" in excinfo.value.message_dict
    assert SelfAssessmentLink.objects.count() == 0


@pytest.mark.parametrize("days", [0, 61])
def test_a_link_lasts_one_to_sixty_days(world, version, days):
    with pytest.raises(ValidationError) as excinfo:
        self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor, days=days)

    assert "days" in excinfo.value.message_dict
    assert SelfAssessmentLink.objects.count() == 0


def test_withdrawing_progression_consent_deletes_unused_links_and_keeps_used_ones(world, version):
    unused, unused_token = self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)
    used, used_token = self_link_create(enrolment=world.enrolment, version=version, created_by=world.mentor)
    session = self_link_submit(token=used_token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))
    other = measured_enrolment()
    others_link, others_token = self_link_create(enrolment=other.enrolment, version=version, created_by=other.mentor)

    progression_consent(world.participant, by=world.mentor, granted=False)

    assert not SelfAssessmentLink.objects.filter(pk=unused.pk).exists()
    assert SelfAssessmentLink.objects.get(pk=used.pk).session == session
    with pytest.raises(LinkUnusable, match="finns inte"):
        self_link_open(token=unused_token)
    assert self_link_open(token=others_token).pk == others_link.pk


def test_a_link_created_before_an_avslut_takes_no_answers_after_it(link_and_token, world, version):
    _, token = link_and_token
    enrolment_close(
        by=operator(),
        enrolment=world.enrolment,
        end_date=timezone.localdate(),
        exit_reason=exit_reason("arbete"),
        income_after=income_source("ingen_offentlig"),
        income_after_extent=Decimal("1"),
    )

    with pytest.raises(ValidationError) as excinfo:
        self_link_submit(token=token, client_uuid=uuid.uuid4(), answers=valid_answers(version, "self"))

    assert "enrolment" in excinfo.value.message_dict
    assert AssessmentSession.objects.count() == 0


def test_a_link_cannot_be_used_up_with_the_uuid_of_another_reading(link_and_token, world, version):
    link, token = link_and_token
    mentor_uuid = uuid.uuid4()
    session_submit(
        client_uuid=mentor_uuid,
        enrolment=world.enrolment,
        version=version,
        perspective="mentor",
        answers=valid_answers(version, "mentor"),
        recorded_by=world.mentor,
    )

    with pytest.raises(ValidationError):
        self_link_submit(token=token, client_uuid=mentor_uuid, answers=valid_answers(version, "self"))
    link.refresh_from_db()
    assert (link.used_at, link.session) == (None, None)
