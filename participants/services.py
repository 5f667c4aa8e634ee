"""Writes for the registry. Every change to participants, identity, consent and enrolments
goes through here; reading identity data is a write too, because it logs an access event."""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Required, TypedDict, Unpack

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from participants import access, crypto, hooks
from participants.erasure import ERASED, ErasedIdentity, scrub
from participants.models import (
    AccessAction,
    AccessEvent,
    AccessLogReview,
    Consent,
    ConsentPurpose,
    EducationLevel,
    Enrolment,
    ExitReason,
    Forbund,
    IdentityRecord,
    IncomeSource,
    Insats,
    MeasurementMode,
    Membership,
    MentorAssignment,
    Participant,
    VolumeRegistration,
)
from participants.personnummer import Personnummer, PersonnummerError, parse_personnummer
from participants.uploads import imports_lock, uploads_erase_person

# Crockford's base-32 alphabet: no I, L, O or U, so a pseudonym read aloud is not misheard.
PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PSEUDONYM_ATTEMPTS = 5
MINIMUM_AGE, GUARDIAN_AGE_LIMIT, MAXIMUM_AGE = 16, 18, 67


class ParticipantAlreadyRegistered(Exception):
    """The personnummer already belongs to a participant in the förbund."""

    def __init__(self, participant: Participant) -> None:
        super().__init__(f"Personen finns redan som {participant.pseudonym}")
        self.participant = participant


class PersonFields(TypedDict, total=False):
    """participant_register's fields about the person, as participant_intake passes them on."""

    kon: Required[str]
    birth_year: int | None
    personnummer: str
    name: str
    contact: str
    anonymous: bool
    consent_channel: str
    consent_text_version: str
    guardian_consent: bool


class EnrolmentFields(TypedDict, total=False):
    """enrolment_create's fields after by, participant and insats, as participant_intake and
    enrolment_of_existing pass them on."""

    start_date: Required[date]
    mentor: User | None
    end_date: date | None
    exit_reason: ExitReason | None
    income_before: IncomeSource | None
    income_before_extent: Decimal
    education: EducationLevel | None
    years_in_public_support: Decimal | None
    today: date | None


@dataclass(frozen=True)
class NewIdentifiedPerson:
    """A person to register with their identity, as the registration page or an import gives them."""

    kon: str
    personnummer: str
    name: str
    consent_channel: str
    consent_text_version: str
    contact: str = ""
    guardian_consent: bool = False
    is_demo: bool = False


@dataclass(frozen=True)
class IdentityData:
    personnummer: str
    name: str
    contact: str


def pseudonym_generate(*, forbund: Forbund) -> str:
    """A random opaque pseudonym such as SCÖ-7F3K-Q2MD; carries nothing about the person."""
    groups = ["".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(4)) for _ in range(2)]
    return "-".join([forbund.pseudonym_prefix, *groups])


def access_event_log(
    *,
    user: User | None,
    participant: Participant | None,
    action: str,
    reason: str,
    forbund: Forbund | None = None,
) -> AccessEvent:
    """Append one access event (who, whom, what, why), in the log of the person's förbund (or, for an
    export of a whole report, of the förbund it covers)."""
    event = _access_event(user=user, participant=participant, action=action, reason=reason, forbund=forbund)
    event.save()
    return event


def access_events_log(*, user: User, participants: list[Participant], action: str, reason: str) -> None:
    """Append the same access event for each of many people (an import's hits), in one statement."""
    AccessEvent.objects.bulk_create(
        _access_event(user=user, participant=participant, action=action, reason=reason) for participant in participants
    )


def _access_event(
    *, user: User | None, participant: Participant | None, action: str, reason: str, forbund: Forbund | None = None
) -> AccessEvent:
    return AccessEvent(
        user=user,
        participant=participant,
        forbund_id=forbund.pk if forbund is not None else (participant.forbund_id if participant else None),
        action=action,
        reason=reason[:300],
    )


