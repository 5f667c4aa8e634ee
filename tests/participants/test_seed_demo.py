import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from participants.models import Enrolment, Forbund, Insats, Membership, MentorAssignment, Participant
from progression.models import Milestone
from surveys.models import SurveyCampaign

pytestmark = pytest.mark.django_db


def _counts():
    models = (Forbund, Insats, Membership, Participant, Enrolment, MentorAssignment, Milestone, SurveyCampaign)
    return [m.objects.count() for m in models] + [Milestone.objects.filter(achieved_on__isnull=False).count()]


def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    call_command("seed_demo", password="demo-lösen-1")
    first = _counts()
    call_command("seed_demo", password="demo-lösen-2")
    output = capsys.readouterr().out
    assert _counts() == first
    assert first[:2] == [3, 18]
    assert first[-1] > 0, "the demo journeys have delmål reached"
    assert "handledare-sco" in output and "demo-lösen-2" in output
    assert get_user_model().objects.get(username="handledare-sco").check_password("demo-lösen-2")


def test_demo_mentor_has_a_caseload_of_about_ten_in_jonsbo():
    call_command("seed_demo", password="demo-lösen-1")
    caseload = Enrolment.objects.filter(
        mentor_assignments__mentor__username="handledare-sco", mentor_assignments__end_date__isnull=True
    )
    assert 5 <= caseload.count() <= 12
    assert set(caseload.values_list("insats__code", flat=True)) == {"jonsbo"}
    assert not Participant.objects.filter(pseudonym__regex=r"\d{6}").exists()
