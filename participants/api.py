from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics

from participants.models import Enrolment, Insats
from participants.permissions import HasAnyRole
from participants.selectors import enrolment_list_for_user, insats_list_for_user
from participants.serializers import EnrolmentSerializer, InsatsSerializer


class InsatsListApi(generics.ListAPIView):
    serializer_class = InsatsSerializer
    permission_classes = [HasAnyRole]

    def get_queryset(self) -> QuerySet[Insats]:
        return insats_list_for_user(user=self.request.user).order_by("code")


class InsatsDetailApi(generics.RetrieveAPIView):
    serializer_class = InsatsSerializer
    permission_classes = [HasAnyRole]
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Insats]:
        return insats_list_for_user(user=self.request.user)


class InsatsEnrolmentListApi(generics.ListAPIView):
    serializer_class = EnrolmentSerializer
    permission_classes = [HasAnyRole]

    def get_queryset(self) -> QuerySet[Enrolment]:
        insats = get_object_or_404(insats_list_for_user(user=self.request.user), code=self.kwargs["code"])
        return enrolment_list_for_user(user=self.request.user, insats=insats, open_only=False).prefetch_related(
            "mentor_assignments__mentor"
        )
