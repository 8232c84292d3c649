"""Every read of cases that a page, the API or an export uses, limited to what the reader
may see. A case outside the reader's reach is reported exactly like a missing one.

Who sees which cases:
- case staff (grid workers and leaders, community workers, secretary, director) and
  supervisors see the cases under the places their roles reach;
- anyone who handles or handled a case (a property manager, owners' committee member or
  mediator it was routed to) sees that case, and so does the person asked to take it over;
- residents see the cases they reported (and those their duplicates were merged into),
  and only the public steps of the timeline;
- an administrator sees everything (to configure, not to handle).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from functools import partial, reduce
from operator import or_
from typing import Any, TypeVar

import rules
from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import (
    SUPERVISOR_ROLES,
    Residency,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
)
from gongzhi.accounts.privacy import personal_data_read, phone_for_viewer
from gongzhi.accounts.scopes import holds_role_over, scopes_with_roles, visible_places
from gongzhi.core.clocks import ClockContext
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.queries import InSubquery, Total
from gongzhi.core.text import search_tokens
from gongzhi.core.workdays import clock_context_for
from gongzhi.places.models import CommunitySettings, Grid, Place, PlaceKind

from .models import (
    Case,
    CaseEvent,
    CaseHandler,
    CasePhoto,
    Category,
    DutyRota,
    FollowUp,
    FollowUpOutcome,
    Policy,
    RateExclusion,
    ReportReceipt,
    Satisfaction,
)
from .routing import GRID_ROLES, Candidate, RoutingInput
from .rules import (
    CASE_STAFF_ROLES,
    ENTRY_ROLES,
    HANDLER_ROLES,
    HOME_ROLES,
    LIVE_RESIDENCY,
    REPORT_ANYWHERE_ROLES,
    SHARED_PLACE_KINDS,
    home_communities,
    is_reporter,
)
from .states import OPEN_STATES, CaseAction, CaseState, allowed_actions

# Roles that see every case under their scope (rates included).
SCOPE_ROLES = CASE_STAFF_ROLES | SUPERVISOR_ROLES | {Role.ADMINISTRATOR}

# --- categories, policies, routing ------------------------------------------------------


def categories_for_report() -> QuerySet[Category]:
    """Active categories in display order, for the report page, the API and Open311."""
    return Category.objects.filter(is_active=True).order_by("sort", "code")


def category_for_report(*, code: str) -> Category | None:
    """The active category with this code, for a report (None if there is none)."""
    # Unordered: the code is unique, and every report asks (an ORDER BY is compiled anew
    # each time).
    found = list(Category.objects.filter(is_active=True, code=code).order_by()[:1])
    return found[0] if found else None


def policy_for(*, category: Category, community: Place | None) -> Policy:
    """The policy in force for `category` in `community`: its override, else the default."""
    scope = Q(community__isnull=True)
    if community is not None:
        scope |= Q(community=community)
    candidates = Policy.objects.filter(scope, category=category)
    chosen = None
    for policy in candidates:
        if policy.community_id is not None:
            return policy
        chosen = policy
    if chosen is None:
        raise ValidationFailed(
            _("类别“%(category)s”尚未设置时限。") % {"category": category.name},
            code="policy_missing",
        )
    return chosen


def routing_input_for(*, category: Category, place: Place, at: datetime) -> RoutingInput:
    """Load what `routing.route` needs: the place's ancestors and grids, the active role
    holders who may cover it, today's duty rota and the community's workers.

    Read as plain values, the holders and the community's workers in one query: a report
    asks for all of it inside its transaction, and model instances of the assignments,
    their users and places were the largest part of building a report's routing."""
    codes = place.ancestor_codes()
    grid_names = dict(
        Grid.objects.filter(buildings__code__in=codes)
        .distinct()
        .order_by("code")
        .values_list("pk", "name")
    )
    roles = {category.lead_role, *category.co_handler_roles}
    if roles & GRID_ROLES:
        roles.add(Role.GRID_LEADER)
    community = place.community
    community_id = community.pk if community is not None else None
    community_code = community.code if community is not None else ""
    may_cover = Q(role__in=roles) & (Q(place__code__in=codes) | Q(grid__in=list(grid_names)))
    works_here = Q(role=Role.COMMUNITY_WORKER, place_id=community_id)
    rows = list(
        RoleAssignment.objects.active()
        .filter(may_cover | works_here, user__is_active=True)
        .order_by("user_id", "pk")
        .values_list(
            "user_id", "user__name", "user__username", "role", "place_id", "place__code", "grid_id"
        )
    )
    in_codes = set(codes)
    candidates = tuple(
        Candidate(
            user_id=user_id,
            name=name or username,
            role=role,
            scope_code=place_code if place_id else "",
            grid_id=grid_id,
            grid_name=grid_names.get(grid_id, "") if grid_id else "",
        )
        for user_id, name, username, role, place_id, place_code, grid_id in rows
        if role in roles and (place_code in in_codes or grid_id in grid_names)
    )
    workers = tuple(
        Candidate(user_id=user_id, name=name or username, role=role, scope_code=community_code)
        for user_id, name, username, role, place_id, _code, _grid in rows
        if role == Role.COMMUNITY_WORKER and place_id == community_id
    )
    local = timezone.localtime(at)
    on_duty = tuple(
        Candidate(user_id=user_id, name=name or username, role=Role.COMMUNITY_WORKER)
        for user_id, name, username in DutyRota.objects.filter(
            community=community, weekday=local.weekday(), user__is_active=True
        )
        .order_by("sort", "pk")
        .values_list("user_id", "user__name", "user__username")
    )
    return RoutingInput(
        place_name=place.name,
        place_codes=tuple(codes),
        grid_ids=tuple(grid_names),
        category_name=category.name,
        lead_role=category.lead_role,
        co_handler_roles=tuple(category.co_handler_roles),
        single_handler=category.single_handler,
        candidates=candidates,
        on_duty=on_duty,
        community_workers=workers,
        day_ordinal=local.date().toordinal(),
    )


# --- visibility ---------------------------------------------------------------------------


