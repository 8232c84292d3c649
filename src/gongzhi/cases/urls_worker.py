"""The worker's pages, mounted at /work/."""

from django.urls import path

from .views import photos, worker

app_name = "cases_worker"
urlpatterns = [
    path("", worker.inbox, name="inbox"),
    path("cases/<str:number>/", worker.case_detail, name="case"),
    path("cases/<str:number>/do/<str:action>/", worker.case_action, name="action"),
    path("cases/<str:number>/handler/", worker.handler_update, name="handler_update"),
    path("new/", worker.entry, name="new"),
    path("new/places/", worker.entry_places, name="entry_places"),
    path("new/reporters/", worker.entry_reporters, name="entry_reporters"),
    path("new/questions/", worker.entry_questions, name="entry_questions"),
    path("new/duplicates/", worker.entry_duplicates, name="entry_duplicates"),
    path("photos/<int:pk>", photos.photo, name="photo"),
]
