"""Routing (分拨): who handles a new case. Pure: plain data in, a decision out.

By place, then by category (rules §1):
- the category names the role that leads (grid worker, property company, mediator,
  community worker, owners' committee) and, for big matters, co-handler roles;
- a grid role is matched through the grids drawn over the case's building (dwelling →
  building → grid → grid worker); a grid worker missing, the grid's leader takes it;
- any other role is matched by where it is held: the holder nearest to the case's place
  wins (a property manager of this estate before one of the whole community);
- small matters get one responsible person and no co-handlers (小事专人管); big matters
  get the lead plus one holder of each co-handler role found (大事多方办);
- nobody matching, the duty fallback: today's duty rota of the community, else its
  community workers taking turns day by day — so the same case on the same day always
  lands on the same person, and a case is never left with nobody.

Ties are broken by the smallest user id, so routing is deterministic. The decision
carries a reason in Chinese, shown on the case's timeline.

`selectors.routing_input_for` loads the plain data from the database.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role

GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})


@dataclass(frozen=True)
class Candidate:
    """Someone holding a role that may handle cases at or above the case's place."""

    user_id: int
    name: str
    role: str
    # Where the role is held: a place code, or a grid (for grid workers and leaders).
    scope_code: str = ""
    grid_id: int | None = None
    grid_name: str = ""

    @property
    def role_label(self) -> str:
        try:
            return str(Role(self.role).label)
        except ValueError:
            return self.role


@dataclass(frozen=True)
class RoutingInput:
    place_name: str
    # The case's place and its ancestors, nearest last (Place.ancestor_codes()).
    place_codes: tuple[str, ...]
    # The grids drawn over the case's building (none for an estate-wide place).
    grid_ids: tuple[int, ...]
    category_name: str
    lead_role: str
    co_handler_roles: tuple[str, ...]
    single_handler: bool
    # Active role holders whose scope may cover the place (the loader pre-filters).
    candidates: tuple[Candidate, ...]
    # Today's duty rota, in rota order.
    on_duty: tuple[Candidate, ...]
    # The community's community workers: the last resort, taking turns by day.
    community_workers: tuple[Candidate, ...]
    day_ordinal: int


@dataclass(frozen=True)
class RoutingDecision:
    lead: Candidate | None
    co_handlers: tuple[Candidate, ...]
    reason: str
    used_fallback: bool


def route(data: RoutingInput) -> RoutingDecision:
    """Choose the lead and co-handlers for a new case, with the reason."""
    reasons: list[str] = []
    lead = _match(data, data.lead_role)
    used_fallback = False
    if lead is not None:
        reasons.append(_reason_for(data, lead, lead_role=data.lead_role))
    else:
        used_fallback = True
        lead, why = _fallback(data)
        reasons.append(
            _("“%(place)s”没有找到负责“%(category)s”的%(role)s。")
            % {
                "place": data.place_name,
                "category": data.category_name,
                "role": _role_label(data.lead_role),
            }
        )
        reasons.append(why)

    co_handlers: list[Candidate] = []
    if data.single_handler:
        if data.co_handler_roles:
            reasons.append(_("小事专人管：只分派一名责任人。"))
    else:
        taken = {lead.user_id} if lead else set()
        for role in data.co_handler_roles:
            match = _match(data, role, exclude=taken)
            if match is None:
                reasons.append(_("未找到协办的%(role)s。") % {"role": _role_label(role)})
                continue
            taken.add(match.user_id)
            co_handlers.append(match)
        if co_handlers:
            reasons.append(
                _("协办：%(names)s。")
                % {"names": "、".join(f"{c.role_label} {c.name}" for c in co_handlers)}
            )
    return RoutingDecision(
        lead=lead,
        co_handlers=tuple(co_handlers),
        reason="".join(reasons),
        used_fallback=used_fallback,
    )


def _match(data: RoutingInput, role: str, *, exclude: Iterable[int] = ()) -> Candidate | None:
    excluded = set(exclude)
    pool = [c for c in data.candidates if c.user_id not in excluded]
    if role in GRID_ROLES:
        in_grid = [c for c in pool if c.grid_id is not None and c.grid_id in data.grid_ids]
        for wanted in (role, Role.GRID_LEADER):
            holders = [c for c in in_grid if c.role == wanted]
            if holders:
                return min(holders, key=lambda c: (data.grid_ids.index(c.grid_id), c.user_id))
        return None
    depth = {code: index for index, code in enumerate(data.place_codes)}
    holders = [c for c in pool if c.role == role and c.scope_code in depth]
    if not holders:
        return None
    # The deepest scope is the most specific party (this estate's property company).
    return min(holders, key=lambda c: (-depth[c.scope_code], c.user_id))


def _fallback(data: RoutingInput) -> tuple[Candidate | None, str]:
    if data.on_duty:
        person = data.on_duty[0]
        return person, _("由今日值班人员 %(name)s 负责（值班表）。") % {"name": person.name}
    if data.community_workers:
        ordered = sorted(data.community_workers, key=lambda c: c.user_id)
        person = ordered[data.day_ordinal % len(ordered)]
        return person, _("今日无值班安排，由社区工作者 %(name)s 轮值负责。") % {"name": person.name}
    return None, _("本居民区没有可分派的人员，请书记指派。")


def _reason_for(data: RoutingInput, lead: Candidate, *, lead_role: str) -> str:
    if lead.grid_id is not None:
        detail = _("“%(place)s”属于%(grid)s，由%(role)s %(name)s 负责。") % {
            "place": data.place_name,
            "grid": lead.grid_name,
            "role": lead.role_label,
            "name": lead.name,
        }
        if lead.role != lead_role:
            detail = _("网格内暂无网格员，") + detail
        return _("按网格分派：") + detail
    return _("按类别分派：“%(category)s”由%(role)s %(name)s 主办。") % {
        "category": data.category_name,
        "role": lead.role_label,
        "name": lead.name,
    }


def _role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role
