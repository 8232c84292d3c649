"""The inbox: a person sees and marks only their own in-app notifications."""

import pytest
from django.urls import reverse

from gongzhi.core.errors import NotFound
from gongzhi.core.models import AuditEvent
from gongzhi.core.notifications import notify
from gongzhi.core.selectors import notifications_for, unread_count_for
from gongzhi.core.services import notification_mark_read, notifications_mark_all_read


def tell(user, title, **kwargs):
    (row,) = notify(recipients=[user], verb="case.assigned", title=title, **kwargs)
    return row


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_selectors_show_only_own_in_app_notifications(alice, bob):
    mine = [tell(alice, "一"), tell(alice, "二")]
    tell(bob, "别人的")
    notify(recipients=[alice], verb="v", title="短信", channels=("sms",))
    assert list(notifications_for(alice)) == mine[::-1]  # newest first
    assert unread_count_for(alice) == 2


def test_marking_read_changes_the_unread_count_and_is_audited(alice):
    row = tell(alice, "楼道灯不亮")
    tell(alice, "垃圾未清运")
    notification_mark_read(user=alice, notification_id=row.pk)
    assert unread_count_for(alice) == 1
    assert list(notifications_for(alice, unread_only=True).values_list("title", flat=True)) == [
        "垃圾未清运"
    ]
    assert AuditEvent.objects.filter(verb="notification.read", object_id=str(row.pk)).exists()
    assert notifications_mark_all_read(user=alice) == 1
    assert unread_count_for(alice) == 0
    assert notifications_mark_all_read(user=alice) == 0


def test_someone_elses_notification_is_not_found(alice, bob):
    row = tell(bob, "李师傅的消息")
    with pytest.raises(NotFound):
        notification_mark_read(user=alice, notification_id=row.pk)
    row.refresh_from_db()
    assert row.read_at is None


def test_inbox_page_lists_own_notifications_unread_in_bold(alice_client, alice, bob):
    tell(alice, "您有新的案件", link="/cases/7/")
    tell(bob, "不该看到的消息")
    response = alice_client.get(reverse("core:inbox"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>" in page and "您有新的案件" in page
    assert "不该看到的消息" not in page
    assert "全部标为已读" in page


def test_inbox_needs_login(client):
    response = client.get(reverse("core:inbox"))
    assert response.status_code == 302


def test_mark_read_of_another_users_notification_is_404(alice_client, bob):
    row = tell(bob, "李师傅的消息")
    response = alice_client.post(reverse("core:inbox_mark_read", args=[row.pk]))
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_read_then_the_badge_count_drops(alice_client, alice):
    first = tell(alice, "一")
    tell(alice, "二")
    count_url = reverse("core:inbox_unread_count")
    assert ">2</span>" in alice_client.get(count_url).content.decode()

    response = alice_client.post(reverse("core:inbox_mark_read", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("core:inbox")
    assert ">1</span>" in alice_client.get(count_url).content.decode()

    alice_client.post(reverse("core:inbox_mark_all_read"))
    assert "badge" not in alice_client.get(count_url).content.decode()


def test_opening_an_unread_notification_marks_it_read_and_follows_its_link(alice_client, alice):
    row = tell(alice, "您有新的案件", link="/cases/7/")
    response = alice_client.post(reverse("core:inbox_mark_read", args=[row.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/cases/7/"
    assert unread_count_for(alice) == 0


def test_a_link_to_another_site_is_not_followed(alice_client, alice):
    row = tell(alice, "外链", link="https://evil.example/")
    response = alice_client.post(reverse("core:inbox_mark_read", args=[row.pk]), {"open": "1"})
    assert response["Location"] == reverse("core:inbox")


def test_htmx_mark_read_returns_the_item_and_refreshes_the_badge(alice_client, alice):
    row = tell(alice, "楼道灯不亮")
    response = alice_client.post(
        reverse("core:inbox_mark_read", args=[row.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "inbox-changed"
    body = response.content.decode()
    assert f'id="notification-{row.pk}"' in body and "未读" not in body


def test_header_badge_shows_the_count_on_every_page(alice_client, alice):
    tell(alice, "一")
    page = alice_client.get(reverse("core:inbox")).content.decode()
    assert 'id="inbox-unread"' in page and ">1</span>" in page
    # shown with the page, then polled: not fetched again as the page loads
    assert 'hx-trigger="every 30s, inbox-changed from:body"' in page


def test_unread_count_after_logout_is_an_empty_answer(client):
    response = client.get(reverse("core:inbox_unread_count"))
    assert response.status_code == 204
