from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from participants import hooks
from participants.models import Role
from participants.permissions import role_required
from participants.selectors import (
    enrolment_list_for_user,
    insats_list_for_user,
    insats_overview_for_user,
    user_roles,
)

LANDING_BY_ROLE = [
    (Role.MENTOR, "mentor_home"),
    (Role.COORDINATOR, "coordinator_home"),
    (Role.ADMIN, "admin_home"),
]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = user_roles(user=request.user)
    for role, url_name in LANDING_BY_ROLE:
        if role in roles:
            return redirect(url_name)
    return render(request, "participants/no_role.html", status=403)


@role_required(Role.MENTOR)
def mentor_home(request: HttpRequest) -> HttpResponse:
    insatser = insats_overview_for_user(user=request.user, roles=[Role.MENTOR])
    enrolments = enrolment_list_for_user(user=request.user).filter(insats__in=insatser)
    my_enrolments = [e for e in enrolments if e.current_mentor_id == request.user.id]
    other_enrolments = [e for e in enrolments if e.current_mentor_id != request.user.id]
    return render(
        request,
        "participants/mentor_home.html",
        {"insatser": insatser, "my_enrolments": my_enrolments, "other_enrolments": other_enrolments},
    )


@role_required(Role.COORDINATOR)
def coordinator_home(request: HttpRequest) -> HttpResponse:
    if hooks.COORDINATOR_START:
        return redirect(hooks.COORDINATOR_START[0]())
    insatser = insats_overview_for_user(user=request.user, roles=[Role.COORDINATOR])
    return render(request, "participants/coordinator_home.html", {"insatser": insatser})


@role_required(Role.ADMIN)
def admin_home(request: HttpRequest) -> HttpResponse:
    insatser = insats_overview_for_user(user=request.user, roles=[Role.ADMIN])
    return render(request, "participants/admin_home.html", {"insatser": insatser})


@login_required
def insats_detail(request: HttpRequest, code: str) -> HttpResponse:
    insats = get_object_or_404(insats_list_for_user(user=request.user), code=code)
    enrolments = enrolment_list_for_user(user=request.user, insats=insats)
    links = [link for hook in hooks.INSATS_LINKS for link in hook(insats, request.user)]
    return render(
        request, "participants/insats_detail.html", {"insats": insats, "enrolments": enrolments, "links": links}
    )
