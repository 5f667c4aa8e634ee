from collections.abc import Sequence

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import error_responses
from participants.permissions import MayReadReports
from progression.reports.filters import AGE_BANDS, KON_VALUES, PRESETS, FilterError, parse_filter
from progression.reports.registry import REPORTS, report_export


def _query(
    name: str,
    kind: OpenApiTypes,
    description: str,
    *,
    enum: Sequence[str | int] | None = None,
    many: bool | None = None,
) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, enum=enum, many=many)


REPORT_PARAMETERS = [
    OpenApiParameter(
        "name", str, OpenApiParameter.PATH, enum=list(REPORTS), description="Rapporten, som i docs/reports.md"
    ),
    _query("forbund", OpenApiTypes.STR, "Förbundets kod; utelämnat = ditt förbund (det första, om du har flera)"),
    _query("insats", OpenApiTypes.STR, "Insatsens kod; upprepa för flera. Utelämnat = alla i förbundet", many=True),
    _query("from", OpenApiTypes.DATE, "Periodens första dag; utelämnat = 1 januari i år"),
    _query("to", OpenApiTypes.DATE, "Periodens sista dag; utelämnat = 31 december i år"),
    _query("period", OpenApiTypes.STR, "Fördefinierad period; ersätter from och to", enum=[p for p, _ in PRESETS]),
    _query("ar", OpenApiTypes.INT, "Året för period; utelämnat = i år"),
    _query("kon", OpenApiTypes.STR, "Bara ett kön", enum=list(KON_VALUES)),
    _query("aldersgrupp", OpenApiTypes.STR, "Bara en åldersgrupp", enum=list(AGE_BANDS)),
    _query("per_kon", OpenApiTypes.INT, "1: dela upp siffrorna per kön", enum=[0, 1]),
    _query("extern", OpenApiTypes.INT, "1: skyddade tal (cell-key), som allt som lämnar organisationen", enum=[0, 1]),
]


class ReportApi(APIView):
    """A report's figures as JSON. ?forbund=&insats=&from=&to=&period=&ar=&kon=&aldersgrupp=&per_kon=1;
    ?extern=1 protects every figure (the cell-key method) as for any output that leaves the organisation."""

    permission_classes = [MayReadReports]

    @extend_schema(
        operation_id="report_retrieve",
        parameters=REPORT_PARAMETERS,
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="report, title, filters och protected, och därtill rapportens egna siffror "
                "(docs/reports.md beskriver varje rapports form)",
            ),
            **error_responses(400, 404),
        },
    )
    def get(self, request: Request, name: str) -> Response:
        if name not in REPORTS:
            raise Http404
        try:
            filters = parse_filter(
                user=request.user, params=request.query_params, default_year=timezone.localdate().year
            )
        except FilterError as exc:
            raise serializers.ValidationError({field: [message] for field, message in exc.errors.items()}) from None
        # Figures fetched by another system leave Stegvis like a CSV export: in the förbund's log.
        report = report_export(name, user=request.user, filters=filters, channel=f"{name} via API")
        return Response(report.as_json())
