"""`/cases`: report, list, read and act on cases (小事快办).

Every read goes through `cases.selectors` (which also decide visibility: a case the caller
may not see is 404, exactly like a missing one) and every step through `cases.services`
(which check permissions, the state graph and the version). Each step accepts the version
the caller last saw — `expected_version` in the body or an `If-Match` header — and a
stale one answers 409 with the case's current state and version in `details`.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile

from gongzhi.accounts.models import Role
from gongzhi.api import selectors as api_selectors
from gongzhi.api.errors import ErrorOut
from gongzhi.cases import selectors, services
from gongzhi.cases.models import (
    Case,
    CaseEvent,
    CaseHandler,
    CasePhoto,
    Channel,
    EventKind,
    FollowUp,
    FollowUpMethod,
    FollowUpOutcome,
    HandlerKind,
    HandlerStatus,
    PhotoKind,
    Satisfaction,
)
from gongzhi.cases.states import CaseState
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.ratelimit import report_rate_limit

from .receipts import ReceiptOut, receipt_answer, receipt_url
from .schemas import Answer, BodyIn, Page, PlaceRef, label_of

router = Router(tags=["cases"])

# --- answers ------------------------------------------------------------------------------


class CategoryRef(Answer):
    code: str
    name: str


class PersonRef(Answer):
    """人员 / A person, by id and display name."""

    id: int
    name: str


class CaseSummaryOut(Answer):
    """诉求摘要 / A case as listed."""

    number: str = Field(description="诉求编号 / case number, e.g. HQXC-20261127-0007")
    state: CaseState = Field(description="状态 / state")
    state_label: str = Field(description="状态名称（按请求语言）/ state in the caller's language")
    channel: Channel = Field(description="上报渠道 / channel")
    channel_label: str
    category: CategoryRef
    place: PlaceRef
    community: PlaceRef
    text: str = Field(description="诉求内容（原文）/ the report as written")
    lead: PersonRef | None = Field(description="主办人 / lead handler")
    reported_at: datetime
    responded_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    response_due_at: datetime = Field(description="响应截止 / response deadline")
    response_due_estimated: bool = Field(
        description="截止为估算（节假日未公布）/ deadline estimated (holidays not yet published)"
    )
    completion_due_at: datetime = Field(description="办结截止 / completion deadline")
    completion_due_estimated: bool
    next_due_at: datetime | None = Field(
        description="当前最近的截止（列表按此排序）/ the deadline that matters now (list order)"
    )
    overdue_at: datetime | None = Field(description="标记超时的时间 / when it was marked overdue")
    supervised_at: datetime | None = Field(description="督办时间 / when it was supervised (督办)")
    reopen_count: int = Field(description="重办次数 / times reopened")
    version: int = Field(
        description="版本：操作时回传以防覆盖他人修改 / version: send it back when acting"
    )


class CaseListOut(Page):
    items: list[CaseSummaryOut]


class ContactOut(Schema):
    """反映人联系方式（仅经办一方可见，手机号按规定脱敏）/ How to reach the reporter:
    handling side only; the phone masked except for handlers, reporter and secretary."""

    name: str
    phone: str
    has_account: bool
    is_anonymous: bool


class HandlerOut(Schema):
    """经办人及其分工 / One handling party and its part (大事多方办)."""

    id: int
    user: PersonRef
    kind: HandlerKind
    kind_label: str
    party_role: str
    party_role_label: str
    task: str
    status: HandlerStatus
    status_label: str
    note: str
    started_at: datetime | None
    done_at: datetime | None
    is_active: bool


class EventOut(Schema):
    """时间线事件 / One step on the timeline (residents see the public ones only)."""

    at: datetime
    kind: EventKind
    kind_label: str
    actor: PersonRef | None
    from_state: str
    to_state: str
    note: str
    is_public: bool


class FollowUpOut(Schema):
    recorded_at: datetime
    method: FollowUpMethod
    method_label: str
    outcome: FollowUpOutcome
    outcome_label: str
    resolved: bool | None
    satisfaction: str
    satisfaction_label: str
    note: str
    round: int = Field(description="第几轮办结的回访 / which completion it follows up")


class PhotoOut(Schema):
    id: int
    kind: PhotoKind
    kind_label: str
    url: str = Field(description="照片地址（需认证）/ where to fetch it (authenticated)")
    width: int
    height: int
    created_at: datetime


class CaseDetailOut(CaseSummaryOut):
    """诉求详情 / A case with its handlers, timeline, follow-ups and photos."""

    answers: dict[str, Any] = Field(description="附加问题回答 / answers to extra questions")
    is_anonymous: bool
    paused_at: datetime | None
    pause_reason: str
    paused_total_seconds: int = Field(
        description="累计挂起时长（计时，秒）/ clock time paused, credited back"
    )
    completion_note: str
    decline_reason: str
    referral: str = Field(description="转介去向 / where a declined case was referred")
    merged_into: str | None = Field(description="并入的诉求编号 / number of the case merged into")
    topic_ref: str
    topic_note: str
    transfer_to: PersonRef | None = Field(description="待接收人 / asked to take over")
    transfer_reason: str
    contact: ContactOut | None = Field(
        description="仅 GET 详情返回，且每次查看都被记录 / only on GET, and every read is logged"
    )
    handlers: list[HandlerOut]
    timeline: list[EventOut]
    follow_ups: list[FollowUpOut]
    photos: list[PhotoOut]
    actions: list[str] = Field(
        description="调用者现在可执行的操作 / what the caller may do now (respond, start, …)"
    )


class DuplicateOut(Schema):
    """可能重复的诉求 / A likely duplicate of a report about to be made."""

    number: str
    category_name: str
    state: str
    state_label: str
    place_name: str
    reported_at: datetime
    score: float = Field(description="相似度 0–1 / similarity 0–1")
    text: str | None = Field(description="仅对可查看该诉求者提供 / only if the caller may see it")


def _person(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name} if user is not None else None


def _place(place: Any) -> dict[str, Any]:
    return {"code": place.code, "name": place.name, "kind": place.kind}


def _summary(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "state": case.state,
        "state_label": label_of(CaseState, case.state),
        "channel": case.channel,
        "channel_label": label_of(Channel, case.channel),
        "category": {"code": case.category.code, "name": case.category.name},
        "place": _place(case.place),
        "community": _place(case.community),
        "text": case.text,
        "lead": _person(case.lead),
        "reported_at": case.reported_at,
        "responded_at": case.responded_at,
        "completed_at": case.completed_at,
        "closed_at": case.closed_at,
        "response_due_at": case.response_due_at,
        "response_due_estimated": case.response_due_estimated,
        "completion_due_at": case.completion_due_at,
        "completion_due_estimated": case.completion_due_estimated,
        "next_due_at": case.next_due_at,
        "overdue_at": case.overdue_at,
        "supervised_at": case.supervised_at,
        "reopen_count": case.reopen_count,
        "version": case.version,
    }


def _handler(row: CaseHandler) -> dict[str, Any]:
    return {
        "id": row.pk,
        "user": _person(row.user),
        "kind": row.kind,
        "kind_label": label_of(HandlerKind, row.kind),
        "party_role": row.party_role,
        "party_role_label": label_of(Role, row.party_role),
        "task": row.task,
        "status": row.status,
        "status_label": label_of(HandlerStatus, row.status),
        "note": row.note,
        "started_at": row.started_at,
        "done_at": row.done_at,
        "is_active": row.is_active,
    }


def _event(event: CaseEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "kind": event.kind,
        "kind_label": label_of(EventKind, event.kind),
        "actor": _person(event.actor),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "is_public": event.is_public,
    }


def _follow_up(row: FollowUp) -> dict[str, Any]:
    return {
        "recorded_at": row.recorded_at,
        "method": row.method,
        "method_label": label_of(FollowUpMethod, row.method),
        "outcome": row.outcome,
        "outcome_label": label_of(FollowUpOutcome, row.outcome),
        "resolved": row.resolved,
        "satisfaction": row.satisfaction,
        "satisfaction_label": label_of(Satisfaction, row.satisfaction),
        "note": row.note,
        "round": row.round,
    }


def _photo(case: Case, photo: CasePhoto) -> dict[str, Any]:
    return {
        "id": photo.pk,
        "kind": photo.kind,
        "kind_label": label_of(PhotoKind, photo.kind),
        "url": reverse("api-v1:case_photo_file", kwargs={"number": case.number, "pk": photo.pk}),
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at,
    }


def _detail(
    user: Any, case: Case, *, with_contact: bool, just_reported: bool = False
) -> dict[str, Any]:
    """The case as `user` sees it. `just_reported`: a case this request's report created,
    which has no follow-ups and no photos yet (the API's report takes none), so neither
    is read back."""
    contact = selectors.case_contact_for(user=user, case=case) if with_contact else None
    return {
        **_summary(case),
        "answers": case.answers,
        "is_anonymous": case.is_anonymous,
        "paused_at": case.paused_at,
        "pause_reason": case.pause_reason,
        "paused_total_seconds": int(case.paused_total.total_seconds()),
        "completion_note": case.completion_note,
        "decline_reason": case.decline_reason,
        "referral": case.referral,
        "merged_into": case.merged_into.number if case.merged_into_id else None,
        "topic_ref": case.topic_ref,
        "topic_note": case.topic_note,
        "transfer_to": _person(case.transfer_to) if case.transfer_to_id else None,
        "transfer_reason": case.transfer_reason,
        "contact": asdict(contact) if contact is not None else None,
        "handlers": [_handler(h) for h in selectors.case_handlers_for(user=user, case=case)],
        "timeline": [_event(e) for e in selectors.case_timeline_for(user=user, case=case)],
        "follow_ups": []
        if just_reported
        else [_follow_up(f) for f in selectors.case_follow_ups_for(user=user, case=case)],
        "photos": []
        if just_reported
        else [_photo(case, p) for p in selectors.case_photos_for(user=user, case=case)],
        "actions": selectors.case_actions_for(user=user, case=case),
    }


def _answer(
    request: HttpRequest, response: HttpResponse, number: str, *, with_contact: bool = False
) -> dict[str, Any]:
    """The case as the caller now sees it, with its version as the ETag."""
    case = selectors.case_get(user=request.auth, number=number)
    response["ETag"] = f'"{case.version}"'
    return _detail(request.auth, case, with_contact=with_contact)


# --- versions -----------------------------------------------------------------------------


IF_MATCH = Header(
    None,
    alias="If-Match",
    description='诉求版本，如 "3"（可代替 expected_version）/ the case version, e.g. "3"',
)


def _expected_version(body_version: int | None, if_match: str | None) -> int | None:
    """The version the caller acts on: `expected_version` if given, else `If-Match`
    (`"3"`, `W/"3"` or `3`); none means "whatever it is now"."""
    if body_version is not None:
        return body_version
    raw = (if_match or "").strip()
    if not raw or raw == "*":
        return None
    raw = raw.removeprefix("W/").strip().strip('"')
    if not raw.isdigit():
        raise ValidationFailed(
            _('If-Match 须为诉求的版本号，例如 "3"。'), code="invalid_if_match", field="If-Match"
        )
    return int(raw)


class VersionIn(BodyIn):
    expected_version: int | None = Field(
        None, ge=1, description="调用者看到的版本 / the version the caller last saw"
    )


class NoteIn(VersionIn):
    note: str = Field("", description="说明 / note")


class ReasonIn(VersionIn):
    reason: str = Field(description="原因 / reason")


# --- reporting and reading ----------------------------------------------------------------


class ReportIn(BodyIn):
    """上报诉求 / A report."""

    category: str = Field(description="类别代码 / category code (GET /categories)")
    place: str = Field(description="地点编码，尽量具体到户 / place code, down to the dwelling")
    text: str = Field(description="问题描述 / what is wrong")
    channel: Channel = Field(
        Channel.API,
        description=(
            "渠道：默认 api（本人上报）；工作人员代登记用 phone / walk_in / reception_day / visit"
            " / channel: api (yourself) by default; staff entering a call use phone, walk_in, …"
        ),
    )
    contact_name: str = Field("", description="代登记时反映人姓名 / reporter's name (staff entry)")
    contact_phone: str = Field("", description="反映人电话 / reporter's phone (staff entry)")
    is_anonymous: bool = Field(False, description="对外匿名 / anonymous to the public")
    answers: dict[str, Any] = Field(
        default_factory=dict, description="附加问题回答 / answers to the category's questions"
    )


@router.post(
    "",
    response={
        201: CaseDetailOut,
        200: CaseDetailOut,
        202: ReceiptOut,
        401: ErrorOut,
        403: ErrorOut,
        422: ErrorOut,
    },
    summary="上报诉求 / Report a case",
    description=(
        "带 Idempotency-Key 重试同一请求只会产生一个诉求：首次 201，重试 200 并返回同一诉求。"
        "带 `Prefer: respond-async` 时，检查通过即答 202 和受理回执（Location 指向回执），"
        "诉求随后由后台登记，时限从受理时起算；重试返回同一回执。"
        " / With an Idempotency-Key, a retried request creates one case: 201 the first time,"
        " 200 with the same case on a retry. With `Prefer: respond-async` the report is"
        " checked, stored and answered 202 with a receipt (`Location` points to it); the"
        " worker files the case moments later, its clocks counted from acceptance; a retry"
        " answers the same receipt."
    ),
)
def case_report(
    request: HttpRequest,
    response: HttpResponse,
    payload: ReportIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="客户端生成的唯一键 / a unique key the client makes up per report",
    ),
    prefer: str | None = Header(
        None,
        alias="Prefer",
        description="respond-async：先答受理回执 / answer with a receipt first (RFC 7240)",
    ),
):
    report_rate_limit(request)
    user = request.auth
    category = selectors.category_for_report(code=payload.category)
    if category is None:
        raise ValidationFailed(_("没有这个类别。"), code="unknown_category", field="category")
    place = api_selectors.place_for_report(code=payload.place)
    if place is None:
        raise ValidationFailed(_("没有这个地点。"), code="unknown_place", field="place")
    report = {
        "actor": user,
        "place": place,
        "category": category,
        "text": payload.text,
        "channel": payload.channel,
        "contact_name": payload.contact_name,
        "contact_phone": payload.contact_phone,
        "is_anonymous": payload.is_anonymous,
        "answers": payload.answers,
        "idempotency_key": idempotency_key or "",
    }
    if _prefers_async(prefer):
        receipt, _created = services.report_accept(**report)
        response["Location"] = receipt_url(receipt)
        response["Preference-Applied"] = "respond-async"
        return Status(202, receipt_answer(receipt))
    case, created = services.case_report_with_outcome(**report)
    if not created:
        return Status(200, _answer(request, response, case.number))
    # A new case is answered from the objects the report holds, as the report left it:
    # reading it back through `case_get` cost a fifth of the request.
    response["ETag"] = f'"{case.version}"'
    return Status(201, _detail(user, _times_in_utc(case), with_contact=False, just_reported=True))


def _prefers_async(prefer: str | None) -> bool:
    """Whether the Prefer header (RFC 7240: comma-separated preferences, each perhaps with
    parameters after a semicolon) asks for `respond-async`."""
    return any(
        part.split(";", 1)[0].strip().lower() == "respond-async"
        for part in (prefer or "").split(",")
    )


def _times_in_utc(case: Case) -> Case:
    """The case's times in UTC, as reading it back gives them (the clocks compute deadlines
    in the community's time zone): the same answer whichever way the case was loaded."""
    for field in case._meta.concrete_fields:
        value = getattr(case, field.attname)
        if isinstance(value, datetime) and timezone.is_aware(value):
            setattr(case, field.attname, value.astimezone(UTC))
    return case


class CaseFilters(Schema):
    state: list[CaseState] | None = Field(
        None, description="状态，可重复 / state, may repeat: ?state=reported&state=responded"
    )
    category: str | None = Field(None, description="类别代码 / category code")
    place: str | None = Field(
        None, description="地点编码：该地点及其下级 / place code: it and everything under it"
    )
    assignee: str | None = Field(
        None, description="主办或协办人用户名，或 me / lead or co-handler's username, or me"
    )
    overdue: bool | None = Field(
        None, description="计时已过截止（true）或未过（false）/ a running clock past its deadline"
    )
    reported_from: datetime | None = Field(
        None, description="上报时间起（含）/ reported at or after (date or date-time)"
    )
    reported_to: datetime | None = Field(
        None, description="上报时间止（不含）/ reported before (date or date-time)"
    )
    limit: int = Field(50, ge=1, le=200, description="每页条数 / page size")
    offset: int = Field(0, ge=0, description="起始位置 / offset")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    aware = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    try:
        # In UTC: Python allows offsets up to ±23:59, PostgreSQL only up to ±15:59.
        return aware.astimezone(UTC)
    except OverflowError:  # 0001-01-01 at +23:00 is before the year 1 in UTC
        raise ValidationFailed(_("时间超出范围。"), code="datetime_out_of_range") from None


@router.get(
    "",
    response={200: CaseListOut, 401: ErrorOut, 422: ErrorOut},
    summary="诉求列表 / List cases",
    description=(
        "调用者可见的诉求，按最近截止排序，已结束的在后。/ The cases the caller may see,"
        " nearest deadline first, finished ones last."
    ),
)
def case_list(request: HttpRequest, filters: Query[CaseFilters]):
    user = request.auth
    category = None
    if filters.category:
        category = selectors.categories_for_report().filter(code=filters.category).first()
        if category is None:
            raise ValidationFailed(_("没有这个类别。"), code="unknown_category", field="category")
    place = None
    if filters.place:
        try:
            place = selectors.cases_place_get(user=user, code=filters.place)
        except NotFound:
            raise ValidationFailed(
                _("没有这个地点。"), code="unknown_place", field="place"
            ) from None
    assignee = None
    if filters.assignee:
        assignee = (
            user
            if filters.assignee == "me"
            else api_selectors.user_named(username=filters.assignee)
        )
        if assignee is None:
            return {"count": 0, "limit": filters.limit, "offset": filters.offset, "items": []}
    cases = selectors.cases_for(
        user=user,
        state=filters.state,
        category=category,
        place=place,
        assignee=assignee,
        overdue=filters.overdue,
        reported_from=_aware(filters.reported_from),
        reported_to=_aware(filters.reported_to),
    )
    rows, total = selectors.cases_page_rows(
        cases,
        offset=filters.offset,
        limit=filters.limit,
        columns=("lead", *selectors.LIST_COLUMNS),
    )
    # Each label once a request, in the caller's language: `label_of` per row looked the
    # choice up and translated its label twice for each of the page's cases.
    states = {state.value: str(state.label) for state in CaseState}
    channels = {channel.value: str(channel.label) for channel in Channel}
    return {
        "count": total,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_listed(row, states, channels) for row in rows],
    }


