"""Every write of the small-matter loop: reporting, the lifecycle of rules §1, joint
handling, follow-up (§3), the clock alarms (§2) and the categories and policies behind them.

Each transition service:
- runs in one transaction and locks the case row (`select_for_update`; SQLite's
  IMMEDIATE transactions serialise writers the same way);
- reports a case the actor may not see exactly like a missing one (`NotFound`);
- refuses a stale `expected_version` with `Conflict` carrying the current state and
  version, so of two people acting at once one wins and the other is told, never a lost
  update;
- asks the permission predicates of `rules.py`, then the state graph of `states.py`;
- writes a timeline event (`CaseEvent`), an audit event, and tells the reporter (in-app
  outbox rows in the same transaction; texts to phone-only callers after commit).
"""

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import quote

import rules
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext as _
from PIL import Image

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.scopes import holds_role_over
from gongzhi.core.audit import audit_record, audit_record_by_id
from gongzhi.core.bulk import insert_rows
from gongzhi.core.clocks import (
    ClockContext,
    ClockKind,
    TargetUnit,
    clock_elapsed,
    deadline_after,
    target_duration,
)
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.images import MAX_PHOTO_PIXELS, image_clean
from gongzhi.core.notifications import Message, notify, notify_many
from gongzhi.core.sms import sms_send
from gongzhi.core.text import normalise, search_tokens
from gongzhi.core.workdays import clock_context_for
from gongzhi.places.models import Place, PlaceKind

from .models import (
    ALARM_FRACTIONS,
    SELF_SERVICE_CHANNELS,
    WORKER_ENTRY_CHANNELS,
    AlarmLevel,
    Case,
    CaseEvent,
    CaseHandler,
    CaseNumberSequence,
    CasePhoto,
    Category,
    Channel,
    ClockAlarm,
    ClockName,
    DutyRota,
    EventKind,
    FollowUp,
    FollowUpMethod,
    FollowUpOutcome,
    HandlerKind,
    HandlerRole,
    HandlerStatus,
    PhotoKind,
    Policy,
    RateExclusion,
    ReceiptState,
    ReportReceipt,
    Satisfaction,
)
from .policies import GROUP_DEFAULTS, PRESETS
from .questions import clean_answers, clean_questions
from .routing import route
from .rules import (
    ENTRY_ROLES,
    HANDLER_ROLES,
    PATROL_ROLES,
    TASK_ROLES,
    can_handle,
    is_case_staff,
    is_co_handler,
    is_reporter,
)
from .selectors import policy_for, routing_input_for
from .states import OPEN_STATES, CaseAction, CaseState, next_state

logger = logging.getLogger("gongzhi.cases")

MAX_TEXT = 2000
MAX_NOTE = 1000
MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP"})
# rules §3: the follow-up is due within 24 h of completion; after 3 days without an
# answer it is recorded as `no_answer` and the case closes.
FOLLOW_UP_TARGET = timedelta(hours=24)
FOLLOW_UP_NO_ANSWER_AFTER = timedelta(days=3)
# Alarms fired per transaction: a bounded write lock, a constant number of queries each.
# Written as plain rows, a thousand (a whole check) hold SQLite's write lock about as long
# as 200 did through the ORM, and pay for the per-batch queries and commit once.
ALARM_BATCH = 1000
REPORTABLE_KINDS = frozenset(
    {
        PlaceKind.COMMUNITY,
        PlaceKind.ESTATE,
        PlaceKind.BUILDING,
        PlaceKind.ENTRANCE,
        PlaceKind.DWELLING,
        PlaceKind.STREET_SHOP,
        PlaceKind.PUBLIC_AREA,
    }
)


# --- categories and policies ----------------------------------------------------------


def category_save(*, actor: Any, category: Category) -> Category:
    """Create or change a category (the admin saves through here).

    Checks the extra questions (Open311 attribute shape), the keywords and the routing
    rule; a new category gets its group's default policy (rules §2) so it can be reported
    at once. Audited with what changed.
    """
    category.code = (category.code or "").strip()
    category.name = (category.name or "").strip()
    category.questions = clean_questions(category.questions)
    category.keywords = _clean_keywords(category.keywords)
    roles = category.co_handler_roles or []
    if not isinstance(roles, list) or any(r not in HandlerRole.values for r in roles):
        raise ValidationFailed(
            _("协办角色须从以下选择：%(roles)s")
            % {"roles": "、".join(str(label) for label in HandlerRole.labels)},
            code="invalid_co_handler_roles",
        )
    if category.lead_role in roles:
        raise ValidationFailed(_("主办角色不能同时作为协办角色。"), code="invalid_co_handler_roles")
    category.co_handler_roles = list(dict.fromkeys(roles))
    _full_clean(category)
    with transaction.atomic():
        before = _category_snapshot(Category.objects.get(pk=category.pk)) if category.pk else {}
        category.save()
        if not Policy.objects.filter(category=category, community__isnull=True).exists():
            response, completion = GROUP_DEFAULTS[category.group]
            Policy.objects.create(
                category=category,
                response_amount=response.amount,
                response_unit=response.unit,
                response_clock=response.clock,
                completion_amount=completion.amount,
                completion_unit=completion.unit,
                completion_clock=completion.clock,
            )
        audit_record(
            actor=actor,
            verb="category.update" if before else "category.create",
            obj=category,
            before=before,
            after=_category_snapshot(category),
        )
    return category


def policy_save(*, actor: Any, policy: Policy) -> Policy:
    """Create or change a time-limit policy: a category's default (no community) or one
    community's override. Cases already reported keep their deadlines. Audited."""
    for field, units in (("response", TargetUnit.values), ("completion", TargetUnit.values)):
        amount = getattr(policy, f"{field}_amount")
        if amount is None or amount <= 0:
            raise ValidationFailed(_("时限必须大于零。"), code="invalid_policy", field=field)
        if getattr(policy, f"{field}_unit") not in units:
            raise ValidationFailed(_("时限单位无效。"), code="invalid_policy", field=field)
        if getattr(policy, f"{field}_clock") not in ClockKind.values:
            raise ValidationFailed(_("计时方式无效。"), code="invalid_policy", field=field)
    if policy.community is not None and policy.community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed(_("时限只能按居民区单独设置。"), code="invalid_policy")
    clash = Policy.objects.filter(category_id=policy.category_id, community_id=policy.community_id)
    if policy.pk:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        raise ValidationFailed(_("该类别在此范围已有时限规则。"), code="policy_exists")
    with transaction.atomic():
        before = _policy_snapshot(Policy.objects.get(pk=policy.pk)) if policy.pk else {}
        policy.save()
        audit_record(
            actor=actor,
            verb="policy.update" if before else "policy.create",
            obj=policy,
            before=before,
            after=_policy_snapshot(policy),
        )
    return policy


def policy_apply_preset(
    *, actor: Any, category: Category, preset: str, community: Place | None = None
) -> Policy:
    """Switch a category (or one community's override of it) to a preset completion target,
    e.g. Beijing's 接诉即办 tiers: 2 h, 24 h, 7 days, 15 days. The response target stays as
    the policy in force had it."""
    if preset not in PRESETS:
        raise ValidationFailed(
            _("没有这个预设：%(preset)s") % {"preset": preset}, code="unknown_preset"
        )
    target = PRESETS[preset].completion
    current = policy_for(category=category, community=community)
    policy = Policy.objects.filter(
        category=category, community=community if community is not None else None
    ).first()
    if policy is None:
        policy = Policy(
            category=category,
            community=community,
            response_amount=current.response_amount,
            response_unit=current.response_unit,
            response_clock=current.response_clock,
        )
    policy.completion_amount = target.amount
    policy.completion_unit = target.unit
    policy.completion_clock = target.clock
    policy.preset = preset
    return policy_save(actor=actor, policy=policy)


def policy_delete(*, actor: Any, policy: Policy) -> None:
    """Remove one community's override; the category's default then applies there. A
    default policy cannot be removed: every category needs one."""
    if policy.community_id is None:
        raise ValidationFailed(_("默认时限不能删除，只能修改。"), code="policy_default_required")
    with transaction.atomic():
        audit_record(actor=actor, verb="policy.delete", obj=policy, before=_policy_snapshot(policy))
        policy.delete()


def duty_rota_save(*, actor: Any, rota: DutyRota) -> DutyRota:
    """Put a person on a community's duty rota for a weekday (routing's fallback). They
    must hold a case-handling role in that community."""
    if not holds_role_over(rota.user, HANDLER_ROLES, rota.community):
        raise ValidationFailed(_("值班人须在本居民区担任社区职务。"), code="duty_not_staff")
    _full_clean(rota)
    with transaction.atomic():
        rota.save()
        audit_record(
            actor=actor,
            verb="duty_rota.save",
            obj=rota,
            after={"community": rota.community_id, "weekday": rota.weekday, "user": rota.user_id},
        )
    return rota


# --- reporting ------------------------------------------------------------------------


def case_report(**report: Any) -> Case:
    """Report a problem (`case_report_with_outcome`'s case, for callers that do not need to
    tell a first report from a retry)."""
    case, _created = case_report_with_outcome(**report)
    return case


