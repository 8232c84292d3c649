"""The worker's pages (phone and PC): the inbox ordered by the nearest deadline, the case
page with every action the worker may take, and the fast entry of phone calls, walk-ins
and reception-day cases.

Views read forms, call selectors and services, and render; the predicates of `rules.py`
and the state graph decide which actions are offered, and the services decide again
when one is posted. Pages work without JavaScript; with HTMX the inbox table refreshes
itself and actions swap the case panel in place.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, NamedTuple

import rules
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts.privacy import phone_for_viewer
from gongzhi.accounts.scopes import scopes_with_roles
from gongzhi.accounts.selectors import place_label
from gongzhi.core.clocks import ClockContext, ClockKind, clock_elapsed
from gongzhi.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from gongzhi.places.selectors import place_get

from ..forms_worker import (
    STATE_ALL,
    STATE_OPEN,
    AcceptTransferForm,
    ActionForm,
    AssignForm,
    CoHandlerForm,
    CompleteForm,
    DeclineForm,
    EntryForm,
    ExcludeForm,
    FollowUpForm,
    HandlerUpdateForm,
    InboxFilterForm,
    MergeForm,
    NoteForm,
    PauseForm,
    PlaceChoice,
    ReasonForm,
    ToTopicForm,
    TransferForm,
    add_service_error,
    day_end,
    day_start,
    entry_place,
    place_candidates,
)
from ..models import Case, Category, Channel, HandlerKind, PhotoKind
from ..rules import ENTRY_ROLES
from ..selectors import (
    INBOX_COLUMNS,
    INBOX_PLACE_PATH,
    INBOX_WINDOW,
    WORKER_ROLES,
    case_actions_for,
    case_clock_contexts,
    case_contact_for,
    case_duplicates_for,
    case_follow_ups_for,
    case_get,
    case_handler_candidates_for,
    case_handlers_for,
    case_photos_for,
    case_reporter_candidates_for,
    case_timeline_for,
    cases_page_values,
    categories_for_report,
    clock_contexts_for,
    inbox_areas_for,
    inbox_for,
)
from ..services import (
    FOLLOW_UP_TARGET,
    case_add_co_handler,
    case_assign,
    case_close,
    case_complete,
    case_decline,
    case_exclude_from_rates,
    case_follow_up,
    case_merge,
    case_pause,
    case_reopen,
    case_report,
    case_respond,
    case_resume,
    case_start,
    case_to_topic,
    case_transfer,
    case_transfer_accept,
    case_transfer_refuse,
    handler_task_update,
)
from ..states import OPEN_STATES, CaseState

PAGE_SIZE = 25
# rules §2: the handler is warned at 80 % of a target.
WARN_SHARE = 0.8


# --- countdowns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    """How far a case is along the deadline that matters now, for a bar and a label.

    `level` is ok (green), warn (amber, ≥ 80 % of the target used), overdue (red), paused
    or none; `text` says the same in words, since colour is never the only signal.
    """

    level: str
    text: str
    clock_label: str = ""
    due_at: datetime | None = None
    estimated: bool = False
    used: float = 0.0

    @property
    def percent(self) -> int:
        return max(0, min(100, round(self.used * 100)))


def duration_text(span: timedelta) -> str:
    """A span in the words a worker reads at a glance: 12 分钟, 1 小时 5 分, 2 天 3 小时."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return _("不到 1 分钟")
    if minutes < 60:
        return _("%(m)d 分钟") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if minutes:
            return _("%(h)d 小时 %(m)d 分") % {"h": hours, "m": minutes}
        return _("%(h)d 小时") % {"h": hours}
    days, hours = divmod(hours, 24)
    if hours:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    return _("%(d)d 天") % {"d": days}


