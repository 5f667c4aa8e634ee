"""Factories for synthetic test data. Never a real person's data."""

from datetime import date

import factory
from django.contrib.auth import get_user_model

from participants.models import (
    Enrolment,
    Forbund,
    Insats,
    InsatsCategory,
    Membership,
    MentorAssignment,
    Participant,
    Role,
)
from participants.services import pseudonym_generate

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


def user_with_role(role: str, *, insats: Insats | None = None, forbund: Forbund | None = None, **user_fields):
    """A user holding one role on one insats or förbund."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, role=role, insats=insats, forbund=forbund)
    return user
