"""Coordinator pages: dashboard, each report with filters and charts, exports with a progress bar,
the PDF report pack and its texts. Numbers come only from registry.build_report."""

from dataclasses import replace
from typing import TypedDict

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from config.requests import SignedInRequest
from participants import access
from participants.access import Page
from participants.models import AccessAction, Forbund
from participants.permissions import page_access
from participants.services import access_event_log
from progression.forms import ReportTextForm
from progression.models import ClosureStatus, ExportJob, ExportStatus, PeriodClosure, ReportText
from progression.reports import rendering
from progression.reports.base import Context
from progression.reports.definitions import improvement_trend
from progression.reports.filters import (
    PRESETS,
    FilterError,
    insatser_for_reports,
    on_publication_grid,
    parse_filter,
)
from progression.reports.jobs import (
    PACK,
    export_job_create,
    export_job_download,
    export_job_file_name,
    export_job_state_text,
    export_job_title,
)
from progression.reports.periods import ClosureError, period_close, period_reopen
from progression.reports.registry import REPORTS, attachment_header, build_report, export_file_name, report_export
from surveys.selectors import area_labels


def _filters(request: HttpRequest, *, default_external: bool = False):  # noqa: ANN202
    return parse_filter(
        user=request.user,
        params=request.GET,
        default_year=timezone.localdate().year,
        default_external=default_external,
    )


def _filter_context(request: HttpRequest, filters) -> dict:  # noqa: ANN001
    insatser = insatser_for_reports(user=request.user).select_related("forbund").order_by("forbund__name", "name")
    return {
        "all_insatser": insatser,
        "presets": PRESETS,
        "filters": filters,
        "reports": REPORTS.items(),
        "query": request.GET.urlencode(),
        "years": range(timezone.localdate().year, timezone.localdate().year - 6, -1),
    }


@page_access(Page.REPORTS)
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        filters = _filters(request)
    except FilterError as exc:
        return render(request, "progression/report_error.html", {"errors": exc.errors}, status=400)
    asked_external = filters.external
    filters = replace(filters, external=False)  # the dashboard is internal, and says so
    flow = build_report("participant-flow", filters=filters)
    exits = build_report("exits", filters=filters)
    # Participants with two self-assessments per insats and year, for every insats at once.
    trends = improvement_trend(Context(filters=filters, external=False))
    per_insats = []
    for insats in filters.insatser:
        one = type(filters)(
            forbund=filters.forbund, insatser=(insats,), date_from=filters.date_from, date_to=filters.date_to
        )
        row_flow = build_report("participant-flow", filters=one).data
        per_insats.append({"insats": insats, "flow": row_flow, "trend": trends.get(insats.pk, [])})
    return render(
        request,
        "progression/dashboard.html",
        {
            **_filter_context(request, filters),
            "flow": flow.data,
            "exits": exits.data,
            "empty_message": flow.empty_message,
            "asked_external": asked_external,
            "per_insats": per_insats,
            "flow_chart": rendering.chart_figure(flow.charts[0], external=flow.external) if flow.charts else "",
        },
    )


@page_access(Page.REPORTS)
def report_page(request: HttpRequest, name: str) -> HttpResponse:
    if name not in REPORTS:
        raise Http404(gettext("Rapporten finns inte."))
    try:
        filters = _filters(request)
    except FilterError as exc:
        return render(request, "progression/report_error.html", {"errors": exc.errors}, status=400)
    external = filters.external
    report = build_report(name, filters=filters)
    return render(
        request,
        "progression/report.html",
        {
            **_filter_context(request, filters),
            "report": report,
            "name": name,
            "external": external,
            "on_grid": on_publication_grid(filters),
            "charts": [rendering.chart_figure(c, external=report.external) for c in report.charts],
        },
    )


