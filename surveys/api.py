"""REST endpoints for instruments (read) and assessment sessions (create idempotently, read)."""

from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import api_validation_error, error_responses
from participants import access
from participants.permissions import HasAnyRole
from participants.selectors import enrolment_list_for_user
from surveys.models import AssessmentSession, InstrumentVersion, VersionStatus
from surveys.selectors import (
    enrolment_for_reading,
    instrument_version_current,
    instrument_version_form,
    instrument_version_get,
    session_answers,
)
from surveys.serializers import (
    InstrumentFormQuerySerializer,
    InstrumentFormSerializer,
    InstrumentSummarySerializer,
    SessionFilterSerializer,
    SessionSerializer,
    SessionSubmitSerializer,
)
from surveys.sessions import session_submit


@extend_schema_view(
    get=extend_schema(
        operation_id="instrument_list", responses={200: InstrumentSummarySerializer(many=True), **error_responses(400)}
    )
)
class InstrumentListApi(generics.ListAPIView):
    """Published instruments, newest version of each, by instrument code."""

    permission_classes = [HasAnyRole]
    serializer_class = InstrumentSummarySerializer
    cursor_ordering = ("instrument_code",)

    def get_queryset(self) -> QuerySet[InstrumentVersion]:
        newest = (
            InstrumentVersion.objects.filter(instrument=OuterRef("instrument"), status=VersionStatus.PUBLISHED)
            .order_by("-number")
            .values("pk")[:1]
        )
        return (
            InstrumentVersion.objects.filter(pk=Subquery(newest))
            .select_related("instrument")
            .annotate(instrument_code=F("instrument__code"))
        )


class InstrumentFormApi(APIView):
    """The questions of an instrument's current version for one perspective and language."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="instrument_form",
        parameters=[InstrumentFormQuerySerializer],
        responses={200: InstrumentFormSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        version = instrument_version_current(code=code)
        if version is None:
            raise Http404
        query = InstrumentFormQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        form = instrument_version_form(version=version, **query.validated_data)
        return Response(InstrumentFormSerializer(form).data)


def _sessions_for(request: Request) -> QuerySet[AssessmentSession]:
    return (
        AssessmentSession.objects.filter(
            enrolment__in=enrolment_list_for_user(user=request.user, open_only=False), consent_withdrawn=False
        )
        .select_related("enrolment__participant", "version__instrument", "recorded_by")
        .prefetch_related("answers__item")
    )


class _SubmittedSessionSerializer(SessionSerializer):
    """SessionSerializer for a session whose answers the view already holds: nothing is read back."""

    def get_answers(self, session: AssessmentSession) -> dict[str, int | None]:
        return self.context["answers"]


@extend_schema_view(
    get=extend_schema(
        operation_id="session_list",
        parameters=[SessionFilterSerializer],
        responses={200: SessionSerializer(many=True), **error_responses(400)},
    ),
    post=extend_schema(
        operation_id="session_submit",
        request=SessionSubmitSerializer,
        responses={
            201: OpenApiResponse(SessionSerializer, description="Sparad"),
            200: OpenApiResponse(
                SessionSerializer, description="Id:t var redan inlämnat med samma svar: den sparade bedömningen"
            ),
            **error_responses(400, 404, 409),
        },
    ),
)
class SessionListCreateApi(generics.ListCreateAPIView):
    """List readings in scope, newest first (?enrolment=ID, ?perspective=), or submit one
    idempotently by client UUID: 201 when stored, 200 with the stored session when the UUID was
    already submitted."""

    permission_classes = [HasAnyRole]
    serializer_class = SessionSerializer
    cursor_ordering = ("-id",)

    def get_queryset(self) -> QuerySet[AssessmentSession]:
        query = SessionFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        sessions = _sessions_for(self.request)
        if "enrolment" in query.validated_data:
            sessions = sessions.filter(enrolment_id=query.validated_data["enrolment"])
        if "perspective" in query.validated_data:
            sessions = sessions.filter(perspective=query.validated_data["perspective"])
        return sessions

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        user = access.signed_in(request.user)  # HasAnyRole has let only signed-in users through
        data = SessionSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        enrolment = enrolment_for_reading(
            user=user,
            enrolment_id=values["enrolment"],
            instrument_code=values["instrument"],
            version_number=values.get("version"),
        )
        if enrolment is None:
            raise Http404("Inskrivningen finns inte eller ligger utanför din behörighet.")
        if enrolment.reading_version_id is None:
            raise serializers.ValidationError({"version": ["Okänt instrument eller okänd version."]})
        version = instrument_version_get(pk=enrolment.reading_version_id)
        try:
            session, created = session_submit(
                client_uuid=values["client_uuid"],
                enrolment=enrolment,
                version=version,
                perspective=values["perspective"],
                answers=values["answers"],
                recorded_by=user,
                language=values["language"],
                occurred_at=values.get("occurred_at"),
                draft=values["draft"],
            )
        except ValidationError as exc:
            raise api_validation_error(exc) from None
        if session.consent_withdrawn:
            raise Http404  # set aside when the participant withdrew consent: shown nowhere, as in the list
        # A new session holds exactly the answers sent; a known UUID holds what was stored then.
        answers = values["answers"] if created else session_answers(session=session)
        if not created and {code: value for code, value in answers.items() if value is not None} != dict(
            values["answers"]
        ):
            # The same id with other answers: the earlier send arrived and the answers were changed since.
            # Saying 200 would let the device drop the changes; 409 lets it keep them and ask.
            return Response(
                {
                    "detail": "Servern har redan tagit emot den här bedömningen med andra svar. Ändringarna är "
                    "inte sparade; skicka dem som en ny bedömning eller radera dem.",
                    "code": "conflict",
                    "client_uuid": str(session.client_uuid),
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            _SubmittedSessionSerializer(session, context={"answers": answers}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SessionDetailApi(APIView):
    """One reading with its answers."""

    permission_classes = [HasAnyRole]

    @extend_schema(operation_id="session_retrieve", responses={200: SessionSerializer, **error_responses(404)})
    def get(self, request: Request, client_uuid: str) -> Response:
        return Response(SessionSerializer(get_object_or_404(_sessions_for(request), client_uuid=client_uuid)).data)
