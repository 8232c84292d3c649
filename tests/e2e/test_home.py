"""The home page and the header in chromium: a resident on a phone and a secretary on a PC
each find their work on the first page and reach it in one click. Screenshots at 375 and
1280 px go to $GONGZHI_SCREENSHOTS when set (else the test's tmp_path)."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

PASSWORD = "pw-Example-2026"


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("GONGZHI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_no_errors(page_log):
    """No script error and no error answer. A request the browser dropped because the
    test had moved on to the next page (the header's badge, the icon) is not one."""
    assert page_log.console_errors == page_log.page_errors == []
    assert [r for r in page_log.failed_requests if "ERR_ABORTED" not in r] == []


def test_a_resident_on_a_phone_reports_from_the_home_page(
    phone_page, page_log, login, tree, people, shots
):
    page = phone_page
    login(page, "resident", PASSWORD)
    page.goto(reverse("home"))
    mine = page.get_by_role("region", name="我的社区")
    expect(mine.get_by_role("link", name="我的诉求")).to_be_visible()
    expect(page.get_by_role("region", name="我的工作")).to_have_count(0)
    page.screenshot(path=shots / "home-resident-375.png", full_page=True)

    page.wait_for_load_state("networkidle")
    mine.get_by_role("link", name="反映问题 虹桥新城居民区").click()
    page.wait_for_url(
        f"**{reverse('resident:report', args=[tree['community'].settings.report_slug])}"
    )
    # The header leads back to 我的诉求 from any page.
    page.wait_for_load_state("networkidle")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="我的诉求").click()
    page.wait_for_url(f"**{reverse('resident:my_cases')}")
    assert_no_errors(page_log)


def test_a_secretary_on_a_pc_finds_the_inbox_entry_claims_and_board(
    page, page_log, login, tree, people, shots
):
    login(page, "secretary", PASSWORD)
    page.goto(reverse("home"))
    work = page.get_by_role("region", name="我的工作")
    for name in ("工作台", "快速登记", "居住关系核验 0", "居民区看板 虹桥新城居民区"):
        expect(work.get_by_role("link", name=name)).to_be_visible()
    page.screenshot(path=shots / "home-secretary-1280.png", full_page=True)

    # Let the page's background requests settle before leaving it.
    page.wait_for_load_state("networkidle")
    nav = page.get_by_role("navigation", name="主菜单")
    nav.get_by_role("link", name="居民区看板").click()
    page.wait_for_url(f"**{reverse('insights:community', args=[tree['community'].code])}")
    page.go_back()
    page.wait_for_load_state("networkidle")
    nav.get_by_role("link", name="快速登记").click()
    page.wait_for_url(f"**{reverse('cases_worker:new')}")
    expect(
        page.get_by_role("navigation", name="主菜单").get_by_role("link", name="快速登记")
    ).to_have_attribute("aria-current", "page")
    page.wait_for_load_state("networkidle")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(reverse("home"))
    page.wait_for_load_state("networkidle")
    page.screenshot(path=shots / "home-secretary-375.png", full_page=True)
    assert_no_errors(page_log)
