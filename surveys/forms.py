from django import forms

from participants.forms import DateInput

LANGUAGE_CHOICES = [("sv", "Svenska"), ("sv_lattlast", "Lätt svenska"), ("en", "English")]


class SelfLinkForm(forms.Form):
    language = forms.ChoiceField(label="Språk", choices=LANGUAGE_CHOICES, initial="sv")
    days = forms.IntegerField(label="Länken gäller i (dagar)", min_value=1, max_value=60, initial=7)


class CampaignForm(forms.Form):
    instrument = forms.ChoiceField(
        label="Enkät",
        choices=[("nns-pagaende", "Deltagarenkät, pågående deltagare"), ("nns-avslut", "Deltagarenkät vid avslut")],
    )
    period_start = forms.DateField(label="Från", widget=DateInput)
    period_end = forms.DateField(label="Till", widget=DateInput)
    number_asked = forms.IntegerField(label="Antal tillfrågade", min_value=1)
