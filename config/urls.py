from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import RedocView, SchemaView, SwaggerView
from config.health import livez, readyz
from participants.two_factor import two_factor
from participants.urls import api_urlpatterns as participants_api
from progression.urls import api_urlpatterns as progression_api
from surveys.urls import api_urlpatterns as surveys_api

urlpatterns = [
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("healthz", readyz, name="healthz"),
    path("logga-in/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("tvastegs/", two_factor, name="two_factor"),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="api_schema"),
    path("api/docs/", SwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/redoc/", RedocView.as_view(url_name="api_schema"), name="api_redoc"),
    path("api/v1/", include(participants_api)),
    path("api/v1/", include(surveys_api)),
    path("api/v1/", include(progression_api)),
    path("", include("progression.urls")),
    path("", include("surveys.urls")),
    path("", include("participants.urls")),
]

handler400 = "config.middleware.bad_request"
handler404 = "config.api.api_or_page_not_found"
handler500 = "config.middleware.server_error_or_unavailable"