def _listed(
    row: dict[str, Any], state_labels: dict[str, str], channel_labels: dict[str, str]
) -> dict[str, Any]:
    """`_summary` of a listed case from its row of values (`selectors.LIST_COLUMNS` and
    the lead's id): a page's 25 cases with their places, category and lead were 125 model
    instances built only to be read back into these dicts. An unknown state or channel
    has an empty label, as `label_of` gives it."""
    lead = row["lead"]
    return {
        "number": row["number"],
        "state": row["state"],
        "state_label": state_labels.get(row["state"], ""),
        "channel": row["channel"],
        "channel_label": channel_labels.get(row["channel"], ""),
        "category": {"code": row["category__code"], "name": row["category__name"]},
        "place": {
            "code": row["place__code"],
            "name": row["place__name"],
            "kind": row["place__kind"],
        },
        "community": {
            "code": row["community__code"],
            "name": row["community__name"],
            "kind": row["community__kind"],
        },
        "text": row["text"],
        # `User.display_name`.
        "lead": (
            None
            if lead is None
            else {"id": lead, "name": row["lead__name"] or row["lead__username"]}
        ),
        **{column: row[column] for column in _LISTED_AS_THEY_ARE},
    }


# The list's columns a summary shows as they are: every column of the case itself but the
# four `_listed` writes with their labels or as they are named.
_LISTED_AS_THEY_ARE = tuple(
    column
    for column in selectors.LIST_COLUMNS
    if "__" not in column and column not in {"number", "state", "channel", "text"}
)