def age_on(birth_date: date, day: date) -> int:
    """Completed years on a day: a person born 2009-12-20 is 16 on 2026-12-19 and 17 the day after."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _birth_date(participant: Participant) -> date | None:
    """The full date of birth from the vault's personnummer, for the age rules only (shown to nobody,
    so not logged as a read); None for an anonymous or erased person."""
    record = IdentityRecord.objects.filter(participant=participant).first()
    if record is None:
        return None
    return parse_personnummer(crypto.decrypt(record.personnummer_encrypted)).birth_date


def _age_errors(*, age: int, guardian_consent: bool, needs_consent: bool) -> dict[str, str]:
    if not MINIMUM_AGE <= age <= MAXIMUM_AGE:
        return {"birth_year": f"Deltagare ska vara {MINIMUM_AGE}–{MAXIMUM_AGE} år (är {age})."}
    if needs_consent and age < GUARDIAN_AGE_LIMIT and not guardian_consent:
        return {"guardian_consent": f"Deltagaren är {age} år: vårdnadshavares samtycke krävs också."}
    return {}


def participant_create(
    *, forbund: Forbund, kon: str, birth_year: int, is_anonymous: bool = False, is_demo: bool = False
) -> Participant:
    """Create a pseudonymous participant. is_demo marks seed_demo's synthetic people (left out of the
    norms once there are real ones)."""
    new = Participant(forbund=forbund, kon=kon, birth_year=birth_year, is_anonymous=is_anonymous, is_demo=is_demo)
    return participants_create(forbund=forbund, participants=[new])[0]


def participants_create(*, forbund: Forbund, participants: list[Participant]) -> list[Participant]:
    """Store new participants of the förbund in one statement, each with a pseudonym no one has: drawn
    at random (in the order drawn, so that nothing about the order of the people carries over), and
    the (astronomically rare) ones already taken drawn again."""
    pseudonyms: list[str] = []
    for _ in range(PSEUDONYM_ATTEMPTS):
        drawn = dict.fromkeys(pseudonym_generate(forbund=forbund) for _ in range(len(participants) - len(pseudonyms)))
        taken = {*Participant.objects.filter(pseudonym__in=drawn).values_list("pseudonym", flat=True), *pseudonyms}
        pseudonyms += [pseudonym for pseudonym in drawn if pseudonym not in taken]
        if len(pseudonyms) == len(participants):
            break
    else:
        raise RuntimeError("Kunde inte skapa en unik pseudonym")
    for participant, pseudonym in zip(participants, pseudonyms, strict=True):
        participant.forbund, participant.pseudonym = forbund, pseudonym
    return Participant.objects.bulk_create(participants)


def participant_register(
    *,
    forbund: Forbund,
    registered_by: User,
    kon: str,
    birth_year: int | None = None,
    personnummer: str = "",
    name: str = "",
    contact: str = "",
    anonymous: bool = False,
    consent_channel: str = "",
    consent_text_version: str = "",
    guardian_consent: bool = False,
    today: date | None = None,
    from_file: bool = False,
    is_demo: bool = False,
) -> Participant:
    """Register a person: identified (vault + registration consent) or anonymous (kön, födelseår only).

    By casework in the förbund, or (from_file) by an import into it. Age rules use the full date of
    birth from the personnummer; for an anonymous person only the year is known. Raises
    ParticipantAlreadyRegistered when the personnummer is already known in the förbund, which only a
    user allowed to look personnummer up may learn.
    """
    allowed = (
        access.forbund_for_import(registered_by).filter(pk=forbund.pk).exists()
        if from_file
        else access.can_register_in(registered_by, forbund)
    )
    access.require(allowed, f"Du kan inte registrera deltagare i {forbund.name}.")
    if not anonymous:
        access.require(
            access.can_look_up_personnummer(registered_by, forbund),
            "Du har inte behörighet till identitetsuppgifter i förbundet och kan bara registrera anonyma deltagare.",
        )
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    parsed = None
    if anonymous:
        if not birth_year:
            errors["birth_year"] = "Ange födelseår för en anonym deltagare."
        else:  # only the year is known: the age it reaches this year
            errors |= _age_errors(age=today.year - birth_year, guardian_consent=True, needs_consent=False)
    else:
        person = NewIdentifiedPerson(
            kon=kon,
            personnummer=personnummer,
            name=name,
            contact=contact,
            consent_channel=consent_channel,
            consent_text_version=consent_text_version,
            guardian_consent=guardian_consent,
            is_demo=is_demo,
        )
        problems, parsed = _identified_person_problems(person, birth_year=birth_year, today=today)
        errors |= problems
    if errors:
        raise ValidationError(errors)
    if anonymous or parsed is None:
        return participant_create(
            forbund=forbund, kon=kon, birth_year=int(birth_year or 0), is_anonymous=True, is_demo=is_demo
        )
    index = crypto.pnr_index(parsed.normalised)
    existing = IdentityRecord.objects.filter(forbund=forbund, pnr_index=index).select_related("participant").first()
    if existing:
        raise ParticipantAlreadyRegistered(existing.participant)
    try:
        with transaction.atomic():
            return _identified_people_create(forbund=forbund, registered_by=registered_by, people=[(person, parsed)])[0]
    except IntegrityError:
        # Someone registered the same person at the same moment: offer theirs instead.
        existing = IdentityRecord.objects.select_related("participant").get(forbund=forbund, pnr_index=index)
        raise ParticipantAlreadyRegistered(existing.participant) from None


def participants_register_from_file(
    *, forbund: Forbund, registered_by: User, people: list[tuple[NewIdentifiedPerson, date]]
) -> dict[str, Participant]:
    """Register an import's new people in a few statements, by personnummer: those that pass
    participant_register's rules on the day given with each (the row's inskrivningsdatum). The others are
    left out, for the import to register one by one and report why not. The caller makes sure none
    of them is registered already; the vault's unique index refuses the whole batch if one is."""
    access.require(
        access.forbund_for_import(registered_by).filter(pk=forbund.pk).exists(),
        f"Du kan inte registrera deltagare i {forbund.name}.",
    )
    access.require(
        access.can_look_up_personnummer(registered_by, forbund),
        "Du har inte behörighet till identitetsuppgifter i förbundet och kan bara registrera anonyma deltagare.",
    )
    valid = []
    for person, today in people:
        problems, parsed = _identified_person_problems(person, birth_year=None, today=today)
        if parsed is not None and not problems:
            valid.append((person, parsed))
    created = _identified_people_create(forbund=forbund, registered_by=registered_by, people=valid)
    return {person.personnummer: participant for (person, _), participant in zip(valid, created, strict=True)}


