"""Hand-built person-level data for the report tests. Every date, kön, income source and exit
reason is chosen so that the expected tables can be written down by hand in the tests."""

import uuid
from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import make_password
from factory import Transformer

from participants.models import InsatsPeriod, MeasurementMode, Role
from participants.services import participant_create, volume_register
from progression.models import Classification
from surveys.satisfaction import survey_campaign_create, survey_response_submit
from tests.factories import InsatsFactory, register_identified, registry_world, synthetic_personnummer, user_with_role
from tests.reports.helpers import enrol, progression_row
from tests.surveys.factories import shipped_version

D = date
Force = Transformer.Force
JUNE = D(2025, 6, 1)


@pytest.fixture
def media(settings, tmp_path):
    """Export files go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(db):
    """registry_world() (sco: jonsbo, backaberg; svo: natursteget) plus a volume insats in sco."""
    w = registry_world()
    w.sip = InsatsFactory(code="sip-sco", name="SIP-samordning", forbund=w.sco, measurement_mode=MeasurementMode.VOLUME)
    w.coordinator_svo = user_with_role(
        Role.COORDINATOR, username="samordnare-svo", forbund=w.svo, password=Force(make_password(None))
    )
    return w


# Enrolments around the period 2025-01-01–2025-12-31 (the table in test_report_figures' docstring):
# key, person, insats, start, end, exit reason, income before (extent), income after (extent), education, years
# fmt: off
ENROLMENTS = [
    # started before the period, ended inside
    ("e1", "p1", "jonsbo", D(2024, 6, 1), D(2025, 3, 15), "arbete", ("forsorjningsstod", "1"), ("ingen_offentlig", "1"), "gymnasial", "2.5"),  # noqa: E501
    # started inside, still open
    ("e2", "p2", "jonsbo", D(2025, 2, 1), None, None, ("sjukpenning_rehab", "0.5"), None, "forgymnasial", "6.0"),
    # started before, ended after the period
    ("e3", "p3", "jonsbo", D(2024, 9, 1), D(2026, 2, 1), "studier", ("aktivitetsstod", "1"), ("studiemedel", "1"), "gymnasial", "0.5"),  # noqa: E501
    # ended exactly on the last day
    ("e4", "p4", "jonsbo", D(2025, 3, 1), D(2025, 12, 31), "fortsatt_rehab", ("sjukersattning", "0.25"), ("sjukersattning", "0.25"), "eftergymnasial_kort", "12.0"),  # noqa: E501
    # started exactly on the first day; kön annat; income before, education and years unknown
    ("e5", "p5", "jonsbo", D(2025, 1, 1), D(2025, 6, 30), "arbetssokande", None, ("a_kassa", "1"), None, None),
    # felregistrering: counts nowhere
    ("e6", "p6", "jonsbo", D(2025, 4, 1), D(2025, 4, 2), "felregistrering", ("forsorjningsstod", "1"), None, "gymnasial", "3.0"),  # noqa: E501
    # one person in two insatser of the förbund: two registrations, one unique person
    ("e7a", "p7", "jonsbo", D(2025, 5, 1), D(2025, 9, 30), "ohalsa", ("forsorjningsstod", "1"), ("sjukpenning_rehab", "0.5"), "gymnasial", "1.0"),  # noqa: E501
    ("e7b", "p7", "backaberg", D(2025, 10, 1), None, None, ("sjukpenning_rehab", "0.5"), None, "gymnasial", "1.5"),
    ("e9", "p8", "backaberg", D(2025, 8, 15), D(2025, 11, 30), "avbrott", ("forsorjningsstod", "1"), ("forsorjningsstod", "1"), "eftergymnasial_lang", "3.5"),  # noqa: E501
    # ended the day before the period starts; started the day after it ends
    ("e10", "p9", "backaberg", D(2023, 1, 10), D(2024, 12, 31), "arbete", ("a_kassa", "1"), ("ingen_offentlig", "1"), "gymnasial", "2.0"),  # noqa: E501
    ("e11", "p10", "backaberg", D(2026, 1, 1), None, None, ("forsorjningsstod", "1"), None, "gymnasial", "2.0"),
    ("e12", "p11", "jonsbo", D(2025, 7, 1), D(2025, 10, 15), "arbete_subventionerat", ("a_kassa", "1"), ("ingen_offentlig", "0.75"), "gymnasial", "4.0"),  # noqa: E501
    ("e13", "p12", "backaberg", D(2025, 2, 10), D(2025, 5, 20), "studier", ("aktivitetsersattning", "1"), ("studiemedel", "1"), "eftergymnasial_lang", "8.0"),  # noqa: E501
    # started before, ended exactly on the first day
    ("e14", "p13", "backaberg", D(2024, 11, 1), D(2025, 1, 1), "annat", ("forsorjningsstod", "1"), ("forsorjningsstod", "1"), "okand", "7.0"),  # noqa: E501
    ("e15", "p14", "jonsbo", D(2025, 1, 15), D(2025, 8, 1), "arbete", ("forsorjningsstod", "1"), ("ingen_offentlig", "1"), "gymnasial", "2.2"),  # noqa: E501
    ("e16", "p15", "jonsbo", D(2025, 4, 1), D(2025, 6, 1), "arbete", ("a_kassa", "1"), ("ingen_offentlig", "1"), "eftergymnasial_kort", "0.8"),  # noqa: E501
    ("e17", "p16", "jonsbo", D(2025, 9, 1), None, None, ("aktivitetsstod", "1"), None, "forgymnasial", "0.5"),
    # anonymous participants: only in the anonymous row (and a felregistrering that counts nowhere)
    ("ea1", "a1", "jonsbo", D(2025, 3, 1), None, None, ("forsorjningsstod", "1"), None, "gymnasial", "1.0"),
    ("ea2", "a2", "jonsbo", D(2024, 1, 1), D(2025, 2, 1), "flytt", ("forsorjningsstod", "1"), ("forsorjningsstod", "1"), None, None),  # noqa: E501
    ("ea3", "a3", "jonsbo", D(2025, 5, 1), D(2025, 5, 2), "felregistrering", None, None, None, None),
    # another förbund: never in sco's reports
    ("es", "p17", "natursteget", D(2025, 3, 1), None, None, ("forsorjningsstod", "1"), None, "gymnasial", "1.0"),
]
# fmt: on


@pytest.fixture
def figures(world):
    """The participants and ENROLMENTS above, with Jonsbo's targets for 2024 and 2025."""
    w = world
    sco = w.sco

    def identified(kon: str, birth: date, serial: str):  # noqa: ANN202
        return register_identified(
            forbund=sco, by=w.mentor_jonsbo, kon=kon, personnummer=synthetic_personnummer(birth, serial=serial)
        )

    def person(kon: str, birth_year: int, *, anonymous: bool = False, forbund=None):  # noqa: ANN001, ANN202
        return participant_create(forbund=forbund or sco, kon=kon, birth_year=birth_year, is_anonymous=anonymous)

    p = SimpleNamespace(
        p1=identified("kvinna", D(1990, 5, 12), "123"),
        p2=identified("man", D(1985, 3, 3), "456"),
        p3=person("kvinna", 2000),
        p4=person("man", 1970),
        p5=person("annat", 1995),
        p6=person("kvinna", 1980),
        p7=identified("man", D(1992, 11, 30), "789"),
        p8=person("kvinna", 1975),
        p9=person("kvinna", 1998),
        p10=person("man", 1988),
        p11=person("kvinna", 1990),
        p12=person("man", 1965),
        p13=person("kvinna", 1983),
        p14=person("kvinna", 1991),
        p15=person("man", 1987),
        p16=person("kvinna", 2007),
        a1=person("kvinna", 1990, anonymous=True),
        a2=person("man", 1980, anonymous=True),
        a3=person("man", 1980, anonymous=True),
        p17=person("kvinna", 1990, forbund=w.svo),
    )
    e = SimpleNamespace()
    for key, who, insats, start, end, reason, before, after, education, years in ENROLMENTS:
        setattr(
            e,
            key,
            enrol(
                getattr(p, who),
                getattr(w, insats),
                start,
                end=end,
                reason=reason,
                before=before[0] if before else None,
                before_extent=before[1] if before else "1",
                after=after[0] if after else None,
                after_extent=after[1] if after else None,
                education=education,
                years=years,
            ),
        )
    InsatsPeriod.objects.create(
        insats=w.jonsbo,
        period_start=D(2025, 1, 1),
        period_end=D(2025, 12, 31),
        target_work_or_studies_pct=75,
        target_further_rehab_pct=10,
    )
    InsatsPeriod.objects.create(
        insats=w.jonsbo,
        period_start=D(2024, 1, 1),
        period_end=D(2024, 12, 31),
        target_work_or_studies_pct=50,
        target_further_rehab_pct=50,
        target_survey_positive_pct=50,
        target_survey_contact_pct=50,
    )
    return SimpleNamespace(world=w, p=p, e=e)