def case_report_with_outcome(
    *,
    actor: User,
    place: Place,
    category: Category,
    text: str,
    channel: str,
    reporter: User | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    is_anonymous: bool = False,
    answers: dict[str, Any] | None = None,
    photos: Sequence[Any] = (),
    idempotency_key: str = "",
    jurisdiction: Place | None = None,
    reported_at: datetime | None = None,
) -> tuple[Case, bool]:
    """Report a problem: numbers the case, sets its deadlines from the category's policy,
    routes it, stores alarms for warnings and supervision, and tells the handlers. Answers
    the case and whether this call created it (False: a retry with the same idempotency
    key, answered with the case the first call created).

    Self-service channels (resident page, API, Open311) report as the signed-in person,
    where `rules.may_report_at` allows: staff anywhere their roles reach, anyone else
    about their own dwelling or shop or a shared place of a community they live in. An
    Open311 client reports as its key's account, anywhere within the key's
    `jurisdiction` (a community or subdistrict) and nowhere else.
    A worker entering a phone call, walk-in, reception-day or visit finding may name the
    resident (`reporter`) or give a contact name and phone for someone without an
    account. A patrol finding is reported by the volunteer or worker who found it; an
    assigned task by the staff member or supervisor. With an `idempotency_key`, a retried
    report (same submitter, channel and key) returns the case created the first time.
    `reported_at` is when the resident reported, for a report filed later from its
    receipt (`report_receipts_file`); now otherwise. The clocks start then.
    """
    scope, idempotency_key = _submission_key(actor, channel, idempotency_key)
    if idempotency_key:
        existing = _case_for_key(scope, channel, idempotency_key)
        if existing is not None:
            return existing, False
    checked = _report_checked(
        actor=actor,
        place=place,
        category=category,
        text=text,
        channel=channel,
        reporter=reporter,
        contact_name=contact_name,
        contact_phone=contact_phone,
        answers=answers,
        jurisdiction=jurisdiction,
    )
    community, text, cleaned_answers = checked.community, checked.text, checked.answers
    reporter, contact_name, contact_phone = (
        checked.reporter,
        checked.contact_name,
        checked.contact_phone,
    )
    files = _checked_photos(photos)
    now = reported_at or timezone.now()
    policy = policy_for(category=category, community=community)
    ctx = clock_context_for(community)
    response_target = _target(policy, "response", ctx)
    completion_target = _target(policy, "completion", ctx)
    response_due = deadline_after(now, response_target, policy.response_clock, ctx)
    completion_due = deadline_after(now, completion_target, policy.completion_clock, ctx)
    decision = route(routing_input_for(category=category, place=place, at=now))
    try:
        with transaction.atomic():
            case = Case.objects.create(
                number=_allocate_number(community, now),
                channel=channel,
                community=community,
                place=place,
                category=category,
                text=text,
                text_normalised=normalise(text),
                text_tokens=" ".join(sorted(set(search_tokens(text)))),
                answers=cleaned_answers,
                reporter=reporter,
                entered_by=actor,
                contact_name=contact_name,
                contact_phone=contact_phone,
                is_anonymous=is_anonymous,
                state=CaseState.REPORTED,
                lead_id=decision.lead.user_id if decision.lead else None,
                reported_at=now,
                response_clock=policy.response_clock,
                response_target=response_target,
                response_due_at=response_due.due_at,
                response_due_estimated=response_due.estimated,
                completion_clock=policy.completion_clock,
                completion_target=completion_target,
                completion_due_at=completion_due.due_at,
                completion_due_estimated=completion_due.estimated,
                next_due_at=response_due.due_at,
                idempotency_scope=scope if idempotency_key else "",
                idempotency_key=idempotency_key,
            )
            # The handlers, the clocks' alarms and the first two events are written as
            # plain rows (`insert_rows`), one INSERT each: `bulk_create` built and prepared
            # a model instance per row, and a report pays for it inside its transaction.
            handlers = [(c.user_id, HandlerKind.CO_HANDLER, c.role) for c in decision.co_handlers]
            if decision.lead:
                handlers.insert(0, (decision.lead.user_id, HandlerKind.LEAD, decision.lead.role))
            co_handler_task = _("协助办理：%(category)s") % {"category": category.name}
            insert_rows(
                CaseHandler,
                ["user_id", "kind", "party_role", "task"],
                [
                    (user_id, kind, role, co_handler_task if kind == HandlerKind.CO_HANDLER else "")
                    for user_id, kind, role in handlers
                ],
                shared={"case_id": case.pk},
            )
            _save_photos(case, files, kind=PhotoKind.REPORT, actor=actor)
            _arm(case, clock_names=(ClockName.RESPONSE, ClockName.COMPLETION), start=now, ctx=ctx)
            # `reported` first, as the timeline's order is (at, pk)
            insert_rows(
                CaseEvent,
                ["actor_id", "kind", "to_state", "note", "is_public", "data"],
                [
                    (
                        actor.pk,
                        EventKind.REPORTED,
                        CaseState.REPORTED,
                        _("通过“%(channel)s”上报，类别“%(category)s”。")
                        % {"channel": Channel(channel).label, "category": category.name},
                        True,
                        {
                            "response_due_at": response_due.due_at.isoformat(),
                            "completion_due_at": completion_due.due_at.isoformat(),
                        },
                    ),
                    (
                        None,
                        EventKind.ROUTED,
                        "",
                        str(decision.reason),
                        False,
                        {
                            "lead": decision.lead.user_id if decision.lead else None,
                            "co_handlers": [c.user_id for c in decision.co_handlers],
                            "fallback": decision.used_fallback,
                        },
                    ),
                ],
                shared={"case_id": case.pk, "at": now, "from_state": ""},
            )
            _tell_handlers(case, [user_id for user_id, _kind, _role in handlers], actor=actor)
            _tell_reporters(
                case,
                actor=actor,
                verb="case.reported",
                message=_("已受理，将于 %(due)s 前响应。") % {"due": _local(response_due.due_at)},
                # nothing can have been merged into a case this transaction creates
                only_primary=True,
            )
            # Last: the audit chain's head stays locked until the commit, and every change
            # anywhere waits for it.
            audit_record(actor=actor, verb="case.report", obj=case, after=_snapshot(case))
    except IntegrityError:
        # A retry of the same report racing the first one: the unique key let one in.
        if idempotency_key:
            existing = _case_for_key(scope, channel, idempotency_key)
            if existing is not None:
                return existing, False
        raise
    return case, True


def _submission_key(actor: User, channel: str, idempotency_key: str) -> tuple[str, str]:
    """Who submits through which channel, checked; the idempotency scope (per submitter)
    and the cleaned key. A retry is the same submitter, channel and key."""
    _require_user(actor)
    if channel not in Channel.values:
        raise ValidationFailed(_("上报渠道无效。"), code="invalid_channel")
    return f"u{actor.pk}", (idempotency_key or "").strip()[:100]


class CheckedReport(NamedTuple):
    """A report as it will be stored: who reports, the cleaned text and answers."""

    community: Place
    reporter: User | None
    contact_name: str
    contact_phone: str
    text: str
    answers: dict[str, Any]


def _report_checked(
    *,
    actor: User,
    place: Place,
    category: Category,
    text: str,
    channel: str,
    reporter: User | None,
    contact_name: str,
    contact_phone: str,
    answers: dict[str, Any] | None,
    jurisdiction: Place | None,
) -> CheckedReport:
    """Everything a report is checked for before it is stored, for a case reported now and
    for a receipt accepted now and filed later (the same errors, in the same order)."""
    community = place.community
    if place.kind not in REPORTABLE_KINDS or not place.is_active or community is None:
        raise ValidationFailed(_("请选择居民区内的具体地点。"), code="invalid_place")
    reporter, contact_name, contact_phone = _check_reporter(
        actor=actor,
        place=place,
        channel=channel,
        reporter=reporter,
        contact_name=contact_name,
        contact_phone=contact_phone,
        jurisdiction=jurisdiction,
    )
    if not category.is_active:
        raise ValidationFailed(_("该类别已停用。"), code="category_inactive")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("请描述遇到的问题。"), code="text_required", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(
            _("问题描述最多 %(n)d 个字。") % {"n": MAX_TEXT}, code="text_too_long", field="text"
        )
    return CheckedReport(
        community=community,
        reporter=reporter,
        contact_name=contact_name,
        contact_phone=contact_phone,
        text=text,
        answers=clean_answers(category.questions, answers),
    )


# --- receipts: a report accepted now, filed as a case by the worker ----------------------