def _at_or_under(codes: Iterable[str], community_id: int | None) -> Q:
    """Cases at the places `codes` or anywhere under them, written so that the community
    column leads (every case index starts with it) and no join to places is needed: for
    places inside a community, that community and the ids of its places under them; for
    districts and subdistricts (no community), the ids of the communities under them."""
    under = Q(pk__in=[])
    for code in codes:
        under |= Q(code__startswith=code + "-")
        if community_id is not None:
            under |= Q(code=code)
    if community_id is None:
        communities = Place.objects.filter(under, kind=PlaceKind.COMMUNITY)
        return Q(InSubquery("community_id", communities.values("pk")))
    places = Place.objects.filter(under, community_id=community_id)
    return Q(community_id=community_id) & Q(InSubquery("place_id", places.values("pk")))


def _under_place(place: Place) -> Q:
    """A filter to cases at or under one place; a community is its own community column.
    For a district or subdistrict it is a plain semi-join: ANDed to the visibility as a
    second `community_id = ANY(ARRAY(...))`, PostgreSQL multiplied the two selectivities,
    expected 99 rows and read the subdistrict's whole history (10,402 heap blocks for
    793 open cases) instead of using the (community, state) index."""
    if place.kind == PlaceKind.COMMUNITY:
        return Q(community_id=place.pk)
    if place.community_id is None:
        communities = Place.objects.filter(
            kind=PlaceKind.COMMUNITY, code__startswith=place.code + "-"
        ).order_by()
        return Q(community_id__in=communities.values("pk"))
    return _at_or_under([place.code], place.community_id)


def _visible(user: Any) -> Q | None:
    """The cases `user` may see as a Q, or None for "all of them" (an administrator).
    Every branch is an index lookup (see `InSubquery`), so no page reads all cases."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    condition = (
        Q(reporter=user)
        | Q(
            InSubquery(
                "pk",
                Case.objects.filter(reporter=user, merged_into__isnull=False).values(
                    "merged_into_id"
                ),
            )
        )
        | Q(InSubquery("pk", CaseHandler.objects.filter(user=user).values("case_id")))
        # Asked to take it over: they must read it to accept or refuse (`cases.view`).
        | Q(transfer_to=user)
    )
    for scope in scopes_with_roles(user, SCOPE_ROLES):
        if scope.everywhere:
            return None
        condition |= _at_or_under(scope.place_codes, scope.community_id)
    return condition


def _in_scope(user: Any, place: Place) -> bool:
    """True if one of the user's scopes that see every case under them covers `place`:
    then every case at or under it is visible to them (`_visible`)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return any(scope.covers(place) for scope in scopes_with_roles(user, SCOPE_ROLES))


def _visible_cases(user: Any) -> QuerySet[Case]:
    condition = _visible(user)
    cases = Case.objects.all()
    return cases if condition is None else cases.filter(condition)


def cases_place_get(*, user: Any, code: str) -> Place:
    """The place a list of cases is asked for (`cases_for(place=...)`) by its code, if the
    user may see it; NotFound otherwise, as `places.selectors.place_get` answers. Only
    what the filter reads (code, kind, community): `place_get` joins the place's parent
    and community as well, three places of 17 columns each, a millisecond and a half of
    a list's time at a city's scale."""
    code = (code or "").strip().upper()
    found = (
        list(visible_places(user).filter(code=code).only("code", "kind", "community")[:1])
        if code
        else []
    )
    if not found:
        raise NotFound()
    return found[0]


def cases_for(
    *,
    user: Any,
    state: str | Iterable[str] | None = None,
    category: Category | None = None,
    place: Place | None = None,
    assignee: User | None = None,
    overdue: bool | None = None,
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
    now: datetime | None = None,
) -> QuerySet[Case]:
    """The inbox: cases the user may see, nearest deadline first (response while it is
    waiting for one, then completion, then the follow-up), finished cases last.

    Filters: state (one or several), category, place (and everything under it), assignee
    (leads or co-handles it), overdue (a running clock past its deadline), and a range of
    report times [reported_from, reported_to). The query count does not grow with the
    number of rows: category, place, community and lead come joined.
    """
    now = now or timezone.now()
    if place is not None and _in_scope(user, place):
        # Every case at or under the place is one the user sees through that scope, so
        # the place is the whole condition. With the visibility's OR as well, the
        # supervisor's subdistrict list read the subdistrict's communities twice (SQLite:
        # a LIKE over all of the city's communities each time) and the count of its every
        # state read each case row to test the OR instead of counting index entries; and
        # compiling that OR was a good part of a list's CPU time.
        cases = Case.objects.filter(_under_place(place))
    else:
        cases = _visible_cases(user)
        if place is not None:
            cases = cases.filter(_under_place(place))
    if state:
        states = [state] if isinstance(state, str) else list(state)
        cases = cases.filter(state__in=states)
    if category is not None:
        cases = cases.filter(category=category)
    if assignee is not None:
        cases = cases.filter(
            Q(lead=assignee)
            | Q(
                InSubquery(
                    "pk",
                    CaseHandler.objects.filter(user=assignee, is_active=True).values("case_id"),
                )
            )
        )
    if overdue is not None:
        running_late = Q(state=CaseState.REPORTED, response_due_at__lt=now) | Q(
            state__in=[CaseState.REPORTED, CaseState.RESPONDED, CaseState.IN_PROGRESS],
            completion_due_at__lt=now,
        )
        # The states the clocks run in, said once more outside the OR: then the
        # (community, state, ...) index picks the open cases instead of every case.
        running = Q(state__in=[CaseState.REPORTED, CaseState.RESPONDED, CaseState.IN_PROGRESS])
        cases = cases.filter(running & running_late) if overdue else cases.exclude(running_late)
    if reported_from is not None:
        cases = cases.filter(reported_at__gte=reported_from)
    if reported_to is not None:
        cases = cases.filter(reported_at__lt=reported_to)
    return cases.select_related("category", "place", "community", "lead").order_by(
        F("next_due_at").asc(nulls_last=True), "-reported_at", "-pk"
    )


