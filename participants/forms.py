"""HTML forms: types and choices only. The rules live in services."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from participants.models import (
    EXTENT_CHOICES,
    ConsentChannel,
    ConsentPurpose,
    EducationLevel,
    ExitReason,
    IncomeSource,
    Kon,
)

if TYPE_CHECKING:  # django-stubs-ext is installed for the type check only, not in production
    from django_stubs_ext import StrOrPromise

EXTENT_FORM_CHOICES = [(str(value), label) for value, label in EXTENT_CHOICES]

FieldKind = TypeVar("FieldKind", bound=forms.Field)


class DateInput(forms.DateInput):
    input_type = "date"


def form_field(form: forms.BaseForm, name: str, kind: type[FieldKind]) -> FieldKind:
    """The form's own copy of a declared field, as the kind of field it was declared as."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"The field {name} is a {type(field).__name__}, not a {kind.__name__}.")
    return field


def _code_choice(
    model: type[IncomeSource | EducationLevel | ExitReason], label: "StrOrPromise", required: bool = True
) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        model.objects.filter(active=True), label=label, required=required, to_field_name="code", empty_label=_("Välj …")
    )


class EnrolmentFieldsForm(forms.Form):
    insats = forms.ChoiceField(label=_("Insats"))
    start_date = forms.DateField(label=_("Inskrivningsdatum"), widget=DateInput, initial=timezone.localdate)
    mentor = forms.ChoiceField(label=_("Handledare"), required=False)
    income_before = _code_choice(IncomeSource, _("Försörjning före insatsen"))
    income_before_extent = forms.TypedChoiceField(
        label=_("Omfattning"), choices=EXTENT_FORM_CHOICES, coerce=Decimal, initial="1.00"
    )
    education = _code_choice(EducationLevel, _("Högsta avslutade utbildning"))
    years_in_public_support = forms.DecimalField(
        label=_("År i offentlig försörjning före insatsen"), min_value=0, max_value=60, decimal_places=1, required=False
    )

    def __init__(self, *args, insats_choices=(), mentor_choices=(), **kwargs) -> None:  # noqa: ANN001
        super().__init__(*args, **kwargs)
        form_field(self, "insats", forms.ChoiceField).choices = list(insats_choices)
        form_field(self, "mentor", forms.ChoiceField).choices = [("", _("Ingen ännu")), *mentor_choices]


