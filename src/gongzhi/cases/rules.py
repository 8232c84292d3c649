"""Who may do what with a case: named predicates composed into one permission per action.

The parties (rules §1, §6):
- the reporter (and the reporters of duplicates merged into the case) follows it, rates
  it online, and may complain (reopen);
- the lead handles it; co-handlers update their own part;
- case staff (grid worker and leader over the place; community worker, secretary,
  director of the community) respond, dispatch, record follow-up calls and visits;
- community leads (secretary, director) may also act on a case in place of its lead,
  and decide exclusions from the rates;
- supervisors (subdistrict, district) read everything below them and may assign;
- property managers, owners' committee members and mediators see and act on the cases
  routed to them, as handlers — not on every case of their estate.

The handler may not record the follow-up of their own case: only someone else, or the
resident, says whether it was resolved.

Services call `rules.has_perm(...)` directly (not `user.has_perm`, which lets Django
superusers through everything): an administrator configures, but does not handle cases.
"""

from typing import Any

import rules

from gongzhi.accounts.models import (
    COMMUNITY_LEAD_ROLES,
    STAFF_ROLES,
    SUPERVISOR_ROLES,
    Residency,
    ResidencyStatus,
    Role,
)
from gongzhi.accounts.scopes import holds_role_over, scopes_for, scopes_with_roles
from gongzhi.places.models import PlaceKind

from .states import FINAL_STATES, OPEN_STATES

# Staff who handle any case in their place's scope.
CASE_STAFF_ROLES = frozenset(
    {Role.GRID_WORKER, Role.GRID_LEADER, Role.COMMUNITY_WORKER, Role.SECRETARY, Role.DIRECTOR}
)
# Roles a case can be assigned to, at or above its place.
HANDLER_ROLES = CASE_STAFF_ROLES | {Role.PROPERTY_MANAGER, Role.OWNERS_COMMITTEE, Role.MEDIATOR}
# Roles that may enter a report on someone's behalf (phone, walk-in, reception day, visit).
ENTRY_ROLES = CASE_STAFF_ROLES | {Role.PROPERTY_MANAGER, Role.OWNERS_COMMITTEE, Role.MEDIATOR}
# Roles whose patrols find problems.
PATROL_ROLES = ENTRY_ROLES | {Role.VOLUNTEER, Role.BUILDING_LEADER}
# Roles that assign tasks downward (协助任务).
TASK_ROLES = CASE_STAFF_ROLES | SUPERVISOR_ROLES
# Who may report what where (self-service: the resident page, the API, Open311):
# staff anywhere their roles reach; everyone else about their own dwelling or shop, and
# about the places a community's residents share — in the communities they live in.
REPORT_ANYWHERE_ROLES = STAFF_ROLES
# Roles that make a dwelling or shop someone's own, besides a claimed residency.
HOME_ROLES = frozenset({Role.RESIDENT, Role.STREET_SHOP})
SHARED_PLACE_KINDS = frozenset(
    {PlaceKind.ESTATE, PlaceKind.BUILDING, PlaceKind.PUBLIC_AREA, PlaceKind.STREET_SHOP}
)
# A claim counts at once: reporting does not wait for the community's verification.
LIVE_RESIDENCY = (ResidencyStatus.CLAIMED, ResidencyStatus.VERIFIED)


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


@rules.predicate
def is_reporter(user, case) -> bool:
    """The case's reporter, or the reporter of a duplicate merged into it."""
    if not _authenticated(user):
        return False
    if case.reporter_id == user.pk:
        return True
    return case.merged_cases.filter(reporter_id=user.pk).exists()


@rules.predicate
def is_lead(user, case) -> bool:
    return _authenticated(user) and case.lead_id == user.pk


@rules.predicate
def is_co_handler(user, case) -> bool:
    return (
        _authenticated(user)
        and case.handlers.filter(user_id=user.pk, kind="co_handler", is_active=True).exists()
    )


@rules.predicate
def is_former_handler(user, case) -> bool:
    """Once handled it (kept seeing it after handing it over)."""
    return _authenticated(user) and case.handlers.filter(user_id=user.pk).exists()


@rules.predicate
def completed_it(user, case) -> bool:
    return _authenticated(user) and case.completed_by_id == user.pk


@rules.predicate
def is_case_staff(user, case) -> bool:
    return _authenticated(user) and holds_role_over(user, CASE_STAFF_ROLES, case.place)


