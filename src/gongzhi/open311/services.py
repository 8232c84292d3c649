"""Every write of the Open311 endpoint: keys (create, revoke, note their use) and the
service requests clients POST, which become cases through `cases.services.case_report`.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.accounts.services import user_create
from gongzhi.cases.models import Case, Category, Channel
from gongzhi.cases.services import case_report
from gongzhi.core.audit import audit_record
from gongzhi.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from gongzhi.places.models import Place

from .models import JURISDICTION_KINDS, Open311Key, Open311Request
from .params import MAX_DESCRIPTION, Location
from .public import location_suffix, plain_text
from .selectors import jurisdiction_covers, place_for_location

KEY_SCHEME = "o311_"
PREFIX_LENGTH = len(KEY_SCHEME) + 8
# A key carries 256 random bits (43 URL-safe characters after the scheme).
KEY_LENGTH = len(KEY_SCHEME) + 43
# Noting every use would turn each POST into two writes to one row; once a minute tells
# an administrator well enough whether a key is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_validate_media_url = URLValidator(schemes=["http", "https"])


def key_digest(raw_key: str) -> str:
    """The stored form of a key: a plain SHA-256, enough for 256 random bits, and one
    indexed equality to look up."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def open311_key_create(
    *, actor: Any, jurisdiction: Place, name: str, raw_key: str | None = None
) -> tuple[Open311Key, str]:
    """Create a key for a community or subdistrict and return it with the key text, which
    is never stored and cannot be shown again.

    Keys are random. The demo alone passes `raw_key`, derived from its seed, so that it
    can print its published key again on every run, as it prints its published password.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写密钥名称。"), code="key_name_required")
    if jurisdiction.kind not in JURISDICTION_KINDS or not jurisdiction.is_active:
        raise ValidationFailed(
            _("辖区须为居民区或街道。"), code="invalid_jurisdiction", field="jurisdiction"
        )
    if raw_key is not None and (len(raw_key) != KEY_LENGTH or not raw_key.startswith(KEY_SCHEME)):
        raise ValidationFailed(_("密钥格式不正确。"), code="invalid_key")
    with transaction.atomic():
        raw = raw_key or _new_key()
        if Open311Key.objects.filter(prefix=raw[:PREFIX_LENGTH]).exists():
            raise ValidationFailed(_("该密钥已存在。"), code="key_exists")
        key = Open311Key.objects.create(
            name=name,
            jurisdiction=jurisdiction,
            prefix=raw[:PREFIX_LENGTH],
            key_hash=key_digest(raw),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            verb="open311_key.create",
            obj=key,
            after={"name": name, "jurisdiction": jurisdiction.code, "prefix": key.prefix},
        )
    return key, raw


def _new_key() -> str:
    while True:
        raw = KEY_SCHEME + secrets.token_urlsafe(32)
        if not Open311Key.objects.filter(prefix=raw[:PREFIX_LENGTH]).exists():
            return raw


def open311_key_revoke(*, actor: Any, key: Open311Key) -> Open311Key:
    """Revoke a key: from now on every POST with it is refused (403). The row and the
    requests it filed stay."""
    with transaction.atomic():
        key = Open311Key.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            raise InvalidTransition(_("该密钥已被吊销。"), code="key_already_revoked")
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            verb="open311_key.revoke",
            obj=key,
            before={"revoked_at": None},
            after={"revoked_at": key.revoked_at},
        )
    return key


def open311_key_authenticate(*, raw_key: str, now: datetime | None = None) -> Open311Key | None:
    """The live key `raw_key` is, or None for an unknown or revoked one. Notes when it was
    last used (at most once a minute): bookkeeping, not a decision, so not audited."""
    raw_key = (raw_key or "").strip()
    if not raw_key.startswith(KEY_SCHEME):
        return None
    key = (
        Open311Key.objects.live()
        .select_related("jurisdiction")
        .filter(key_hash=key_digest(raw_key))
        .first()
    )
    if key is None:
        return None
    now = now or timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def open311_request_create(
    *,
    key: Open311Key,
    jurisdiction: Place,
    category: Category,
    location: Location,
    token: str,
    description: str = "",
    answers: dict[str, Any] | None = None,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    media_url: str = "",
) -> Case:
    """File a POSTed service request as a case on the Open311 channel.

    The key must cover the jurisdiction. The location becomes a place
    (`selectors.place_for_location`); what no place held is added to the case text for
    the handlers. The person's name and phone become the case's contact, so handlers can
    call back; email, device and account ids are not kept (rules §5: only what the case
    needs). A POST repeated with the same token returns the case made the first time.
    """
    if not jurisdiction_covers(key.jurisdiction, jurisdiction):
        raise PermissionDenied(
            _("该 api_key 只能向 %(code)s 及其下辖区提交。") % {"code": key.jurisdiction.code},
            code="key_not_for_jurisdiction",
        )
    repeated = Open311Request.objects.filter(key=key, token=token).select_related("case").first()
    if repeated is not None:
        return repeated.case
    description = plain_text(description)
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            _("description 最多 %(n)d 个字符。") % {"n": MAX_DESCRIPTION},
            code="description_too_long",
        )
    media_url = (media_url or "").strip()
    if media_url:
        try:
            _validate_media_url(media_url)
        except ValidationError:
            raise ValidationFailed(
                _("media_url 须为 http 或 https 链接。"), code="invalid_media_url"
            ) from None
    place, location_note = place_for_location(jurisdiction=jurisdiction, location=location)
    # A request without a description is about what its service says.
    text = description or category.name
    if location_note:
        text += location_suffix(location_note)
    with transaction.atomic():
        key = Open311Key.objects.select_for_update().get(pk=key.pk)
        client = key.client or _client_account(key)
        case = case_report(
            actor=client,
            place=place,
            category=category,
            text=text,
            channel=Channel.OPEN311,
            contact_name=contact_name(first_name, last_name),
            contact_phone=_phone(phone),
            answers=answers,
            idempotency_key=token,
            # The key's account lives nowhere: it reports for the key's jurisdiction.
            jurisdiction=key.jurisdiction,
        )
        request, created = Open311Request.objects.get_or_create(
            case=case,
            defaults={
                "key": key,
                "token": token,
                "media_url": media_url,
                "location_note": location_note[:300],
            },
        )
        if created:
            audit_record(
                actor=client,
                verb="open311.request",
                obj=request,
                after={"case": case.number, "key": key.prefix, "media_url": media_url},
            )
    return case


def _client_account(key: Open311Key) -> User:
    """The account a key's reports are filed under: no password, no phone, inactive, so
    no one can sign in as it."""
    client = user_create(
        actor=None,
        username=f"open311-{key.prefix[len(KEY_SCHEME) :]}",
        name=_("Open311：%(name)s") % {"name": key.name},
    )
    client.is_active = False
    client.save(update_fields=["is_active"])
    key.client = client
    key.save(update_fields=["client", "updated_at"])
    audit_record(
        actor=None,
        verb="open311_key.client",
        obj=key,
        after={"client": client, "is_active": False},
    )
    return client


def contact_name(first_name: str, last_name: str) -> str:
    """A Chinese name is family name first, with no space; others as given."""
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def _phone(phone: str) -> str:
    return "".join(ch for ch in (phone or "") if ch not in " ().")
