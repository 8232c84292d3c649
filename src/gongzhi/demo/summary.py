"""What `gongzhi demo` prints at the end: who to sign in as, and each community's report page."""

import unicodedata

from django.db.models import Count
from django.utils.translation import gettext as _

from gongzhi.places.models import CommunityType, Place, PlaceKind

from .context import Writer
from .people import logins
from .places import community_code
from .spec import COMMUNITIES


def write_summary(stdout: Writer) -> None:
    """Print the demo logins (one per role) and the communities' QR/report slugs."""
    rows = [
        [login.role, login.username, login.phone, login.password, login.hint] for login in logins()
    ]
    stdout.write(_("\n演示账号（用户名或手机号登录）：\n"))
    _table(stdout, [_("角色"), _("用户名"), _("手机号"), _("密码"), _("可以试试")], rows)

    codes = [community_code(spec) for spec in COMMUNITIES]
    dwellings = dict(
        Place.objects.filter(kind=PlaceKind.DWELLING, community__code__in=codes)
        .values_list("community__code")
        .annotate(n=Count("id"))
    )
    communities = (
        Place.objects.filter(code__in=codes)
        .order_by("code")
        .values_list(
            "parent__parent__name",
            "parent__name",
            "name",
            "community_type",
            "code",
            "settings__report_slug",
        )
    )
    stdout.write(_("\n居民区（一居一码：手机扫码打开上报页 /r/<标识>/）：\n"))
    _table(
        stdout,
        [_("区"), _("街道/镇"), _("居民区"), _("类型"), _("户数"), _("上报页")],
        [
            [
                district,
                subdistrict,
                name,
                str(CommunityType(community_type).label),
                str(dwellings.get(code, 0)),
                f"/r/{slug}/",
            ]
            for district, subdistrict, name, community_type, code, slug in communities
        ],
    )


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(stdout: Writer, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            str(cell) + " " * (w - _width(str(cell))) for cell, w in zip(row, widths, strict=True)
        ]
        stdout.write("  ".join(cells).rstrip() + "\n")
