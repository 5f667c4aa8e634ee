"""REST endpoints for scores, progression and goals, scoped like the pages."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import api_validation_error, error_responses
from config.requests import SignedInApiRequest
from participants import access
from participants.models import Enrolment
from participants.permissions import HasAnyRole
from participants.selectors import enrolment_list_for_user
from progression import goals, selectors
from progression.models import ActionPlanStep, DimensionScore, Goal, Milestone, Progression
from surveys.models import AssessmentSession

if TYPE_CHECKING:  # django-stubs-ext is installed for the type check only, not in production
    from django_stubs_ext import StrOrPromise


def _enrolment(request: Request, enrolment_id: int) -> Enrolment:
    enrolment = enrolment_list_for_user(user=request.user, open_only=False).filter(pk=enrolment_id).first()
    if enrolment is None:
        raise NotFound("Inskrivningen finns inte, eller så har du inte tillgång till den.")
    return enrolment


class ProgressionSerializer(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.code")

    class Meta:
        model = Progression
        fields = [
            "instrument",
            "dimension_code",
            "perspective",
            "n_readings",
            "first_score",
            "latest_score",
            "latest_on",
            "change",
            "baseline_sd",
            "reliability",
            "rci",
            "classification",
            "meets_mid",
            "algorithm_version",
        ]


class EnrolmentProgressionSerializer(serializers.Serializer):
    enrolment = serializers.IntegerField()
    progression = ProgressionSerializer(many=True, help_text="Per perspektiv och dimension")


class DimensionScoreSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(source="dimension.code")

    class Meta:
        model = DimensionScore
        fields = ["dimension", "score", "answered", "items", "algorithm_version"]


class SessionScoresSerializer(serializers.Serializer):
    session = serializers.UUIDField(source="client_uuid")
    scored = serializers.BooleanField(help_text="Falskt tills bakgrundsjobbet har räknat poängen")
    scores = DimensionScoreSerializer(many=True)


class EnrolmentProgressionApi(APIView):
    """Stegförflyttning per dimension and perspective for one enrolment."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="enrolment_progression",
        responses={200: EnrolmentProgressionSerializer, **error_responses(404)},
    )
    def get(self, request: Request, enrolment_id: int) -> Response:
        enrolment = _enrolment(request, enrolment_id)
        rows = selectors.progression_for_enrolment(enrolment=enrolment)
        return Response(EnrolmentProgressionSerializer({"enrolment": enrolment.pk, "progression": rows}).data)


class SessionScoresApi(APIView):
    """Dimension scores (0–100) of one reading."""

    permission_classes = [HasAnyRole]

    @extend_schema(operation_id="session_scores", responses={200: SessionScoresSerializer, **error_responses(404)})
    def get(self, request: Request, client_uuid: str) -> Response:
        session = get_object_or_404(
            AssessmentSession.objects.filter(
                enrolment__in=enrolment_list_for_user(user=request.user, open_only=False), consent_withdrawn=False
            ),
            client_uuid=client_uuid,
        )
        scores = DimensionScore.objects.filter(session=session).select_related("dimension").order_by("dimension__order")
        return Response(
            SessionScoresSerializer(
                {"client_uuid": session.client_uuid, "scored": hasattr(session, "scoring"), "scores": scores}
            ).data
        )


class GoalWriteSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, help_text="Ny målbild (ersätter den aktiva)")
    milestone = serializers.CharField(required=False, allow_blank=True, help_text="Nytt delmål")
    milestone_target_date = serializers.DateField(required=False, allow_null=True)
    step_what = serializers.CharField(required=False, allow_blank=True, help_text="Nytt steg i handlingsplanen")
    step_who = serializers.CharField(required=False, allow_blank=True, help_text="Krävs med step_what")
    step_due_date = serializers.DateField(required=False, allow_null=True)


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "text", "area", "status", "target_date", "achieved_on"]


class ActionPlanStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionPlanStep
        fields = ["id", "what", "who", "due_date", "done_on"]


