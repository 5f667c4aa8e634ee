"""Demo readings, goals and surveys for the synthetic participants, so every page shows data.

Readings come every 4–8 weeks from the start of each enrolment, the participant's and the
mentor's, drifting upward with noise. Idempotent: enrolments that already have readings are left alone."""

import base64
import hashlib
import hmac
import random
import uuid
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from participants.models import ConsentPurpose, Enrolment, Insats, MeasurementMode, MentorAssignment, Role
from participants.selectors import consent_granted
from progression import goals, plan, rebuild
from progression.models import Milestone, MilestoneStatus, ReportText
from surveys.models import ITEMS_ASKED_IN, AssessmentSession, Item, ScaleKind, SurveyCampaign
from surveys.satisfaction import survey_campaign_create, survey_response_submit
from surveys.selectors import instrument_version_current
from surveys.sessions import session_submit

DEMO_TODAY = date(2026, 11, 24)
# Delmål and the area of the instrument each is tied to.
MILESTONES = {
    "Komma i tid tre dagar i veckan": "vardag",
    "Prova praktik i caféet": "arbetsmarknad",
    "Besöka Komvux studievägledare": "jobbsokande",
}
STEPS = [("Boka möte med Arbetsförmedlingen", "Handledaren"), ("Skriva ett CV", "Deltagaren")]


def _answers(rng: random.Random, items: list[Item], level: float, perspective: str) -> dict[str, int]:
    answers: dict[str, int] = {}
    for item in items:
        scale = item.scale
        if scale.kind == ScaleKind.LADDER:
            lowest, highest = scale.bounds()
            bias = -0.6 if perspective == "mentor" else 0.3
            value = round(level + bias + rng.gauss(0, 0.7))
            answers[item.code] = max(lowest, min(highest, value))
        elif scale.kind == ScaleKind.NUMBER:
            _, highest = scale.bounds()
            answers[item.code] = max(0, min(highest, round(level * 3 + rng.gauss(0, 3))))
        else:
            values = sorted(scale.option_values)
            answers[item.code] = values[min(len(values) - 1, max(0, round((level - 1) / 9 * (len(values) - 1))))]
    return answers


@transaction.atomic
def seed_readings() -> int:
    """Readings for enrolments with progression consent and none yet; returns readings created."""
    version = instrument_version_current(code="stegvis-progression")
    if version is None:
        return 0
    rng = random.Random(4711)
    items = {
        perspective: list(
            Item.objects.filter(version=version, applies_to__in=ITEMS_ASKED_IN[perspective])
            .select_related("scale")
            .order_by("dimension__order", "order")
        )
        for perspective in ("self", "mentor")
    }
    created = 0
    enrolments = (
        Enrolment.objects.filter(insats__measurement_mode=MeasurementMode.PER_PERSON)
        .select_related("participant", "insats")
        .prefetch_related("mentor_assignments__mentor")
        .order_by("id")
    )
    for enrolment in enrolments:
        if AssessmentSession.objects.filter(enrolment=enrolment).exists():
            continue
        if not consent_granted(participant=enrolment.participant, purpose=ConsentPurpose.PROGRESSION):
            continue
        assignment = next(iter(enrolment.mentor_assignments.all()), None)
        mentor = assignment.mentor if assignment else None
        last_day = enrolment.end_date or DEMO_TODAY
        level = rng.uniform(2.0, 6.0)  # people differ more than one item's answer varies: α about 0.8
        growth = rng.uniform(-0.2, 0.9)
        day = enrolment.start_date + timedelta(days=7)
        readings: list[date] = []
        while day <= last_day and len(readings) < 6:
            readings.append(day)
            day += timedelta(weeks=rng.randint(4, 8))
        # A reading's answers are checked against an open enrolment: write them while it is open.
        end_date, exit_reason = enrolment.end_date, enrolment.exit_reason
        if end_date:
            Enrolment.objects.filter(pk=enrolment.pk).update(end_date=None)
            enrolment.end_date = None
        for number, day in enumerate(readings):
            at = timezone.make_aware(datetime.combine(day, time(10, 0)))
            for perspective in ("self", "mentor"):
                session_submit(
                    client_uuid=uuid.UUID(int=rng.getrandbits(128)),
                    enrolment=enrolment,
                    version=version,
                    perspective=perspective,
                    answers=_answers(rng, items[perspective], level + growth * number, perspective),
                    recorded_by=mentor,
                    occurred_at=at,
                )
                created += 1
        if end_date:
            Enrolment.objects.filter(pk=enrolment.pk).update(end_date=end_date, exit_reason=exit_reason)
        if mentor and readings and enrolment.end_date is None and rng.random() < 0.7:
            goal = goals.goal_set(
                enrolment=enrolment,
                text=rng.choice(
                    ["Arbeta deltid inom café eller kök", "Börja studera på Komvux", "Få en praktikplats inom odling"]
                ),
                by=mentor,
            )
            for text in rng.sample(sorted(MILESTONES), 2):
                goals.milestone_add(
                    goal=goal,
                    text=text,
                    area=MILESTONES[text],
                    target_date=DEMO_TODAY + timedelta(days=rng.randint(14, 120)),
                    by=mentor,
                )
            for what, who in STEPS:
                goals.action_step_add(
                    goal=goal, what=what, who=who, due_date=DEMO_TODAY + timedelta(days=21), by=mentor
                )
    return created


