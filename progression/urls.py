from django.urls import path

from progression import api, plan_views, report_api, report_views, views

urlpatterns = [
    path("mentor/", views.mentor_home, name="mentor_home"),
    path("samtal/<int:enrolment_id>/jamforelse/", views.conversation_compare, name="conversation_compare"),
    path("resa/<int:enrolment_id>/", views.journey, name="journey"),
    path("resa/<int:enrolment_id>/malbild/", views.goal_save, name="goal_save"),
    path("resa/<int:enrolment_id>/delmal/", views.milestone_add, name="milestone_add"),
    path("resa/<int:enrolment_id>/delmal/<int:milestone_id>/", views.milestone_status, name="milestone_status"),
    path("resa/<int:enrolment_id>/steg/", views.step_add, name="step_add"),
    path("resa/<int:enrolment_id>/steg/<int:step_id>/", views.step_mark, name="step_mark"),
    path("resa/<int:enrolment_id>/min-plan/", plan_views.plan_link_page, name="plan_link"),
    path("resa/<int:enrolment_id>/min-plan/aterkalla/", plan_views.plan_link_revoke, name="plan_link_revoke"),
    path("min-plan/sw.js", plan_views.plan_service_worker, name="plan_service_worker"),
    path("min-plan/<str:token>/", plan_views.my_plan_page, name="my_plan"),
    path("rapporter/", report_views.dashboard, name="report_dashboard"),
    path("rapporter/texter/", report_views.report_texts, name="report_texts"),
    path("rapporter/analysexport/", report_views.analysis_export, name="analysis_export"),
    path("rapporter/normer/", report_views.norms_page, name="norms"),
    path("rapporter/perioder/", report_views.periods_page, name="report_periods"),
    path("rapporter/perioder/<slug:forbund>/stang/", report_views.period_close_view, name="period_close"),
    path("rapporter/perioder/<int:closure_id>/oppna-igen/", report_views.period_reopen_view, name="period_reopen"),
    path("rapporter/<slug:name>/", report_views.report_page, name="report_page"),
    path("rapporter/<slug:name>/csv/", report_views.report_csv, name="report_csv"),
    path("rapporter/<slug:name>/export/", report_views.export_start, name="export_start"),
    path("exporter/<int:job_id>/", report_views.export_status, name="export_status"),
    path("exporter/<int:job_id>/fil/", report_views.export_download, name="export_download"),
]

api_urlpatterns = [
    path(
        "inskrivningar/<int:enrolment_id>/stegforflyttning/",
        api.EnrolmentProgressionApi.as_view(),
        name="api_enrolment_progression",
    ),
    path("inskrivningar/<int:enrolment_id>/mal/", api.EnrolmentGoalsApi.as_view(), name="api_enrolment_goals"),
    path("inskrivningar/<int:enrolment_id>/samtal/", api.ConversationSaveApi.as_view(), name="api_conversation_save"),
    path("bedomningar/<uuid:client_uuid>/poang/", api.SessionScoresApi.as_view(), name="api_session_scores"),
    path("rapporter/<slug:name>/", report_api.ReportApi.as_view(), name="api_report"),
]
