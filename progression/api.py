"""REST endpoints for scores, progression and goals, scoped like the pages."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from participants.models import Enrolment, Role
from participants.permissions import HasAnyRole
from participants.selectors import enrolment_list_for_user, insats_list_for_user
from progression import goals, selectors
from progression.models import DimensionScore, Progression
from surveys.models import AssessmentSession


def _enrolment(request: Request, enrolment_id: int) -> Enrolment:
    return get_object_or_404(enrolment_list_for_user(user=request.user, open_only=False), pk=enrolment_id)


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


class EnrolmentProgressionApi(APIView):
    """Stegförflyttning per dimension and perspective for one enrolment."""

    permission_classes = [HasAnyRole]

    def get(self, request: Request, enrolment_id: int) -> Response:
        enrolment = _enrolment(request, enrolment_id)
        rows = selectors.progression_for_enrolment(enrolment=enrolment)
        return Response({"enrolment": enrolment.pk, "progression": ProgressionSerializer(rows, many=True).data})


class SessionScoresApi(APIView):
    """Dimension scores (0–100) of one reading."""

    permission_classes = [HasAnyRole]

    def get(self, request: Request, client_uuid: str) -> Response:
        session = get_object_or_404(
            AssessmentSession.objects.filter(
                enrolment__in=enrolment_list_for_user(user=request.user, open_only=False), consent_withdrawn=False
            ),
            client_uuid=client_uuid,
        )
        scores = DimensionScore.objects.filter(session=session).select_related("dimension").order_by("dimension__order")
        return Response(
            {
                "session": str(session.client_uuid),
                "scored": hasattr(session, "scoring"),
                "scores": [
                    {
                        "dimension": s.dimension.code,
                        "score": s.score,
                        "answered": s.answered,
                        "items": s.items,
                        "algorithm_version": s.algorithm_version,
                    }
                    for s in scores
                ],
            }
        )


class GoalWriteSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True)
    milestone = serializers.CharField(required=False, allow_blank=True)
    milestone_target_date = serializers.DateField(required=False, allow_null=True)
    step_what = serializers.CharField(required=False, allow_blank=True)
    step_who = serializers.CharField(required=False, allow_blank=True)
    step_due_date = serializers.DateField(required=False, allow_null=True)


class EnrolmentGoalsApi(APIView):
    """The active målbild with delmål and handlingsplan (GET); set the målbild and add a delmål or a
    step (POST, mentors and admins)."""

    permission_classes = [HasAnyRole]

    def get(self, request: Request, enrolment_id: int) -> Response:
        return Response(self._payload(_enrolment(request, enrolment_id)))

    def post(self, request: Request, enrolment_id: int) -> Response:
        enrolment = _enrolment(request, enrolment_id)
        if (
            not insats_list_for_user(user=request.user, roles=[Role.MENTOR, Role.ADMIN])
            .filter(pk=enrolment.insats_id)
            .exists()
        ):
            return Response({"detail": "Du kan inte ändra planen här."}, status=status.HTTP_403_FORBIDDEN)
        data = GoalWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            if values.get("text"):
                goals.goal_set(enrolment=enrolment, text=values["text"], by=request.user)
            goal = selectors.goal_current(enrolment=enrolment)
            if (values.get("milestone") or values.get("step_what")) and goal is None:
                raise ValidationError({"text": "Skriv en målbild först."})
            if values.get("milestone"):
                goals.milestone_add(
                    goal=goal,
                    text=values["milestone"],
                    target_date=values.get("milestone_target_date"),
                    by=request.user,
                )
            if values.get("step_what"):
                goals.action_step_add(
                    goal=goal,
                    what=values["step_what"],
                    who=values.get("step_who", ""),
                    due_date=values.get("step_due_date"),
                    by=request.user,
                )
        except ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None
        return Response(self._payload(enrolment), status=status.HTTP_201_CREATED)

    @staticmethod
    def _payload(enrolment: Enrolment) -> dict:
        goal = selectors.goal_current(enrolment=enrolment)
        if goal is None:
            return {"enrolment": enrolment.pk, "goal": None}
        return {
            "enrolment": enrolment.pk,
            "goal": {
                "text": goal.text,
                "created_at": goal.created_at,
                "milestones": [
                    {
                        "id": m.pk,
                        "text": m.text,
                        "status": m.status,
                        "target_date": m.target_date,
                        "achieved_on": m.achieved_on,
                    }
                    for m in goal.milestones.all()
                ],
                "steps": [
                    {"id": s.pk, "what": s.what, "who": s.who, "due_date": s.due_date, "done_on": s.done_on}
                    for s in goal.steps.all()
                ],
            },
        }
