"""`/cases/<number>/`: a case's address in notifications, sending each reader to their page."""

from django.urls import path

from .views import links

app_name = "cases"
urlpatterns = [
    path("<str:number>/", links.case_open, name="case_open"),
]
