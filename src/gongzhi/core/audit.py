"""Writing the audit trail. Every service calls `audit_record` inside its transaction."""

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from .models import AuditEvent


def audit_record(
    *,
    actor: Any,
    verb: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event for `obj`; `actor` may be None for the system itself."""
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
    )


def audit_record_many(
    *,
    actor: Any,
    verb: str,
    changes: Iterable[tuple[models.Model, dict[str, Any] | None, dict[str, Any] | None]],
) -> list[AuditEvent]:
    """Append one audit event per (obj, before, after), inserted in bulk.

    For services that write many rows in one go (the roster import): each object still
    gets its own event, found by its type and id like any other, at a constant number of
    queries instead of one per row.
    """
    at = timezone.now()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=at,
                actor=actor,
                verb=verb,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                before=_jsonable(before or {}),
                after=_jsonable(after or {}),
            )
            for obj, before, after in changes
        ],
        batch_size=1000,
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, models.Model):
            out[key] = value.pk
        elif isinstance(value, str | int | float | bool) or value is None:
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = [v.pk if isinstance(v, models.Model) else str(v) for v in value]
        elif isinstance(value, dict):
            out[key] = _jsonable(value)
        else:
            out[key] = str(value)
    return out
