"""The resident's pages through the Django test client: the community report page behind
its QR code, signing in with a texted code, reporting, 我的诉求, the rating, the poster and
the elder-friendly switch."""

import io
import re
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.accounts.models import Relation, User
from gongzhi.accounts.services import residency_claim, user_create
from gongzhi.cases.models import Case, Category, Channel, Policy
from gongzhi.cases.qr import qr_svg, report_url
from gongzhi.cases.services import (
    case_complete,
    case_follow_up,
    case_merge,
    case_respond,
    case_start,
    category_save,
    policy_save,
)
from gongzhi.cases.states import CaseState
from gongzhi.core.models import SmsMessage
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create

from .conftest import at, png

NOW = at(2026, 11, 27, 9, 0)  # a Friday morning, inside the service window


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.fixture
def slug(tree):
    return tree["community"].settings.report_slug


@pytest.fixture
def resident(people, tree):
    """The resident, with their claimed home in the community (the page pre-fills it)."""
    user = people["resident"]
    residency_claim(user=user, place=tree["dwelling"], relation=Relation.OWNER)
    return user


@pytest.fixture
def resident_client(client, resident):
    client.force_login(resident)
    return client


def form_data(tree, category="street_light", **overrides):
    data = {
        "category": category,
        "place": str(tree["dwelling"].pk),
        "text": "1号楼门口的路灯不亮了，晚上很黑",
        "idempotency_key": "key-1",
    }
    data.update(overrides)
    return data


def latest_code(phone: str) -> str:
    body = SmsMessage.objects.filter(phone=phone).order_by("-created_at", "-pk").first().body
    return re.search(r"\d{6}", body).group()


@pytest.fixture
def ask_code(client, slug, django_capture_on_commit_callbacks):
    """Ask the report page for a code; the text message leaves once the request commits."""

    def ask(phone: str, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("resident:report_code", args=[slug]), {"phone": phone}, **kwargs
            )

    return ask


def complete(case, people):
    case = case_respond(actor=people["grid_worker"], case=case)
    case = case_start(actor=people["grid_worker"], case=case)
    return case_complete(actor=people["grid_worker"], case=case, note="已更换灯泡")


# --- the report page behind the QR code ---------------------------------------------------


def test_each_community_slug_opens_its_own_report_page(client, tree, slug):
    response = client.get(reverse("resident:report", args=[slug]))
    other = client.get(
        reverse("resident:report", args=[tree["other_community"].settings.report_slug])
    )

    assert response.status_code == 200
    assert "虹桥新城居民区" in response.text
    assert "获取验证码" in response.text
    assert "另一居民区" in other.text


def test_an_unknown_slug_is_not_found(client, tree):
    assert client.get(reverse("resident:report", args=["no-such-place"])).status_code == 404


def test_a_resident_signs_in_with_a_texted_code_and_gets_the_form(
    client, ask_code, resident, tree, slug
):
    response = ask_code(resident.phone, follow=True)
    assert "验证码已发送至 139****0001" in response.text
    assert "填写验证码" in response.text
    assert "怎么称呼您" not in response.text

    response = client.post(
        reverse("resident:report_verify", args=[slug]),
        {"code": latest_code(resident.phone)},
        follow=True,
    )

    assert response.wsgi_request.user == resident
    assert "路灯不亮" in response.text  # the category tiles
    selected = re.search(r'<option value="(\d+)" selected>', response.text)
    assert selected and selected.group(1) == str(tree["dwelling"].pk)


def test_a_phone_new_to_the_platform_gets_an_account_with_the_name_it_gives(
    client, ask_code, tree, slug
):
    ask_code("13712345678")
    code = latest_code("13712345678")

    response = client.post(reverse("resident:report_verify", args=[slug]), {"code": code})
    assert "请告诉我们怎么称呼您。" in response.text
    assert not User.objects.filter(phone="13712345678").exists()

    response = client.post(
        reverse("resident:report_verify", args=[slug]), {"code": code, "name": "王阿姨"}
    )

    assert response.status_code == 302
    user = User.objects.get(phone="13712345678")
    assert user.name == "王阿姨"
    page = client.get(reverse("resident:report", args=[slug]))
    assert page.wsgi_request.user == user
    assert "申报住址" in page.text  # no home yet: only the estate's shared places


