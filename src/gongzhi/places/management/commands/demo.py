"""`gongzhi demo`: load the demo data set (idempotent) and print how to sign in."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError
from gongzhi.demo import build
from gongzhi.demo.summary import write_summary


class Command(BaseCommand):
    help = _("创建演示数据（文中的十一个居民区、各角色人员、第二片区），重复运行不会改动已有数据。")

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=2026, help=_("随机种子：同一种子总是生成同样的数据。")
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help=_("楼栋和商铺数量的比例（1 为完整规模，测试用 0.02）。"),
        )

    def handle(self, *args, seed: int, scale: float, **options):
        if not 0 < scale <= 1:
            raise CommandError(_("--scale 须在 0 到 1 之间。"))
        started = time.monotonic()
        try:
            ctx = build(self.stdout, seed=seed, scale=scale)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        if ctx.created:
            self.stdout.write(
                _("用时 %(seconds).1f 秒，新建：%(counts)s")
                % {
                    "seconds": time.monotonic() - started,
                    "counts": "，".join(f"{label} {n}" for label, n in ctx.created.items()),
                }
            )
        write_summary(self.stdout)
