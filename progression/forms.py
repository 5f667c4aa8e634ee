from django import forms

from participants.forms import DateInput
from progression.models import ReportText


class GoalForm(forms.Form):
    text = forms.CharField(label="Målbild", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class MilestoneForm(forms.Form):
    text = forms.CharField(label="Delmål", max_length=500)
    area = forms.CharField(label="Område", max_length=60, required=False)
    target_date = forms.DateField(label="Klart senast", required=False, widget=DateInput)


class StepForm(forms.Form):
    what = forms.CharField(label="Vad", max_length=500)
    who = forms.CharField(label="Vem", max_length=200)
    due_date = forms.DateField(label="När", required=False, widget=DateInput)


class ReportTextForm(forms.ModelForm):
    class Meta:
        model = ReportText
        fields = list(ReportText.TEXT_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in fields}
