"""`gongzhi roster-import COMMUNITY_CODE FILE.xlsx [--dry-run]`: a roster from the command line.

The file name has a dash because the command is typed that way; Django finds commands by
file name and imports them with importlib, which accepts it.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from gongzhi.places.models import Place, PlaceKind
from gongzhi.places.roster import roster_import


class Command(BaseCommand):
    help = _("导入居民区花名册（.xlsx）。有任何一行有误时不导入，并以非零状态退出。")

    def add_arguments(self, parser):
        parser.add_argument("community_code", help=_("居民区编码，如 310105-ZJQ-HQXC"))
        parser.add_argument("file", help=_("花名册 .xlsx 文件"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("只检查并报告，不写入任何数据")
        )

    def handle(self, *args, community_code: str, file: str, dry_run: bool, **options):
        community = Place.objects.filter(
            code=community_code.strip().upper(), kind=PlaceKind.COMMUNITY
        ).first()
        if community is None:
            raise CommandError(_("找不到编码为 %(code)s 的居民区。") % {"code": community_code})
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(
                    total=total, desc=stage, unit=_("行"), file=self.stderr._out, leave=False
                )
            bar.update(done - bar.n)

        try:
            report = roster_import(
                actor=None, community=community, file=file, dry_run=dry_run, progress=progress
            )
        finally:
            for bar in bars.values():
                bar.close()
        for line in report.summary_lines():
            (self.stdout if report.ok else self.stderr).write(line)
        if not report.ok:
            raise CommandError(
                _("花名册有 %(n)d 处问题，未导入。") % {"n": len(report.errors)}, returncode=2
            )
