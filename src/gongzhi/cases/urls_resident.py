"""The resident's pages: the community report page behind its QR code (/r/<slug>/), 我的诉求
(/my/cases/), and the elder-friendly switch (/prefs/elder/)."""

from django.urls import path

from .views import resident

app_name = "resident"

urlpatterns = [
    path("r/<slug:slug>/", resident.report, name="report"),
    path("r/<slug:slug>/code/", resident.report_code, name="report_code"),
    path("r/<slug:slug>/verify/", resident.report_verify, name="report_verify"),
    path("r/<slug:slug>/duplicates/", resident.report_duplicates, name="duplicates"),
    path("r/<slug:slug>/poster/", resident.poster, name="poster"),
    path("r/<slug:slug>/qr.svg", resident.poster_qr, name="poster_qr"),
    path("my/cases/", resident.my_cases, name="my_cases"),
    path("my/cases/<str:number>/", resident.my_case, name="my_case"),
    path("my/cases/<str:number>/reported/", resident.reported, name="reported"),
    path("my/cases/<str:number>/follow-up/", resident.my_case_follow_up, name="my_case_follow_up"),
    path("my/cases/<str:number>/reopen/", resident.my_case_reopen, name="my_case_reopen"),
    path("prefs/elder/", resident.elder_mode, name="elder_mode"),
]
