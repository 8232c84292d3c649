"""The board pages as a secretary, a supervisor and an outsider meet them."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse

from gongzhi.places.models import PlaceKind
from gongzhi.places.services import cluster_create, place_create

from .conftest import NOW, at


def page(client, user, url):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(url)


def board_url(tree):
    return reverse("insights:community", args=[tree["community"].code])


def area_url(tree, place="subdistrict"):
    return reverse("insights:area", args=[tree[place].code])


def links(body: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', body)]


def inbox_links(body: str) -> list[dict[str, list[str]]]:
    inbox = reverse("cases_worker:inbox")
    return [parse_qs(urlsplit(h).query) for h in links(body) if urlsplit(h).path == inbox]


def test_the_board_shows_the_weeks_figures_with_their_counts(client, week, tree, people):
    response = page(client, people["secretary"], board_url(tree))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<span class="stat-value" data-figure="new-today">1</span>' in body
    assert '<span class="stat-value" data-figure="overdue-now">3</span>' in body
    assert '<span class="stat-value" data-figure="new-week">5</span>' in body
    # Each rate with what it was computed from; "—" where nothing was due today.
    assert "75.0%" in body and "3/4" in body
    assert "1/4" in body and "1/2" in body
    assert "本期没有应计入的诉求" in body
    assert "另有 1 件在公共区域" in body
    assert 'id="board-charts"' in body and "<script src=" in body
    # No inline script: the chart data is a JSON block.
    assert not re.search(r"<script(?![^>]*(src=|application/json))", body)


def test_every_figure_on_the_board_links_down_to_its_cases(client, week, tree, people, category):
    body = page(client, people["secretary"], board_url(tree)).content.decode()
    queries = inbox_links(body)
    community = [f"p:{tree['community'].code}"]
    assert {
        "state": ["all"],
        "area": community,
        "reported_from": ["2026-11-25"],
        "reported_to": ["2026-11-25"],
    } in queries
    assert {"state": ["open"], "area": community, "overdue": ["1"]} in queries
    assert {"state": ["in_progress"], "area": community} in queries
    week_range = {"reported_from": ["2026-11-23"], "reported_to": ["2026-11-29"]}
    assert {
        "state": ["all"],
        "area": community,
        **week_range,
        "category": [str(category["street_light"].pk)],
    } in queries
    assert {
        "state": ["all"],
        "area": community,
        **week_range,
        "place": [tree["building"].code],
    } in queries


def test_the_linked_inbox_lists_the_same_cases_as_the_figure(client, week, tree, people):
    body = page(client, people["secretary"], board_url(tree)).content.decode()
    inbox = reverse("cases_worker:inbox")
    overdue = next(h for h in links(body) if h.startswith(inbox) and "overdue=1" in h)
    listed = page(client, people["secretary"], overdue).content.decode()
    for name in ("b", "c", "d"):
        assert week[name].number in listed
    for name in ("a", "e"):
        assert week[name].number not in listed


@pytest.mark.parametrize("who", ["grid_worker", "other_worker", "resident", "property"])
def test_a_board_outside_ones_scope_is_not_found(client, tree, people, who):
    assert page(client, people[who], board_url(tree)).status_code == 404


def test_boards_need_a_sign_in(client, tree):
    response = client.get(board_url(tree))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_supervisor_opens_every_board_below(client, week, tree, people):
    for code in (tree["community"].code, tree["other_community"].code):
        url = reverse("insights:community", args=[code])
        assert page(client, people["supervisor"], url).status_code == 200
    assert page(client, people["supervisor"], area_url(tree)).status_code == 200
    assert page(client, people["supervisor"], area_url(tree, "district")).status_code == 404
    assert page(client, people["secretary"], area_url(tree)).status_code == 404


def test_the_area_table_sorts_on_the_server_and_says_so(client, week, tree, people):
    body = page(client, people["supervisor"], area_url(tree) + "?sort=-overdue").content.decode()
    assert body.index("虹桥新城居民区") < body.index("另一居民区")
    assert 'aria-sort="descending"' in body and body.count("aria-sort=") == 1
    # The sorted column's header turns the order round; the others sort high to low first.
    assert 'href="?sort=overdue&amp;period=week"' in body
    assert 'href="?sort=-response&amp;period=week"' in body
    body = page(client, people["supervisor"], area_url(tree) + "?sort=overdue").content.decode()
    assert body.index("另一居民区") < body.index("虹桥新城居民区")
    assert 'aria-sort="ascending"' in body


def test_the_area_table_links_each_figure_down(client, week, tree, people):
    body = page(client, people["supervisor"], area_url(tree)).content.decode()
    assert reverse("insights:community", args=[tree["other_community"].code]) in body
    queries = inbox_links(body)
    other = [f"p:{tree['other_community'].code}"]
    assert {"state": ["open"], "area": other, "overdue": ["1"]} in queries
    assert {
        "state": ["all"],
        "area": other,
        "reported_from": ["2026-11-23"],
        "reported_to": ["2026-11-29"],
    } in queries
    # The total row lists the whole subdistrict.
    assert {"state": ["open"], "overdue": ["1"], "place": [tree["subdistrict"].code]} in queries
    assert "0/1" in body and "3/5" in body


def test_the_month_view_keeps_the_sort(client, week, tree, people):
    body = page(
        client, people["supervisor"], area_url(tree) + "?period=month&sort=-cases"
    ).content.decode()
    assert '<option value="month" selected>' in body
    assert 'href="?sort=cases&amp;period=month"' in body
    assert "2026-11-01 – 2026-11-30" in body


def test_the_area_page_takes_a_bounded_number_of_queries(
    client, week, tree, people, report, django_assert_max_num_queries
):
    for n in range(15):
        community = place_create(
            actor=None,
            kind=PlaceKind.COMMUNITY,
            name=f"新居民区{n}",
            segment=f"N{n}",
            parent=tree["subdistrict"],
        )
        estate = place_create(
            actor=None, kind=PlaceKind.ESTATE, name="小区", segment="E1", parent=community
        )
        with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
            report(place=estate, actor=people["supervisor"], text="路灯")
    client.force_login(people["district_supervisor"])
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(15):
        response = client.get(area_url(tree))
    assert response.content.decode().count("data-community=") == 17


def test_the_cluster_page(client, week, tree, people):
    cluster_create(
        actor=None,
        code="P2",
        name="第二片区",
        communities=[tree["community"], tree["other_community"]],
    )
    url = reverse("insights:cluster", args=["P2"])
    body = page(client, people["district_supervisor"], url).content.decode()
    assert "第二片区" in body and body.count("data-community=") == 2
    assert page(client, people["resident"], url).status_code == 404


def test_the_index_goes_straight_to_a_single_board(client, tree, people):
    response = page(client, people["secretary"], reverse("insights:index"))
    assert response.status_code == 302 and response["Location"] == board_url(tree)
    body = page(client, people["supervisor"], reverse("insights:index")).content.decode()
    assert area_url(tree) in body and board_url(tree) in body
    body = page(client, people["resident"], reverse("insights:index")).content.decode()
    assert "没有可查看的看板" in body


def test_the_board_reads_in_english(client, week, tree, people):
    client.cookies["django_language"] = "en"
    body = page(client, people["secretary"], board_url(tree)).content.decode()
    assert '<html lang="en"' in body
    assert "虹桥新城居民区 case board" in body
    assert "this week is Nov 23 to Nov 29" in body
    assert "Response rate" in body and "3/4" in body