def _identified_person_problems(
    person: NewIdentifiedPerson, *, birth_year: int | None, today: date
) -> tuple[dict[str, str], Personnummer | None]:
    """What stops the person's registration on the day (by field), and their parsed personnummer.
    Age rules use the full date of birth from the personnummer."""
    errors: dict[str, str] = {}
    parsed = None
    try:
        parsed = parse_personnummer(person.personnummer, today=today)
    except PersonnummerError as exc:
        errors["personnummer"] = str(exc)
    if not person.name.strip():
        errors["name"] = "Ange deltagarens namn."
    if not person.consent_channel or not person.consent_text_version:
        errors["consent_channel"] = "Registrering med identitet kräver samtycke. Välj hur samtycket gavs."
    if parsed and birth_year and birth_year != parsed.birth_year:
        errors["birth_year"] = f"Födelseåret stämmer inte med personnumret ({parsed.birth_year})."
    if parsed:
        age = age_on(parsed.birth_date, today)
        errors = _age_errors(age=age, guardian_consent=person.guardian_consent, needs_consent=True) | errors
    return errors, parsed


def _identified_people_create(
    *, forbund: Forbund, registered_by: User, people: list[tuple[NewIdentifiedPerson, Personnummer]]
) -> list[Participant]:
    """Store checked people: pseudonymous participants, their identity in the vault and their consent
    to registration, a statement each."""
    participants = participants_create(
        forbund=forbund,
        participants=[
            Participant(kon=person.kon, birth_year=parsed.birth_year, is_demo=person.is_demo)
            for person, parsed in people
        ],
    )
    IdentityRecord.objects.bulk_create(
        IdentityRecord(
            participant=participant,
            forbund=forbund,
            pnr_index=crypto.pnr_index(parsed.normalised),
            personnummer_encrypted=crypto.encrypt(parsed.normalised),
            name_encrypted=crypto.encrypt(person.name.strip()),
            contact_encrypted=crypto.encrypt(person.contact.strip()) if person.contact.strip() else "",
        )
        for participant, (person, parsed) in zip(participants, people, strict=True)
    )
    Consent.objects.bulk_create(
        Consent(
            participant=participant,
            purpose=ConsentPurpose.REGISTRATION,
            granted=True,
            text_version=person.consent_text_version,
            channel=person.consent_channel,
            guardian_consent=person.guardian_consent,
            recorded_by=registered_by,
        )
        for participant, (person, _) in zip(participants, people, strict=True)
    )
    return participants


@transaction.atomic
def participant_intake(
    *,
    registered_by: User,
    insats: Insats,
    use_existing: bool = False,
    reason: str = "",
    extra_consents: list[str] | tuple[str, ...] = (),
    start_date: date,
    mentor: User | None = None,
    income_before: IncomeSource | None = None,
    income_before_extent: Decimal = Decimal("1"),
    education: EducationLevel | None = None,
    years_in_public_support: Decimal | None = None,
    **person: Unpack[PersonFields],
) -> Participant:
    """Inskrivning in one step: register the person (or take the existing one found by personnummer,
    with their fresh consent and the reason logged), record the consents given, and enrol in the
    insats. All of it, or nothing."""
    enrolment_fields: EnrolmentFields = {
        "start_date": start_date,
        "mentor": mentor,
        "income_before": income_before,
        "income_before_extent": income_before_extent,
        "education": education,
        "years_in_public_support": years_in_public_support,
    }
    if use_existing:
        participant = participant_lookup(
            user=registered_by,
            forbund=insats.forbund,
            personnummer=str(person.get("personnummer", "")),
            reason="Registrering: befintlig deltagare skrivs in",
        )
        if participant is None:
            raise ValidationError({"personnummer": "Ingen deltagare med det personnumret hittades."})
        enrolment_of_existing(
            by=registered_by,
            participant=participant,
            insats=insats,
            reason=reason,
            consent_channel=str(person.get("consent_channel", "")),
            guardian_consent=bool(person.get("guardian_consent", False)),
            extra_consents=extra_consents,
            **enrolment_fields,
        )
        return participant
    participant = participant_register(forbund=insats.forbund, registered_by=registered_by, **person)
    enrolment_create(by=registered_by, participant=participant, insats=insats, **enrolment_fields)
    if not participant.is_anonymous:
        for purpose in extra_consents:
            consent_record(
                participant=participant,
                purpose=purpose,
                granted=True,
                recorded_by=registered_by,
                channel=str(person["consent_channel"]),
                text_version=str(person["consent_text_version"]),
                guardian_consent=bool(person.get("guardian_consent", False)),
            )
    return participant


