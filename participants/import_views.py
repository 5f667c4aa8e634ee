"""The upload page and an import's own page: the file is checked in the background (a dry run), the
user sees what the check found and imports it, all rows or none, or cancels (import_jobs.py)."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.requests import SignedInRequest
from participants import access
from participants.access import Page
from participants.forms import form_field
from participants.import_jobs import (
    ImportJobError,
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_progress,
    import_job_state_text,
    import_job_summary,
)
from participants.importing import COLUMNS
from participants.models import Forbund, ImportJob
from participants.permissions import page_access

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
RECENT_JOBS = 100  # a day's jobs (they go after a day); more would be a list of its own


class ImportForm(forms.Form):
    forbund = forms.ModelChoiceField(
        Forbund.objects.none(), label=gettext_lazy("Förbund"), to_field_name="code", empty_label=None
    )
    file = forms.FileField(label=gettext_lazy("Fil (CSV eller XLSX)"))

    def __init__(self, *args, user=None, **kwargs) -> None:  # noqa: ANN001
        super().__init__(*args, **kwargs)
        form_field(self, "forbund", forms.ModelChoiceField).queryset = access.forbund_for_import(user)

    def clean_file(self):  # noqa: ANN201
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("Filen är större än 10 MB; dela upp den."))
        return upload


@page_access(Page.IMPORT)
def import_page(request: SignedInRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_job_create(
            user=request.user, forbund=form.cleaned_data["forbund"], content=upload.read(), file_name=upload.name
        )
        return redirect("import_job", job_id=job.pk)
    jobs = list(access.import_jobs_for(request.user).select_related("forbund")[:RECENT_JOBS])
    context = {
        "form": form,
        "columns": COLUMNS,
        "jobs": [(job, import_job_summary(job)) for job in jobs],
        "several_forbund": len({job.forbund_id for job in jobs}) > 1,  # else the förbund goes without saying
    }
    return render(request, "participants/import.html", context)


def _own_job(request: HttpRequest, job_id: int) -> ImportJob:
    job = access.import_jobs_for(request.user).select_related("forbund").filter(pk=job_id).first()
    if job is None:
        raise Http404(_("Importen finns inte längre (den raderas efter ett dygn) eller ligger utanför din behörighet."))
    return job


@page_access(Page.IMPORT)
def import_job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _own_job(request, job_id)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "import":
                import_job_confirm(job=job)
            elif action == "cancel":
                import_job_cancel(job=job)
                messages.success(request, _("Importen är avbruten och den uppladdade filen raderad."))
                return redirect("import_page")
            else:
                messages.error(request, _("Välj Importera eller Avbryt."))
        except ImportJobError as exc:
            messages.error(request, str(exc))
        return redirect("import_job", job_id=job.pk)
    state = import_job_state_text(job)
    progress = import_job_progress(job)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"status": job.status, "progress": progress, "text": state})
    context = {"job": job, "result": job.result, "state": state, "progress": progress}
    return render(request, "participants/import_job.html", context)
