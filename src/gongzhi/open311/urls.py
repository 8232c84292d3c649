"""/open311/v2/…: every GeoReport v2 call in `.xml` and `.json`, then a catch-all that
answers any other address with the spec's error list."""

from django.urls import re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    re_path(rf"^discovery{FMT}", views.discovery, name="discovery"),
    re_path(rf"^services{FMT}", views.services, name="services"),
    re_path(rf"^services/(?P<service_code>[^/]+?){FMT}", views.service_definition, name="service"),
    re_path(rf"^requests{FMT}", views.requests, name="requests"),
    re_path(
        rf"^requests/(?P<service_request_id>[^/]+?){FMT}", views.request_detail, name="request"
    ),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}", views.token, name="token"),
    re_path(rf"^servicerequestupdates{FMT}", views.request_updates, name="updates"),
    re_path(r"^(?P<path>.*)$", views.unknown),
]
