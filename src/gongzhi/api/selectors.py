"""Reads of the api app's own records: API tokens."""

from django.db.models import QuerySet

from gongzhi.accounts.models import User

from .models import ApiToken


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they are a record)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")