@transaction.atomic
def enrolment_of_existing(
    *,
    by: User,
    participant: Participant,
    insats: Insats,
    reason: str,
    consent_channel: str,
    guardian_consent: bool = False,
    extra_consents: list[str] | tuple[str, ...] = (),
    **enrolment_fields: Unpack[EnrolmentFields],
) -> Enrolment:
    """Enrol a person who is already in the register. The enrolment starts a relationship that opens
    their identity to the insats' mentors, so the person's fresh consent to registration is recorded
    and the enrolment is logged with its reason for the förbund's admins to review."""
    errors: dict[str, str] = {}
    if len(reason.strip()) < 3:
        errors["reason"] = "Ange varför du skriver in personen. Det sparas i åtkomstloggen."
    if not participant.is_anonymous and not consent_channel:
        errors["consent_channel"] = "Personen behöver samtycka på nytt till registrering. Ange hur samtycket gavs."
    if errors:
        raise ValidationError(errors)
    enrolment = enrolment_create(by=by, participant=participant, insats=insats, **enrolment_fields)
    if not participant.is_anonymous:
        for purpose in dict.fromkeys([ConsentPurpose.REGISTRATION, *extra_consents]):
            consent_record(
                participant=participant,
                purpose=purpose,
                granted=True,
                recorded_by=by,
                channel=consent_channel,
                text_version=settings.CONSENT_TEXT_VERSION,
                guardian_consent=guardian_consent,
            )
    access_event_log(
        user=by,
        participant=participant,
        action=AccessAction.ENROL_EXISTING,
        reason=f"Inskrivning i {insats.name}: {reason.strip()}",
    )
    return enrolment


@transaction.atomic
def participant_lookup(*, user: User, forbund: Forbund, personnummer: str, reason: str) -> Participant | None:
    """Find a person in the förbund by personnummer through the HMAC index; a hit is logged. Only a
    user with identity access in the förbund may ask: for anyone else the answer would reveal that,
    and since when, a person is known here."""
    access.require(
        access.can_look_up_personnummer(user, forbund),
        "Du har inte behörighet att söka på personnummer i förbundet.",
    )
    try:
        parsed = parse_personnummer(personnummer)
    except PersonnummerError as exc:
        raise ValidationError({"personnummer": str(exc)}) from None
    record = (
        IdentityRecord.objects.filter(forbund=forbund, pnr_index=crypto.pnr_index(parsed.normalised))
        .select_related("participant")
        .first()
    )
    if record is None:
        return None
    access_event_log(user=user, participant=record.participant, action=AccessAction.SEARCH_HIT, reason=reason)
    return record.participant


@transaction.atomic
def personnummer_find_among(
    *, user: User, participants: QuerySet[Participant], personnummer: str, reason: str
) -> list[Participant]:
    """The people among `participants` (a mentor's own caseload) with this personnummer, found
    through the HMAC index; nobody else is looked at. Each hit is logged, and needs the right to read
    the person's identity (a mentor has it in the relationship)."""
    try:
        parsed = parse_personnummer(personnummer)
    except PersonnummerError as exc:
        raise ValidationError({"personnummer": str(exc)}) from None
    records = IdentityRecord.objects.filter(
        participant__in=participants, pnr_index=crypto.pnr_index(parsed.normalised)
    ).select_related("participant")
    found = []
    for record in records:
        access.require(
            access.can_read_identity(user, record.participant), "Du har inte behörighet att söka på personnummer."
        )
        access_event_log(user=user, participant=record.participant, action=AccessAction.SEARCH_HIT, reason=reason)
        found.append(record.participant)
    return found


@transaction.atomic
def identity_read(*, user: User, participant: Participant, reason: str) -> IdentityData:
    """Decrypt a participant's identity for a user allowed to see it; every read is logged."""
    access.require(access.can_read_identity(user, participant), "Du har inte behörighet att se deltagarens identitet.")
    record = IdentityRecord.objects.filter(participant=participant).first()
    if record is None:
        raise LookupError("Deltagaren har inga identitetsuppgifter (anonym eller raderad).")
    access_event_log(user=user, participant=participant, action=AccessAction.VIEW, reason=reason)
    return IdentityData(
        personnummer=crypto.decrypt(record.personnummer_encrypted),
        name=crypto.decrypt(record.name_encrypted),
        contact=crypto.decrypt(record.contact_encrypted) if record.contact_encrypted else "",
    )


def identity_rectify(
    *,
    user: User,
    participant: Participant,
    reason: str,
    name: str | None = None,
    contact: str | None = None,
    personnummer: str | None = None,
) -> None:
    """Correct identity data (GDPR rectification); logged, and the pnr index follows a new number.

    A new personnummer is a look-up too: it needs the right to look personnummer up in the förbund,
    and one that belongs to someone else is refused and logged as a hit on that person."""
    access.require(
        access.can_read_identity(user, participant), "Du har inte behörighet att rätta deltagarens identitet."
    )
    if len(reason.strip()) < 3:
        raise ValidationError({"reason": "Ange varför uppgifterna rättas. Det sparas i åtkomstloggen."})
    if name is not None and not name.strip():
        raise ValidationError({"name": "Namnet får inte vara tomt."})
    parsed = None
    if personnummer is not None:
        try:
            parsed = parse_personnummer(personnummer)
        except PersonnummerError as exc:
            raise ValidationError({"personnummer": str(exc)}) from None
        _check_new_personnummer(user=user, participant=participant, parsed=parsed)
    _rectify(user=user, participant=participant, reason=reason, name=name, contact=contact, parsed=parsed)