@rules.predicate
def is_community_lead(user, case) -> bool:
    return _authenticated(user) and holds_role_over(user, COMMUNITY_LEAD_ROLES, case.place)


@rules.predicate
def is_supervisor(user, case) -> bool:
    return _authenticated(user) and holds_role_over(user, SUPERVISOR_ROLES, case.place)


@rules.predicate
def is_administrator(user) -> bool:
    return _authenticated(user) and any(scope.everywhere for scope in scopes_for(user))


@rules.predicate
def is_transfer_target(user, case) -> bool:
    return _authenticated(user) and case.transfer_to_id == user.pk


@rules.predicate
def is_open(user, case) -> bool:
    """Still being worked on (the clocks run)."""
    return case.state in OPEN_STATES


@rules.predicate
def is_unfinished(user, case) -> bool:
    """Not closed, merged or declined."""
    return case.state not in FINAL_STATES


def home_communities(user: Any) -> set[int]:
    """The communities of the dwellings and shops that are `user`'s own: a live claim or
    verified residency, or a resident's or shop's role."""
    if not _authenticated(user):
        return set()
    ids = set(
        Residency.objects.filter(user=user, status__in=LIVE_RESIDENCY).values_list(
            "community_id", flat=True
        )
    )
    return ids | {
        scope.community_id
        for scope in scopes_with_roles(user, HOME_ROLES)
        if scope.community_id is not None
    }


def is_own_home(user: Any, place: Any) -> bool:
    """`place` is a dwelling or shop `user` lives in or runs (or lies within one)."""
    return (
        holds_role_over(user, HOME_ROLES, place)
        or Residency.objects.filter(user=user, place=place, status__in=LIVE_RESIDENCY).exists()
    )


@rules.predicate
def may_report_at(user, place) -> bool:
    """The one rule of where a person may report for themselves (resident page, API,
    Open311): staff anywhere their roles reach (`REPORT_ANYWHERE_ROLES`); anyone else
    about their own dwelling or shop, or about a shared place — estate, building, public
    area, street shop — of a community they live in. Someone else's home is never one."""
    if not _authenticated(user) or place is None:
        return False
    if holds_role_over(user, REPORT_ANYWHERE_ROLES, place) or is_own_home(user, place):
        return True
    return place.kind in SHARED_PLACE_KINDS and place.community_id in home_communities(user)


is_handler = is_lead | is_co_handler
can_view = (
    is_reporter
    | is_former_handler
    | is_transfer_target
    | is_case_staff
    | is_supervisor
    | is_administrator
)
# The lead, or a community lead standing in for them.
can_handle = is_lead | is_community_lead

rules.add_perm("cases.view", can_view)
rules.add_perm("cases.respond", is_lead | is_case_staff)
rules.add_perm("cases.start", can_handle)
rules.add_perm("cases.pause", can_handle)
rules.add_perm("cases.resume", can_handle)
rules.add_perm("cases.complete", can_handle)
rules.add_perm(
    "cases.follow_up",
    (is_reporter | is_case_staff) & ~is_handler & ~completed_it,
)
rules.add_perm("cases.close", is_case_staff & ~is_handler)
rules.add_perm("cases.reopen", is_reporter | is_case_staff)
rules.add_perm("cases.merge", is_lead | is_case_staff)
rules.add_perm("cases.decline", is_lead | is_case_staff)
rules.add_perm("cases.to_topic", is_lead | is_case_staff)
rules.add_perm("cases.link_topic", is_lead | is_case_staff)
rules.add_perm("cases.assign", is_case_staff | is_supervisor)
# Taking a case from its lead without their agreement is for those above them.
rules.add_perm("cases.reassign", is_community_lead | is_supervisor)
rules.add_perm("cases.transfer", can_handle)
rules.add_perm("cases.accept_transfer", is_transfer_target)
rules.add_perm("cases.add_co_handler", can_handle | is_case_staff)
rules.add_perm("cases.exclude_from_rates", is_community_lead | is_supervisor)
rules.add_perm("cases.report_at", may_report_at)
# More photos of the problem from the reporter while it is worked on; of the work from
# those handling it until the case is finished.
rules.add_perm(
    "cases.add_photos",
    (is_reporter & is_open) | ((can_handle | is_co_handler) & is_unfinished),
)
rules.add_perm(
    "cases.view_internal", is_former_handler | is_case_staff | is_supervisor | is_administrator
)