# The columns a listed case is shown with, for `cases_page`: a case row has 57 columns
# (the report's text three times over, its answers as JSON, 18 instants) and each joined
# place, category and person their own; decoding them all was a large part of a list's
# time at a city's scale (about 260 objects and 960 instants a page).
# `LIST_COLUMNS`: what the API's case summary says of a case.
LIST_COLUMNS = (
    "number",
    "state",
    "channel",
    "text",
    "reported_at",
    "responded_at",
    "completed_at",
    "closed_at",
    "response_due_at",
    "response_due_estimated",
    "completion_due_at",
    "completion_due_estimated",
    "next_due_at",
    "overdue_at",
    "supervised_at",
    "reopen_count",
    "version",
    "category__code",
    "category__name",
    "place__code",
    "place__name",
    "place__kind",
    "community__code",
    "community__name",
    "community__kind",
    "lead__name",
    "lead__username",
)
# `INBOX_COLUMNS`: what an inbox row shows — number, category, place (its path up to the
# community, `accounts.selectors.place_label`), state, lead — and what its countdown is
# computed from (`cases.views.worker.countdown_for`, the community's service window,
# `INBOX_WINDOW`). The path is the place and three places above it: the deepest place
# (a dwelling: its entrance, building and estate) has its community next, where the
# label stops.
INBOX_PLACE_PATH = (
    "place",
    "place__parent",
    "place__parent__parent",
    "place__parent__parent__parent",
)
INBOX_COLUMNS = (
    "number",
    "state",
    "next_due_at",
    "response_clock",
    "response_target",
    "response_due_at",
    "response_due_estimated",
    "completion_clock",
    "completion_target",
    "completion_due_at",
    "completion_due_estimated",
    "paused_at",
    "community_id",
    "category__name",
    *(f"{node}__{column}" for node in INBOX_PLACE_PATH for column in ("name", "kind")),
    "lead__name",
    "lead__username",
)


def _community_settings(column: str) -> Subquery:
    return Subquery(
        CommunitySettings.objects.filter(community_id=OuterRef("community_id")).values(column)[:1]
    )


# The service window of a listed case's community (None without settings), as subqueries
# rather than joins to the community and its settings: PostgreSQL searches the order of
# a statement's joins while planning it, and each join costs more than the last (a page's
# rows: 1.26 ms of planning with the two joins and a fifth place, 0.82 without).
INBOX_WINDOW = {
    "service_start": _community_settings("service_start"),
    "service_end": _community_settings("service_end"),
}


def cases_page(
    cases: QuerySet[Case], *, offset: int, limit: int, columns: Iterable[str] = ()
) -> QuerySet[Case]:
    """One page of `cases` (from `cases_for` or `inbox_for`), in their order, with what
    they join — only the `columns` named (`LIST_COLUMNS`, `INBOX_COLUMNS`) when given.
    The page's ids are chosen first on the case table alone (its indexes, its
    ORDER BY ... LIMIT), and only those rows are joined to their places, category and
    people: joined first, a supervisor's hundreds of open cases were each joined to five
    levels of places before all but one page of them were thrown away."""
    ids = cases.values("pk")[offset : offset + limit]
    # The outer query has only the ids, as an array PostgreSQL knows to be short: with
    # `IN (subquery)`, or with the visibility conditions repeated, it joined every
    # matching row (or every case) before it looked at the ids.
    page = Case.objects.filter(InSubquery("pk", ids)).order_by(*cases.query.order_by)
    page.query.select_related = cases.query.select_related
    columns = tuple(columns)
    return page.only(*columns) if columns else page


def cases_page_rows(
    cases: QuerySet[Case], *, offset: int, limit: int, columns: Iterable[str]
) -> tuple[list[dict[str, Any]], int]:
    """One page of `cases` (`cases_page`) as rows of the `columns`' values, and the number
    of `cases` in all, read in one query: each row carries the total. A page past the
    end has no row to carry it, and is counted apart."""
    rows = list(cases_page(cases, offset=offset, limit=limit).values(*columns, _total=Total(cases)))
    return rows, _total_of(cases, rows[0]["_total"] if rows else None, offset)


def cases_page_values(
    cases: QuerySet[Case],
    *,
    offset: int,
    limit: int,
    columns: Iterable[str],
    computed: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of `cases` (from `cases_for` or `inbox_for`) as rows of their "pk", the
    `columns`' values (`INBOX_COLUMNS`) and the `computed` expressions' (`INBOX_WINDOW`),
    in the list's order, and the number of `cases` in all.

    Two short queries: the page's ids, each with the list's total beside it
    (`COUNT(*) OVER ()` over the rows the condition picks, before the LIMIT), then those
    ids' rows joined to their places, category and people. The condition is compiled and
    evaluated once: a total carried as a subquery (`Total`, as `cases_page_rows` carries
    it) evaluated the visibility twice, and on PostgreSQL at a million cases each time
    looked up a grid worker's ~480 handled cases by key (2.4 ms of a 5.9 ms statement,
    and 2 ms of planning for both). Values, not cases: a page was about 250 model
    instances (each case with its category, lead, community, its settings and five
    places of its path). A page past the end has no row to carry the total, and is
    counted apart."""
    listed = list(
        cases.annotate(_total=Window(Count("*"))).values_list("pk", "_total")[
            offset : offset + limit
        ]
    )
    if not listed:
        return [], _total_of(cases, None, offset)
    # Unordered (the model's default ordering would sort them again): put in order here.
    rows = (
        Case.objects.filter(pk__in=[pk for pk, _total in listed])
        .order_by()
        .values("pk", *columns, **(computed or {}))
    )
    by_pk = {row["pk"]: row for row in rows}
    # In the list's order, as the first query read it; a case gone since is left out.
    return [by_pk[pk] for pk, _total in listed if pk in by_pk], listed[0][1]


def _total_of(cases: QuerySet[Case], carried: int | None, offset: int) -> int:
    if carried is not None:
        return carried
    if offset == 0:
        return 0  # not even the first case
    return cases.count()


def case_get(*, user: Any, number: str) -> Case:
    """One case by its number, or NotFound if it does not exist or the user may not see it."""
    case = (
        _visible_cases(user)
        .filter(number=number)
        .select_related("category", "place", "community", "lead", "reporter", "merged_into")
        .first()
    )
    if case is None:
        raise NotFound()
    return case


def report_receipt_get(*, user: Any, token: str) -> ReportReceipt:
    """A receipt by its token, with its case's number once filed. Only the one who sent
    the report sees it; to anyone else it does not exist (NotFound)."""
    receipt = (
        ReportReceipt.objects.filter(token=(token or "").strip().lower(), submitted_by=user.pk)
        .select_related("case")
        .first()
        if user.is_authenticated
        else None
    )
    if receipt is None:
        raise NotFound()
    return receipt


def _require_view(user: Any, case: Case) -> None:
    if not rules.has_perm("cases.view", user, case):
        raise NotFound()


def _sees_internal(user: Any, case: Case) -> bool:
    return rules.has_perm("cases.view_internal", user, case)


def case_timeline_for(*, user: Any, case: Case) -> QuerySet[CaseEvent]:
    """The case's events in order; the reporter (and anyone else outside the handling
    side) sees only the public ones."""
    _require_view(user, case)
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "pk")
    if not _sees_internal(user, case):
        events = events.filter(is_public=True)
    return events


def case_handlers_for(*, user: Any, case: Case) -> QuerySet[CaseHandler]:
    """Who handles the case and how far each part is (大事多方办: visible to all who see
    the case). Former handlers only to the handling side."""
    _require_view(user, case)
    handlers = CaseHandler.objects.filter(case=case).select_related("user")
    if not _sees_internal(user, case):
        handlers = handlers.filter(is_active=True)
    return handlers.order_by("-is_active", "kind", "created_at", "pk")


def case_follow_ups_for(*, user: Any, case: Case) -> QuerySet[FollowUp]:
    """Every follow-up of the case, oldest first."""
    _require_view(user, case)
    return (
        FollowUp.objects.filter(case=case)
        .select_related("recorded_by")
        .order_by("recorded_at", "pk")
    )


def case_photos_for(*, user: Any, case: Case) -> QuerySet[CasePhoto]:
    """The case's report and completion photos."""
    _require_view(user, case)
    return CasePhoto.objects.filter(case=case).order_by("created_at", "pk")


