"""`gongzhi restore FILE`: load a backup into an empty database and check every table,
file and the audit chain against its manifest (see `gongzhi.core.backups`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty database and verify it (恢复备份并核对)."
        " Stop the server first."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--database-url",
            help="restore into this database instead of the configured one (e.g. a new"
            " database to check a backup)",
        )
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument(
            "--media-root", type=Path, help="where the uploaded files go (default: MEDIA_ROOT)"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace whatever the target database and media folder already hold",
        )

    def handle(self, *args, archive, database_url, database, media_root, force, **options):
        try:
            report = backup_restore(
                archive=archive,
                database_url=database_url,
                using=database,
                media_root=media_root,
                force=force,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(report.tables.values())
        self.stdout.write(
            f"restored {archive} (taken {report.manifest['created_at']}):"
            f" {len(report.tables)} tables, {rows:,} rows, {report.media_files} files,"
            f" audit chain {report.audit_events} events, head {report.audit_head or '-'}"
        )
        if not report.ok:
            for problem in report.problems:
                self.stdout.write(f"  MISMATCH {problem}")
            raise CommandError("the restored data differs from the backup", returncode=1)
        self.stdout.write("verified: every table, file and the audit chain match the backup")
