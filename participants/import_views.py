"""The upload page: check a file (dry run), then import it, all rows or none."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from participants import access
from participants.access import Page
from participants.importing import COLUMNS, ImportFileError, import_enrolments
from participants.models import Forbund
from participants.permissions import page_access
from participants.uploads import upload_delete, upload_read, upload_store

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ImportForm(forms.Form):
    forbund = forms.ModelChoiceField(
        Forbund.objects.none(), label=gettext_lazy("Förbund"), to_field_name="code", empty_label=None
    )
    file = forms.FileField(label=gettext_lazy("Fil (CSV eller XLSX)"))

    def __init__(self, *args, user=None, **kwargs) -> None:  # noqa: ANN001
        super().__init__(*args, **kwargs)
        self.fields["forbund"].queryset = access.forbund_for_import(user)

    def clean_file(self):  # noqa: ANN201
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("Filen är större än 10 MB; dela upp den."))
        return upload


def _forget_pending(request: HttpRequest) -> None:
    """The upload waiting in this session, if any, leaves the disk."""
    pending = request.session.pop("pending_import", None)
    if pending:
        forbund = Forbund.objects.filter(code=pending.get("forbund")).first()
        if forbund is not None:
            upload_delete(forbund=forbund, token=pending["token"])


@page_access(Page.IMPORT)
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    context: dict = {"form": form, "columns": COLUMNS}
    if request.method == "POST" and request.POST.get("action") == "cancel":
        _forget_pending(request)
        messages.success(request, _("Importen är avbruten och den uppladdade filen raderad."))
        return redirect("import_page")
    if request.method == "POST" and "token" in request.POST:
        pending = request.session.get("pending_import", {})
        forbund = access.forbund_for_import(request.user).filter(code=pending.get("forbund")).first()
        content = None
        if pending.get("token") == request.POST["token"] and forbund is not None:
            content = upload_read(forbund=forbund, token=pending["token"])
        _forget_pending(request)  # the file leaves the disk whatever happens next
        if content is None:
            messages.error(request, _("Importen har gått ut eller kan inte slutföras längre. Ladda upp filen igen."))
            return redirect("import_page")
        try:
            result = import_enrolments(content=content, forbund=forbund, by=request.user, dry_run=False)
        except ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect("import_page")
        if result.errors:
            context.update({"result": result, "forbund": forbund})
            return render(request, "participants/import.html", context)
        messages.success(
            request,
            _(
                "Importen är klar: %(participants)s nya deltagare, %(created)s nya och %(updated)s uppdaterade "
                "inskrivningar, %(unchanged)s oförändrade."
            )
            % {
                "participants": result.participants_created,
                "created": result.enrolments_created,
                "updated": result.enrolments_updated,
                "unchanged": result.enrolments_unchanged,
            },
        )
        return redirect("import_page")
    if request.method == "POST" and form.is_valid():
        _forget_pending(request)  # a new file replaces one waiting
        content = form.cleaned_data["file"].read()
        forbund = form.cleaned_data["forbund"]
        try:
            result = import_enrolments(content=content, forbund=forbund, by=request.user, dry_run=True)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            context.update({"result": result, "forbund": forbund})
            if result.ok:
                token = upload_store(forbund=forbund, content=content)
                request.session["pending_import"] = {"token": token, "forbund": forbund.code}
                context["token"] = token
    return render(request, "participants/import.html", context)
