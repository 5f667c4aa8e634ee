"""Links surveys adds to pages of the registry (registered in SurveysConfig.ready)."""

from typing import Any

from django.urls import reverse

from participants import access
from participants.models import ConsentPurpose
from participants.selectors import consent_granted
from surveys.models import LANGUAGES


def conversation_links(enrolment: Any, user: Any) -> list[tuple[str, str]]:
    """Buttons on the participant page for an open enrolment the user may assess in."""
    if enrolment.end_date is not None:
        return []
    if not access.enrolments_writable_by(user).filter(pk=enrolment.pk).exists():
        return []
    return [
        ("Målbildssamtal", reverse("conversation_hub", args=[enrolment.pk])),
        ("Länk för självskattning", reverse("self_link_new", args=[enrolment.pk])),
    ]


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
        reverse("self_done", args=[enrolment.pk]),
        reverse("conversation_compare", args=[enrolment.pk]),
    ]


def insats_links(insats: Any, user: Any) -> list[tuple[str, str]]:
    """The satisfaction surveys of a per-person insats."""
    if insats.measurement_mode != "per_person":
        return []
    return [("Deltagarenkäter", reverse("campaign_list", args=[insats.code]))]
