from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from participants import access, hooks
from participants.access import Page
from participants.permissions import page_access
from participants.preferences import staff_language_set
from participants.selectors import enrolment_list_for_user, insats_overview


@login_required
def home(request: HttpRequest) -> HttpResponse:
    landing = access.landing_page(request.user)
    if landing is not None:
        return redirect(landing)
    return render(request, "participants/no_role.html", status=403)


@page_access(Page.COORDINATOR_START)
def coordinator_home(request: HttpRequest) -> HttpResponse:
    if hooks.COORDINATOR_START:
        return redirect(hooks.COORDINATOR_START[0]())
    insatser = insats_overview(insatser=access.insatser_for_page(request.user, Page.COORDINATOR_START))
    return render(request, "participants/coordinator_home.html", {"insatser": insatser})


@page_access(Page.ADMIN_START)
def admin_home(request: HttpRequest) -> HttpResponse:
    insatser = insats_overview(insatser=access.insatser_for_page(request.user, Page.ADMIN_START))
    return render(
        request,
        "participants/admin_home.html",
        {"insatser": insatser, "can_use_admin_site": access.can_use_admin_site(request.user)},
    )


@login_required
def insats_detail(request: HttpRequest, code: str) -> HttpResponse:
    insats = get_object_or_404(access.insatser_readable_by(request.user), code=code)
    enrolments = enrolment_list_for_user(user=request.user, insats=insats)
    links = [link for hook in hooks.INSATS_LINKS for link in hook(insats, request.user)]
    return render(
        request, "participants/insats_detail.html", {"insats": insats, "enrolments": enrolments, "links": links}
    )


@login_required
@require_POST
def staff_language(request: HttpRequest) -> HttpResponse:
    """The user's own language for their pages (Svenska or English), then back to the page they were on."""
    try:
        staff_language_set(request=request, language=request.POST.get("language", ""))
    except ValueError:
        return HttpResponseBadRequest(
            gettext("Okänt språk. Välj Svenska eller English."), content_type="text/plain; charset=utf-8"
        )
    # Back to the page the choice was made on (its path, from the Referer: the page itself never writes
    # its address into the form, which would put a pseudonym in a 404 page or a personnummer from a
    # search query in the HTML); never another host, nor a URL name that redirect() would reverse.
    came_from = urlsplit(request.headers.get("Referer", ""))
    back = came_from.path if came_from.netloc == request.get_host() else ""
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(back if safe and back.startswith("/") else "home")
