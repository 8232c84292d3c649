"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Everything under tests/e2e is marked `e2e` (`pytest -m "not e2e"` leaves it out; `make
test` runs it second, after `scripts/ensure-chromium.sh`). Fixtures:

- `browser`: one headless chromium for the whole session;
- `page`: a desktop tab (1280×800), `phone_page`: a phone (375×812, touch), both in
  Simplified Chinese and pointed at the live server, so `page.goto("/healthz")` works;
- `page_log`: console errors, uncaught exceptions and failed requests of those tabs;
- `login`: `login(page, username, password)` signs in through the real login form.
"""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse
from playwright.sync_api import Browser, Page, sync_playwright

E2E_DIR = Path(__file__).resolve().parent

# Without the networking flags chromium keeps trying to reach Google's services, which a
# closed network refuses; there is no sandbox for root in a CI container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Marks browser tests before `-m` selects, so `-m "not e2e"` excludes them.

    (Their database: the live server needs committed data, so each runs on a transactional
    database restored to what the migrations seeded — see the root conftest.py.)"""
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser(django_db_setup) -> Browser:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run scripts/ensure-chromium.sh")
    # Playwright's sync API runs an event loop in this thread. From then on Django keeps
    # the thread's database connections in a context of their own: new wrappers for the
    # same test database, which lack the seed data serialized when it was created, so
    # serialized rollback would silently restore nothing. Carry it over.
    serialized = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    # The tests' database calls (fixtures, flushes between tests) stay synchronous, so
    # Django's guard against blocking an event loop does not apply. Set for the session:
    # sessions that start the browser are browser-test sessions (`make test` runs them
    # on their own).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@dataclass
class PageLog:
    """What went wrong in the browser while a test ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on(
            "response",
            lambda response: (
                self.failed_requests.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.on("requestfailed", self._request_failed)

    def _request_failed(self, request) -> None:
        # A background request (the inbox badge's poll) still in flight when the page
        # navigates is aborted by the browser itself: that is the navigation, not a fault.
        if request.failure == "net::ERR_ABORTED" and request.resource_type in {"fetch", "xhr"}:
            return
        self.failed_requests.append(f"{request.failure} {request.url}")


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


def _open(browser: Browser, live_server, page_log: PageLog, **context_options) -> Page:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page_log.watch(page)
    return page


@pytest.fixture
def page(browser, live_server, page_log):
    tab = _open(browser, live_server, page_log, viewport={"width": 1280, "height": 800})
    yield tab
    tab.context.close()


@pytest.fixture
def phone_page(browser, live_server, page_log):
    tab = _open(
        browser,
        live_server,
        page_log,
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield tab
    tab.context.close()


def login(page: Page, username: str, password: str) -> None:
    """Signs in through the login page's password form (its identifier field takes a
    username or a phone number) and waits to leave the login page."""
    login_path = reverse("accounts:login")
    page.goto(login_path)
    form = page.locator("form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=identifier]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("[type=submit]").click()
    page.wait_for_url(lambda url: login_path not in url)


@pytest.fixture(name="login")
def login_fixture():
    return login
