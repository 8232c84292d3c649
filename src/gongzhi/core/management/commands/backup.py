"""`gongzhi backup [--out FILE]`: the database and the uploaded files in one archive,
taken while the server runs (see `gongzhi.core.backups`)."""

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and uploaded files into one archive (备份数据库与上传文件)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            type=Path,
            help="archive to write (default: DATA_DIR/backups/gongzhi-<time>.tar.gz)",
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, out: Path | None, database: str, **options):
        if out is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            out = Path(settings.DATA_DIR) / "backups" / f"gongzhi-{stamp}.tar.gz"
        try:
            manifest = backup_create(out=out, using=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"backup written: {out} ({out.stat().st_size:,} bytes)\n"
            f"  {manifest['vendor']}: {len(manifest['tables'])} tables, {rows:,} rows,"
            f" {len(manifest['migrations'])} migrations\n"
            f"  audit chain: {manifest['audit']['length']} events,"
            f" head {manifest['audit']['last_hash'] or '-'}\n"
            f"  uploaded files: {len(manifest['media'])}"
        )