def report_accept(
    *,
    actor: User,
    place: Place,
    category: Category,
    text: str,
    channel: str,
    contact_name: str = "",
    contact_phone: str = "",
    is_anonymous: bool = False,
    answers: dict[str, Any] | None = None,
    idempotency_key: str = "",
) -> tuple[ReportReceipt, bool]:
    """Accept a report for filing (受理) and answer its receipt at once; the worker files it
    as a case within moments (`report_receipts_file`). Checked exactly as
    `case_report_with_outcome` checks a report, so what it refuses is refused here, with
    the same error; the one row it writes is the receipt. Answers the receipt and whether
    this call created it (False: a retry with the same idempotency key)."""
    scope, idempotency_key = _submission_key(actor, channel, idempotency_key)
    # A retry is told by the unique key refusing its INSERT, not by a lookup first: nearly
    # every request is a new report, and this one row is all it should cost.
    try:
        checked = _report_checked(
            actor=actor,
            place=place,
            category=category,
            text=text,
            channel=channel,
            reporter=None,
            contact_name=contact_name,
            contact_phone=contact_phone,
            answers=answers,
            jurisdiction=None,
        )
    except (ValidationFailed, PermissionDenied):
        # What was accepted once is answered on a retry, even if it would not be now.
        existing = _receipt_for_key(scope, channel, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    try:
        # atomic: inside a caller's transaction, a refused INSERT must not spoil it
        with transaction.atomic():
            receipt = ReportReceipt.objects.create(
                token=uuid.uuid4().hex,
                submitted_by=actor,
                channel=channel,
                place=place,
                category=category,
                text=checked.text,
                answers=checked.answers,
                contact_name=checked.contact_name,
                contact_phone=checked.contact_phone,
                is_anonymous=is_anonymous,
                idempotency_scope=scope if idempotency_key else "",
                idempotency_key=idempotency_key,
                accepted_at=timezone.now(),
            )
    except IntegrityError:
        # A retry racing the first request: the unique key let one in.
        existing = _receipt_for_key(scope, channel, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    return receipt, True


def report_receipts_file(*, limit: int = 100) -> dict[str, int]:
    """File waiting receipts as cases, oldest first, up to `limit`; answers how many were
    filed and how many refused. Each receipt is claimed and filed in one transaction, so
    two workers at once, or a worker killed midway, file each receipt exactly once."""
    waiting = list(
        ReportReceipt.objects.filter(state=ReceiptState.ACCEPTED)
        .order_by("accepted_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    outcome = {"filed": 0, "refused": 0}
    for receipt_id in waiting:
        try:
            state = _receipt_file(receipt_id)
        except Exception:
            # A fault, not a refusal (the database gone, a bug): the receipt stays waiting
            # and is tried again on the next run; the others are not held up behind it.
            logger.exception("receipt %s could not be filed", receipt_id)
            continue
        if state is not None:
            outcome[state] += 1
    return outcome


def _receipt_file(receipt_id: int) -> str | None:
    """File one receipt; answers "filed", "refused", or None when another worker had it."""
    try:
        with transaction.atomic():
            # The claim comes first: it takes the row's lock (SQLite's write lock), so a
            # second worker waits here and then finds the receipt no longer waiting.
            claimed = ReportReceipt.objects.filter(
                pk=receipt_id, state=ReceiptState.ACCEPTED
            ).update(state=ReceiptState.FILED, filed_at=timezone.now())
            if not claimed:
                return None
            receipt = ReportReceipt.objects.select_related(
                "submitted_by", "place__community", "category"
            ).get(pk=receipt_id)
            case, _created = case_report_with_outcome(
                actor=receipt.submitted_by,
                place=receipt.place,
                category=receipt.category,
                text=receipt.text,
                channel=receipt.channel,
                contact_name=receipt.contact_name,
                contact_phone=receipt.contact_phone,
                is_anonymous=receipt.is_anonymous,
                answers=receipt.answers,
                # The receipt's key: a report the client also sent without waiting for
                # a receipt becomes one case, not two.
                idempotency_key=receipt.idempotency_key,
                reported_at=receipt.accepted_at,
            )
            ReportReceipt.objects.filter(pk=receipt_id).update(case=case)
    except (ValidationFailed, PermissionDenied) as refusal:
        # Something changed since the report was accepted (the category switched off, the
        # reporter moved out): the receipt says why, and keeps what was sent.
        ReportReceipt.objects.filter(pk=receipt_id, state=ReceiptState.ACCEPTED).update(
            state=ReceiptState.REFUSED,
            filed_at=timezone.now(),
            refusal_code=refusal.code[:40],
            refusal_message=str(refusal.message)[:300],
        )
        return "refused"
    return "filed"


def _receipt_for_key(scope: str, channel: str, key: str) -> ReportReceipt | None:
    return ReportReceipt.objects.filter(
        idempotency_scope=scope, channel=channel, idempotency_key=key
    ).first()


# --- the lifecycle ----------------------------------------------------------------------


def case_respond(
    *, actor: User, case: Case, note: str = "", expected_version: int | None = None
) -> Case:
    """A named person takes the case and tells the resident (响应). Whoever responds
    becomes its lead: the first to accept it is responsible for it (首接负责)."""
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.respond", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.RESPOND)
        if c.lead_id != actor.pk:
            _make_lead(c, actor, now=now)
        c.responded_at = now
        c.next_due_at = c.completion_due_at
        _cancel_alarms(c, clock_name=ClockName.RESPONSE, at=now)
        text = _("%(name)s 已接单，负责办理。") % {"name": actor.display_name}
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.RESPONDED,
            from_state=from_state,
            to_state=c.state,
            note=_join(text, note),
            public=True,
        )
        _finish(c, actor=actor, verb="case.respond", before=before)
        _tell_reporters(c, actor=actor, verb="case.responded", message=_join(text, note))
    return c


def case_start(
    *, actor: User, case: Case, note: str = "", expected_version: int | None = None
) -> Case:
    """The lead starts the work (处理中)."""
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.start", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.START)
        c.started_at = c.started_at or now
        CaseHandler.objects.filter(case=c, kind=HandlerKind.LEAD, is_active=True).update(
            status=HandlerStatus.IN_PROGRESS, started_at=now
        )
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.STARTED,
            from_state=from_state,
            to_state=c.state,
            note=_join(_("开始办理。"), note),
            public=True,
        )
        _finish(c, actor=actor, verb="case.start", before=before)
        _tell_reporters(c, actor=actor, verb="case.started", message=_("正在办理。"))
    return c


def case_pause(
    *, actor: User, case: Case, reason: str, expected_version: int | None = None
) -> Case:
    """Pause the completion clock while waiting for the resident or a third party (挂起).
    The response clock is not affected; the paused time is credited back on resume."""
    reason = _required_text(reason, field="reason", message=_("请填写挂起原因。"), limit=200)
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.pause", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.PAUSE)
        c.paused_from = from_state
        c.paused_at = now
        c.pause_reason = reason
        c.next_due_at = None
        # Alarms already due stay due (a late checker still fires them); later ones wait.
        ClockAlarm.objects.filter(
            case=c,
            clock=ClockName.COMPLETION,
            round=c.reopen_count,
            fired_at__isnull=True,
            cancelled_at__isnull=True,
            suspended_at__isnull=True,
            due_at__gt=now,
        ).update(suspended_at=now)
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.PAUSED,
            from_state=from_state,
            to_state=c.state,
            note=_("挂起：%(reason)s") % {"reason": reason},
            public=True,
        )
        _finish(c, actor=actor, verb="case.pause", before=before)
        _tell_reporters(
            c,
            actor=actor,
            verb="case.paused",
            message=_("暂时挂起：%(reason)s") % {"reason": reason},
        )
    return c


def case_resume(
    *, actor: User, case: Case, note: str = "", expected_version: int | None = None
) -> Case:
    """Resume a paused case where it was. The completion deadline and its waiting alarms
    move on by the clock time the case was paused, which is added to `paused_total`."""
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.resume", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.RESUME, paused_from=c.paused_from)
        paused_at = c.paused_at
        assert paused_at is not None  # a paused case always has its pause time
        ctx = clock_context_for(c.community)
        credited, estimated = clock_elapsed(paused_at, now, c.completion_clock, ctx)
        if credited > timedelta(0):
            if c.completion_due_at > paused_at:
                shifted = deadline_after(c.completion_due_at, credited, c.completion_clock, ctx)
                c.completion_due_at = shifted.due_at
                c.completion_due_estimated = c.completion_due_estimated or shifted.estimated
            for alarm in ClockAlarm.objects.filter(case=c, suspended_at__isnull=False):
                alarm.due_at = deadline_after(
                    alarm.due_at, credited, c.completion_clock, ctx
                ).due_at
                alarm.suspended_at = None
                alarm.save(update_fields=["due_at", "suspended_at"])
        else:
            ClockAlarm.objects.filter(case=c, suspended_at__isnull=False).update(suspended_at=None)
        c.paused_total += credited
        c.paused_from = ""
        c.paused_at = None
        c.pause_reason = ""
        c.next_due_at = c.completion_due_at
        text = _("恢复办理，挂起的 %(paused)s 已补回，办结截止 %(due)s。") % {
            "paused": _duration(credited),
            "due": _local(c.completion_due_at),
        }
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.RESUMED,
            from_state=from_state,
            to_state=c.state,
            note=_join(text, note),
            public=True,
            data={"credited_seconds": int(credited.total_seconds()), "estimated": estimated},
        )
        _finish(c, actor=actor, verb="case.resume", before=before)
        _tell_reporters(c, actor=actor, verb="case.resumed", message=text)
    return c


def case_complete(
    *,
    actor: User,
    case: Case,
    note: str,
    photos: Sequence[Any] = (),
    expected_version: int | None = None,
) -> Case:
    """The lead completes the case (办结) with a note and, where the category asks, a
    photo. Co-handlers' parts need not be done: the case completes when the lead says so.
    The follow-up is then due within 24 hours."""
    note = _required_text(note, field="note", message=_("请填写办结说明。"), limit=MAX_NOTE)
    files = _checked_photos(photos)
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.complete", expected_version=expected_version)
        if c.category.requires_photo and not files:
            raise ValidationFailed(
                _("“%(category)s”办结时须上传现场照片。") % {"category": c.category.name},
                code="photo_required",
                field="photos",
            )
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.COMPLETE)
        c.completed_at = now
        c.completed_by = actor
        c.completion_note = note
        c.next_due_at = now + FOLLOW_UP_TARGET
        _cancel_alarms(c, at=now)
        CaseHandler.objects.filter(case=c, kind=HandlerKind.LEAD, is_active=True).update(
            status=HandlerStatus.DONE, done_at=now
        )
        _save_photos(c, files, kind=PhotoKind.COMPLETION, actor=actor)
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.COMPLETED,
            from_state=from_state,
            to_state=c.state,
            note=note,
            public=True,
            data={"photos": len(files)},
        )
        _finish(c, actor=actor, verb="case.complete", before=before)
        _tell_reporters(
            c,
            actor=actor,
            verb="case.completed",
            message=_("已办结：%(note)s 请告诉我们问题是否解决、是否满意。") % {"note": note},
        )
    return c


