"""The figures of the secretary's community board and the supervisor's table (read only).

Every number comes from the cases selectors — `cases_for` (the same visibility and the
same filters as the worker inbox, so a figure and the list it links to agree) and
`case_rates_for` (the rates of rules §3, from timestamps and residents' answers only).
Nothing here writes, and nothing ranks individual workers: figures are per community,
building, category or state.

Who may open a board: the community's workers, secretary and director, and supervisors
(and administrators) above it. A grid worker's roles reach only their grid, so the
community's figures are not theirs to read. A board the user may not open is reported
exactly like one that does not exist.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import SUPERVISOR_ROLES, Role
from gongzhi.accounts.scopes import holds_role_over, visible_places
from gongzhi.cases.selectors import RateFigures, case_rates_for, cases_for
from gongzhi.cases.states import CaseState
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.places.models import Cluster, Place, PlaceKind

BOARD_ROLES = frozenset(
    {Role.COMMUNITY_WORKER, Role.SECRETARY, Role.DIRECTOR, *SUPERVISOR_ROLES, Role.ADMINISTRATOR}
)
# Areas a supervisor's table covers (a community has its own board instead).
AREA_KINDS = (PlaceKind.DISTRICT, PlaceKind.SUBDISTRICT)
TREND_WEEKS = 8
TOP_COUNT = 5
# The states a board counts as still needing someone: the open ones, and completed cases
# waiting for their follow-up.
BOARD_STATES = (
    CaseState.REPORTED,
    CaseState.RESPONDED,
    CaseState.IN_PROGRESS,
    CaseState.PAUSED,
    CaseState.COMPLETED,
)


# --- figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A rate as its two counts: shown as "42/45", and as "—" when nothing was due."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        """The rate in percent, one decimal (None when nothing was due)."""
        value = self.value
        return None if value is None else round(value * 100, 1)


@dataclass(frozen=True)
class Rates:
    """The rates of rules §3 over one period, with the counts they come from."""

    reported: int
    response: Rate
    completion: Rate
    resolution: Rate
    satisfaction: Rate
    reopened: int
    no_answer: int
    excluded: int

    @classmethod
    def of(cls, figures: RateFigures) -> "Rates":
        return cls(
            reported=figures.reported,
            response=Rate(figures.responded_in_time, figures.due_response),
            completion=Rate(figures.completed_in_time, figures.due_completion),
            resolution=Rate(figures.resolved, figures.follow_ups_answered),
            satisfaction=Rate(figures.satisfied, figures.follow_ups_answered),
            reopened=figures.reopened,
            no_answer=figures.no_answer,
            excluded=figures.excluded,
        )


@dataclass(frozen=True)
class Period:
    """Local days [first_day, last_day] as the instants [start, end)."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime


def _period(first_day: date, days: int) -> Period:
    last_day = first_day + timedelta(days=days - 1)
    return Period(
        first_day=first_day,
        last_day=last_day,
        start=_midnight(first_day),
        end=_midnight(last_day + timedelta(days=1)),
    )


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Tally:
    """A count of cases under one label; `key` is what the inbox filters by (a state, a
    category's id, a place's code)."""

    key: str
    label: str
    count: int


@dataclass(frozen=True)
class TrendPoint:
    week: Period
    rates: Rates


# --- the community board -------------------------------------------------------------------


@dataclass(frozen=True)
class CommunityBoard:
    community: Place
    now: datetime
    today: Period
    week: Period
    new_today: int
    new_this_week: int
    overdue_now: int
    by_state: list[Tally]
    rates_today: Rates
    rates_week: Rates
    trend: list[TrendPoint]
    top_categories: list[Tally]
    top_buildings: list[Tally]
    # Cases of the week at a place in no building (a public area, a shop by the road).
    outside_buildings: int


def board_community_get(*, user: Any, code: str) -> Place:
    """The community whose board `user` may open, by code; NotFound otherwise."""
    community = (
        Place.objects.filter(code=(code or "").strip().upper(), kind=PlaceKind.COMMUNITY)
        .select_related("parent")
        .first()
    )
    if community is None or not _may_read(user, community):
        raise NotFound()
    return community


