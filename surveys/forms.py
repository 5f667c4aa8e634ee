from django import forms

from config.languages import PARTICIPANT_LANGUAGES
from participants.forms import DateInput

LANGUAGE_CHOICES = [(language.key, language.name) for language in PARTICIPANT_LANGUAGES]


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
