"""Delivery backends for notifications: one class per outbound channel, one interface.

The in-app channel has no backend: the `Notification` row is the inbox entry. Outbound
channels are used only when listed in `settings.GONGZHI["NOTIFICATION_CHANNELS"]` and
configured (the webhook needs `GONGZHI_WEBHOOK_URL`), so an intranet without an SMS
gateway or mail server simply does not queue messages it could never send.
"""

import json
import urllib.request
from abc import ABC, abstractmethod
from typing import cast

from django.conf import settings
from django.core.mail import send_mail

from .models import Notification, NotificationChannel, SmsMessage
from .sms import sms_send

WEBHOOK_TIMEOUT_SECONDS = 5


class Undeliverable(Exception):
    """The message can never be delivered on this channel (no phone, no e-mail address):
    retrying would not help, so the row is not retried."""


class DeliveryChannel(ABC):
    name: str

    def is_configured(self) -> bool:
        """Whether this installation can send on the channel at all."""
        return True

    @abstractmethod
    def send(self, notification: Notification) -> None:
        """Hand one notification to the channel; raise if it was not accepted."""


class SmsChannel(DeliveryChannel):
    name = NotificationChannel.SMS

    def send(self, notification: Notification) -> None:
        phone = notification.recipient.phone
        if not phone:
            raise Undeliverable("recipient has no phone number")
        message = sms_send(phone=phone, body=_plain_text(notification))
        # sms_send keeps a failed message in its outbox instead of raising; read the
        # outcome back so the notification is retried.
        outcome = SmsMessage.objects.values("sent_at", "error").get(pk=message.pk)
        if outcome["sent_at"] is None:
            raise RuntimeError(outcome["error"] or "SMS gateway did not accept the message")


class EmailChannel(DeliveryChannel):
    name = NotificationChannel.EMAIL

    def send(self, notification: Notification) -> None:
        address = notification.recipient.email
        if not address:
            raise Undeliverable("recipient has no e-mail address")
        send_mail(
            subject=notification.title,
            message=notification.body or notification.title,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
            fail_silently=False,
        )


class WebhookChannel(DeliveryChannel):
    name = NotificationChannel.WEBHOOK

    def is_configured(self) -> bool:
        return bool(settings.GONGZHI_WEBHOOK_URL)

    def send(self, notification: Notification) -> None:
        payload = {
            "id": notification.pk,
            "recipient": notification.recipient_id,
            "verb": notification.verb,
            "title": notification.title,
            "body": notification.body,
            "link": notification.link,
            "object_type": notification.object_type,
            "object_id": notification.object_id,
            "created_at": notification.created_at.isoformat(),
        }
        request = urllib.request.Request(
            settings.GONGZHI_WEBHOOK_URL,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        # urlopen raises HTTPError for 4xx/5xx, so a refused call counts as a failure.
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read()


OUTBOUND_CHANNELS: dict[str, DeliveryChannel] = {
    channel.name: channel for channel in (SmsChannel(), EmailChannel(), WebhookChannel())
}


def enabled_channels() -> set[str]:
    """The channels notifications go out on: listed in settings and configured."""
    listed = set(cast(list[str], settings.GONGZHI["NOTIFICATION_CHANNELS"]))
    enabled = {NotificationChannel.IN_APP.value} & listed
    for name, channel in OUTBOUND_CHANNELS.items():
        if name in listed and channel.is_configured():
            enabled.add(name)
    return enabled


def channel_for(name: str) -> DeliveryChannel:
    """The backend of an outbound channel that is enabled; `Undeliverable` otherwise."""
    if name not in enabled_channels():
        raise Undeliverable(f"channel {name!r} is not enabled")
    return OUTBOUND_CHANNELS[name]


def _plain_text(notification: Notification) -> str:
    if notification.body:
        return f"{notification.title}：{notification.body}"
    return notification.title
