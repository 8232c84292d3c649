"""Queuing and delivering notifications: once per key, once per row, failures retried."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.accounts.services import user_create
from gongzhi.core.models import Notification, SmsMessage
from gongzhi.core.notifications import notify
from gongzhi.core.sms import SmsBackend
from gongzhi.core.tasks import (
    MAX_ATTEMPTS,
    RETRY_AFTER,
    _attempt,
    deliver_notifications,
    retry_notifications,
)


class FlakySmsBackend(SmsBackend):
    """A gateway the test can switch off."""

    down = False

    def deliver(self, phone: str, body: str) -> None:
        if FlakySmsBackend.down:
            raise ConnectionError("gateway unreachable")


@pytest.fixture
def flaky_sms(settings):
    settings.SMS_BACKEND = f"{__name__}.FlakySmsBackend"
    FlakySmsBackend.down = False
    yield FlakySmsBackend
    FlakySmsBackend.down = False


def send_sms_notice(recipient, captured, **kwargs):
    with captured(execute=True):
        return notify(
            recipients=[recipient],
            verb="case.overdue",
            title="案件已超时",
            body="1号楼楼道灯不亮",
            channels=("in_app", "sms"),
            **kwargs,
        )


def test_the_same_key_twice_makes_one_row_per_channel(alice, django_capture_on_commit_callbacks):
    first = send_sms_notice(alice, django_capture_on_commit_callbacks, dedupe_key="case:1:warn")
    again = send_sms_notice(alice, django_capture_on_commit_callbacks, dedupe_key="case:1:warn")
    assert len(first) == 2 and again == []
    assert Notification.objects.filter(recipient=alice).count() == 2
    assert SmsMessage.objects.filter(phone=alice.phone).count() == 1


def test_an_sms_notification_is_delivered_after_commit(alice, django_capture_on_commit_callbacks):
    send_sms_notice(alice, django_capture_on_commit_callbacks)
    row = Notification.objects.get(recipient=alice, channel="sms")
    assert row.sent_at is not None and row.attempts == 1 and row.error == ""
    assert SmsMessage.objects.get().body == "案件已超时：1号楼楼道灯不亮"
    # the in-app row is the inbox entry, not something to send
    assert Notification.objects.get(recipient=alice, channel="in_app").attempts == 0


def test_delivery_runs_twice_but_sends_once(alice, django_capture_on_commit_callbacks):
    rows = send_sms_notice(alice, django_capture_on_commit_callbacks)
    ids = [r.pk for r in rows]
    deliver_notifications.enqueue(ids)
    deliver_notifications.enqueue(ids)
    retry_notifications.enqueue()
    assert SmsMessage.objects.count() == 1


def test_two_workers_claiming_the_same_row_send_once(alice):
    (row,) = notify(recipients=[alice], verb="v", title="t", channels=("sms",))
    # both workers read attempts=0 before either claimed the row
    assert _attempt(row.pk, 0) is True
    assert _attempt(row.pk, 0) is False
    assert SmsMessage.objects.count() == 1


def test_a_failure_is_recorded_and_retried_after_a_pause(
    alice, flaky_sms, django_capture_on_commit_callbacks
):
    flaky_sms.down = True
    send_sms_notice(alice, django_capture_on_commit_callbacks)
    row = Notification.objects.get(channel="sms")
    assert (row.sent_at, row.attempts, row.error) == (None, 1, "gateway unreachable")

    flaky_sms.down = False
    assert retry_notifications.call() == 0  # too soon: the attempt may still be running
    with time_machine.travel(timezone.now() + RETRY_AFTER + timedelta(seconds=1)):
        assert retry_notifications.call() == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and row.error == ""
    assert SmsMessage.objects.filter(sent_at__isnull=False).count() == 1


def test_retries_stop_after_the_last_attempt(alice, flaky_sms, django_capture_on_commit_callbacks):
    flaky_sms.down = True
    send_sms_notice(alice, django_capture_on_commit_callbacks)
    moment = timezone.now()
    for _ in range(MAX_ATTEMPTS + 2):
        moment += RETRY_AFTER + timedelta(seconds=1)
        with time_machine.travel(moment):
            retry_notifications.call()
    row = Notification.objects.get(channel="sms")
    assert row.attempts == MAX_ATTEMPTS and row.sent_at is None
    assert SmsMessage.objects.count() == MAX_ATTEMPTS


def test_a_row_whose_first_delivery_was_lost_is_picked_up_by_the_retry(alice):
    # queued outside a transaction that commits (say the process died first): no delivery
    notify(recipients=[alice], verb="v", title="请回访", channels=("sms",))
    assert SmsMessage.objects.count() == 0
    with time_machine.travel(timezone.now() + RETRY_AFTER + timedelta(seconds=1)):
        assert retry_notifications.call() == 1
    assert SmsMessage.objects.get().phone == alice.phone


def test_no_phone_is_recorded_and_not_retried(db, django_capture_on_commit_callbacks):
    nophone = user_create(actor=None, username="nophone", name="无手机")
    send_sms_notice(nophone, django_capture_on_commit_callbacks)
    row = Notification.objects.get(channel="sms")
    assert row.sent_at is None and row.attempts == MAX_ATTEMPTS
    assert "phone" in row.error


def test_channels_not_enabled_are_not_queued(alice, settings):
    assert settings.GONGZHI["NOTIFICATION_CHANNELS"] == ["in_app", "sms"]
    rows = notify(recipients=[alice], verb="v", title="t", channels=("in_app", "email", "webhook"))
    assert [r.channel for r in rows] == ["in_app"]


def test_email_channel_sends_to_the_users_address(
    alice, settings, django_capture_on_commit_callbacks
):
    settings.GONGZHI = {**settings.GONGZHI, "NOTIFICATION_CHANNELS": ["in_app", "email"]}
    # accounts has no service for e-mail addresses yet; the field is set directly
    User.objects.filter(pk=alice.pk).update(email="alice@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[alice], verb="v", title="议题已开启", body="请参加协商", channels=("email",)
        )
    assert [(m.subject, m.to) for m in mail.outbox] == [("议题已开启", ["alice@example.org"])]
    assert Notification.objects.get(channel="email").sent_at is not None


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(_Hook.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(settings):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received, _Hook.status = [], 200
    settings.GONGZHI_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    settings.GONGZHI = {**settings.GONGZHI, "NOTIFICATION_CHANNELS": ["in_app", "webhook"]}
    yield _Hook
    server.shutdown()
    server.server_close()
    thread.join()


def test_webhook_posts_json(alice, webhook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[alice], verb="case.overdue", title="案件已超时", channels=("webhook",))
    assert [(p["recipient"], p["verb"], p["title"]) for p in webhook.received] == [
        (alice.pk, "case.overdue", "案件已超时")
    ]
    assert Notification.objects.get(channel="webhook").sent_at is not None


def test_webhook_refusal_is_a_failure_to_retry(alice, webhook, django_capture_on_commit_callbacks):
    webhook.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[alice], verb="v", title="t", channels=("webhook",))
    row = Notification.objects.get(channel="webhook")
    assert row.sent_at is None and row.attempts == 1 and "500" in row.error


def test_webhook_without_url_is_not_used(alice, settings):
    settings.GONGZHI_WEBHOOK_URL = ""
    settings.GONGZHI = {**settings.GONGZHI, "NOTIFICATION_CHANNELS": ["in_app", "webhook"]}
    rows = notify(recipients=[alice], verb="v", title="t", channels=("in_app", "webhook"))
    assert [r.channel for r in rows] == ["in_app"]
