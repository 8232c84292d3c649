"""The boards: a community's figures for its secretary, a table across communities for a
supervisor. Views read a selector and render; the charts get their numbers as JSON
(`json_script`), and every chart has a table with the same numbers beside it."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gongzhi.core.db import reads_from_replica
from gongzhi.core.errors import NotFound

from .selectors import (
    PERIODS,
    AreaTable,
    CommunityBoard,
    area_table_for,
    board_area_get,
    board_cluster_get,
    board_community_get,
    boards_for,
    cluster_table_for,
    community_board_for,
)


@login_required
@require_GET
def board_index(request):
    """The boards the user may open; straight to the board when there is only one."""
    index = boards_for(user=request.user)
    if not index.areas and not index.clusters and len(index.communities) == 1:
        return redirect("insights:community", code=index.communities[0].code)
    return render(request, "insights/index.html", {"index": index})


@login_required
@require_GET
@reads_from_replica
def community_board(request, code: str):
    """A community's board: today, this week, the eight-week trend, where cases come from."""
    try:
        community = board_community_get(user=request.user, code=code)
        board = community_board_for(user=request.user, community=community, now=timezone.now())
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    return render(
        request,
        "insights/community_board.html",
        {"board": board, "rate_rows": _rate_rows(board), "charts": _board_charts(board)},
    )


@login_required
@require_GET
@reads_from_replica
def area_table(request, code: str):
    """A district's or subdistrict's communities side by side, sortable."""
    try:
        place = board_area_get(user=request.user, code=code)
        table = area_table_for(
            user=request.user,
            place=place,
            now=timezone.now(),
            sort=request.GET.get("sort", ""),
            period=_period(request),
        )
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    return _render_table(request, table)


@login_required
@require_GET
@reads_from_replica
def cluster_table(request, code: str):
    """A cluster's (片区) communities side by side, sortable."""
    try:
        cluster = board_cluster_get(user=request.user, code=code)
        table = cluster_table_for(
            user=request.user,
            cluster=cluster,
            now=timezone.now(),
            sort=request.GET.get("sort", ""),
            period=_period(request),
        )
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    return _render_table(request, table)


def _period(request) -> str:
    period = request.GET.get("period", "")
    return period if period in PERIODS else "week"


def _render_table(request, table: AreaTable):
    descending = table.sort.startswith("-")
    current = table.sort.lstrip("-")
    headers = []
    for column in table.columns:
        if column.key == current:
            # Clicking the sorted column turns the order round.
            target = column.key if descending else f"-{column.key}"
            aria = "descending" if descending else "ascending"
        else:
            target = f"-{column.key}" if column.descending_first else column.key
            aria = ""
        headers.append({"column": column, "sort": target, "aria_sort": aria})
    return render(
        request,
        "insights/area_table.html",
        {
            "table": table,
            "headers": headers,
            "periods": [("week", _("本周")), ("month", _("本月"))],
        },
    )


def _rate_rows(board: CommunityBoard) -> list[dict[str, Any]]:
    """The board's rates table: one row per rate, today and this week side by side."""
    return [
        {
            "key": key,
            "label": label,
            "hint": hint,
            "today": getattr(board.rates_today, key),
            "week": getattr(board.rates_week, key),
        }
        for key, label, hint in _rate_labels()
    ]


def _rate_labels() -> list[tuple[str, str, str]]:
    """Each rate of rules §3 (and completion within target): its key, name, and what it
    divides by what."""
    return [
        ("response", _("响应率"), _("按时响应 / 应响应")),
        ("completion", _("按时办结率"), _("按时办结 / 应办结")),
        ("resolution", _("解决率"), _("已解决 / 回访有应答")),
        ("satisfaction", _("满意率"), _("满意与基本满意 / 回访有应答")),
    ]


def _board_charts(board: CommunityBoard) -> dict[str, Any]:
    """The numbers the charts draw, labelled in the request's language."""
    weeks = [date_format(point.week.first_day, "n/j") for point in board.trend]
    return {
        "trend": {
            "title": _("近八周各项比率（%）"),
            "weeks": weeks,
            "series": [
                {
                    "name": name,
                    "data": [getattr(point.rates, key).percent for point in board.trend],
                }
                for key, name, _hint in _rate_labels()
            ],
        },
        "categories": {
            "title": _("本周诉求较多的类别"),
            "labels": [t.label for t in board.top_categories],
            "counts": [t.count for t in board.top_categories],
        },
        "buildings": {
            "title": _("本周诉求较多的楼栋"),
            "labels": [t.label for t in board.top_buildings],
            "counts": [t.count for t in board.top_buildings],
        },
    }