def community_board_for(*, user: Any, community: Place, now: datetime) -> CommunityBoard:
    """Everything on a community's board at `now`: new cases today and this week, cases
    overdue now, cases per state, the rates of today, this week and the last eight weeks,
    and this week's top categories and buildings. NotFound for a user who may not read it.

    A fixed number of queries whatever the size of the community: the rates come as one
    series over the eight weeks, cut at each Monday and around today (this week is the sum
    of its pieces).
    """
    if not _may_read(user, community):
        raise NotFound()
    local_today = timezone.localdate(now)
    today = _period(local_today, 1)
    week = _period(_week_of(local_today), 7)
    trend_start = week.first_day - timedelta(weeks=TREND_WEEKS - 1)

    mondays = [_midnight(trend_start + timedelta(weeks=n)) for n in range(1, TREND_WEEKS)]
    splits = sorted({*mondays, today.start, today.end} - {week.end})
    rates = case_rates_for(
        user=user,
        start=_midnight(trend_start),
        end=week.end,
        place=community,
        splits=splits,
        now=now,
    )
    per_week: dict[date, RateFigures] = defaultdict(RateFigures)
    today_figures = RateFigures()
    for day, figures in rates.series:
        per_week[_week_of(day)] = per_week[_week_of(day)] + figures
        if day == local_today:
            today_figures = figures
    trend = [
        TrendPoint(week=_period(first_day, 7), rates=Rates.of(per_week[first_day]))
        for first_day in (trend_start + timedelta(weeks=n) for n in range(TREND_WEEKS))
    ]

    in_community = cases_for(user=user, place=community, now=now)
    # Today lies inside this week: the week's cases, grouped by category and place, give
    # the new-case counts, the top categories and the top buildings in one query over the
    # (community, reported_at) index. Counted over the whole community instead, the
    # counts read the community's entire history.
    this_week = in_community.filter(reported_at__gte=week.start, reported_at__lt=week.end)
    week_rows = list(
        this_week.order_by()
        .values_list("category_id", "category__name", "place__code")
        .annotate(
            n=Count("pk"),
            today=Count("pk", filter=Q(reported_at__gte=today.start, reported_at__lt=today.end)),
        )
    )
    overdue_now = cases_for(user=user, place=community, overdue=True, now=now).count()
    state_counts = dict(
        in_community.filter(state__in=BOARD_STATES)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    buildings, outside = _tally_buildings(
        [(code, n) for _category, _name, code, n, _today in week_rows], community
    )
    return CommunityBoard(
        community=community,
        now=now,
        today=today,
        week=week,
        new_today=sum(row[4] for row in week_rows),
        new_this_week=sum(row[3] for row in week_rows),
        overdue_now=overdue_now,
        by_state=[
            Tally(key=state, label=str(CaseState(state).label), count=state_counts.get(state, 0))
            for state in BOARD_STATES
        ],
        rates_today=Rates.of(today_figures),
        rates_week=trend[-1].rates,
        trend=trend,
        top_categories=_tally_categories(
            [(category, name, n) for category, name, _code, n, _today in week_rows]
        ),
        top_buildings=buildings,
        outside_buildings=outside,
    )


def _tally_categories(per_category: list[tuple[int, str, int]]) -> list[Tally]:
    """The largest categories among (category id, name, cases) rows, ties by name."""
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for category, name, n in per_category:
        totals[category, name] += n
    largest = sorted(totals.items(), key=lambda item: (-item[1], item[0][1], item[0][0]))
    return [
        Tally(key=str(category), label=name, count=n) for (category, name), n in largest[:TOP_COUNT]
    ]


def _tally_buildings(per_place: list[tuple[str, int]], community: Place) -> tuple[list[Tally], int]:
    """Cases per building (a dwelling's, an entrance's, a shop's in it) from (place code,
    cases) rows, and how many were at no building. A building always hangs under an
    estate under the community (the tree's shape), so its code is the community's code
    and two more segments."""
    depth = len(community.code.split("-")) + 2
    per_prefix: dict[str, int] = defaultdict(int)
    total = 0
    for code, n in per_place:
        total += n
        parts = code.split("-")
        if len(parts) >= depth:
            per_prefix["-".join(parts[:depth])] += n
    buildings = {
        b.code: b
        for b in Place.objects.filter(code__in=per_prefix, kind=PlaceKind.BUILDING).select_related(
            "parent"
        )
    }
    tallies = sorted(
        (
            Tally(key=code, label=_building_label(b), count=per_prefix[code])
            for code, b in buildings.items()
        ),
        key=lambda t: (-t.count, t.key),
    )
    return tallies[:TOP_COUNT], total - sum(t.count for t in tallies)


def _building_label(building: Place) -> str:
    """ "虹桥新城小区 1号楼": estates of one community often both have a 1号楼."""
    estate = building.parent
    return f"{estate.name} {building.name}" if estate is not None else building.name


# --- the supervisor's table ------------------------------------------------------------------


@dataclass(frozen=True)
class AreaRow:
    """One community's figures (or the whole table's, for the total row)."""

    code: str
    name: str
    parent_name: str
    cases: int
    overdue: int
    rates: Rates


@dataclass(frozen=True)
class SortColumn:
    key: str
    label: str
    # First click on a column: counts and rates sort high to low, names A to Z.
    descending_first: bool


def _sort_columns() -> list[SortColumn]:
    return [
        SortColumn("community", _("居民区"), False),
        SortColumn("cases", _("本期诉求"), True),
        SortColumn("overdue", _("当前超时"), True),
        SortColumn("response", _("响应率"), True),
        SortColumn("completion", _("按时办结率"), True),
        SortColumn("resolution", _("解决率"), True),
        SortColumn("satisfaction", _("满意率"), True),
    ]


SORT_KEYS = (
    "community",
    "cases",
    "overdue",
    "response",
    "completion",
    "resolution",
    "satisfaction",
)
PERIODS = ("week", "month")


@dataclass(frozen=True)
class AreaTable:
    title: str
    kind: str  # district, subdistrict or cluster
    code: str
    period_key: str  # week or month
    period_name: str
    period: Period
    rows: list[AreaRow]
    total: AreaRow
    sort: str  # the key, "-" in front when descending
    columns: list[SortColumn]


def board_area_get(*, user: Any, code: str) -> Place:
    """The district or subdistrict whose table `user` may open; NotFound otherwise."""
    place = (
        Place.objects.filter(code=(code or "").strip().upper(), kind__in=AREA_KINDS)
        .select_related("parent")
        .first()
    )
    if place is None or not _may_read(user, place):
        raise NotFound()
    return place


def board_cluster_get(*, user: Any, code: str) -> Cluster:
    """The cluster (片区) whose table `user` may open: one with at least one community they
    may read; NotFound otherwise."""
    cluster = Cluster.objects.filter(code=(code or "").strip().upper()).first()
    if cluster is None or not _readable(user).filter(clusters=cluster).exists():
        raise NotFound()
    return cluster


def area_table_for(
    *, user: Any, place: Place, now: datetime, sort: str = "community", period: str = "week"
) -> AreaTable:
    """One row per community under a district or subdistrict, with the cases reported in
    the period (this week or this month), those overdue now, and the rates of rules §3;
    sorted by `sort` (a column key, "-" in front for descending; an unknown key sorts by
    community). NotFound for a user who may not read the area.

    A fixed number of queries however many communities there are: the rates come grouped
    by community in `case_rates_for`, the counts grouped by community in two more.
    """
    if place.kind not in AREA_KINDS or not _may_read(user, place):
        raise NotFound()
    # Communities share one depth, so this is code order; ordered by the code alone,
    # SQLite walked the code index of every place in the city to skip a sort of ten rows.
    communities = list(
        Place.objects.filter(kind=PlaceKind.COMMUNITY, code__startswith=place.code + "-")
        .select_related("parent")
        .order_by("depth", "code")
    )
    return _table(
        user=user,
        title=place.name,
        kind=place.kind,
        code=place.code,
        communities=communities,
        now=now,
        sort=sort,
        period=period,
    )


def cluster_table_for(
    *, user: Any, cluster: Cluster, now: datetime, sort: str = "community", period: str = "week"
) -> AreaTable:
    """`area_table_for` for a cluster of communities (片区), which may span districts: the
    rows are the cluster's communities the user may read."""
    communities = list(
        _readable(user).filter(clusters=cluster).select_related("parent").order_by("code")
    )
    if not communities:
        raise NotFound()
    return _table(
        user=user,
        title=cluster.name,
        kind="cluster",
        code=cluster.code,
        communities=communities,
        now=now,
        sort=sort,
        period=period,
    )


def _table(
    *,
    user: Any,
    title: str,
    kind: str,
    code: str,
    communities: list[Place],
    now: datetime,
    sort: str,
    period: str,
) -> AreaTable:
    if period not in PERIODS:
        raise ValidationFailed(_("统计周期须为本周或本月。"), code="invalid_period")
    local_today = timezone.localdate(now)
    if period == "week":
        span = _period(_week_of(local_today), 7)
        period_name = _("本周")
    else:
        first = local_today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        span = _period(first, (following - first).days)
        period_name = _("本月")
    # The rows' communities by id, not as a subquery under the area: PostgreSQL then
    # knows how many cases they hold.
    ids = [c.pk for c in communities]
    rates = case_rates_for(
        user=user,
        start=span.start,
        end=span.end,
        communities=communities,
        breakdown="community",
        now=now,
    )
    figures = {row.key: row.figures for row in rates.breakdown}
    reported = dict(
        cases_for(user=user, reported_from=span.start, reported_to=span.end, now=now)
        .filter(community_id__in=ids)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("pk"))
    )
    late = dict(
        cases_for(user=user, overdue=True, now=now)
        .filter(community_id__in=ids)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("pk"))
    )
    rows = [
        AreaRow(
            code=c.code,
            name=c.name,
            parent_name=c.parent.name if c.parent else "",
            cases=reported.get(c.pk, 0),
            overdue=late.get(c.pk, 0),
            rates=Rates.of(figures.get(c.pk, RateFigures())),
        )
        for c in communities
    ]
    total = AreaRow(
        code=code,
        name=_("合计"),
        parent_name="",
        cases=sum(r.cases for r in rows),
        overdue=sum(r.overdue for r in rows),
        rates=Rates.of(sum(figures.values(), RateFigures())),
    )
    sort = _normalise_sort(sort)
    return AreaTable(
        title=title,
        kind=kind,
        code=code,
        period_key=period,
        period_name=period_name,
        period=span,
        rows=_sorted(rows, sort),
        total=total,
        sort=sort,
        columns=_sort_columns(),
    )