def _check_new_personnummer(*, user: User, participant: Participant, parsed: Personnummer) -> None:
    index = crypto.pnr_index(parsed.normalised)
    if IdentityRecord.objects.filter(participant=participant, pnr_index=index).exists():
        return  # unchanged
    access.require(
        access.can_look_up_personnummer(user, participant.forbund),
        "Du har inte behörighet att ändra personnummer i förbundet.",
    )
    errors = _age_errors(
        age=age_on(parsed.birth_date, timezone.localdate()), guardian_consent=True, needs_consent=False
    )
    if errors:
        raise ValidationError({"personnummer": errors["birth_year"]})
    other = (
        IdentityRecord.objects.filter(forbund_id=participant.forbund_id, pnr_index=index)
        .select_related("participant")
        .first()
    )
    if other is not None:
        access_event_log(
            user=user,
            participant=other.participant,
            action=AccessAction.SEARCH_HIT,
            reason=f"Rättelse av {participant.pseudonym}: personnumret tillhörde redan denna deltagare",
        )
        raise ValidationError({"personnummer": "Personnumret tillhör redan en annan deltagare i förbundet."})


@transaction.atomic
def _rectify(
    *,
    user: User,
    participant: Participant,
    reason: str,
    name: str | None,
    contact: str | None,
    parsed: Personnummer | None,
) -> None:
    record = IdentityRecord.objects.select_for_update().filter(participant=participant).first()
    if record is None:
        raise LookupError("Deltagaren har inga identitetsuppgifter (anonym eller raderad).")
    if name is not None:
        record.name_encrypted = crypto.encrypt(name.strip())
    if contact is not None:
        record.contact_encrypted = crypto.encrypt(contact.strip()) if contact.strip() else ""
    if parsed is not None:
        record.pnr_index = crypto.pnr_index(parsed.normalised)
        record.personnummer_encrypted = crypto.encrypt(parsed.normalised)
        participant.birth_year = parsed.birth_year
        participant.save(update_fields=["birth_year"])
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:  # registered by someone else at this very moment
        raise ValidationError({"personnummer": "Personnumret tillhör redan en annan deltagare i förbundet."}) from None
    access_event_log(user=user, participant=participant, action=AccessAction.RECTIFY, reason=reason)


def participant_erase(*, participant: Participant, by: User, reason: str) -> None:
    """Erase identity and contact data for good on the person's request (the förbund's admins);
    pseudonymous statistics stay as they are."""
    access.require(
        access.can_answer_data_subject_requests(by, participant),
        "Bara förbundets administratör kan radera en persons uppgifter.",
    )
    _erase(participant=participant, by=by, reason=reason)


@transaction.atomic
def _erase(*, participant: Participant, by: User | None, reason: str) -> None:
    """Delete the vault record, and the person's identity wherever it may have been typed or kept:
    their own free texts (ERASURE_HANDLERS and the reasons logged for their data) become a marker,
    the förbund's other log texts lose the person's name, contact and personnummer, and import files
    waiting for confirmation that name them are deleted."""
    imports_lock(participant.forbund)  # an import under way finishes first, or sees its file gone
    record = IdentityRecord.objects.select_for_update().filter(participant=participant).first()
    identity = (
        ErasedIdentity(
            name=crypto.decrypt(record.name_encrypted),
            contact=crypto.decrypt(record.contact_encrypted) if record.contact_encrypted else "",
            personnummer=crypto.decrypt(record.personnummer_encrypted),
        )
        if record is not None
        else None
    )
    IdentityRecord.objects.filter(participant=participant).delete()
    for handler in hooks.ERASURE_HANDLERS:
        handler(participant)
    AccessEvent.objects.filter(participant=participant).update(reason=ERASED)
    if identity is not None:
        _erase_from_forbund_texts(forbund_id=participant.forbund_id, identity=identity)
        uploads_erase_person(forbund=participant.forbund, normalised_personnummer=identity.personnummer)
    participant.identity_erased_at = timezone.now()
    participant.save(update_fields=["identity_erased_at"])
    pattern = identity.pattern() if identity is not None else None
    access_event_log(user=by, participant=participant, action=AccessAction.ERASE, reason=scrub(reason, pattern))


def _erase_from_forbund_texts(*, forbund_id: int, identity: ErasedIdentity) -> None:
    """Replace the erased identity in every free text of the förbund (hooks.FORBUND_TEXT_FIELDS:
    log reasons and notes, consents' member authority, volume categories, other people's plans, the
    report appendix texts), keeping the texts' other words."""
    pattern, prefilter = identity.pattern(), identity.database_prefilter()
    if pattern is None or prefilter is None:
        return
    for model, field, forbund_lookup in hooks.FORBUND_TEXT_FIELDS:
        matching = model.objects.filter(**{forbund_lookup: forbund_id, f"{field}__iregex": prefilter})
        for pk, text in matching.values_list("pk", field):
            model.objects.filter(pk=pk).update(**{field: scrub(text, pattern)})


