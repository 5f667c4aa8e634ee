from django.urls import path

from progression import api, views

urlpatterns = [
    path("resa/<int:enrolment_id>/", views.journey, name="journey"),
    path("resa/<int:enrolment_id>/malbild/", views.goal_save, name="goal_save"),
    path("resa/<int:enrolment_id>/delmal/", views.milestone_add, name="milestone_add"),
    path("resa/<int:enrolment_id>/delmal/<int:milestone_id>/", views.milestone_status, name="milestone_status"),
    path("resa/<int:enrolment_id>/steg/", views.step_add, name="step_add"),
    path("resa/<int:enrolment_id>/steg/<int:step_id>/", views.step_mark, name="step_mark"),
]

api_urlpatterns = [
    path(
        "inskrivningar/<int:enrolment_id>/stegforflyttning/",
        api.EnrolmentProgressionApi.as_view(),
        name="api_enrolment_progression",
    ),
    path("inskrivningar/<int:enrolment_id>/mal/", api.EnrolmentGoalsApi.as_view(), name="api_enrolment_goals"),
    path("bedomningar/<uuid:client_uuid>/poang/", api.SessionScoresApi.as_view(), name="api_session_scores"),
]
