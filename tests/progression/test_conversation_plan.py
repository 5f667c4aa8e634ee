"""The målbildssamtal's server side (#19): the plan saved in one idempotent write, Mina deltagare
(who is due, search, open delmål), the journey told on the ladder, and the avslut's two steps."""

import json
import uuid
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from participants.models import AccessAction, AccessEvent, MentorAssignment, Role
from participants.services import enrolment_create
from progression import goals
from progression.models import ActionPlanStep, Goal, Milestone, MilestoneStatus, PlanEvent, SavedConversation
from surveys.satisfaction import survey_campaign_create
from surveys.sessions import session_submit
from tests.factories import register_identified, synthetic_personnummer, user_with_role
from tests.surveys.factories import measured_enrolment, progression_consent, shipped_version, valid_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    version = shipped_version()
    ns = measured_enrolment()
    ns.version = version
    return ns


def _save(world, **plan):
    values = {
        "enrolment": world.enrolment,
        "client_uuid": uuid.uuid4(),
        "occurred_at": timezone.now(),
        "by": world.mentor,
        "goal_text": "",
        "milestones": [],
        "steps": [],
        "achieved": [],
    }
    return goals.conversation_save(**{**values, **plan})


def _reading(world, perspective: str, days_ago: int, **answers):
    session, _ = session_submit(
        client_uuid=uuid.uuid4(),
        enrolment=world.enrolment,
        version=world.version,
        perspective=perspective,
        answers=valid_answers(world.version, perspective, **answers),
        recorded_by=world.mentor,
        occurred_at=timezone.localtime() - timedelta(days=days_ago),
    )
    return session


# --- The plan in one write -------------------------------------------------------------------------


def test_a_conversation_saves_the_whole_plan_at_once(world):
    due = timezone.localdate() + timedelta(days=42)
    _save(
        world,
        goal_text="Arbeta deltid i caféet",
        milestones=[goals.NewMilestone("Komma i tid tre dagar i veckan", "vardag", due)],
        steps=[goals.NewStep("Ställa väckarklockan", "Deltagaren", None)],
    )

    goal = Goal.objects.get(enrolment=world.enrolment, active=True)
    assert goal.text == "Arbeta deltid i caféet"
    assert list(goal.milestones.values_list("text", "area", "target_date")) == [
        ("Komma i tid tre dagar i veckan", "vardag", due)
    ]
    assert list(goal.steps.values_list("what", "who")) == [("Ställa väckarklockan", "Deltagaren")]
    events = list(PlanEvent.objects.filter(goal=goal).values_list("description", flat=True))
    assert "Nytt delmål (Vardag): Komma i tid tre dagar i veckan" in events


def test_the_same_conversation_sent_twice_is_saved_once(world):
    client_uuid = uuid.uuid4()
    plan = {
        "client_uuid": client_uuid,
        "goal_text": "Studera på Komvux",
        "milestones": [goals.NewMilestone("Besöka studievägledaren", "jobbsokande")],
    }
    first = _save(world, **plan)
    again = _save(world, **plan)

    assert first.pk == again.pk
    assert Milestone.objects.filter(goal__enrolment=world.enrolment).count() == 1
    assert SavedConversation.objects.count() == 1


def test_an_empty_malbild_keeps_the_current_one_and_reached_delmal_get_todays_date(world):
    goal = goals.goal_set(enrolment=world.enrolment, text="Arbeta halvtid", by=world.mentor)
    reached = goals.milestone_add(goal=goal, text="Prova praktik", target_date=None, by=world.mentor)

    _save(world, achieved=[reached.pk], milestones=[goals.NewMilestone("Söka tre jobb", "jobbsokande")])

    assert Goal.objects.get(enrolment=world.enrolment, active=True).pk == goal.pk
    reached.refresh_from_db()
    assert (reached.status, reached.achieved_on) == (MilestoneStatus.ACHIEVED, timezone.localdate())


