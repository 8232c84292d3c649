"""The demo's Open311 key: one for 虹桥新城居民区, printed on every run of `gongzhi demo`.

A demo builder (see `gongzhi.demo`): `check` refuses if the key's prefix is held by a
key the demo did not make; `build` makes the key if it is missing and prints it.

The key is derived from the demo's seed, not drawn at random. Only its digest is
stored, so a random key could be printed once and never again, while the demo prints
what a visitor needs on every run, as it prints its published password. Like that
password the demo key is public: it files cases in the demo community and nothing more.
Revoking it is respected: the demo then says how to make a new one with the command.
"""

import base64
import hashlib

from django.utils.translation import gettext as _

from gongzhi.core.errors import Conflict
from gongzhi.demo.context import DemoContext
from gongzhi.demo.places import community_code
from gongzhi.demo.spec import COMMUNITIES
from gongzhi.places.models import Place

from .models import Open311Key
from .services import KEY_SCHEME, PREFIX_LENGTH, key_digest, open311_key_create

DEMO_COMMUNITY = community_code(next(spec for spec in COMMUNITIES if spec.segment == "HQXC"))
KEY_NAME = "演示客户端（随手拍）"


def demo_key(seed: int) -> str:
    """The demo key for `seed`: 256 bits from the seed, in the form of every key."""
    digest = hashlib.sha256(f"gongzhi-demo-open311:{seed}".encode()).digest()
    return KEY_SCHEME + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check(ctx: DemoContext) -> None:
    """Refuse if another key holds the demo key's prefix."""
    raw = demo_key(ctx.seed)
    holder = Open311Key.objects.filter(prefix=raw[:PREFIX_LENGTH]).first()
    if holder is not None and holder.key_hash != key_digest(raw):
        raise Conflict(
            _("Open311 密钥前缀 %(prefix)s 已被“%(name)s”使用。")
            % {"prefix": holder.prefix, "name": holder.name},
            code="demo_open311_key_conflict",
        )


def build(ctx: DemoContext) -> None:
    """Create the demo community's key if it is missing, and print it."""
    raw = demo_key(ctx.seed)
    key = Open311Key.objects.filter(key_hash=key_digest(raw)).first()
    if key is None:
        community = Place.objects.get(code=DEMO_COMMUNITY)
        key, raw = open311_key_create(
            actor=None, jurisdiction=community, name=KEY_NAME, raw_key=raw
        )
        ctx.count(_("Open311 密钥"), 1)
    if key.is_revoked:
        ctx.say(
            _(
                "演示 Open311 密钥 %(prefix)s 已被吊销；新建一个：gongzhi open311-key create"
                " --jurisdiction %(code)s"
            )
            % {"prefix": key.prefix, "code": DEMO_COMMUNITY}
        )
    else:
        ctx.say(
            _("Open311 接口 /open311/v2/ 演示密钥（jurisdiction_id=%(code)s）：%(key)s")
            % {"code": DEMO_COMMUNITY, "key": raw}
        )
