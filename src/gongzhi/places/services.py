"""Every write to the place tree."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import ValidationFailed

from .models import (
    ALLOWED_CHILDREN,
    Cluster,
    CommunitySettings,
    Grid,
    Place,
    PlaceKind,
    code_segment_validator,
)


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
    segment = segment.strip().upper()
    code_segment_validator(segment)
    if parent is None and kind != PlaceKind.DISTRICT:
        raise ValidationFailed(_("只有“区”可以没有上级。"), code="place_needs_parent")
    if parent is not None and kind not in ALLOWED_CHILDREN[parent.kind]:
        raise ValidationFailed(
            _("%(parent)s下面不能添加%(kind)s。")
            % {"parent": parent.get_kind_display(), "kind": PlaceKind(kind).label},
            code="place_kind_not_allowed",
        )
    code = f"{parent.code}-{segment}" if parent else segment
    if Place.objects.filter(code=code).exists():
        raise ValidationFailed(
            _("编码 %(code)s 已存在。") % {"code": code}, code="place_code_taken"
        )
    with transaction.atomic():
        place = Place(
            kind=kind,
            name=name.strip(),
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


def grid_create(
    *, actor: Any, community: Place, segment: str, name: str, buildings: list[Place]
) -> Grid:
    """A grid over some of one community's buildings (and street shops)."""
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed(_("网格必须属于一个居民区。"), code="grid_needs_community")
    outside = [b.name for b in buildings if b.community_id != community.pk]
    if outside:
        raise ValidationFailed(
            _("这些楼栋不属于本居民区：%(names)s") % {"names": "、".join(outside)},
            code="grid_building_outside",
        )
    segment = segment.strip().upper()
    code_segment_validator(segment)
    with transaction.atomic():
        grid = Grid.objects.create(
            community=community, code=f"{community.code}-{segment}", name=name
        )
        grid.buildings.set(buildings)
        audit_record(
            actor=actor,
            verb="grid.create",
            obj=grid,
            after={"code": grid.code, "buildings": [b.code for b in buildings]},
        )
    return grid


def cluster_create(*, actor: Any, code: str, name: str, communities: list[Place]) -> Cluster:
    """A cross-district group of communities (片区) for sharing and comparison."""
    if any(c.kind != PlaceKind.COMMUNITY for c in communities):
        raise ValidationFailed(_("片区只能包含居民区。"), code="cluster_only_communities")
    with transaction.atomic():
        cluster = Cluster.objects.create(code=code, name=name)
        cluster.communities.set(communities)
        audit_record(
            actor=actor,
            verb="cluster.create",
            obj=cluster,
            after={"communities": [c.code for c in communities]},
        )
    return cluster