def consent_record(
    *,
    participant: Participant,
    purpose: str,
    granted: bool,
    recorded_by: User,
    channel: str,
    text_version: str,
    guardian_consent: bool = False,
    member_authority: str = "",
    today: date | None = None,
) -> Consent:
    """Append a consent (granted=True) or a withdrawal (granted=False); nothing is edited in place.
    Recorded by whoever may change one of the person's enrolments (access.can_record_consent)."""
    access.require(
        access.can_record_consent(recorded_by, participant),
        "Du kan inte registrera samtycken för den här deltagaren.",
    )
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if participant.is_anonymous:
        errors["purpose"] = "En anonym deltagare kan inte lämna samtycke i Stegvis."
    if purpose == ConsentPurpose.SHARING and granted and not member_authority.strip():
        errors["member_authority"] = "Ange vilken medlemsmyndighet uppgifterna får delas med."
    birth_date = _birth_date(participant) if granted and not participant.is_anonymous else None
    if birth_date is not None:
        age = age_on(birth_date, today)
        if age < GUARDIAN_AGE_LIMIT and not guardian_consent:
            errors["guardian_consent"] = f"Deltagaren är {age} år: vårdnadshavares samtycke krävs också."
    if not channel or not text_version:
        errors["channel"] = "Ange hur samtycket gavs och vilken version av texten som gällde."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consent = Consent.objects.create(
            participant=participant,
            purpose=purpose,
            granted=granted,
            channel=channel,
            text_version=text_version,
            guardian_consent=guardian_consent,
            member_authority=member_authority.strip(),
            recorded_by=recorded_by,
        )
        if purpose == ConsentPurpose.PROGRESSION and not granted:
            for lock in hooks.DERIVED_DATA_LOCKS:
                lock()
            for handler in hooks.PROGRESSION_WITHDRAWAL_HANDLERS:
                handler(participant, participant.forbund.progression_withdrawal_policy)
        if purpose == ConsentPurpose.INSATS_SHARING:
            # It opens (or closes) the person's other enrolments to mentors: in the admins' log review.
            access_event_log(
                user=recorded_by,
                participant=participant,
                action=AccessAction.SHARING_CONSENT,
                reason=f"Samtycke till delning mellan insatser {'givet' if granted else 'återkallat'} "
                f"({consent.get_channel_display().lower()})",
            )
    return consent


def enrolment_age_errors(*, participant: Participant, start_date: date) -> dict[str, str]:
    """A participant is 16–67 years old at inskrivning, by the full date of birth where it is known
    (the vault), else by the birth year."""
    birth_date = _birth_date(participant)
    age = age_on(birth_date, start_date) if birth_date else start_date.year - participant.birth_year
    problem = enrolment_age_problem(age)
    return {"start_date": problem} if problem else {}


def enrolment_age_problem(age: int) -> str:
    """What is wrong with the age at inskrivning ("" when nothing is): the registration page's rule,
    for the import's rows too."""
    if MINIMUM_AGE <= age <= MAXIMUM_AGE:
        return ""
    return f"Deltagaren är {age} år vid inskrivningen; deltagare ska vara {MINIMUM_AGE}–{MAXIMUM_AGE} år."


def _enrolment_errors(*, participant: Participant, insats: Insats, start_date: date, today: date) -> dict[str, str]:
    errors: dict[str, str] = enrolment_age_errors(participant=participant, start_date=start_date)
    if insats.forbund_id != participant.forbund_id:
        errors["insats"] = "Insatsen hör till ett annat förbund än deltagaren."
    if insats.measurement_mode != MeasurementMode.PER_PERSON:
        errors["insats"] = "Insatsen mäts bara som volym; registrera antal i stället."
    if start_date > today + timedelta(days=31):
        errors["start_date"] = "Inskrivningsdatumet ligger mer än en månad fram i tiden."
    if Enrolment.objects.filter(participant=participant, insats=insats, end_date__isnull=True).exists():
        errors["insats"] = "Deltagaren är redan inskriven i insatsen."
    return errors


