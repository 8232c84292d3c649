"""Who may do what with places: predicates over scoped roles (see accounts.rules).

Seeing a place (`places.see_place`) is declared in accounts.rules, next to the other
"does a role reach this place" predicates; this module adds what is particular to places.
"""

import rules

from gongzhi.accounts.models import RESIDENCY_VERIFIER_ROLES
from gongzhi.accounts.scopes import holds_role_over

from .models import Place, PlaceKind

# Importing a roster verifies every resident on it, so it takes the roles that verify a
# single residency: community worker, secretary, director, administrator.
ROSTER_IMPORT_ROLES = RESIDENCY_VERIFIER_ROLES


@rules.predicate
def is_community(user, obj) -> bool:
    return isinstance(obj, Place) and obj.kind == PlaceKind.COMMUNITY


@rules.predicate
def can_import_roster_into(user, obj) -> bool:
    """A community worker, secretary, director or administrator whose scope covers it."""
    return isinstance(obj, Place) and holds_role_over(user, ROSTER_IMPORT_ROLES, obj)


rules.add_perm("places.import_roster", is_community & can_import_roster_into)
