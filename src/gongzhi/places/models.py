"""The place tree: district → subdistrict → community → estate → building → entrance → dwelling.

One table holds every node. Its `code` is both the stable, human-readable identifier and
the materialised path: a node's code is its parent's code, a dash, and its own segment
(``310105-ZJQ-HQXC-E1-B12-U1-1201``), so "everything under X" is a prefix match and a
code read aloud tells a worker where the place is.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import BaseModel


class PlaceKind(models.TextChoices):
    DISTRICT = "district", _("区")
    SUBDISTRICT = "subdistrict", _("街道/镇")
    COMMUNITY = "community", _("居民区")
    ESTATE = "estate", _("小区")
    BUILDING = "building", _("楼栋")
    ENTRANCE = "entrance", _("单元")
    DWELLING = "dwelling", _("户")
    STREET_SHOP = "street_shop", _("沿街商铺")
    PUBLIC_AREA = "public_area", _("公共区域")


# Which kinds may hang under which: the tree's shape, checked by the services.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    PlaceKind.DISTRICT: {PlaceKind.SUBDISTRICT},
    PlaceKind.SUBDISTRICT: {PlaceKind.COMMUNITY},
    PlaceKind.COMMUNITY: {PlaceKind.ESTATE, PlaceKind.STREET_SHOP, PlaceKind.PUBLIC_AREA},
    PlaceKind.ESTATE: {
        PlaceKind.BUILDING,
        PlaceKind.STREET_SHOP,
        PlaceKind.PUBLIC_AREA,
    },
    PlaceKind.BUILDING: {PlaceKind.ENTRANCE, PlaceKind.DWELLING, PlaceKind.STREET_SHOP},
    PlaceKind.ENTRANCE: {PlaceKind.DWELLING},
    PlaceKind.DWELLING: set(),
    PlaceKind.STREET_SHOP: set(),
    PlaceKind.PUBLIC_AREA: set(),
}


class CommunityType(models.TextChoices):
    COMMERCIAL = "commercial", _("商品房")
    RESETTLEMENT = "resettlement", _("动迁房")
    FARMERS = "farmers", _("农民集中居住区")
    RENTAL = "rental", _("保障性租赁住房")
    MIXED = "mixed", _("混合型")


code_segment_validator = RegexValidator(
    r"^[A-Za-z0-9]+$", _("编码只能由字母和数字组成。"), code="invalid_code_segment"
)


class Place(BaseModel):
    kind = models.CharField(_("类型"), max_length=16, choices=PlaceKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    # The name as searches compare it (simplified, half-width, lower case), so that a
    # worker typing 張家宅 or １２号楼 finds 张家宅 and 12号楼. Written by the services.
    search_name = models.CharField(_("检索名称"), max_length=100, blank=True, editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("编码"), max_length=120, unique=True)
    depth = models.PositiveSmallIntegerField(_("层级"), default=0)
    # The community a node belongs to (itself for a community), kept so that a case, a
    # visit or a role can be filtered by community with one indexed equality.
    community = models.ForeignKey(
        "self",
        verbose_name=_("所属居民区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community_type = models.CharField(
        _("居民区类型"), max_length=16, choices=CommunityType.choices, blank=True
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # Registered exclusive area of a dwelling or shop (专有部分面积), used by owners' votes.
    exclusive_area = models.DecimalField(
        _("专有部分面积(㎡)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
    )
    sort_key = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("地点")
        verbose_name_plural = _("地点")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["parent", "sort_key", "code"]),
            models.Index(fields=["community", "kind"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def segment(self) -> str:
        return self.code.rsplit("-", 1)[-1]

    def is_within(self, ancestor: "Place") -> bool:
        """True if this place is `ancestor` or lies below it."""
        return self.code == ancestor.code or self.code.startswith(ancestor.code + "-")

    def ancestor_codes(self) -> list[str]:
        """Codes of this place and every ancestor, nearest last: read from the code alone."""
        parts = self.code.split("-")
        return ["-".join(parts[: i + 1]) for i in range(len(parts))]


class CommunitySettings(BaseModel):
    """What differs per community: its service window, its QR slug, its defaults."""

    community = models.OneToOneField(
        Place,
        verbose_name=_("居民区"),
        on_delete=models.CASCADE,
        related_name="settings",
        limit_choices_to={"kind": PlaceKind.COMMUNITY},
    )
    service_start = models.TimeField(_("服务时段开始"), default="08:00")
    service_end = models.TimeField(_("服务时段结束"), default="20:00")
    # 一居一码: the community's public report page is /r/<report_slug>/
    report_slug = models.SlugField(_("上报码标识"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("居民区设置")
        verbose_name_plural = _("居民区设置")

    def __str__(self) -> str:
        return str(self.community)


class Grid(BaseModel):
    """A group of buildings in one community with its own grid leader and workers (网格)."""

    community = models.ForeignKey(
        Place,
        verbose_name=_("居民区"),
        on_delete=models.PROTECT,
        related_name="community_grids",
        limit_choices_to={"kind": PlaceKind.COMMUNITY},
    )
    code = models.CharField(_("编码"), max_length=140, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    buildings = models.ManyToManyField(
        Place,
        verbose_name=_("楼栋"),
        related_name="grids",
        blank=True,
        limit_choices_to={"kind__in": [PlaceKind.BUILDING, PlaceKind.STREET_SHOP]},
    )

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}"


class Cluster(BaseModel):
    """Communities grouped across districts for sharing and comparison (片区)."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    communities = models.ManyToManyField(
        Place,
        verbose_name=_("居民区"),
        related_name="clusters",
        blank=True,
        limit_choices_to={"kind": PlaceKind.COMMUNITY},
    )

    class Meta:
        verbose_name = _("片区")
        verbose_name_plural = _("片区")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
