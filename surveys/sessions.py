"""Services for readings: submit (idempotent by client UUID), correct, self-assessment links.

Nothing is stored unless everything is valid: the version is published, the enrolment is open,
the participant has consented to progression measurement, and every answer fits its item.
"""

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from participants.models import ConsentPurpose, Enrolment
from participants.selectors import consent_granted
from surveys import hooks
from surveys.models import (
    LANGUAGES,
    Answer,
    AssessmentSession,
    InstrumentPurpose,
    InstrumentVersion,
    Perspective,
    SelfAssessmentLink,
    SessionStatus,
)
from surveys.selectors import instrument_version_items
from surveys.validation import validate_answers, validated_values

SELF_LINK_DAYS = 7


class LinkUnusable(Exception):
    """A self-assessment link that is unknown, used or expired; the message is for the participant, in
    the language active when it is shown, which is the link's own where the link exists (`language`)."""

    def __init__(self, message: object, language: str | None = None) -> None:
        super().__init__(message)
        self.language = language


def _session_errors(
    *, enrolment: Enrolment, version: InstrumentVersion, perspective: str, language: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not version.is_published:
        errors["version"] = f"Instrumentversionen {version} är inte publicerad."
    if version.instrument.purpose != InstrumentPurpose.PROGRESSION:
        errors["version"] = "Bedömningar görs med ett stegförflyttningsinstrument, inte en enkät."
    if perspective not in Perspective.values:
        errors["perspective"] = f"Okänt perspektiv: {perspective}"
    if language not in LANGUAGES:
        errors["language"] = f"Okänt språk: {language}"
    if enrolment.end_date is not None:
        errors["enrolment"] = f"Inskrivningen avslutades {enrolment.end_date:%Y-%m-%d}; nya bedömningar kan inte göras."
    if not _consents_to_progression(enrolment):
        errors["enrolment"] = "Deltagaren har inte samtyckt till mätning av stegförflyttning."
    return errors


def _consents_to_progression(enrolment: Enrolment) -> bool:
    # surveys.selectors.enrolment_for_reading reads the consent in force along with the enrolment
    # (the API's submissions); other callers hold a plain enrolment.
    if hasattr(enrolment, "progression_consent"):
        return enrolment.progression_consent
    return consent_granted(participant=enrolment.participant, purpose=ConsentPurpose.PROGRESSION)


def _answer_errors(
    *, version: InstrumentVersion, perspective: str, answers: Mapping[str, object], draft: bool
) -> dict[str, str]:
    # A draft may leave required items for later, but never hold a wrong or unknown answer.
    return validate_answers(version=version, perspective=perspective, answers=answers, require_answers=not draft)


def session_submit(
    *,
    client_uuid: uuid.UUID | str,
    enrolment: Enrolment,
    version: InstrumentVersion,
    perspective: str,
    answers: Mapping[str, object],
    recorded_by: User | None,
    language: str = "sv",
    occurred_at: datetime | None = None,
    draft: bool = False,
) -> tuple[AssessmentSession, bool]:
    """Store a reading (or a draft of one). Returns (session, created).

    Submitting the same client UUID again returns the stored session unchanged; a draft with that
    UUID is completed instead. Raises ValidationError naming each problem; nothing is stored then.
    The session returned holds the given enrolment and version objects.
    """
    client_uuid = uuid.UUID(str(client_uuid))
    stored = partial(
        _stored_reading, client_uuid=client_uuid, enrolment=enrolment, version=version, perspective=perspective
    )
    errors = _session_errors(enrolment=enrolment, version=version, perspective=perspective, language=language)
    errors.update(_answer_errors(version=version, perspective=perspective, answers=answers, draft=draft))
    if errors:
        # A resend is answered with what is stored, whatever it holds now; only a draft is checked.
        existing = stored()
        if existing and existing.status != SessionStatus.DRAFT:
            return existing, False
        raise ValidationError(errors)
    now = timezone.now()
    values = validated_values(answers)
    status = SessionStatus.DRAFT if draft else SessionStatus.SUBMITTED
    session = AssessmentSession(
        enrolment=enrolment,
        version=version,
        perspective=perspective,
        language=language,
        client_uuid=client_uuid,
        status=status,
        occurred_at=occurred_at or now,
        recorded_by=recorded_by,
        submitted_at=None if draft else now,
    )
    # A new UUID is inserted without looking it up first; a known one (a resend, the same reading
    # arriving twice at once, a draft being completed) stores nothing there and is read after.
    if _store_new(session=session, version=version, answers=values):
        return session, True
    existing = stored()
    if existing is None:  # stored and deleted again in between: nothing to resend to
        raise IntegrityError(f"The reading {client_uuid} was deleted while it was being stored.")
    if existing.status == SessionStatus.DRAFT:
        existing = _complete_draft(stored_draft=existing, completed=session, version=version, answers=values)
        existing.enrolment, existing.version = enrolment, version
    return existing, False


def _stored_reading(
    *, client_uuid: uuid.UUID, enrolment: Enrolment, version: InstrumentVersion, perspective: str
) -> AssessmentSession | None:
    """The session already stored under this UUID, if any; a ValidationError if it is another reading."""
    existing = AssessmentSession.objects.select_related("recorded_by").filter(client_uuid=client_uuid).first()
    if existing is None:
        return None
    if (existing.enrolment_id, existing.perspective, existing.version_id) != (enrolment.pk, perspective, version.pk):
        raise ValidationError({"client_uuid": "Id:t används redan för en annan bedömning."})
    existing.enrolment, existing.version = enrolment, version
    return existing


def _insert_unless_stored(session: AssessmentSession) -> bool:
    """INSERT … ON CONFLICT (client_uuid) DO NOTHING RETURNING id: the session is stored (and has
    its id) unless its UUID is stored already, which one statement answers without a look-up before."""
    meta = AssessmentSession._meta
    # Every column Django's own INSERT writes (a generated column it leaves to the database, as here).
    fields = [field for field in meta.local_concrete_fields if not field.primary_key and not field.generated]
    values = [field.get_db_prep_save(field.pre_save(session, add=True), connection) for field in fields]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({quote(meta.get_field('client_uuid').column)}) DO NOTHING RETURNING {quote(meta.pk.column)}",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    session.pk = row[0]
    session._state.adding, session._state.db = False, connection.alias
    return True


@transaction.atomic
def _store_new(*, session: AssessmentSession, version: InstrumentVersion, answers: Mapping[str, int | None]) -> bool:
    """Insert a new session with its answers; False, storing nothing, when its UUID is stored already."""
    if not _insert_unless_stored(session):
        return False
    _store_answers(session=session, version=version, answers=answers)
    return True


@transaction.atomic
def _complete_draft(
    *,
    stored_draft: AssessmentSession,
    completed: AssessmentSession,
    version: InstrumentVersion,
    answers: Mapping[str, int | None],
) -> AssessmentSession:
    """Give a stored draft the status, time, language and answers of `completed` (a draft again, or
    submitted); a draft completed meanwhile by another request stays as that one left it."""
    session = AssessmentSession.objects.select_for_update().get(pk=stored_draft.pk)
    if session.status != SessionStatus.DRAFT:
        return session
    session.answers.all().delete()
    session.status, session.occurred_at, session.language = completed.status, completed.occurred_at, completed.language
    session.submitted_at = completed.submitted_at
    session.save(update_fields=["status", "occurred_at", "language", "submitted_at", "updated_at"])
    _store_answers(session=session, version=version, answers=answers)
    return session


def _store_answers(
    *, session: AssessmentSession, version: InstrumentVersion, answers: Mapping[str, int | None]
) -> None:
    """The answers of a session just stored, and (once it is submitted) its handlers after the commit."""
    items = instrument_version_items(version=version)  # the ones the answers were validated against
    Answer.objects.bulk_create(
        [Answer(session=session, item=items[code], value=value) for code, value in answers.items()]
    )
    if session.status != SessionStatus.DRAFT:
        for handler in hooks.SESSION_SUBMITTED_HANDLERS:
            transaction.on_commit(partial(handler, session.pk))


def session_correct(
    *, session: AssessmentSession, answers: Mapping[str, object], corrected_by: User
) -> AssessmentSession:
    """Correct a submitted reading: a new session supersedes it, the original stays for the record."""
    if session.status != SessionStatus.SUBMITTED:
        raise ValidationError({"session": "Bara en inlämnad bedömning kan rättas."})
    if session.consent_withdrawn or not consent_granted(
        participant=session.enrolment.participant, purpose=ConsentPurpose.PROGRESSION
    ):
        raise ValidationError({"session": "Deltagaren har återkallat samtycket; mätningen kan inte rättas."})
    errors = _answer_errors(version=session.version, perspective=session.perspective, answers=answers, draft=False)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        original = AssessmentSession.objects.select_for_update().get(pk=session.pk)
        if original.status != SessionStatus.SUBMITTED:
            raise ValidationError({"session": "Bedömningen har redan rättats."})
        original.status = SessionStatus.SUPERSEDED
        original.save(update_fields=["status", "updated_at"])
        correction = AssessmentSession(
            enrolment=original.enrolment,
            version=original.version,
            perspective=original.perspective,
            language=original.language,
            client_uuid=uuid.uuid4(),
            status=SessionStatus.SUBMITTED,
            occurred_at=original.occurred_at,
            recorded_by=corrected_by,
            supersedes=original,
            submitted_at=timezone.now(),
        )
        if not _store_new(session=correction, version=original.version, answers=validated_values(answers)):
            # A fresh random UUID stored already: never seen, but never passed over either.
            raise IntegrityError(f"The new reading's id {correction.client_uuid} is stored already.")
        return correction


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def self_link_create(
    *,
    enrolment: Enrolment,
    version: InstrumentVersion,
    created_by: User,
    language: str = "sv",
    days: int = SELF_LINK_DAYS,
) -> tuple[SelfAssessmentLink, str]:
    """A single-use link for the participant's self-assessment; returns (link, token shown once)."""
    errors = _session_errors(enrolment=enrolment, version=version, perspective=Perspective.SELF, language=language)
    if not 1 <= days <= 60:
        errors["days"] = "Länken kan gälla 1–60 dagar."
    if errors:
        raise ValidationError(errors)
    token = secrets.token_urlsafe(32)
    link = SelfAssessmentLink.objects.create(
        token_hash=_token_hash(token),
        enrolment=enrolment,
        version=version,
        language=language,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return link, token


def self_link_open(*, token: str) -> SelfAssessmentLink:
    """The link behind a token, if it can still be used; LinkUnusable with a friendly message if not."""
    link = (
        SelfAssessmentLink.objects.select_related("enrolment__participant", "version__instrument")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if link is None:
        raise LinkUnusable(
            gettext_lazy("Länken finns inte. Kontrollera att du har skrivit av den rätt, eller fråga din handledare.")
        )
    if link.used_at is not None:
        raise LinkUnusable(gettext_lazy("Den här länken har redan använts. Tack för dina svar!"), link.language)
    if link.expires_at <= timezone.now():
        raise LinkUnusable(gettext_lazy("Länken har gått ut. Be din handledare om en ny länk."), link.language)
    return link


def self_link_submit(*, token: str, client_uuid: uuid.UUID | str, answers: Mapping[str, object]) -> AssessmentSession:
    """Submit the self-assessment behind a link and use the link up; resubmitting the same UUID is harmless."""
    client_uuid = uuid.UUID(str(client_uuid))
    link = SelfAssessmentLink.objects.filter(token_hash=_token_hash(token)).select_related("session").first()
    if link is not None and link.session is not None and link.session.client_uuid == client_uuid:
        return link.session
    link = self_link_open(token=token)
    if AssessmentSession.objects.filter(client_uuid=client_uuid).exists():
        raise ValidationError({"client_uuid": "Id:t används redan för en annan bedömning."})
    with transaction.atomic():
        locked = SelfAssessmentLink.objects.select_for_update().get(pk=link.pk)
        if locked.used_at is not None:
            raise LinkUnusable(gettext_lazy("Den här länken har redan använts. Tack för dina svar!"), link.language)
        session, _created = session_submit(
            client_uuid=client_uuid,
            enrolment=link.enrolment,
            version=link.version,
            perspective=Perspective.SELF,
            answers=answers,
            recorded_by=None,
            language=link.language,
        )
        locked.used_at = timezone.now()
        locked.session = session
        locked.save(update_fields=["used_at", "session"])
    return session