class DuplicateQuery(Schema):
    category: str = Field(description="类别代码 / category code")
    place: str = Field(description="地点编码 / place code")
    text: str = Field(description="拟上报的描述 / the text about to be reported")


@router.get(
    "/duplicates",
    response={200: list[DuplicateOut], 401: ErrorOut, 422: ErrorOut},
    summary="可能重复的诉求 / Likely duplicates",
    description=(
        "上报前提示：同类别、同楼栋（或小区）、内容相近的未结诉求。/ Before reporting: open"
        " cases of the same category in the same building (or estate) with similar text."
    ),
)
def case_duplicates(request: HttpRequest, query: Query[DuplicateQuery]):
    category = selectors.categories_for_report().filter(code=query.category).first()
    if category is None:
        raise ValidationFailed(_("没有这个类别。"), code="unknown_category", field="category")
    place = api_selectors.place_for_report(code=query.place)
    if place is None:
        raise ValidationFailed(_("没有这个地点。"), code="unknown_place", field="place")
    return [
        asdict(candidate)
        for candidate in selectors.case_duplicates_for(
            user=request.auth, category=category, place=place, text=query.text
        )
    ]


@router.get(
    "/{number}",
    response={200: CaseDetailOut, 401: ErrorOut, 404: ErrorOut},
    summary="诉求详情 / A case",
    description=(
        "详情与时间线；居民只看到公开的步骤；联系电话按规定脱敏，工作人员查看会被记录。"
        " / Detail and timeline; residents see the public steps only; phones are masked as the"
        " privacy rules say, and a staff read is logged. The ETag is the case version."
    ),
)
def case_detail(request: HttpRequest, response: HttpResponse, number: str):
    return _answer(request, response, number, with_contact=True)


