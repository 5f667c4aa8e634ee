"""Links surveys adds to pages of the registry (registered in SurveysConfig.ready)."""

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from participants import access
from participants.models import ConsentPurpose
from participants.selectors import consent_granted
from surveys.models import LANGUAGES, AssessmentSession, InstrumentPurpose, SessionStatus, SurveyCampaign

RECENT_READING_DAYS = 14  # a reading this recent counts as the final one


def conversation_links(enrolment: Any, user: Any) -> list[tuple[str, str]]:
    """Buttons on the participant page for an open enrolment the user may assess in."""
    if enrolment.end_date is not None:
        return []
    if not access.enrolments_writable_by(user).filter(pk=enrolment.pk).exists():
        return []
    return [
        (_("Målbildssamtal"), reverse("conversation_hub", args=[enrolment.pk])),
        (_("Länk för självskattning"), reverse("self_link_new", args=[enrolment.pk])),
    ]


def closing_prompts(enrolment: Any, user: Any) -> list[dict[str, Any]]:
    """Before an avslut: take a final reading, and hand the participant the exit survey."""
    prompts = []
    latest = (
        AssessmentSession.objects.filter(enrolment=enrolment, status=SessionStatus.SUBMITTED, consent_withdrawn=False)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    hub = (
        [(_("Gör slutmätningen"), reverse("conversation_hub", args=[enrolment.pk]))]
        if enrolment.end_date is None
        else []
    )
    if latest is None:
        prompts.append({"title": _("Slutmätning"), "text": _("Deltagaren har ingen mätning ännu."), "links": hub})
    else:
        days = (timezone.localdate() - timezone.localdate(latest)).days
        date = f"{timezone.localdate(latest):%Y-%m-%d}"
        if days > RECENT_READING_DAYS:
            text = _(
                "Senaste mätningen gjordes %(date)s, för %(days)s dagar sedan. Gör en slutmätning i ett sista "
                "målbildssamtal, så att resan får sitt slut."
            ) % {"date": date, "days": days}
            prompts.append({"title": _("Slutmätning"), "text": text, "links": hub})
        else:
            text = _("Senaste mätningen gjordes %(date)s: den räknas som slutmätning.") % {"date": date}
            prompts.append({"title": _("Slutmätning"), "text": text, "links": []})
    today = timezone.localdate()
    campaign = (
        SurveyCampaign.objects.filter(
            insats=enrolment.insats,
            closed=False,
            version__instrument__purpose=InstrumentPurpose.EXIT_SURVEY,
            period_start__lte=today,
            period_end__gte=today,
        )
        .order_by("-period_start")
        .first()
    )
    if campaign is not None:
        prompts.append(
            {
                "title": _("Avslutsenkät"),
                "text": _(
                    "Ge deltagaren avslutsenkäten nu, innan ni skiljs åt. Den är anonym: visa QR-koden eller ge länken:"
                ),
                "share": reverse("public_survey", args=[campaign.token]),
                "links": [(_("Visa QR-koden"), reverse("campaign_detail", args=[enrolment.insats.code, campaign.pk]))],
            }
        )
    elif enrolment.insats.measurement_mode == "per_person":
        prompts.append(
            {
                "title": _("Avslutsenkät"),
                "text": _("%(insats)s har ingen öppen avslutsenkät. Skapa en, så kan deltagaren svara anonymt.")
                % {"insats": enrolment.insats.name},
                "links": [(_("Deltagarenkäter"), reverse("campaign_list", args=[enrolment.insats.code]))],
            }
        )
    return prompts


def offline_pages(enrolment: Any) -> list[str]:
    """The målbildssamtal's pages, cached on the mentor's tablet: the hub, both forms (the
    self-assessment in every language), the participant's thank-you page and the comparison; the hub
    only (which says why) when the participant has not consented to progression measurement."""
    hub = reverse("conversation_hub", args=[enrolment.pk])
    if not consent_granted(participant=enrolment.participant, purpose=ConsentPurpose.PROGRESSION):
        return [hub]
    return [
        hub,
        reverse("mentor_form", args=[enrolment.pk]),
        *[f"{reverse('self_form', args=[enrolment.pk])}?sprak={language}" for language in LANGUAGES],
        *[f"{reverse('self_done', args=[enrolment.pk])}?sprak={language}" for language in LANGUAGES],
        reverse("conversation_compare", args=[enrolment.pk]),
    ]


def insats_links(insats: Any, user: Any) -> list[tuple[str, str]]:
    """The satisfaction surveys of a per-person insats."""
    if insats.measurement_mode != "per_person":
        return []
    return [(_("Deltagarenkäter"), reverse("campaign_list", args=[insats.code]))]
