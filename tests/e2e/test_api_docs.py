"""The REST API's documentation page in a real browser: Swagger UI runs from this server's
own static files under the site's Content-Security-Policy, and fetches nothing from
elsewhere (an intranet has no internet)."""

from urllib.parse import urlsplit

from playwright.sync_api import expect


def test_api_docs_page_works_offline_under_the_policy(page, page_log, live_server):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    response = page.goto("/api/v1/docs")

    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/cases/{number}/respond")
    ).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert hosts == {urlsplit(live_server.url).netloc}
    assert page_log.failed_requests == []
    assert page_log.console_errors == []
    assert page_log.page_errors == []