@transaction.atomic
def seed_journeys() -> int:
    """A story on the journey page: in each mentor's three longest open enrolments with a plan, a
    delmål was reached at the third reading, and the first of them changed mentor half-way (from a
    colleague who has left). Idempotent: an insats with a delmål reached is left alone."""
    told = 0
    for insats in Insats.objects.filter(memberships__role=Role.MENTOR).distinct():
        if Milestone.objects.filter(goal__enrolment__insats=insats, achieved_on__isnull=False).exists():
            continue
        enrolments = (
            Enrolment.objects.filter(insats=insats, end_date__isnull=True, goals__active=True)
            .exclude(goals__milestones__achieved_on__isnull=False)
            .order_by("start_date")[:3]
        )
        for number, enrolment in enumerate(enrolments):
            days = sorted(
                {timezone.localdate(at) for at in enrolment.assessment_sessions.values_list("occurred_at", flat=True)}
            )
            current = enrolment.mentor_assignments.filter(end_date__isnull=True).select_related("mentor").first()
            if len(days) < 4 or current is None:
                continue
            milestone = Milestone.objects.filter(goal__enrolment=enrolment, goal__active=True).order_by("id").first()
            if milestone is None:  # a målbild without delmål: no story to tell
                continue
            goals.milestone_set_status(milestone=milestone, status=MilestoneStatus.ACHIEVED, by=current.mentor)
            Milestone.objects.filter(pk=milestone.pk).update(achieved_on=days[2])  # reached back then
            if number == 0:
                former, _ = get_user_model().objects.get_or_create(
                    username=f"tidigare-handledare-{insats.code}",
                    defaults={"first_name": "Kim", "last_name": "Tidigare", "is_active": False},
                )
                handover = days[len(days) // 2]
                MentorAssignment.objects.create(
                    enrolment=enrolment, mentor=former, start_date=enrolment.start_date, end_date=handover
                )
                MentorAssignment.objects.filter(pk=current.pk).update(start_date=handover)
            told += 1
    return told


@transaction.atomic
def seed_surveys() -> int:
    """An ongoing-participant survey with answers for each per-person insats with a mentor."""
    version = instrument_version_current(code="nns-pagaende")
    if version is None:
        return 0
    rng = random.Random(99)
    created = 0
    for insats in Insats.objects.filter(measurement_mode=MeasurementMode.PER_PERSON, memberships__role=Role.MENTOR):
        if SurveyCampaign.objects.filter(insats=insats).exists():
            continue
        mentor_membership = insats.memberships.filter(role=Role.MENTOR).first()
        if mentor_membership is None:  # the loop goes over insatser with a mentor
            raise RuntimeError(f"Insats {insats.code} has no mentor")
        creator = mentor_membership.user
        campaign = survey_campaign_create(
            insats=insats,
            version=version,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 8, 31),
            number_asked=14,
            created_by=creator,
        )
        for _ in range(11):
            answers = {
                f"nns_{q}": rng.choices([6, 5, 4, 3, 2, 1], weights=[30, 30, 20, 10, 6, 4])[0]
                for q in (1, 2, 3, 5, 6, 7)
            }
            answers["nns_4"] = rng.choices([1, 0], weights=[9, 1])[0]
            survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers=answers)
            created += 1
        exit_survey = instrument_version_current(code="nns-avslut")
        if exit_survey is not None:  # open all year: the avslut page hands its link to the participant
            survey_campaign_create(
                insats=insats,
                version=exit_survey,
                period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31),
                number_asked=6,
                created_by=creator,
            )
    return created


def seed_progression() -> None:
    """Everything recomputed; the norm set is completed with the demo baselines (a new set only
    when a key gained a usable norm, so seeding again makes none)."""
    rebuild.progression_rebuild_inline(report=lambda message: None)


