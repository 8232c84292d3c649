"""Writes of core: marking one's own notifications read."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import audit_record
from .errors import NotFound
from .models import Notification
from .selectors import notifications_for


def notification_mark_read(*, user: Any, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read; anyone else's is `NotFound`."""
    with transaction.atomic():
        row = notifications_for(user).select_for_update().filter(pk=notification_id).first()
        if row is None:
            raise NotFound(_("找不到该消息。"), code="notification_not_found")
        if row.read_at is None:
            row.read_at = timezone.now()
            row.save(update_fields=["read_at", "updated_at"])
            audit_record(
                actor=user, verb="notification.read", obj=row, after={"read_at": row.read_at}
            )
    return row


def notifications_mark_all_read(*, user: Any) -> int:
    """Mark all the user's unread notifications read; returns how many were unread."""
    with transaction.atomic():
        now = timezone.now()
        count = notifications_for(user, unread_only=True).update(read_at=now, updated_at=now)
        if count:
            # One event for the batch: the rows themselves carry `read_at`.
            audit_record(
                actor=user, verb="notifications.read_all", obj=user, after={"count": count}
            )
    return count
