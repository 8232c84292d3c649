"""Background upkeep of sign-in records (run by the worker's timer, `core.periodic`)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from .models import LoginFailure, OneTimeCode
from .services import gongzhi_int_setting

# Codes are dead after minutes and failures matter only inside the throttling window;
# a day's grace keeps them for anyone looking into last night's sign-in trouble.
KEEP_FOR = timedelta(days=1)


@task()
def prune_sign_in_records() -> int:
    """Delete one-time codes and failed sign-ins nobody needs any more; returns how many.

    Safe to run late, twice or on two workers at once: it only deletes by age.
    """
    now = timezone.now()
    window = timedelta(seconds=gongzhi_int_setting("LOGIN_WINDOW_SECONDS"))
    codes, _ = OneTimeCode.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    failures, _ = LoginFailure.objects.filter(at__lt=now - max(window, KEEP_FOR)).delete()
    return codes + failures