def test_a_wrong_code_is_refused_in_chinese_and_the_code_step_stays(
    client, ask_code, resident, slug
):
    ask_code(resident.phone)

    response = client.post(reverse("resident:report_verify", args=[slug]), {"code": "000000"})

    assert "验证码错误，还可以再试" in response.text
    assert "填写验证码" in response.text
    assert not response.wsgi_request.user.is_authenticated


def test_a_malformed_phone_is_refused_before_any_text_is_sent(client, tree, slug):
    response = client.post(reverse("resident:report_code", args=[slug]), {"phone": "12345"})

    assert response.status_code == 200
    assert "errorlist" in response.text
    assert not SmsMessage.objects.exists()


# --- reporting ------------------------------------------------------------------------------


def test_a_report_creates_the_case_and_the_confirmation_says_when(resident_client, tree, slug):
    response = resident_client.post(reverse("resident:report", args=[slug]), form_data(tree))

    case = Case.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("resident:reported", args=[case.number])
    assert case.channel == Channel.RESIDENT_PAGE
    assert case.place == tree["dwelling"]
    assert case.category.code == "street_light"
    assert not case.is_anonymous

    page = resident_client.get(response.url)
    assert case.number in page.text
    # street light: respond within 15 min of service hours, complete within 24 h
    assert "今天 09:15 前，工作人员会接单并告诉您" in page.text
    assert "预计 明天 09:00 前" in page.text


def test_a_report_late_at_night_expects_the_response_next_morning(resident_client, tree, slug):
    with time_machine.travel(at(2026, 11, 27, 23, 0), tick=False):
        response = resident_client.post(reverse("resident:report", args=[slug]), form_data(tree))
        page = resident_client.get(response.url)

    assert "明天 08:15 前，工作人员会接单并告诉您" in page.text


def test_a_report_may_be_about_a_shared_place_of_the_estate(resident_client, tree, slug):
    garden = place_create(
        actor=None, kind=PlaceKind.PUBLIC_AREA, name="中心花园", segment="P1", parent=tree["estate"]
    )
    page = resident_client.get(reverse("resident:report", args=[slug]))
    assert "虹桥新城小区 中心花园" in page.text
    assert "虹桥新城小区（整个小区）" in page.text

    resident_client.post(
        reverse("resident:report", args=[slug]),
        form_data(tree, category="litter", place=str(garden.pk), text="花园里垃圾没人清"),
    )

    assert Case.objects.get().place == garden


def test_a_place_of_another_community_cannot_be_chosen(resident_client, tree, slug):
    response = resident_client.post(
        reverse("resident:report", args=[slug]),
        form_data(tree, place=str(tree["other_dwelling"].pk)),
    )

    assert "请从列表中选择地点。" in response.text
    assert not Case.objects.exists()


def test_someone_with_no_home_here_is_asked_to_claim_one_first(client, tree, slug):
    newcomer = user_create(actor=None, username="newcomer", name="新住户", phone="13712345678")
    client.force_login(newcomer)
    page = client.get(reverse("resident:report", args=[slug]))
    assert "反映问题前，请先告诉我们您住在哪里" in page.text
    assert "不用等社区核验" in page.text
    assert f"{reverse('accounts:claim')}?community={tree['community'].pk}" in page.text
    assert 'id="report-form"' not in page.text

    # A claim is enough: the form comes at once, with the new home chosen.
    residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.TENANT)
    page = client.get(reverse("resident:report", args=[slug]))
    assert 'id="report-form"' in page.text
    selected = re.search(r'<option value="(\d+)" selected>', page.text)
    assert selected and selected.group(1) == str(tree["dwelling_102"].pk)


def test_a_resident_of_another_community_is_told_this_page_is_not_theirs(resident_client, tree):
    other = reverse("resident:report", args=[tree["other_community"].settings.report_slug])
    page = resident_client.get(other)
    assert "您登记的住址不在本居民区" in page.text
    assert 'id="report-form"' not in page.text
    response = resident_client.post(other, form_data(tree, place=str(tree["dwelling"].pk)))
    assert not Case.objects.exists() and response.status_code == 200


def test_street_shops_are_among_the_shared_places(resident_client, tree, slug):
    place_create(
        actor=None,
        kind=PlaceKind.STREET_SHOP,
        name="沿街便利店",
        segment="S1",
        parent=tree["community"],
    )
    page = resident_client.get(reverse("resident:report", args=[slug]))
    assert "沿街便利店" in page.text


