"""Who may do what with places and people: named predicates over scoped role assignments.

Each predicate takes (user, obj) where obj is a Place or anything with a `place`
(a residency, a case, a visit): the question is always "does one of the user's roles
reach this place?" (`scopes.holds_role_over`). Other apps compose these predicates in
their own rules.py rather than asking about roles directly.
"""

from typing import Any

import rules

from gongzhi.places.models import Place

from .models import (
    COMMUNITY_LEAD_ROLES,
    RESIDENCY_VERIFIER_ROLES,
    STAFF_ROLES,
    SUPERVISOR_ROLES,
    Role,
)
from .scopes import holds_role_over, scopes_for

ALL_ROLES = frozenset(Role.values)


def place_of(obj: Any) -> Place | None:
    """The place an object is about: itself for a Place, else its `place` attribute."""
    if obj is None or isinstance(obj, Place):
        return obj
    return getattr(obj, "place", None)


@rules.predicate
def holds_any_role_over(user, obj) -> bool:
    """Any role at the place or above it: the user may see that the place exists."""
    return holds_role_over(user, ALL_ROLES, place_of(obj))


@rules.predicate
def is_staff_over_place(user, obj) -> bool:
    """A staff role (grid, community, property, owners' committee, mediator, supervisor,
    administrator) at the place or above it."""
    return holds_role_over(user, STAFF_ROLES, place_of(obj))


@rules.predicate
def is_community_lead_over(user, obj) -> bool:
    """Secretary or director of the community the place lies in (or above it)."""
    return holds_role_over(user, COMMUNITY_LEAD_ROLES, place_of(obj))


@rules.predicate
def is_supervisor_over(user, obj) -> bool:
    """Subdistrict or district supervisor over the place."""
    return holds_role_over(user, SUPERVISOR_ROLES, place_of(obj))


@rules.predicate
def is_administrator(user) -> bool:
    """A system administrator (role without a place, or a Django superuser)."""
    return any(scope.everywhere for scope in scopes_for(user))


@rules.predicate
def can_verify_residency(user, obj) -> bool:
    """Community worker, secretary, director (or administrator) over the claimed place."""
    return holds_role_over(user, RESIDENCY_VERIFIER_ROLES, place_of(obj))


# Full phone numbers and sensitive resident tags (独居, 低保, disability) are for the
# community's leads only (rules.md §5); case handlers get phones through
# `privacy.phone_for_viewer(unmasked_for=...)`, not through a role.
can_see_phone_unmasked = is_community_lead_over
can_see_sensitive_tags = is_community_lead_over

# Not "places.view_place": that is Django's own model permission, the one the admin asks
# for, and a rule under that name would change who may browse places there.
rules.add_perm("places.see_place", holds_any_role_over)
rules.add_perm("accounts.view_resident", is_staff_over_place)
rules.add_perm("accounts.verify_residency", can_verify_residency)
rules.add_perm("accounts.view_phone_unmasked", can_see_phone_unmasked)
rules.add_perm("accounts.view_sensitive_tags", can_see_sensitive_tags)
