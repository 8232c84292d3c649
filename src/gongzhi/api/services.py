"""Every write to API tokens: creating, revoking, and noting when one was last used."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.audit import audit_record
from gongzhi.core.errors import InvalidTransition, ValidationFailed

from .models import ApiToken

TOKEN_SCHEME = "gz_"
PREFIX_LENGTH = len(TOKEN_SCHEME) + 8
# Noting every single use would turn each API read into a write; once a minute is enough
# to tell an administrator whether a token is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(raw_token: str) -> str:
    """The stored form of a token. A token carries 256 random bits, so a plain SHA-256
    (no salt, no slow hash) cannot be reversed, and lookups stay one indexed equality."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user` and return it with the token text, which is never stored
    and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("请填写令牌名称。"), code="token_name_required")
    if not user.is_active:
        raise ValidationFailed(_("该用户已停用，不能创建令牌。"), code="user_inactive")
    with transaction.atomic():
        while True:
            raw = TOKEN_SCHEME + secrets.token_urlsafe(32)
            if not ApiToken.objects.filter(prefix=raw[:PREFIX_LENGTH]).exists():
                break
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:PREFIX_LENGTH],
            token_hash=token_digest(raw),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            verb="api_token.create",
            obj=token,
            after={"user": user, "name": name, "prefix": token.prefix},
        )
    return token, raw


def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    """Revoke a token: from now on it authenticates nothing. The row stays as a record."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            raise InvalidTransition(_("该令牌已被吊销。"), code="token_already_revoked")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            verb="api_token.revoke",
            obj=token,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
        )
    return token


def api_token_authenticate(*, raw_token: str, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None for an unknown or revoked token.

    Records when the token was last used (at most once a minute). That is bookkeeping
    like Django's `last_login`, not a change anyone decided, so it leaves no audit event.
    """
    if not raw_token.startswith(TOKEN_SCHEME):
        return None
    token = (
        ApiToken.objects.live()
        .select_related("user")
        .filter(token_hash=token_digest(raw_token))
        .first()
    )
    if token is None:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
