"""Writing and checking the audit trail. Every service calls `audit_record` inside its
transaction.

The trail is a hash chain: each `AuditEvent` stores the hash of the event before it
(`prev_hash`) and its own `hash`, SHA-256 over a canonical JSON of
`[prev_hash, at, actor_id, verb, object_type, object_id, before, after]`. Changing or
deleting a past event therefore breaks the chain at that event or the one after it, and
`audit_chain_verify` (the `gongzhi audit verify` command) finds the first broken link.

Appends are serialised by locking the single `AuditChainHead` row (SELECT … FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions already let one writer in at a time), so the
chain stays linear however many requests write at once. The lock is held until the
writing transaction commits — services record their audit event as one of their last
writes, which keeps that short.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .bulk import insert_rows
from .models import AuditChainHead, AuditEvent

# The one head row every append locks.
HEAD_PK = 1


def audit_record(
    *,
    actor: Any,
    verb: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event for `obj`; `actor` may be None for the system itself."""
    return _append(_event(actor=actor, verb=verb, obj=obj, before=before, after=after))


def audit_record_many(
    *,
    actor: Any,
    verb: str,
    changes: Iterable[tuple[models.Model, dict[str, Any] | None, dict[str, Any] | None]],
) -> int:
    """Append one audit event per (obj, before, after), inserted in bulk; returns how many.

    For services that write many rows in one go (the roster import): each object still
    gets its own event, found by its type and id like any other, at a constant number of
    queries instead of one per row.
    """
    return _append_many(
        actor=actor,
        verb=verb,
        changes=[
            (obj._meta.label_lower, str(obj.pk), before, after) for obj, before, after in changes
        ],
    )


def audit_record_by_id(
    *,
    actor: Any,
    verb: str,
    model: type[models.Model],
    changes: Iterable[tuple[Any, dict[str, Any] | None, dict[str, Any] | None]],
) -> int:
    """`audit_record_many` for objects of `model` known by their primary key alone:
    (pk, before, after). The events are the same; no model instance is needed (the clock
    checker reads its cases as plain values, thousands a minute)."""
    object_type = model._meta.label_lower
    return _append_many(
        actor=actor,
        verb=verb,
        changes=[(object_type, str(pk), before, after) for pk, before, after in changes],
    )


def event_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor_id: int | None,
    verb: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
) -> str:
    """SHA-256 (hex) of one event's canonical JSON, chained to `prev_hash`.

    The form is fixed for ever — changing it would break every existing chain: a JSON
    array in this order, keys sorted, no spaces, UTF-8 as itself, the time in UTC to the
    millisecond (what Django's JSON serialiser keeps, so a trail dumped and loaded again —
    or restored by the test runner — still verifies), and whole-number floats written as
    integers (PostgreSQL's jsonb gives `1e20` back as an integer, so the hash must not
    depend on which one was stored).
    """
    return _digest(prev_hash, _instant(at), actor_id, verb, object_type, object_id, before, after)


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:23] + "Z"


def _digest(
    prev_hash: str,
    instant: str,
    actor_id: int | None,
    verb: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
) -> str:
    # `event_hash` with the time already written out: an append of many events at one
    # moment writes it once.
    payload = [
        prev_hash,
        instant,
        actor_id,
        verb,
        object_type,
        object_id,
        _canonical(before),
        _canonical(after),
    ]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """What `audit_chain_verify` found: intact with `count` events, or the first break."""

    intact: bool
    count: int
    head_hash: str
    broken_id: int | None = None
    broken_at: datetime | None = None
    reason: str = ""


def audit_chain_verify(*, using: str = "default") -> ChainReport:
    """Recompute the chain from the first event to the head and report the first break.

    Reasons: `changed` (the event's content no longer matches its hash), `link` (its
    `prev_hash` is not the hash of the event before it: an event before it was deleted,
    inserted or rewritten), `unsealed` (written around the chain), `tail` (the head names
    a last event that is gone or differs: the newest events were deleted).
    """
    head = AuditChainHead.objects.using(using).filter(pk=HEAD_PK).first()
    prev = ""
    count = 0
    last_id = 0
    for row in _rows(using):
        pk, at, actor_id, verb, object_type, object_id, before, after, prev_hash, stored = row
        if not stored:
            return ChainReport(False, count, prev, pk, at, "unsealed")
        if prev_hash != prev:
            return ChainReport(False, count, prev, pk, at, "link")
        computed = event_hash(
            prev_hash=prev_hash,
            at=at,
            actor_id=actor_id,
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
        )
        if computed != stored:
            return ChainReport(False, count, prev, pk, at, "changed")
        prev = stored
        count += 1
        last_id = pk
    expected = (head.last_id, head.last_hash, head.length) if head else (0, "", 0)
    if expected != (last_id, prev, count):
        return ChainReport(
            False,
            count,
            prev,
            head.last_id if head else None,
            head.last_at if head else None,
            "tail",
        )
    return ChainReport(True, count, prev)


