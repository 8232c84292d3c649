"""`gongzhi audit verify`: recompute the audit hash chain and report intact or the first
broken link (exit code 1)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gongzhi.core.audit import audit_chain_verify

REASONS = {
    "changed": "the event's content no longer matches its hash (edited)",
    "link": "it does not follow the event before it (an earlier event was deleted, inserted"
    " or rewritten)",
    "unsealed": "it was written around the chain (no hash)",
    "tail": "the chain head names this event as the last one, and it is missing or differs"
    " (the newest events were deleted)",
}


class Command(BaseCommand):
    help = "Check the audit trail's hash chain (校验审计链)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser("verify", help="recompute the chain and report the first break")
        verify.add_argument("--database", default="default")

    def handle(self, *args, action, database, **options):
        report = audit_chain_verify(using=database)
        if report.intact:
            self.stdout.write(f"intact: {report.count} events, head {report.head_hash or '-'}")
            return
        when = (
            f"{timezone.localtime(report.broken_at):%Y-%m-%d %H:%M:%S %Z}"
            if report.broken_at
            else "-"
        )
        self.stdout.write(
            f"broken at event #{report.broken_id} ({when}): {REASONS[report.reason]};"
            f" {report.count} events before it are intact"
        )
        raise CommandError("audit chain broken", returncode=1)
