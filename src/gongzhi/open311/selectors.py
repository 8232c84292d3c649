"""Every read behind the Open311 endpoint, limited to one jurisdiction and shaped by the
public rules of `public.py`.

Reading needs no key: the reader is anyone. A jurisdiction is a community, or a
subdistrict and every community under it; a case outside it is answered exactly like
one that does not exist. Lists are built in a fixed number of queries, whatever their
length (at most 1,000 rows, as GeoReport v2 says).
"""

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, RoleAssignment
from gongzhi.cases.models import Case, CaseEvent, CaseHandler, Category, EventKind, HandlerKind
from gongzhi.cases.selectors import categories_for_report
from gongzhi.cases.services import REPORTABLE_KINDS
from gongzhi.cases.states import CaseState
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.text import normalise
from gongzhi.places.models import Place, PlaceKind

from .models import JURISDICTION_KINDS, Open311Key, Open311Request
from .params import MAX_RESULTS, Location
from .public import (
    PUBLIC_OPEN_STATES,
    PlaceNode,
    address_for,
    coordinates_for,
    public_chain,
    public_description,
    status_for,
    status_notes_for,
    w3c,
)

# A point farther than this from every building of the jurisdiction is not taken to be
# at any of them.
NEAREST_BUILDING_METRES = 1000
_EARTH_RADIUS_METRES = 6_371_000


# --- jurisdictions, services ------------------------------------------------------------


def jurisdiction_get(*, code: str) -> Place:
    """The community or subdistrict whose code is `code`, or NotFound."""
    place = Place.objects.filter(code=code, kind__in=JURISDICTION_KINDS, is_active=True).first()
    if place is None:
        raise NotFound(_("没有编码为 %(code)s 的辖区（居民区或街道）。") % {"code": code})
    return place


def jurisdiction_covers(jurisdiction: Place, place: Place) -> bool:
    """True if `place` lies in `jurisdiction` (a community, or a subdistrict's communities)."""
    return place.is_within(jurisdiction)


def _cases_in(jurisdiction: Place) -> Q:
    if jurisdiction.kind == PlaceKind.COMMUNITY:
        return Q(community=jurisdiction)
    return Q(community__parent=jurisdiction)


def services_for() -> QuerySet[Category]:
    """The service list: one service per active category, in display order."""
    return categories_for_report()


def service_get(*, code: str) -> Category:
    """The active category behind `service_code`, or NotFound."""
    category = categories_for_report().filter(code=code).first()
    if category is None:
        raise NotFound(_("没有代码为 %(code)s 的服务类型。") % {"code": code})
    return category


def services_changed_at() -> datetime | None:
    """When a service or its definition last changed: discovery's `changeset`."""
    return Category.objects.aggregate(at=Max("updated_at"))["at"]


# --- locating a new request ------------------------------------------------------------


def place_for_location(*, jurisdiction: Place, location: Location) -> tuple[Place, str]:
    """The place a POSTed request is at, and what of its location no place held.

    `address_id` is a place code and must lie in the jurisdiction. Otherwise the address
    string is matched against the names (and street addresses) of the places in the
    jurisdiction, walking down the tree; then the point is taken to the nearest building
    with coordinates. Failing both, a community jurisdiction takes the community itself,
    and the location as given goes into the case text for the handlers.
    """
    if location.address_id:
        place = Place.objects.filter(code=location.address_id, is_active=True).first()
        if (
            place is None
            or place.kind not in REPORTABLE_KINDS
            or not jurisdiction_covers(jurisdiction, place)
        ):
            raise ValidationFailed(
                _("address_id %(code)s 不是本辖区内可以上报的地点。")
                % {"code": location.address_id},
                code="unknown_address_id",
            )
        return place, ""
    if location.address_string:
        matched = _place_for_address(jurisdiction, location.address_string)
        if matched is not None and matched.kind in REPORTABLE_KINDS:
            return matched, ""
    if location.lat is not None and location.long is not None:
        nearest = _nearest_building(jurisdiction, location.lat, location.long)
        if nearest is not None:
            return nearest, location.address_string
    if jurisdiction.kind == PlaceKind.COMMUNITY:
        note = location.address_string or f"{location.lat}, {location.long}"
        return jurisdiction, note
    raise ValidationFailed(
        _(
            "无法在该街道内确定居民区：请用 address_id 给出地点编码，"
            "或以居民区编码为 jurisdiction_id。"
        ),
        code="location_unresolved",
    )


def _place_for_address(jurisdiction: Place, text: str) -> Place | None:
    wanted = normalise(text)
    found: Place | None = None
    current = jurisdiction
    while True:
        step = _best_match(current.children.filter(is_active=True), wanted)
        if step is None:
            # The address may skip a level ("1号楼101室" without the entrance).
            step = _best_match(Place.objects.filter(parent__parent=current, is_active=True), wanted)
        if step is None:
            return found
        found = current = step


