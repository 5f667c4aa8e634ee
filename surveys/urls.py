from django.urls import path, re_path

from surveys import api, media, views

urlpatterns = [
    path("samtal/<int:enrolment_id>/", views.conversation_hub, name="conversation_hub"),
    path("samtal/<int:enrolment_id>/sjalvskattning/", views.self_form, name="self_form"),
    path("samtal/<int:enrolment_id>/sjalvskattning/klar/", views.self_done, name="self_done"),
    path("samtal/<int:enrolment_id>/bedomning/", views.mentor_form, name="mentor_form"),
    path("samtal/<int:enrolment_id>/lank/", views.self_link_new, name="self_link_new"),
    path("s/<str:token>/", views.public_self_form, name="public_self_form"),
    path("s/<str:token>/skicka/", views.public_self_submit, name="public_self_submit"),
    path("tack/", views.public_thanks, name="public_thanks"),
    path("jsi18n/<str:code>/", views.javascript_catalog, name="javascript_catalog"),
    path("insatser/<slug:code>/enkater/", views.campaign_list, name="campaign_list"),
    path("insatser/<slug:code>/enkater/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("enkat/<str:token>/", views.public_survey, name="public_survey"),
    path("enkat/<str:token>/skicka/", views.public_survey_submit, name="public_survey_submit"),
    # Read-aloud clips and pictograms (surveys.media); the views check the names against the stored files.
    re_path(
        r"^tal/(?P<language>[a-z_]+)/(?P<name>(?:inspelat/)?[0-9a-f.]+\.[a-z0-9]+)$",
        media.speech_clip,
        name="speech_clip",
    ),
    path("piktogram/<str:name>", media.pictogram, name="pictogram"),
]

api_urlpatterns = [
    path("instrument/", api.InstrumentListApi.as_view(), name="api_instrument_list"),
    path("instrument/<slug:code>/", api.InstrumentFormApi.as_view(), name="api_instrument_form"),
    path("bedomningar/", api.SessionListCreateApi.as_view(), name="api_session_list"),
    path("bedomningar/<uuid:client_uuid>/", api.SessionDetailApi.as_view(), name="api_session_detail"),
]
