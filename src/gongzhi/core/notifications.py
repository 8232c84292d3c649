"""Telling people things: one call for every app, an outbox row per recipient and channel.

In-app rows are the person's inbox. Other channels (SMS, email, webhook) are delivered by a
background task after the transaction commits, so a failing gateway never rolls back the
change it reports, and a retry never sends twice (`dedupe_key`).
"""

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction

from .channels import enabled_channels
from .models import Notification, NotificationChannel


def notify(
    *,
    recipients: Iterable[Any],
    verb: str,
    title: str,
    body: str = "",
    link: str = "",
    obj: models.Model | None = None,
    dedupe_key: str = "",
    channels: Iterable[str] = (NotificationChannel.IN_APP,),
) -> list[Notification]:
    """Queue one notification per recipient and channel; with a `dedupe_key`, at most once.

    Returns the rows created by this call (none for recipients already notified under
    the same key), so callers can tell a first send from a repeat. Channels this
    installation does not use (`channels.enabled_channels`) are skipped.
    """
    enabled = enabled_channels()
    channels = [channel for channel in channels if channel in enabled]
    created: list[Notification] = []
    seen: set[int] = set()
    for recipient in recipients:
        if recipient is None or recipient.pk in seen:
            continue
        seen.add(recipient.pk)
        for channel in channels:
            fields = {
                "verb": verb,
                "title": str(title)[:200],
                "body": str(body),
                "link": link,
                "object_type": obj._meta.label_lower if obj is not None else "",
                "object_id": str(obj.pk) if obj is not None else "",
            }
            if dedupe_key:
                row, was_created = Notification.objects.get_or_create(
                    recipient=recipient, channel=channel, dedupe_key=dedupe_key, defaults=fields
                )
                if not was_created:
                    continue
            else:
                row = Notification.objects.create(recipient=recipient, channel=channel, **fields)
            created.append(row)
    outbound = [n.pk for n in created if n.channel != NotificationChannel.IN_APP]
    if outbound:
        transaction.on_commit(lambda: _enqueue_delivery(outbound))
    return created


def _enqueue_delivery(notification_ids: list[int]) -> None:
    from .tasks import deliver_notifications

    deliver_notifications.enqueue(notification_ids)
