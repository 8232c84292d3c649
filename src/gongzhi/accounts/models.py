"""People, the places they live, and the roles they hold at nodes of the place tree."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import BaseModel
from gongzhi.places.models import Grid, Place

phone_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("请输入11位中国大陆手机号。"), code="invalid_phone"
)


class GongzhiUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Log in with either the username or the phone number.
        return self.get(Q(username=username) | Q(phone=username))


class User(AbstractUser):
    """Anyone who signs in: residents, staff, volunteers, partners."""

    # Chinese names are written whole; first/last are kept only for Django's admin.
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(
        _("手机号"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[phone_validator],
    )
    phone_verified_at = models.DateTimeField(_("手机号验证时间"), null=True, blank=True)
    # Roster residents exist before they first sign in; they activate with a code.
    activated_at = models.DateTimeField(_("激活时间"), null=True, blank=True)
    preferred_language = models.CharField(
        _("界面语言"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )

    objects = GongzhiUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.username


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    STREET_SHOP = "street_shop", _("沿街商铺")
    VOLUNTEER = "volunteer", _("志愿者")
    BUILDING_LEADER = "building_leader", _("楼组长")
    GRID_WORKER = "grid_worker", _("网格员")
    GRID_LEADER = "grid_leader", _("网格长")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    SECRETARY = "secretary", _("书记")
    DIRECTOR = "director", _("居委会主任")
    PROPERTY_MANAGER = "property_manager", _("物业")
    OWNERS_COMMITTEE = "owners_committee", _("业委会成员")
    MEDIATOR = "mediator", _("调解员")
    SUBDISTRICT_SUPERVISOR = "subdistrict_supervisor", _("街道督办")
    DISTRICT_SUPERVISOR = "district_supervisor", _("区社会工作部")
    PARTNER = "partner", _("赋能伙伴")
    ADMINISTRATOR = "administrator", _("系统管理员")


# Roles whose holders handle cases and read residents' records in their scope.
STAFF_ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.GRID_LEADER,
        Role.COMMUNITY_WORKER,
        Role.SECRETARY,
        Role.DIRECTOR,
        Role.PROPERTY_MANAGER,
        Role.OWNERS_COMMITTEE,
        Role.MEDIATOR,
        Role.SUBDISTRICT_SUPERVISOR,
        Role.DISTRICT_SUPERVISOR,
        Role.ADMINISTRATOR,
    }
)
# Roles that lead a community and see its sensitive notes (rules.md §5).
COMMUNITY_LEAD_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR})
SUPERVISOR_ROLES = frozenset({Role.SUBDISTRICT_SUPERVISOR, Role.DISTRICT_SUPERVISOR})
# Roles that confirm who lives where (and so who is an owner with a vote).
RESIDENCY_VERIFIER_ROLES = frozenset(
    {Role.COMMUNITY_WORKER, Role.SECRETARY, Role.DIRECTOR, Role.ADMINISTRATOR}
)


class RoleAssignmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class RoleAssignment(BaseModel):
    """A role held at one node of the place tree (or one grid): the holder sees what is below."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    place = models.ForeignKey(
        Place,
        verbose_name=_("范围"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
        help_text=_("角色所在的地点；可见范围为该地点及其下级。系统管理员可留空。"),
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
        help_text=_("网格长、网格员的网格；可见范围为网格内的楼栋。"),
    )
    # A property company or owners' committee member acts for an organisation.
    organisation = models.CharField(_("所属单位"), max_length=100, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("授予人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        # One row per person, role and scope. Spelled as three partial constraints rather
        # than one with nulls_distinct=False, which SQLite (the default database) ignores.
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "place"],
                condition=Q(grid__isnull=True, place__isnull=False),
                name="role_assignment_unique_place",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "grid"],
                condition=Q(place__isnull=True, grid__isnull=False),
                name="role_assignment_unique_grid",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(place__isnull=True, grid__isnull=True),
                name="role_assignment_unique_everywhere",
            ),
        ]
        indexes = [models.Index(fields=["role", "place", "is_active"])]

    def __str__(self) -> str:
        scope = self.grid or self.place or _("全部")
        return f"{self.user} · {self.get_role_display()} @ {scope}"