def case_follow_up(
    *,
    actor: User,
    case: Case,
    resolved: bool,
    satisfaction: str,
    method: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Record the follow-up of a completion (办结回访): first whether the problem is
    resolved in the resident's words, then satisfied / basically satisfied / unsatisfied.

    Recorded by the resident online, or by someone other than the handler on the phone or
    at a visit. Resolved and (basically) satisfied: followed up, then closed. Not resolved
    or unsatisfied: reopened (back to in progress, with a new completion deadline).
    """
    if not isinstance(resolved, bool):
        raise ValidationFailed(_("请选择问题是否已解决。"), code="resolved_required")
    if satisfaction not in Satisfaction.values:
        raise ValidationFailed(_("请选择满意度。"), code="satisfaction_required")
    note = (note or "").strip()[:MAX_NOTE]
    with transaction.atomic():
        c = _begin(
            actor=actor, case=case, perm="cases.follow_up", expected_version=expected_version
        )
        method = _follow_up_method(actor, c, method)
        before, now = _snapshot(c), timezone.now()
        # Refuse before writing anything if the case is not waiting for a follow-up.
        next_state(c.state, CaseAction.FOLLOW_UP)
        follow_up = FollowUp.objects.create(
            case=c,
            community_id=c.community_id,
            recorded_at=now,
            recorded_by=actor,
            method=method,
            outcome=FollowUpOutcome.ANSWERED,
            resolved=resolved,
            satisfaction=satisfaction,
            note=note,
            round=c.reopen_count,
        )
        summary = _("%(method)s：%(resolved)s，%(satisfaction)s。") % {
            "method": FollowUpMethod(method).label,
            "resolved": _("已解决") if resolved else _("未解决"),
            "satisfaction": Satisfaction(satisfaction).label,
        }
        if follow_up.is_positive:
            from_state = c.state
            c.state = next_state(c.state, CaseAction.FOLLOW_UP)
            c.followed_up_at = now
            _event(
                c,
                actor=actor,
                at=now,
                kind=EventKind.FOLLOWED_UP,
                from_state=from_state,
                to_state=c.state,
                note=_join(summary, note),
                public=True,
                data={"follow_up": follow_up.pk},
            )
            _close(c, actor=actor, at=now, note="")
            message = _("回访已记录，诉求已关闭。谢谢您的评价。")
        else:
            _event(
                c,
                actor=actor,
                at=now,
                kind=EventKind.FOLLOWED_UP,
                note=_join(summary, note),
                public=True,
                data={"follow_up": follow_up.pk},
            )
            _reopen(
                c, actor=actor, at=now, reason=_("回访结果为%(s)s，重新办理。") % {"s": summary}
            )
            message = _("回访结果为%(s)s诉求已重新办理。") % {"s": summary}
        _finish(c, actor=actor, verb="case.follow_up", before=before)
        _tell_reporters(c, actor=actor, verb="case.followed_up", message=message)
        if not follow_up.is_positive:
            _tell_handlers(c, _active_handler_ids(c), actor=actor, reopened=True)
    return c


def case_close(
    *, actor: User, case: Case, note: str = "", expected_version: int | None = None
) -> Case:
    """Close a followed-up case. `case_follow_up` closes at once after a positive answer;
    this is the same step for a case left followed up."""
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.close", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        _close(c, actor=actor, at=now, note=(note or "").strip()[:MAX_NOTE])
        _finish(c, actor=actor, verb="case.close", before=before)
        _tell_reporters(c, actor=actor, verb="case.closed", message=_("诉求已关闭。"))
    return c


def case_reopen(
    *, actor: User, case: Case, reason: str, expected_version: int | None = None
) -> Case:
    """A resident's complaint (or a worker recording one) sends a completed, followed-up
    or closed case back to in progress, with a new completion deadline; counted."""
    reason = _required_text(
        reason, field="reason", message=_("请说明重新办理的原因。"), limit=MAX_NOTE
    )
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.reopen", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        _reopen(c, actor=actor, at=now, reason=_("投诉：%(reason)s") % {"reason": reason})
        _finish(c, actor=actor, verb="case.reopen", before=before)
        _tell_reporters(
            c, actor=actor, verb="case.reopened", message=_("诉求已重新办理：%(r)s") % {"r": reason}
        )
        _tell_handlers(c, _active_handler_ids(c), actor=actor, reopened=True)
    return c


def case_merge(
    *,
    actor: User,
    case: Case,
    into: Case,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Merge a duplicate into another open case of the same community. The duplicate's
    reporter follows the other case from then on; both reporters are told. Cases merged
    earlier into the duplicate move along, so there is never a chain."""
    if case.pk == into.pk:
        raise ValidationFailed(_("不能与自身合并。"), code="merge_into_self")
    with transaction.atomic():
        # Lock both rows in id order, so two merges of the same pair cannot deadlock.
        first, second = sorted([case.pk, into.pk])
        locked = {first: _load_for_update(first), second: _load_for_update(second)}
        c = _check(actor=actor, case=locked[case.pk], perm="cases.merge", expected=expected_version)
        target = locked[into.pk]
        if not rules.has_perm("cases.view", actor, target):
            raise NotFound()
        if target.state not in OPEN_STATES:
            raise ValidationFailed(
                _("只能并入仍在办理中的诉求（%(number)s 当前为“%(state)s”）。")
                % {"number": target.number, "state": target.get_state_display()},
                code="merge_target_closed",
            )
        if target.community_id != c.community_id:
            raise ValidationFailed(_("只能合并同一居民区的诉求。"), code="merge_other_community")
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.MERGE)
        _leave_pause(c, now=now)
        c.merged_into = target
        c.merged_at = now
        c.next_due_at = None
        _cancel_alarms(c, at=now)
        Case.objects.filter(merged_into=c).update(merged_into=target)
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.MERGED,
            from_state=from_state,
            to_state=c.state,
            note=_join(
                _("与诉求 %(number)s 为同一问题，已合并，进展请看该诉求。")
                % {"number": target.number},
                note,
            ),
            public=True,
            data={"into": target.number},
        )
        _event(
            target,
            actor=actor,
            at=now,
            kind=EventKind.MERGED_IN,
            note=_("诉求 %(number)s 反映的是同一问题，已并入本诉求。") % {"number": c.number},
            public=True,
            data={"merged": c.number},
        )
        _finish(c, actor=actor, verb="case.merge", before=before)
        target_before = _snapshot(target)
        _finish(target, actor=actor, verb="case.merge_in", before=target_before)
        _tell_reporters(
            c,
            actor=actor,
            verb="case.merged",
            message=_("与诉求 %(number)s 为同一问题，已合并，您将继续收到办理进展。")
            % {"number": target.number},
        )
        _tell_reporters(
            target,
            actor=actor,
            verb="case.merged_in",
            message=_("其他居民也反映了同一问题，已合并办理。"),
            only_primary=True,
        )
    return c


def case_decline(
    *,
    actor: User,
    case: Case,
    reason: str,
    referral: str = "",
    expected_version: int | None = None,
) -> Case:
    """Decline a case outside the community's remit (不予受理), with the reason and where
    the resident was referred (e.g. 12345). Telling the resident counts as the response."""
    reason = _required_text(reason, field="reason", message=_("请填写不予受理的原因。"), limit=200)
    referral = (referral or "").strip()[:100]
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.decline", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.DECLINE)
        c.declined_at = now
        c.responded_at = c.responded_at or now
        c.decline_reason = reason
        c.referral = referral
        c.next_due_at = None
        _cancel_alarms(c, at=now)
        text = _("不予受理：%(reason)s") % {"reason": reason}
        if referral:
            text += _("；已转介：%(referral)s") % {"referral": referral}
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.DECLINED,
            from_state=from_state,
            to_state=c.state,
            note=text,
            public=True,
            data={"referral": referral},
        )
        _finish(c, actor=actor, verb="case.decline", before=before)
        _tell_reporters(c, actor=actor, verb="case.declined", message=text)
    return c


def case_to_topic(
    *,
    actor: User,
    case: Case,
    note: str,
    topic_ref: str = "",
    expected_version: int | None = None,
) -> Case:
    """Turn a case too big for one party into a consultation topic (转议题). It stays
    linked (`topic_ref`, now or later through `case_link_topic`) and is closed by
    `cases_close_for_topic` when the topic's plan is done. Its clocks stop here: for a
    consultation category, opening the topic is what the completion target asks."""
    note = _required_text(note, field="note", message=_("请说明转议题的理由。"), limit=200)
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.to_topic", expected_version=expected_version)
        before, now = _snapshot(c), timezone.now()
        from_state = c.state
        c.state = next_state(c.state, CaseAction.TO_TOPIC)
        _leave_pause(c, now=now)
        c.topic_at = now
        c.topic_note = note
        c.topic_ref = (topic_ref or "").strip()[:64]
        c.responded_at = c.responded_at or now
        c.next_due_at = None
        _cancel_alarms(c, at=now)
        text = _("转为议题，由各方共同商议：%(note)s") % {"note": note}
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.TO_TOPIC,
            from_state=from_state,
            to_state=c.state,
            note=text,
            public=True,
            data={"topic_ref": c.topic_ref},
        )
        _finish(c, actor=actor, verb="case.to_topic", before=before)
        _tell_reporters(c, actor=actor, verb="case.to_topic", message=text)
    return c


def case_link_topic(
    *, actor: User, case: Case, topic_ref: str, expected_version: int | None = None
) -> Case:
    """Link a case already turned into a topic to the topic it became or joined."""
    topic_ref = _required_text(topic_ref, field="topic_ref", message=_("请指定议题。"), limit=64)
    with transaction.atomic():
        c = _begin(
            actor=actor, case=case, perm="cases.link_topic", expected_version=expected_version
        )
        if c.state != CaseState.TO_TOPIC:
            raise ValidationFailed(_("只有已转议题的诉求才能关联议题。"), code="not_to_topic")
        before, now = _snapshot(c), timezone.now()
        c.topic_ref = topic_ref
        _event(c, actor=actor, at=now, kind=EventKind.TOPIC_LINKED, data={"topic_ref": topic_ref})
        _finish(c, actor=actor, verb="case.link_topic", before=before)
    return c


def cases_close_for_topic(*, actor: User | None, topic_ref: str, note: str = "") -> list[Case]:
    """Close every case turned into the topic `topic_ref` once its plan is done, telling
    each reporter. Called by the deliberation app, which decides that the plan is done
    and who may say so; returns the cases closed."""
    topic_ref = (topic_ref or "").strip()
    if not topic_ref:
        raise ValidationFailed(_("请指定议题。"), code="topic_ref_required")
    closed: list[Case] = []
    with transaction.atomic():
        ids = list(
            Case.objects.filter(topic_ref=topic_ref, state=CaseState.TO_TOPIC)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for pk in ids:
            c = _load_for_update(pk)
            if c.state != CaseState.TO_TOPIC:
                continue
            before, now = _snapshot(c), timezone.now()
            from_state = c.state
            c.state = next_state(c.state, CaseAction.CLOSE_FOR_TOPIC)
            c.closed_at = now
            text = _join(_("议题方案已落实，诉求关闭。"), note)
            _event(
                c,
                actor=actor,
                at=now,
                kind=EventKind.CLOSED,
                from_state=from_state,
                to_state=c.state,
                note=text,
                public=True,
                data={"topic_ref": topic_ref},
            )
            _finish(c, actor=actor, verb="case.close_for_topic", before=before)
            _tell_reporters(c, actor=actor, verb="case.closed", message=text)
            closed.append(c)
    return closed


# --- who handles it -----------------------------------------------------------------------


def case_assign(
    *, actor: User, case: Case, to: User, note: str = "", expected_version: int | None = None
) -> Case:
    """Give a case its lead. An unassigned case may be dispatched by case staff or a
    supervisor; a case someone already leads stays theirs until they hand it over
    (`case_transfer`) — only a community lead or supervisor may reassign it directly."""
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.assign", expected_version=expected_version)
        _require_open(c)
        if c.lead_id and not rules.has_perm("cases.reassign", actor, c):
            raise PermissionDenied(
                _("该诉求由 %(name)s 首接负责，请由其移交，或由书记、街道改派。")
                % {"name": c.lead.display_name if c.lead else ""},
                code="first_receiver_responsible",
            )
        _require_eligible(to, c)
        if c.lead_id == to.pk:
            raise ValidationFailed(_("该诉求已由此人主办。"), code="already_lead")
        before, now = _snapshot(c), timezone.now()
        previous = c.lead_id
        _make_lead(c, to, now=now)
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.ASSIGNED,
            note=_join(_("指派 %(name)s 主办。") % {"name": to.display_name}, note),
            data={"from": previous, "to": to.pk},
        )
        _finish(c, actor=actor, verb="case.assign", before=before)
        _tell_handlers(c, [to.pk], actor=actor)
        if previous and previous != actor.pk:
            notify(
                recipients=User.objects.filter(pk=previous),
                verb="case.reassigned",
                title=_("诉求 %(number)s 已改派给 %(name)s")
                % {"number": c.number, "name": to.display_name},
                link=_link(c),
                obj=c,
            )
    return c