def countdown_for(case: Case, *, now: datetime, ctx: ClockContext) -> Countdown:
    """The countdown of the deadline that matters now: the response while the case waits
    for one, then the completion, then the follow-up of a completed case.

    The share of the target used is counted on the policy's own clock (a service-hours
    target does not run at night), as the alarms count it; the time left and the time
    overdue are wall-clock time to the deadline, shown next to the deadline itself.
    """
    if case.state == CaseState.REPORTED:
        clock_label, due, target = _("响应"), case.response_due_at, case.response_target
        clock, estimated = case.response_clock, case.response_due_estimated
    elif case.state in (CaseState.RESPONDED, CaseState.IN_PROGRESS, CaseState.PAUSED):
        clock_label, due, target = _("办结"), case.completion_due_at, case.completion_target
        clock, estimated = case.completion_clock, case.completion_due_estimated
    elif case.state == CaseState.COMPLETED and case.next_due_at is not None:
        clock_label, due, target = _("回访"), case.next_due_at, FOLLOW_UP_TARGET
        clock, estimated = ClockKind.CALENDAR, False
    else:
        return Countdown(level="none", text="")
    if case.state == CaseState.PAUSED and case.paused_at is not None:
        left, _guess = clock_elapsed(case.paused_at, due, clock, ctx)
        return Countdown(
            level="paused",
            text=_("挂起中，办结计时暂停"),
            clock_label=clock_label,
            due_at=due,
            estimated=estimated,
            used=_share_used(left, target),
        )
    if now >= due:
        return Countdown(
            level="overdue",
            text=_("已超时 %(d)s") % {"d": duration_text(now - due)},
            clock_label=clock_label,
            due_at=due,
            estimated=estimated,
            used=1.0,
        )
    left, _guess = clock_elapsed(now, due, clock, ctx)
    used = _share_used(left, target)
    warn = used >= WARN_SHARE
    remaining = duration_text(due - now)
    return Countdown(
        level="warn" if warn else "ok",
        text=(_("即将超时，剩余 %(d)s") if warn else _("剩余 %(d)s")) % {"d": remaining},
        clock_label=clock_label,
        due_at=due,
        estimated=estimated,
        used=used,
    )


def _share_used(left: timedelta, target: timedelta) -> float:
    if target <= timedelta(0):
        return 1.0
    return max(0.0, min(1.0, 1 - left / target))


# --- access -----------------------------------------------------------------------------


def _require_worker(user: Any) -> None:
    """The worker pages are for those a case can be routed to and their supervisors."""
    if not scopes_with_roles(user, WORKER_ROLES):
        raise DjangoPermissionDenied(_("此页面供社区工作人员使用。"))


def _can_enter(user: Any) -> bool:
    """Enters reports for callers and visitors somewhere (supervisors only read)."""
    return bool(scopes_with_roles(user, ENTRY_ROLES))


def _require_entry(user: Any) -> None:
    if not _can_enter(user):
        raise DjangoPermissionDenied(_("只有社区工作人员可以代为登记诉求。"))


def _case_or_404(user: Any, number: str) -> Case:
    try:
        return case_get(user=user, number=number)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- inbox ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    """One case of the inbox as its row shows it (`{% inbox_rows %}`): `place` is its path
    below the community (`place_label`), else its own name; `lead` the lead's name, or
    None when no one leads it yet."""

    number: str
    category: str
    place: str
    state: str
    state_label: str
    lead: str | None
    countdown: Countdown


class _PlaceNode(NamedTuple):
    """A place of a listed case's path as `place_label` reads a place: kind, name, parent."""

    kind: str
    name: str
    parent: "_PlaceNode | None"


def _listed_place(row: dict[str, Any]) -> _PlaceNode | None:
    """The place of a row of `INBOX_COLUMNS` with the places above it that the row has."""
    node = None
    for prefix in reversed(INBOX_PLACE_PATH):
        kind = row.get(f"{prefix}__kind")
        if kind is not None:
            node = _PlaceNode(kind=kind, name=row.get(f"{prefix}__name") or "", parent=node)
    return node


