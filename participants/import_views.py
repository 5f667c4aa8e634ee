"""The upload page: check a file (dry run), then import it, all rows or none."""

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from participants import access
from participants.access import Page
from participants.importing import COLUMNS, ImportFileError, import_enrolments
from participants.models import Forbund
from participants.permissions import page_access

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ImportForm(forms.Form):
    forbund = forms.ModelChoiceField(Forbund.objects.none(), label="Förbund", to_field_name="code", empty_label=None)
    file = forms.FileField(label="Fil (CSV eller XLSX)")

    def __init__(self, *args, user=None, **kwargs) -> None:  # noqa: ANN001
        super().__init__(*args, **kwargs)
        self.fields["forbund"].queryset = access.forbund_for_import(user)

    def clean_file(self):  # noqa: ANN201
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("Filen är större än 10 MB; dela upp den.")
        return upload


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


@page_access(Page.IMPORT)
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    context: dict = {"form": form, "columns": COLUMNS}
    if request.method == "POST" and "token" in request.POST:
        pending = request.session.get("pending_import", {})
        if pending.get("token") != request.POST["token"]:
            messages.error(request, "Importen har gått ut. Ladda upp filen igen.")
            return redirect("import_page")
        path = _upload_dir() / f"{pending['token']}.upload"
        forbund = access.forbund_for_import(request.user).filter(code=pending["forbund"]).first()
        del request.session["pending_import"]
        if forbund is None or not path.exists():
            path.unlink(missing_ok=True)
            messages.error(request, "Importen kan inte slutföras längre. Ladda upp filen igen.")
            return redirect("import_page")
        try:
            result = import_enrolments(content=path.read_bytes(), forbund=forbund, by=request.user, dry_run=False)
        except ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect("import_page")
        finally:
            path.unlink(missing_ok=True)
        if result.errors:
            context.update({"result": result, "forbund": forbund})
            return render(request, "participants/import.html", context)
        messages.success(
            request,
            f"Importen är klar: {result.participants_created} nya deltagare, "
            f"{result.enrolments_created} nya och {result.enrolments_updated} uppdaterade "
            f"inskrivningar, {result.enrolments_unchanged} oförändrade.",
        )
        return redirect("import_page")
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        forbund = form.cleaned_data["forbund"]
        try:
            result = import_enrolments(content=content, forbund=forbund, by=request.user, dry_run=True)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            context.update({"result": result, "forbund": forbund})
            if result.ok:
                token = uuid.uuid4().hex
                (_upload_dir() / f"{token}.upload").write_bytes(content)
                request.session["pending_import"] = {"token": token, "forbund": forbund.code}
                context["token"] = token
    return render(request, "participants/import.html", context)
