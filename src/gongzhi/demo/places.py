"""Demo builder 1: the place tree of the seed article, its grids and 第二片区.

Districts, subdistricts, communities and estates go through `places.services.place_create`
one by one. Below an estate there are tens of thousands of nodes, and `place_create`
spends a handful of queries and one audit row on each; so buildings, entrances,
dwellings, street shops and public areas are written level by level with `bulk_create`,
each row built exactly as `place_create` builds it (its `place_position_check` for the
code and the kind allowed under the parent, the search name, depth and community), and
one `place.bulk_create` audit event per community records what was added. That event
also marks the community as demo data: a later run finds it and leaves it alone.
"""

import functools
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import Conflict
from gongzhi.core.models import AuditEvent
from gongzhi.places.models import Cluster, Place, PlaceKind
from gongzhi.places.services import (
    cluster_create,
    grid_create,
    place_create,
    place_position_check,
    search_name_for,
)

from .context import DemoContext
from .spec import (
    CLUSTER_CODE,
    CLUSTER_DISTRICTS,
    CLUSTER_NAME,
    COMMUNITIES,
    DISTRICTS,
    SHOP_TRADES,
    CommunitySpec,
    EstateSpec,
)

BULK_VERB = "place.bulk_create"
GRID_NUMERALS = "一二三四五六七八九十"
# Shared spaces every estate has; the resource and patrol builders hang things on them.
PUBLIC_AREAS: tuple[tuple[str, str], ...] = (
    ("PA1", "小区正门"),
    ("PA2", "非机动车车棚"),
    ("PA3", "中心绿地"),
)


def community_code(spec: CommunitySpec) -> str:
    return f"{spec.district}-{spec.subdistrict}-{spec.segment}"


def check(ctx: DemoContext) -> None:
    """Refuse, before anything is written, if a place the demo needs is someone else's."""
    for district in DISTRICTS:
        _check_shared(PlaceKind.DISTRICT, district.name, district.code)
        for segment, name in district.subdistricts:
            _check_shared(PlaceKind.SUBDISTRICT, name, f"{district.code}-{segment}")
    for spec in COMMUNITIES:
        existing = Place.objects.filter(code=community_code(spec)).first()
        if existing is not None:
            _check_demo_community(existing, spec)
    cluster = Cluster.objects.filter(code=CLUSTER_CODE).first()
    if cluster is not None and cluster.name != CLUSTER_NAME:
        raise Conflict(
            _("片区编码 %(code)s 已被“%(name)s”使用。")
            % {"code": CLUSTER_CODE, "name": cluster.name},
            code="demo_cluster_conflict",
        )


def build(ctx: DemoContext) -> None:
    """Create every missing district, subdistrict and community, their grids and 第二片区."""
    with transaction.atomic():
        for district in DISTRICTS:
            parent = _ensure(ctx, PlaceKind.DISTRICT, district.name, district.code, None)
            for segment, name in district.subdistricts:
                _ensure(ctx, PlaceKind.SUBDISTRICT, name, segment, parent)
    for spec in COMMUNITIES:
        if Place.objects.filter(code=community_code(spec)).exists():
            continue
        with transaction.atomic():
            _build_community(ctx, spec)
    if not Cluster.objects.filter(code=CLUSTER_CODE).exists():
        _build_cluster(ctx)


def _check_shared(kind: str, name: str, code: str) -> None:
    # A district or subdistrict is shared ground: an existing node with the same kind
    # and name is the same place, so demo communities may hang under it.
    existing = Place.objects.filter(code=code).first()
    if existing is not None and (existing.kind != kind or existing.name != name):
        raise Conflict(
            _("编码 %(code)s 已被“%(other)s”使用，演示数据需要它表示“%(name)s”。")
            % {"code": code, "other": existing.name, "name": name},
            code="demo_place_conflict",
        )


def _ensure(ctx: DemoContext, kind: str, name: str, segment: str, parent: Place | None) -> Place:
    code = f"{parent.code}-{segment}" if parent else segment
    existing = Place.objects.filter(code=code).first()
    if existing is not None:
        return existing
    ctx.count(_("地点"), 1)
    return place_create(actor=None, kind=kind, name=name, segment=segment, parent=parent)


def _check_demo_community(place: Place, spec: CommunitySpec) -> None:
    is_demo = AuditEvent.objects.filter(
        verb=BULK_VERB,
        object_type=Place._meta.label_lower,
        object_id=str(place.pk),
        after__source="demo",
    ).exists()
    if not is_demo or place.name != spec.name or place.kind != PlaceKind.COMMUNITY:
        raise Conflict(
            _("编码 %(code)s 的居民区“%(name)s”不是演示数据创建的，演示数据不会改动它。")
            % {"code": place.code, "name": place.name},
            code="demo_community_conflict",
        )


def _build_community(ctx: DemoContext, spec: CommunitySpec) -> None:
    subdistrict = Place.objects.get(code=f"{spec.district}-{spec.subdistrict}")
    community = place_create(
        actor=None,
        kind=PlaceKind.COMMUNITY,
        name=spec.name,
        segment=spec.segment,
        parent=subdistrict,
        community_type=spec.community_type,
    )
    rng = ctx.rng("places", community.code)
    counts = {kind: 0 for kind in PlaceKind.values}
    grid_members: list[list[Place]] = []  # per estate: its buildings, then its shops
    for number, estate_spec in enumerate(spec.estates, start=1):
        estate = place_create(
            actor=None,
            kind=PlaceKind.ESTATE,
            name=estate_spec.name,
            segment=estate_spec.segment,
            parent=community,
            sort_key=number,
        )
        buildings, shops, counted = _build_estate(ctx, rng, estate, estate_spec)
        grid_members.append(buildings + shops)
        for kind, n in counted.items():
            counts[kind] += n
    audit_record(
        actor=None,
        verb=BULK_VERB,
        obj=community,
        after={"source": "demo", **{kind: n for kind, n in counts.items() if n}},
    )
    _build_grids(community, spec.grids, grid_members)
    ctx.count(_("地点"), 1 + len(spec.estates) + sum(counts.values()))
    ctx.say(
        _("%(name)s：%(buildings)d 栋楼、%(dwellings)d 户、%(shops)d 间沿街商铺")
        % {
            "name": spec.name,
            "buildings": counts[PlaceKind.BUILDING],
            "dwellings": counts[PlaceKind.DWELLING],
            "shops": counts[PlaceKind.STREET_SHOP],
        }
    )