def seed_closed_period() -> list[str]:
    """Helår of the year before DEMO_TODAY closed in every förbund with a förbund-wide coordinator,
    as a coordinator closes it for the årsredovisning (idempotent: a closed year is left alone)."""
    from participants.models import Forbund, Membership
    from progression.models import ClosureStatus, PeriodClosure
    from progression.reports.periods import period_close

    year = DEMO_TODAY.year - 1
    closed = []
    for forbund in Forbund.objects.order_by("name"):
        coordinator = Membership.objects.filter(forbund=forbund, role=Role.COORDINATOR).select_related("user").first()
        already = PeriodClosure.objects.filter(
            forbund=forbund, date_from=date(year, 1, 1), status__in=[ClosureStatus.CLOSED, ClosureStatus.FREEZING]
        )
        if coordinator is None or already.exists():
            continue
        closed.append(period_close(by=coordinator.user, forbund=forbund, preset="helar", year=year).label)
    return closed


def _demo_plan_token(number: int) -> str:
    """The demo's Min plan token, derived from the secret key: the same address every time the demo is
    seeded (the token of a real link is random and shown once)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"stegvis-demo-min-plan:{number}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


@transaction.atomic
def seed_plan_link() -> tuple[str, str] | None:
    """One Min plan link in force for a demo participant with a plan, self-assessments and a delmål
    reached (the journey's story). Returns (pseudonym, path of the page) to print, or None. Idempotent:
    the link made before is kept; if it was revoked in the demo, the next demo token is used."""
    candidates = (
        Enrolment.objects.filter(
            participant__is_demo=True,
            end_date__isnull=True,
            goals__active=True,
            goals__milestones__achieved_on__isnull=False,
            assessment_sessions__perspective="self",
            mentor_assignments__end_date__isnull=True,
        )
        .select_related("participant", "insats")
        .order_by("start_date", "id")
        .distinct()
    )
    # Jonsbo's handledare is the one the README's demo logs in as.
    enrolment = candidates.filter(insats__code="jonsbo").first() or candidates.first()
    if enrolment is None:
        return None
    current = enrolment.mentor_assignments.filter(end_date__isnull=True).select_related("mentor").first()
    if current is None:  # the candidates have a current mentor (mentor_assignments__end_date__isnull)
        raise RuntimeError(f"Enrolment {enrolment.pk} has no current mentor")
    mentor = current.mentor
    for number in range(100):
        token = _demo_plan_token(number)
        link = plan.plan_link_by_token(token=token)
        if link is not None and link.revoked_at is not None:
            continue
        if link is None:
            if plan.plan_link_refusal(enrolment=enrolment):
                return None
            plan.plan_link_create(enrolment=enrolment, language="sv", by=mentor, token=token)
        return enrolment.participant.pseudonym, reverse("my_plan", args=[token])
    return None


# What two insatser wrote for the appendix of the demo year (Rapporter → Texter till bilagan).
REPORT_TEXTS = {
    "jonsbo": {
        "kontakt": "Verksamhetsledare Karin Lind, Jonsbo försteg, 013-20 00 00",
        "bakgrund": "Jonsbo är ett skogstorp där deltagare som står långt från arbete får pröva "
        "praktiskt arbete i egen takt: vedhantering, odling, djurskötsel och snickeri.",
        "mal": "Minst 40 % av dem som avslutar går till arbete, studier eller aktivt arbetssökande.",
        "syfte": "Att deltagarna ska hitta sin förmåga och ta nästa steg mot arbete eller studier.",
        "malgrupp": "Personer 18–64 år med försörjningsstöd, sjukpenning eller aktivitetsersättning som "
        "behöver samordnat stöd från flera myndigheter.",
        "maluppfyllelse": "Målet för avslut nåddes. Deltagarna skattar sig högre på fem av sex områden.",
        "ekonomiskt_utfall": "Insatsen höll budgeten på 1 200 000 kr.",
        "framtid": "Under 2027 vill vi ta emot fler unga vuxna och samarbeta närmare med Komvux.",
    },
    "drivbank-cafe": {
        "kontakt": "Arbetsledare Omar Haddad, Drivbänk café",
        "bakgrund": "Caféet drivs av deltagare med stöd av arbetsledare, i samma hus som handelsträdgården.",
        "syfte": "Att träna arbete i kassa, kök och servering i en riktig arbetsmiljö.",
        "framtid": "Caféet håller öppet även på helger från våren 2027.",
    },
}


@transaction.atomic
def seed_report_texts() -> int:
    """The demo year's appendix texts of two insatser (kept if a coordinator has edited them)."""
    created = 0
    for code, texts in REPORT_TEXTS.items():
        insats = Insats.objects.filter(code=code).first()
        if insats is None:
            continue
        _, new = ReportText.objects.get_or_create(
            insats=insats,
            period_start=date(DEMO_TODAY.year, 1, 1),
            period_end=date(DEMO_TODAY.year, 12, 31),
            defaults=texts,
        )
        created += new
    return created