@dataclass(frozen=True)
class CaseContact:
    name: str
    phone: str
    has_account: bool
    is_anonymous: bool


def case_contact_for(*, user: Any, case: Case, purpose: str = "") -> CaseContact | None:
    """Who reported the case and how to reach them, for the handling side only (None for
    anyone else). The phone is in full for the case's handlers, the reporter and the
    secretary, masked for other staff (rules §5); every staff read is logged."""
    _require_view(user, case)
    is_self = case.reporter_id is not None and case.reporter_id == user.pk
    if not (is_self or _sees_internal(user, case)):
        return None
    reporter = case.reporter
    name = case.contact_name or (reporter.display_name if reporter else "")
    phone = case.contact_phone or (reporter.phone if reporter else "") or ""
    handlers = [
        h.user for h in CaseHandler.objects.filter(case=case, is_active=True).select_related("user")
    ]
    shown = phone_for_viewer(
        viewer=user,
        subject_phone=phone,
        unmasked_for=[*handlers, *([reporter] if reporter else [])],
        place=case.place,
    )
    if not is_self:
        personal_data_read(
            viewer=user,
            subject=reporter,
            fields=["name", "phone"],
            purpose=purpose or _("办理诉求 %(number)s") % {"number": case.number},
            obj=case,
        )
    return CaseContact(
        name=name, phone=shown, has_account=reporter is not None, is_anonymous=case.is_anonymous
    )


# Which permission each user-facing action needs (system-only actions are left out).
ACTION_PERMISSIONS: dict[str, str] = {
    CaseAction.RESPOND: "cases.respond",
    CaseAction.START: "cases.start",
    CaseAction.PAUSE: "cases.pause",
    CaseAction.RESUME: "cases.resume",
    CaseAction.COMPLETE: "cases.complete",
    CaseAction.FOLLOW_UP: "cases.follow_up",
    CaseAction.CLOSE: "cases.close",
    CaseAction.REOPEN: "cases.reopen",
    CaseAction.MERGE: "cases.merge",
    CaseAction.DECLINE: "cases.decline",
    CaseAction.TO_TOPIC: "cases.to_topic",
}
# Actions on who handles the case, possible while it is open.
HANDLING_PERMISSIONS: dict[str, str] = {
    "assign": "cases.assign",
    "transfer": "cases.transfer",
    "accept_transfer": "cases.accept_transfer",
    "add_co_handler": "cases.add_co_handler",
}


def case_actions_for(*, user: Any, case: Case) -> list[str]:
    """What `user` may do to the case now: the state graph's next actions that their
    permissions allow, plus handling changes — the buttons a page shows."""
    _require_view(user, case)
    state_actions = allowed_actions(case.state)
    actions = [
        action
        for action, perm in ACTION_PERMISSIONS.items()
        if action in state_actions and rules.has_perm(perm, user, case)
    ]
    if case.state in OPEN_STATES:
        actions += [
            name
            for name, perm in HANDLING_PERMISSIONS.items()
            if (name != "accept_transfer" or case.transfer_to_id)
            and rules.has_perm(perm, user, case)
        ]
    if rules.has_perm("cases.exclude_from_rates", user, case):
        actions.append("exclude_from_rates")
    return actions


# --- duplicates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateCandidate:
    number: str
    category_name: str
    state: str
    state_label: str
    place_name: str
    reported_at: datetime
    score: float
    # The report's text, only for someone who may see that case.
    text: str | None


DUPLICATE_MIN_SCORE = 0.5
DUPLICATE_POOL = 200


def case_duplicates_for(
    *, user: Any, category: Category, place: Place, text: str, limit: int = 5
) -> list[DuplicateCandidate]:
    """Likely duplicates of a report about to be made: open cases of the same category in
    the same building (or estate, for a place outside any building) whose words overlap.

    Similarity is the share of the shorter text's words found in the other (jieba words
    of two characters or more, and numbers), so "1号楼路灯不亮" matches "1号楼门口的路灯
    坏了，晚上不亮". Residents see the number and state; the text only of cases they may
    see.
    """
    words = _meaningful(search_tokens(text))
    if not words:
        return []
    anchor = (
        Place.objects.filter(
            code__in=place.ancestor_codes(), kind__in=[PlaceKind.BUILDING, PlaceKind.ESTATE]
        )
        .order_by("-depth")
        .first()
    ) or place
    pool = (
        Case.objects.filter(category=category, state__in=OPEN_STATES)
        .filter(Q(place__code=anchor.code) | Q(place__code__startswith=anchor.code + "-"))
        .select_related("place", "category")
        .order_by("-reported_at")[:DUPLICATE_POOL]
    )
    scored: list[tuple[float, Case]] = []
    for case in pool:
        theirs = _meaningful(case.text_tokens.split())
        if not theirs:
            continue
        score = len(words & theirs) / min(len(words), len(theirs))
        if score >= DUPLICATE_MIN_SCORE:
            scored.append((score, case))
    scored.sort(key=lambda item: (-item[0], -item[1].reported_at.timestamp()))
    return [
        DuplicateCandidate(
            number=case.number,
            category_name=case.category.name,
            state=case.state,
            state_label=str(case.get_state_display()),
            place_name=case.place.name,
            reported_at=case.reported_at,
            score=round(score, 3),
            text=case.text if rules.has_perm("cases.view", user, case) else None,
        )
        for score, case in scored[:limit]
    ]


