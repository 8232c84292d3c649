"""`gongzhi check-clocks`: fire the due clock alarms and close unanswered follow-ups once.

The worker does this every minute; the command is for cron-only installations and for
looking at what a run does.
"""

from django.core.management.base import BaseCommand

from gongzhi.cases.services import cases_close_unanswered, clock_alarms_fire


class Command(BaseCommand):
    help = "Fire due case clock alarms and close unanswered follow-ups, once."

    def handle(self, *args, **options):
        fired = clock_alarms_fire()
        closed = cases_close_unanswered()
        self.stdout.write(
            "warning={warning} overdue={overdue} supervision={supervision} "
            "closed_unanswered={closed}".format(closed=closed, **fired)
        )