def test_a_double_submit_with_the_same_key_makes_one_case(resident_client, tree, slug):
    url = reverse("resident:report", args=[slug])

    first = resident_client.post(url, form_data(tree))
    second = resident_client.post(url, form_data(tree))

    assert Case.objects.count() == 1
    assert first.url == second.url == reverse("resident:reported", args=[Case.objects.get().number])


def test_each_form_carries_a_fresh_idempotency_key(resident_client, slug):
    keys = [
        re.search(
            r'name="idempotency_key" value="([0-9a-f]{32})"',
            resident_client.get(reverse("resident:report", args=[slug])).text,
        ).group(1)
        for _ in range(2)
    ]
    assert keys[0] != keys[1]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category": ""}, "请先选择问题类别。"),
        ({"text": "   "}, "请描述遇到的问题。"),
        ({"category": "lift_trapped"}, "请回答：被困人数"),
        ({"category": "lift_trapped", "q-lift_trapped-trapped_count": "两个"}, "请填写数字。"),
    ],
)
def test_bad_input_is_explained_in_chinese_and_nothing_typed_is_lost(
    resident_client, tree, slug, overrides, message
):
    data = form_data(tree, **overrides)
    if data["text"].strip():
        data["text"] = "电梯里好像有人被困，按铃没人应"

    response = resident_client.post(reverse("resident:report", args=[slug]), data)

    assert response.status_code == 200
    assert message in response.text
    assert "请按红字提示修改，已填写的内容都还在。" in response.text
    if data["text"].strip():
        assert "电梯里好像有人被困，按铃没人应</textarea>" in response.text
    if data["category"]:
        assert f'value="{data["category"]}" checked' in response.text
    assert 'name="idempotency_key" value="key-1"' in response.text
    assert not Case.objects.exists()


def test_a_file_that_is_not_a_picture_is_refused_and_the_text_kept(resident_client, tree, slug):
    notes = SimpleUploadedFile("notes.txt", b"not a picture", content_type="text/plain")

    response = resident_client.post(
        reverse("resident:report", args=[slug]), {**form_data(tree), "photos": [notes]}
    )

    assert "“notes.txt”不是图片，请选择照片文件。" in response.text
    assert "请重新选择照片" in response.text
    assert "1号楼门口的路灯不亮了，晚上很黑</textarea>" in response.text
    assert not Case.objects.exists()


def test_up_to_four_photos_are_stored_and_a_fifth_is_refused(resident_client, tree, slug):
    url = reverse("resident:report", args=[slug])
    too_many = resident_client.post(
        url, {**form_data(tree), "photos": [png(f"p{i}.png") for i in range(5)]}
    )
    assert "照片最多 4 张，请少选几张。" in too_many.text
    assert not Case.objects.exists()

    resident_client.post(url, {**form_data(tree), "photos": [png("a.png"), png("b.png")]})

    assert Case.objects.get().photos.count() == 2


def test_the_chosen_category_questions_are_stored_by_datatype(resident_client, tree, slug, people):
    category = category_save(
        actor=people["admin"],
        category=Category(
            code="all_kinds",
            name="各种问题",
            questions=[
                {"code": "what", "label": "什么", "datatype": "string", "required": True},
                {"code": "count", "label": "几个", "datatype": "number"},
                {"code": "since", "label": "从何时起", "datatype": "datetime"},
                {"code": "more", "label": "详细", "datatype": "text"},
                {
                    "code": "floor",
                    "label": "楼层",
                    "datatype": "singlevaluelist",
                    "values": [{"key": "low", "name": "低区"}, {"key": "high", "name": "高区"}],
                },
                {
                    "code": "kinds",
                    "label": "类型",
                    "datatype": "multivaluelist",
                    "values": [{"key": "a", "name": "甲"}, {"key": "b", "name": "乙"}],
                },
            ],
        ),
    )
    prefix = f"q-{category.code}-"
    resident_client.post(
        reverse("resident:report", args=[slug]),
        form_data(
            tree,
            category=category.code,
            **{
                prefix + "what": "水箱",
                prefix + "count": "2",
                prefix + "since": "2026-11-26T20:30",
                prefix + "more": "一直在响",
                prefix + "floor": "high",
                prefix + "kinds": ["b", "a"],
                # another category's answer on the same page is not read
                "q-lift_trapped-trapped_count": "3",
            },
        ),
    )

    case = Case.objects.get()
    assert case.answers == {
        "what": "水箱",
        "count": 2,
        "since": "2026-11-26T20:30:00+08:00",
        "more": "一直在响",
        "floor": "high",
        "kinds": ["a", "b"],
    }
    page = resident_client.get(reverse("resident:my_case", args=[case.number]))
    assert "高区" in page.text and "甲、乙" in page.text and "2026-11-26 20:30" in page.text


