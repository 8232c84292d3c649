"""Where each person's work starts: the entry links of the home page and the header.

One function decides, from the person's role scopes and homes, which pages they may open;
the home page and every page's header render what it returns. A link is offered only to
someone the page would let in: the same role sets the pages check (`WORKER_ROLES`,
`ENTRY_ROLES`, `RESIDENCY_VERIFIER_ROLES`, `BOARD_ROLES`), never a role name in a template.
"""

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import BooleanField, CharField, F, Q, Value
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.accounts.models import (
    RESIDENCY_VERIFIER_ROLES,
    STAFF_ROLES,
    Residency,
    ResidencyStatus,
    Role,
)
from gongzhi.accounts.scopes import scopes_with_roles, visible_places
from gongzhi.accounts.selectors import residencies_for_verifier
from gongzhi.cases.rules import ENTRY_ROLES
from gongzhi.cases.selectors import WORKER_ROLES
from gongzhi.core.queries import InSubquery
from gongzhi.insights.selectors import AREA_KINDS, BOARD_ROLES
from gongzhi.places.models import Cluster, Place, PlaceKind

# Roles that tie a person to their own dwelling or shop (besides a claimed residency).
HOME_ROLES = frozenset({Role.RESIDENT, Role.STREET_SHOP})

HOME = "home"
WORK = "work"


@dataclass(frozen=True)
class EntryLink:
    """One page a person may open: `key` names the kind of page (several links may share
    one, e.g. two communities' report pages), `hint` says which place it is about, and
    `count` is a number waiting there (claims to verify) when it was counted. `nav_text`
    is the header's words: the label, with the place when the key is not alone."""

    key: str
    group: str
    label: str
    url: str
    hint: str = ""
    count: int | None = None
    nav_text: str = ""


def entry_links_for(*, user: Any, count_pending: bool = False) -> list[EntryLink]:
    """The pages `user` works from, residents' first: their communities' report pages
    (一居一码), 我的诉求 and claiming a home; then the worker pages, fast entry, the
    verification queue (with the number of claims waiting when `count_pending`), the
    boards their roles open — community boards, supervisors' area tables, cluster
    tables — and the admin for Django staff; last the topics (议事协商) of their
    communities. Nothing for a visitor who is not signed in.
    A constant number of queries: the places and clusters in one."""
    if not getattr(user, "is_authenticated", False):
        return []
    homes, boards, clusters = _places(user)
    links = _home_links(user, homes) + _work_links(
        user, boards, clusters, count_pending=count_pending
    )
    # Topics are their communities' for residents and staff alike; a volunteer or partner
    # without a home sees none, so gets no link.
    if homes or scopes_with_roles(user, STAFF_ROLES):
        links.append(
            EntryLink(
                key="topics",
                group=HOME if homes else WORK,
                label=_("议事协商"),
                url=reverse("deliberation:topics"),
            )
        )
    keys = [link.key for link in links]
    return [
        replace(
            link,
            nav_text=(
                f"{link.label}·{link.hint}"
                if keys.count(link.key) > 1 and link.hint
                else link.label
            ),
        )
        for link in links
    ]


@dataclass(frozen=True)
class _Linked:
    """A place or cluster the header links to (`_places`)."""

    kind: str  # a PlaceKind, or CLUSTER
    code: str
    name: str
    is_home: bool
    is_board: bool
    report_slug: str | None


CLUSTER = "cluster"