def test_a_plan_with_problems_names_every_row_in_words_and_stores_nothing(world):
    other = measured_enrolment()
    foreign = goals.milestone_add(
        goal=goals.goal_set(enrolment=other.enrolment, text="Annan plan", by=other.mentor),
        text="Inte din",
        target_date=None,
        by=other.mentor,
    )
    with pytest.raises(ValidationError) as refused:
        _save(
            world,
            milestones=[
                goals.NewMilestone("Komma i tid", "vardag"),
                goals.NewMilestone("  ", "ekonomi", timezone.localdate() - timedelta(days=1)),
            ],
            steps=[goals.NewStep("Ringa", "  ")],
            achieved=[foreign.pk],
        )

    errors = refused.value.message_dict
    assert errors["goal"] == ["Skriv målbilden: deltagaren har ingen ännu."]
    assert errors["milestones"][0] == "Delmål 2: skriv vad delmålet är."
    assert errors["milestones"][1] == "Delmål 2: området 'ekonomi' finns inte."
    assert errors["milestones"][2].startswith("Delmål 2: Klart senast")
    assert errors["steps"] == ["Steg 1 i handlingsplanen: välj vem som gör det."]
    assert errors["achieved"] == ["Ett delmål som markerades uppnått finns inte längre i planen."]
    assert not Goal.objects.filter(enrolment=world.enrolment).exists()
    assert not SavedConversation.objects.exists()


def test_the_api_answers_the_outbox_with_its_uuid_and_names_rows_in_its_errors(client, world):
    client.force_login(world.mentor)
    url = reverse("api_conversation_save", args=[world.enrolment.pk])
    body = {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": timezone.now().isoformat(),
        "goal": "Arbeta deltid",
        "milestones": [{"text": "Komma i tid", "area": "vardag", "target_date": "inte ett datum"}],
    }
    refused = client.post(url, json.dumps(body), content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["milestones"][0].startswith("Delmål 1: ")

    body["milestones"][0]["target_date"] = None
    saved = client.post(url, json.dumps(body), content_type="application/json")
    resent = client.post(url, json.dumps(body), content_type="application/json")
    assert saved.status_code == resent.status_code == 201
    assert saved.json()["client_uuid"] == resent.json()["client_uuid"] == body["client_uuid"]
    assert Milestone.objects.filter(goal__enrolment=world.enrolment).count() == 1


def test_only_those_who_may_change_the_plan_can_save_it(client, world):
    other_mentor = user_with_role(Role.MENTOR, insats=measured_enrolment().insats)
    coordinator = user_with_role(Role.COORDINATOR, forbund=world.forbund)
    url = reverse("api_conversation_save", args=[world.enrolment.pk])
    body = json.dumps({"client_uuid": str(uuid.uuid4()), "occurred_at": timezone.now().isoformat(), "goal": "X"})
    for user, refused in ((other_mentor, 404), (coordinator, 403)):
        client.force_login(user)
        assert client.post(url, body, content_type="application/json").status_code == refused
    assert not Goal.objects.exists()


# --- Mina deltagare --------------------------------------------------------------------------------


def _caseload_world():
    """One mentor, three participants: one never measured, one measured 50 days ago, one 10 days ago;
    the insats measures every 6 weeks."""
    world = measured_enrolment()
    world.version = shipped_version()
    world.enrolments = {"due_now": world.enrolment}
    for name, days_ago, serial in (("overdue", 50, "201"), ("recent", 10, "202")):
        participant = register_identified(
            forbund=world.forbund,
            by=world.mentor,
            personnummer=synthetic_personnummer(date(1988, 3, 9), serial=serial),
        )
        progression_consent(participant, by=world.mentor, granted=True)
        enrolment = enrolment_create(
            by=world.mentor,
            participant=participant,
            insats=world.insats,
            start_date=timezone.localdate() - timedelta(days=90),
            mentor=world.mentor,
        )
        world.enrolments[name] = enrolment
        world.enrolment = enrolment
        _reading(world, "mentor", days_ago)
    world.enrolment = world.enrolments["due_now"]
    return world


def test_the_caseload_puts_whoever_is_due_first_with_last_reading_and_open_delmal(client):
    world = _caseload_world()
    goal = goals.goal_set(enrolment=world.enrolments["recent"], text="Mål", by=world.mentor)
    for text in ("Ett", "Två"):
        goals.milestone_add(goal=goal, text=text, target_date=None, by=world.mentor)
    reached = goals.milestone_add(goal=goal, text="Tre", target_date=None, by=world.mentor)
    goals.milestone_set_status(milestone=reached, status=MilestoneStatus.ACHIEVED, by=world.mentor)
    client.force_login(world.mentor)

    rows = client.get(reverse("mentor_home")).context["rows"]

    today = timezone.localdate()
    assert [row.enrolment.pk for row in rows] == [
        world.enrolments[name].pk for name in ("due_now", "overdue", "recent")
    ]
    due_now, overdue, recent = rows
    assert (overdue.last_reading, overdue.next_due) == (today - timedelta(days=50), today - timedelta(days=8))
    assert due_now.last_reading is None and due_now.next_due == world.enrolments["due_now"].start_date
    assert recent.next_due == today + timedelta(days=32) and recent.open_milestones == 2

    world.insats.reading_interval_weeks = 10
    world.insats.save()
    rows = client.get(reverse("mentor_home")).context["rows"]
    assert rows[-1].next_due == today + timedelta(days=60), "the rhythm is the insats' own"


def test_the_caseload_finds_a_pseudonym_and_a_personnummer_and_logs_the_personnummer_hit(client):
    world = _caseload_world()
    recent = world.enrolments["recent"].participant
    client.force_login(world.mentor)

    by_pseudonym = client.get(reverse("mentor_home"), {"q": recent.pseudonym[-4:].lower()}).context["rows"]
    assert [row.enrolment.participant for row in by_pseudonym] == [recent]
    assert not AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT).exists()

    personnummer = synthetic_personnummer(date(1988, 3, 9), serial="202")
    by_number = client.post(reverse("mentor_home"), {"q": personnummer})
    assert [row.enrolment.participant for row in by_number.context["rows"]] == [recent]
    assert personnummer not in by_number.text
    hit = AccessEvent.objects.get(action=AccessAction.SEARCH_HIT)
    assert (hit.user, hit.participant, hit.reason) == (world.mentor, recent, "Sökning i Mina deltagare")

    nobody = client.post(reverse("mentor_home"), {"q": synthetic_personnummer(date(1970, 1, 1), serial="999")})
    assert nobody.context["rows"] == [] and "Ingen av dina deltagare har det personnumret." in nobody.text


