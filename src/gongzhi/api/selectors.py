"""Reads the API needs that no other app offers: its own tokens, and the lookups that turn
the identifiers a program sends (a username, a place code) into records for the services.
"""

from django.db.models import QuerySet

from gongzhi.accounts.models import User
from gongzhi.places.models import Place

from .models import ApiToken


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they are a record)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def user_named(*, username: str) -> User | None:
    """The active user with this username (how the API names a handler or assignee)."""
    username = (username or "").strip()
    if not username:
        return None
    return User.objects.filter(username=username, is_active=True).first()


def place_for_report(*, code: str) -> Place | None:
    """The active place with this code, for a report. Like the community's public report
    page (一居一码), anyone may report about any place: codes and names of buildings are
    not secret, and `case_report` decides whether the place can take a case."""
    code = (code or "").strip().upper()
    if not code:
        return None
    # Unordered: the code is unique, and every report asks (an ORDER BY is compiled anew
    # each time).
    found = list(
        Place.objects.filter(code=code, is_active=True).select_related("community").order_by()[:1]
    )
    return found[0] if found else None
