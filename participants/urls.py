from django.urls import path

from participants import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("mentor/", views.mentor_home, name="mentor_home"),
    path("samordnare/", views.coordinator_home, name="coordinator_home"),
    path("administration/", views.admin_home, name="admin_home"),
    path("insatser/<slug:code>/", views.insats_detail, name="insats_detail"),
]

api_urlpatterns = [
    path("insatser/", api.InsatsListApi.as_view(), name="api_insats_list"),
    path("insatser/<slug:code>/", api.InsatsDetailApi.as_view(), name="api_insats_detail"),
    path("insatser/<slug:code>/inskrivningar/", api.InsatsEnrolmentListApi.as_view(), name="api_insats_enrolments"),
]