@transaction.atomic
def enrolment_create(
    *,
    by: User,
    participant: Participant,
    insats: Insats,
    start_date: date,
    mentor: User | None = None,
    end_date: date | None = None,
    exit_reason: ExitReason | None = None,
    income_before: IncomeSource | None = None,
    income_before_extent: Decimal = Decimal("1"),
    education: EducationLevel | None = None,
    years_in_public_support: Decimal | None = None,
    today: date | None = None,
) -> Enrolment:
    """Enrol a participant in an insats (inskrivning), with SUS background data and a mentor. A person
    already in the register is enrolled through enrolment_of_existing, which records why."""
    access.require(access.can_enrol(by, insats), f"Du kan inte skriva in deltagare i {insats.name}.")
    if mentor is not None and not access.mentor_candidates(insats).filter(pk=mentor.pk).exists():
        raise ValidationError({"mentor": f"{mentor} är inte handledare i {insats.name}."})
    errors = _enrolment_errors(
        participant=participant, insats=insats, start_date=start_date, today=today or timezone.localdate()
    )
    # A historical enrolment may be created closed; the same rules as enrolment_close apply, so the
    # database constraints never surface as a misleading "already enrolled".
    if end_date is not None and end_date < start_date:
        errors["end_date"] = f"Avslutsdatum kan inte ligga före inskrivningsdatum ({start_date:%Y-%m-%d})."
    if end_date is not None and exit_reason is None:
        errors["exit_reason"] = "Ange avslutsanledning."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                participant=participant,
                insats=insats,
                start_date=start_date,
                end_date=end_date,
                exit_reason=exit_reason,
                income_before=income_before,
                income_before_extent=income_before_extent,
                education=education,
                years_in_public_support=years_in_public_support,
            )
    except IntegrityError:
        raise ValidationError({"insats": "Deltagaren är redan inskriven i insatsen."}) from None
    if mentor is not None:
        MentorAssignment.objects.create(enrolment=enrolment, mentor=mentor, start_date=start_date, end_date=end_date)
    return enrolment


def _require_writable(by: User, enrolment: Enrolment) -> None:
    access.require(
        access.enrolments_writable_by(by).filter(pk=enrolment.pk).exists(),
        "Du kan inte ändra inskrivningar i den här insatsen.",
    )


@transaction.atomic
def enrolment_change_mentor(*, by: User, enrolment: Enrolment, mentor: User, from_date: date) -> MentorAssignment:
    """Hand the participant over to another mentor from a date; the previous assignment ends then."""
    _require_writable(by, enrolment)
    if not access.mentor_candidates(enrolment.insats).filter(pk=mentor.pk).exists():
        raise ValidationError({"mentor": "Användaren är inte handledare i insatsen."})
    if enrolment.end_date is not None:
        raise ValidationError({"mentor": "Inskrivningen är avslutad."})
    if from_date < enrolment.start_date:
        raise ValidationError({"from_date": "Datumet ligger före inskrivningen."})
    current = MentorAssignment.objects.select_for_update().filter(enrolment=enrolment, end_date__isnull=True).first()
    if current and current.mentor_id == mentor.pk:
        raise ValidationError({"mentor": "Det är redan deltagarens handledare."})
    if current:
        if from_date < current.start_date:
            raise ValidationError({"from_date": "Datumet ligger före nuvarande handledares startdatum."})
        current.end_date = from_date
        current.save(update_fields=["end_date"])
    return MentorAssignment.objects.create(enrolment=enrolment, mentor=mentor, start_date=from_date)


def enrolment_close_check(
    *,
    enrolment: Enrolment,
    end_date: date,
    exit_reason: ExitReason | None,
    income_after: IncomeSource | None,
    today: date | None = None,
) -> None:
    """Whether an avslut can be recorded as given; a ValidationError names every problem. The avslut
    page asks this before its confirmation, and enrolment_close before it writes."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if enrolment.end_date is not None:
        errors["end_date"] = f"Inskrivningen avslutades redan {enrolment.end_date:%Y-%m-%d}."
    elif end_date < enrolment.start_date:
        errors["end_date"] = f"Avslutsdatum kan inte ligga före inskrivningsdatum ({enrolment.start_date:%Y-%m-%d})."
    elif end_date > today:
        errors["end_date"] = "Avslutsdatum kan inte ligga i framtiden."
    if exit_reason is None:
        errors["exit_reason"] = "Ange avslutsanledning."
    elif income_after is None and not exit_reason.excluded_from_reports:
        errors["income_after"] = "Ange försörjningskälla efter insatsen."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def enrolment_close(
    *,
    by: User,
    enrolment: Enrolment,
    end_date: date,
    exit_reason: ExitReason | None,
    income_after: IncomeSource | None,
    income_after_extent: Decimal | None,
    today: date | None = None,
) -> Enrolment:
    """Avslut: end date, avslutsanledning and income source after. Felregistrering is an exit reason,
    and it ends every mentor's access through the enrolment at once (access.NOT_FELREGISTRERING)."""
    _require_writable(by, enrolment)
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    enrolment_close_check(
        enrolment=enrolment, end_date=end_date, exit_reason=exit_reason, income_after=income_after, today=today
    )
    enrolment.end_date = end_date
    enrolment.exit_reason = exit_reason
    enrolment.income_after = income_after
    enrolment.income_after_extent = income_after_extent if income_after else None
    enrolment.save(update_fields=["end_date", "exit_reason", "income_after", "income_after_extent"])
    MentorAssignment.objects.filter(enrolment=enrolment, end_date__isnull=True).update(end_date=end_date)
    return enrolment


