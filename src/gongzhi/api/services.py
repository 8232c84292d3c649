"""Every write to API tokens: creating, revoking, and noting when one was last used."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, router, transaction
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
    now = now or timezone.now()
    # Every API request asks this: one plain query (the user row, the token's id and
    # whether its last use is a minute old) instead of a compiled ORM query with the token
    # row, which cost as much as the rest of the authentication.
    connection = connections[router.db_for_read(ApiToken)]
    stale_before = connection.ops.adapt_datetimefield_value(now - LAST_USED_RESOLUTION)
    found = User.objects.raw(
        _LIVE_TOKEN_SQL.get(connection.vendor) or _live_token_sql(connection),
        [stale_before, token_digest(raw_token)],
    ).using(connection.alias)
    user = next(iter(found), None)
    if user is None:
        return None
    extra = vars(user)
    token_id, last_use_stale = extra.pop("token_id"), extra.pop("token_last_use_stale")
    if last_use_stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


# The query text per database vendor, built once.
_LIVE_TOKEN_SQL: dict[str, str] = {}


def _live_token_sql(connection: Any) -> str:
    """`ApiToken.objects.live()` for one token digest (the second parameter), with its
    user's columns, and whether its last use is before the first parameter."""
    quote = connection.ops.quote_name
    user_table, token_table = quote(User._meta.db_table), quote(ApiToken._meta.db_table)

    def column(table: str, name: str | None) -> str:  # a concrete field's column is set
        return f"{table}.{quote(name)}"

    user_columns = ", ".join(column(user_table, f.column) for f in User._meta.concrete_fields)
    last_used = column(token_table, ApiToken._meta.get_field("last_used_at").column)
    sql = (
        f"SELECT {user_columns}, {column(token_table, 'id')} AS token_id,"
        f" ({last_used} IS NULL OR {last_used} <= %s) AS token_last_use_stale"
        f" FROM {token_table} INNER JOIN {user_table}"
        f" ON {column(token_table, ApiToken._meta.get_field('user').column)}"
        f" = {column(user_table, User._meta.pk.column)}"
        f" WHERE {column(token_table, ApiToken._meta.get_field('token_hash').column)} = %s"
        f" AND {column(token_table, ApiToken._meta.get_field('revoked_at').column)} IS NULL"
        f" AND {column(user_table, User._meta.get_field('is_active').column)}"
    )
    _LIVE_TOKEN_SQL[connection.vendor] = sql
    return sql
