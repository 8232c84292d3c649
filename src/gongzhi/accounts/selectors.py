"""Reads of people, residencies and the places a person may see.

Every selector takes the acting user and returns only what that user may see; a record
outside their reach is reported exactly like one that does not exist (NotFound).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound
from gongzhi.places.models import Place, PlaceKind

from .models import (
    RESIDENCY_VERIFIER_ROLES,
    Residency,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
)
from .scopes import place_filter, scopes_for

# --- residencies ----------------------------------------------------------------------


def residencies_for_user(*, user: User) -> QuerySet[Residency]:
    """The person's own ties to dwellings and shops, newest first, whatever their status."""
    return (
        Residency.objects.filter(user=user)
        .select_related("community", "place__parent__parent__parent")
        .order_by("-created_at", "-pk")
    )


def residencies_for_verifier(*, user: User) -> QuerySet[Residency]:
    """Claims waiting for verification at places the user may verify, oldest first."""
    return (
        Residency.objects.filter(status=ResidencyStatus.CLAIMED)
        .filter(place_filter(user, RESIDENCY_VERIFIER_ROLES))
        .select_related("user", "community", "place__parent__parent__parent")
        .order_by("created_at", "pk")
    )


def residency_get_for_verifier(*, user: User, pk: int) -> Residency:
    """One residency the user may verify (whatever its status), or NotFound."""
    residency = (
        Residency.objects.filter(pk=pk)
        .filter(place_filter(user, RESIDENCY_VERIFIER_ROLES))
        .select_related("user", "community", "place__parent__parent__parent")
        .first()
    )
    if residency is None:
        raise NotFound()
    return residency


def residency_verifiers(*, place: Place) -> QuerySet[User]:
    """Active people whose role lets them verify claims at `place` (to tell them of one).

    Administrators are left out: they can verify anywhere, but the community's own
    workers are the ones who know the household.
    """
    roles = RESIDENCY_VERIFIER_ROLES - {Role.ADMINISTRATOR}
    assignments = RoleAssignment.objects.active().filter(
        role__in=roles, place__code__in=place.ancestor_codes()
    )
    return User.objects.filter(is_active=True, pk__in=assignments.values("user_id")).order_by("pk")


def place_label(place: Place | None) -> str:
    """A dwelling or shop named by its path below the community, e.g.
    "虹桥新城1期 1号楼 1单元 101室" (two estates may both have a 1号楼). Uses the parents
    already loaded with select_related("place__parent__parent__parent") when there."""
    names: list[str] = []
    node = place
    while node is not None and node.kind not in _ABOVE_ESTATE:
        names.append(node.name)
        node = node.parent
    return " ".join(reversed(names))


_ABOVE_ESTATE = {PlaceKind.COMMUNITY, PlaceKind.SUBDISTRICT, PlaceKind.DISTRICT}


# --- choosing a place to claim ----------------------------------------------------------


def claimable_communities() -> QuerySet[Place]:
    """Every active community, grouped by subdistrict, for the first select of a claim."""
    return (
        Place.objects.filter(kind=PlaceKind.COMMUNITY, is_active=True)
        .select_related("parent")
        .order_by("parent__code", "sort_key", "code")
    )


def claimable_buildings(*, community: Place) -> QuerySet[Place]:
    """The buildings of one community, in their natural order."""
    return Place.objects.filter(
        community=community, kind=PlaceKind.BUILDING, is_active=True
    ).order_by("sort_key", "code")


def claimable_shops(*, community: Place) -> QuerySet[Place]:
    """The street shops of one community."""
    return Place.objects.filter(
        community=community, kind=PlaceKind.STREET_SHOP, is_active=True
    ).order_by("sort_key", "code")


def claimable_dwellings(*, building: Place) -> QuerySet[Place]:
    """The dwellings of one building (through its entrances, if it has any)."""
    return (
        Place.objects.filter(
            code__startswith=building.code + "-", kind=PlaceKind.DWELLING, is_active=True
        )
        .select_related("parent")
        .order_by("code")
    )


def claimable_place_get(*, pk: int) -> Place:
    """A dwelling or street shop a person may claim, or NotFound."""
    place = Place.objects.filter(
        pk=pk, kind__in=[PlaceKind.DWELLING, PlaceKind.STREET_SHOP], is_active=True
    ).first()
    if place is None:
        raise NotFound()
    return place


# --- the home page's view of the place tree ---------------------------------------------

# How far below a scope's root the home page draws: above estates it stops at estates,
# so a subdistrict with 10,000 dwellings is a few dozen rows; from an estate it shows
# its buildings.
_TREE_KINDS_ABOVE_ESTATE = {PlaceKind.SUBDISTRICT, PlaceKind.COMMUNITY, PlaceKind.ESTATE}
_TREE_LEVELS = 2
# Roles whose own place is listed as "my home" instead of a tree.
_HOUSEHOLD_ROLES = {Role.RESIDENT, Role.STREET_SHOP}


@dataclass
class TreeNode:
    place: Place
    children: list["TreeNode"] = field(default_factory=list)
    buildings: int = 0
    dwellings: int = 0


