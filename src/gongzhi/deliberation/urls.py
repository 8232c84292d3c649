from django.urls import path

from . import views

app_name = "deliberation"

urlpatterns = [
    path("", views.topic_list, name="topics"),
    path("new/", views.topic_new, name="topic_new"),
    path("from-cases/", views.topic_from_cases, name="topic_from_cases"),
    path("<int:pk>/", views.topic_page, name="topic"),
    path("<int:pk>/move/", views.topic_move, name="topic_move"),
    path("<int:pk>/decline/", views.topic_decline, name="topic_decline"),
    path("<int:pk>/support/", views.topic_support, name="topic_support"),
    path("<int:pk>/cases/", views.topic_link_case, name="topic_link_case"),
    path("<int:pk>/surveys/new/", views.survey_new, name="survey_new"),
    path("<int:pk>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("<int:pk>/plans/new/", views.plan_new, name="plan_new"),
    path("<int:pk>/votes/new/", views.vote_new, name="vote_new"),
    path("surveys/<int:pk>/", views.survey_page, name="survey"),
    path("surveys/<int:pk>/<str:action>/", views.survey_state, name="survey_state"),
    path("meetings/<int:pk>/", views.meeting_page, name="meeting"),
    path("meetings/<int:pk>/publish/", views.meeting_publish, name="meeting_publish"),
    path("plans/<int:pk>/", views.plan_page, name="plan"),
    path("plans/<int:pk>/documents/", views.plan_document, name="plan_document"),
    path("plans/<int:pk>/adopt/", views.plan_adopt, name="plan_adopt"),
    path("plans/<int:pk>/complete/", views.plan_complete, name="plan_complete"),
    path("plans/<int:pk>/milestones/", views.milestone_add, name="milestone_add"),
    path("plans/<int:pk>/implementation/", views.implementation, name="implementation"),
    path("milestones/<int:pk>/", views.milestone_update, name="milestone_update"),
    path("files/documents/<int:pk>/", views.document_file, name="document"),
    path("files/photos/<int:pk>/", views.milestone_photo, name="milestone_photo"),
    path("votes/<int:pk>/", views.vote_page, name="vote"),
    path("votes/<int:pk>/ballot/", views.vote_cast, name="vote_cast"),
    path("votes/<int:pk>/enter/", views.vote_enter, name="vote_enter"),
    path("votes/<int:pk>/ballots/", views.vote_ballots, name="vote_ballots"),
    path("votes/<int:pk>/count/", views.vote_count, name="vote_count"),
    path("estates/<int:pk>/register/", views.register_page, name="register"),
]