# nns-pagaende answers of the eight responses in jonsbo's 2025 campaign (None = not answered)
SURVEY_ANSWERS = [
    {"nns_1": 6, "nns_2": 6, "nns_4": 1},
    {"nns_1": 5, "nns_2": 6, "nns_4": 1},
    {"nns_1": 4, "nns_2": 6, "nns_4": 1},
    {"nns_1": 3, "nns_2": 6, "nns_4": 1},
    {"nns_1": 1, "nns_2": 5, "nns_4": 1},
    {"nns_1": 6, "nns_2": 4, "nns_4": 1},
    {"nns_1": 6, "nns_2": 3, "nns_4": 0},
    {"nns_1": None, "nns_2": 2, "nns_4": None},
]


def survey_campaign(world, insats, answers, *, period_start, period_end, number_asked):
    """A satisfaction campaign with the given anonymous responses, submitted through the service."""
    campaign = survey_campaign_create(
        insats=insats,
        version=shipped_version("nns-pagaende"),
        period_start=period_start,
        period_end=period_end,
        number_asked=number_asked,
        created_by=world.coordinator_sco,
    )
    for answer in answers:
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers=answer)
    return campaign


@pytest.fixture
def survey_data(figures):
    w = figures.world
    current = survey_campaign(
        w, w.jonsbo, SURVEY_ANSWERS, period_start=D(2025, 1, 1), period_end=D(2025, 6, 30), number_asked=10
    )
    # a campaign of 2024 does not overlap the period
    survey_campaign(
        w,
        w.jonsbo,
        [{"nns_1": 1, "nns_2": 1}, {"nns_1": 1}],
        period_start=D(2024, 1, 1),
        period_end=D(2024, 12, 31),
        number_asked=5,
    )
    return current