def _normalise_sort(sort: str) -> str:
    key = (sort or "").lstrip("-")
    if key not in SORT_KEYS:
        return "community"
    return sort


def _sorted(rows: list[AreaRow], sort: str) -> list[AreaRow]:
    """Rows by the column, ties and communities with nothing due ("—") last in either
    direction, then by community code."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "community":
        return sorted(rows, key=lambda r: r.code, reverse=descending)

    def value(row: AreaRow) -> float | None:
        if key == "cases":
            return row.cases
        if key == "overdue":
            return row.overdue
        return getattr(row.rates, key).value

    known = [r for r in rows if value(r) is not None]
    unknown = [r for r in rows if value(r) is None]
    sign = -1 if descending else 1
    known.sort(key=lambda r: (sign * value(r), r.code))  # type: ignore[operator]
    return known + sorted(unknown, key=lambda r: r.code)


# --- which boards a user may open ------------------------------------------------------------


@dataclass(frozen=True)
class BoardIndex:
    areas: list[Place]
    clusters: list[Cluster]
    communities: list[Place]


def boards_for(*, user: Any) -> BoardIndex:
    """The areas, clusters and communities whose boards `user` may open, in code order."""
    readable = _readable_places(user)
    communities = list(
        readable.filter(kind=PlaceKind.COMMUNITY).select_related("parent").order_by("code")
    )
    return BoardIndex(
        areas=list(readable.filter(kind__in=AREA_KINDS).order_by("code")),
        clusters=list(
            Cluster.objects.filter(communities__in=[c.pk for c in communities])
            .distinct()
            .order_by("code")
        ),
        communities=communities,
    )


def _may_read(user: Any, place: Place) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and holds_role_over(
        user, BOARD_ROLES, place
    )


def _readable_places(user: Any) -> QuerySet[Place]:
    if not getattr(user, "is_authenticated", False):
        return Place.objects.none()
    return visible_places(user, BOARD_ROLES)


def _readable(user: Any) -> QuerySet[Place]:
    return _readable_places(user).filter(kind=PlaceKind.COMMUNITY)