def test_a_personnummer_of_someone_outside_the_caseload_finds_nobody(client):
    world = _caseload_world()
    stranger_world = measured_enrolment(forbund=world.forbund)
    stranger = register_identified(
        forbund=world.forbund,
        by=stranger_world.mentor,
        personnummer=synthetic_personnummer(date(1975, 5, 5), serial="303"),
    )
    client.force_login(world.mentor)
    response = client.post(reverse("mentor_home"), {"q": synthetic_personnummer(date(1975, 5, 5), serial="303")})
    assert response.context["rows"] == []
    assert stranger.pseudonym not in response.text


def test_a_badly_written_personnummer_is_refused_with_a_message(client):
    world = _caseload_world()
    client.force_login(world.mentor)
    response = client.post(reverse("mentor_home"), {"q": "19880309-2021"})  # wrong check digit
    assert response.status_code == 200
    assert response.context["search_error"]
    assert response.context["rows"] == []


# --- The journey and the conversation screen on the ladder ----------------------------------------


def test_the_journey_tells_the_story_on_the_ladder_with_area_names(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the readings are scored, as in production
        _reading(world, "self", 40)
        _reading(world, "self", 2)
    goal = goals.goal_set(enrolment=world.enrolment, text="Arbeta", by=world.mentor)
    milestone = goals.milestone_add(goal=goal, text="Prova praktik", target_date=None, by=world.mentor, area="vardag")
    goals.milestone_set_status(milestone=milestone, status=MilestoneStatus.ACHIEVED, by=world.mentor)
    client.force_login(world.mentor)

    page = client.get(reverse("journey", args=[world.enrolment.pk]))

    text = page.text
    assert 'class="chart timeline"' in text
    assert "Delmål uppnått: Prova praktik" in text
    assert "Hälsa" in text and ">halsa<" not in text
    assert 'Prova praktik <span class="meta">Vardag</span>' in text, "the delmål's area by its name"
    moves = {move["code"]: move for move in page.context["moves"]}
    assert set(moves["halsa"]["self"]) >= {"first", "latest", "first_stage", "latest_stage"}
    assert 1 <= moves["halsa"]["self"]["latest"] <= 10, "the ladder, not the 0–100 score"


def test_the_conversation_screen_compares_areas_on_the_ladder_and_offers_a_delmal_per_area(client, world):
    _reading(world, "self", 0)
    _reading(world, "mentor", 0)
    goal = goals.goal_set(enrolment=world.enrolment, text="Arbeta", by=world.mentor)
    goals.milestone_add(goal=goal, text="Prova praktik", target_date=None, by=world.mentor, area="vardag")
    goals.milestone_add(goal=goal, text="Ringa AF", target_date=date(2027, 1, 15), by=world.mentor)
    client.force_login(world.mentor)

    page = client.get(reverse("conversation_compare", args=[world.enrolment.pk]))

    assert '<span>Prova praktik <span class="meta">Vardag</span></span>' in page.text, "an open delmål, by area"
    assert '<span>Ringa AF <span class="meta">klart senast 2027-01-15</span></span>' in page.text, "no area: no label"
    areas = page.context["areas"]
    assert [area["label"] for area in areas][:2] == ["Hälsa", "Vardag"]
    assert all(1 <= area["self"] <= 10 and area["self_stage"] for area in areas)
    assert page.text.count("data-add-milestone=") == len(areas) + 1  # each area, and one without
    assert f'data-save-url="{reverse("api_conversation_save", args=[world.enrolment.pk])}"' in page.text
    assert f'data-rhythm-days="{world.insats.reading_interval_weeks * 7}"' in page.text


# --- Avslut ----------------------------------------------------------------------------------------


def test_avslut_asks_for_a_final_reading_and_the_exit_survey_then_confirms(client, world):
    _reading(world, "mentor", 30)
    campaign = survey_campaign_create(
        insats=world.insats,
        version=shipped_version("nns-avslut"),
        period_start=timezone.localdate() - timedelta(days=10),
        period_end=timezone.localdate() + timedelta(days=10),
        number_asked=5,
        created_by=world.mentor,
    )
    client.force_login(world.mentor)
    url = reverse("enrolment_close", args=[world.participant.pseudonym, world.enrolment.pk])

    form = client.get(url).text
    assert "Gör en slutmätning" in form and reverse("conversation_hub", args=[world.enrolment.pk]) in form
    assert reverse("public_survey", args=[campaign.token]) in form

    data = {
        "end_date": timezone.localdate().isoformat(),
        "exit_reason": "arbete",
        "income_after": "ingen_offentlig",
        "income_after_extent": "1.00",
    }
    confirmation = client.post(url, data)
    assert "Bekräfta avslutet" in confirmation.text and "Ja, avsluta inskrivningen" in confirmation.text
    world.enrolment.refresh_from_db()
    assert world.enrolment.end_date is None

    back = client.post(url, {**data, "change": "1"})
    assert "Gå vidare" in back.text and "Bekräfta avslutet" not in back.text

    closed = client.post(url, {**data, "confirm": "1"})
    assert closed.status_code == 302
    world.enrolment.refresh_from_db()
    assert world.enrolment.end_date == timezone.localdate()
    assert world.enrolment.income_after.code == "ingen_offentlig"


def test_avslut_refuses_a_missing_income_source_before_the_confirmation(client, world):
    client.force_login(world.mentor)
    url = reverse("enrolment_close", args=[world.participant.pseudonym, world.enrolment.pk])
    response = client.post(
        url, {"end_date": timezone.localdate().isoformat(), "exit_reason": "arbete", "income_after_extent": "1.00"}
    )
    assert "Ange försörjningskälla efter insatsen." in response.text
    assert "Bekräfta avslutet" not in response.text


def test_a_step_of_the_plan_needs_who(world):
    with pytest.raises(ValidationError):
        _save(world, goal_text="Mål", steps=[goals.NewStep("Ringa", "")])
    assert not ActionPlanStep.objects.exists()


# --- What the outside review tried -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "field", "message"),
    [
        ({"milestones": "hej"}, "milestones", "Delmålen ska vara en lista."),
        ({"steps": "x"}, "steps", "Stegen ska vara en lista."),
        ({"milestones": [{"text": f"D{n}"} for n in range(21)]}, "milestones", "Högst 20 nya delmål i ett samtal."),
        ({"achieved": ["abc"]}, "achieved", "Ett uppnått delmål anges med sitt id (ett heltal)."),
        ({"client_uuid": "inte-ett-id"}, "client_uuid", "Samtalets id är inte ett giltigt UUID."),
    ],
)
def test_a_malformed_plan_is_refused_in_swedish_never_a_500(client, world, plan, field, message):
    client.force_login(world.mentor)
    body = {"client_uuid": str(uuid.uuid4()), "occurred_at": timezone.now().isoformat(), "goal": "Mål", **plan}
    response = client.post(
        reverse("api_conversation_save", args=[world.enrolment.pk]), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Goal.objects.exists()


def test_someone_elses_enrolment_is_not_found_in_swedish(client, world):
    client.force_login(user_with_role(Role.MENTOR, insats=measured_enrolment().insats))
    response = client.post(
        reverse("api_conversation_save", args=[world.enrolment.pk]), "{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "Inskrivningen finns inte, eller så har du inte tillgång till den."


def test_a_step_dated_before_the_conversation_is_refused_and_a_delmal_reached_twice_is_no_error(world):
    with pytest.raises(ValidationError) as refused:
        _save(world, goal_text="Mål", steps=[goals.NewStep("Ringa", "Deltagaren", date(2001, 1, 1))])
    assert refused.value.message_dict["steps"] == ["Steg 1 i handlingsplanen: När (2001-01-01) ligger före samtalet."]
    goal = goals.goal_set(enrolment=world.enrolment, text="Mål", by=world.mentor)
    reached = goals.milestone_add(goal=goal, text="Praktik", target_date=None, by=world.mentor)
    _save(world, achieved=[reached.pk])
    _save(world, achieved=[reached.pk])  # a second plan of the same conversation ticks it again
    reached.refresh_from_db()
    assert reached.status == MilestoneStatus.ACHIEVED


def test_participants_without_a_mentor_are_listed_among_the_others(client):
    world = _caseload_world()
    unassigned = measured_enrolment(forbund=world.forbund)
    unassigned.enrolment.insats = world.insats
    unassigned.enrolment.save()
    MentorAssignment.objects.filter(enrolment=unassigned.enrolment).delete()
    client.force_login(world.mentor)
    page = client.get(reverse("mentor_home"))
    assert unassigned.enrolment in list(page.context["other_enrolments"])


def test_a_personnummer_search_is_posted_finds_only_the_caseload_and_logs_only_what_it_shows(client):
    world = _caseload_world()
    stranger_world = measured_enrolment(forbund=world.forbund)
    register_identified(
        forbund=world.forbund,
        by=stranger_world.mentor,
        personnummer=synthetic_personnummer(date(1975, 5, 5), serial="303"),
    )
    client.force_login(world.mentor)
    own = synthetic_personnummer(date(1988, 3, 9), serial="202").replace("-", "–")  # an en dash, as typed
    found = client.post(reverse("mentor_home"), {"q": own})
    assert [row.enrolment for row in found.context["rows"]] == [world.enrolments["recent"]]
    assert own not in found.text

    outside = client.post(reverse("mentor_home"), {"q": synthetic_personnummer(date(1975, 5, 5), serial="303")})
    assert outside.context["rows"] == []
    assert AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT).count() == 1, "only the hit it showed"

    typo = client.post(reverse("mentor_home"), {"q": "19880309-202"})
    assert typo.context["search_error"] and "19880309-202" not in typo.text
    assert "Du har inga deltagare ännu" not in typo.text


def test_a_participant_without_consent_is_listed_last_without_a_conversation(client):
    world = _caseload_world()
    progression_consent(world.enrolments["due_now"].participant, by=world.mentor, granted=False)
    client.force_login(world.mentor)
    rows = client.get(reverse("mentor_home")).context["rows"]
    assert rows[-1].enrolment == world.enrolments["due_now"] and not rows[-1].consented
    page = client.get(reverse("mentor_home")).text
    assert reverse("conversation_hub", args=[world.enrolments["due_now"].pk]) not in page


def test_avslut_of_an_enrolment_closed_meanwhile_says_so(client, world):
    client.force_login(world.mentor)
    url = reverse("enrolment_close", args=[world.participant.pseudonym, world.enrolment.pk])
    data = {
        "end_date": timezone.localdate().isoformat(),
        "exit_reason": "arbete",
        "income_after": "ingen_offentlig",
        "income_after_extent": "1.00",
        "confirm": "1",
    }
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True)  # the second tap of a double tap
    assert again.redirect_chain[-1][0] == reverse("participant_detail", args=[world.participant.pseudonym])
    assert "är avslutad" in again.text


