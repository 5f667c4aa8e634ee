from django import forms
from django.utils.translation import gettext_lazy as _

from participants.forms import DateInput
from progression.models import ReportText


class GoalForm(forms.Form):
    text = forms.CharField(label=_("Målbild"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class MilestoneForm(forms.Form):
    text = forms.CharField(label=_("Delmål"), max_length=500)
    area = forms.CharField(label=_("Område"), max_length=60, required=False)
    target_date = forms.DateField(label=_("Klart senast"), required=False, widget=DateInput)


class StepForm(forms.Form):
    what = forms.CharField(label=_("Vad"), max_length=500)
    who = forms.CharField(label=_("Vem"), max_length=200)
    due_date = forms.DateField(label=_("När"), required=False, widget=DateInput)


class ReportTextForm(forms.ModelForm):
    class Meta:
        model = ReportText
        fields = list(ReportText.TEXT_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in fields}
        # The model's verbose names, in the user's language (the model keeps its Swedish ones).
        labels = {
            "kontakt": _("Kontakt"),
            "bakgrund": _("Bakgrund"),
            "mal": _("Mål"),
            "syfte": _("Syfte"),
            "malgrupp": _("Målgrupp"),
            "maluppfyllelse": _("Måluppfyllelse"),
            "ekonomiskt_utfall": _("Ekonomiskt utfall"),
            "framtid": _("Framtid"),
        }
