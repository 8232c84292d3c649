from django.urls import path

from . import inbox_views

app_name = "core"

urlpatterns = [
    path("", inbox_views.inbox, name="inbox"),
    path("<int:notification_id>/read", inbox_views.mark_read, name="inbox_mark_read"),
    path("read-all", inbox_views.mark_all_read, name="inbox_mark_all_read"),
    path("unread-count", inbox_views.unread_count, name="inbox_unread_count"),
]