class Relation(models.TextChoices):
    OWNER = "owner", _("业主")
    CO_OWNER = "co_owner", _("共有人")
    TENANT = "tenant", _("租户")
    FAMILY = "family", _("家庭成员")
    SHOP_OPERATOR = "shop_operator", _("商铺经营者")


class ResidencyStatus(models.TextChoices):
    CLAIMED = "claimed", _("待核验")
    VERIFIED = "verified", _("已核验")
    REJECTED = "rejected", _("未通过")
    ENDED = "ended", _("已迁出")


class Residency(BaseModel):
    """A person's tie to a dwelling or street shop; owner status only ever comes from 核验."""

    user = models.ForeignKey(
        User, verbose_name=_("居民"), on_delete=models.CASCADE, related_name="residencies"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("房屋/商铺"), on_delete=models.PROTECT, related_name="residencies"
    )
    community = models.ForeignKey(
        Place, verbose_name=_("居民区"), on_delete=models.PROTECT, related_name="+"
    )
    claimed_relation = models.CharField(
        _("申报关系"), max_length=16, choices=Relation.choices, default=Relation.FAMILY
    )
    relation = models.CharField(_("核验关系"), max_length=16, choices=Relation.choices, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ResidencyStatus.choices,
        default=ResidencyStatus.CLAIMED,
        db_index=True,
    )
    source = models.CharField(
        _("来源"),
        max_length=16,
        choices=[("roster", _("花名册导入")), ("claim", _("居民申报"))],
        default="claim",
    )
    verified_by = models.ForeignKey(
        User,
        verbose_name=_("核验人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    review_note = models.CharField(_("核验说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("居住关系")
        verbose_name_plural = _("居住关系")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "place"],
                condition=~Q(status__in=["rejected", "ended"]),
                name="residency_one_live_claim_per_place",
            )
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.place}"

    @property
    def is_verified_owner(self) -> bool:
        return self.status == ResidencyStatus.VERIFIED and self.relation in {
            Relation.OWNER,
            Relation.CO_OWNER,
        }


class OtpPurpose(models.TextChoices):
    LOGIN = "login", _("验证码登录")
    REGISTER = "register", _("注册")
    ACTIVATE = "activate", _("激活账号")
    REPORT = "report", _("匿名上报")


class OneTimeCode(BaseModel):
    """A code sent to a phone for sign-in, activation or anonymous reporting. Stored hashed."""

    phone = models.CharField(_("手机号"), max_length=11, db_index=True)
    purpose = models.CharField(_("用途"), max_length=16, choices=OtpPurpose.choices)
    code_hash = models.CharField(_("验证码摘要"), max_length=128)
    expires_at = models.DateTimeField(_("过期时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("验证码")
        verbose_name_plural = _("验证码")
        indexes = [models.Index(fields=["phone", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.phone} {self.purpose}"


class PersonalDataAccess(models.Model):
    """Who read whose personal data, when and why (PIPL): one row per staff read or export."""

    at = models.DateTimeField(_("时间"), db_index=True)
    viewer = models.ForeignKey(
        User, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey(
        User,
        verbose_name=_("被查看人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fields = models.CharField(_("字段"), max_length=200)
    purpose = models.CharField(_("事由"), max_length=200)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("个人信息查阅记录")
        verbose_name_plural = _("个人信息查阅记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.viewer} → {self.subject}"


class LoginFailure(models.Model):
    """Failed sign-ins, counted per identifier and per address to throttle guessing."""

    at = models.DateTimeField(_("时间"), db_index=True)
    identifier = models.CharField(_("账号"), max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(_("地址"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("登录失败")
        verbose_name_plural = _("登录失败")

    def __str__(self) -> str:
        return f"{self.identifier} {self.at:%Y-%m-%d %H:%M}"
