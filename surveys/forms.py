from django import forms
from django.utils.translation import gettext_lazy as _

from config.languages import PARTICIPANT_LANGUAGES
from participants.forms import DateInput
from surveys.satisfaction import MAX_ASKED

LANGUAGE_CHOICES = [(language.key, language.name) for language in PARTICIPANT_LANGUAGES]


class SelfLinkForm(forms.Form):
    language = forms.ChoiceField(label=_("Språk"), choices=LANGUAGE_CHOICES, initial="sv")
    days = forms.IntegerField(label=_("Länken gäller i (dagar)"), min_value=1, max_value=60, initial=7)


class CampaignForm(forms.Form):
    instrument = forms.ChoiceField(
        label=_("Enkät"),
        choices=[
            ("nns-pagaende", _("Deltagarenkät, pågående deltagare")),
            ("nns-avslut", _("Deltagarenkät vid avslut")),
        ],
    )
    period_start = forms.DateField(label=_("Från"), widget=DateInput)
    period_end = forms.DateField(label=_("Till"), widget=DateInput)
    number_asked = forms.IntegerField(label=_("Antal tillfrågade"), min_value=1, max_value=MAX_ASKED)


class CampaignChangeForm(forms.Form):
    """Correct the number asked, or close and reopen a survey's link."""

    number_asked = forms.IntegerField(label=_("Antal tillfrågade"), min_value=1, max_value=MAX_ASKED)
    closed = forms.BooleanField(label=_("Stängd: länken tar inte emot fler svar"), required=False)