@login_required
@never_cache
@require_GET
def inbox(request):
    """The cases the worker may see and act on, nearest deadline first, with countdowns;
    the table alone is returned to HTMX (filter changes and the 30-second refresh)."""
    user = request.user
    _require_worker(user)
    now = timezone.now()
    areas = inbox_areas_for(user=user)
    communities, grids = areas.communities, areas.grids
    data = request.GET.copy()
    data.setdefault("state", STATE_OPEN)
    form = InboxFilterForm(data, communities=communities, grids=grids)
    form.is_valid()
    cases, note = _filtered(user, form.cleaned_data, communities, grids, now)
    page = _inbox_page(cases, request.GET.get("page"))
    contexts = clock_contexts_for(
        windows={
            row["community_id"]: (
                None if row["service_start"] is None else (row["service_start"], row["service_end"])
            )
            for row in page.object_list
        }
    )
    # Each state's label once: `get_state_display` rebuilds the choices (translating
    # every label) for each row.
    state_labels = {state.value: str(state.label) for state in CaseState}
    rows = []
    for row in page.object_list:
        # The row's values as attributes, as `countdown_for` reads a case.
        case = SimpleNamespace(**row)
        rows.append(
            InboxRow(
                number=row["number"],
                category=row["category__name"],
                place=place_label(_listed_place(row)) or row["place__name"],
                state=row["state"],
                state_label=state_labels.get(row["state"], row["state"]),
                lead=row["lead__name"] or row["lead__username"],
                countdown=countdown_for(case, now=now, ctx=contexts[row["community_id"]]),
            )
        )
    query = data.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "note": note,
        "query": query.urlencode(),
        "now": now,
    }
    template = "cases/worker/_inbox_table.html" if _is_htmx(request) else "cases/worker/inbox.html"
    return render(request, template, context)