def case_transfer(
    *, actor: User, case: Case, to: User, reason: str, expected_version: int | None = None
) -> Case:
    """Ask someone else to take over the case (移交). The lead stays responsible until the
    other person accepts (首接负责)."""
    reason = _required_text(reason, field="reason", message=_("请说明移交原因。"), limit=200)
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.transfer", expected_version=expected_version)
        _require_open(c)
        _require_eligible(to, c)
        if c.lead_id == to.pk:
            raise ValidationFailed(_("该诉求已由此人主办。"), code="already_lead")
        before, now = _snapshot(c), timezone.now()
        c.transfer_to = to
        c.transfer_reason = reason
        c.transfer_requested_at = now
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.TRANSFER_REQUESTED,
            note=_("申请移交给 %(name)s：%(reason)s") % {"name": to.display_name, "reason": reason},
            data={"to": to.pk},
        )
        _finish(c, actor=actor, verb="case.transfer", before=before)
        notify(
            recipients=[to],
            verb="case.transfer_requested",
            title=_("请接收诉求 %(number)s") % {"number": c.number},
            body=reason,
            link=_link(c),
            obj=c,
        )
    return c


def case_transfer_accept(*, actor: User, case: Case, expected_version: int | None = None) -> Case:
    """The person asked accepts the case and becomes its lead."""
    with transaction.atomic():
        c = _begin(
            actor=actor, case=case, perm="cases.accept_transfer", expected_version=expected_version
        )
        _require_open(c)
        before, now = _snapshot(c), timezone.now()
        previous = c.lead_id
        _make_lead(c, actor, now=now)
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.TRANSFER_ACCEPTED,
            note=_("%(name)s 已接收，改由其主办。") % {"name": actor.display_name},
            data={"from": previous, "to": actor.pk},
        )
        _finish(c, actor=actor, verb="case.transfer_accept", before=before)
        if previous:
            notify(
                recipients=User.objects.filter(pk=previous),
                verb="case.transfer_accepted",
                title=_("诉求 %(number)s 已由 %(name)s 接收")
                % {"number": c.number, "name": actor.display_name},
                link=_link(c),
                obj=c,
            )
    return c


def case_transfer_refuse(
    *, actor: User, case: Case, reason: str, expected_version: int | None = None
) -> Case:
    """The person asked declines to take the case; the lead stays responsible."""
    reason = _required_text(reason, field="reason", message=_("请说明原因。"), limit=200)
    with transaction.atomic():
        c = _begin(
            actor=actor, case=case, perm="cases.accept_transfer", expected_version=expected_version
        )
        before, now = _snapshot(c), timezone.now()
        c.transfer_to = None
        c.transfer_reason = ""
        c.transfer_requested_at = None
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.TRANSFER_REFUSED,
            note=_("%(name)s 未接收：%(reason)s") % {"name": actor.display_name, "reason": reason},
        )
        _finish(c, actor=actor, verb="case.transfer_refuse", before=before)
        if c.lead_id:
            notify(
                recipients=User.objects.filter(pk=c.lead_id),
                verb="case.transfer_refused",
                title=_("诉求 %(number)s 移交未被接收") % {"number": c.number},
                body=reason,
                link=_link(c),
                obj=c,
            )
    return c


def case_add_co_handler(
    *,
    actor: User,
    case: Case,
    user: User,
    task: str,
    expected_version: int | None = None,
) -> CaseHandler:
    """Add a co-handler with their own part of the work (大事多方办)."""
    task = _required_text(task, field="task", message=_("请填写协办任务。"), limit=200)
    with transaction.atomic():
        c = _begin(
            actor=actor, case=case, perm="cases.add_co_handler", expected_version=expected_version
        )
        _require_open(c)
        _require_eligible(user, c)
        if CaseHandler.objects.filter(case=c, user=user, is_active=True).exists():
            raise ValidationFailed(_("此人已在办理该诉求。"), code="already_handler")
        before, now = _snapshot(c), timezone.now()
        handler = CaseHandler.objects.create(
            case=c,
            user=user,
            kind=HandlerKind.CO_HANDLER,
            party_role=_handling_role(user, c),
            task=task,
        )
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.CO_HANDLER_ADDED,
            note=_("增加协办：%(role)s %(name)s，任务：%(task)s")
            % {"role": handler.get_party_role_display(), "name": user.display_name, "task": task},
            public=True,
            data={"handler": handler.pk},
        )
        _finish(c, actor=actor, verb="case.add_co_handler", before=before)
        _tell_handlers(c, [user.pk], actor=actor)
    return handler


def handler_task_update(
    *,
    actor: User,
    handler: CaseHandler,
    status: str | None = None,
    task: str | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> CaseHandler:
    """Update one party's part of a case: its status (pending → in progress → done) by
    the party itself or the lead, its task text by the lead. Shown on the timeline."""
    with transaction.atomic():
        c = _begin(
            actor=actor, case=handler.case_id, perm="cases.view", expected_version=expected_version
        )
        row = CaseHandler.objects.select_for_update().get(pk=handler.pk)
        if not row.is_active:
            raise ValidationFailed(_("该经办人已不再办理此诉求。"), code="handler_inactive")
        is_self = row.user_id == actor.pk
        leads = rules.has_perm("cases.start", actor, c)
        if not (is_self or leads):
            raise PermissionDenied()
        if task is not None and not leads:
            raise PermissionDenied(_("只有主办人可以调整分工。"), code="lead_only")
        if status is not None and status not in HandlerStatus.values:
            raise ValidationFailed(_("进展状态无效。"), code="invalid_status")
        before, now = _snapshot(c), timezone.now()
        changes: dict[str, Any] = {}
        if status is not None and status != row.status:
            row.status = status
            if status == HandlerStatus.IN_PROGRESS:
                row.started_at = row.started_at or now
                row.done_at = None
            elif status == HandlerStatus.DONE:
                row.done_at = now
            changes["status"] = status
        if task is not None:
            row.task = _required_text(task, field="task", message=_("请填写协办任务。"), limit=200)
            changes["task"] = row.task
        row.note = (note or "").strip()[:200] or row.note
        if not changes and not note:
            return row
        row.save()
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.HANDLER_UPDATED,
            note=_("%(role)s %(name)s：%(status)s。%(note)s")
            % {
                "role": row.get_kind_display(),
                "name": row.user.display_name,
                "status": row.get_status_display(),
                "note": (note or "").strip(),
            },
            public=True,
            data={"handler": row.pk, **changes},
        )
        _finish(c, actor=actor, verb="case.handler_update", before=before)
    return row


def case_photos_add(
    *,
    actor: User,
    case: Case,
    photos: Sequence[Any],
    expected_version: int | None = None,
) -> list[CasePhoto]:
    """Add photos to a case already reported: the reporter adds photos of the problem
    while it is being worked on (report photos); those handling it — the lead, a
    co-handler, a community lead standing in — add photos of the work until the case is
    finished (progress photos, or completion photos once it is completed). The same
    checks as at the report (images only, 10 MB each), and at most `MAX_PHOTOS` of each
    kind on a case. Shown on the timeline; the handlers hear of the reporter's photos."""
    files = _checked_photos(photos)
    if not files:
        raise ValidationFailed(_("请选择要上传的照片。"), code="photos_required", field="photos")
    _require_user(actor)
    with transaction.atomic():
        c = _load_for_update(case.pk)
        try:
            _check(actor=actor, case=c, perm="cases.add_photos", expected=expected_version)
        except PermissionDenied:
            if is_reporter(actor, c) and c.state not in OPEN_STATES:
                raise PermissionDenied(
                    _("诉求已“%(state)s”，不能再补充照片。如问题仍未解决，请提出投诉。")
                    % {"state": c.get_state_display()},
                    code="case_not_open",
                ) from None
            raise
        reporter_side = not (can_handle | is_co_handler)(actor, c)
        if reporter_side:
            kind = PhotoKind.REPORT
        elif c.state in (CaseState.COMPLETED, CaseState.FOLLOWED_UP):
            kind = PhotoKind.COMPLETION
        else:
            kind = PhotoKind.PROGRESS
        held = CasePhoto.objects.filter(case=c, kind=kind).count()
        if held + len(files) > MAX_PHOTOS:
            raise ValidationFailed(
                _("“%(kind)s”每件诉求最多 %(n)d 张，已有 %(held)d 张，还可添加 %(left)d 张。")
                % {
                    "kind": PhotoKind(kind).label,
                    "n": MAX_PHOTOS,
                    "held": held,
                    "left": MAX_PHOTOS - held,
                },
                code="too_many_photos",
                field="photos",
            )
        now = timezone.now()
        added = _save_photos(c, files, kind=kind, actor=actor)
        _event(
            c,
            actor=actor,
            at=now,
            kind=EventKind.PHOTOS_ADDED,
            note=_("补充了 %(n)d 张%(kind)s。") % {"n": len(added), "kind": PhotoKind(kind).label},
            public=True,
            data={"photos": [photo.pk for photo in added], "kind": kind},
        )
        before_version = c.version
        c.version += 1
        c.save(update_fields=["version", "updated_at"])
        audit_record(
            actor=actor,
            verb="case.photos_add",
            obj=c,
            before={"version": before_version, "photos": held},
            after={"version": c.version, "photos": held + len(added), "kind": kind},
        )
        if reporter_side:
            notify(
                recipients=User.objects.filter(pk__in=_active_handler_ids(c)),
                verb="case.photos_added",
                title=_("诉求 %(number)s 有新照片") % {"number": c.number},
                body=_("反映人补充了 %(n)d 张照片。") % {"n": len(added)},
                link=_link(c),
                obj=c,
            )
    return added