@pytest.fixture
def progression_data(figures):
    """halsa: five self and two mentor progressions that count, and five that must not."""
    e = figures.e
    version = shipped_version("stegvis-progression")
    improved, unchanged, worse = Classification.IMPROVED, Classification.UNCHANGED, Classification.WORSE

    def row(enrolment, perspective, first, latest, classification, mid, *, latest_on=JUNE, **kw):
        return progression_row(
            enrolment,
            version,
            perspective=perspective,
            first=first,
            latest=latest,
            latest_on=latest_on,
            classification=classification,
            mid=mid,
            **kw,
        )

    row(e.e1, "self", 40, 60, improved, True)
    row(e.e2, "self", 50, 55, unchanged, False)
    row(e.e3, "self", 30, 70, improved, True, latest_on=D(2025, 12, 31))
    row(e.e12, "self", 60, 50, unchanged, False, latest_on=D(2025, 1, 1))
    row(e.e15, "self", 20, 50, improved, True)
    row(e.e1, "mentor", 50, 40, worse, False)
    row(e.e2, "mentor", 45, 65, improved, True)
    # not counted: one reading only; latest reading before / after the period; anonymous; felregistrering
    row(e.e16, "self", 50, 50, unchanged, None, n_readings=1)
    row(e.e14, "self", 40, 80, improved, True, latest_on=D(2024, 12, 31))
    row(e.e17, "self", 10, 90, improved, True, latest_on=D(2026, 1, 1))
    row(e.ea1, "self", 10, 90, improved, True)
    row(e.e6, "self", 10, 90, improved, True)
    return version