def _inbox_page(cases, asked: str | None) -> Page:
    """The page `asked` for, as `Paginator.get_page` gives it (not a number: the first;
    below 1 or past the end: the last), its cases as rows of `INBOX_COLUMNS` and the
    list's total read together (`cases_page_values`): only a page out of range counts
    first."""
    try:
        number = int(asked or "1")
    except ValueError:
        number = 1
    if number >= 1:
        on_page, total = cases_page_values(
            cases,
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            columns=INBOX_COLUMNS,
            computed=INBOX_WINDOW,
        )
        if on_page or number == 1:
            paginator = Paginator(cases, PAGE_SIZE)
            paginator.count = total  # read with the page: the paginator need not count
            page = paginator.page(number)
            page.object_list = on_page
            return page
    page = Paginator(cases, PAGE_SIZE).get_page(asked)
    page.object_list, _total = cases_page_values(
        cases,
        offset=(page.number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        columns=INBOX_COLUMNS,
        computed=INBOX_WINDOW,
    )
    return page


def _filtered(user, data: dict[str, Any], communities, grids, now: datetime):
    """The inbox query for the valid filters, and a note when a filter needs explaining."""
    note = ""
    filters: dict[str, Any] = {"now": now}
    state = data.get("state") or STATE_OPEN
    if state == STATE_OPEN:
        filters["state"] = sorted(OPEN_STATES)
    elif state != STATE_ALL:
        filters["state"] = state
    if data.get("category"):
        filters["category"] = data["category"]
    area = data.get("area") or ""
    if area.startswith("p:"):
        filters["place"] = next((c for c in communities if c.code == area[2:]), None)
    elif area.startswith("g:"):
        filters["grid"] = next((g for g in grids if str(g.pk) == area[2:]), None)
    if data.get("place"):
        found = place_candidates(user=user, text=data["place"])
        if not found:
            return inbox_for(user=user, **filters).none(), _("没有找到地点“%(q)s”。") % {
                "q": data["place"]
            }
        filters["place"] = found[0]
        if len(found) > 1:
            note = _("“%(q)s”匹配到多个地点，已按“%(p)s”筛选。") % {
                "q": data["place"],
                "p": place_label(found[0]) or found[0].name,
            }
    if data.get("mine"):
        filters["assignee"] = user
    if data.get("overdue"):
        filters["overdue"] = True
    if data.get("reported_from"):
        filters["reported_from"] = day_start(data["reported_from"])
    if data.get("reported_to"):
        filters["reported_to"] = day_end(data["reported_to"])
    cases = inbox_for(user=user, **filters)
    return cases, note


# --- the case page and its actions --------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One thing a worker may do to a case: its form, and the service call it makes."""

    name: str
    label: str
    form_class: type[ActionForm]
    run: Callable[[Any, Case, Any], str]
    # Shown as a button (with an optional note) rather than folded away.
    quick: bool = False
    tone: str = "secondary"


def _version(form) -> int:
    return form.cleaned_data["version"]


def _respond(user, case, form) -> str:
    case_respond(
        actor=user, case=case, note=form.cleaned_data["note"], expected_version=_version(form)
    )
    return _("已响应：您已接单，负责办理该诉求。")


def _start(user, case, form) -> str:
    case_start(
        actor=user, case=case, note=form.cleaned_data["note"], expected_version=_version(form)
    )
    return _("已开始办理。")


def _pause(user, case, form) -> str:
    case_pause(
        actor=user, case=case, reason=form.cleaned_data["reason"], expected_version=_version(form)
    )
    return _("已挂起，办结计时暂停。")


def _resume(user, case, form) -> str:
    case_resume(
        actor=user, case=case, note=form.cleaned_data["note"], expected_version=_version(form)
    )
    return _("已恢复办理，挂起时间已补回。")


def _complete(user, case, form) -> str:
    case_complete(
        actor=user,
        case=case,
        note=form.cleaned_data["note"],
        photos=form.cleaned_data["photos"],
        expected_version=_version(form),
    )
    return _("已办结，等待回访。")


def _follow_up(user, case, form) -> str:
    data = form.cleaned_data
    case_follow_up(
        actor=user,
        case=case,
        resolved=data["resolved"],
        satisfaction=data["satisfaction"],
        method=data["method"],
        note=data["note"],
        expected_version=_version(form),
    )
    return _("回访已记录。")


def _close(user, case, form) -> str:
    case_close(
        actor=user, case=case, note=form.cleaned_data["note"], expected_version=_version(form)
    )
    return _("诉求已关闭。")


def _reopen(user, case, form) -> str:
    case_reopen(
        actor=user, case=case, reason=form.cleaned_data["reason"], expected_version=_version(form)
    )
    return _("诉求已重新办理。")


def _merge(user, case, form) -> str:
    number = form.cleaned_data["into"]
    try:
        target = case_get(user=user, number=number)
    except NotFound:
        raise ValidationFailed(
            _("找不到编号为 %(n)s 的诉求。") % {"n": number}, field="into"
        ) from None
    case_merge(
        actor=user,
        case=case,
        into=target,
        note=form.cleaned_data["note"],
        expected_version=_version(form),
    )
    return _("已并入诉求 %(n)s。") % {"n": target.number}


def _decline(user, case, form) -> str:
    case_decline(
        actor=user,
        case=case,
        reason=form.cleaned_data["reason"],
        referral=form.cleaned_data["referral"],
        expected_version=_version(form),
    )
    return _("已不予受理，并告知反映人。")


def _to_topic(user, case, form) -> str:
    case_to_topic(
        actor=user, case=case, note=form.cleaned_data["note"], expected_version=_version(form)
    )
    return _("已转为议题。")


def _assign(user, case, form) -> str:
    to = form.chosen()
    case_assign(
        actor=user,
        case=case,
        to=to,
        note=form.cleaned_data["note"],
        expected_version=_version(form),
    )
    return _("已指派 %(name)s 主办。") % {"name": to.display_name}


def _transfer(user, case, form) -> str:
    to = form.chosen()
    case_transfer(
        actor=user,
        case=case,
        to=to,
        reason=form.cleaned_data["reason"],
        expected_version=_version(form),
    )
    return _("已申请移交给 %(name)s，对方接收前仍由您负责。") % {"name": to.display_name}


def _accept_transfer(user, case, form) -> str:
    if form.cleaned_data["decision"] == "accept":
        case_transfer_accept(actor=user, case=case, expected_version=_version(form))
        return _("已接收，您现在是主办人。")
    case_transfer_refuse(
        actor=user, case=case, reason=form.cleaned_data["reason"], expected_version=_version(form)
    )
    return _("已拒绝接收。")


def _add_co_handler(user, case, form) -> str:
    who = form.chosen()
    case_add_co_handler(
        actor=user,
        case=case,
        user=who,
        task=form.cleaned_data["task"],
        expected_version=_version(form),
    )
    return _("已增加协办：%(name)s。") % {"name": who.display_name}


def _exclude(user, case, form) -> str:
    case_exclude_from_rates(actor=user, case=case, reason=form.cleaned_data["reason"])
    return _("该诉求已不计入统计，原因已记录。")


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action("respond", gettext_lazy("响应接单"), NoteForm, _respond, quick=True, tone="primary"),
        Action("start", gettext_lazy("开始办理"), NoteForm, _start, quick=True, tone="primary"),
        Action("resume", gettext_lazy("恢复办理"), NoteForm, _resume, quick=True, tone="primary"),
        Action(
            "accept_transfer",
            gettext_lazy("接收移交"),
            AcceptTransferForm,
            _accept_transfer,
            quick=True,
            tone="primary",
        ),
        Action("complete", gettext_lazy("办结"), CompleteForm, _complete, tone="primary"),
        Action("pause", gettext_lazy("挂起"), PauseForm, _pause),
        Action("follow_up", gettext_lazy("记录回访"), FollowUpForm, _follow_up, tone="primary"),
        Action("close", gettext_lazy("关闭"), NoteForm, _close),
        Action("reopen", gettext_lazy("重新办理"), ReasonForm, _reopen),
        Action("assign", gettext_lazy("指派主办人"), AssignForm, _assign),
        Action("transfer", gettext_lazy("移交他人"), TransferForm, _transfer),
        Action("add_co_handler", gettext_lazy("增加协办"), CoHandlerForm, _add_co_handler),
        Action("merge", gettext_lazy("合并到其他诉求"), MergeForm, _merge),
        Action("decline", gettext_lazy("不予受理"), DeclineForm, _decline, tone="danger"),
        Action("to_topic", gettext_lazy("转议题"), ToTopicForm, _to_topic),
        Action("exclude_from_rates", gettext_lazy("不计入统计"), ExcludeForm, _exclude),
    ]
}
# Actions whose form lists people who could handle the case.
PICK_HANDLER = frozenset({"assign", "transfer", "add_co_handler"})