def _meaningful(tokens: Iterable[str]) -> set[str]:
    return {t for t in tokens if len(t) >= 2 or t.isdigit()}


# --- rates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateFigures:
    """Counts behind the rates; each rate is None when nothing was due."""

    reported: int = 0
    due_response: int = 0
    responded_in_time: int = 0
    due_completion: int = 0
    completed_in_time: int = 0
    reopened: int = 0
    follow_ups_answered: int = 0
    resolved: int = 0
    satisfied: int = 0  # satisfied + basically satisfied
    unsatisfied: int = 0
    no_answer: int = 0
    excluded: int = 0

    @property
    def response_rate(self) -> float | None:
        """Cases responded within target / cases due a response."""
        return _ratio(self.responded_in_time, self.due_response)

    @property
    def completion_rate(self) -> float | None:
        """Cases completed (or turned into a topic) within target / cases due completion."""
        return _ratio(self.completed_in_time, self.due_completion)

    @property
    def resolution_rate(self) -> float | None:
        """Resolved answers / follow-ups answered (no answer never counts)."""
        return _ratio(self.resolved, self.follow_ups_answered)

    @property
    def satisfaction_rate(self) -> float | None:
        """Satisfied + basically satisfied / follow-ups answered."""
        return _ratio(self.satisfied, self.follow_ups_answered)

    def __add__(self, other: "RateFigures") -> "RateFigures":
        return RateFigures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True)
class RateRow:
    key: int
    label: str
    figures: RateFigures


@dataclass(frozen=True)
class CaseRates:
    total: RateFigures
    # (first day of the bucket, figures), oldest first, when a bucket was asked for
    series: list[tuple[date, RateFigures]] = field(default_factory=list)
    # per category or per community, when a breakdown was asked for
    breakdown: list[RateRow] = field(default_factory=list)


BUCKETS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
BREAKDOWNS = ("category", "community")


def case_rates_for(
    *,
    user: Any,
    start: datetime,
    end: datetime,
    place: Place | None = None,
    communities: Iterable[Place] | None = None,
    category: Category | None = None,
    bucket: str | None = None,
    splits: Sequence[datetime] | None = None,
    breakdown: str | None = None,
    now: datetime | None = None,
) -> CaseRates:
    """The response, completion, resolution and satisfaction rates (rules §3) of the cases
    the user's staff or supervisor roles reach, for the pages and the exports alike.

    Only timestamps and residents' answers count, never a handler's word:
    - cases reported in [start, end): due a response once responded or past the response
      deadline, in time if responded by it (a decline or a turn into a topic is the answer
      a named person gave); due completion once completed, turned into a topic or past
      the deadline (a paused case is not due), in time if done by it;
    - follow-ups recorded in [start, end): resolved and satisfied among those answered;
      `no_answer` is counted apart and never as resolved or satisfied.
    Cases merged into another are counted once, as the case they joined; cases excluded
    with an audited reason (`case_exclude_from_rates`) are left out and counted apart.
    `place` keeps the cases at or under one place, `communities` those of the communities
    given (a supervisor's table). `bucket` (day / week / month) adds a series over time;
    `splits`, instants inside (start, end) in ascending order, instead cut the range into
    the periods they begin (a board's weeks, and its today), each keyed by its first local
    day. `breakdown` (category / community) adds a row per group. Individual workers are
    never ranked.
    """
    if bucket is not None and bucket not in BUCKETS:
        raise ValidationFailed(_("统计周期须为日、周或月。"), code="invalid_bucket")
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise ValidationFailed(_("分组方式无效。"), code="invalid_breakdown")
    now = now or timezone.now()
    communities = None if communities is None else list(communities)
    scoped = _rate_scope(user, place, communities)
    if scoped is None:
        return CaseRates(total=RateFigures())
    if category is not None:
        scoped = scoped.filter(category=category)
    scoped = scoped.exclude(state=CaseState.MERGED)
    # An exclusion is one-to-one with its case: one outer join, rather than a correlated
    # EXISTS repeated in every count for every case.
    reported = scoped.filter(reported_at__gte=start, reported_at__lt=end).annotate(
        exclusion=F("rate_exclusion__pk"), done_at=Coalesce("completed_at", "topic_at")
    )
    counted = Q(exclusion__isnull=True)
    period_of: Callable[[str], Any] | None = None
    key_of: Callable[[Any], date] = _bucket_key
    if bucket:
        period_of = BUCKETS[bucket]
    elif splits is not None:
        period_of = partial(_period_index, splits=splits)
        key_of = {
            i: timezone.localdate(first) for i, first in enumerate([start, *splits])
        }.__getitem__
    group: list[str] = []
    if period_of is not None:
        group.append("period")
    if breakdown:
        group.append(f"{breakdown}_id")

    if period_of is not None:
        reported = reported.annotate(period=period_of("reported_at"))
    not_declined = ~Q(state=CaseState.DECLINED)
    case_rows = _grouped(
        reported,
        group,
        reported=Count("pk", filter=counted),
        excluded=Count("pk", filter=Q(exclusion__isnull=False)),
        due_response=Count(
            "pk",
            filter=counted & (Q(responded_at__isnull=False) | Q(response_due_at__lte=now)),
        ),
        responded_in_time=Count("pk", filter=counted & Q(responded_at__lte=F("response_due_at"))),
        due_completion=Count(
            "pk",
            filter=counted
            & not_declined
            & (
                Q(done_at__isnull=False)
                | (Q(completion_due_at__lte=now) & ~Q(state=CaseState.PAUSED))
            ),
        ),
        completed_in_time=Count(
            "pk", filter=counted & not_declined & Q(done_at__lte=F("completion_due_at"))
        ),
        reopened=Count("pk", filter=counted & Q(reopen_count__gt=0)),
    )
    # The period's follow-ups of the cases in scope, the exclusions looked up for those
    # alone: checked for each case in scope, they cost a subdistrict 11,000 lookups.
    answers = FollowUp.objects.filter(
        case__in=scoped.values("pk"),
        recorded_at__gte=start,
        recorded_at__lt=end,
    ).exclude(Exists(RateExclusion.objects.filter(case=OuterRef("case_id"))))
    asked = _communities_asked(place, communities)
    if asked is not None:
        # A follow-up carries its case's community, so this only repeats the scope; but
        # the period's follow-ups then come from the (community, recorded_at) index,
        # about 250 for a community's eight weeks, where PostgreSQL read the whole city's
        # (100,000 at a million cases) and joined them to the community's cases.
        answers = answers.filter(community_id__in=asked)
    follow_group = [g if g in ("period", "community_id") else f"case__{g}" for g in group]
    if period_of is not None:
        answers = answers.annotate(period=period_of("recorded_at"))
    answered = Q(outcome=FollowUpOutcome.ANSWERED)
    follow_rows = _grouped(
        answers,
        follow_group,
        follow_ups_answered=Count("pk", filter=answered),
        resolved=Count("pk", filter=answered & Q(resolved=True)),
        satisfied=Count(
            "pk",
            filter=answered
            & Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]),
        ),
        unsatisfied=Count("pk", filter=answered & Q(satisfaction=Satisfaction.UNSATISFIED)),
        no_answer=Count("pk", filter=Q(outcome=FollowUpOutcome.NO_ANSWER)),
    )

    cells: dict[tuple[Any, ...], RateFigures] = defaultdict(RateFigures)
    for row in case_rows:
        key = tuple(key_of(row[g]) if g == "period" else row[g] for g in group)
        cells[key] = cells[key] + RateFigures(**{k: v for k, v in row.items() if k not in group})
    for row in follow_rows:
        key = tuple(key_of(row[g]) if g == "period" else row[g] for g in follow_group)
        cells[key] = cells[key] + RateFigures(
            **{k: v for k, v in row.items() if k not in follow_group}
        )

    total = sum(cells.values(), RateFigures())
    series: dict[date, RateFigures] = defaultdict(RateFigures)
    by_group: dict[int, RateFigures] = defaultdict(RateFigures)
    for key, figures in cells.items():
        if period_of is not None:
            series[key[0]] = series[key[0]] + figures
        if breakdown:
            by_group[key[-1]] = by_group[key[-1]] + figures
    labels: dict[int, str] = {}
    if breakdown == "category":
        labels = dict(Category.objects.filter(pk__in=by_group).values_list("pk", "name"))
    elif breakdown == "community":
        labels = dict(Place.objects.filter(pk__in=by_group).values_list("pk", "name"))
    return CaseRates(
        total=total,
        series=sorted(series.items()),
        breakdown=sorted(
            (RateRow(key=k, label=labels.get(k, ""), figures=v) for k, v in by_group.items()),
            key=lambda r: r.label,
        ),
    )


