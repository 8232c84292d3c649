"""`/cases/<number>/`, the address notifications give a case: each reader lands on the page
that is theirs (the worker's case page or 我的诉求), anyone else on a 404."""

import pytest
from django.urls import reverse

from gongzhi.accounts.models import Relation
from gongzhi.accounts.services import residency_claim, user_create
from gongzhi.cases.services import case_merge, case_respond, case_transfer
from gongzhi.core.models import Notification


def opened(client, user, case):
    client.force_login(user)
    return client.get(reverse("cases:case_open", args=[case.number]))


def worker_page(case):
    return reverse("cases_worker:case", args=[case.number])


def reporter_page(case):
    return reverse("resident:my_case", args=[case.number])


@pytest.mark.parametrize("who", ["grid_worker", "worker", "secretary", "supervisor", "admin"])
def test_the_handling_side_lands_on_the_worker_case_page(client, report, people, who):
    case = report()
    response = opened(client, people[who], case)
    assert response.status_code == 302 and response["Location"] == worker_page(case)


def test_the_reporter_lands_on_their_own_case_page(client, report, people):
    case = report()
    response = opened(client, people["resident"], case)
    assert response.status_code == 302 and response["Location"] == reporter_page(case)
    assert client.get(response["Location"]).status_code == 200


def test_a_merged_duplicates_reporter_lands_on_the_case_it_joined(client, report, people, tree):
    neighbour = user_create(actor=None, username="neighbour", name="邻居", phone="13900000002")
    residency_claim(user=neighbour, place=tree["dwelling_102"], relation=Relation.TENANT)
    kept = report(actor=neighbour, place=tree["dwelling_102"], text="1号楼门口的路灯坏了")
    mine = report(text="1号楼门口路灯不亮")
    case_merge(actor=people["worker"], case=mine, into=kept)

    response = opened(client, people["resident"], kept)
    assert response.status_code == 302 and response["Location"] == reporter_page(kept)
    assert client.get(response["Location"]).status_code == 200


def test_the_person_asked_to_take_a_case_over_lands_on_the_worker_page(client, report, people):
    case = report()
    case_transfer(actor=people["grid_worker"], case=case, to=people["property"], reason="物业设施")
    response = opened(client, people["property"], case)
    assert response.status_code == 302 and response["Location"] == worker_page(case)
    assert client.get(response["Location"]).status_code == 200


def test_staff_who_reported_a_case_in_their_own_scope_handle_it_on_the_worker_page(
    client, report, people, tree
):
    case = report(actor=people["worker"], place=tree["building"])
    response = opened(client, people["worker"], case)
    assert response["Location"] == worker_page(case)


@pytest.mark.parametrize("who", ["other_worker", "volunteer", "partner", "property"])
def test_anyone_else_gets_the_same_404_as_for_a_missing_case(client, report, people, who):
    case = report()
    assert opened(client, people[who], case).status_code == 404
    missing = client.get(reverse("cases:case_open", args=["HQXC-20991231-9999"]))
    assert missing.status_code == 404


def test_someone_not_signed_in_is_asked_to_sign_in_and_comes_back(client, report):
    case = report()
    url = reverse("cases:case_open", args=[case.number])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_a_handlers_notification_opens_the_worker_case_page(client, report, people):
    case = report()
    notice = Notification.objects.get(recipient=people["grid_worker"], verb="case.assigned")
    assert notice.link == reverse("cases:case_open", args=[case.number])

    client.force_login(people["grid_worker"])
    response = client.post(
        reverse("core:inbox_mark_read", args=[notice.pk]), {"open": "1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == worker_page(case)
    assert response.status_code == 200 and case.number in response.content.decode()


def test_a_reporters_notification_opens_their_case_page(client, report, people):
    case = report()
    case_respond(actor=people["grid_worker"], case=case)
    notice = Notification.objects.get(recipient=people["resident"], verb="case.responded")

    client.force_login(people["resident"])
    response = client.post(
        reverse("core:inbox_mark_read", args=[notice.pk]), {"open": "1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reporter_page(case)
    assert response.status_code == 200 and case.number in response.content.decode()
