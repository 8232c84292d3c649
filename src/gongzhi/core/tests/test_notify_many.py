"""`notify_many`, the bulk writer of the clock checker: the same rows as `notify`, once per
key, whichever writer got there first."""

from gongzhi.core.models import Notification, SmsMessage
from gongzhi.core.notifications import Message, notify, notify_many

FIELDS = ("channel", "verb", "title", "body", "link", "object_type", "object_id", "read_at")


def message(recipients, key="", about=None) -> Message:
    return Message(
        recipient_ids=[r.pk for r in recipients],
        verb="case.overdue",
        title="诉求 HQ-20261127-0001 已超过办结时限（11-27 17:00）",
        body="路灯 · 1号楼：楼道灯不亮",
        link="/cases/HQ-20261127-0001/",
        object_type="accounts.user" if about else "",
        object_id=str(about.pk) if about else "",
        dedupe_key=key,
    )


def test_the_rows_are_those_notify_writes(alice, bob):
    assert notify_many([message([alice], about=alice)]) == 1
    notify(
        recipients=[bob],
        verb="case.overdue",
        title="诉求 HQ-20261127-0001 已超过办结时限（11-27 17:00）",
        body="路灯 · 1号楼：楼道灯不亮",
        link="/cases/HQ-20261127-0001/",
        obj=alice,
    )
    bulk = Notification.objects.values(*FIELDS).get(recipient=alice)
    single = Notification.objects.values(*FIELDS).get(recipient=bob)
    assert bulk == single
    row = Notification.objects.get(recipient=alice)
    assert row.created_at is not None and row.sent_at is None and row.attempts == 0


def test_a_key_already_queued_for_someone_is_not_queued_again(alice, bob):
    notify(recipients=[alice], verb="case.overdue", title="已超时", dedupe_key="case-alarm:9")
    queued = notify_many([message([alice, bob, bob], key="case-alarm:9"), message([alice])])
    assert queued == 2  # bob once under the key, alice for the message without one
    assert Notification.objects.filter(dedupe_key="case-alarm:9").count() == 2
    assert notify_many([message([alice, bob], key="case-alarm:9")]) == 0


def test_outbound_rows_are_delivered_after_commit(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_many([message([alice], key="k")], channels=("in_app", "sms")) == 2
    assert SmsMessage.objects.filter(phone=alice.phone).count() == 1
