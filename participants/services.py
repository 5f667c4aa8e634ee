"""Writes for the registry. Every change to participants and enrolments goes through here."""

import secrets
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from participants.models import Enrolment, Forbund, Insats, Participant

# Crockford's base-32 alphabet: no I, L, O or U, so a pseudonym read aloud is not misheard.
PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PSEUDONYM_ATTEMPTS = 5


def pseudonym_generate(*, forbund: Forbund) -> str:
    """A random opaque pseudonym such as SCÖ-7F3K-Q2MD; carries nothing about the person."""
    groups = ["".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(4)) for _ in range(2)]
    return "-".join([forbund.pseudonym_prefix, *groups])


@transaction.atomic
def participant_create(*, forbund: Forbund, kon: str, birth_year: int, is_anonymous: bool = False) -> Participant:
    """Create a pseudonymous participant; retries the (astronomically rare) pseudonym collision."""
    for _ in range(PSEUDONYM_ATTEMPTS):
        try:
            with transaction.atomic():
                return Participant.objects.create(
                    forbund=forbund,
                    pseudonym=pseudonym_generate(forbund=forbund),
                    kon=kon,
                    birth_year=birth_year,
                    is_anonymous=is_anonymous,
                )
        except IntegrityError:
            continue
    raise RuntimeError("Kunde inte skapa en unik pseudonym")


@transaction.atomic
def enrolment_create(
    *,
    participant: Participant,
    insats: Insats,
    start_date: date,
    mentor: AbstractBaseUser | None = None,
    end_date: date | None = None,
) -> Enrolment:
    """Enrol a participant in an insats (inskrivning)."""
    return Enrolment.objects.create(
        participant=participant, insats=insats, start_date=start_date, end_date=end_date, mentor=mentor
    )
