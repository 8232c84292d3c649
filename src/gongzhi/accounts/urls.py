from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("code/", views.otp_request, name="otp_request"),
    path("login/code/", views.otp_login, name="otp_login"),
    path("register/", views.register, name="register"),
    path("activate/", views.activate, name="activate"),
    path("claim/", views.claim, name="claim"),
    path("claim/options/", views.claim_options, name="claim_options"),
    path("verification/", views.verification_queue, name="verification_queue"),
    path("verification/<int:pk>/", views.verification_decide, name="verification_decide"),
    path("verification/<int:pk>/phone/", views.verification_phone, name="verification_phone"),
    path("password/", views.password_change, name="password_change"),
]