@transaction.atomic
def volume_register(
    *,
    insats: Insats,
    period_start: date,
    period_end: date,
    category: str,
    count: int,
    registered_by: User,
    kon: str = "",
) -> VolumeRegistration:
    """Record a head count for a volume-only insats."""
    access.require(
        access.insatser_readable_by(registered_by).filter(pk=insats.pk).exists(),
        f"Du kan inte registrera volymer i {insats.name}.",
    )
    errors: dict[str, str] = {}
    if period_end < period_start:
        errors["period_end"] = "Periodens slut ligger före dess början."
    if count < 0:
        errors["count"] = "Antalet kan inte vara negativt."
    if not category.strip():
        errors["category"] = "Ange vad som räknats, t.ex. SIP-möten."
    if errors:
        raise ValidationError(errors)
    return VolumeRegistration.objects.create(
        insats=insats,
        period_start=period_start,
        period_end=period_end,
        category=category.strip(),
        count=count,
        kon=kon,
        registered_by=registered_by,
    )


def identity_retention_due(*, today: date | None = None) -> list[Participant]:
    """Identified participants with no open enrolment whose last avslut (or, never enrolled, their
    registration) is older than their förbund's retention period."""
    today = today or timezone.localdate()
    open_enrolments = Enrolment.objects.filter(end_date__isnull=True).values("participant_id")
    due: list[Participant] = []
    for forbund in Forbund.objects.all():
        cutoff = _years_before(today, forbund.identity_retention_years)
        candidates = Participant.objects.filter(forbund=forbund, identity__isnull=False).exclude(id__in=open_enrolments)
        due += candidates.annotate(last_end=Max("enrolments__end_date")).filter(last_end__lte=cutoff)
        due += candidates.filter(enrolments__isnull=True, created_at__date__lte=cutoff)
    return sorted(due, key=lambda participant: participant.pseudonym)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def identity_retention_erase(*, today: date | None = None, dry_run: bool = False) -> list[str]:
    """Erase identity data that has passed its retention period; returns the pseudonyms concerned."""
    due = identity_retention_due(today=today)
    if not dry_run:
        for participant in due:
            _erase(participant=participant, by=None, reason="Gallring: lagringstiden efter avslut har gått ut")
    return [p.pseudonym for p in due]


@transaction.atomic
def access_log_review_record(
    *, by: User, forbund: Forbund, period_start: date, period_end: date, note: str = ""
) -> AccessLogReview:
    """Record that a förbund admin went through the access log for a period."""
    access.require(
        access.forbund_administered_by(by).filter(pk=forbund.pk).exists(),
        "Bara förbundets administratör granskar åtkomstloggen.",
    )
    if period_end < period_start:
        raise ValidationError({"period_end": "Periodens slut ligger före dess början."})
    if period_end > timezone.localdate():
        raise ValidationError({"period_end": "Perioden kan inte sluta i framtiden."})
    return AccessLogReview.objects.create(
        forbund=forbund, period_start=period_start, period_end=period_end, note=note.strip(), reviewed_by=by
    )


def _membership_forbund_id(membership: Membership) -> int:
    if membership.forbund_id is not None:
        return membership.forbund_id
    if membership.insats is None:  # the database refuses it too (a check constraint)
        raise ValidationError("Välj förbund eller insats.")
    return membership.insats.forbund_id


def _membership_text(membership: Membership) -> str:
    scope = membership.forbund or membership.insats
    identity = ", får läsa identitetsuppgifter" if membership.can_read_identity else ""
    return f"{membership.user}: {membership.get_role_display().lower()} i {scope}{identity}"


@transaction.atomic
def membership_save(*, by: User, membership: Membership) -> Membership:
    """Give or change a role (from the Django admin). Only within a förbund `by` administers, never
    on their own account, never moved to another förbund; logged for the förbund's log review."""
    refused = "Du kan inte ge eller ändra den här behörigheten."
    previous = Membership.objects.select_related("user", "forbund", "insats").filter(pk=membership.pk).first()
    forbund_id = _membership_forbund_id(membership)
    access.require(access.can_assign_role(by, membership.user, forbund_id), refused)
    if previous is not None:
        access.require(
            access.can_assign_role(by, previous.user, _membership_forbund_id(previous))
            and _membership_forbund_id(previous) == forbund_id,
            refused,
        )
    membership.save()
    access.memberships_changed()
    what = (
        f"{_membership_text(previous)} → {_membership_text(membership)}" if previous else _membership_text(membership)
    )
    access_event_log(
        user=by,
        participant=None,
        forbund=Forbund.objects.get(pk=forbund_id),
        action=AccessAction.ROLE_CHANGE,
        reason=("Ändrad behörighet: " if previous else "Ny behörighet: ") + what,
    )
    return membership


@transaction.atomic
def membership_delete(*, by: User, membership: Membership) -> None:
    """Take a role away (from the Django admin), under the same rules as membership_save; logged."""
    forbund_id = _membership_forbund_id(membership)
    access.require(access.can_assign_role(by, membership.user, forbund_id), "Du kan inte ta bort den här behörigheten.")
    text = _membership_text(membership)
    membership.delete()
    access.memberships_changed()
    access_event_log(
        user=by,
        participant=None,
        forbund=Forbund.objects.get(pk=forbund_id),
        action=AccessAction.ROLE_CHANGE,
        reason=f"Borttagen behörighet: {text}",
    )
