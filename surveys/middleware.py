"""Participant mode: while the tablet is handed to the participant, only their self-assessment
is reachable. Getting back to mentor mode needs the mentor's password."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse

PARTICIPANT_MODE = "participant_mode"


class ParticipantModeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        mode = request.session.get(PARTICIPANT_MODE) if hasattr(request, "session") else None
        if mode is not None and not self._allowed(request, mode["enrolment"]):
            if request.path.startswith("/api/") or request.content_type == "application/json":
                return HttpResponseForbidden("Deltagarläge: bara självskattningen är öppen.")
            return redirect("self_form", enrolment_id=mode["enrolment"])
        return self.get_response(request)

    @staticmethod
    def _allowed(request: HttpRequest, enrolment_id: int) -> bool:
        allowed = {
            reverse("self_form", args=[enrolment_id]),
            reverse("session_submit", args=[enrolment_id, "self"]),
            reverse("self_done", args=[enrolment_id]),
            reverse("participant_mode_exit"),
            reverse("healthz"),
        }
        return request.path in allowed or request.path.startswith("/static/")