def _places(user: Any) -> tuple[list[_Linked], list[_Linked], list[_Linked]]:
    """In one query: the communities of the person's own dwellings and shops (a live claim
    or verified residency, a resident's or shop's role), the places their board roles are
    held at (every district for an administrator), and the clusters holding a community
    their board roles may read — each in code order."""
    # InSubquery, not pk__in=<subquery>: inside the OR, PostgreSQL would otherwise read
    # every place (about 60 ms at a city's 200,000 places, on every page).
    homes = Q(
        InSubquery(
            "pk",
            Residency.objects.filter(
                user=user, status__in=[ResidencyStatus.CLAIMED, ResidencyStatus.VERIFIED]
            ).values("community_id"),
        )
    ) | Q(
        pk__in=[
            scope.community_id
            for scope in scopes_with_roles(user, HOME_ROLES)
            if scope.community_id is not None
        ]
    )
    # Each kind of place is its own part of a UNION, marked by constants: one condition
    # each, compiled once (as a flag column, each was compiled a second time), and someone
    # without a board role — every resident, a grid worker — asks for their homes alone.
    yes, no = Value(True, output_field=BooleanField()), Value(False, output_field=BooleanField())
    columns = ("kind", "code", "name", "is_home", "is_board", "report_slug")
    parts = [
        Place.objects.filter(homes, is_active=True)
        .annotate(is_home=yes, is_board=no, report_slug=F("settings__report_slug"))
        .values_list(*columns)
        .order_by()
    ]
    board_scopes = scopes_with_roles(user, BOARD_ROLES)
    if board_scopes:
        if any(scope.everywhere for scope in board_scopes):
            boards = Q(kind=PlaceKind.DISTRICT)
        else:
            boards = Q(code__in={code for scope in board_scopes for code in scope.place_codes})
        parts.append(
            Place.objects.filter(boards, is_active=True)
            .annotate(is_home=no, is_board=yes, report_slug=F("settings__report_slug"))
            .values_list(*columns)
            .order_by()
        )
        readable = visible_places(user, BOARD_ROLES).filter(kind=PlaceKind.COMMUNITY)
        parts.append(
            Cluster.objects.filter(InSubquery("communities", readable.values("pk")))
            .annotate(cluster=Value(CLUSTER), no=no, no_slug=Value(None, output_field=CharField()))
            .values_list("cluster", "code", "name", "no", "no", "no_slug")
            .order_by()
        )
    rows = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    # A place that is both a home and a board place comes once from each part.
    found: dict[tuple[bool, str], _Linked] = {}
    for kind, code, name, is_home, is_board, report_slug in rows.order_by("code"):
        key = (kind == CLUSTER, code)
        seen = found.get(key)
        found[key] = _Linked(
            kind=kind,
            code=code,
            name=name,
            is_home=bool(is_home) or (seen is not None and seen.is_home),
            is_board=bool(is_board) or (seen is not None and seen.is_board),
            report_slug=report_slug,
        )
    linked = list(found.values())
    homes_, boards_ = [p for p in linked if p.is_home], [p for p in linked if p.is_board]
    # A role held at an estate or a grid opens no board, so it gives no cluster either.
    clusters_ = [p for p in linked if p.kind == CLUSTER] if boards_ else []
    return homes_, boards_, clusters_


def _home_links(user: Any, communities: list[_Linked]) -> list[EntryLink]:
    links = []
    for community in communities:
        if community.report_slug:
            links.append(
                EntryLink(
                    key="report",
                    group=HOME,
                    label=_("反映问题"),
                    url=reverse("resident:report", args=[community.report_slug]),
                    hint=community.name,
                )
            )
    # Staff without a home of their own follow cases from the worker pages.
    if communities or not scopes_with_roles(user, STAFF_ROLES):
        links.append(
            EntryLink(
                key="my_cases", group=HOME, label=_("我的诉求"), url=reverse("resident:my_cases")
            )
        )
        links.append(
            EntryLink(
                key="claim", group=HOME, label=_("申报房屋或商铺"), url=reverse("accounts:claim")
            )
        )
    return links


def _work_links(
    user: Any, boards: list[_Linked], clusters: list[_Linked], *, count_pending: bool
) -> list[EntryLink]:
    links = []
    if scopes_with_roles(user, WORKER_ROLES):
        links.append(
            EntryLink(key="work", group=WORK, label=_("工作台"), url=reverse("cases_worker:inbox"))
        )
    if scopes_with_roles(user, ENTRY_ROLES):
        links.append(
            EntryLink(key="entry", group=WORK, label=_("快速登记"), url=reverse("cases_worker:new"))
        )
    if scopes_with_roles(user, RESIDENCY_VERIFIER_ROLES):
        links.append(
            EntryLink(
                key="verification",
                group=WORK,
                label=_("居住关系核验"),
                url=reverse("accounts:verification_queue"),
                count=residencies_for_verifier(user=user).count() if count_pending else None,
            )
        )
    links += _board_links(boards, clusters)
    if user.is_staff:
        links.append(
            EntryLink(key="admin", group=WORK, label=_("管理后台"), url=reverse("admin:index"))
        )
    return links


def _board_links(places: list[_Linked], clusters: list[_Linked]) -> list[EntryLink]:
    """A community's board for its workers, secretary and director; a district's or
    subdistrict's table for its supervisors (the communities below are reached from the
    table, not listed one by one); the tables of clusters holding a community they may
    read. A role held at an estate or a grid opens no board, so it gives no link."""
    links = []
    for place in places:
        if place.kind in AREA_KINDS:
            links.append(
                EntryLink(
                    key="area",
                    group=WORK,
                    label=_("辖区汇总"),
                    url=reverse("insights:area", args=[place.code]),
                    hint=place.name,
                )
            )
        elif place.kind == PlaceKind.COMMUNITY:
            links.append(
                EntryLink(
                    key="board",
                    group=WORK,
                    label=_("居民区看板"),
                    url=reverse("insights:community", args=[place.code]),
                    hint=place.name,
                )
            )
    for cluster in clusters:
        links.append(
            EntryLink(
                key="cluster",
                group=WORK,
                label=_("片区汇总"),
                url=reverse("insights:cluster", args=[cluster.code]),
                hint=cluster.name,
            )
        )
    return links