def _best_match(candidates: QuerySet[Place], wanted: str) -> Place | None:
    """The candidate whose name (or street address) is the longest part of `wanted`;
    None when none is, or when two different places tie."""
    best: list[Place] = []
    best_length = 0
    for place in candidates:
        length = max(
            (len(s) for s in (place.search_name, normalise(place.address)) if s and s in wanted),
            default=0,
        )
        if length > best_length:
            best, best_length = [place], length
        elif length and length == best_length:
            best.append(place)
    return best[0] if len(best) == 1 else None


def _nearest_building(jurisdiction: Place, lat: Decimal, long: Decimal) -> Place | None:
    buildings = Place.objects.filter(
        _cases_in(jurisdiction),
        kind=PlaceKind.BUILDING,
        is_active=True,
        latitude__isnull=False,
        longitude__isnull=False,
    ).values_list("pk", "latitude", "longitude")
    best: tuple[float, int] | None = None
    for pk, b_lat, b_long in buildings:
        metres = _distance(float(lat), float(long), float(b_lat or 0), float(b_long or 0))
        if metres <= NEAREST_BUILDING_METRES and (best is None or metres < best[0]):
            best = (metres, pk)
    return Place.objects.get(pk=best[1]) if best else None


def _distance(lat1: float, long1: float, lat2: float, long2: float) -> float:
    # An equirectangular approximation: exact enough within a subdistrict.
    x = math.radians(long2 - long1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return _EARTH_RADIUS_METRES * math.hypot(x, y)


# --- requests -----------------------------------------------------------------------------


def requests_for(
    *,
    jurisdiction: Place,
    numbers: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The public rows of the jurisdiction's requests, newest first, at most 1,000.

    A list of `numbers` (service_request_id) overrides every other filter, as the spec
    says; otherwise the requests reported in [start, end], of the given service codes
    and statuses.
    """
    cases = _public_cases().filter(_cases_in(jurisdiction))
    if numbers:
        cases = cases.filter(number__in=numbers)
    else:
        if start is not None and end is not None:
            cases = cases.filter(reported_at__gte=start, reported_at__lte=end)
        if service_codes:
            cases = cases.filter(category__code__in=service_codes)
        if statuses and len(set(statuses)) == 1:
            open_filter = Q(state__in=PUBLIC_OPEN_STATES)
            cases = cases.filter(open_filter if statuses[0] == "open" else ~open_filter)
    return public_rows(list(cases.order_by("-reported_at", "-pk")[:MAX_RESULTS]))


def request_get(*, jurisdiction: Place, number: str) -> dict[str, Any]:
    """One request's public row, or NotFound (also for a case of another jurisdiction)."""
    case = _public_cases().filter(_cases_in(jurisdiction), number=number).first()
    if case is None:
        raise NotFound(_("本辖区没有编号为 %(number)s 的诉求。") % {"number": number})
    return public_rows([case])[0]


def requests_for_token(*, jurisdiction: Place, token: str) -> list[dict[str, str]]:
    """The requests a POST with `token` created in the jurisdiction, or NotFound."""
    rows = [
        {"service_request_id": number, "token": token}
        for number in Open311Request.objects.filter(
            token=token, case__in=Case.objects.filter(_cases_in(jurisdiction))
        )
        .order_by("created_at", "pk")
        .values_list("case__number", flat=True)
    ]
    if not rows:
        raise NotFound(_("本辖区没有令牌为 %(token)s 的上报。") % {"token": token})
    return rows


def _public_cases() -> QuerySet[Case]:
    return Case.objects.select_related(
        "category", "place", "community", "reporter", "merged_into", "open311"
    )


def public_rows(cases: list[Case]) -> list[dict[str, Any]]:
    """Cases as GeoReport v2 `request` rows, in the spec's field order, with the public
    rules applied (building-level address, withheld or masked description, no names)."""
    chains = _place_chains(case.place for case in cases)
    agencies = _agencies(cases)
    rows = []
    for case in cases:
        chain = public_chain(chains[case.place.code])
        lat, long = coordinates_for(chain)
        extra: Open311Request | None = getattr(case, "open311", None)
        rows.append(
            {
                "service_request_id": case.number,
                "status": status_for(case.state),
                "status_notes": status_notes_for(
                    state=case.state,
                    referral=case.referral,
                    merged_into=case.merged_into.number if case.merged_into else "",
                ),
                "service_name": case.category.name,
                "service_code": case.category.code,
                "description": public_description(
                    text=case.text,
                    names=_names(case),
                    is_anonymous=case.is_anonymous,
                    group=case.category.group,
                    location_note=extra.location_note if extra else "",
                ),
                "agency_responsible": agencies.get(case.pk) or case.community.name,
                "service_notice": service_notice(case),
                "requested_datetime": w3c(case.reported_at),
                "updated_datetime": w3c(_updated_at(case)),
                "expected_datetime": w3c(case.completion_due_at),
                "address": address_for(chain),
                "address_id": chain[-1].code,
                "zipcode": None,
                "lat": lat,
                "long": long,
                "media_url": (extra.media_url or None) if extra else None,
            }
        )
    return rows


def service_notice(case: Case) -> str:
    """What the resident may expect: the response and completion deadlines of the case."""
    estimated = case.response_due_estimated or case.completion_due_estimated
    notice = _("按“%(category)s”的时限：%(respond)s 前响应，%(complete)s 前办结。") % {
        "category": case.category.name,
        "respond": _local(case.response_due_at),
        "complete": _local(case.completion_due_at),
    }
    if estimated:
        notice += _("（节假日安排尚未公布，截止时间为估算。）")
    return notice


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _updated_at(case: Case) -> datetime:
    # GeoReport v2: for a closed request, the moment it was closed.
    closing: dict[str, datetime | None] = {
        CaseState.COMPLETED: case.completed_at,
        CaseState.FOLLOWED_UP: case.completed_at,
        CaseState.CLOSED: case.closed_at,
        CaseState.MERGED: case.merged_at,
        CaseState.DECLINED: case.declined_at,
    }
    return closing.get(str(case.state)) or case.updated_at


def _names(case: Case) -> list[str]:
    """What would point at the reporter in their own words: their name, the contact's,
    and the dwelling the case is at ("101室", "101")."""
    names = [case.contact_name]
    if case.reporter is not None:
        names.append(case.reporter.name)
    if case.place.kind == PlaceKind.DWELLING:
        names += [case.place.name, case.place.segment if len(case.place.segment) >= 3 else ""]
    return names


def _place_chains(places: Iterable[Place]) -> dict[str, list[PlaceNode]]:
    """For each place, the nodes from the root down to it, read in one query."""
    codes = {place.code: place.ancestor_codes() for place in places}
    wanted = {code for chain in codes.values() for code in chain}
    nodes = {
        code: PlaceNode(code, kind, name, address, lat, long)
        for code, kind, name, address, lat, long in Place.objects.filter(
            code__in=wanted
        ).values_list("code", "kind", "name", "address", "latitude", "longitude")
    }
    return {code: [nodes[c] for c in chain if c in nodes] for code, chain in codes.items()}


def _agencies(cases: list[Case]) -> dict[int, str]:
    """Who answers for each case: the lead's organisation (the property company), or the
    community and the lead's role. Never a person's name."""
    leads = list(
        CaseHandler.objects.filter(
            case__in=cases, kind=HandlerKind.LEAD, is_active=True
        ).values_list("case_id", "user_id", "party_role")
    )
    organisations = {
        (user_id, role): organisation
        for user_id, role, organisation in RoleAssignment.objects.filter(
            user_id__in={user_id for _c, user_id, _r in leads}, is_active=True
        )
        .exclude(organisation="")
        .values_list("user_id", "role", "organisation")
    }
    communities = {case.pk: case.community.name for case in cases}
    agencies = {}
    for case_id, user_id, role in leads:
        organisation = organisations.get((user_id, role))
        if organisation:
            agencies[case_id] = organisation
        elif role:
            agencies[case_id] = f"{communities[case_id]}（{Role(role).label}）"
    return agencies


# --- updates (mySociety's extension) -----------------------------------------------------


def request_updates_for(
    *, jurisdiction: Place, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The public steps of the jurisdiction's requests in [start, end], oldest first, at
    most 1,000: each with the request's status after it, and the step in words."""
    events = list(
        CaseEvent.objects.filter(
            case__in=Case.objects.filter(_cases_in(jurisdiction)),
            is_public=True,
            at__gte=start,
            at__lte=end,
        )
        .select_related("case", "case__merged_into")
        .order_by("at", "pk")[:MAX_RESULTS]
    )
    states = _states_before(events)
    rows = []
    for event in events:
        state = event.to_state or states.get(event.pk) or event.case.state
        note = str(EventKind(event.kind).label)
        if event.to_state:
            note = f"{note}：" + status_notes_for(
                state=event.to_state,
                referral=event.case.referral,
                merged_into=event.case.merged_into.number if event.case.merged_into else "",
            )
        rows.append(
            {
                "update_id": str(event.pk),
                "service_request_id": event.case.number,
                "status": status_for(state),
                "updated_datetime": w3c(event.at),
                "description": note,
                "media_url": None,
            }
        )
    return rows


def _states_before(events: list[CaseEvent]) -> dict[int, str]:
    """For events that do not change the state, the state their case was in then."""
    pending = [event for event in events if not event.to_state]
    if not pending:
        return {}
    steps: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for case_id, at, pk, to_state in (
        CaseEvent.objects.filter(case_id__in={e.case_id for e in pending})
        .exclude(to_state="")
        .order_by("case_id", "at", "pk")
        .values_list("case_id", "at", "pk", "to_state")
    ):
        steps[case_id].append((at, pk, to_state))
    states = {}
    for event in pending:
        history = steps.get(event.case_id, [])
        index = bisect_right(history, (event.at, event.pk, "\uffff"))
        if index:
            states[event.pk] = history[index - 1][2]
    return states


# --- keys -------------------------------------------------------------------------------


def open311_keys() -> QuerySet[Open311Key]:
    """Every key, newest first, with its jurisdiction (for the command's listing)."""
    return Open311Key.objects.select_related("jurisdiction").order_by("-created_at")
