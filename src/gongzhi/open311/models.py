"""API keys for Open311 GeoReport v2 clients, and what each POSTed request brought with it.

Reading Open311 needs no key; filing a request does. A key belongs to one jurisdiction
(a community, or a subdistrict and so all its communities) and is kept only as a
SHA-256 digest: it is shown once, when it is created.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.models import Case
from gongzhi.core.models import BaseModel
from gongzhi.places.models import Place, PlaceKind

JURISDICTION_KINDS = (PlaceKind.COMMUNITY, PlaceKind.SUBDISTRICT)


class Open311KeyQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True)


class Open311Key(BaseModel):
    """One client's key for one jurisdiction."""

    name = models.CharField(
        _("名称"), max_length=100, help_text=_("哪个应用或单位在用，例如“市民云随手拍”。")
    )
    jurisdiction = models.ForeignKey(
        Place,
        verbose_name=_("辖区"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind__in": JURISDICTION_KINDS},
        help_text=_("居民区，或街道（含其下所有居民区）。"),
    )
    # The account the key's reports are filed under (cases need a signed-in reporter on
    # self-service channels). Made with the key's first report; it cannot sign in.
    client = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户端账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="open311_key",
        editable=False,
    )
    # The first characters of the key, kept in clear so a person can name the key to revoke.
    prefix = models.CharField(_("前缀"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)

    objects = Open311KeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Open311Request(BaseModel):
    """What a POSTed service request brought that the case itself does not hold."""

    case = models.OneToOneField(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="open311"
    )
    key = models.ForeignKey(
        Open311Key, verbose_name=_("密钥"), on_delete=models.PROTECT, related_name="requests"
    )
    # The idempotency key of the POST: the client's Idempotency-Key header, or a digest of
    # the form. `GET tokens/<token>` answers with the request it created.
    token = models.CharField(_("令牌"), max_length=100)
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    # A location that matched no place below the community (an address string, or a
    # point with no building near it): appended to the case text for the handlers and
    # left out of every public answer.
    location_note = models.CharField(_("位置说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("Open311 上报")
        verbose_name_plural = _("Open311 上报")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["key", "token"], name="open311_request_once_per_token")
        ]
        indexes = [models.Index(fields=["token"], name="open311_request_token")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.key.prefix}"
