"""Every write to the place tree, its community settings, grids and clusters."""

from datetime import time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.text import normalise

from .models import (
    ALLOWED_CHILDREN,
    Cluster,
    CommunitySettings,
    Grid,
    Place,
    PlaceKind,
    code_segment_validator,
)

# What `place_update` may change. Kind, parent and code are the node's position in the
# tree: other records (cases, roles, visits) are filtered by code prefix, so moving a node
# would silently move their history with it.
PLACE_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "address",
        "latitude",
        "longitude",
        "exclusive_area",
        "community_type",
        "sort_key",
        "is_active",
    }
)


def search_name_for(name: str) -> str:
    """The form of a place name that searches compare against (see Place.search_name)."""
    return normalise(name)[:100]


def _clean_segment(segment: str) -> str:
    segment = segment.strip().upper()
    try:
        code_segment_validator(segment)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="invalid_code_segment") from exc
    return segment


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("名称不能为空。"), code="place_name_required")
    return name


def place_position_check(*, kind: str, segment: str, parent: Place | None) -> str:
    """The code a new `kind` node with `segment` under `parent` would get; ValidationFailed
    if the tree's shape does not allow it there. Forms call it to explain before saving."""
    segment = _clean_segment(segment)
    if parent is None and kind != PlaceKind.DISTRICT:
        raise ValidationFailed(_("只有“区”可以没有上级。"), code="place_needs_parent")
    if parent is not None and kind not in ALLOWED_CHILDREN[parent.kind]:
        raise ValidationFailed(
            _("%(parent)s下面不能添加%(kind)s。")
            % {"parent": parent.get_kind_display(), "kind": PlaceKind(kind).label},
            code="place_kind_not_allowed",
        )
    return f"{parent.code}-{segment}" if parent else segment


def place_create(
    *,
    actor: Any,
    kind: str,
    name: str,
    segment: str,
    parent: Place | None = None,
    **fields: Any,
) -> Place:
    """Add a node under `parent`; its code is the parent's code plus `segment`.

    Only districts stand at the root; every other kind must hang under a kind that
    allows it (ALLOWED_CHILDREN). A community gets its settings row (service window,
    QR slug) at once.
    """
    name = _clean_name(name)
    code = place_position_check(kind=kind, segment=segment, parent=parent)
    with transaction.atomic():
        if Place.objects.filter(code=code).exists():
            raise ValidationFailed(
                _("编码 %(code)s 已存在。") % {"code": code}, code="place_code_taken"
            )
        place = Place(
            kind=kind,
            name=name,
            search_name=search_name_for(name),
            code=code,
            parent=parent,
            depth=(parent.depth + 1) if parent else 0,
            **fields,
        )
        if kind == PlaceKind.COMMUNITY:
            place.save()
            place.community = place
            place.save(update_fields=["community"])
            CommunitySettings.objects.create(community=place, report_slug=code.lower())
        else:
            place.community = parent.community if parent else None
            place.save()
        audit_record(
            actor=actor, verb="place.create", obj=place, after={"code": code, "name": name}
        )
    return place


def place_update(*, actor: Any, place: Place, **changes: Any) -> Place:
    """Change a place's descriptive fields (name, address, position, area, type, order).

    Its kind, parent and code stay fixed (PLACE_UPDATABLE_FIELDS says why). Fields whose
    value does not change are not written and not audited.
    """
    unknown = set(changes) - PLACE_UPDATABLE_FIELDS
    if unknown:
        raise ValidationFailed(
            _("不能修改这些字段：%(fields)s") % {"fields": "、".join(sorted(unknown))},
            code="place_field_not_updatable",
        )
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
    if changes.get("community_type") and place.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed(
            _("只有居民区有居民区类型。"), code="community_type_only_for_community"
        )
    if changes.get("exclusive_area") is not None:
        area = Decimal(str(changes["exclusive_area"]))
        if area <= 0:
            raise ValidationFailed(_("面积必须大于0。"), code="place_area_not_positive")
        changes["exclusive_area"] = area
    before = {}
    after = {}
    for field, value in changes.items():
        old = getattr(place, field)
        if old != value:
            before[field] = old
            after[field] = value
    if not after:
        return place
    with transaction.atomic():
        for field, value in after.items():
            setattr(place, field, value)
        update_fields = [*after, "updated_at"]
        if "name" in after:
            place.search_name = search_name_for(place.name)
            update_fields.append("search_name")
        place.save(update_fields=update_fields)
        audit_record(actor=actor, verb="place.update", obj=place, before=before, after=after)
    return place


def community_settings_update(
    *,
    actor: Any,
    community_settings: CommunitySettings,
    service_start: time | None = None,
    service_end: time | None = None,
    report_slug: str | None = None,
) -> CommunitySettings:
    """Change a community's service window or the slug of its report QR code (一居一码).

    A new slug makes every printed QR code of the community stop working, which is why
    it is audited like any other change and refused when another community holds it.
    """
    start = service_start if service_start is not None else community_settings.service_start
    end = service_end if service_end is not None else community_settings.service_end
    if start >= end:
        raise ValidationFailed(
            _("服务时段的开始时间必须早于结束时间。"), code="service_window_invalid"
        )
    slug = community_settings.report_slug if report_slug is None else report_slug.strip().lower()
    if not slug:
        raise ValidationFailed(_("上报码标识不能为空。"), code="report_slug_required")
    if (
        CommunitySettings.objects.filter(report_slug=slug)
        .exclude(pk=community_settings.pk)
        .exists()
    ):
        raise ValidationFailed(_("该上报码标识已被其他居民区使用。"), code="report_slug_taken")
    before = {}
    after = {}
    for field, value in (("service_start", start), ("service_end", end), ("report_slug", slug)):
        if getattr(community_settings, field) != value:
            before[field] = getattr(community_settings, field)
            after[field] = value
    if not after:
        return community_settings
    with transaction.atomic():
        for field, value in after.items():
            setattr(community_settings, field, value)
        community_settings.full_clean(exclude=["community"])
        community_settings.save(update_fields=[*after, "updated_at"])
        audit_record(
            actor=actor,
            verb="community_settings.update",
            obj=community_settings,
            before=before,
            after=after,
        )
    return community_settings


