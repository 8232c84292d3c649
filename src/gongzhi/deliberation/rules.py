"""Who may do what in the consultation loop: named predicates composed into permissions.

The parties (rules.md §4 and §6):
- everyone with a role in or over the community (residents included) follows its topics;
- residents of the community propose topics and support others' proposals;
- the residents' committee side — community worker, secretary, director — opens topics,
  moves them along the loop, runs surveys and meetings and writes plans; the owners'
  committee does the same for topics about its own estate; the property company also
  writes plans and reports implementation for its estate;
- only a convener starts an owners' vote: the estate's owners' committee, the
  preparatory group the subdistrict formed for it, or the subdistrict itself. The
  convening body enters paper and proxy ballots and counts; the owners' committee may
  also audit ballots. Other owners never see who voted how;
- the owner register is kept by the owners' committee, the preparatory group and the
  community staff who verify residency;
- supervisors read everything below them.

Objects are topics, surveys, meetings, plans, milestones, votes, or a place (a
community when opening or proposing, an estate for the register and its rules).
Services call `rules.has_perm` directly: a Django superuser gets no shortcut.
"""

from typing import Any

import rules

from gongzhi.accounts.models import COMMUNITY_LEAD_ROLES, SUPERVISOR_ROLES, Role
from gongzhi.accounts.scopes import holds_role_over, scopes_for, scopes_with_roles
from gongzhi.places.models import Place, PlaceKind

COMMUNITY_STAFF_ROLES = frozenset({Role.COMMUNITY_WORKER} | COMMUNITY_LEAD_ROLES)
RESIDENT_ROLES = frozenset({Role.RESIDENT, Role.STREET_SHOP, Role.BUILDING_LEADER})
OWNERS_COMMITTEE_ROLES = frozenset({Role.OWNERS_COMMITTEE})
PROPERTY_ROLES = frozenset({Role.PROPERTY_MANAGER})
SUBDISTRICT_ROLES = frozenset({Role.SUBDISTRICT_SUPERVISOR})


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def community_of(obj: Any) -> Place | None:
    """The community an object belongs to."""
    if obj is None:
        return None
    if isinstance(obj, Place):
        return obj if obj.kind == PlaceKind.COMMUNITY else obj.community
    for path in ("community", "topic.community", "plan.topic.community"):
        target = obj
        for attr in path.split("."):
            target = getattr(target, attr, None)
        if isinstance(target, Place):
            return target
    return None


def place_of(obj: Any) -> Place | None:
    """The narrowest place an object is about: an estate for most topics and every vote."""
    if obj is None or isinstance(obj, Place):
        return obj
    for path in ("estate", "topic.place", "plan.topic.place", "place", "community"):
        target = obj
        for attr in path.split("."):
            target = getattr(target, attr, None)
        if isinstance(target, Place):
            return target
    return None


@rules.predicate
def is_community_staff(user, obj) -> bool:
    """Community worker, secretary or director of the object's community (or above)."""
    return _authenticated(user) and holds_role_over(user, COMMUNITY_STAFF_ROLES, community_of(obj))


@rules.predicate
def is_owners_committee(user, obj) -> bool:
    """A member of the owners' committee of the object's estate."""
    return _authenticated(user) and holds_role_over(user, OWNERS_COMMITTEE_ROLES, place_of(obj))


@rules.predicate
def is_property_manager(user, obj) -> bool:
    return _authenticated(user) and holds_role_over(user, PROPERTY_ROLES, place_of(obj))


@rules.predicate
def is_supervisor(user, obj) -> bool:
    return _authenticated(user) and holds_role_over(user, SUPERVISOR_ROLES, community_of(obj))


@rules.predicate
def is_subdistrict_office(user, obj) -> bool:
    """The subdistrict office over the object's estate (a convener of owners' votes)."""
    return _authenticated(user) and holds_role_over(user, SUBDISTRICT_ROLES, place_of(obj))


@rules.predicate
def is_administrator(user) -> bool:
    return _authenticated(user) and any(scope.everywhere for scope in scopes_for(user))


@rules.predicate
def is_community_member(user, obj) -> bool:
    """Holds any role in the object's community or over it: residents, staff, partners."""
    community = community_of(obj)
    if not _authenticated(user) or community is None:
        return False
    return any(
        scope.community_id == community.pk or scope.covers(community) for scope in scopes_for(user)
    )


@rules.predicate
def is_resident_of(user, obj) -> bool:
    """A resident or street shop of the object's community."""
    community = community_of(obj)
    if not _authenticated(user) or community is None:
        return False
    return any(
        scope.community_id == community.pk for scope in scopes_with_roles(user, RESIDENT_ROLES)
    )


@rules.predicate
def is_proposer(user, topic) -> bool:
    return _authenticated(user) and topic.proposed_by_id == user.pk


@rules.predicate
def is_preparatory_member(user, obj) -> bool:
    """A member of the preparatory group the subdistrict formed for the estate."""
    from .models import PreparatoryGroupMember

    estate = place_of(obj)
    if not _authenticated(user) or estate is None:
        return False
    return PreparatoryGroupMember.objects.filter(estate=estate, user=user).exists()


@rules.predicate
def is_convening_body(user, vote) -> bool:
    """A member of the body that convened the vote: it enters paper ballots and counts."""
    from .models import ConvenerKind

    if vote.convener_kind == ConvenerKind.OWNERS_COMMITTEE:
        return is_owners_committee(user, vote)
    if vote.convener_kind == ConvenerKind.PREPARATORY_GROUP:
        return is_preparatory_member(user, vote)
    return is_subdistrict_office(user, vote)


@rules.predicate
def can_verify_owners(user, obj) -> bool:
    """Community staff who verify residency, over the estate."""
    return _authenticated(user) and holds_role_over(user, COMMUNITY_STAFF_ROLES, place_of(obj))


can_view = is_community_member | is_supervisor | is_administrator
can_manage_topic = is_community_staff | is_owners_committee
can_manage_plan = can_manage_topic | is_property_manager
can_convene = is_owners_committee | is_preparatory_member | is_subdistrict_office

rules.add_perm("deliberation.see_topic", can_view)
rules.add_perm("deliberation.open_topic", is_community_staff)
rules.add_perm("deliberation.propose_topic", is_resident_of)
rules.add_perm("deliberation.support_topic", is_resident_of & ~is_proposer)
rules.add_perm("deliberation.manage_topic", can_manage_topic)
rules.add_perm("deliberation.manage_survey", can_manage_topic)
rules.add_perm("deliberation.manage_meeting", can_manage_topic)
rules.add_perm("deliberation.manage_plan", can_manage_plan)
rules.add_perm("deliberation.update_milestone", can_manage_plan)
rules.add_perm("deliberation.convene_vote", can_convene)
rules.add_perm("deliberation.enter_ballot", is_convening_body)
rules.add_perm("deliberation.count_vote", is_convening_body)
rules.add_perm("deliberation.audit_vote", is_convening_body | is_owners_committee)
rules.add_perm(
    "deliberation.manage_register", is_owners_committee | is_preparatory_member | can_verify_owners
)
rules.add_perm("deliberation.set_meeting_rules", is_owners_committee)
rules.add_perm("deliberation.appoint_preparatory_group", is_subdistrict_office)