@pytest.fixture
def volume_data(world):
    w = world

    def register(start, end, category, count, kon=""):
        volume_register(
            insats=w.sip,
            period_start=start,
            period_end=end,
            category=category,
            count=count,
            kon=kon,
            registered_by=w.coordinator_sco,
        )

    register(D(2025, 1, 1), D(2025, 6, 30), "SIP-möten", 12, "kvinna")
    register(D(2025, 1, 1), D(2025, 6, 30), "SIP-möten", 8, "man")
    register(D(2025, 1, 1), D(2025, 6, 30), "SIP-möten", 3)
    register(D(2025, 7, 1), D(2025, 12, 31), "SIP-möten", 10, "kvinna")
    register(D(2025, 7, 1), D(2025, 12, 31), "SIP-möten", 7, "man")
    register(D(2025, 3, 1), D(2025, 3, 31), "Elever", 30)
    register(D(2024, 12, 1), D(2025, 1, 15), "Elever", 6, "man")
    register(D(2024, 1, 1), D(2024, 12, 31), "SIP-möten", 99, "kvinna")
    register(D(2026, 1, 1), D(2026, 3, 31), "Elever", 50, "man")


@pytest.fixture
def small_world(world):
    """Jonsbo 2025 with a small group: 3 women and 10 men, all started and ended in the period.

    women w1–w3 (born 1990): arbete, sjukpenning → ingen, gymnasial, 6.0 years
    men m1–m5 (born 1988):   arbete, försörjningsstöd → ingen, gymnasial, 6.0 years
    men m6–m10 (born 1980):  fortsatt_rehab, försörjningsstöd → a-kassa, eftergymnasial lång, 1.5 years
    A survey with 10 responses (3 positive on question 1, 8 on question 2), a progression with
    3 of 8 reliably improved, and SIP meetings with 3 women."""
    w = world
    groups = [
        # kön, born, how many, start, end, exit reason, before, after, education, years
        ("kvinna", 1990, 3, D(2025, 2, 1), D(2025, 10, 1), "arbete", "sjukpenning_rehab", "ingen_offentlig", "gymnasial", "6.0"),  # noqa: E501
        ("man", 1988, 5, D(2025, 2, 1), D(2025, 10, 1), "arbete", "forsorjningsstod", "ingen_offentlig", "gymnasial", "6.0"),  # noqa: E501
        ("man", 1980, 5, D(2025, 3, 1), D(2025, 11, 1), "fortsatt_rehab", "forsorjningsstod", "a_kassa", "eftergymnasial_lang", "1.5"),  # noqa: E501
    ]  # fmt: skip
    enrolments = [
        enrol(
            participant_create(forbund=w.sco, kon=kon, birth_year=born),
            w.jonsbo,
            start,
            end=end,
            reason=reason,
            before=before,
            after=after,
            education=education,
            years=years,
        )
        for kon, born, count, start, end, reason, before, after, education, years in groups
        for _ in range(count)
    ]
    negative = [3, 3, 2, 2, 1, 1, 3]
    answers = [{"nns_1": v, "nns_2": 6, "nns_3": 6, "nns_4": 1} for v in (6, 5, 4)]
    answers += [{"nns_1": v, "nns_2": 6 if i < 5 else 2, "nns_4": 1} for i, v in enumerate(negative)]
    answers[3]["nns_3"] = 6  # four answer question 3
    survey_campaign(w, w.jonsbo, answers, period_start=D(2025, 1, 1), period_end=D(2025, 12, 31), number_asked=12)
    version = shipped_version("stegvis-progression")
    for index, enrolment in enumerate(enrolments[:8]):  # the women and the younger men
        improved = index < 3
        progression_row(
            enrolment,
            version,
            perspective="self",
            first=40,
            latest=70 if improved else 45,
            latest_on=D(2025, 9, 1),
            classification=Classification.IMPROVED if improved else Classification.UNCHANGED,
            mid=improved,
        )
    for kon, count in (("kvinna", 3), ("man", 10)):
        volume_register(
            insats=w.sip,
            period_start=D(2025, 1, 1),
            period_end=D(2025, 12, 31),
            category="SIP-möten",
            count=count,
            kon=kon,
            registered_by=w.coordinator_sco,
        )
    volume_register(
        insats=w.sip,
        period_start=D(2025, 1, 1),
        period_end=D(2025, 12, 31),
        category="Elever",
        count=3,
        registered_by=w.coordinator_sco,
    )
    return w