def test_the_anonymous_box_is_explained_and_stored(resident_client, tree, slug):
    page = resident_client.get(reverse("resident:report", args=[slug]))
    assert "负责处理的工作人员仍能看到是谁反映的" in page.text

    resident_client.post(
        reverse("resident:report", args=[slug]), {**form_data(tree), "is_anonymous": "on"}
    )

    case = Case.objects.get()
    assert case.is_anonymous
    assert case.reporter.phone == "13900000001"  # the handlers still know who it is
    page = resident_client.get(reverse("resident:my_case", args=[case.number]))
    assert "对外匿名" in page.text


def test_likely_duplicates_are_shown_while_typing(resident_client, report, tree, slug, people):
    earlier = report(place=tree["dwelling_102"], text="1号楼门口的路灯坏了，晚上不亮")
    mine = report(text="1号楼门口路灯坏了")

    response = resident_client.get(
        reverse("resident:duplicates", args=[slug]),
        {
            "category": "street_light",
            "place": str(tree["dwelling"].pk),
            "text": "1号楼门口的路灯坏了",
        },
        headers={"HX-Request": "true"},
    )

    assert "这件事可能已经有人反映过" in response.text
    assert earlier.number in response.text and mine.number in response.text
    # only the resident's own case is linked; the neighbour's words and home are not shown
    assert reverse("resident:my_case", args=[mine.number]) in response.text
    assert reverse("resident:my_case", args=[earlier.number]) not in response.text
    assert "晚上不亮" not in response.text
    assert "102室" not in response.text


def test_no_duplicates_without_words(resident_client, report, tree, slug):
    report()
    response = resident_client.get(
        reverse("resident:duplicates", args=[slug]),
        {"category": "street_light", "place": str(tree["dwelling"].pk), "text": ""},
    )
    assert response.text.strip() == ""


# --- my cases -----------------------------------------------------------------------------


def test_my_cases_lists_only_my_own_newest_first(resident_client, report, people, tree):
    first = report(text="路灯不亮")
    other = report(actor=people["other_worker"], place=tree["other_dwelling"], text="楼道堆物")
    with time_machine.travel(at(2026, 11, 27, 9, 30), tick=False):
        second = report("litter", text="垃圾没清")

    response = resident_client.get(reverse("resident:my_cases"))

    text = response.text
    assert text.index(second.number) < text.index(first.number)
    assert other.number not in text
    assert "已收到，等待工作人员接单" in text
    assert reverse("resident:report", args=[tree["community"].settings.report_slug]) in text


def test_staff_see_only_what_they_reported_on_my_cases(client, report, people):
    case = report()
    client.force_login(people["worker"])

    response = client.get(reverse("resident:my_cases"))

    assert case.number not in response.text
    assert client.get(reverse("resident:my_case", args=[case.number])).status_code == 404


def test_another_residents_case_is_not_found(client, report, people, tree):
    case = report()
    neighbour = user_create(actor=None, username="neighbour", name="邻居", phone="13900000002")
    client.force_login(neighbour)

    assert client.get(reverse("resident:my_case", args=[case.number])).status_code == 404
    assert client.get(reverse("resident:reported", args=[case.number])).status_code == 404
    response = client.post(
        reverse("resident:my_case_follow_up", args=[case.number]),
        {"resolved": "yes", "satisfaction": "satisfied"},
    )
    assert response.status_code == 404


def test_my_case_shows_the_public_timeline_in_plain_words(resident_client, report, people):
    case = report()
    case_respond(actor=people["grid_worker"], case=case, note="马上去看")

    page = resident_client.get(reverse("resident:my_case", args=[case.number]))

    assert "您反映了问题" in page.text
    assert "工作人员接单" in page.text and "马上去看" in page.text
    assert "已有工作人员负责" in page.text
    assert "预计办好" in page.text
    assert "分派" not in page.text  # the routing step is internal


