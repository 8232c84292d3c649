"""Reads that pages and the API use; each takes the acting user and shows only their own."""

from typing import Any

from django.db.models import QuerySet

from .models import Notification, NotificationChannel


def notifications_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's inbox: their in-app notifications, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    rows = Notification.objects.filter(recipient=user, channel=NotificationChannel.IN_APP)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def unread_count_for(user: Any) -> int:
    """How many of the user's in-app notifications are unread (the badge in the header)."""
    return notifications_for(user, unread_only=True).count()