def _check_grid_buildings(community: Place, buildings: list[Place]) -> None:
    wrong_kind = [
        b.name for b in buildings if b.kind not in {PlaceKind.BUILDING, PlaceKind.STREET_SHOP}
    ]
    if wrong_kind:
        raise ValidationFailed(
            _("网格只能包含楼栋和沿街商铺：%(names)s") % {"names": "、".join(wrong_kind)},
            code="grid_member_kind",
        )
    outside = [b.name for b in buildings if b.community_id != community.pk]
    if outside:
        raise ValidationFailed(
            _("这些楼栋不属于本居民区：%(names)s") % {"names": "、".join(outside)},
            code="grid_building_outside",
        )


def grid_create(
    *, actor: Any, community: Place, segment: str, name: str, buildings: list[Place]
) -> Grid:
    """A grid over some of one community's buildings (and street shops)."""
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed(_("网格必须属于一个居民区。"), code="grid_needs_community")
    _check_grid_buildings(community, buildings)
    name = _clean_name(name)
    code = f"{community.code}-{_clean_segment(segment)}"
    with transaction.atomic():
        if Grid.objects.filter(code=code).exists():
            raise ValidationFailed(
                _("编码 %(code)s 已存在。") % {"code": code}, code="grid_code_taken"
            )
        grid = Grid.objects.create(community=community, code=code, name=name)
        grid.buildings.set(buildings)
        audit_record(
            actor=actor,
            verb="grid.create",
            obj=grid,
            after={"code": grid.code, "name": name, "buildings": [b.code for b in buildings]},
        )
    return grid


def grid_update(
    *, actor: Any, grid: Grid, name: str | None = None, buildings: list[Place] | None = None
) -> Grid:
    """Rename a grid or redraw it over another set of its community's buildings.

    Grid workers see exactly the grid's buildings, so redrawing a grid changes what
    they see; the audit event keeps both the old and the new set.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if name is not None and _clean_name(name) != grid.name:
        before["name"], after["name"] = grid.name, _clean_name(name)
    if buildings is not None:
        _check_grid_buildings(grid.community, buildings)
        old_codes = sorted(grid.buildings.values_list("code", flat=True))
        new_codes = sorted(b.code for b in buildings)
        if old_codes != new_codes:
            before["buildings"], after["buildings"] = old_codes, new_codes
    if not after:
        return grid
    with transaction.atomic():
        if "name" in after:
            grid.name = after["name"]
            grid.save(update_fields=["name", "updated_at"])
        if "buildings" in after and buildings is not None:
            grid.buildings.set(buildings)
        audit_record(actor=actor, verb="grid.update", obj=grid, before=before, after=after)
    return grid


def _check_cluster_communities(communities: list[Place]) -> None:
    if any(c.kind != PlaceKind.COMMUNITY for c in communities):
        raise ValidationFailed(_("片区只能包含居民区。"), code="cluster_only_communities")


def cluster_create(*, actor: Any, code: str, name: str, communities: list[Place]) -> Cluster:
    """A cross-district group of communities (片区) for sharing and comparison."""
    _check_cluster_communities(communities)
    code = _clean_segment(code)
    name = _clean_name(name)
    with transaction.atomic():
        if Cluster.objects.filter(code=code).exists():
            raise ValidationFailed(
                _("编码 %(code)s 已存在。") % {"code": code}, code="cluster_code_taken"
            )
        cluster = Cluster.objects.create(code=code, name=name)
        cluster.communities.set(communities)
        audit_record(
            actor=actor,
            verb="cluster.create",
            obj=cluster,
            after={"code": code, "name": name, "communities": [c.code for c in communities]},
        )
    return cluster


def cluster_update(
    *,
    actor: Any,
    cluster: Cluster,
    name: str | None = None,
    communities: list[Place] | None = None,
) -> Cluster:
    """Rename a cluster or change which communities it groups."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if name is not None and _clean_name(name) != cluster.name:
        before["name"], after["name"] = cluster.name, _clean_name(name)
    if communities is not None:
        _check_cluster_communities(communities)
        old_codes = sorted(cluster.communities.values_list("code", flat=True))
        new_codes = sorted(c.code for c in communities)
        if old_codes != new_codes:
            before["communities"], after["communities"] = old_codes, new_codes
    if not after:
        return cluster
    with transaction.atomic():
        if "name" in after:
            cluster.name = after["name"]
            cluster.save(update_fields=["name", "updated_at"])
        if "communities" in after and communities is not None:
            cluster.communities.set(communities)
        audit_record(actor=actor, verb="cluster.update", obj=cluster, before=before, after=after)
    return cluster
