"""Factories for synthetic test data. Never a real person's data."""

from datetime import date
from types import SimpleNamespace

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from participants.models import (
    EducationLevel,
    Enrolment,
    ExitReason,
    Forbund,
    IncomeSource,
    Insats,
    InsatsCategory,
    Membership,
    MentorAssignment,
    Participant,
    Role,
)
from participants.personnummer import luhn_check_digit
from participants.services import participant_register, pseudonym_generate

TEST_PASSWORD = "test-lösenord-1234"


class ForbundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forbund
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"forbund{n}")
    name = factory.Sequence(lambda n: f"Testförbundet {n}")
    pseudonym_prefix = "TST"


class InsatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insats
        django_get_or_create = ("code",)

    forbund = factory.SubFactory(ForbundFactory)
    code = factory.Sequence(lambda n: f"insats{n}")
    name = factory.Sequence(lambda n: f"Testinsats {n}")
    category = InsatsCategory.FORBEREDANDE
    capacity = 20


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(TEST_PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.MENTOR


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    forbund = factory.SubFactory(ForbundFactory)
    pseudonym = factory.LazyAttribute(lambda o: pseudonym_generate(forbund=o.forbund))
    kon = "kvinna"
    birth_year = 1990


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment
        skip_postgeneration_save = True

    insats = factory.SubFactory(InsatsFactory)
    participant = factory.SubFactory(ParticipantFactory, forbund=factory.SelfAttribute("..insats.forbund"))
    start_date = date(2026, 3, 1)

    @factory.post_generation
    def mentor(self, create, mentor, **kwargs):  # noqa: ANN001
        """EnrolmentFactory(mentor=user) assigns the mentor from the start date."""
        if create and mentor is not None:
            MentorAssignment.objects.create(enrolment=self, mentor=mentor, start_date=self.start_date)


def operator():  # noqa: ANN201
    """The service's operator (a superuser): the actor when a test sets data up outside the rule it tests."""
    return UserFactory(username="operator", is_superuser=True, password=factory.Transformer.Force(make_password(None)))


def user_with_role(
    role: str,
    *,
    insats: Insats | None = None,
    forbund: Forbund | None = None,
    can_read_identity: bool = False,
    **user_fields,
):
    """A user holding one role on one insats or förbund."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, role=role, insats=insats, forbund=forbund, can_read_identity=can_read_identity)
    return user


# --- Registry helpers: synthetic personnummer, seeded code lists, identified participants ---------


def synthetic_personnummer(
    birth: date, serial: str = "238", *, samordningsnummer: bool = False, separator: str = "-", digits: int = 12
) -> str:
    """A synthetic, Luhn-valid personnummer (or samordningsnummer: day + 60) for a birth date.

    `serial` is the three birth digits before the check digit; `digits` is 10 or 12.
    """
    day = birth.day + (60 if samordningsnummer else 0)
    yymmdd = f"{birth.year % 100:02d}{birth.month:02d}{day:02d}"
    check = luhn_check_digit(yymmdd + serial)
    date_part = f"{birth.year // 100:02d}{yymmdd}" if digits == 12 else yymmdd
    return f"{date_part}{separator}{serial}{check}"


def personnummer_forms(personnummer: str) -> list[str]:
    """Every plaintext form a personnummer could be written in: 12 and 10 digits, with and without '-'."""
    digits = "".join(ch for ch in personnummer if ch.isdigit())
    twelve = digits if len(digits) == 12 else None
    ten = digits[-10:]
    forms = [ten, f"{ten[:6]}-{ten[6:]}", f"{ten[:6]}+{ten[6:]}"]
    if twelve:
        forms += [twelve, f"{twelve[:8]}-{twelve[8:]}"]
    return forms


def income_source(code: str = "forsorjningsstod") -> IncomeSource:
    """A seeded försörjningskälla (participants/migrations/0002_seed_code_lists.py)."""
    return IncomeSource.objects.get(code=code)


def exit_reason(code: str = "arbete") -> ExitReason:
    """A seeded avslutsanledning."""
    return ExitReason.objects.get(code=code)


def education_level(code: str = "gymnasial") -> EducationLevel:
    """A seeded utbildningsnivå."""
    return EducationLevel.objects.get(code=code)


def register_identified(
    *,
    forbund: Forbund,
    by,  # noqa: ANN001
    personnummer: str,
    name: str = "Testa Testsson",
    contact: str = "",
    kon: str = "kvinna",
    **kwargs,
) -> Participant:
    """Register an identified participant through the service, with written consent."""
    return participant_register(
        forbund=forbund,
        registered_by=by,
        kon=kon,
        personnummer=personnummer,
        name=name,
        contact=contact,
        consent_channel=kwargs.pop("consent_channel", "written"),
        consent_text_version=kwargs.pop("consent_text_version", "test-1"),
        **kwargs,
    )


def registry_world() -> SimpleNamespace:
    """Two förbund, three insatser and one user per role, named as in the demo organisations.

    sco: Jonsbo (mentor_jonsbo), Backaberg (mentor_backaberg); coordinator_sco, admin_sco (with
    identity access, as a förbund's admin who answers registerutdrag has).
    svo: Natursteget (mentor_natursteget).
    The users have unusable passwords (log them in with force_login): hashing five argon2
    passwords per test would dominate the run time.
    """

    def user(role: str, username: str, **scope: Insats | Forbund | bool):  # noqa: ANN202
        return user_with_role(role, username=username, password=factory.Transformer.Force(make_password(None)), **scope)

    sco = ForbundFactory(code="sco", name="Centrala Östergötland", pseudonym_prefix="SCÖ")
    svo = ForbundFactory(code="svo", name="Västra Östergötland", pseudonym_prefix="SVÖ")
    jonsbo = InsatsFactory(code="jonsbo", name="Jonsbo försteg", forbund=sco)
    backaberg = InsatsFactory(code="backaberg", name="Backaberg", forbund=sco)
    natursteget = InsatsFactory(code="natursteget", name="Natursteget", forbund=svo)
    return SimpleNamespace(
        sco=sco,
        svo=svo,
        jonsbo=jonsbo,
        backaberg=backaberg,
        natursteget=natursteget,
        mentor_jonsbo=user(Role.MENTOR, "mentor-jonsbo", insats=jonsbo),
        mentor_backaberg=user(Role.MENTOR, "mentor-backaberg", insats=backaberg),
        mentor_natursteget=user(Role.MENTOR, "mentor-natursteget", insats=natursteget),
        coordinator_sco=user(Role.COORDINATOR, "samordnare-sco", forbund=sco),
        admin_sco=user(Role.ADMIN, "admin-sco", forbund=sco, can_read_identity=True),
    )


def register_form_data(insats: Insats, mentor, **overrides) -> dict[str, str]:  # noqa: ANN001
    """Every field of the register page (participants/forms.py ParticipantRegisterForm), filled in."""
    data = {
        "anonymous": "0",
        "personnummer": synthetic_personnummer(date(1988, 9, 17), serial="624"),
        "name": "Siv Exempelsdotter",
        "contact": "070-000 12 34",
        "kon": "kvinna",
        "birth_year": "",
        "consent_channel": "written",
        "consent_progression": "on",
        "consent_research": "on",
        "insats": insats.code,
        "start_date": timezone.localdate().isoformat(),
        "mentor": str(mentor.pk),
        "income_before": "forsorjningsstod",
        "income_before_extent": "0.75",
        "education": "gymnasial",
        "years_in_public_support": "4.5",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def upload_import(client, capture, content: bytes, *, forbund: str = "sco", name: str = "fil.csv"):  # noqa: ANN001, ANN201
    """Upload a file on the import page, let its check run (the task, eagerly, when the request's
    transaction commits: capture is pytest-django's django_capture_on_commit_callbacks) and open the
    page it leads to: the job's page with what the check found, or the upload page with its errors."""
    with capture(execute=True):
        response = client.post(
            reverse("import_page"), {"forbund": forbund, "file": SimpleUploadedFile(name, content, "text/csv")}
        )
    return client.get(response.url) if response.status_code == 302 else response


def confirm_import(client, capture, job_page):  # noqa: ANN001, ANN201
    """Press Importera on a checked job's page, let the import run, and open the job's page again."""
    url = job_page.wsgi_request.path
    with capture(execute=True):
        response = client.post(url, {"action": "import"})
    assert response.status_code == 302, response.status_code
    return client.get(url)