def _grouped(queryset: QuerySet, group: list[str], **aggregates: Any) -> list[dict[str, Any]]:
    """One row of counts per group (a single row without grouping), in one query."""
    if not group:
        return [queryset.aggregate(**aggregates)]
    return list(queryset.values(*group).annotate(**aggregates).order_by())


def _rate_scope(
    user: Any, place: Place | None = None, communities: list[Place] | None = None
) -> QuerySet[Case] | None:
    """Cases under the user's staff or supervisor scopes, kept to those at or under
    `place` and of `communities` when given; None if they hold none of those roles."""
    scopes = (
        scopes_with_roles(user, SCOPE_ROLES) if getattr(user, "is_authenticated", False) else []
    )
    if not scopes:
        return None
    wanted = Q()
    asked: list[Place] = []
    if place is not None:
        wanted &= _under_place(place)
        asked.append(place)
    if communities is not None:
        # The ids themselves, not a subquery: PostgreSQL then knows how many cases they
        # hold (about 11,000 for a subdistrict's ten communities, not a few dozen).
        wanted &= Q(community_id__in=[c.pk for c in communities])
        asked.extend(communities)
    if asked and all(any(scope.covers(p) for scope in scopes) for p in asked):
        # Every case asked for lies in one of the scopes, so their conditions would only
        # repeat it; repeated, PostgreSQL multiplied the two and expected a few dozen
        # cases where a subdistrict has 11,000, then matched follow-ups case by case.
        return Case.objects.filter(wanted)
    if any(s.everywhere for s in scopes):
        return Case.objects.filter(wanted)
    condition = Q(pk__in=[])
    for scope in scopes:
        condition |= _at_or_under(scope.place_codes, scope.community_id)
    return Case.objects.filter(condition & wanted)


def _communities_asked(place: Place | None, communities: list[Place] | None) -> list[int] | None:
    """The ids of the communities holding every case asked for, when known without a
    query: those given, or the community of the place (a community is its own); None for
    a subdistrict, a district or no place."""
    if communities is not None:
        return [c.pk for c in communities]
    if place is not None and place.kind == PlaceKind.COMMUNITY:
        return [place.pk]
    if place is not None and place.community_id is not None:
        return [place.community_id]
    return None


def _period_index(field: str, *, splits: Sequence[datetime]) -> SqlCase:
    """Which of the periods begun by `splits` a row's `field` falls in (0: before the
    first split), as plain comparisons: truncating to a local day called a Python function
    for every row on SQLite."""
    return SqlCase(
        *(When(**{f"{field}__lt": split}, then=Value(i)) for i, split in enumerate(splits)),
        default=Value(len(splits)),
        output_field=IntegerField(),
    )