def _build_estate(
    ctx: DemoContext, rng: random.Random, estate: Place, spec: EstateSpec
) -> tuple[list[Place], list[Place], dict[str, int]]:
    buildings: list[Place] = []
    layouts: list[tuple[int, int, int, list[Decimal]]] = []
    number = 0
    for group in spec.groups:
        for _i in range(ctx.scaled(group.count)):
            number += 1
            buildings.append(
                _child(estate, PlaceKind.BUILDING, f"{number}号楼", f"B{number}", number)
            )
            # One floor plan per building: flat N has the same area on every floor.
            plan = [
                Decimal(rng.uniform(*group.area)).quantize(Decimal("0.01"))
                for _p in range(group.entrances * group.per_floor)
            ]
            layouts.append((group.floors, group.entrances, group.per_floor, plan))
    shops = (
        [
            _child(
                estate,
                PlaceKind.STREET_SHOP,
                f"沿街{n}号 {SHOP_TRADES[(n - 1) % len(SHOP_TRADES)]}",
                f"S{n:02d}",
                n,
                exclusive_area=Decimal(rng.uniform(25, 120)).quantize(Decimal("0.01")),
            )
            for n in range(1, ctx.scaled(spec.shops) + 1)
        ]
        if spec.shops
        else []
    )
    areas = [
        _child(estate, PlaceKind.PUBLIC_AREA, name, segment, n)
        for n, (segment, name) in enumerate(PUBLIC_AREAS, start=1)
    ]
    Place.objects.bulk_create(buildings + shops + areas)

    entrances: list[Place] = []
    for building, (_floors, n_entrances, _per_floor, _plan) in zip(buildings, layouts, strict=True):
        entrances.extend(
            _child(building, PlaceKind.ENTRANCE, f"{e}单元", f"U{e}", e)
            for e in range(1, n_entrances + 1)
        )
    Place.objects.bulk_create(entrances)

    dwellings: list[Place] = []
    by_building = iter(entrances)
    for floors, n_entrances, per_floor, plan in layouts:
        for e in range(n_entrances):
            entrance = next(by_building)
            for floor in range(1, floors + 1):
                for flat in range(1, per_floor + 1):
                    segment = f"{floor}{flat:02d}"
                    dwellings.append(
                        _child(
                            entrance,
                            PlaceKind.DWELLING,
                            f"{segment}室",
                            segment,
                            floor * 100 + flat,
                            exclusive_area=plan[e * per_floor + flat - 1],
                        )
                    )
    Place.objects.bulk_create(dwellings, batch_size=2000)
    return (
        buildings,
        shops,
        {
            PlaceKind.BUILDING: len(buildings),
            PlaceKind.STREET_SHOP: len(shops),
            PlaceKind.PUBLIC_AREA: len(areas),
            PlaceKind.ENTRANCE: len(entrances),
            PlaceKind.DWELLING: len(dwellings),
        },
    )


def _child(
    parent: Place, kind: str, name: str, segment: str, sort_key: int, **fields: Any
) -> Place:
    """An unsaved node exactly as `place_create` would save it."""
    return Place(
        kind=kind,
        name=name,
        search_name=_search_name(name),
        code=place_position_check(kind=kind, segment=segment, parent=parent),
        parent=parent,
        depth=parent.depth + 1,
        community_id=parent.community_id,
        sort_key=sort_key,
        **fields,
    )


@functools.lru_cache(maxsize=4096)
def _search_name(name: str) -> str:
    # Every building has a 101室: normalising each distinct name once saves seconds.
    return search_name_for(name)


def _build_grids(community: Place, wanted: int, per_estate: list[list[Place]]) -> None:
    """Cut the community's buildings, in order, into `wanted` grids of nearly equal size;
    an estate's street shops belong to the grid of its first building."""
    buildings = [p for places in per_estate for p in places if p.kind == PlaceKind.BUILDING]
    n_grids = min(wanted, len(buildings))
    members: list[list[Place]] = [[] for _g in range(n_grids)]
    grid_of: dict[int, int] = {}
    for index, building in enumerate(buildings):
        grid_of[building.pk] = index * n_grids // len(buildings)
        members[grid_of[building.pk]].append(building)
    for places in per_estate:
        first = next(p for p in places if p.kind == PlaceKind.BUILDING)
        members[grid_of[first.pk]].extend(p for p in places if p.kind == PlaceKind.STREET_SHOP)
    for number, places in enumerate(members, start=1):
        grid_create(
            actor=None,
            community=community,
            segment=f"G{number}",
            name=f"第{GRID_NUMERALS[number - 1]}网格",
            buildings=places,
        )


def _build_cluster(ctx: DemoContext) -> None:
    communities = list(
        Place.objects.filter(
            code__in=[
                community_code(spec) for spec in COMMUNITIES if spec.district in CLUSTER_DISTRICTS
            ]
        ).order_by("code")
    )
    with transaction.atomic():
        cluster_create(actor=None, code=CLUSTER_CODE, name=CLUSTER_NAME, communities=communities)
    ctx.count(_("片区"), 1)
