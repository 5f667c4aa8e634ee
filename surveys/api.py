"""REST endpoints for instruments (read) and assessment sessions (create idempotently, read)."""

from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from participants.models import Role
from participants.permissions import HasAnyRole
from participants.selectors import enrolment_list_for_user, insats_list_for_user
from surveys.models import LANGUAGES, AssessmentSession, InstrumentVersion, Perspective, VersionStatus
from surveys.selectors import instrument_version_current, instrument_version_form
from surveys.serializers import InstrumentSummarySerializer, SessionSerializer, SessionSubmitSerializer
from surveys.sessions import session_submit


class InstrumentListApi(generics.ListAPIView):
    """Published instruments, newest version of each."""

    permission_classes = [HasAnyRole]
    serializer_class = InstrumentSummarySerializer

    def get_queryset(self) -> QuerySet[InstrumentVersion]:
        newest = (
            InstrumentVersion.objects.filter(instrument=OuterRef("instrument"), status=VersionStatus.PUBLISHED)
            .order_by("-number")
            .values("pk")[:1]
        )
        return (
            InstrumentVersion.objects.filter(pk=Subquery(newest))
            .select_related("instrument")
            .order_by("instrument__code")
        )


class InstrumentFormApi(APIView):
    """The questions of an instrument's current version for one perspective and language."""

    permission_classes = [HasAnyRole]

    def get(self, request: Request, code: str) -> Response:
        version = instrument_version_current(code=code)
        if version is None:
            raise Http404
        perspective = request.query_params.get("perspective", Perspective.SELF)
        language = request.query_params.get("language", "sv")
        if perspective not in Perspective.values or language not in LANGUAGES:
            raise serializers.ValidationError({"perspective": ["Okänt perspektiv eller språk."]})
        form = instrument_version_form(version=version, perspective=perspective, language=language)
        return Response(
            {
                **InstrumentSummarySerializer(version).data,
                "perspective": perspective,
                "language": language,
                "dimensions": [asdict(dimension) for dimension in form.dimensions],
            }
        )


def _sessions_for(request: Request) -> QuerySet[AssessmentSession]:
    return (
        AssessmentSession.objects.filter(
            enrolment__in=enrolment_list_for_user(user=request.user, open_only=False), consent_withdrawn=False
        )
        .select_related("enrolment__participant", "version__instrument", "recorded_by")
        .prefetch_related("answers__item")
    )


class SessionListCreateApi(APIView):
    """List readings in scope (filter ?enrolment=ID), or submit one idempotently by client UUID:
    201 when stored, 200 with the stored session when the UUID was already submitted."""

    permission_classes = [HasAnyRole]

    def get(self, request: Request) -> Response:
        sessions = _sessions_for(request).order_by("-occurred_at", "-id")
        if enrolment := request.query_params.get("enrolment"):
            if not enrolment.isdigit():
                raise serializers.ValidationError({"enrolment": ["Ange inskrivningens id som ett heltal."]})
            sessions = sessions.filter(enrolment_id=int(enrolment))
        paginator = generics.GenericAPIView.pagination_class()
        page = paginator.paginate_queryset(sessions, request, view=self)
        return paginator.get_paginated_response(SessionSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = SessionSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        writable = insats_list_for_user(user=request.user, roles=[Role.MENTOR, Role.ADMIN])
        enrolment = (
            enrolment_list_for_user(user=request.user, open_only=False)
            .filter(pk=values["enrolment"], insats__in=writable)
            .first()
        )
        if enrolment is None:
            raise Http404("Inskrivningen finns inte eller ligger utanför din behörighet.")
        version = (
            InstrumentVersion.objects.filter(instrument__code=values["instrument"], number=values["version"]).first()
            if "version" in values
            else instrument_version_current(code=values["instrument"])
        )
        if version is None:
            raise serializers.ValidationError({"version": ["Okänt instrument eller okänd version."]})
        try:
            session, created = session_submit(
                client_uuid=values["client_uuid"],
                enrolment=enrolment,
                version=version,
                perspective=values["perspective"],
                answers=values["answers"],
                recorded_by=request.user,
                language=values["language"],
                occurred_at=values.get("occurred_at"),
                draft=values["draft"],
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        session = _sessions_for(request).get(pk=session.pk)
        return Response(
            SessionSerializer(session).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class SessionDetailApi(APIView):
    permission_classes = [HasAnyRole]

    def get(self, request: Request, client_uuid: str) -> Response:
        return Response(SessionSerializer(get_object_or_404(_sessions_for(request), client_uuid=client_uuid)).data)