def _bucket_key(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


# --- the resident's pages -------------------------------------------------------------------


def cases_reported_by(*, user: Any) -> QuerySet[Case]:
    """The cases `user` reported themselves (我的诉求), newest first — not the cases their
    staff roles let them see. Nothing for a visitor who is not signed in."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    return (
        Case.objects.filter(reporter=user)
        .select_related("category", "place", "community", "merged_into")
        .order_by("-reported_at", "-pk")
    )


@dataclass(frozen=True)
class ReportPlaces:
    """Where a person may report on a community's page: `homes` are their own dwellings
    and shops there, `shared` the places its residents share."""

    homes: list[Place]
    shared: list[Place]


def report_places_for(*, user: Any, community: Place) -> ReportPlaces:
    """The places of `community` the person may choose on its report page (一居一码), as
    `rules.may_report_at` allows them: their own dwellings and shops there (a live claim
    or verified residency, a resident's or shop's role), then its estates, buildings,
    public areas and street shops in tree order — all of them for someone who lives in the
    community, those their roles reach for staff, none for anyone else."""
    if not getattr(user, "is_authenticated", False):
        return ReportPlaces(homes=[], shared=[])
    # The parents come along: the page names a place "虹桥新城小区 1号楼 1单元 101室".
    in_community = (
        Place.objects.filter(community=community, is_active=True)
        .select_related("parent__parent__parent")
        .order_by("code")
    )
    home_roles = RoleAssignment.objects.active().filter(user=user, role__in=list(HOME_ROLES))
    homes = list(
        in_community.filter(
            Q(pk__in=Residency.objects.filter(user=user, status__in=LIVE_RESIDENCY).values("place"))
            | Q(pk__in=home_roles.values("place"))
        )
    )
    shared = in_community.filter(kind__in=list(SHARED_PLACE_KINDS))
    if community.pk not in home_communities(user):
        shared = shared.filter(pk__in=visible_places(user, REPORT_ANYWHERE_ROLES).values("pk"))
    home_ids = {place.pk for place in homes}
    return ReportPlaces(homes=homes, shared=[p for p in shared if p.pk not in home_ids])


# --- the worker pages ---------------------------------------------------------------------

# Who works from the inbox: everyone a case can be routed to, and those who supervise them.
WORKER_ROLES = HANDLER_ROLES | SUPERVISOR_ROLES | {Role.ADMINISTRATOR}


# The pages a case opens on (`case_page_for`).
WORKER_PAGE = "worker"
REPORTER_PAGE = "reporter"


def case_page_for(*, user: Any, number: str) -> str:
    """Which page shows `user` the case a link names (a notification's link says only the
    number): `WORKER_PAGE` for the handling side who work from the inbox — those who may
    read its internal steps, or are asked to take it over — and `REPORTER_PAGE` for its
    reporter (or the reporter of a duplicate merged into it). Anyone else gets NotFound,
    as for a number that does not exist."""
    case = case_get(user=user, number=number)
    works_here = bool(scopes_with_roles(user, WORKER_ROLES))
    if works_here and (
        rules.has_perm("cases.view_internal", user, case) or case.transfer_to_id == user.pk
    ):
        return WORKER_PAGE
    if is_reporter(user, case):
        return REPORTER_PAGE
    raise NotFound()


def inbox_communities_for(*, user: Any) -> QuerySet[Place]:
    """The communities the user's worker roles reach as a whole (the inbox's area filter)."""
    scopes = scopes_with_roles(user, WORKER_ROLES) if user.is_authenticated else []
    if scopes and all(scope.grid_id is not None for scope in scopes):
        # A grid reaches buildings, never a whole community: no query for none.
        return Place.objects.none()
    # Communities share one depth, so this is code order; ordered by the code alone,
    # SQLite walked the code index of every place in the city (a LIKE per place) to
    # skip a sort of a few rows.
    return (
        visible_places(user, WORKER_ROLES)
        .filter(kind=PlaceKind.COMMUNITY)
        .order_by("depth", "code")
        # What the filter shows and filters by (`_under_place`).
        .only("code", "name", "kind", "community")
    )


def inbox_grids_for(*, user: Any) -> QuerySet[Grid]:
    """The grids with a building the user's worker roles reach (the inbox's area filter)."""
    scopes = scopes_with_roles(user, WORKER_ROLES) if user.is_authenticated else []
    # Only the ways the user has, ORed: a branch that matches nothing would still make
    # the join to the grids' buildings an outer join, and SQLite then reads every grid
    # in the city first (11 ms at a city's scale).
    reaches: list[Q] = []
    held = [code for scope in scopes if scope.grid_id is not None for code in scope.place_codes]
    if held:
        # A grid's scope is its buildings (nothing under a building is a building): the
        # grids holding one of those buildings, found by code. Matched as a place scope's
        # codes are, a grid worker's dozens of buildings were as many LIKEs and
        # equalities to compile (about half of this query's 2.6 ms at a city's scale).
        reaches.append(Q(buildings__in=Place.objects.filter(code__in=held).values("pk")))
    inside = {scope.community_id for scope in scopes if scope.grid_id is None} - {None}
    if inside:
        # Place scopes inside a community: look among those communities' buildings (an
        # index) rather than match code prefixes against every building in the city.
        reaches.append(
            Q(
                buildings__in=visible_places(user, WORKER_ROLES).filter(
                    kind=PlaceKind.BUILDING, community_id__in=inside
                )
            )
        )
    if any(scope.community_id is None for scope in scopes):
        # A scope above the communities (a subdistrict, a district, everywhere) reaches
        # every building of the communities under it: find the grids by their community
        # (a thousand communities' codes, not every building's).
        reaches.append(
            Q(
                community__in=visible_places(user, WORKER_ROLES).filter(kind=PlaceKind.COMMUNITY),
                buildings__kind=PlaceKind.BUILDING,
            )
        )
    if not reaches:
        return Grid.objects.none()
    return (
        Grid.objects.filter(reduce(or_, reaches))
        .select_related("community")
        .only("code", "name", "community__code", "community__name")
        .distinct()
        .order_by("community__code", "code")
    )


@dataclass(frozen=True)
class InboxAreas:
    """What the inbox's area filter offers: `inbox_communities_for` and `inbox_grids_for`,
    each in its order, as places and grids with the columns those read."""

    communities: list[Place]
    grids: list[Grid]


M = TypeVar("M", bound=Model)
_AREA_COLUMNS = ("part", "pk", "code", "name", "kind", "depth", "community_id")


def inbox_areas_for(*, user: Any) -> InboxAreas:
    """The communities and grids of the inbox's area filter in one query (a UNION ALL of
    the two lists' values) — one statement fewer for a secretary's or supervisor's list — and
    the grids alone for someone whose roles reach no whole community."""
    communities = inbox_communities_for(user=user)
    grids = inbox_grids_for(user=user)
    if communities.query.is_empty():
        return InboxAreas(communities=[], grids=list(grids))
    no_text = Value(None, output_field=CharField())
    rows = (
        communities.annotate(
            part=Value("community"), community_code=no_text, community_name=no_text
        )
        .values_list(*_AREA_COLUMNS, "community_code", "community_name")
        .order_by()
        .union(
            grids.annotate(part=Value("grid"), kind=no_text, depth=Value(0))
            .values_list(*_AREA_COLUMNS, "community__code", "community__name")
            .order_by(),
            # Each part has distinct rows and a part of its own: nothing to remove.
            all=True,
        )
    )
    community_of = _loader(Place, rows.db, "id", "code", "name", "kind", "community_id")
    grid_of = _loader(Grid, rows.db, "id", "code", "name", "community_id")
    grid_community_of = _loader(Place, rows.db, "id", "code", "name")
    places, held = [], []
    for part, pk, code, name, kind, depth, community_id, community_code, community_name in rows:
        if part == "community":
            places.append((depth, code, community_of(pk, code, name, kind, community_id)))
        else:
            grid = grid_of(pk, code, name, community_id)
            grid.community = grid_community_of(community_id, community_code, community_name)
            held.append((community_code, code, grid))
    # In the orders the two lists have (a UNION has none of its own).
    return InboxAreas(
        communities=[place for _depth, _code, place in sorted(places, key=lambda r: r[:2])],
        grids=[grid for _community, _code, grid in sorted(held, key=lambda r: r[:2])],
    )


def _loader(model: type[M], db: str, *attnames: str) -> Callable[..., M]:
    """Makes instances of `model` from values of these columns (in this order) as the
    database would give them with only these columns (as `.only()` loads one: another
    column is read when it is asked for)."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in attnames]
    order = [attnames.index(attname) for attname in fields]

    def instance(*values: Any) -> M:
        return model.from_db(db, fields, [values[i] for i in order])

    return instance