def _form_kwargs(action: Action, case: Case, candidates) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"prefix": action.name}
    if action.name in PICK_HANDLER:
        kwargs["candidates"] = candidates
    if action.name == "complete":
        kwargs["category"] = case.category
    return kwargs


@dataclass
class OfferedAction:
    action: Action
    form: forms.Form
    url: str
    is_open: bool = False

    @property
    def multipart(self) -> bool:
        return self.form.is_multipart()


@login_required
@never_cache
@require_GET
def case_detail(request, number: str):
    """Everything about one case and every action the worker may take on it now."""
    _require_worker(request.user)
    case = _case_or_404(request.user, number)
    return _render_case(request, case)


@login_required
@never_cache
@require_POST
def case_action(request, number: str, action: str):
    """Run one action through its service with the version the page showed. A refusal
    (stale version, a step the graph does not allow, bad input) shows the case as it is
    now with the reason, keeping what the worker typed."""
    user = request.user
    _require_worker(user)
    case = _case_or_404(user, number)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404()
    candidates = case_handler_candidates_for(user=user, case=case) if action in PICK_HANDLER else []
    if _posted_version(request, action) not in (None, case.version):
        # The page was stale: say what changed before judging what is allowed now.
        return _conflict(request, user, case, spec, candidates)
    if action not in _offered_names(user, case):
        return _render_case(
            request, case, problem=_("您不能对该诉求执行“%(a)s”。") % {"a": spec.label}, status=403
        )
    form = spec.form_class(request.POST, request.FILES, **_form_kwargs(spec, case, candidates))
    if not form.is_valid():
        return _render_case(request, case, bound=(action, form), status=422)
    try:
        notice = spec.run(user, case, form)
    except Conflict:
        return _conflict(request, user, case, spec, candidates)
    except ValidationFailed as exc:
        add_service_error(form, exc)
        return _render_case(request, case, bound=(action, form), status=422)
    except (InvalidTransition, PermissionDenied) as exc:
        fresh = _case_or_404(user, number)
        return _render_case(request, fresh, problem=str(exc.message), status=exc.http_status)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    fresh = _case_or_404(user, number)
    if _is_htmx(request):
        return _render_case(request, fresh, notice=notice)
    messages.success(request, notice)
    return redirect("cases_worker:case", number=fresh.number)


