"""The platform in a real browser: health, the login page in Chinese and English, static
files, the Content-Security-Policy, and a page that fits a phone."""

import json

from django.urls import reverse
from playwright.sync_api import expect


def test_health_endpoint_answers_in_the_browser(page):
    response = page.goto(reverse("health"))

    assert response.status == 200
    assert json.loads(page.locator("body").inner_text()) == {"status": "ok", "database": "ok"}


def test_login_page_is_chinese_loads_its_assets_and_breaks_no_policy(page, page_log):
    response = page.goto(reverse("accounts:login"))

    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("登录")
    # htmx and the page script come from our own static files, not a CDN
    assert page.evaluate("typeof window.htmx") == "object"
    page.wait_for_load_state("networkidle")
    assert page_log.failed_requests == []
    assert page_log.console_errors == []
    assert page_log.page_errors == []


def test_the_language_selector_switches_the_page_to_english_and_back(page, page_log):
    page.goto(reverse("accounts:login"))

    page.select_option("#language-select", "en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("a.skip")).to_have_text("Skip to content")
    expect(page.locator("label[for=language-select]")).to_have_text("Language")
    assert page.url.endswith(reverse("accounts:login"))

    page.select_option("#language-select", "zh-hans")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("a.skip")).to_have_text("跳到正文")
    expect(page.locator("h1")).to_contain_text("登录")
    assert page_log.console_errors == []


def test_login_page_fits_a_phone_screen(phone_page, page_log):
    phone_page.goto(reverse("accounts:login"))

    expect(phone_page.locator("h1")).to_contain_text("登录")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page_log.failed_requests == []


def test_a_user_signs_in_and_the_home_page_breaks_no_policy(page, login, people, page_log):
    login(page, "worker", "pw-Example-2026")

    expect(page.locator(".who")).to_contain_text(people["worker"].display_name)
    page.wait_for_load_state("networkidle")
    # a Content-Security-Policy violation shows up as a console error
    assert page_log.console_errors == []
    assert page_log.failed_requests == []
