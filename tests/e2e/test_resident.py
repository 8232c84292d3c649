"""A resident on a 375 px phone: opens the community's QR link, signs in with a texted code,
reports a broken street light with a photo, reads the confirmation; later rates the
completed case as unsatisfied and sees it reopened. Elder-friendly mode is checked on a
screenshot of the report page."""

import re

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Relation
from gongzhi.accounts.services import residency_claim
from gongzhi.cases.models import Case, Category
from gongzhi.cases.selectors import categories_for_report
from gongzhi.cases.services import case_complete, case_respond, case_start, category_save
from gongzhi.cases.states import CaseState
from gongzhi.core.models import SmsMessage


@pytest.fixture
def street_light(transactional_db):
    """The seeded category; a browser test's database is emptied between tests, seeds too."""
    return categories_for_report().filter(code="street_light").first() or category_save(
        actor=None,
        category=Category(
            code="street_light", name="路灯不亮", keywords=["路灯", "照明"], lead_role="grid_worker"
        ),
    )


@pytest.fixture
def resident(people, tree):
    user = people["resident"]
    residency_claim(user=user, place=tree["dwelling"], relation=Relation.OWNER)
    return user


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "light.png"
    Image.new("RGB", (64, 48), (250, 200, 0)).save(path, format="PNG")
    return path


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_resident_reports_by_qr_link_then_rates_unsatisfied_and_it_reopens(
    phone_page, page_log, tree, people, resident, street_light, photo, tmp_path
):
    page = phone_page
    slug = tree["community"].settings.report_slug

    # the QR code's link, not signed in: phone number and a texted code
    page.goto(reverse("resident:report", args=[slug]))
    expect(page.locator("h1")).to_have_text("虹桥新城居民区")
    page.get_by_label("手机号").fill(resident.phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发到 139****0001")).to_be_visible()
    sms = SmsMessage.objects.filter(phone=resident.phone).order_by("-created_at").first()
    page.get_by_label("验证码").fill(re.search(r"\d{6}", sms.body).group())
    page.get_by_role("button", name="验证并继续").click()

    # the form: tap a tile, the home is already chosen, say what is wrong, add a photo
    expect(page.get_by_text("手机号已验证")).to_be_visible()
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "report-375.png", full_page=True)
    page.locator("label.tile", has_text="路灯不亮").click()
    expect(page.locator("input[name=category][value=street_light]")).to_be_checked()
    expect(page.get_by_label("在哪里")).to_have_value(str(tree["dwelling"].pk))
    # the duplicate hints are asked for as the text is typed (none yet: the first report)
    with page.expect_response(lambda response: "/duplicates/" in response.url):
        page.get_by_label("具体情况").fill("1号楼门口的路灯坏了，晚上很黑")
    page.locator("#photos-album").set_input_files(photo)
    expect(page.get_by_text("已选 1 张照片：light.png")).to_be_visible()
    page.get_by_role("button", name="提交").click()

    # the confirmation: the number and when to expect what
    expect(page.locator("h1")).to_have_text("已收到您反映的问题")
    case = Case.objects.get()
    expect(page.locator("[data-case-number]")).to_have_text(case.number)
    expect(page.get_by_text("工作人员会接单并告诉您")).to_be_visible()
    expect(page.get_by_text("什么时候办好")).to_be_visible()
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "reported-375.png", full_page=True)
    assert (case.channel, case.place, case.reporter) == (
        "resident_page",
        tree["dwelling"],
        resident,
    )
    assert case.photos.count() == 1

    # the grid worker completes it; the resident says it is resolved but is unsatisfied
    worker = people["grid_worker"]
    case = case_respond(actor=worker, case=case)
    case = case_start(actor=worker, case=case)
    case_complete(actor=worker, case=case, note="已更换灯泡")
    page.goto(reverse("resident:my_cases"))
    page.get_by_role("link", name=re.compile(case.number)).click()
    expect(page.get_by_text("已办好，请您评价")).to_be_visible()
    rating = page.locator("#rate")
    rating.locator("label.choice", has_text="解决了").click()
    rating.locator("label.choice", has_text="不满意").click()
    rating.get_by_label("还想说的话（可选）").fill("灯还是一闪一闪的")
    rating.get_by_role("button", name="提交评价").click()

    expect(page.get_by_text("这件事已重新交给工作人员处理，预计")).to_be_visible()
    expect(page.locator(".notice.reopened")).to_contain_text("已重新处理")
    expect(page.locator("[data-case-state]")).to_contain_text("正在处理")
    expect(page.locator(".timeline")).to_contain_text("灯还是一闪一闪的")
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.reopen_count == 1
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "my-case-375.png", full_page=True)

    page.wait_for_load_state("networkidle")
    assert page_log.page_errors == []
    assert page_log.console_errors == []
    assert page_log.failed_requests == []


def test_elder_mode_enlarges_the_report_page_and_is_remembered(
    phone_page, page_log, login, tree, resident, street_light, tmp_path
):
    page = phone_page
    login(page, "resident", "pw-Example-2026")
    page.goto(reverse("resident:report", args=[tree["community"].settings.report_slug]))
    tile = page.locator("label.tile", has_text="路灯不亮")
    normal_height = tile.bounding_box()["height"]

    page.get_by_role("button", name="长辈模式（大字）").click()

    expect(page.locator("html")).to_have_class("elder")
    expect(page.get_by_role("button", name="长辈模式：已开")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator(".lead")).to_have_text("选一类问题，说说情况，点“提交”。")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "21px"
    elder_height = tile.bounding_box()["height"]
    assert elder_height >= 64 and elder_height > normal_height
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "report-elder-375.png", full_page=True)

    page.reload()
    expect(page.locator("html")).to_have_class("elder")
    page.wait_for_load_state("networkidle")
    assert page_log.failed_requests == []
    assert page_log.console_errors == []
