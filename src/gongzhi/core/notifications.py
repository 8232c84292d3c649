"""Telling people things: one call for every app, an outbox row per recipient and channel.

In-app rows are the person's inbox. Other channels (SMS, email, webhook) are delivered by a
background task after the transaction commits, so a failing gateway never rolls back the
change it reports, and a retry never sends twice (`dedupe_key`).
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction

from .bulk import insert_rows
from .channels import enabled_channels
from .models import Notification, NotificationChannel


@dataclass(frozen=True)
class Message:
    """One message for `notify_many`: the same text to each of `recipient_ids`, about the
    object `object_type` (a model's `label_lower`) `object_id`, if any."""

    recipient_ids: Sequence[int]
    verb: str
    title: str
    body: str = ""
    link: str = ""
    object_type: str = ""
    object_id: str = ""
    dedupe_key: str = ""


def notify(
    *,
    recipients: Iterable[Any] = (),
    recipient_ids: Iterable[int] = (),
    verb: str,
    title: str,
    body: str = "",
    link: str = "",
    obj: models.Model | None = None,
    dedupe_key: str = "",
    channels: Iterable[str] = (NotificationChannel.IN_APP,),
) -> list[Notification]:
    """Queue one notification per recipient and channel; with a `dedupe_key`, at most once.
    The recipients are given as users (`recipients`) or by id (`recipient_ids`), or both.

    Returns the rows created by this call (none for recipients already notified under
    the same key), so callers can tell a first send from a repeat. Channels this
    installation does not use (`channels.enabled_channels`) are skipped.
    """
    message = Message(
        recipient_ids=[
            *(recipient.pk for recipient in recipients if recipient is not None),
            *recipient_ids,
        ],
        verb=verb,
        title=title,
        body=body,
        link=link,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        dedupe_key=dedupe_key,
    )
    channels = _enabled(channels)
    taken: set[tuple[int, str]] = set()
    if dedupe_key and channels:
        taken = set(
            Notification.objects.filter(
                dedupe_key=dedupe_key,
                channel__in=channels,
                recipient_id__in=message.recipient_ids,
            ).values_list("recipient_id", "channel")
        )
    rows = [
        Notification(**dict(zip(_COLUMNS, _values(message, recipient_id, channel), strict=True)))
        for recipient_id, channel in _addressees(message, channels)
        if (recipient_id, channel) not in taken
    ]
    if not rows:
        return []
    if not dedupe_key:
        # Only a key can collide (the unique constraint is on recipient, channel and a
        # non-empty key): no savepoint to fall back to.
        created = Notification.objects.bulk_create(rows)
    else:
        try:
            with transaction.atomic():
                created = Notification.objects.bulk_create(rows)
        except IntegrityError:
            # Someone else queued one of these keys meanwhile: row by row, skipping theirs.
            created = _create_one_by_one(rows)
    _deliver_after_commit([n.pk for n in created if n.channel != NotificationChannel.IN_APP])
    return created


def notify_many(
    messages: Iterable[Message],
    *,
    channels: Iterable[str] = (NotificationChannel.IN_APP,),
) -> int:
    """`notify` for many messages at once (the clock checker's thousands of notices):
    the same rows, written by multi-row INSERTs without a model instance each; returns how
    many rows were queued.

    A row whose recipient, channel and `dedupe_key` are already queued — by an earlier
    run, or by another writer meanwhile — is left out by the unique constraint itself
    (`ON CONFLICT DO NOTHING`), so no lookup precedes the insert.
    """
    channels = _enabled(channels)
    rows: dict[str, list[tuple]] = {channel: [] for channel in channels}
    for message in messages:
        for recipient_id, channel in _addressees(message, channels):
            rows[channel].append(_values(message, recipient_id, channel))
    queued = 0
    for channel, same in rows.items():
        ids = insert_rows(Notification, _COLUMNS, same, skip_conflicts=True)
        queued += len(ids)
        if channel != NotificationChannel.IN_APP:
            _deliver_after_commit(ids)
    return queued


def _enabled(channels: Iterable[str]) -> list[str]:
    enabled = enabled_channels()
    return [channel for channel in channels if channel in enabled]


def _addressees(message: Message, channels: list[str]) -> Iterator[tuple[int, str]]:
    """(recipient, channel) pairs of a message: each recipient once, None left out."""
    seen: set[int] = set()
    for recipient_id in message.recipient_ids:
        if recipient_id is None or recipient_id in seen:
            continue
        seen.add(recipient_id)
        for channel in channels:
            yield recipient_id, channel


# What a message puts in each of its rows, in the order `_values` gives them.
_COLUMNS = (
    "recipient_id",
    "channel",
    "dedupe_key",
    "verb",
    "title",
    "body",
    "link",
    "object_type",
    "object_id",
)


def _values(message: Message, recipient_id: int, channel: str) -> tuple:
    return (
        recipient_id,
        channel,
        message.dedupe_key,
        message.verb,
        str(message.title)[:200],
        str(message.body),
        message.link,
        message.object_type,
        message.object_id,
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


def _deliver_after_commit(notification_ids: list[int]) -> None:
    if notification_ids:
        transaction.on_commit(lambda: _enqueue_delivery(notification_ids))


def _enqueue_delivery(notification_ids: list[int]) -> None:
    from .tasks import deliver_notifications

    deliver_notifications.enqueue(notification_ids)
