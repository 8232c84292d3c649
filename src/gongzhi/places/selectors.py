"""Every read of the place tree that a page or the API uses, limited to what the user may see.

Visibility comes from `accounts.scopes.visible_places`: a role held at a place reaches it
and everything below it; a grid role reaches the grid's buildings. A place outside that
reach is answered exactly like a place that does not exist.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from gongzhi.accounts.scopes import visible_places
from gongzhi.core.errors import NotFound
from gongzhi.core.text import normalise

from .models import CommunitySettings, Grid, Place, PlaceKind

SEARCH_LIMIT = 50


def place_get(*, user: Any, code: str) -> Place:
    """The place with this code, if the user may see it; NotFound otherwise."""
    code = (code or "").strip().upper()
    place = (
        visible_places(user).filter(code=code).select_related("parent", "community").first()
        if code
        else None
    )
    if place is None:
        raise NotFound()
    return place


@dataclass(frozen=True)
class Crumb:
    """One ancestor in a place's breadcrumb; `visible` says whether the user may open it."""

    code: str
    name: str
    kind: str
    visible: bool


def place_breadcrumb_for(*, user: Any, place: Place) -> list[Crumb]:
    """The place's ancestors from the root down (the place itself last), read from its code.

    Names of the places above a user's scope are shown (a grid worker knows which
    community they work in) but are not links: opening them would answer 404.
    """
    codes = place.ancestor_codes()
    ancestors = {
        p.code: p for p in Place.objects.filter(code__in=codes).only("code", "name", "kind")
    }
    visible = set(visible_places(user).filter(code__in=codes).values_list("code", flat=True))
    return [
        Crumb(code=c, name=ancestors[c].name, kind=ancestors[c].kind, visible=c in visible)
        for c in codes
        if c in ancestors
    ]


def place_children_for(*, user: Any, place: Place) -> QuerySet[Place]:
    """The place's direct children the user may see, each with `children_count`, in order."""
    return (
        visible_places(user)
        .filter(parent=place)
        .annotate(children_count=Count("children"))
        .order_by("sort_key", "code")
    )


def place_grids_for(*, place: Place) -> QuerySet[Grid]:
    """The grids drawn in a community, or the grids a building or shop belongs to (for an
    entrance or dwelling: its building's grids).

    Grid names and codes are not personal data: whoever may see the place may see them.
    """
    if place.kind == PlaceKind.COMMUNITY:
        grids = Grid.objects.filter(community=place)
    else:
        grids = Grid.objects.filter(buildings__code__in=place.ancestor_codes()).distinct()
    return grids.annotate(buildings_count=Count("buildings", distinct=True)).order_by("code")


@dataclass(frozen=True)
class CommunitySummary:
    """What a user sees of one community: how many estates, buildings and dwellings.

    `whole` is False when the user sees only part of it (a grid worker sees the grid's
    buildings, a property manager one estate): the counts are then those of that part.
    """

    community: Place
    estates: int
    buildings: int
    dwellings: int
    whole: bool


def place_tree_summary_for(*, user: Any) -> list[CommunitySummary]:
    """Per community the user can see any of: counts of the estates, buildings, dwellings
    visible to them. Three queries whatever the size of the tree."""
    visible = visible_places(user)
    counts: dict[int, dict[str, int]] = {}
    rows = (
        visible.filter(kind__in=[PlaceKind.ESTATE, PlaceKind.BUILDING, PlaceKind.DWELLING])
        .values("community_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts.setdefault(row["community_id"], {})[row["kind"]] = row["n"]
    whole_ids = set(visible.filter(kind=PlaceKind.COMMUNITY).values_list("pk", flat=True))
    communities = Place.objects.filter(pk__in=whole_ids | set(counts)).order_by("code")
    return [
        CommunitySummary(
            community=community,
            estates=counts.get(community.pk, {}).get(PlaceKind.ESTATE, 0),
            buildings=counts.get(community.pk, {}).get(PlaceKind.BUILDING, 0),
            dwellings=counts.get(community.pk, {}).get(PlaceKind.DWELLING, 0),
            whole=community.pk in whole_ids,
        )
        for community in communities
    ]


def community_for_report_slug(slug: str) -> Place:
    """The active community whose public report page is /r/<slug>/ (一居一码).

    Public: anyone holding the QR code may open the page, so no user is involved.
    """
    settings = (
        CommunitySettings.objects.select_related("community")
        .filter(
            report_slug=(slug or "").strip().lower(),
            community__kind=PlaceKind.COMMUNITY,
            community__is_active=True,
        )
        .first()
    )
    if settings is None:
        raise NotFound()
    return settings.community


def places_search_for(*, user: Any, text: str, limit: int = SEARCH_LIMIT) -> QuerySet[Place]:
    """Places the user may see whose name or code contains every word of `text`.

    Words are compared in normalised form, so traditional characters and full-width
    digits find the simplified, half-width names. Larger places come first.
    """
    words = normalise(text).split()
    if not words:
        return Place.objects.none()
    condition = Q()
    for word in words:
        condition &= (
            Q(search_name__contains=word)
            | Q(name__icontains=word)
            | Q(code__icontains=word.upper())
        )
    return (
        visible_places(user)
        .filter(condition)
        .select_related("community")
        .order_by("depth", "sort_key", "code")[:limit]
    )