def audit_chain_seal(
    *,
    using: str = "default",
    event_model: type[models.Model] = AuditEvent,
    head_model: type[models.Model] = AuditChainHead,
) -> int:
    """Chain the events written around `audit_record` at the end of the chain, oldest
    first, and return how many.

    Data migrations of other apps write audit events with historical models, which know
    nothing of the chain; `migrate` calls this when it finishes (`CoreConfig.ready`) so
    their events join it. Only unsealed events *after* the head are sealed: one in the
    middle of the chain stays a break for `audit verify` to report. The core migration
    that introduced the chain passes its historical models.
    """
    with transaction.atomic(using=using):
        head = _locked_head(using, head_model)
        pending = list(
            event_model._default_manager.using(using)
            .filter(pk__gt=head.last_id, hash="")
            .order_by("pk")
            .values_list(
                "pk", "at", "actor_id", "verb", "object_type", "object_id", "before", "after"
            )
        )
        prev = head.last_hash
        for pk, at, actor_id, verb, object_type, object_id, before, after in pending:
            digest = event_hash(
                prev_hash=prev,
                at=at,
                actor_id=actor_id,
                verb=verb,
                object_type=object_type,
                object_id=object_id,
                before=before,
                after=after,
            )
            # The append-only queryset refuses updates; filling in the chain columns of an
            # event not yet chained is the one write it may take.
            models.QuerySet.update(
                event_model._default_manager.using(using).filter(pk=pk),
                prev_hash=prev,
                hash=digest,
            )
            prev = digest
            head.last_id, head.last_hash, head.last_at = pk, digest, at
            head.length += 1
        if pending:
            head.save(using=using)
        return len(pending)


def _event(
    *,
    actor: Any,
    verb: str,
    obj: models.Model,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEvent:
    return AuditEvent(
        at=_to_millisecond(timezone.now()),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=_stored(before),
        after=_stored(after),
    )


def _to_millisecond(at: datetime) -> datetime:
    # as the hash takes it
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _stored(values: dict[str, Any] | None) -> dict[str, Any]:
    # Stored as the database will give it back, so the hash written now is the hash
    # `verify` recomputes later (tuple → list, non-string keys → strings).
    if not values:
        return {}
    return json.loads(json.dumps(_jsonable(values)))


def _append(event: AuditEvent) -> AuditEvent:
    # No savepoint: an append that fails fails the service's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        head = _locked_head("default", AuditChainHead)
        event.prev_hash = head.last_hash
        event.hash = event_hash(
            prev_hash=event.prev_hash,
            at=event.at,
            actor_id=event.actor_id,
            verb=event.verb,
            object_type=event.object_type,
            object_id=event.object_id,
            before=event.before,
            after=event.after,
        )
        event.save()
        head.last_id, head.last_hash, head.last_at = event.pk, event.hash, event.at
        head.length += 1
        head.save(update_fields=["last_id", "last_hash", "last_at", "length"])
    return event


def _append_many(
    *,
    actor: Any,
    verb: str,
    changes: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]],
) -> int:
    """Chain and insert events of one actor, verb and moment: (object_type, object_id,
    before, after) each, as plain rows (`core.bulk.insert_rows`) — the chain is the same
    as one `audit_record` after another."""
    if not changes:
        return 0
    at = _to_millisecond(timezone.now())
    instant = _instant(at)
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    stored = [(kind, pk, _stored(before), _stored(after)) for kind, pk, before, after in changes]
    with transaction.atomic(savepoint=False):
        head = _locked_head("default", AuditChainHead)
        prev = head.last_hash
        rows = []
        for object_type, object_id, before, after in stored:
            digest = _digest(prev, instant, actor_id, verb, object_type, object_id, before, after)
            rows.append((object_type, object_id, before, after, prev, digest))
            prev = digest
        # Ids grow in the order the rows are inserted, which is the chain's order.
        ids = insert_rows(
            AuditEvent,
            ["object_type", "object_id", "before", "after", "prev_hash", "hash"],
            rows,
            shared={"at": at, "actor_id": actor_id, "verb": verb},
        )
        head.last_id, head.last_hash, head.last_at = max(ids), prev, at
        head.length += len(rows)
        head.save(update_fields=["last_id", "last_hash", "last_at", "length"])
    return len(rows)


def _locked_head(using: str, head_model: type[models.Model]) -> Any:
    heads = head_model._default_manager.using(using)
    try:
        # `get`, not `first`: no ORDER BY to build for a lookup by key (every change pays it)
        return heads.select_for_update().get(pk=HEAD_PK)
    except head_model.DoesNotExist:
        # A database emptied by hand (or a test flush) has no head: the chain starts over.
        heads.get_or_create(pk=HEAD_PK)
        return heads.select_for_update().get(pk=HEAD_PK)


def _rows(using: str) -> Iterator[tuple]:
    return (
        AuditEvent.objects.using(using)
        .order_by("pk")
        .values_list(
            "pk",
            "at",
            "actor_id",
            "verb",
            "object_type",
            "object_id",
            "before",
            "after",
            "prev_hash",
            "hash",
        )
        .iterator(chunk_size=2000)
    )


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


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