class GoalSerializer(serializers.ModelSerializer):
    milestones = MilestoneSerializer(many=True, help_text="Delmål")
    steps = ActionPlanStepSerializer(many=True, help_text="Handlingsplanens steg")

    class Meta:
        model = Goal
        fields = ["text", "created_at", "milestones", "steps"]


class EnrolmentGoalsSerializer(serializers.Serializer):
    enrolment = serializers.IntegerField()
    goal = GoalSerializer(allow_null=True, help_text="Den aktiva målbilden; tom innan någon är satt")


@contextmanager
def _errors_named_as(fields: dict[str, str]) -> Iterator[None]:
    """A service's errors under the request's field names (the service's `who` is `step_who` here)."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError(
            {fields.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from None


class EnrolmentGoalsApi(APIView):
    """The active målbild with delmål and handlingsplan (GET); set the målbild and add a delmål or a
    step (POST, mentors and admins)."""

    permission_classes = [HasAnyRole]

    @extend_schema(operation_id="enrolment_goals", responses={200: EnrolmentGoalsSerializer, **error_responses(404)})
    def get(self, request: Request, enrolment_id: int) -> Response:
        return Response(self._payload(_enrolment(request, enrolment_id)))

    @extend_schema(
        operation_id="enrolment_goals_update",
        request=GoalWriteSerializer,
        responses={201: EnrolmentGoalsSerializer, **error_responses(400, 404)},
    )
    def post(self, request: SignedInApiRequest, enrolment_id: int) -> Response:
        enrolment = _enrolment(request, enrolment_id)
        access.require(
            access.enrolments_writable_by(request.user).filter(pk=enrolment.pk).exists(),
            "Du kan inte ändra planen här.",
        )
        data = GoalWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            # One request, one change: a refused step leaves no new målbild behind.
            with transaction.atomic():
                if values.get("text"):
                    goals.goal_set(enrolment=enrolment, text=values["text"], by=request.user)
                goal = selectors.goal_current(enrolment=enrolment)
                if values.get("milestone") or values.get("step_what"):
                    if goal is None:
                        raise ValidationError({"text": "Skriv en målbild först."})
                    if values.get("milestone"):
                        with _errors_named_as({"text": "milestone", "target_date": "milestone_target_date"}):
                            goals.milestone_add(
                                goal=goal,
                                text=values["milestone"],
                                target_date=values.get("milestone_target_date"),
                                by=request.user,
                            )
                    if values.get("step_what"):
                        with _errors_named_as({"what": "step_what", "who": "step_who", "due_date": "step_due_date"}):
                            goals.action_step_add(
                                goal=goal,
                                what=values["step_what"],
                                who=values.get("step_who", ""),
                                due_date=values.get("step_due_date"),
                                by=request.user,
                            )
        except ValidationError as exc:
            raise api_validation_error(exc) from None
        return Response(self._payload(enrolment), status=status.HTTP_201_CREATED)

    @staticmethod
    def _payload(enrolment: Enrolment) -> dict:
        goal = selectors.goal_current(enrolment=enrolment)
        return EnrolmentGoalsSerializer({"enrolment": enrolment.pk, "goal": goal}).data


# --- The målbildssamtal's plan, from the tablet's outbox -----------------------------------------


TEXT: "dict[str, StrOrPromise]" = {"invalid": "Ska vara text."}


class NewMilestoneSerializer(serializers.Serializer):
    default_error_messages = {"invalid": "Ska vara ett delmål med text, område och datum."}
    text = serializers.CharField(allow_blank=True, max_length=500, trim_whitespace=False, error_messages=TEXT)
    area = serializers.CharField(allow_blank=True, required=False, default="", help_text="Områdets kod, t.ex. halsa")
    target_date = serializers.DateField(required=False, allow_null=True, default=None)


class NewStepSerializer(serializers.Serializer):
    default_error_messages = {"invalid": "Ska vara ett steg med vad, vem och när."}
    what = serializers.CharField(allow_blank=True, max_length=500, trim_whitespace=False, error_messages=TEXT)
    who = serializers.CharField(allow_blank=True, max_length=200, trim_whitespace=False, error_messages=TEXT)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class ConversationSaveSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(
        help_text="Enhetens id för samtalet: samma id sparas bara en gång",
        error_messages={"invalid": "Samtalets id är inte ett giltigt UUID."},
    )
    occurred_at = serializers.DateTimeField(help_text="När samtalet hölls")
    goal = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=2000,
        help_text="Målbilden (tom: behåll den aktiva)",
        error_messages=TEXT,
    )
    # DRF hands max_length to the ListSerializer that many=True makes; the stubs' __init__ lacks it.
    milestones = NewMilestoneSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        default=list,
        max_length=20,
        error_messages={"not_a_list": "Delmålen ska vara en lista.", "max_length": "Högst 20 nya delmål i ett samtal."},
    )
    steps = NewStepSerializer(  # type: ignore[call-arg]  # max_length: as for milestones above
        many=True,
        required=False,
        default=list,
        max_length=20,
        error_messages={"not_a_list": "Stegen ska vara en lista.", "max_length": "Högst 20 nya steg i ett samtal."},
    )
    achieved = serializers.ListField(
        child=serializers.IntegerField(
            error_messages={"invalid": "Ett uppnått delmål anges med sitt id (ett heltal)."}
        ),
        required=False,
        default=list,
        help_text="Delmål som nåtts (id)",
        error_messages={"not_a_list": "De uppnådda delmålen ska vara en lista."},
    )


class ConversationSavedSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    enrolment = serializers.IntegerField()
    goal = GoalSerializer(allow_null=True)


ROW_NAMES = {"milestones": "Delmål", "steps": "Steg"}


def _rows_named(errors: dict) -> dict[str, list[str]]:
    """DRF's errors of the plan as lists of messages: a row's ({1: {"target_date": [...]}}, by row
    index) naming the row as the mentor sees it ("Delmål 2: …"); a list's own (not a list, too
    long) as they are."""
    named: dict[str, list[str]] = {}
    for field, value in errors.items():
        messages = named.setdefault(field, [])
        if isinstance(value, dict):
            for key, row in sorted(value.items(), key=lambda pair: str(pair[0])):
                if isinstance(row, dict) and isinstance(key, int):
                    label = ROW_NAMES.get(field, "Rad")
                    messages.extend(f"{label} {key + 1}: {m}" for texts in row.values() for m in texts)
                else:
                    messages.extend(str(m) for m in (row if isinstance(row, list) else [row]))
        else:
            messages.extend(str(m) for m in (value if isinstance(value, list) else [value]))
    return named


class ConversationSaveApi(APIView):
    """Save the plan agreed in a målbildssamtal (målbild, delmål tied to an area, delmål reached,
    handlingsplan) in one request. Sent by the tablet's outbox: a resend of the same client_uuid
    changes nothing and answers as the first time."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="conversation_save",
        request=ConversationSaveSerializer,
        responses={201: ConversationSavedSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request: SignedInApiRequest, enrolment_id: int) -> Response:
        enrolment = _enrolment(request, enrolment_id)
        access.require(
            access.enrolments_writable_by(request.user).filter(pk=enrolment.pk).exists(),
            "Du kan inte ändra planen här.",
        )
        data = ConversationSaveSerializer(data=request.data)
        if not data.is_valid():
            raise serializers.ValidationError(_rows_named(data.errors))
        values = data.validated_data
        try:
            saved = goals.conversation_save(
                enrolment=enrolment,
                client_uuid=values["client_uuid"],
                occurred_at=values["occurred_at"],
                by=request.user,
                goal_text=values["goal"],
                milestones=[goals.NewMilestone(**row) for row in values["milestones"]],
                steps=[goals.NewStep(**row) for row in values["steps"]],
                achieved=values["achieved"],
            )
        except ValidationError as exc:
            raise api_validation_error(exc) from None
        goal = selectors.goal_current(enrolment=enrolment)
        return Response(
            ConversationSavedSerializer(
                {"client_uuid": saved.client_uuid, "enrolment": enrolment.pk, "goal": goal}
            ).data,
            status=status.HTTP_201_CREATED,
        )