@dataclass
class ScopeSection:
    """One place (or grid) where the user holds roles, with the part of the tree it shows."""

    title: str
    roles: list[str]
    roots: list[TreeNode]


def place_tree_for(*, user: User) -> list[ScopeSection]:
    """The places each of the user's (non-household) roles reaches, drawn compactly.

    Leaves carry the number of buildings and dwellings beneath them, counted in the
    database, so the page stays small however large the scope.
    """
    sections: dict[str, ScopeSection] = {}
    roots_for: dict[str, list[Place]] = {}
    scopes = [s for s in scopes_for(user) if s.role not in _HOUSEHOLD_ROLES]
    codes_needed = {code for s in scopes for code in s.place_codes}
    places_by_code = {p.code: p for p in Place.objects.filter(code__in=codes_needed)}
    grid_names = dict(
        RoleAssignment.objects.filter(user=user, grid__isnull=False)
        .select_related("grid")
        .values_list("grid_id", "grid__name")
    )
    for scope in scopes:
        if scope.everywhere:
            key, title = "*", _("全部地区")
            roots = list(Place.objects.filter(parent__isnull=True).order_by("sort_key", "code"))
        elif scope.grid_id is not None:
            key, title = f"grid:{scope.grid_id}", grid_names.get(scope.grid_id, "")
            roots = [places_by_code[c] for c in scope.place_codes if c in places_by_code]
        else:
            root = places_by_code.get(scope.place_codes[0])
            if root is None:
                continue
            key, title = f"place:{root.pk}", root.name
            roots = [root]
        section = sections.setdefault(key, ScopeSection(title=title, roles=[], roots=[]))
        section.roles.append(str(Role(scope.role).label))
        roots_for[key] = roots
    all_leaves: list[TreeNode] = []
    for key, section in sections.items():
        section.roots = [_subtree(root, all_leaves) for root in roots_for[key]]
    _count_beneath(all_leaves)
    return list(sections.values())


def _subtree(root: Place, leaves: list[TreeNode]) -> TreeNode:
    if root.kind == PlaceKind.ESTATE:
        kinds, levels = {PlaceKind.BUILDING}, 1
    elif root.kind in {PlaceKind.DISTRICT, PlaceKind.SUBDISTRICT, PlaceKind.COMMUNITY}:
        kinds, levels = _TREE_KINDS_ABOVE_ESTATE, _TREE_LEVELS
    else:
        kinds, levels = set(), 0
    nodes = {root.pk: TreeNode(root)}
    if levels:
        below = Place.objects.filter(
            code__startswith=root.code + "-",
            kind__in=kinds,
            depth__lte=root.depth + levels,
            is_active=True,
        ).order_by("depth", "sort_key", "code")
        for place in below:
            parent = nodes.get(place.parent_id) if place.parent_id is not None else None
            if parent is None:
                continue
            node = TreeNode(place)
            nodes[place.pk] = node
            parent.children.append(node)
    leaves.extend(node for node in nodes.values() if not node.children)
    return nodes[root.pk]


def _count_beneath(leaves: list[TreeNode]) -> None:
    """Fill in building and dwelling counts for each leaf with a few grouped queries."""
    if not leaves:
        return
    counted = (PlaceKind.BUILDING, PlaceKind.DWELLING)
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    communities = [n.place.pk for n in leaves if n.place.kind == PlaceKind.COMMUNITY]
    if communities:
        rows = (
            Place.objects.filter(community_id__in=communities, kind__in=counted, is_active=True)
            .values_list("community_id", "kind")
            .annotate(n=Count("pk"))
        )
        for community_id, kind, n in rows:
            totals[community_id][kind] += n
    others = [n.place for n in leaves if n.place.kind != PlaceKind.COMMUNITY]
    if others:
        # Each descendant reaches its leaf through a fixed number of parent links;
        # one grouped query per distance up to the deepest dwelling.
        ids = [p.pk for p in others]
        deepest = (
            Place.objects.filter(kind=PlaceKind.DWELLING)
            .order_by("-depth")
            .values_list("depth", flat=True)
            .first()
            or 0
        )
        for distance in range(1, max(deepest - min(p.depth for p in others), 0) + 1):
            path = "__".join(["parent"] * distance)
            rows = (
                Place.objects.filter(**{f"{path}__in": ids}, kind__in=counted, is_active=True)
                .values_list(path, "kind")
                .annotate(n=Count("pk"))
            )
            for leaf_id, kind, n in rows:
                totals[leaf_id][kind] += n
    for node in leaves:
        node.buildings = totals[node.place.pk][PlaceKind.BUILDING]
        node.dwellings = totals[node.place.pk][PlaceKind.DWELLING]


def roles_for(*, user: User) -> QuerySet[RoleAssignment]:
    """The user's active role assignments with their places, for showing on the home page."""
    return (
        RoleAssignment.objects.active()
        .filter(user=user)
        .select_related("place", "grid")
        .order_by("role", "pk")
    )