def test_a_conversation_dated_outside_the_enrolment_is_refused(world):
    for held in (timezone.now() - timedelta(days=400), timezone.now() + timedelta(days=3)):
        with pytest.raises(ValidationError) as refused:
            _save(world, occurred_at=held, goal_text="Mål")
        assert "ligger utanför inskrivningen" in refused.value.message_dict["occurred_at"][0]
    assert not Goal.objects.exists()


def test_a_personnummer_in_the_address_is_not_looked_up(client):
    world = _caseload_world()
    client.force_login(world.mentor)
    personnummer = synthetic_personnummer(date(1988, 3, 9), serial="202")
    page = client.get(reverse("mentor_home"), {"q": personnummer})
    assert page.context["rows"] == [] and page.context["search_error"]
    assert not AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT).exists()
    assert personnummer not in page.text


def test_plan_fields_of_the_wrong_type_are_refused_in_swedish(client, world):
    client.force_login(world.mentor)
    body = {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": timezone.now().isoformat(),
        "goal": ["a"],
        "steps": ["inte ett steg"],
    }
    response = client.post(
        reverse("api_conversation_save", args=[world.enrolment.pk]), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["goal"] == ["Ska vara text."]
    assert response.json()["steps"] == ["Steg 1: Ska vara ett steg med vad, vem och när."]
