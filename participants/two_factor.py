"""Two-factor authentication (TOTP) for coordinators and admins.

After the password, a user holding the coordinator or admin role must set up an authenticator app
(first time, with a QR code) and then enter its six-digit code at every login. Until they have, every
page sends them to that step. Mentors log in with a password only (tablets in the field)."""

from collections.abc import Callable

import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from participants import access


def two_factor_required(user: access.AnyUser) -> bool:
    return bool(settings.REQUIRE_TWO_FACTOR and access.requires_two_factor(user))


class TwoFactorMiddleware:
    """Sends a coordinator or admin who has not entered a TOTP code this session to do so."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            # OTPMiddleware, which runs before this one, gives the user is_verified(); the stubs' User lacks it.
            and not user.is_verified()  # type: ignore[attr-defined]
            and not request.path.startswith(("/static/", "/livez", "/readyz", "/healthz", "/logga-ut/", "/tvastegs/"))
            and two_factor_required(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Logga in med tvåstegsverifiering först."}, status=403)
            return redirect(f"{reverse('two_factor')}?next={request.get_full_path()}")
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Sexsiffrig kod"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": gettext_lazy("Koden är sex siffror.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up (first time) or enter the TOTP code."""
    confirmed = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    device = confirmed or TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Stegvis", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", gettext("För många felaktiga försök i rad. Vänta en liten stund och försök igen."))
        elif device.verify_token(form.cleaned_data["code"]):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            target = request.GET.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else "home")
        else:
            form.add_error(
                "code", gettext("Koden stämmer inte. Kontrollera att klockan i telefonen går rätt och försök igen.")
            )
    context = {"form": form, "setup": not device.confirmed}
    if not device.confirmed:
        context["qr"] = segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
        context["secret"] = device.bin_key.hex()
    return render(request, "registration/two_factor.html", context)
