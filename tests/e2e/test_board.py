"""The boards in a real browser: a secretary reads her community's figures and follows one
down to the cases; a supervisor sorts the table of communities; a phone shows it all
without sideways scrolling; the charts draw without breaking the page's policy."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import case_complete, case_report, case_respond, case_start

PASSWORD = "pw-Example-2026"
# The categories come from a data migration: restored after each test's flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def morning():
    """Tomorrow at 10:00 in Shanghai, with the clock running: inside the service window and
    far from midnight, so "today" and "this week" hold still while the test runs."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    with time_machine.travel(timezone.make_aware(datetime.combine(tomorrow, time(10, 0)))):
        yield


@pytest.fixture
def cases(morning, tree, people, resident_at):
    """Three cases in 虹桥新城: one completed, one responded, one waiting; one elsewhere.
    Each is reported by someone who lives there."""
    light, litter = (Category.objects.get(code=c) for c in ("street_light", "litter"))

    def report(place, category, text):
        return case_report(
            actor=resident_at(place),
            place=place,
            category=category,
            text=text,
            channel=Channel.RESIDENT_PAGE,
        )

    done = report(tree["dwelling"], light, "1号楼门口路灯不亮")
    case_respond(actor=done.lead, case=done)
    case_start(actor=done.lead, case=done)
    case_complete(actor=done.lead, case=done, note="换了灯泡")
    answered = report(tree["dwelling_102"], light, "1号楼楼道灯不亮")
    case_respond(actor=answered.lead, case=answered)
    report(tree["dwelling_201"], litter, "2号楼垃圾堆放")
    report(tree["other_dwelling"], light, "9号楼路灯不亮")


def figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text()


def test_a_secretary_reads_the_board_and_follows_a_figure_down(
    page, page_log, login, cases, tree, people
):
    login(page, "secretary", PASSWORD)
    page.goto(reverse("insights:index"))  # one board: straight to it
    page.wait_for_url(f"**{reverse('insights:community', args=[tree['community'].code])}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("虹桥新城居民区")
    assert (figure(page, "new-today"), figure(page, "new-week")) == ("3", "3")
    rates = page.locator('[data-table="rates"]')
    assert "100.0%" in rates.inner_text() and "2/2" in rates.inner_text()
    # The charts drew (ECharts puts a canvas in each) and the same numbers are in tables.
    for chart in ("trend", "categories", "buildings"):
        page.locator(f'[data-chart="{chart}"] canvas').first.wait_for()
    assert "路灯不亮" in page.locator('[data-table="categories"]').inner_text()
    assert "虹桥新城小区 1号楼" in page.locator('[data-table="buildings"]').inner_text()

    page.locator('[data-table="categories"] tr', has_text="垃圾堆放").get_by_role("link").click()
    page.wait_for_url("**/work/?*")
    listed = page.locator("#inbox-table tbody")
    assert listed.locator("tr").count() == 1
    assert "垃圾堆放" in listed.inner_text() and "2号楼" in listed.inner_text()
    assert page_log.page_errors == [] and page_log.console_errors == []
    assert page_log.failed_requests == []


def test_a_supervisor_sorts_the_table_and_opens_a_community(page, page_log, login, cases, tree):
    login(page, "supervisor", PASSWORD)
    page.goto(reverse("insights:area", args=[tree["subdistrict"].code]))
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    page.get_by_role("link", name="本期诉求").click()
    header = page.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"
    assert "本期诉求" in header.inner_text()
    assert rows.first.locator("th").inner_text().startswith("虹桥新城居民区")
    page.get_by_role("link", name="本期诉求").click()
    assert page.locator("th[aria-sort]").get_attribute("aria-sort") == "ascending"
    assert rows.first.locator("th").inner_text().startswith("另一居民区")
    page.get_by_label("统计周期").select_option("month")
    page.wait_for_url("**period=month*")
    assert page.locator("th[aria-sort]").get_attribute("aria-sort") == "ascending"
    page.get_by_role("link", name="另一居民区").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("另一居民区")
    assert page_log.page_errors == [] and page_log.console_errors == []


def test_the_board_fits_a_phone(phone_page, page_log, login, cases, tree):
    login(phone_page, "secretary", PASSWORD)
    phone_page.goto(reverse("insights:community", args=[tree["community"].code]))
    phone_page.locator('[data-chart="trend"] canvas').first.wait_for()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    assert phone_page.locator('[data-figure="overdue-now"]').is_visible()
    assert page_log.page_errors == [] and page_log.console_errors == []


def test_a_worker_of_another_community_gets_not_found(page, login, cases, tree):
    login(page, "other_worker", PASSWORD)
    response = page.goto(reverse("insights:community", args=[tree["community"].code]))
    assert response.status == 404
