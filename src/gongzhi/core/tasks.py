"""Delivering outbound notifications (SMS, e-mail, webhook) in the background.

Every attempt first claims the row with a conditional UPDATE on its attempt counter: of
two workers holding the same row, only one sees its UPDATE change a row, and only that
one sends. `deliver_notifications` makes the first attempt of rows `notify` just queued;
`retry_notifications` (periodic) takes every row that is still unsent after a pause —
failed attempts, and rows whose first delivery was never enqueued or died mid-way.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from .channels import Undeliverable, channel_for
from .models import Notification, NotificationChannel

logger = logging.getLogger("gongzhi.notifications")

MAX_ATTEMPTS = 5
# Longer than any send takes (the webhook times out after seconds), so a row whose
# attempt is still running is never taken for a retry.
RETRY_AFTER = timedelta(minutes=5)


@task()
def deliver_notifications(notification_ids: list[int]) -> int:
    """Make the first delivery attempt of each row; returns how many were sent."""
    rows = Notification.objects.filter(
        pk__in=notification_ids, attempts=0, sent_at__isnull=True
    ).exclude(channel=NotificationChannel.IN_APP)
    return sum(_attempt(row_id, 0) for row_id in rows.values_list("pk", flat=True))


@task()
def retry_notifications() -> int:
    """Retry unsent outbound rows whose last attempt is older than `RETRY_AFTER`, up to
    `MAX_ATTEMPTS` attempts in all; returns how many were sent."""
    stale = timezone.now() - RETRY_AFTER
    rows = (
        Notification.objects.filter(
            sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, updated_at__lt=stale
        )
        .exclude(channel=NotificationChannel.IN_APP)
        .order_by("updated_at")
        .values_list("pk", "attempts")
    )
    return sum(_attempt(row_id, attempts) for row_id, attempts in rows)


def _attempt(row_id: int, attempts: int) -> bool:
    """One delivery attempt of one row, if this worker wins the claim; True when sent."""
    now = timezone.now()
    # queryset.update() does not touch auto_now fields: updated_at is set explicitly, as
    # the time of the last attempt the retry pause is measured from.
    claimed = Notification.objects.filter(
        pk=row_id, sent_at__isnull=True, attempts=attempts
    ).update(attempts=attempts + 1, updated_at=now)
    if not claimed:
        return False
    row = Notification.objects.select_related("recipient").get(pk=row_id)
    try:
        channel_for(row.channel).send(row)
    except Undeliverable as exc:
        Notification.objects.filter(pk=row_id).update(
            attempts=MAX_ATTEMPTS, error=str(exc)[:500], updated_at=timezone.now()
        )
        logger.warning("notification %s undeliverable: %s", row_id, exc)
        return False
    except Exception as exc:  # a gateway failure is recorded and retried, never lost
        Notification.objects.filter(pk=row_id).update(
            error=str(exc)[:500] or type(exc).__name__, updated_at=timezone.now()
        )
        logger.warning("notification %s attempt %s failed: %s", row_id, attempts + 1, exc)
        return False
    Notification.objects.filter(pk=row_id).update(
        sent_at=timezone.now(), error="", updated_at=timezone.now()
    )
    return True
