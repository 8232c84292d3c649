"""A grid worker in a real browser: a new case is at the top of the inbox with its
countdown; the worker responds, starts and completes it with a photo, each step swapping
the case panel in place; the inbox's filters and refresh update the table without a
reload. The fast entry is driven from the keyboard, and the pages are checked on a
375 px phone. Screenshots of every page at 1280 and 375 px go to the test's tmp_path."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from gongzhi.cases.models import Case, Category, Channel
from gongzhi.cases.selectors import categories_for_report
from gongzhi.cases.services import case_report, case_respond, category_save

PASSWORD = "pw-Example-2026"


def seeded(code: str, **fields) -> Category:
    """A seeded category: a browser test's database is emptied between tests, seeds too."""
    return categories_for_report().filter(code=code).first() or category_save(
        actor=None, category=Category(code=code, **fields)
    )


@pytest.fixture
def flying_wire(transactional_db):
    return seeded(
        "flying_wire",
        name="飞线充电",
        group="urgent_safety",
        lead_role="grid_worker",
        co_handler_roles=["property_manager"],
        requires_photo=True,
        keywords=["飞线", "充电"],
    )


@pytest.fixture
def street_light(transactional_db):
    return seeded("street_light", name="路灯不亮", lead_role="grid_worker", keywords=["路灯"])


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "site.png"
    Image.new("RGB", (64, 48), (30, 120, 200)).save(path, format="PNG")
    return path


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: GONGZHI_SCREENSHOTS if set (to look at them), else tmp_path."""
    folder = Path(os.environ.get("GONGZHI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def report(people, tree, category, text, place=None, actor=None):
    return case_report(
        actor=actor or people["resident"],
        place=place or tree["dwelling"],
        category=category,
        text=text,
        channel=Channel.RESIDENT_PAGE,
    )


def first_row(page):
    return page.locator("#inbox-table tbody tr").first


def test_a_worker_takes_a_new_case_from_the_inbox_to_completion(
    page, page_log, login, people, tree, flying_wire, street_light, photo, shots, resident_at
):
    older = report(people, tree, street_light, "1号楼门口的路灯不亮")
    case_respond(actor=people["grid_worker"], case=older)
    new = report(people, tree, flying_wire, "1号楼楼道里有人飞线给电动车充电")

    login(page, "grid_worker", PASSWORD)
    page.goto(reverse("cases_worker:inbox"))
    row = first_row(page)
    expect(row.locator("td").first).to_have_text(new.number)
    expect(row.locator(".countdown-text")).to_contain_text("响应")
    expect(row.locator(".countdown-text")).to_contain_text("剩余")
    expect(page.locator("#inbox-table tbody tr").nth(1)).to_contain_text(older.number)
    page.screenshot(path=shots / "worker-inbox-1280.png", full_page=True)

    row.get_by_role("link", name=new.number).click()
    expect(page.locator("h1")).to_contain_text("飞线充电")
    page.evaluate("window.stillTheSamePage = true")
    page.screenshot(path=shots / "worker-case-1280.png", full_page=True)

    page.get_by_role("button", name="响应接单").click()
    expect(page.locator(".notice.ok")).to_contain_text("已响应：您已接单")
    expect(page.locator(".case-status .state")).to_have_text("已响应")
    page.get_by_role("button", name="开始办理").click()
    expect(page.locator(".case-status .state")).to_have_text("处理中")
    expect(page.locator(".case-status .countdown-text")).to_contain_text("办结")

    page.locator("details.action-complete > summary").click()
    page.get_by_label("办结说明").fill("已拆除飞线，告知居民到充电区充电")
    page.get_by_label("现场照片（该类别必须上传）").set_input_files(photo)
    page.get_by_role("button", name="确认办结").click()
    expect(page.locator(".case-status .state")).to_have_text("已办结")
    expect(page.locator(".notice.ok")).to_contain_text("已办结，等待回访")
    completion_photo = page.get_by_alt_text("办结照片 1")
    expect(completion_photo).to_be_visible()
    # the photo is served to the handler through the access-checked view
    image = completion_photo.element_handle()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image)
    assert page.evaluate("(img) => img.naturalWidth", image) == 64
    # every step swapped the panel; the page itself never reloaded
    assert page.evaluate("window.stillTheSamePage") is True
    page.screenshot(path=shots / "worker-case-completed-1280.png", full_page=True)
    assert Case.objects.get(pk=new.pk).state == "completed"

    # back in the inbox: the completed case has left the open cases ...
    page.get_by_role("link", name="返回待办诉求").click()
    expect(first_row(page)).to_contain_text(older.number)
    expect(page.locator("#inbox-table")).not_to_contain_text(new.number)
    # ... and a filter change swaps the table without a reload
    page.evaluate("window.stillTheInbox = true")
    page.get_by_label("状态").select_option("completed")
    expect(first_row(page)).to_contain_text(new.number)
    expect(first_row(page).locator(".countdown-text")).to_contain_text("回访")
    assert "state=completed" in page.url
    assert page.evaluate("window.stillTheInbox") is True

    # a case reported meanwhile appears at the top when the table refreshes
    page.get_by_label("状态").select_option("open")
    expect(first_row(page)).to_contain_text(older.number)
    neighbour = resident_at(tree["dwelling_102"])
    newest = report(
        people,
        tree,
        flying_wire,
        "2号楼也有人飞线充电",
        place=tree["dwelling_102"],
        actor=neighbour,
    )
    page.evaluate("htmx.trigger('#inbox-table', 'refresh')")
    expect(first_row(page)).to_contain_text(newest.number)
    assert page.evaluate("window.stillTheInbox") is True

    page.wait_for_load_state("networkidle")
    assert page_log.console_errors == []
    assert page_log.page_errors == []
    assert page_log.failed_requests == []


def test_a_phone_call_is_entered_from_the_keyboard_with_duplicate_hints(
    page, page_log, login, people, tree, street_light, shots
):
    existing = report(people, tree, street_light, "1号楼门口的路灯不亮了，晚上很黑")
    login(page, "worker", PASSWORD)
    page.goto(reverse("cases_worker:new"))

    place = page.get_by_label("地点")
    expect(place).to_be_focused()
    place.press_sequentially("1号楼102")
    expect(page.locator("#place-options input[name=place]:checked")).to_have_value(
        tree["dwelling_102"].code
    )
    place.press("Enter")  # moves on to the category instead of sending a half-filled form
    category = page.locator("#id_category")
    expect(category).to_be_focused()
    category.select_option(label="路灯不亮")
    page.keyboard.press("Tab")  # the description comes next in the tab order
    expect(page.get_by_label("问题描述")).to_be_focused()
    page.keyboard.type("1号楼门口路灯坏了不亮")
    expect(page.locator("#duplicates")).to_contain_text(existing.number)
    expect(page.locator("#duplicates")).to_contain_text("可能是同一问题")
    page.get_by_label("来电人/来访人姓名").fill("王阿姨")
    page.get_by_label("联系电话").fill("13912345678")
    page.screenshot(path=shots / "worker-entry-1280.png", full_page=True)
    page.get_by_label("联系电话").press("Enter")

    expect(page.locator(".saved")).to_contain_text("已登记")
    case = Case.objects.exclude(pk=existing.pk).get()
    assert (case.channel, case.place, case.contact_name) == (
        "phone",
        tree["dwelling_102"],
        "王阿姨",
    )
    expect(page.locator(".saved")).to_contain_text(case.number)
    expect(page.get_by_label("地点")).to_have_value("")
    expect(page.get_by_label("来电", exact=True)).to_be_checked()
    page.get_by_role("link", name="再录一条").click()
    expect(page.get_by_label("地点")).to_be_focused()

    assert page_log.console_errors == []
    assert page_log.page_errors == []
    assert page_log.failed_requests == []


def test_the_worker_pages_fit_a_phone(
    phone_page, page_log, login, people, tree, flying_wire, shots
):
    page = phone_page
    case = report(people, tree, flying_wire, "1号楼楼道里有人飞线充电")
    login(page, "grid_worker", PASSWORD)

    page.goto(reverse("cases_worker:inbox"))
    expect(first_row(page)).to_contain_text(case.number)
    expect(first_row(page).locator(".countdown-text")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=shots / "worker-inbox-375.png", full_page=True)

    first_row(page).get_by_role("link", name=case.number).tap()
    page.get_by_role("button", name="响应接单").tap()
    expect(page.locator(".case-status .state")).to_have_text("已响应")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=shots / "worker-case-375.png", full_page=True)

    page.goto(reverse("cases_worker:new"))
    expect(page.get_by_label("地点")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=shots / "worker-entry-375.png", full_page=True)
    assert page_log.console_errors == []
    assert page_log.page_errors == []
