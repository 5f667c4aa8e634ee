from django.http import Http404
from django.utils import timezone
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from participants.models import Role
from participants.selectors import user_roles
from progression.reports.filters import FilterError, parse_filter
from progression.reports.registry import REPORTS, build_report


class IsReportReader(BasePermission):
    message = "Rapporter är till för samordnare och administratörer."

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(user_roles(user=request.user) & {Role.COORDINATOR, Role.ADMIN})


class ReportApi(APIView):
    """A report's figures as JSON. ?forbund=&insats=&from=&to=&period=&ar=&kon=&aldersgrupp=&per_kon=1;
    ?extern=1 hides small cells (<5) as for any output that leaves the organisation."""

    permission_classes = [IsReportReader]

    def get(self, request: Request, name: str) -> Response:
        if name not in REPORTS:
            raise Http404
        try:
            filters = parse_filter(
                user=request.user, params=request.query_params, default_year=timezone.localdate().year
            )
        except FilterError as exc:
            raise serializers.ValidationError(exc.errors) from None
        report = build_report(name, filters=filters, external=request.query_params.get("extern") == "1")
        return Response(report.as_json())