@login_required
@never_cache
@require_POST
def handler_update(request, number: str):
    """A handler's own part of a joint case (大事多方办): its status and a note, by that
    handler or the lead."""
    user = request.user
    _require_worker(user)
    case = _case_or_404(user, number)
    form = HandlerUpdateForm(request.POST, prefix="handler")
    if not form.is_valid():
        return _render_case(request, case, problem=_("请选择进展状态。"), status=422)
    handler = (
        case_handlers_for(user=user, case=case)
        .filter(pk=form.cleaned_data["handler"], is_active=True)
        .first()
    )
    if handler is None:
        raise Http404()
    try:
        handler_task_update(
            actor=user,
            handler=handler,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except Conflict:
        fresh = _case_or_404(user, number)
        return _render_case(
            request,
            fresh,
            problem=_("该诉求已被他人更新，当前状态为“%(state)s”。请查看最新情况后再操作。")
            % {"state": fresh.get_state_display()},
            status=409,
        )
    except DomainError as exc:
        return _render_case(request, case, problem=str(exc.message), status=exc.http_status)
    fresh = _case_or_404(user, number)
    notice = _("协办进展已更新。")
    if _is_htmx(request):
        return _render_case(request, fresh, notice=notice)
    messages.success(request, notice)
    return redirect("cases_worker:case", number=fresh.number)


def _posted_version(request, action: str) -> int | None:
    raw = request.POST.get(f"{action}-version", "")
    return int(raw) if raw.isdigit() else None


def _conflict(request, user, case: Case, spec: Action, candidates) -> HttpResponse:
    """Someone changed the case since the page was drawn: show it as it is now and, if the
    action is still possible, the worker's form again at the new version — what they typed
    stays, and they send it once they have seen the change."""
    fresh = _case_or_404(user, case.number)
    bound = None
    if spec.name in _offered_names(user, fresh):
        data = request.POST.copy()
        data[f"{spec.name}-version"] = str(fresh.version)
        bound = (spec.name, spec.form_class(data, **_form_kwargs(spec, fresh, candidates)))
    return _render_case(
        request,
        fresh,
        problem=_("该诉求已被他人更新，当前状态为“%(state)s”。请查看最新情况后再操作。")
        % {"state": fresh.get_state_display()},
        bound=bound,
        status=409,
    )


def _offered_names(user, case: Case) -> list[str]:
    """The actions to offer: the selector's, less those the service would refuse anyway —
    assigning a case someone already leads (首接负责: they hand it over, or those above
    them reassign it) and excluding a case already excluded."""
    names = case_actions_for(user=user, case=case)
    if "assign" in names and case.lead_id and not rules.has_perm("cases.reassign", user, case):
        names.remove("assign")
    if "exclude_from_rates" in names and _exclusion(case) is not None:
        names.remove("exclude_from_rates")
    return names


def _exclusion(case: Case):
    try:
        return case.rate_exclusion
    except Case.rate_exclusion.RelatedObjectDoesNotExist:
        return None


def _render_case(
    request,
    case: Case,
    *,
    notice: str = "",
    problem: str = "",
    bound: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    names = _offered_names(user, case)
    candidates = (
        case_handler_candidates_for(user=user, case=case) if PICK_HANDLER & set(names) else []
    )
    offered = []
    for name in [n for n in ACTIONS if n in names]:
        spec = ACTIONS[name]
        if bound is not None and bound[0] == name:
            form, is_open = bound[1], True
        else:
            form = spec.form_class(
                initial={"version": case.version}, **_form_kwargs(spec, case, candidates)
            )
            is_open = False
        offered.append(
            OfferedAction(
                action=spec,
                form=form,
                url=reverse("cases_worker:action", args=[case.number, name]),
                is_open=is_open,
            )
        )
    # The lead first, then the co-handlers; former handlers last.
    handlers = sorted(
        case_handlers_for(user=user, case=case),
        key=lambda h: (not h.is_active, h.kind != HandlerKind.LEAD),
    )
    leads = rules.has_perm("cases.start", user, case)
    photos = list(case_photos_for(user=user, case=case))
    ctx = case_clock_contexts(cases=[case])[case.community_id]
    context = {
        "case": case,
        "place": place_label(case.place) or case.place.name,
        "countdown": countdown_for(case, now=now, ctx=ctx),
        "contact": case_contact_for(user=user, case=case),
        "answers": _answers(case),
        "timeline": case_timeline_for(user=user, case=case),
        "handlers": [
            (
                h,
                HandlerUpdateForm(
                    prefix="handler",
                    initial={"version": case.version, "handler": h.pk, "status": h.status},
                )
                # A co-handler's part moves on its own; the lead's moves with the case.
                if h.is_active
                and h.kind == HandlerKind.CO_HANDLER
                and case.is_open
                and (h.user_id == user.pk or leads)
                else None,
            )
            for h in handlers
        ],
        "follow_ups": case_follow_ups_for(user=user, case=case),
        "report_photos": [p for p in photos if p.kind == PhotoKind.REPORT],
        "progress_photos": [p for p in photos if p.kind == PhotoKind.PROGRESS],
        "completion_photos": [p for p in photos if p.kind == PhotoKind.COMPLETION],
        "quick_actions": [o for o in offered if o.action.quick],
        "other_actions": [o for o in offered if not o.action.quick],
        "exclusion": _exclusion(case),
        "paused_for_text": duration_text(now - case.paused_at) if case.paused_at else "",
        "paused_total_text": duration_text(case.paused_total),
        "notice": notice,
        "problem": problem,
        "now": now,
    }
    template = "cases/worker/_case_panel.html" if _is_htmx(request) else "cases/worker/case.html"
    return render(request, template, context, status=status)


def _answers(case: Case) -> list[tuple[str, str]]:
    """The answers to the category's extra questions, as label and words."""
    shown = []
    for question in case.category.questions:
        value = case.answers.get(question["code"])
        if value in (None, "", []):
            continue
        names = {v["key"]: v["name"] for v in question.get("values", [])}
        if isinstance(value, list):
            text = "、".join(names.get(v, v) for v in value)
        else:
            text = names.get(value, str(value)) if names else str(value)
        shown.append((question["label"], text))
    return shown


# --- fast entry -----------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def entry(request):
    """Enter a phone call, a walk-in or a reception-day case — or report for a resident
    (代居民上报) — from the keyboard; after saving, the number and a fresh form."""
    user = request.user
    _require_entry(user)
    if request.method == "POST":
        spot = entry_place(
            user=user, code=request.POST.get("place", ""), query=request.POST.get("place_query", "")
        )
        reporters = case_reporter_candidates_for(user=user, place=spot.place) if spot.place else []
        form = EntryForm(request.POST, spot=spot, reporters=reporters)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = case_report(
                    actor=user,
                    place=spot.place,
                    category=data["category"],
                    text=data["text"],
                    channel=data["channel"],
                    reporter=form.chosen_reporter(),
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    is_anonymous=data["is_anonymous"],
                    answers=form.answers(),
                    idempotency_key=data["idempotency_key"],
                )
            except DomainError as exc:
                add_service_error(form, exc)
            else:
                return redirect(
                    f"{reverse('cases_worker:new')}?channel={case.channel}&saved={case.number}"
                )
        return _render_entry(request, form, reporters=reporters, status=422)
    channel = request.GET.get("channel")
    if channel not in (Channel.PHONE, Channel.WALK_IN, Channel.RECEPTION_DAY):
        channel = Channel.PHONE
    form = EntryForm(
        initial={"channel": channel, "idempotency_key": uuid.uuid4().hex},
        spot=PlaceChoice(place=None, options=[]),
    )
    saved = None
    if request.GET.get("saved"):
        try:
            saved = case_get(user=user, number=request.GET["saved"])
        except NotFound:
            saved = None
    return _render_entry(request, form, saved=saved)


def _render_entry(request, form: EntryForm, *, reporters=(), saved=None, status: int = 200):
    return render(
        request,
        "cases/worker/entry.html",
        {
            "form": form,
            "spot": form.spot,
            "reporters": _reporter_rows(request.user, form.spot.place, reporters),
            "chosen_reporter": form["reporter"].value() or "",
            "saved": saved,
        },
        status=status,
    )


def _reporter_rows(user, place, reporters) -> list[tuple[Any, str]]:
    """Each resident with their phone as this worker may see it (masked for most)."""
    return [
        (r, phone_for_viewer(viewer=user, subject_phone=r.phone, place=place)) for r in reporters
    ]


@login_required
@never_cache
@require_GET
def entry_places(request):
    """The places matching what the worker typed, as choices (and, for a single match,
    its residents for 代居民上报)."""
    user = request.user
    _require_entry(user)
    query = request.GET.get("place_query", "")
    options = place_candidates(user=user, text=query)
    only = options[0] if len(options) == 1 else None
    reporters = case_reporter_candidates_for(user=user, place=only) if only else []
    return render(
        request,
        "cases/worker/_place_options.html",
        {
            "spot": PlaceChoice(place=only, options=options),
            "query": query,
            "reporters": _reporter_rows(user, only, reporters),
            "with_reporters": True,
        },
    )


@login_required
@never_cache
@require_GET
def entry_reporters(request):
    """The residents of the chosen place, to report on one's behalf."""
    user = request.user
    _require_entry(user)
    try:
        place = place_get(user=user, code=request.GET.get("place", ""))
    except NotFound:
        place = None
    reporters = case_reporter_candidates_for(user=user, place=place) if place else []
    return render(
        request,
        "cases/worker/_reporters.html",
        {"reporters": _reporter_rows(user, place, reporters), "chosen_reporter": ""},
    )


@login_required
@never_cache
@require_GET
def entry_questions(request):
    """The chosen category's extra questions."""
    _require_entry(request.user)
    form = EntryForm(
        initial={"category": request.GET.get("category")},
        spot=PlaceChoice(place=None, options=[]),
    )
    return render(request, "cases/worker/_questions.html", {"form": form})


@login_required
@never_cache
@require_GET
def entry_duplicates(request):
    """Open cases that look like the one being typed (same category, same building)."""
    user = request.user
    _require_entry(user)
    spot = entry_place(
        user=user, code=request.GET.get("place", ""), query=request.GET.get("place_query", "")
    )
    category = _category(request.GET.get("category"))
    text = request.GET.get("text", "")
    duplicates = (
        case_duplicates_for(user=user, category=category, place=spot.place, text=text)
        if spot.place and category and text.strip()
        else []
    )
    return render(request, "cases/worker/_duplicates.html", {"duplicates": duplicates})


def _category(raw: str | None) -> Category | None:
    if not raw or not raw.isdigit():
        return None
    return categories_for_report().filter(pk=int(raw)).first()