def test_the_photos_of_a_case_are_shown_on_its_page(resident_client, report):
    case = report(photos=[png()])

    page = resident_client.get(reverse("resident:my_case", args=[case.number]))

    photo = case.photos.get()
    try:
        url = reverse("cases_worker:photo", args=[photo.pk])
    except Exception:  # the worker pages serve photos; without them the count is shown
        assert "1 张照片" in page.text
    else:
        assert url in page.text
        assert resident_client.get(url).status_code == 200


def test_a_case_merged_into_a_neighbours_is_followed_there(resident_client, report, people, tree):
    theirs = report(place=tree["dwelling_102"], text="1号楼门口的路灯坏了")
    mine = report(text="1号楼门口路灯不亮")
    case_merge(actor=people["worker"], case=mine, into=theirs)

    page = resident_client.get(reverse("resident:my_case", args=[mine.number]))
    assert "与其他居民的反映合并办理" in page.text
    assert reverse("resident:my_case", args=[theirs.number]) in page.text

    joined = resident_client.get(reverse("resident:my_case", args=[theirs.number]))
    assert joined.status_code == 200
    assert "您反映的问题已并入这里" in joined.text


# --- the rating -----------------------------------------------------------------------------


def test_the_rating_is_offered_only_once_the_case_is_completed(resident_client, report, people):
    case = report()
    url = reverse("resident:my_case", args=[case.number])
    assert "问题解决了吗？" not in resident_client.get(url).text

    complete(case, people)

    assert "问题解决了吗？" in resident_client.get(url).text


def test_resolved_and_satisfied_closes_the_case(resident_client, report, people):
    case = complete(report(), people)

    response = resident_client.post(
        reverse("resident:my_case_follow_up", args=[case.number]),
        {"resolved": "yes", "satisfaction": "satisfied", "version": case.version},
        follow=True,
    )

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.follow_ups.get().method == "online"
    assert "谢谢您的评价，这件事已经结束。" in response.text
    assert "已结束" in response.text
    assert "问题又出现了，或者还没解决？" in response.text  # a complaint stays possible


def test_unsatisfied_reopens_the_case_and_says_so(resident_client, report, people):
    case = complete(report(), people)

    response = resident_client.post(
        reverse("resident:my_case_follow_up", args=[case.number]),
        {"resolved": "yes", "satisfaction": "unsatisfied", "note": "灯又灭了", "version": 4},
        follow=True,
    )

    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert case.reopen_count == 1
    assert "这件事已重新交给工作人员处理，预计明天 09:00前办好。" in response.text
    assert "已重新处理" in response.text
    assert "灯又灭了" in response.text
    assert "问题解决了吗？" not in response.text


def test_not_resolved_reopens_even_when_satisfied(resident_client, report, people):
    case = complete(report(), people)

    resident_client.post(
        reverse("resident:my_case_follow_up", args=[case.number]),
        {"resolved": "no", "satisfaction": "satisfied"},
    )

    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS


def test_an_incomplete_rating_keeps_the_form_and_says_what_is_missing(
    resident_client, report, people
):
    case = complete(report(), people)

    response = resident_client.post(
        reverse("resident:my_case_follow_up", args=[case.number]),
        {"resolved": "no", "note": "还是坏的"},
    )

    assert "请选择满意、基本满意或不满意。" in response.text
    assert re.search(r'value="no" id="id_resolved_1"[^>]* checked', response.text)
    assert "还是坏的</textarea>" in response.text
    case.refresh_from_db()
    assert case.state == CaseState.COMPLETED


def test_a_rating_of_a_case_that_changed_meanwhile_is_refused(resident_client, report, people):
    case = complete(report(), people)
    case_follow_up(actor=people["worker"], case=case, resolved=True, satisfaction="satisfied")

    response = resident_client.post(
        reverse("resident:my_case_follow_up", args=[case.number]),
        {"resolved": "no", "satisfaction": "unsatisfied", "version": case.version},
        follow=True,
    )

    assert "已被他人更新" in response.text
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED


def test_a_complaint_reopens_a_closed_case(resident_client, report, people):
    case = complete(report(), people)
    case = case_follow_up(
        actor=people["worker"], case=case, resolved=True, satisfaction="satisfied"
    )

    empty = resident_client.post(reverse("resident:my_case_reopen", args=[case.number]), {})
    assert "请说明还有什么问题。" in empty.text

    response = resident_client.post(
        reverse("resident:my_case_reopen", args=[case.number]),
        {"reason": "第二天又不亮了", "version": case.version},
        follow=True,
    )

    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert "已收到您的投诉" in response.text
    assert "第二天又不亮了" in response.text