@router.get(
    "/{number}/photos/{pk}",
    response={401: ErrorOut, 404: ErrorOut},
    url_name="case_photo_file",
    summary="诉求照片 / A case photo",
    description="照片文件，仅可查看该诉求者。/ The image file, for those who may see the case.",
)
def case_photo_file(request: HttpRequest, number: str, pk: int):
    photo = selectors.case_photo_get(user=request.auth, pk=pk)
    if photo.case.number != number:
        raise NotFound()
    return FileResponse(photo.image.open("rb"))


PHOTOS = File(None, description="现场照片，最多 9 张 / photos, up to 9")

# --- steps of the lifecycle ---------------------------------------------------------------

STEP_RESPONSES = {
    200: CaseDetailOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
STEP_NOTE = (
    " 返回更新后的诉求；版本过期时 409，details 含当前 state 与 version。"
    " / Answers the updated case; a stale version is 409 with the current state and version"
    " in details."
)


def _step(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    service: Callable[..., Any],
    version: int | None,
    **arguments: Any,
) -> dict[str, Any]:
    """Find the case as the caller sees it, take the step through its service, answer."""
    user = request.auth
    case = selectors.case_get(user=user, number=number)
    service(actor=user, case=case, expected_version=version, **arguments)
    return _answer(request, response, number)


@router.post(
    "/{number}/respond",
    response=STEP_RESPONSES,
    summary="响应 / Respond",
    description="接单并告知居民，接单人成为主办人（首接负责）。/ Take the case: the responder"
    " becomes its lead." + STEP_NOTE,
)
def case_respond(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: NoteIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(request, response, number, services.case_respond, version, note=payload.note)


@router.post(
    "/{number}/start",
    response=STEP_RESPONSES,
    summary="开始办理 / Start",
    description="主办人开始办理。/ The lead starts the work." + STEP_NOTE,
)
def case_start(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: NoteIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(request, response, number, services.case_start, version, note=payload.note)


@router.post(
    "/{number}/pause",
    response=STEP_RESPONSES,
    summary="挂起 / Pause",
    description="等待居民或第三方，只停办结计时。/ Waiting for the resident or a third party;"
    " only the completion clock stops." + STEP_NOTE,
)
def case_pause(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: ReasonIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(request, response, number, services.case_pause, version, reason=payload.reason)


@router.post(
    "/{number}/resume",
    response=STEP_RESPONSES,
    summary="恢复办理 / Resume",
    description="挂起时间补回办结截止。/ The paused time is credited to the deadline." + STEP_NOTE,
)
def case_resume(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: NoteIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(request, response, number, services.case_resume, version, note=payload.note)


@router.post(
    "/{number}/complete",
    response=STEP_RESPONSES,
    summary="办结 / Complete",
    description=(
        "multipart/form-data：note、expected_version 与照片 photos（类别要求时必传）。"
        " / multipart/form-data: note, expected_version and photos (required where the"
        " category asks)." + STEP_NOTE
    ),
)
def case_complete(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    note: str = Form(..., description="办结说明 / what was done"),
    expected_version: int | None = Form(None, ge=1, description="版本 / version"),
    photos: list[UploadedFile] = PHOTOS,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(expected_version, if_match)
    return _step(
        request, response, number, services.case_complete, version, note=note, photos=photos or []
    )


@router.post(
    "/{number}/photos",
    response=STEP_RESPONSES,
    summary="补充照片 / Add photos",
    description=(
        "multipart/form-data：photos（一张或多张）与 expected_version。反映人在诉求办理中可补充"
        "问题照片；经办人在诉求结束前可补充办理照片（办结后为办结照片）。每类照片每件诉求最多"
        " 9 张；非图片文件 422。"
        " / multipart/form-data: photos (one or more) and expected_version. The reporter adds"
        " photos of the problem while the case is open; those handling it add photos of the"
        " work until it is finished (completion photos once it is completed). At most 9 of"
        " each kind per case; a file that is not an image is 422." + STEP_NOTE
    ),
)
def case_photos_add(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    expected_version: int | None = Form(None, ge=1, description="版本 / version"),
    photos: list[UploadedFile] = PHOTOS,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(expected_version, if_match)
    return _step(request, response, number, services.case_photos_add, version, photos=photos or [])


class FollowUpIn(VersionIn):
    resolved: bool = Field(description="居民说问题是否解决 / resolved, in the resident's words")
    satisfaction: Satisfaction = Field(description="满意度 / satisfaction")
    method: FollowUpMethod | None = Field(
        None,
        description="phone / visit（工作人员）或 online（反映人本人）；默认按调用者"
        " / phone or visit (staff), online (the reporter); by default from the caller",
    )
    note: str = ""


@router.post(
    "/{number}/follow-up",
    response=STEP_RESPONSES,
    summary="回访 / Follow up",
    description=(
        "由经办人以外的人或反映人本人记录；未解决或不满意则重新办理。/ Recorded by someone other"
        " than the handler, or the reporter online; not resolved or unsatisfied reopens it."
        + STEP_NOTE
    ),
)
def case_follow_up(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: FollowUpIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(
        request,
        response,
        number,
        services.case_follow_up,
        version,
        resolved=payload.resolved,
        satisfaction=payload.satisfaction,
        method=payload.method or "",
        note=payload.note,
    )


@router.post(
    "/{number}/close",
    response=STEP_RESPONSES,
    summary="关闭 / Close",
    description="关闭已回访的诉求。/ Close a followed-up case." + STEP_NOTE,
)
def case_close(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: NoteIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(request, response, number, services.case_close, version, note=payload.note)


@router.post(
    "/{number}/reopen",
    response=STEP_RESPONSES,
    summary="重新办理 / Reopen",
    description="居民投诉：已办结、已回访或已关闭的诉求回到处理中。/ A complaint sends a"
    " completed, followed-up or closed case back to in progress." + STEP_NOTE,
)
def case_reopen(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: ReasonIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(request, response, number, services.case_reopen, version, reason=payload.reason)


class MergeIn(VersionIn):
    into: str = Field(description="并入的诉求编号 / number of the case to merge into")
    note: str = ""


@router.post(
    "/{number}/merge",
    response=STEP_RESPONSES,
    summary="合并 / Merge",
    description="作为重复并入同一居民区的另一未结诉求，双方反映人都会收到进展。/ Merge a"
    " duplicate into another open case of the community; both reporters stay informed." + STEP_NOTE,
)
def case_merge(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: MergeIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    into = selectors.case_get(user=request.auth, number=payload.into)
    return _step(
        request, response, number, services.case_merge, version, into=into, note=payload.note
    )


class DeclineIn(ReasonIn):
    referral: str = Field("", description="转介去向，如 12345 / where referred, e.g. 12345")


@router.post(
    "/{number}/decline",
    response=STEP_RESPONSES,
    summary="不予受理 / Decline",
    description="不属社区职责，写明原因与转介去向。/ Out of scope, with a reason and where it was"
    " referred." + STEP_NOTE,
)
def case_decline(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: DeclineIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(
        request,
        response,
        number,
        services.case_decline,
        version,
        reason=payload.reason,
        referral=payload.referral,
    )


class ToTopicIn(VersionIn):
    note: str = Field(description="转议题的理由 / why it needs a consultation")
    topic_ref: str = Field("", description="关联议题（可稍后关联）/ the topic, if known")


@router.post(
    "/{number}/to-topic",
    response=STEP_RESPONSES,
    summary="转议题 / Turn into a topic",
    description="一方办不了的大事转为协商议题。/ Too big for one party: becomes a consultation"
    " topic." + STEP_NOTE,
)
def case_to_topic(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: ToTopicIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(
        request,
        response,
        number,
        services.case_to_topic,
        version,
        note=payload.note,
        topic_ref=payload.topic_ref,
    )


# --- who handles it -----------------------------------------------------------------------


def _named(username: str, field: str):
    user = api_selectors.user_named(username=username)
    if user is None:
        raise ValidationFailed(_("没有这个用户。"), code="unknown_user", field=field)
    return user


class CoHandlerIn(VersionIn):
    user: str = Field(description="协办人用户名 / the co-handler's username")
    task: str = Field(description="协办任务 / their part of the work")


@router.post(
    "/{number}/co-handlers",
    response=STEP_RESPONSES,
    summary="增加协办 / Add a co-handler",
    description="大事多方办：增加协办方及其分工。/ Add a co-handler with their own part."
    + STEP_NOTE,
)
def case_add_co_handler(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: CoHandlerIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(
        request,
        response,
        number,
        services.case_add_co_handler,
        version,
        user=_named(payload.user, "user"),
        task=payload.task,
    )


class HandlerUpdateIn(VersionIn):
    status: HandlerStatus | None = Field(None, description="进展 / status of the part")
    task: str | None = Field(None, description="分工（仅主办人可改）/ the part (lead only)")
    note: str = ""


@router.post(
    "/{number}/handlers/{handler_id}",
    response=STEP_RESPONSES,
    summary="更新分工进展 / Update a handler's part",
    description="协办方更新自己的进展，主办人可调整分工。/ A party updates its own part; the lead"
    " may change the task." + STEP_NOTE,
)
def case_handler_update(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    handler_id: int,
    payload: HandlerUpdateIn,
    if_match: str | None = IF_MATCH,
):
    user = request.auth
    case = selectors.case_get(user=user, number=number)
    handler = selectors.case_handlers_for(user=user, case=case).filter(pk=handler_id).first()
    if handler is None:
        raise NotFound()
    services.handler_task_update(
        actor=user,
        handler=handler,
        status=payload.status,
        task=payload.task,
        note=payload.note,
        expected_version=_expected_version(payload.expected_version, if_match),
    )
    return _answer(request, response, number)


class TransferIn(VersionIn):
    to: str = Field(description="接收人用户名 / username of the person asked to take over")
    reason: str = Field(description="移交原因 / why")


@router.post(
    "/{number}/transfer",
    response=STEP_RESPONSES,
    summary="申请移交 / Ask someone to take over",
    description="对方接收前仍由原主办人负责（首接负责）。/ The lead stays responsible until the"
    " other person accepts." + STEP_NOTE,
)
def case_transfer(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: TransferIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(
        request,
        response,
        number,
        services.case_transfer,
        version,
        to=_named(payload.to, "to"),
        reason=payload.reason,
    )


@router.post(
    "/{number}/transfer/accept",
    response=STEP_RESPONSES,
    summary="接收移交 / Accept a transfer",
    description="被申请人接收并成为主办人。/ The person asked takes the case as its lead."
    + STEP_NOTE,
)
def case_transfer_accept(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: VersionIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(request, response, number, services.case_transfer_accept, version)


@router.post(
    "/{number}/transfer/refuse",
    response=STEP_RESPONSES,
    summary="拒绝移交 / Refuse a transfer",
    description="被申请人不接收，原主办人继续负责。/ The person asked declines; the lead stays."
    + STEP_NOTE,
)
def case_transfer_refuse(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: ReasonIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(
        request, response, number, services.case_transfer_refuse, version, reason=payload.reason
    )


class AssignIn(VersionIn):
    to: str = Field(description="主办人用户名 / username of the new lead")
    note: str = ""


@router.post(
    "/{number}/assign",
    response=STEP_RESPONSES,
    summary="指派主办 / Assign the lead",
    description="派单；已有主办人的只能由书记或街道改派。/ Dispatch; a case someone leads is"
    " reassigned only by a community lead or supervisor." + STEP_NOTE,
)
def case_assign(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: AssignIn,
    if_match: str | None = IF_MATCH,
):
    version = _expected_version(payload.expected_version, if_match)
    return _step(
        request,
        response,
        number,
        services.case_assign,
        version,
        to=_named(payload.to, "to"),
        note=payload.note,
    )
