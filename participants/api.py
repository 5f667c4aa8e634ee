from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from config.api import error_responses
from participants import access
from participants.models import Enrolment, Insats
from participants.permissions import HasAnyRole
from participants.selectors import enrolment_list_for_user
from participants.serializers import EnrolmentFilterSerializer, EnrolmentSerializer, InsatsSerializer


@extend_schema_view(
    get=extend_schema(operation_id="insats_list", responses={200: InsatsSerializer(many=True), **error_responses(400)})
)
class InsatsListApi(generics.ListAPIView):
    """Insatser in scope, by code."""

    serializer_class = InsatsSerializer
    permission_classes = [HasAnyRole]
    cursor_ordering = ("code",)

    def get_queryset(self) -> QuerySet[Insats]:
        return access.insatser_readable_by(self.request.user).select_related("forbund")


@extend_schema_view(
    get=extend_schema(operation_id="insats_retrieve", responses={200: InsatsSerializer, **error_responses(404)})
)
class InsatsDetailApi(generics.RetrieveAPIView):
    serializer_class = InsatsSerializer
    permission_classes = [HasAnyRole]
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Insats]:
        return access.insatser_readable_by(self.request.user).select_related("forbund")


@extend_schema_view(
    get=extend_schema(
        operation_id="insats_enrolment_list",
        parameters=[EnrolmentFilterSerializer],
        responses={200: EnrolmentSerializer(many=True), **error_responses(400, 404)},
    )
)
class InsatsEnrolmentListApi(generics.ListAPIView):
    """An insats's enrolments, current and closed (?open=1 or ?open=0 to choose), oldest first."""

    serializer_class = EnrolmentSerializer
    permission_classes = [HasAnyRole]
    cursor_ordering = ("id",)

    def get_queryset(self) -> QuerySet[Enrolment]:
        insats = get_object_or_404(access.insatser_readable_by(self.request.user), code=self.kwargs["code"])
        query = EnrolmentFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        is_open = query.validated_data["open"]
        enrolments = enrolment_list_for_user(user=self.request.user, insats=insats, open_only=bool(is_open))
        if is_open is False:
            enrolments = enrolments.filter(end_date__isnull=False)
        return enrolments.select_related("income_before", "income_after", "education").prefetch_related(
            "mentor_assignments__mentor"
        )
