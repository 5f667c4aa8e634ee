"""Demo organisations, users and synthetic participants (DESIGN.md §1). Idempotent.

Every person here is synthetic. Later capabilities add their own demo data in their app's
demo module; `manage.py seed_demo` runs them all.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from participants.models import (
    AccessAction,
    AccessEvent,
    ConsentChannel,
    ConsentPurpose,
    EducationLevel,
    Enrolment,
    ExitReason,
    Forbund,
    IncomeSource,
    Insats,
    InsatsCategory,
    InsatsPeriod,
    MeasurementMode,
    Membership,
    Role,
    VolumeRegistration,
)
from participants.personnummer import luhn_check_digit
from participants.services import (
    consent_record,
    enrolment_close,
    enrolment_create,
    enrolment_of_existing,
    participant_register,
    volume_register,
)

C = InsatsCategory
DEMO_TODAY = date(2026, 11, 24)

DemoInsats = tuple[str, str, InsatsCategory, int | None]  # code, name, category, capacity
FORBUND: list[tuple[str, str, str, list[DemoInsats]]] = [
    (
        "sco",
        "Samordningsförbundet Centrala Östergötland",
        "SCÖ",
        [
            ("jonsbo", "Jonsbo försteg", C.FORBEREDANDE, 20),
            ("backaberg", "Backaberg", C.REHAB_ARBETE_UTBILDNING, 20),
            ("drivbank-odling", "Drivbänk odling", C.FORBEREDANDE, 12),
            ("drivbank-cafe", "Drivbänk café", C.FORBEREDANDE, 10),
            ("drivbank-storhushall", "Drivbänk storhushåll", C.FORBEREDANDE, 8),
            ("insteget-kinda", "Insteget Kinda", C.FORBEREDANDE, 10),
            ("af-teamet", "AF-teamet", C.REHAB_ARBETE_UTBILDNING, 30),
        ],
    ),
    (
        "flo",
        "Finsam Lekeberg Örebro",
        "FLÖ",
        [
            ("coaching-orebro", "Coachingteam Örebro", C.REHAB_ARBETE_UTBILDNING, 40),
            ("coaching-lekeberg", "Coachingteam Lekeberg", C.REHAB_ARBETE_UTBILDNING, 15),
            ("samverkansteam", "Samverkansteam", C.KARTLAGGNING, 25),
            ("mottagningsteam-lekeberg", "Mottagningsteam Lekeberg", C.KARTLAGGNING, 15),
            ("miljovardscentrum", "Miljövårdscentrum", C.FORBEREDANDE, 12),
        ],
    ),
    (
        "svo",
        "Samordningsförbundet Västra Östergötland",
        "SVÖ",
        [
            ("isa-vastra", "ISA Västra", C.REHAB_ARBETE_UTBILDNING, 30),
            ("isa-navigator", "ISA-navigator", C.KARTLAGGNING, 20),
            ("forsteg-odeshog", "Försteg Ödeshög", C.FORBEREDANDE, 12),
            ("natursteget", "Natursteget", C.FORBEREDANDE, 12),
            ("motala-fontanhus", "Motala Fontänhus", C.FOREBYGGANDE, None),
            ("sip", "SIP – samordnad individuell plan", C.DIALOG_KOMMUNIKATION, None),
        ],
    ),
]
VOLUME_INSATSER = {"sip", "motala-fontanhus"}
MENTOR_INSATS = {"sco": "jonsbo", "flo": "coaching-orebro", "svo": "isa-vastra"}
PARTICIPANTS_PER_INSATS = {"jonsbo": 14, "backaberg": 12, "coaching-orebro": 12, "isa-vastra": 12}
DEFAULT_PARTICIPANTS = 6


@dataclass
class DemoLogin:
    username: str
    role: str
    scope: str


def _user(username: str, first_name: str, password: str):  # noqa: ANN202
    user, _ = get_user_model().objects.update_or_create(
        username=username, defaults={"first_name": first_name, "is_active": True}
    )
    user.set_password(password)
    user.save()
    return user


def _forbund_admin(forbund: Forbund) -> User:
    membership = Membership.objects.filter(forbund=forbund, role=Role.ADMIN).first()
    if membership is None:
        raise RuntimeError(f"{forbund.code} has no admin: seed_organisations makes one per förbund.")
    return membership.user


@transaction.atomic
def seed_organisations(*, password: str) -> list[DemoLogin]:
    """Förbund, insatser with a yearly plan, and one demo user per role per förbund."""
    logins: list[DemoLogin] = []
    for code, name, prefix, insatser in FORBUND:
        forbund, _ = Forbund.objects.update_or_create(code=code, defaults={"name": name, "pseudonym_prefix": prefix})
        for insats_code, insats_name, category, capacity in insatser:
            mode = MeasurementMode.VOLUME if insats_code in VOLUME_INSATSER else MeasurementMode.PER_PERSON
            insats, _ = Insats.objects.update_or_create(
                code=insats_code,
                defaults={
                    "forbund": forbund,
                    "name": insats_name,
                    "category": category,
                    "measurement_mode": mode,
                    "capacity": capacity,
                },
            )
            for year in (2025, 2026):
                InsatsPeriod.objects.update_or_create(
                    insats=insats,
                    period_start=date(year, 1, 1),
                    period_end=date(year, 12, 31),
                    defaults={
                        "target_work_or_studies_pct": 40,
                        "target_further_rehab_pct": 30,
                        "cost_sek": 1_200_000 if capacity and capacity >= 20 else 600_000,
                    },
                )
        mentor = _user(f"handledare-{code}", "Handledare", password)
        Membership.objects.get_or_create(
            user=mentor, role=Role.MENTOR, insats=Insats.objects.get(code=MENTOR_INSATS[code])
        )
        coordinator = _user(f"samordnare-{code}", "Samordnare", password)
        Membership.objects.get_or_create(user=coordinator, role=Role.COORDINATOR, forbund=forbund)
        admin = _user(f"admin-{code}", "Administratör", password)
        # The förbund's admin answers registerutdrag and imports files with personnummer.
        Membership.objects.update_or_create(
            user=admin, role=Role.ADMIN, forbund=forbund, defaults={"can_read_identity": True}
        )
        logins += [
            DemoLogin(mentor.username, "handledare", Insats.objects.get(code=MENTOR_INSATS[code]).name),
            DemoLogin(coordinator.username, "samordnare", name),
            DemoLogin(admin.username, "administratör", name),
        ]
    return logins


FIRST_NAMES = ["Alva", "Elias", "Maja", "Hugo", "Saga", "Noah", "Ebba", "Liam", "Wilma", "Omar", "Leila", "Nils"]
INCOME_BEFORE = [
    "forsorjningsstod",
    "sjukpenning_rehab",
    "aktivitetsstod",
    "aktivitetsersattning",
    "a_kassa",
    "sjukersattning",
    "ingen_offentlig",
]
EXITS = [
    ("arbete", "ingen_offentlig"),
    ("studier", "studiemedel"),
    ("fortsatt_rehab", "sjukpenning_rehab"),
    ("arbetssokande", "aktivitetsstod"),
    ("arbete_subventionerat", "ingen_offentlig"),
    ("avbrott", None),
]


def synthetic_personnummer(rng: random.Random, birth_year: int) -> str:
    """A made-up personnummer with a valid check digit (never a real person's data on purpose)."""
    month, day, serial = rng.randint(1, 12), rng.randint(1, 28), rng.randint(900, 999)
    nine = f"{birth_year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    return f"{birth_year}{nine[2:]}{luhn_check_digit(nine)}"


@transaction.atomic
def seed_participants() -> int:
    """Synthetic participants (most identified, some anonymous) for every per-person insats without any."""
    rng = random.Random(2026)
    income = {code: IncomeSource.objects.get(code=code) for code in INCOME_BEFORE + ["studiemedel"]}
    education = list(EducationLevel.objects.all())
    created = 0
    for insats in Insats.objects.filter(measurement_mode=MeasurementMode.PER_PERSON).select_related("forbund"):
        if insats.enrolments.exists():
            continue
        mentor_membership = Membership.objects.filter(role=Role.MENTOR, insats=insats).select_related("user").first()
        mentor = mentor_membership.user if mentor_membership else None
        registrar = mentor or _forbund_admin(insats.forbund)
        for index in range(PARTICIPANTS_PER_INSATS.get(insats.code, DEFAULT_PARTICIPANTS)):
            birth_year = rng.randint(1962, 2006)
            kon = rng.choices(["kvinna", "man", "annat"], weights=[48, 48, 4])[0]
            anonymous = index % 7 == 6
            participant = participant_register(
                forbund=insats.forbund,
                registered_by=registrar,
                kon=kon,
                birth_year=birth_year,
                personnummer="" if anonymous else synthetic_personnummer(rng, birth_year),
                name="" if anonymous else f"{rng.choice(FIRST_NAMES)} Testsson",
                contact="" if anonymous else f"070-000 {index:02d} {rng.randint(10, 99)}",
                anonymous=anonymous,
                consent_channel=ConsentChannel.WRITTEN,
                consent_text_version="2026-1",
                today=DEMO_TODAY,
                is_demo=True,
            )
            purposes = [ConsentPurpose.PROGRESSION] + ([ConsentPurpose.RESEARCH] if index % 3 != 1 else [])
            for purpose in purposes if not anonymous else []:
                consent_record(
                    participant=participant,
                    purpose=purpose,
                    granted=True,
                    recorded_by=registrar,
                    channel=ConsentChannel.WRITTEN,
                    text_version="2026-1",
                    today=DEMO_TODAY,
                )
            start = DEMO_TODAY - timedelta(days=rng.randint(60, 640))
            enrolment = enrolment_create(
                by=registrar,
                participant=participant,
                insats=insats,
                start_date=start,
                mentor=mentor if index < 10 else None,
                income_before=income[rng.choice(INCOME_BEFORE)],
                income_before_extent=rng.choice([Decimal("1"), Decimal("1"), Decimal("0.5"), Decimal("0.75")]),
                education=rng.choice(education),
                years_in_public_support=Decimal(rng.randint(0, 120)) / 10,
                today=DEMO_TODAY,
            )
            if index % 3 == 2:
                reason_code, after = rng.choices(EXITS, weights=[3, 2, 2, 3, 1, 1])[0]
                enrolment_close(
                    by=registrar,
                    enrolment=enrolment,
                    end_date=min(start + timedelta(days=rng.randint(90, 300)), DEMO_TODAY),
                    exit_reason=ExitReason.objects.get(code=reason_code),
                    income_after=income[after] if after else income["forsorjningsstod"],
                    income_after_extent=Decimal("1"),
                    today=DEMO_TODAY,
                )
            created += 1
    return created


@transaction.atomic
def seed_shared_people() -> int:
    """Two Backaberg participants also enrolled in Jonsbo by its mentor, as an existing person is: one
    has consented to sharing between the insatser (the mentor sees both enrolments), the other has not
    (the mentor sees Jonsbo only). The enrolments are in the access log for admin-sco to review."""
    if AccessEvent.objects.filter(action=AccessAction.ENROL_EXISTING).exists():
        return 0
    jonsbo = Insats.objects.filter(code="jonsbo").first()
    mentor = Membership.objects.filter(role=Role.MENTOR, insats=jonsbo).select_related("user").first()
    if jonsbo is None or mentor is None:
        return 0
    in_backaberg = (
        Enrolment.objects.filter(insats__code="backaberg", end_date__isnull=True, participant__is_anonymous=False)
        .exclude(participant__enrolments__insats=jonsbo)
        .select_related("participant")
        .order_by("participant__pseudonym")[:2]
    )
    for number, enrolment in enumerate(in_backaberg):
        person = enrolment.participant
        enrolment_of_existing(
            by=mentor.user,
            participant=person,
            insats=jonsbo,
            reason="Remiss från Backaberg: skogsarbete som nästa steg",
            consent_channel=ConsentChannel.WRITTEN,
            extra_consents=[ConsentPurpose.PROGRESSION],
            start_date=DEMO_TODAY - timedelta(days=21),
            mentor=mentor.user,
            today=DEMO_TODAY,
        )
        if number == 0:  # the Jonsbo mentor may record consent once the person is theirs too
            consent_record(
                participant=person,
                purpose=ConsentPurpose.INSATS_SHARING,
                granted=True,
                recorded_by=mentor.user,
                channel=ConsentChannel.WRITTEN,
                text_version="2026-1",
            )
    return len(in_backaberg)


@transaction.atomic
def seed_volumes() -> int:
    """Head counts for the volume-only insatser, per tertial."""
    created = 0
    for insats in Insats.objects.filter(measurement_mode=MeasurementMode.VOLUME).select_related("forbund"):
        if VolumeRegistration.objects.filter(insats=insats).exists():
            continue
        admin = _forbund_admin(insats.forbund)
        for start, end, women, men in [
            (date(2026, 1, 1), date(2026, 4, 30), 14, 11),
            (date(2026, 5, 1), date(2026, 8, 31), 9, 12),
        ]:
            category = "SIP-möten" if insats.code == "sip" else "Besökare"
            for kon, count in [("kvinna", women), ("man", men)]:
                volume_register(
                    insats=insats,
                    period_start=start,
                    period_end=end,
                    category=category,
                    kon=kon,
                    count=count,
                    registered_by=admin,
                )
                created += 1
    return created
