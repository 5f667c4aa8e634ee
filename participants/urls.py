from django.urls import path

from participants import api, import_views, offline, registry_api, registry_views, token_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("sw.js", offline.service_worker, name="service_worker"),
    path("utan-anslutning/", offline.offline_page, name="offline_page"),
    path("enhet/status/", offline.device_status, name="device_status"),
    path("enhet/sidor/", offline.caseload_pages, name="caseload_pages"),
    path("enhet/las-upp/", offline.device_unlock, name="device_unlock"),
    path("samordnare/", views.coordinator_home, name="coordinator_home"),
    path("administration/", views.admin_home, name="admin_home"),
    path("insatser/<slug:code>/", views.insats_detail, name="insats_detail"),
    path("insatser/<slug:code>/volymer/", registry_views.volume_list, name="volume_list"),
    path("deltagare/ny/", registry_views.participant_register_view, name="participant_register"),
    path("deltagare/<str:pseudonym>/", registry_views.participant_detail, name="participant_detail"),
    path("deltagare/<str:pseudonym>/identitet/", registry_views.identity_reveal, name="identity_reveal"),
    path("deltagare/<str:pseudonym>/identitet/ratta/", registry_views.identity_rectify_view, name="identity_rectify"),
    path("deltagare/<str:pseudonym>/skriv-in/", registry_views.enrol_existing, name="enrol_existing"),
    path("deltagare/<str:pseudonym>/samtycke/", registry_views.consent_view, name="consent_record"),
    path(
        "deltagare/<str:pseudonym>/inskrivning/<int:enrolment_id>/avsluta/",
        registry_views.enrolment_close_view,
        name="enrolment_close",
    ),
    path(
        "deltagare/<str:pseudonym>/inskrivning/<int:enrolment_id>/handledare/",
        registry_views.mentor_change_view,
        name="mentor_change",
    ),
    path(
        "deltagare/<str:pseudonym>/registerutdrag.<str:fmt>",
        registry_views.participant_export_view,
        name="participant_export",
    ),
    path("deltagare/<str:pseudonym>/radera/", registry_views.participant_erase_view, name="participant_erase"),
    path("administration/atkomstlogg/", registry_views.access_log, name="access_log"),
    path("import/", import_views.import_page, name="import_page"),
    path("import/<int:job_id>/", import_views.import_job_page, name="import_job"),
    path("api-nyckel/", token_views.api_token_page, name="api_token"),
    path("sprak/", views.staff_language, name="staff_language"),
]

api_urlpatterns = [
    path("insatser/", api.InsatsListApi.as_view(), name="api_insats_list"),
    path("insatser/<slug:code>/", api.InsatsDetailApi.as_view(), name="api_insats_detail"),
    path("insatser/<slug:code>/inskrivningar/", api.InsatsEnrolmentListApi.as_view(), name="api_insats_enrolments"),
    path("deltagare/", registry_api.ParticipantListApi.as_view(), name="api_participant_list"),
    path("deltagare/<str:pseudonym>/", registry_api.ParticipantDetailApi.as_view(), name="api_participant_detail"),
    path("deltagare/<str:pseudonym>/samtycken/", registry_api.ParticipantConsentApi.as_view(), name="api_consent"),
    path("deltagare/<str:pseudonym>/inskrivningar/", registry_api.ParticipantEnrolApi.as_view(), name="api_enrol"),
    path("deltagare/<str:pseudonym>/identitet/", registry_api.ParticipantIdentityApi.as_view(), name="api_identity"),
    path(
        "deltagare/<str:pseudonym>/identitet/rattelse/",
        registry_api.ParticipantIdentityRectifyApi.as_view(),
        name="api_identity_rectify",
    ),
    path("deltagare/<str:pseudonym>/registerutdrag/", registry_api.ParticipantExportApi.as_view(), name="api_export"),
    path("deltagare/<str:pseudonym>/radering/", registry_api.ParticipantErasureApi.as_view(), name="api_erasure"),
    path(
        "inskrivningar/<int:enrolment_id>/avslut/", registry_api.EnrolmentCloseApi.as_view(), name="api_enrolment_close"
    ),
    path(
        "inskrivningar/<int:enrolment_id>/handledare/",
        registry_api.EnrolmentMentorApi.as_view(),
        name="api_enrolment_mentor",
    ),
]
