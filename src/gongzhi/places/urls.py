from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("", views.index, name="index"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
    path("<str:code>/", views.place_detail, name="detail"),
    path("<str:code>/roster/", views.roster_upload, name="roster_upload"),
]