def case_exclude_from_rates(*, actor: User, case: Case, reason: str) -> RateExclusion:
    """Leave a case out of the response, resolution and satisfaction rates, with the
    reason recorded (a test entry, a malicious report). Only community leads and
    supervisors decide it; audited."""
    reason = _required_text(
        reason, field="reason", message=_("请填写不计入统计的原因。"), limit=200
    )
    with transaction.atomic():
        c = _begin(actor=actor, case=case, perm="cases.exclude_from_rates", expected_version=None)
        if RateExclusion.objects.filter(case=c).exists():
            raise ValidationFailed(_("该诉求已不计入统计。"), code="already_excluded")
        now = timezone.now()
        exclusion = RateExclusion.objects.create(
            case=c, reason=reason, excluded_by=actor, excluded_at=now
        )
        _event(c, actor=actor, at=now, kind=EventKind.EXCLUDED, note=reason)
        audit_record(actor=actor, verb="case.exclude_from_rates", obj=c, after={"reason": reason})
    return exclusion


# --- clocks and follow-up deadlines (the periodic tasks call these) --------------------


def clock_alarms_fire(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Fire every stored alarm that is due and not yet fired: 80 % warns the handlers,
    100 % tells the community secretary and marks the case overdue, 200 % tells the
    subdistrict supervisor (督办).

    Reads only due, pending alarms (a partial index), so the work grows with what is due,
    not with the open cases. Alarms are claimed in batches before anything is sent — a
    conditional UPDATE of the rows this run holds locked (other runs skip them) — so run
    twice, at once, late, or after a restart, each fires exactly once. A late run that
    finds several levels due fires each of them once, in order.
    """
    now = now or timezone.now()
    counts = {level: 0 for level in AlarmLevel.values}
    due = list(_pending_alarms(now).order_by("due_at", "pk").values_list("pk", flat=True)[:limit])
    for start in range(0, len(due), ALARM_BATCH):
        for level in _fire_alarms(due[start : start + ALARM_BATCH], now):
            counts[level] += 1
    return counts


def cases_close_unanswered(*, now: datetime | None = None, limit: int = 500) -> int:
    """Close completed cases whose follow-up has had no answer for 3 days, recording the
    follow-up as `no_answer` — never counted as resolved or satisfied. Returns how many."""
    now = now or timezone.now()
    ids = list(
        Case.objects.filter(
            state=CaseState.COMPLETED, completed_at__lte=now - FOLLOW_UP_NO_ANSWER_AFTER
        )
        .order_by("completed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    closed = 0
    for pk in ids:
        with transaction.atomic():
            c = _load_for_update(pk)
            if (
                c.state != CaseState.COMPLETED
                or c.completed_at is None
                or c.completed_at > now - FOLLOW_UP_NO_ANSWER_AFTER
            ):
                continue
            before = _snapshot(c)
            FollowUp.objects.create(
                case=c,
                community_id=c.community_id,
                recorded_at=now,
                method=FollowUpMethod.SYSTEM,
                outcome=FollowUpOutcome.NO_ANSWER,
                round=c.reopen_count,
            )
            from_state = c.state
            c.state = next_state(c.state, CaseAction.CLOSE_UNANSWERED)
            c.closed_at = now
            c.next_due_at = None
            _event(
                c,
                actor=None,
                at=now,
                kind=EventKind.NO_ANSWER,
                from_state=from_state,
                to_state=c.state,
                note=_("办结 3 天内未能回访到居民，记为无应答并关闭（不计为已解决或满意）。"),
                public=True,
            )
            _finish(c, actor=None, verb="case.close_unanswered", before=before)
            _tell_reporters(
                c,
                actor=None,
                verb="case.closed",
                message=_("未能联系到您回访，诉求已关闭。如问题仍未解决，可以再次反映。"),
            )
            closed += 1
    return closed


# --- internals --------------------------------------------------------------------------


def _require_user(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"), code="login_required")


def _load_for_update(pk: int) -> Case:
    try:
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("category", "place", "community", "lead")
            .get(pk=pk)
        )
    except Case.DoesNotExist:
        raise NotFound() from None


def _begin(*, actor: User, case: Case | int, perm: str, expected_version: int | None) -> Case:
    _require_user(actor)
    pk = case if isinstance(case, int) else case.pk
    return _check(actor=actor, case=_load_for_update(pk), perm=perm, expected=expected_version)


def _check(*, actor: User, case: Case, perm: str, expected: int | None) -> Case:
    _require_user(actor)
    if not rules.has_perm("cases.view", actor, case):
        raise NotFound()
    if expected is not None and case.version != expected:
        raise Conflict(
            _("诉求 %(number)s 已被他人更新，当前状态为“%(state)s”，请刷新后再操作。")
            % {"number": case.number, "state": case.get_state_display()},
            state=case.state,
            version=case.version,
        )
    if not rules.has_perm(perm, actor, case):
        raise PermissionDenied()
    return case


def _finish(case: Case, *, actor: Any, verb: str, before: dict[str, Any]) -> None:
    case.version += 1
    case.save()
    audit_record(actor=actor, verb=verb, obj=case, before=before, after=_snapshot(case))


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "state": case.state,
        "version": case.version,
        "lead": case.lead_id,
        "reopen_count": case.reopen_count,
        "response_due_at": case.response_due_at,
        "completion_due_at": case.completion_due_at,
        "merged_into": case.merged_into_id,
        "topic_ref": case.topic_ref,
        "transfer_to": case.transfer_to_id,
    }


def _event(
    case: Case,
    *,
    actor: Any,
    at: datetime,
    kind: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    event = _event_row(
        case,
        actor=actor,
        at=at,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
        data=data,
    )
    event.save(force_insert=True)
    return event


def _event_row(
    case: Case,
    *,
    actor: Any,
    at: datetime,
    kind: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """An event not yet saved, for writing several in one INSERT."""
    return CaseEvent(
        case=case,
        at=at,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=str(note),
        is_public=public,
        data=data or {},
    )


def _close(case: Case, *, actor: Any, at: datetime, note: str) -> None:
    from_state = case.state
    case.state = next_state(case.state, CaseAction.CLOSE)
    case.closed_at = at
    case.next_due_at = None
    _event(
        case,
        actor=actor,
        at=at,
        kind=EventKind.CLOSED,
        from_state=from_state,
        to_state=case.state,
        note=_join(_("诉求已关闭。"), note),
        public=True,
    )


def _reopen(case: Case, *, actor: Any, at: datetime, reason: str) -> None:
    from_state = case.state
    case.state = next_state(case.state, CaseAction.REOPEN)
    case.reopen_count += 1
    case.completed_at = None
    case.completed_by = None
    case.followed_up_at = None
    case.closed_at = None
    # A case reopened after its topic closed is being worked on again: it no longer
    # counts as done by its topic in the rates (`topic_ref` keeps the link).
    case.topic_at = None
    ctx = clock_context_for(case.community)
    due = deadline_after(at, case.completion_target, case.completion_clock, ctx)
    case.completion_due_at = due.due_at
    case.completion_due_estimated = due.estimated
    case.next_due_at = due.due_at
    _cancel_alarms(case, at=at)
    _arm(case, clock_names=(ClockName.COMPLETION,), start=at, ctx=ctx)
    CaseHandler.objects.filter(case=case, kind=HandlerKind.LEAD, is_active=True).update(
        status=HandlerStatus.IN_PROGRESS, done_at=None
    )
    _event(
        case,
        actor=actor,
        at=at,
        kind=EventKind.REOPENED,
        from_state=from_state,
        to_state=case.state,
        note=_("%(reason)s 第 %(n)d 次重新办理，办结截止 %(due)s。")
        % {"reason": reason, "n": case.reopen_count, "due": _local(due.due_at)},
        public=True,
        data={"reopen_count": case.reopen_count},
    )


def _leave_pause(case: Case, *, now: datetime) -> None:
    """A paused case leaving by another way than resuming (merged, turned into a topic):
    the pause ends, and its clock time is still recorded."""
    if case.paused_at is None:
        return
    ctx = clock_context_for(case.community)
    credited, _estimated = clock_elapsed(case.paused_at, now, case.completion_clock, ctx)
    case.paused_total += credited
    case.paused_at = None
    case.paused_from = ""
    case.pause_reason = ""


def _target(policy: Policy, which: str, ctx: ClockContext) -> timedelta:
    return target_duration(
        getattr(policy, f"{which}_amount"),
        getattr(policy, f"{which}_unit"),
        getattr(policy, f"{which}_clock"),
        ctx,
    )


def _arm(case: Case, *, clock_names: Iterable[str], start: datetime, ctx: ClockContext) -> None:
    """Store the warning, overdue and supervision points of the clocks from `start`, in
    one INSERT."""
    alarms = []
    for clock_name in clock_names:
        if clock_name == ClockName.RESPONSE:
            target, clock, round_ = case.response_target, case.response_clock, 0
        else:
            target, clock = case.completion_target, case.completion_clock
            round_ = case.reopen_count
        alarms += [
            (clock_name, level, round_, deadline_after(start, target * fraction, clock, ctx).due_at)
            for level, fraction in ALARM_FRACTIONS.items()
        ]
    # plain rows: no model instance per alarm to build and prepare
    insert_rows(
        ClockAlarm, ["clock", "level", "round", "due_at"], alarms, shared={"case_id": case.pk}
    )


def _cancel_alarms(case: Case, *, at: datetime, clock_name: str | None = None) -> None:
    pending = ClockAlarm.objects.filter(case=case, fired_at__isnull=True, cancelled_at__isnull=True)
    if clock_name:
        pending = pending.filter(clock=clock_name)
    pending.update(cancelled_at=at, suspended_at=None)


def _pending_alarms(now: datetime):
    return ClockAlarm.objects.filter(
        fired_at__isnull=True,
        cancelled_at__isnull=True,
        suspended_at__isnull=True,
        due_at__lte=now,
    )


class _DueAlarm(NamedTuple):
    """What firing one alarm needs, read as plain values: a batch is hundreds of rows."""

    pk: int
    case_id: int
    clock: str
    level: str
    round: int
    number: str
    text: str
    response_due_at: datetime
    completion_due_at: datetime
    category: str
    place_id: int


def _fire_alarms(pks: list[int], now: datetime) -> list[str]:
    """Claim and fire one batch of alarms in one transaction; returns the levels fired.

    A constant number of queries per batch: the rows are locked (PostgreSQL skips rows
    another run holds; SQLite runs one writer at a time) and claimed by a conditional
    UPDATE, then the events, notifications and audit events of the whole batch are
    written in bulk, as plain rows (`core.bulk.insert_rows`): building a model instance
    per row was half of the checker's time.
    """
    with transaction.atomic():
        alarms = [
            _DueAlarm(*row)
            for row in _pending_alarms(now)
            .filter(pk__in=pks)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("due_at", "pk")
            .values_list(
                "pk",
                "case_id",
                "clock",
                "level",
                "round",
                "case__number",
                Substr("case__text", 1, 80),
                "case__response_due_at",
                "case__completion_due_at",
                "case__category__name",
                "case__place_id",
            )
        ]
        claimed = _pending_alarms(now).filter(pk__in=[a.pk for a in alarms]).update(fired_at=now)
        if claimed != len(alarms):  # cannot happen while the rows are locked
            raise Conflict(_("时限提醒已被其他任务处理。"), code="alarm_taken")
        if not alarms:
            return []
        handlers: dict[int, list[int]] = {}
        for case_id, user_id in CaseHandler.objects.filter(
            case_id__in={a.case_id for a in alarms}, is_active=True
        ).values_list("case_id", "user_id"):
            handlers.setdefault(case_id, []).append(user_id)
        places = Place.objects.only("code", "name").in_bulk({a.place_id for a in alarms})
        holders = _RoleHolders(places.values())
        for level, field in (
            (AlarmLevel.OVERDUE, "overdue_at"),
            (AlarmLevel.SUPERVISION, "supervised_at"),
        ):
            ids = {a.case_id for a in alarms if a.level == level}
            if ids:
                Case.objects.filter(pk__in=ids, **{f"{field}__isnull": True}).update(**{field: now})
        # Translated once per batch: the language does not change within it.
        titles: dict[str, str] = {
            AlarmLevel.WARNING: _("诉求 %(number)s 的%(clock)s时限将到（%(due)s）"),
            AlarmLevel.OVERDUE: _("诉求 %(number)s 已超过%(clock)s时限（%(due)s）"),
            AlarmLevel.SUPERVISION: _(
                "督办：诉求 %(number)s 超过%(clock)s时限已达一倍（截止 %(due)s）"
            ),
        }
        body = _("%(category)s · %(place)s：%(text)s")
        clocks = {value: str(label) for value, label in ClockName.choices}
        kinds: dict[str, str] = {
            AlarmLevel.WARNING: EventKind.WARNING,
            AlarmLevel.OVERDUE: EventKind.OVERDUE,
            AlarmLevel.SUPERVISION: EventKind.SUPERVISED,
        }
        local = timezone.get_current_timezone()
        link = _case_links()
        events, messages = [], []
        audited: dict[str, list[tuple[int, None, dict[str, Any]]]] = {
            level: [] for level in AlarmLevel.values
        }
        for alarm in alarms:
            place = places[alarm.place_id]
            due = (
                alarm.response_due_at
                if alarm.clock == ClockName.RESPONSE
                else alarm.completion_due_at
            )
            title = titles[alarm.level] % {
                "number": alarm.number,
                "clock": clocks[alarm.clock],
                "due": due.astimezone(local).strftime("%m-%d %H:%M"),
            }
            if alarm.level == AlarmLevel.WARNING:
                recipients = handlers.get(alarm.case_id) or holders.at(
                    place, (Role.SECRETARY, Role.DIRECTOR)
                )
            elif alarm.level == AlarmLevel.OVERDUE:
                recipients = holders.at(place, (Role.SECRETARY,)) or holders.at(
                    place, (Role.DIRECTOR,)
                )
            else:
                recipients = holders.at(place, (Role.SUBDISTRICT_SUPERVISOR,)) or holders.at(
                    place, (Role.DISTRICT_SUPERVISOR,)
                )
            data = {"clock": alarm.clock, "level": alarm.level, "round": alarm.round}
            events.append((alarm.case_id, kinds[alarm.level], title, data))
            messages.append(
                Message(
                    recipient_ids=recipients,
                    verb=f"case.{alarm.level}",
                    title=title,
                    body=body
                    % {"category": alarm.category, "place": place.name, "text": alarm.text},
                    link=link(alarm.number),
                    object_type=Case._meta.label_lower,
                    object_id=str(alarm.case_id),
                    dedupe_key=f"case-alarm:{alarm.pk}",
                )
            )
            audited[alarm.level].append((alarm.case_id, None, data))
        insert_rows(
            CaseEvent,
            ["case_id", "kind", "note", "data"],
            events,
            shared={"at": now, "actor_id": None, "from_state": "", "to_state": ""},
        )
        notify_many(messages)
        # One append per level: the events of a batch share their time, and each case's
        # levels still come in order (warning, overdue, supervision).
        for name, changes in audited.items():
            if changes:
                audit_record_by_id(
                    actor=None, verb=f"case.alarm.{name}", model=Case, changes=changes
                )
        return [alarm.level for alarm in alarms]


class _RoleHolders:
    """Who holds which role at a batch of places and above them: one query for all.

    `at(place, roles)`: the ids of active users with an active assignment of one of
    `roles` at the place or any place above it.
    """

    ROLES = (
        Role.SECRETARY,
        Role.DIRECTOR,
        Role.SUBDISTRICT_SUPERVISOR,
        Role.DISTRICT_SUPERVISOR,
    )

    def __init__(self, places: Iterable[Place]) -> None:
        codes = {code for place in places for code in place.ancestor_codes()}
        self.by_code: dict[tuple[str, str], set[int]] = {}
        for code, role, user_id in RoleAssignment.objects.filter(
            is_active=True, user__is_active=True, role__in=self.ROLES, place__code__in=codes
        ).values_list("place__code", "role", "user_id"):
            self.by_code.setdefault((code, role), set()).add(user_id)
        # A batch asks about the same few places again and again.
        self.answers: dict[tuple[str, tuple[str, ...]], list[int]] = {}

    def at(self, place: Place, roles: Sequence[str]) -> list[int]:
        key = (place.code, tuple(roles))
        if key not in self.answers:
            users: set[int] = set()
            for code in place.ancestor_codes():
                for role in roles:
                    users |= self.by_code.get((code, role), set())
            self.answers[key] = sorted(users)
        return self.answers[key]


def _active_handler_ids(case: Case) -> list[int]:
    return list(
        CaseHandler.objects.filter(case=case, is_active=True).values_list("user_id", flat=True)
    )


def _make_lead(case: Case, user: User, *, now: datetime) -> None:
    """`user` becomes the lead; the previous lead's row stays as history, inactive."""
    CaseHandler.objects.filter(case=case, is_active=True).filter(
        Q(kind=HandlerKind.LEAD) | Q(user=user)
    ).update(is_active=False)
    status = (
        HandlerStatus.IN_PROGRESS if case.state != CaseState.REPORTED else HandlerStatus.PENDING
    )
    CaseHandler.objects.create(
        case=case,
        user=user,
        kind=HandlerKind.LEAD,
        party_role=_handling_role(user, case),
        status=status,
        started_at=now if status == HandlerStatus.IN_PROGRESS else None,
    )
    case.lead = user
    case.transfer_to = None
    case.transfer_reason = ""
    case.transfer_requested_at = None


def _handling_role(user: User, case: Case) -> str:
    """The role through which `user` handles cases at the case's place (most specific)."""
    assignment = (
        RoleAssignment.objects.active()
        .filter(user=user, role__in=list(HANDLER_ROLES))
        .filter(
            Q(place__code__in=case.place.ancestor_codes())
            | Q(grid__buildings__code__in=case.place.ancestor_codes())
        )
        .order_by(F("place__depth").desc(nulls_first=True))
        .values_list("role", flat=True)
        .first()
    )
    return assignment or ""


def _require_eligible(user: User, case: Case) -> None:
    if not user.is_active or not holds_role_over(user, HANDLER_ROLES, case.place):
        raise ValidationFailed(
            _("%(name)s 在该地点没有办理诉求的职责。") % {"name": user.display_name},
            code="not_a_handler_here",
        )


def _require_open(case: Case) -> None:
    if case.state not in OPEN_STATES:
        raise ValidationFailed(
            _("诉求当前为“%(state)s”，不能再调整经办人。") % {"state": case.get_state_display()},
            code="case_not_open",
        )


def _follow_up_method(actor: User, case: Case, method: str) -> str:
    staff = is_case_staff(actor, case)
    if not method:
        method = FollowUpMethod.ONLINE if not staff else FollowUpMethod.PHONE
    if method == FollowUpMethod.ONLINE:
        if not is_reporter(actor, case):
            raise ValidationFailed(_("在线评价只能由反映人本人填写。"), code="online_reporter_only")
    elif method in (FollowUpMethod.PHONE, FollowUpMethod.VISIT):
        if not staff:
            raise ValidationFailed(
                _("电话或上门回访由社区工作人员记录。"), code="staff_only_method"
            )
    else:
        raise ValidationFailed(_("回访方式无效。"), code="invalid_method")
    return method


def _check_reporter(
    *,
    actor: User,
    place: Place,
    channel: str,
    reporter: User | None,
    contact_name: str,
    contact_phone: str,
    jurisdiction: Place | None,
) -> tuple[User | None, str, str]:
    contact_name = (contact_name or "").strip()[:50]
    contact_phone = (contact_phone or "").strip().replace(" ", "")[:20]
    if contact_phone and not contact_phone.replace("-", "").replace("+", "").isdigit():
        raise ValidationFailed(
            _("联系电话格式不正确。"), code="invalid_phone", field="contact_phone"
        )
    if jurisdiction is not None and channel != Channel.OPEN311:
        raise ValidationFailed(_("只有 Open311 上报按辖区核对地点。"), code="invalid_channel")
    if channel == Channel.OPEN311 and jurisdiction is not None:
        if not (place.code == jurisdiction.code or place.code.startswith(jurisdiction.code + "-")):
            raise PermissionDenied(
                _("该地点不在 %(name)s 辖区内。") % {"name": jurisdiction.name},
                code="place_outside_jurisdiction",
            )
        return actor, contact_name, contact_phone
    if channel in SELF_SERVICE_CHANNELS:
        if not rules.has_perm("cases.report_at", actor, place):
            raise PermissionDenied(
                _(
                    "只能反映您自己的房屋、商铺，或您居住的居民区里小区、楼栋、公共区域"
                    "和沿街商铺的问题。"
                ),
                code="place_not_yours",
            )
        return actor, contact_name, contact_phone
    if channel == Channel.PATROL:
        if not holds_role_over(actor, PATROL_ROLES, place):
            raise PermissionDenied(_("只有本区域的志愿者和工作人员可以登记巡查发现。"))
        return actor, contact_name, contact_phone
    if channel == Channel.TASK:
        if not holds_role_over(actor, TASK_ROLES, place):
            raise PermissionDenied(_("只有本区域的工作人员可以登记协助任务。"))
        return actor, contact_name, contact_phone
    # phone, walk-in, reception day, visit: entered by a worker for a resident
    if not holds_role_over(actor, ENTRY_ROLES, place):
        raise PermissionDenied(_("只有本区域的工作人员可以代为登记诉求。"))
    if channel not in WORKER_ENTRY_CHANNELS and channel != Channel.VISIT:
        raise ValidationFailed(_("上报渠道无效。"), code="invalid_channel")
    if reporter is None and not (contact_name or contact_phone):
        raise ValidationFailed(
            _("请填写反映人的姓名或联系电话。"), code="contact_required", field="contact_name"
        )
    return reporter, contact_name, contact_phone


def _case_for_key(scope: str, channel: str, key: str) -> Case | None:
    # Asked before every report with a key and nearly always answered "none": the probe
    # reads one column (a query of the whole 57-column row cost twice as much to build),
    # the case is loaded only for a retry.
    found = Case.objects.filter(
        idempotency_scope=scope, channel=channel, idempotency_key=key
    ).values_list("pk", flat=True)[:1]
    return Case.objects.get(pk=found[0]) if found else None


def _allocate_number(community: Place, at: datetime) -> str:
    """`HQXC-20261127-0007`: the community's code segment, the local date, and the day's
    sequence. The sequence row is locked until the report commits, so two reports at once
    never share a number."""
    prefix = f"{community.segment}-{timezone.localdate(at):%Y%m%d}"
    # The UPDATE counts on, takes the row lock and gives the number back in one statement;
    # only the day's first report creates the row (get_or_create settles two first
    # reports racing).
    last = _count_on(prefix)
    if last is None:
        CaseNumberSequence.objects.get_or_create(prefix=prefix)
        last = _count_on(prefix)
    return f"{prefix}-{last:04d}"


def _count_on(prefix: str) -> int | None:
    """The prefix's next number, counted on in its row; None if it has no row yet.
    `UPDATE … RETURNING` (SQLite ≥ 3.35, PostgreSQL): the ORM has no UPDATE that answers
    the new value, and a second statement to read it cost as much as the update."""
    table, last, key = map(
        connection.ops.quote_name, (CaseNumberSequence._meta.db_table, "last", "prefix")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 WHERE {key} = %s RETURNING {last}", [prefix]
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _checked_photos(photos: Sequence[Any]) -> list[Any]:
    files = list(photos or [])
    if len(files) > MAX_PHOTOS:
        raise ValidationFailed(
            _("照片最多 %(n)d 张。") % {"n": MAX_PHOTOS}, code="too_many_photos", field="photos"
        )
    for upload in files:
        size = getattr(upload, "size", None)
        if size is not None and size > MAX_PHOTO_BYTES:
            raise ValidationFailed(
                _("每张照片不能超过 10MB。"), code="photo_too_large", field="photos"
            )
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                image_format = image.format
                image.verify()
        except Exception:  # Pillow raises many kinds for a file that is not an image
            raise ValidationFailed(
                _("“%(name)s”不是有效的图片，请上传 JPEG、PNG、GIF 或 WebP 格式的照片。")
                % {"name": (getattr(upload, "name", "") or "").rsplit("/", 1)[-1]},
                code="invalid_photo",
                field="photos",
            ) from None
        finally:
            upload.seek(0)
        if image_format not in PHOTO_FORMATS:
            raise ValidationFailed(
                _("请上传 JPEG、PNG、GIF 或 WebP 格式的图片。"),
                code="invalid_photo",
                field="photos",
            )
    # Stored as re-encoded copies: upright, and without EXIF (GPS) or any other metadata.
    return [image_clean(f, max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS) for f in files]


def _save_photos(case: Case, files: list[Any], *, kind: str, actor: Any) -> list[CasePhoto]:
    saved = []
    for upload in files:
        django_file = upload if isinstance(upload, File) else File(upload)
        name = getattr(upload, "name", "") or "photo.jpg"
        photo = CasePhoto(case=case, kind=kind, token=uuid.uuid4().hex, uploaded_by=actor)
        photo.image.save(name.rsplit("/", 1)[-1], django_file, save=False)
        photo.save()
        saved.append(photo)
    return saved


def _tell_reporters(
    case: Case, *, actor: Any, verb: str, message: str, only_primary: bool = False
) -> None:
    """The reporter hears of every state change: in the app, or by text message for a
    caller without an account. Reporters of duplicates merged into the case hear too."""
    cases = [case]
    if not only_primary:
        cases += list(Case.objects.filter(merged_into=case).select_related("reporter"))
    actor_pk = getattr(actor, "pk", None)
    recipients = [c.reporter for c in cases if c.reporter_id and c.reporter_id != actor_pk]
    title = _("您反映的问题 %(number)s：%(state)s") % {
        "number": case.number,
        "state": case.get_state_display(),
    }
    notify(recipients=recipients, verb=verb, title=title, body=message, link=_link(case), obj=case)
    for phone in {c.contact_phone for c in cases if c.reporter_id is None and c.contact_phone}:
        transaction.on_commit(
            partial(sms_send, phone=phone, body=f"【共治】{title}。{message}"[:300])
        )


def _tell_handlers(
    case: Case, user_ids: Iterable[int], *, actor: Any, reopened: bool = False
) -> None:
    actor_pk = getattr(actor, "pk", None)
    ids = [pk for pk in user_ids if pk != actor_pk]
    if not ids:
        return
    if reopened:
        title = _("诉求 %(number)s 已重新办理") % {"number": case.number}
    else:
        title = _("新诉求 %(number)s：%(category)s") % {
            "number": case.number,
            "category": case.category.name,
        }
    notify(
        # by id, in the order a query of the users by id gives them: no need to load them
        recipient_ids=sorted(set(ids)),
        verb="case.reopened" if reopened else "case.assigned",
        title=title,
        body=f"{case.place.name}：{case.text[:100]}",
        link=_link(case),
        obj=case,
    )


def _link(case: Case) -> str:
    # One address for everyone told: it sends the handlers to the worker's page and the
    # reporter to 我的诉求.
    return reverse("cases:case_open", args=[case.number])


def _case_links() -> Callable[[str], str]:
    """`_link` for many cases: `reverse()` once, then each case's number put in its place
    (quoted as `reverse()` quotes it). A `reverse()` cost as much as the rest of an
    alarm's message."""
    marker = "0CASE0NUMBER0"
    before, _marker, after = reverse("cases:case_open", args=[marker]).rpartition(marker)
    return lambda number: before + quote(number, safe=RFC3986_SUBDELIMS + "/~:@") + after


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(h)d小时%(m)d分钟") % {"h": hours, "m": minutes}
    return _("%(m)d分钟") % {"m": minutes}


def _join(first: str, second: str) -> str:
    second = (second or "").strip()
    return f"{first} {second}" if second else str(first)


def _required_text(value: str, *, field: str, message: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(message, code=f"{field}_required", field=field)
    if len(text) > limit:
        raise ValidationFailed(
            _("最多 %(n)d 个字。") % {"n": limit}, code=f"{field}_too_long", field=field
        )
    return text


def _clean_keywords(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = raw.replace("，", ",").split(",")
    if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw):
        raise ValidationFailed(_("关键词须为文字列表。"), code="invalid_keywords")
    return list(dict.fromkeys(w.strip() for w in raw if w.strip()))


def _full_clean(obj: Any) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        messages = [str(m) for errors in exc.message_dict.values() for m in errors]
        raise ValidationFailed(
            "；".join(messages), code="invalid", fields=list(exc.message_dict)
        ) from None


def _category_snapshot(category: Category) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "group": category.group,
        "requires_photo": category.requires_photo,
        "questions": category.questions,
        "keywords": category.keywords,
        "lead_role": category.lead_role,
        "co_handler_roles": category.co_handler_roles,
        "is_active": category.is_active,
        "sort": category.sort,
    }


def _policy_snapshot(policy: Policy) -> dict[str, Any]:
    return {
        "category": policy.category_id,
        "community": policy.community_id,
        "response": [policy.response_amount, policy.response_unit, policy.response_clock],
        "completion": [policy.completion_amount, policy.completion_unit, policy.completion_clock],
        "preset": policy.preset,
    }
