"""Where a person's roles reach: the one place that turns role assignments into visibility.

A role held at a place reaches that place and everything below it (a prefix of the place
code); a role held on a grid reaches the grid's buildings and everything below them.
Selectors build their filters from `place_filter`, predicates ask `holds_role_over`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from django.db.models import Q

from gongzhi.places.models import Place

from .models import Role, RoleAssignment, User


@dataclass(frozen=True)
class Scope:
    role: str
    place_codes: tuple[str, ...]  # empty with `everywhere`
    everywhere: bool = False
    community_id: int | None = None
    grid_id: int | None = None

    def covers(self, place: Place) -> bool:
        if self.everywhere:
            return True
        return any(
            place.code == code or place.code.startswith(code + "-") for code in self.place_codes
        )


def scopes_for(user: User) -> list[Scope]:
    """The user's active role scopes, computed once per request (cached on the user).

    One query of plain values: a row per assignment, or per building of an assignment's
    grid (a grid worker's grid has dozens; only their codes are needed, not a `Place`
    each, nor a second query to prefetch them)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_gongzhi_scopes", None)
    if cached is not None:
        return cached
    rows = (
        RoleAssignment.objects.active()
        .filter(user=user)
        .order_by("pk", "grid__buildings__code")
        .values_list(
            "pk",
            "role",
            "place_id",
            "place__code",
            "place__community_id",
            "grid_id",
            "grid__community_id",
            "grid__buildings__code",
        )
    )
    scopes: list[Scope] = []
    for _pk, group in groupby(rows, key=itemgetter(0)):
        assignment = list(group)
        _, role, place_id, place_code, place_community_id, grid_id, grid_community_id, _ = (
            assignment[0]
        )
        if grid_id:
            codes = tuple(row[-1] for row in assignment if row[-1] is not None)
            scopes.append(Scope(role, codes, community_id=grid_community_id, grid_id=grid_id))
        elif place_id:
            scopes.append(Scope(role, (place_code,), community_id=place_community_id))
        elif role == Role.ADMINISTRATOR:
            scopes.append(Scope(role, (), everywhere=True))
    if user.is_superuser and not any(s.everywhere for s in scopes):
        scopes.append(Scope(Role.ADMINISTRATOR, (), everywhere=True))
    user._gongzhi_scopes = scopes  # type: ignore[attr-defined]
    return scopes


def scopes_with_roles(user: User, roles: Iterable[str]) -> list[Scope]:
    wanted = set(roles)
    return [s for s in scopes_for(user) if s.role in wanted]


def holds_role_over(user: User, roles: Iterable[str], place: Place | None) -> bool:
    """True if the user holds one of `roles` at `place` or at one of its ancestors."""
    if place is None:
        return False
    return any(scope.covers(place) for scope in scopes_with_roles(user, roles))


def place_filter(user: User, roles: Iterable[str], field: str = "place") -> Q:
    """A Q limiting `field` (a foreign key to Place) to what the roles reach; matches
    nothing when the user holds none of them."""
    condition = Q(pk__in=[])
    for scope in scopes_with_roles(user, roles):
        if scope.everywhere:
            return Q()
        for code in scope.place_codes:
            condition |= Q(**{f"{field}__code": code}) | Q(
                **{f"{field}__code__startswith": code + "-"}
            )
    return condition


def visible_places(user: User, roles: Iterable[str] | None = None):
    """Places the user may see through any role (or through the given roles)."""
    wanted = roles if roles is not None else [r.value for r in Role]
    if not user.is_authenticated:
        return Place.objects.none()
    return Place.objects.filter(_self_filter(user, wanted))


def _self_filter(user: User, roles: Iterable[str]) -> Q:
    condition = Q(pk__in=[])
    for scope in scopes_with_roles(user, roles):
        if scope.everywhere:
            return Q()
        for code in scope.place_codes:
            condition |= Q(code=code) | Q(code__startswith=code + "-")
    return condition