class ParticipantRegisterForm(EnrolmentFieldsForm):
    anonymous = forms.TypedChoiceField(
        label=_("Registrering"),
        choices=[
            ("0", _("Med identitet (personnummer och samtycke)")),
            ("1", _("Anonym (utan samtycke eller med skyddade personuppgifter)")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="0",
    )
    personnummer = forms.CharField(
        label=_("Personnummer"), required=False, max_length=20, help_text=_("ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN")
    )
    name = forms.CharField(label=_("Namn"), required=False, max_length=200)
    contact = forms.CharField(label=_("Telefon eller e-post"), required=False, max_length=200)
    kon = forms.ChoiceField(label=_("Kön"), choices=Kon.choices, widget=forms.RadioSelect)
    birth_year = forms.IntegerField(
        label=_("Födelseår"),
        required=False,
        min_value=1900,
        max_value=2100,
        help_text=_("Behövs bara för anonyma deltagare."),
    )
    consent_channel = forms.ChoiceField(
        label=_("Samtycket gavs"), choices=[("", _("Välj …")), *ConsentChannel.choices], required=False
    )
    consent_progression = forms.BooleanField(label=_("Samtycker till mätning av stegförflyttning"), required=False)
    consent_research = forms.BooleanField(label=_("Samtycker till forskning och utvärdering"), required=False)
    guardian_consent = forms.BooleanField(label=_("Vårdnadshavare har också samtyckt (under 18 år)"), required=False)
    use_existing = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Varför skrivs personen in? (sparas i åtkomstloggen)"), required=False, max_length=200
    )


class EnrolForm(EnrolmentFieldsForm):
    """Enrol a person already in the register: their fresh consent and the reason are recorded."""

    reason = forms.CharField(
        label=_("Varför skrivs personen in?"),
        max_length=200,
        help_text=_("Sparas i åtkomstloggen, som förbundets administratör granskar."),
        error_messages={"required": _("Ange varför du skriver in personen.")},
    )
    consent_channel = forms.ChoiceField(
        label=_("Personen samtyckte på nytt till registrering"),
        choices=[("", _("Välj …")), *ConsentChannel.choices],
        required=False,
        help_text=_("Krävs för en deltagare med identitet."),
    )
    consent_progression = forms.BooleanField(label=_("Samtycker till mätning av stegförflyttning"), required=False)
    guardian_consent = forms.BooleanField(label=_("Vårdnadshavare har också samtyckt (under 18 år)"), required=False)


class IdentityRectifyForm(forms.Form):
    """Rättelse (GDPR art. 16): the fields to correct and why."""

    name = forms.CharField(label=_("Namn"), max_length=200)
    contact = forms.CharField(label=_("Telefon eller e-post"), max_length=200, required=False)
    personnummer = forms.CharField(
        label=_("Personnummer"), max_length=20, help_text=_("ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN")
    )
    reason = forms.CharField(
        label=_("Varför rättas uppgifterna?"),
        max_length=300,
        min_length=3,
        error_messages={"required": _("Ange varför uppgifterna rättas.")},
    )


class AccessLogFilterForm(forms.Form):
    """Filters of the access-log review page (all optional)."""

    user = forms.TypedChoiceField(label=_("Användare"), required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(label=_("Händelse"), required=False)
    date_from = forms.DateField(label=_("Från"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Till"), required=False, widget=DateInput)

    def __init__(self, *args, user_choices=(), action_choices=(), **kwargs) -> None:  # noqa: ANN001
        super().__init__(*args, **kwargs)
        form_field(self, "user", forms.ChoiceField).choices = [("", _("Alla")), *user_choices]
        form_field(self, "action", forms.ChoiceField).choices = [("", _("Alla")), *action_choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("Slutdatumet ligger före startdatumet."))
        return data


class AccessLogReviewForm(forms.Form):
    period_start = forms.DateField(label=_("Granskad period från"), widget=DateInput)
    period_end = forms.DateField(label=_("till"), widget=DateInput)
    note = forms.CharField(label=_("Anteckning (frivillig)"), max_length=500, required=False)


class EnrolmentCloseForm(forms.Form):
    end_date = forms.DateField(label=_("Avslutsdatum"), widget=DateInput, initial=timezone.localdate)
    exit_reason = _code_choice(ExitReason, _("Avslutsanledning"))
    income_after = _code_choice(IncomeSource, _("Försörjning efter insatsen"), required=False)
    income_after_extent = forms.TypedChoiceField(
        label=_("Omfattning"), choices=EXTENT_FORM_CHOICES, coerce=Decimal, initial="1.00"
    )


class MentorChangeForm(forms.Form):
    mentor = forms.ChoiceField(label=_("Ny handledare"))
    from_date = forms.DateField(label=_("Från och med"), widget=DateInput, initial=timezone.localdate)

    def __init__(self, *args, mentor_choices=(), **kwargs) -> None:  # noqa: ANN001
        super().__init__(*args, **kwargs)
        form_field(self, "mentor", forms.ChoiceField).choices = list(mentor_choices)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Ändamål"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(
        label=_("Beslut"),
        choices=[("1", _("Samtycker")), ("0", _("Återkallar samtycket"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    channel = forms.ChoiceField(label=_("Hur"), choices=ConsentChannel.choices)
    member_authority = forms.CharField(label=_("Medlemsmyndighet (vid delning)"), required=False, max_length=200)
    guardian_consent = forms.BooleanField(label=_("Vårdnadshavare har också samtyckt (under 18 år)"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Anledning"),
        max_length=300,
        min_length=3,
        error_messages={"required": _("Ange varför du behöver uppgifterna.")},
    )


class VolumeForm(forms.Form):
    period_start = forms.DateField(label=_("Från"), widget=DateInput)
    period_end = forms.DateField(label=_("Till"), widget=DateInput)
    category = forms.CharField(label=_("Vad räknades"), max_length=100)
    kon = forms.ChoiceField(label=_("Kön"), choices=[("", _("Okänt / alla")), *Kon.choices], required=False)
    count = forms.IntegerField(label=_("Antal"), min_value=0)


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, field by field where the field exists."""
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)