# --- elder-friendly mode --------------------------------------------------------------------


def test_the_elder_switch_sets_the_cookie_for_a_year_and_goes_back(client, tree, slug):
    page = reverse("resident:report", args=[slug])

    response = client.post(reverse("resident:elder_mode"), {"elder": "1", "next": page})

    assert response.status_code == 302 and response.url == page
    cookie = response.cookies["elder_mode"]
    assert cookie.value == "1" and cookie["max-age"] == 365 * 24 * 60 * 60
    html = client.get(page).text
    assert '<html lang="zh-hans" class="elder">' in html
    assert "长辈模式：已开" in html
    assert "先验证手机号，再说说遇到的事。" in html

    off = client.post(reverse("resident:elder_mode"), {"elder": "0", "next": page})
    assert off.cookies["elder_mode"].value == "0"
    assert 'class="elder"' not in client.get(page).text


def test_the_elder_switch_does_not_send_anyone_off_site(client):
    response = client.post(
        reverse("resident:elder_mode"), {"elder": "1", "next": "https://evil.example/"}
    )
    assert response.url == reverse("home")


# --- the poster ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["secretary", "worker", "grid_worker", "supervisor"])
def test_staff_of_the_community_print_its_poster(client, people, slug, who):
    client.force_login(people[who])

    response = client.get(reverse("resident:poster", args=[slug]))

    assert response.status_code == 200
    assert "虹桥新城居民区" in response.text
    assert "扫码反映小事，15分钟响应" in response.text  # the fastest seeded target
    assert "服务时段 08:00—20:00" in response.text
    assert "电梯困人" in response.text  # answered around the clock
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in response.text
    assert f"http://testserver/r/{slug}/" in response.text


@pytest.mark.parametrize("who", ["resident", "other_worker", "volunteer"])
def test_the_poster_is_not_found_for_anyone_else(client, people, slug, who):
    client.force_login(people[who])

    assert client.get(reverse("resident:poster", args=[slug])).status_code == 404
    assert client.get(reverse("resident:poster_qr", args=[slug])).status_code == 404


def test_the_poster_promises_what_the_policies_say(client, people, tree, slug, category):
    for code, chosen in category.items():
        policy = Policy.objects.get(category=chosen, community__isnull=True)
        if code == "noise":
            # one community override, faster than every default
            policy_save(
                actor=people["admin"],
                policy=Policy(
                    category=chosen,
                    community=tree["community"],
                    response_amount=10,
                    response_unit="minutes",
                    response_clock="service_hours",
                    completion_amount=policy.completion_amount,
                    completion_unit=policy.completion_unit,
                    completion_clock=policy.completion_clock,
                ),
            )
    client.force_login(people["secretary"])

    page = client.get(reverse("resident:poster", args=[slug]))
    other = client.get(
        reverse("resident:poster", args=[tree["other_community"].settings.report_slug])
    )

    assert "扫码反映小事，10分钟响应" in page.text
    assert other.status_code == 404  # the secretary's scope is their own community
    client.force_login(people["supervisor"])
    other = client.get(
        reverse("resident:poster", args=[tree["other_community"].settings.report_slug])
    )
    assert "扫码反映小事，15分钟响应" in other.text


def test_the_qr_code_downloads_as_an_svg_file(client, people, slug):
    client.force_login(people["secretary"])

    response = client.get(reverse("resident:poster_qr", args=[slug]))

    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("aria-label") == "虹桥新城居民区 上报二维码"


def test_the_qr_code_is_a_square_of_modules_for_the_absolute_address(rf, settings, tree, slug):
    settings.ALLOWED_HOSTS = ["gongzhi.example.cn"]
    request = rf.get("/", HTTP_HOST="gongzhi.example.cn", secure=True)

    url = report_url(request=request, slug=slug)
    svg = ET.parse(io.StringIO(qr_svg(url, label="<码>"))).getroot()

    assert url == f"https://gongzhi.example.cn/r/{slug}/"
    _x, _y, width, height = svg.get("viewBox").split()
    assert width == height and int(width) >= 25  # version 2 or more, with the quiet zone
    assert svg.get("aria-label") == "<码>"  # escaped in the markup, intact when parsed
