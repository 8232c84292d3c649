"""Text messages to phones behind one interface; the backend is chosen by SMS_BACKEND."""

import logging
from abc import ABC, abstractmethod
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import SmsMessage

logger = logging.getLogger("gongzhi.sms")


class SmsBackend(ABC):
    @abstractmethod
    def deliver(self, phone: str, body: str) -> None:
        """Hand one message to the gateway; raise if it was not accepted."""


class ConsoleSmsBackend(SmsBackend):
    """Prints the message to the log; the outbox row is the record. For demos and intranets."""

    def deliver(self, phone: str, body: str) -> None:
        logger.warning("SMS to %s: %s", phone, body)


@lru_cache(maxsize=4)
def _backend(path: str) -> SmsBackend:
    return import_string(path)()


def sms_send(*, phone: str, body: str) -> SmsMessage:
    """Record the message in the outbox and hand it to the configured backend."""
    message = SmsMessage.objects.create(phone=phone, body=body, backend=settings.SMS_BACKEND)
    try:
        _backend(settings.SMS_BACKEND).deliver(phone, body)
    except Exception as exc:  # a gateway failure must not lose the message: it stays queued
        logger.exception("SMS delivery failed")
        SmsMessage.objects.filter(pk=message.pk).update(error=str(exc)[:500])
    else:
        SmsMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
    return message