def inbox_for(*, user: Any, grid: Grid | None = None, **filters: Any) -> QuerySet[Case]:
    """`cases_for` (same filters, same order), optionally narrowed to the buildings of one
    grid. A page of it is read as `INBOX_COLUMNS` (`cases_page_values`)."""
    cases = cases_for(user=user, **filters)
    if grid is None:
        return cases
    return cases.filter(
        _at_or_under(grid.buildings.values_list("code", flat=True), grid.community_id)
    )


def case_clock_contexts(*, cases: Iterable[Case]) -> dict[int, ClockContext]:
    """The clock context of each case's community (keyed by community id): its service
    window over one working-day calendar shared by all. No query for cases loaded with
    `community__settings`; one per community otherwise."""
    windows: dict[int, tuple[time, time] | None] = {}
    for case in cases:
        if case.community_id in windows:
            continue
        try:
            window = case.community.settings
        except CommunitySettings.DoesNotExist:
            windows[case.community_id] = None
        else:
            windows[case.community_id] = (window.service_start, window.service_end)
    return clock_contexts_for(windows=windows)


def clock_contexts_for(
    *, windows: Mapping[int, tuple[time, time] | None]
) -> dict[int, ClockContext]:
    """The clock context of each community from its service window (start, end; None
    for a community without settings: the default window), keyed as `windows` is: for
    rows read as values (`cases_page_values` with `INBOX_WINDOW`)."""
    base = clock_context_for(None)
    return {
        community: base
        if window is None
        else replace(base, service_start=window[0], service_end=window[1])
        for community, window in windows.items()
    }


def case_photo_get(*, user: Any, pk: int) -> CasePhoto:
    """One photo of a case the user may see (the reporter included), else NotFound."""
    photo = (
        CasePhoto.objects.filter(pk=pk, case__in=_visible_cases(user))
        .select_related("case")
        .first()
    )
    if photo is None:
        raise NotFound()
    return photo


@dataclass(frozen=True)
class HandlerCandidate:
    user: User
    roles: list[str]


def case_handler_candidates_for(*, user: Any, case: Case) -> list[HandlerCandidate]:
    """Who may be asked to handle the case (assign, transfer, add as co-handler): active
    holders of a handling role at its place or above, or on the grid of its building;
    empty for someone who cannot change its handlers."""
    _require_view(user, case)
    codes = case.place.ancestor_codes()
    assignments = (
        RoleAssignment.objects.active()
        .filter(role__in=list(HANDLER_ROLES), user__is_active=True)
        .filter(Q(place__code__in=codes) | Q(grid__buildings__code__in=codes))
        .select_related("user")
        .order_by("user__name", "user_id", "role")
    )
    found: dict[int, HandlerCandidate] = {}
    for assignment in assignments:
        label = str(Role(assignment.role).label)
        candidate = found.setdefault(
            assignment.user_id, HandlerCandidate(user=assignment.user, roles=[])
        )
        if label not in candidate.roles:
            candidate.roles.append(label)
    return list(found.values())


def case_reporter_candidates_for(*, user: Any, place: Place) -> list[User]:
    """The residents of a dwelling or shop a worker may report for (代居民上报): those with
    a live claim or verified residency there, or a resident's role on it. Only for staff
    who may enter reports at the place; each read of a resident's name is logged."""
    if not getattr(user, "is_authenticated", False) or not holds_role_over(
        user, ENTRY_ROLES, place
    ):
        return []
    living = Residency.objects.filter(
        place=place, status__in=[ResidencyStatus.CLAIMED, ResidencyStatus.VERIFIED]
    ).values("user_id")
    holding = (
        RoleAssignment.objects.active()
        .filter(place=place, role__in=[Role.RESIDENT, Role.STREET_SHOP])
        .values("user_id")
    )
    residents = list(
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=living) | Q(pk__in=holding))
        .order_by("name", "pk")
    )
    for resident in residents:
        personal_data_read(
            viewer=user,
            subject=resident,
            fields=["name", "phone"],
            purpose=_("代居民登记诉求：%(place)s") % {"place": place.name},
            obj=place,
        )
    return residents
