"""Telling people things: one call for every app, an outbox row per recipient and channel.

In-app rows are the person's inbox. Other channels (SMS, email, webhook) are delivered by a
background task after the transaction commits, so a failing gateway never rolls back the
change it reports, and a retry never sends twice (`dedupe_key`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction

from .channels import enabled_channels
from .models import Notification, NotificationChannel


@dataclass(frozen=True)
class Message:
    """One message for `notify_many`: the same text to each of `recipient_ids`."""

    recipient_ids: Sequence[int]
    verb: str
    title: str
    body: str = ""
    link: str = ""
    obj: models.Model | None = None
    dedupe_key: str = ""


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
    ids = [recipient.pk for recipient in recipients if recipient is not None]
    message = Message(
        recipient_ids=ids,
        verb=verb,
        title=title,
        body=body,
        link=link,
        obj=obj,
        dedupe_key=dedupe_key,
    )
    return notify_many([message], channels=channels)


def notify_many(
    messages: Iterable[Message],
    *,
    channels: Iterable[str] = (NotificationChannel.IN_APP,),
) -> list[Notification]:
    """`notify` for many messages at once, at a constant number of queries: one lookup of
    the keys already used, one bulk insert, one delivery task for the outbound rows.

    Same rules as `notify`: one row per recipient and channel, none for a recipient
    already notified under the message's `dedupe_key`; returns the rows created.
    """
    enabled = enabled_channels()
    channels = [channel for channel in channels if channel in enabled]
    messages = list(messages)
    keys = {m.dedupe_key for m in messages if m.dedupe_key}
    taken: set[tuple[int, str, str]] = set()
    if keys and channels:
        taken = set(
            Notification.objects.filter(dedupe_key__in=keys, channel__in=channels).values_list(
                "recipient_id", "channel", "dedupe_key"
            )
        )
    rows: list[Notification] = []
    for message in messages:
        seen: set[int] = set()
        for recipient_id in message.recipient_ids:
            if recipient_id is None or recipient_id in seen:
                continue
            seen.add(recipient_id)
            for channel in channels:
                if message.dedupe_key:
                    key = (recipient_id, channel, message.dedupe_key)
                    if key in taken:
                        continue
                    taken.add(key)
                rows.append(_row(message, recipient_id, channel))
    if not rows:
        return []
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows)
    except IntegrityError:
        # Someone else queued one of these keys meanwhile: row by row, skipping theirs.
        created = _create_one_by_one(rows)
    outbound = [n.pk for n in created if n.channel != NotificationChannel.IN_APP]
    if outbound:
        transaction.on_commit(lambda: _enqueue_delivery(outbound))
    return created


def _row(message: Message, recipient_id: int, channel: str) -> Notification:
    obj = message.obj
    return Notification(
        recipient_id=recipient_id,
        channel=channel,
        dedupe_key=message.dedupe_key,
        verb=message.verb,
        title=str(message.title)[:200],
        body=str(message.body),
        link=message.link,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )


def _create_one_by_one(rows: list[Notification]) -> list[Notification]:
    created = []
    for row in rows:
        if not row.dedupe_key:
            row.save()
            created.append(row)
            continue
        fields = {
            name: getattr(row, name)
            for name in ("verb", "title", "body", "link", "object_type", "object_id")
        }
        saved, was_created = Notification.objects.get_or_create(
            recipient_id=row.recipient_id,
            channel=row.channel,
            dedupe_key=row.dedupe_key,
            defaults=fields,
        )
        if was_created:
            created.append(saved)
    return created


def _enqueue_delivery(notification_ids: list[int]) -> None:
    from .tasks import deliver_notifications

    deliver_notifications.enqueue(notification_ids)