@page_access(Page.REPORTS)
def report_csv(request: HttpRequest, name: str) -> HttpResponse | StreamingHttpResponse:
    """A report as CSV, streamed; protected figures unless the coordinator asks for internal ones."""
    if name not in REPORTS:
        raise Http404
    try:
        filters = _filters(request, default_external=True)
    except FilterError as exc:  # a link someone clicked: a page that names the problem
        return render(request, "progression/report_error.html", {"errors": exc.errors}, status=400)
    report = report_export(name, user=request.user, filters=filters, channel=f"{name}.csv")
    response = StreamingHttpResponse(rendering.csv_text(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment_header(export_file_name(name, filters, "csv"))
    return response


@page_access(Page.REPORTS)
@require_POST
def export_start(request: SignedInRequest, name: str) -> HttpResponse:
    file_format = request.POST.get("format", "xlsx")
    if (name != PACK and name not in REPORTS) or file_format not in ("csv", "xlsx", "pdf"):
        raise Http404
    try:
        filters = parse_filter(
            user=request.user, params=request.POST, default_year=timezone.localdate().year, default_external=True
        )
    except FilterError as exc:
        return render(request, "progression/report_error.html", {"errors": exc.errors}, status=400)
    job = export_job_create(
        user=request.user,
        kind=name,
        file_format=file_format,
        params=filters.as_params(),
        external=filters.external,
    )
    return redirect("export_status", job_id=job.pk)


def _own_job(request: HttpRequest, job_id: int) -> ExportJob:
    job = get_object_or_404(ExportJob, pk=job_id)
    if not access.can_download_export(
        request.user,
        owner_id=job.user_id,
        forbund_code=job.params.get("forbund", ""),
        insats_codes=job.params.get("insats", []),
    ):
        raise Http404(gettext("Exporten finns inte eller ligger utanför din behörighet."))
    return job


@page_access(Page.REPORTS)
def export_status(request: SignedInRequest, job_id: int) -> HttpResponse:
    job = _own_job(request, job_id)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(
            {
                "status": job.status,
                "progress": job.progress,
                "error": job.error,
                "text": export_job_state_text(job),
                "download_url": reverse("export_download", args=[job.pk]) if job.status == ExportStatus.DONE else None,
            }
        )
    heading, selection = export_job_title(job=job, user=request.user)
    return render(
        request,
        "progression/export_status.html",
        {"job": job, "heading": heading, "selection": selection, "state": export_job_state_text(job)},
    )


@page_access(Page.REPORTS)
def export_download(request: SignedInRequest, job_id: int) -> FileResponse:
    job = _own_job(request, job_id)
    if job.status != ExportStatus.DONE:
        raise Http404(gettext("Filen är inte klar."))
    path = export_job_download(job=job, user=request.user)
    if not path.exists():
        raise Http404(gettext("Filen har tagits bort. Gör en ny export."))
    response = FileResponse(path.open("rb"), as_attachment=True)
    response["Content-Disposition"] = attachment_header(export_job_file_name(job=job, user=request.user))
    return response


@page_access(Page.REPORTS)
def report_texts(request: HttpRequest) -> HttpResponse:
    """Edit the written sections of the annual-report appendix for one insats and period."""
    try:
        filters = _filters(request)
    except FilterError as exc:
        return render(request, "progression/report_error.html", {"errors": exc.errors}, status=400)
    if len(filters.insatser) != 1:
        return render(request, "progression/report_texts.html", {**_filter_context(request, filters), "form": None})
    insats = filters.insatser[0]
    text, _ = ReportText.objects.get_or_create(
        insats=insats, period_start=filters.date_from, period_end=filters.date_to
    )
    form = ReportTextForm(request.POST or None, instance=text)
    if request.method == "POST":
        if not insatser_for_reports(user=request.user).filter(pk=insats.pk).exists():
            raise PermissionDenied
        if form.is_valid():
            saved = form.save(commit=False)
            saved.updated_by = request.user
            saved.save()
            messages.success(request, gettext("Texterna är sparade."))
            return redirect(f"{reverse('report_texts')}?{request.GET.urlencode()}")
    return render(
        request,
        "progression/report_texts.html",
        {**_filter_context(request, filters), "form": form, "insats": insats, "name": "texter"},
    )


ANALYSIS_UNUSED_FILTERS = {
    "insats": gettext_lazy("insats"),
    "kon": gettext_lazy("kön"),
    "aldersgrupp": gettext_lazy("åldersgrupp"),
    "from": gettext_lazy("period"),
    "to": gettext_lazy("period"),
    "period": gettext_lazy("period"),
}


@page_access(Page.REPORTS)
def analysis_export(request: SignedInRequest) -> HttpResponse:
    """Pseudonymised analysis dataset for evaluators (docs/analysis-export.md)."""
    from progression import analysis

    # The whole förbund and every year (analysis.export_scope): only the förbund is read.
    scope = {"forbund": request.GET.get("forbund", "")}
    try:
        filters = parse_filter(user=request.user, params=scope, default_year=timezone.localdate().year)
    except FilterError as exc:
        return render(request, "progression/report_error.html", {"errors": exc.errors}, status=400)
    not_used = list(
        dict.fromkeys(str(label) for name, label in ANALYSIS_UNUSED_FILTERS.items() if request.GET.get(name))
    )
    is_admin = access.can_link_analysis_exports(request.user, filters.forbund)
    error = ""
    if request.method == "POST":
        shape = request.POST.get("shape", "long")
        file_format = request.POST.get("format", "csv")
        key = analysis.new_key()
        reuse = request.POST.get("reuse", "").strip()
        if reuse:
            earlier = ExportJob.objects.filter(
                pk=int(reuse) if reuse.isascii() and reuse.isdigit() else 0, kind__in=["analysis-long", "analysis-wide"]
            ).first()
            if not is_admin:
                error = gettext("Bara en administratör kan låta två exporter dela pseudonymnyckel.")
            elif earlier is None or earlier.params.get("forbund") != filters.forbund.code:
                error = gettext("Export %(number)s finns inte bland förbundets analysexporter.") % {"number": reuse}
            else:
                key = earlier.params["pseudonym_key"]
        if shape not in ("long", "wide") or file_format not in ("csv", "xlsx"):
            error = gettext("Välj form (lång eller bred) och format (CSV eller XLSX).")
        if not error:
            job = export_job_create(
                user=request.user,
                kind=f"analysis-{shape}",
                file_format=file_format,
                params={**scope, "pseudonym_key": key},
                external=False,
            )
            access_event_log(
                user=request.user,
                participant=None,
                forbund=filters.forbund,
                action=AccessAction.EXPORT,
                reason=f"Analysexport {shape}.{file_format} beställd (export {job.pk})"
                + (f", samma nyckel som export {reuse}" if reuse else "")
                + f": {filters.forbund.name}, alla insatser och år",
            )
            return redirect("export_status", job_id=job.pk)
    return render(
        request,
        "progression/analysis_export.html",
        {
            **_filter_context(request, filters),
            "is_admin": is_admin,
            "error": error,
            "not_used": not_used,
            "name": "analysexport",
        },
    )


NORM_REASON_SHORTEST = 10


@page_access(Page.REPORTS)
def norms_page(request: SignedInRequest) -> HttpResponse:
    """The norms reliable change rests on: the set in force, every earlier version with who made it
    and why, and for the operator (norms are shared by every förbund) a new set with a reason."""
    from progression import norms, rebuild
    from progression.models import ACTIVE_REBUILD_PHASES, Norm, NormSet, RebuildJob

    may_create = access.can_edit_shared_reference_data(request.user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied(gettext("Bara driftansvarig kan göra nya normer: de gäller alla förbund."))
        reason = request.POST.get("reason", "").strip()
        if len(reason) < NORM_REASON_SHORTEST:
            errors["reason"] = gettext("Skriv varför nya normer behövs (minst %(shortest)s tecken); skälet sparas.") % {
                "shortest": NORM_REASON_SHORTEST
            }
        if request.POST.get("confirm") != "1":
            errors["confirm"] = gettext("Bekräfta att alla klassificeringar räknas om mot de nya normerna.")
        if not errors:
            try:
                job = rebuild.rebuild_run(new_norms_reason=reason, new_norms_by=request.user, report=lambda line: None)
            except rebuild.PhaseOver as exc:  # another rebuild started meanwhile and finishes the work
                messages.warning(request, str(exc))
                return redirect(f"{reverse('norms')}?{request.GET.urlencode()}")
            if job is None:
                messages.success(request, gettext("Nya normer är gjorda och all stegförflyttning är omräknad."))
            else:
                messages.success(
                    request, gettext("Nya normer görs och all stegförflyttning räknas om; förloppet syns nedan.")
                )
            return redirect(f"{reverse('norms')}?{request.GET.urlencode()}")
    current = norms.current_norm_set()
    job = RebuildJob.objects.order_by("-id").first()
    rows = list(
        Norm.objects.filter(norm_set=current)
        .select_related("version__instrument")
        .order_by("version__instrument__code", "version__number", "perspective", "dimension_code")
        if current
        else Norm.objects.none()
    )
    return render(
        request,
        "progression/norms.html",
        {
            "reports": REPORTS.items(),
            "query": request.GET.urlencode(),
            "name": "normer",
            "current": current,
            "norms": rows,
            "area_labels": area_labels(),
            "history": NormSet.objects.select_related("created_by").order_by("-version")[:50],
            "job": job,
            "rebuilding": job is not None and job.phase in ACTIVE_REBUILD_PHASES,
            "may_create": may_create,
            "errors": errors,
            "reason": request.POST.get("reason", ""),
        },
    )


class PeriodSection(TypedDict):
    """One förbund on the periods page: its closures and what the user may do with them."""

    forbund: Forbund
    closures: QuerySet[PeriodClosure]
    may_close: bool
    may_reopen: bool


@page_access(Page.REPORTS)
def periods_page(request: HttpRequest) -> HttpResponse:
    """Closed report periods per förbund: who closed which period when, against which norms, the
    progress of one being frozen, and the forms to close a period and (for admins) to reopen one."""
    today = timezone.localdate()
    closable = set(access.forbund_for_period_closing(request.user).values_list("pk", flat=True))
    sections: list[PeriodSection] = []
    for forbund in access.forbund_for_reports(request.user).order_by("name"):
        closures = PeriodClosure.objects.filter(forbund=forbund).select_related("closed_by", "reopened_by", "norm_set")
        sections.append(
            {
                "forbund": forbund,
                "closures": closures,
                "may_close": forbund.pk in closable,
                "may_reopen": access.can_reopen_period(request.user, forbund),
            }
        )
    return render(
        request,
        "progression/periods.html",
        {
            "reports": REPORTS.items(),
            "query": request.GET.urlencode(),
            "name": "perioder",
            "sections": sections,
            "presets": PRESETS,
            "years": range(today.year, today.year - 6, -1),
            "default_year": today.year - 1,
            "freezing": any(c.status == ClosureStatus.FREEZING for s in sections for c in s["closures"]),
        },
    )


@page_access(Page.REPORTS)
@require_POST
def period_close_view(request: SignedInRequest, forbund: str) -> HttpResponse:
    target = get_object_or_404(access.forbund_for_reports(request.user), code=forbund)
    if not access.can_close_period(request.user, target):
        raise PermissionDenied(gettext("Bara förbundets samordnare eller administratör kan stänga en period."))
    back = f"{reverse('report_periods')}?{request.GET.urlencode()}"
    year_raw = request.POST.get("ar", "")
    if request.POST.get("confirm") != "1":
        messages.error(request, gettext("Bekräfta att rapporterna för perioden fryses innan du stänger den."))
        return redirect(back)
    if not (year_raw.isascii() and year_raw.isdigit() and len(year_raw) == 4):
        messages.error(request, gettext("Året måste skrivas med fyra siffror, t.ex. 2025."))
        return redirect(back)
    try:
        closure = period_close(
            by=request.user, forbund=target, preset=request.POST.get("period", ""), year=int(year_raw)
        )
    except ClosureError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request, gettext("%(period)s stängs: rapporterna fryses nu, förloppet syns nedan.") % {"period": closure.label}
    )
    return redirect(back)


@page_access(Page.REPORTS)
@require_POST
def period_reopen_view(request: SignedInRequest, closure_id: int) -> HttpResponse:
    closure = get_object_or_404(
        PeriodClosure.objects.filter(forbund__in=access.forbund_for_reports(request.user)), pk=closure_id
    )
    if not access.can_reopen_period(request.user, closure.forbund):
        raise PermissionDenied(gettext("Bara förbundets administratör kan öppna en stängd period igen."))
    back = f"{reverse('report_periods')}?{request.GET.urlencode()}"
    if request.POST.get("confirm") != "1":
        messages.error(request, gettext("Bekräfta att perioden öppnas igen och att dess siffror då kan ändras."))
        return redirect(back)
    try:
        period_reopen(by=request.user, closure=closure, reason=request.POST.get("reason", ""))
    except ClosureError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request,
        gettext("%(period)s är öppnad igen; rapporterna räknas nu med dagens uppgifter.") % {"period": closure.label},
    )
    return redirect(back)
