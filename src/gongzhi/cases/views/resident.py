"""The resident's pages, phone first: the community's report page behind its QR code
(一居一码) with signing in by a texted code, the confirmation, 我的诉求 with each case's
timeline and the follow-up rating, the printable poster, and the elder-friendly switch.

Views read forms, call a service or a selector, and render; the services decide, the
selectors decide what the resident may see (a case that is not theirs is a 404).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import rules
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts import selectors as account_selectors
from gongzhi.accounts import services as account_services
from gongzhi.accounts.models import STAFF_ROLES, OtpPurpose, ResidencyStatus, User
from gongzhi.accounts.privacy import mask_phone
from gongzhi.accounts.scopes import scopes_with_roles
from gongzhi.accounts.views import client_ip
from gongzhi.core.clocks import ClockKind, TargetUnit, target_duration
from gongzhi.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from gongzhi.core.ratelimit import report_rate_limited
from gongzhi.core.workdays import clock_context_for
from gongzhi.places.models import Place
from gongzhi.places.selectors import community_for_report_slug

from .. import selectors, services
from ..forms_resident import CodeForm, FollowUpForm, PhoneForm, ReopenForm, ReportForm
from ..models import Case, Category, CategoryGroup, Channel, EventKind, FollowUpMethod
from ..qr import qr_svg, report_url
from ..rules import home_communities, is_reporter
from ..states import CaseState

# The code step remembers the phone and what the code was sent for between two requests.
_OTP_SESSION = "resident_otp"
# No password was checked, so the session needs to be told which backend vouches.
_SESSION_BACKEND = "gongzhi.accounts.backends.PhoneOrUsernameBackend"
# A phone that cannot sign in gets the code that fits it: a phone new to the platform
# opens an account, a phone the community entered from its roster takes it up.
_PURPOSE_AFTER_REFUSAL = {
    "phone_unknown": OtpPurpose.REGISTER,
    "account_not_activated": OtpPurpose.ACTIVATE,
}
ELDER_COOKIE = "elder_mode"
ELDER_COOKIE_AGE = 365 * 24 * 60 * 60
# Groups where a life may be at stake: the page says to call the emergency numbers too.
_URGENT_GROUPS = frozenset({CategoryGroup.PEOPLE_AT_RISK, CategoryGroup.URGENT_SAFETY})
_MY_CASES_PAGE = 20


@dataclass(frozen=True)
class StateWords:
    """How a resident reads a case's state: a sentence, a short form for elder mode, and
    a sign that is not colour alone."""

    text: Any
    short: Any
    sign: str
    tone: str


STATE_WORDS: dict[str, StateWords] = {
    CaseState.REPORTED: StateWords(
        gettext_lazy("已收到，等待工作人员接单"), gettext_lazy("已收到"), "○", "waiting"
    ),
    CaseState.RESPONDED: StateWords(
        gettext_lazy("已有工作人员负责"), gettext_lazy("有人负责"), "◔", "working"
    ),
    CaseState.IN_PROGRESS: StateWords(
        gettext_lazy("正在处理"), gettext_lazy("处理中"), "◑", "working"
    ),
    CaseState.PAUSED: StateWords(
        gettext_lazy("暂停处理，等待条件具备"), gettext_lazy("暂停"), "‖", "waiting"
    ),
    CaseState.COMPLETED: StateWords(
        gettext_lazy("已办好，请您评价"), gettext_lazy("请评价"), "★", "rate"
    ),
    CaseState.FOLLOWED_UP: StateWords(
        gettext_lazy("您已评价"), gettext_lazy("已评价"), "✓", "done"
    ),
    CaseState.CLOSED: StateWords(gettext_lazy("已结束"), gettext_lazy("已结束"), "✓", "done"),
    CaseState.MERGED: StateWords(
        gettext_lazy("与其他居民的反映合并办理"), gettext_lazy("已合并"), "⇉", "done"
    ),
    CaseState.DECLINED: StateWords(
        gettext_lazy("不属于社区办理范围"), gettext_lazy("不受理"), "✕", "done"
    ),
    CaseState.TO_TOPIC: StateWords(
        gettext_lazy("转为议题，请大家一起商量"), gettext_lazy("商量中"), "◇", "working"
    ),
}

# Each public step of the timeline, said plainly (the event's note adds the details).
EVENT_WORDS: dict[str, Any] = {
    EventKind.REPORTED: gettext_lazy("您反映了问题"),
    EventKind.RESPONDED: gettext_lazy("工作人员接单"),
    EventKind.STARTED: gettext_lazy("开始处理"),
    EventKind.PAUSED: gettext_lazy("暂停处理"),
    EventKind.RESUMED: gettext_lazy("继续处理"),
    EventKind.COMPLETED: gettext_lazy("已办好"),
    EventKind.FOLLOWED_UP: gettext_lazy("您的评价"),
    EventKind.NO_ANSWER: gettext_lazy("未能回访"),
    EventKind.CLOSED: gettext_lazy("结束"),
    EventKind.REOPENED: gettext_lazy("重新处理"),
    EventKind.MERGED: gettext_lazy("合并办理"),
    EventKind.MERGED_IN: gettext_lazy("其他居民也反映了"),
    EventKind.DECLINED: gettext_lazy("不予受理"),
    EventKind.TO_TOPIC: gettext_lazy("转为议题"),
    EventKind.CO_HANDLER_ADDED: gettext_lazy("增加协办单位"),
    EventKind.HANDLER_UPDATED: gettext_lazy("协办进展"),
}


# --- helpers ------------------------------------------------------------------------------


def _community(slug: str) -> Place:
    try:
        return community_for_report_slug(slug)
    except NotFound:
        raise Http404 from None


def _own_case(request: HttpRequest, number: str) -> Case:
    """A case the signed-in person reported (or whose duplicate they reported), else 404."""
    try:
        case = selectors.case_get(user=request.user, number=number)
    except NotFound:
        raise Http404 from None
    if not is_reporter(request.user, case):
        raise Http404
    return case


def _safe_next(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def when_words(moment: datetime, *, now: datetime, estimated: bool = False) -> str:
    """A deadline as a resident says it: "今天 09:15", "明天 17:00", "12月3日 17:00",
    in local time; "约" in front when the holiday calendar behind it is an estimate."""
    local = timezone.localtime(moment)
    days = (local.date() - timezone.localtime(now).date()).days
    clock = local.strftime("%H:%M")
    if days == 0:
        words = _("今天 %(time)s") % {"time": clock}
    elif days == 1:
        words = _("明天 %(time)s") % {"time": clock}
    elif days == 2:
        words = _("后天 %(time)s") % {"time": clock}
    else:
        words = _("%(month)d月%(day)d日 %(time)s") % {
            "month": local.month,
            "day": local.day,
            "time": clock,
        }
    return _("约%(when)s") % {"when": words} if estimated else words


def _expectations(case: Case, *, now: datetime) -> dict[str, str]:
    """When the resident may expect a response and the completion, from the stored dues."""
    return {
        "response": when_words(
            case.response_due_at, now=now, estimated=case.response_due_estimated
        ),
        "completion": when_words(
            case.completion_due_at, now=now, estimated=case.completion_due_estimated
        ),
    }


def _answer_rows(case: Case) -> list[tuple[str, str]]:
    """The extra questions' answers as (question, answer) in the category's order."""
    rows = []
    for question in case.category.questions:
        value = case.answers.get(question["code"])
        if value in (None, "", []):
            continue
        names = {v["key"]: v["name"] for v in question.get("values", [])}
        if question["datatype"] == "multivaluelist":
            shown = "、".join(names.get(v, v) for v in value)
        elif question["datatype"] == "singlevaluelist":
            shown = names.get(value, value)
        elif question["datatype"] == "datetime":
            shown = timezone.localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        else:
            shown = str(value)
        rows.append((question["label"], shown))
    return rows


def _photo_url(photo_pk: int) -> str | None:
    """The access-checked address of a photo, where the worker pages serve one."""
    try:
        return reverse("cases_worker:photo", args=[photo_pk])
    except NoReverseMatch:
        return None


# --- signing in with a code ---------------------------------------------------------------


def _send_code(phone: str) -> tuple[str, RateLimited | None]:
    """Text the code that fits `phone` and say what it was sent for. A code sent moments
    ago is still good: the resident is told to use it (the RateLimited is returned)."""
    purpose: str = OtpPurpose.LOGIN
    try:
        account_services.otp_request(phone=phone, purpose=purpose)
        return purpose, None
    except RateLimited as error:
        return purpose, error
    except ValidationFailed as error:
        if error.code not in _PURPOSE_AFTER_REFUSAL:
            raise
        purpose = _PURPOSE_AFTER_REFUSAL[error.code]
    try:
        account_services.otp_request(phone=phone, purpose=purpose)
    except RateLimited as error:
        return purpose, error
    return purpose, None


def _verify_code(request: HttpRequest, *, phone: str, purpose: str, code: str, name: str) -> User:
    ip_address = client_ip(request)
    if purpose == OtpPurpose.LOGIN:
        return account_services.otp_sign_in(phone=phone, code=code, ip_address=ip_address)
    if purpose == OtpPurpose.ACTIVATE:
        return account_services.account_activate(phone=phone, code=code, ip_address=ip_address)
    return account_services.resident_register(phone=phone, code=code, name=name)


def _pending_code(request: HttpRequest, slug: str) -> dict[str, str] | None:
    pending = request.session.get(_OTP_SESSION)
    if not pending or pending.get("slug") != slug:
        return None
    return pending


def _signin_page(
    request: HttpRequest,
    community: Place,
    *,
    phone_form: PhoneForm | None = None,
    code_form: CodeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    slug = community.settings.report_slug
    pending = _pending_code(request, slug)
    if pending and code_form is None:
        code_form = CodeForm(needs_name=pending["purpose"] == OtpPurpose.REGISTER)
    return render(
        request,
        "cases/resident/signin.html",
        {
            "community": community,
            "slug": slug,
            "phone_form": phone_form
            or PhoneForm(initial={"phone": pending["phone"] if pending else ""}),
            "code_form": code_form if pending else None,
            "masked_phone": mask_phone(pending["phone"]) if pending else "",
            "login_url": reverse("accounts:login") + "?next=" + request.path,
        },
        status=status,
    )


@never_cache
@require_POST
def report_code(request: HttpRequest, slug: str) -> HttpResponse:
    """Without an account, step one: text a code to the phone typed."""
    community = _community(slug)
    form = PhoneForm(request.POST)
    if form.is_valid():
        phone = form.cleaned_data["phone"]
        try:
            purpose, earlier = _send_code(phone)
        except DomainError as error:
            form.add_error("phone", error.message)
        else:
            request.session[_OTP_SESSION] = {"phone": phone, "purpose": purpose, "slug": slug}
            if earlier is not None:
                messages.info(request, earlier.message)
            else:
                messages.success(
                    request,
                    _("验证码已发送至 %(phone)s，%(minutes)d 分钟内有效。")
                    % {
                        "phone": mask_phone(phone),
                        "minutes": settings.GONGZHI["OTP_TTL_SECONDS"] // 60,
                    },
                )
            return redirect("resident:report", slug)
    request.session.pop(_OTP_SESSION, None)
    return _signin_page(request, community, phone_form=form)


@sensitive_post_parameters("code")
@never_cache
@require_POST
def report_verify(request: HttpRequest, slug: str) -> HttpResponse:
    """Without an account, step two: the code proves the phone; the person is signed in
    (their account found, taken up, or opened) and goes on to the same form."""
    community = _community(slug)
    pending = _pending_code(request, slug)
    if pending is None:
        messages.error(request, _("请先获取验证码。"))
        return redirect("resident:report", slug)
    form = CodeForm(request.POST, needs_name=pending["purpose"] == OtpPurpose.REGISTER)
    status = 200
    if form.is_valid():
        try:
            user = _verify_code(
                request,
                phone=pending["phone"],
                purpose=pending["purpose"],
                code=form.cleaned_data["code"],
                name=form.cleaned_data.get("name", ""),
            )
        except DomainError as error:
            field = "name" if error.code == "name_required" and "name" in form.fields else "code"
            form.add_error(field, error.message)
            if isinstance(error, RateLimited):
                status = error.http_status
        else:
            request.session.pop(_OTP_SESSION, None)
            login(request, user, backend=_SESSION_BACKEND)
            messages.success(request, _("手机号已验证。请选择您要反映的问题。"))
            return redirect("resident:report", slug)
    return _signin_page(request, community, code_form=form, status=status)


# --- reporting ----------------------------------------------------------------------------


def _place_choices(
    user: User, community: Place
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, Place]]:
    """The form's choices — the person's homes, then the shared places — and the places
    by the value the form posts back (`selectors.report_places_for` decides both)."""
    places = selectors.report_places_for(user=user, community=community)
    homes = [(str(p.pk), account_selectors.place_label(p)) for p in places.homes]
    shared = []
    for place in places.shared:
        label = account_selectors.place_label(place)
        if place.kind == "estate":
            label = _("%(estate)s（整个小区）") % {"estate": label}
        shared.append((str(place.pk), label))
    return homes, shared, {str(p.pk): p for p in places.homes + places.shared}


def _category_groups(categories: list[Category]) -> list[dict[str, Any]]:
    by_group: dict[str, list[Category]] = {}
    for category in categories:
        by_group.setdefault(category.group, []).append(category)
    return [
        {
            "code": group.value,
            "label": group.label,
            "urgent": group in _URGENT_GROUPS,
            "categories": by_group[group],
        }
        for group in CategoryGroup
        if group in by_group
    ]


@never_cache
@require_http_methods(["GET", "POST"])
@report_rate_limited
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """The community's report page (一居一码). Not signed in: a phone and a code first,
    or a password sign-in. Signed in: category tiles, the place (their home pre-filled),
    the text, photos, the category's questions, and anonymity to the public."""
    community = _community(slug)
    if not request.user.is_authenticated:
        return _signin_page(request, community)
    categories = list(selectors.categories_for_report())
    home, shared, places = _place_choices(request.user, community)
    form_kwargs = {
        "categories": categories,
        "home_places": home,
        "public_places": shared,
    }
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            category = data["category_obj"]
            try:
                case = services.case_report(
                    actor=request.user,
                    place=places[data["place"]],
                    category=category,
                    text=data["text"],
                    channel=Channel.RESIDENT_PAGE,
                    is_anonymous=data["is_anonymous"],
                    answers=data["answers"],
                    photos=data["photos"],
                    idempotency_key=data["idempotency_key"],
                )
            except ValidationFailed as error:
                form.add_service_error(error, category=category)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return redirect("resident:reported", case.number)
    else:
        form = ReportForm(
            initial={
                "place": home[0][0] if home else "",
                "idempotency_key": uuid.uuid4().hex,
            },
            **form_kwargs,
        )
    return render(
        request,
        "cases/resident/report.html",
        {
            "community": community,
            "slug": slug,
            "form": form,
            "groups": _category_groups(categories),
            "question_sets": [(c, form.question_fields(c)) for c in categories if c.questions],
            "has_home": bool(home),
            "may_report": bool(places),
            "lives_elsewhere": not places and bool(home_communities(request.user)),
            "claim_url": f"{reverse('accounts:claim')}?community={community.pk}",
            "photos_dropped": form.is_bound and bool(request.FILES.getlist("photos")),
        },
    )


@require_GET
def report_duplicates(request: HttpRequest, slug: str) -> HttpResponse:
    """HTMX: open cases that look like the report being typed (same category, same
    building or estate, overlapping words), so the resident can see it is known."""
    community = _community(slug)
    candidates: list[selectors.DuplicateCandidate] = []
    text = request.GET.get("text", "").strip()
    code = request.GET.get("category", "")
    pk = request.GET.get("place", "")
    if request.user.is_authenticated and text and code and pk:
        category = selectors.categories_for_report().filter(code=code).first()
        place = _place_choices(request.user, community)[2].get(pk)
        if category is not None and place is not None:
            candidates = selectors.case_duplicates_for(
                user=request.user, category=category, place=place, text=text
            )
    # Only the resident's own cases are linked: the others' pages are not theirs to open.
    own = (
        set(
            selectors.cases_reported_by(user=request.user)
            .filter(number__in=[c.number for c in candidates])
            .values_list("number", flat=True)
        )
        if candidates
        else set()
    )
    return render(
        request,
        "cases/resident/_duplicates.html",
        {"candidates": candidates, "own": own},
    )


@login_required
@require_GET
def reported(request: HttpRequest, number: str) -> HttpResponse:
    """The confirmation: the case number and, in plain words, when to expect a response
    and the completion."""
    case = _own_case(request, number)
    return render(
        request,
        "cases/resident/reported.html",
        {
            "case": case,
            "expect": _expectations(case, now=timezone.now()),
            "place_label": account_selectors.place_label(case.place),
            "slug": case.community.settings.report_slug,
            "state": STATE_WORDS[case.state],
        },
    )


# --- my cases -------------------------------------------------------------------------------


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    """我的诉求: the cases the person reported, newest first, each state in words."""
    page = Paginator(selectors.cases_reported_by(user=request.user), _MY_CASES_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "cases/resident/my_cases.html",
        {
            "page": page,
            "rows": [(case, STATE_WORDS[case.state]) for case in page],
            "report_links": _report_links(request.user),
        },
    )


def _report_links(user: User) -> list[tuple[str, str]]:
    """(community name, report slug) of each community the person lives or runs a shop in."""
    live = {ResidencyStatus.VERIFIED, ResidencyStatus.CLAIMED}
    links: dict[int, tuple[str, str]] = {}
    for residency in account_selectors.residencies_for_user(user=user):
        if residency.status in live and residency.community_id not in links:
            community = residency.community
            links[community.pk] = (community.name, community.settings.report_slug)
    return list(links.values())


def _my_case_page(
    request: HttpRequest,
    case: Case,
    *,
    follow_up_form: FollowUpForm | None = None,
    reopen_form: ReopenForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    actions = selectors.case_actions_for(user=request.user, case=case)
    can_rate = case.state == CaseState.COMPLETED and "follow_up" in actions
    can_complain = case.state in {CaseState.FOLLOWED_UP, CaseState.CLOSED} and "reopen" in actions
    events = selectors.case_timeline_for(user=request.user, case=case).filter(is_public=True)
    photos = [
        {"kind": p.get_kind_display(), "url": _photo_url(p.pk)}
        for p in selectors.case_photos_for(user=request.user, case=case)
    ]
    return render(
        request,
        "cases/resident/my_case.html",
        {
            "case": case,
            "state": STATE_WORDS[case.state],
            "timeline": [(e, EVENT_WORDS.get(e.kind, e.get_kind_display())) for e in events],
            "answers": _answer_rows(case),
            "place_label": account_selectors.place_label(case.place),
            "photos": photos,
            "photos_linked": any(p["url"] for p in photos),
            "expect": _expectations(case, now=now) if case.is_open else None,
            "awaiting_response": case.state == CaseState.REPORTED,
            "reopened": case.reopen_count > 0 and case.is_open,
            "follow_up_form": (follow_up_form or FollowUpForm()) if can_rate else None,
            "reopen_form": (reopen_form or ReopenForm()) if can_complain else None,
            "is_own": case.reporter_id == request.user.pk,
        },
    )


@login_required
@require_GET
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    """One of my cases: what was reported, when to expect what, the public timeline, the
    photos, and the rating or complaint when the case is done."""
    return _my_case_page(request, _own_case(request, number))


def _expected_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@login_required
@require_POST
def my_case_follow_up(request: HttpRequest, number: str) -> HttpResponse:
    """The resident rates a completed case online: resolved or not, then how satisfied.
    Not resolved or unsatisfied sends it back to the handlers (reopened)."""
    case = _own_case(request, number)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return _my_case_page(request, case, follow_up_form=form)
    try:
        case = services.case_follow_up(
            actor=request.user,
            case=case,
            resolved=form.cleaned_data["resolved"] == "yes",
            satisfaction=form.cleaned_data["satisfaction"],
            method=FollowUpMethod.ONLINE,
            note=form.cleaned_data["note"],
            expected_version=_expected_version(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("resident:my_case", number)
    if case.state == CaseState.CLOSED:
        messages.success(request, _("谢谢您的评价，这件事已经结束。"))
    else:
        messages.warning(
            request,
            _("已收到您的评价。这件事已重新交给工作人员处理，预计%(when)s前办好。")
            % {
                "when": when_words(
                    case.completion_due_at,
                    now=timezone.now(),
                    estimated=case.completion_due_estimated,
                )
            },
        )
    return redirect("resident:my_case", number)


@login_required
@require_POST
def my_case_reopen(request: HttpRequest, number: str) -> HttpResponse:
    """A complaint about a finished case: it is reopened and goes back to the handlers."""
    case = _own_case(request, number)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return _my_case_page(request, case, reopen_form=form)
    try:
        services.case_reopen(
            actor=request.user,
            case=case,
            reason=form.cleaned_data["reason"],
            expected_version=_expected_version(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.warning(request, _("已收到您的投诉，这件事已重新交给工作人员处理。"))
    return redirect("resident:my_case", number)


# --- the poster ---------------------------------------------------------------------------


@rules.predicate
def is_staff_of_community(user, community) -> bool:
    """A staff role in the community: at it or above it, or on a grid, estate or building
    inside it (a grid worker puts the poster up on the noticeboards of their buildings)."""
    return any(
        scope.everywhere or scope.covers(community) or scope.community_id == community.pk
        for scope in scopes_with_roles(user, STAFF_ROLES)
    )


@dataclass(frozen=True)
class PosterPromise:
    fastest: str | None
    around_the_clock: list[str]
    service_start: str
    service_end: str


def _poster_promise(community: Place) -> PosterPromise:
    """What the poster may promise, from the policies in force in the community: the
    fastest response target of its active categories, and which categories are answered
    around the clock."""
    ctx = clock_context_for(community)
    fastest: tuple[timedelta, int, str] | None = None
    around_the_clock = []
    for category in selectors.categories_for_report():
        try:
            policy = selectors.policy_for(category=category, community=community)
        except ValidationFailed:
            continue
        span = target_duration(
            policy.response_amount, policy.response_unit, policy.response_clock, ctx
        )
        if fastest is None or span < fastest[0]:
            fastest = (span, policy.response_amount, policy.response_unit)
        if policy.response_clock == ClockKind.CALENDAR:
            around_the_clock.append(category.name)
    return PosterPromise(
        fastest=(
            _("%(amount)d%(unit)s") % {"amount": fastest[1], "unit": TargetUnit(fastest[2]).label}
            if fastest
            else None
        ),
        around_the_clock=around_the_clock,
        service_start=ctx.service_start.strftime("%H:%M"),
        service_end=ctx.service_end.strftime("%H:%M"),
    )


def _poster_community(request: HttpRequest, slug: str) -> Place:
    community = _community(slug)
    if not is_staff_of_community(request.user, community):
        raise Http404
    return community


@login_required
@require_GET
def poster(request: HttpRequest, slug: str) -> HttpResponse:
    """The printable A4 poster of the community's QR code, for its staff (404 for others)."""
    community = _poster_community(request, slug)
    url = report_url(request=request, slug=slug)
    return render(
        request,
        "cases/resident/poster.html",
        {
            "community": community,
            "url": url,
            "qr": qr_svg(url, label=_("%(name)s 上报二维码") % {"name": community.name}),
            "promise": _poster_promise(community),
        },
    )


@login_required
@require_GET
def poster_qr(request: HttpRequest, slug: str) -> HttpResponse:
    """The QR code alone as an SVG file, to put on other printed matter."""
    community = _poster_community(request, slug)
    url = report_url(request=request, slug=slug)
    response = HttpResponse(
        qr_svg(url, label=_("%(name)s 上报二维码") % {"name": community.name}),
        content_type="image/svg+xml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="report-{slug}.svg"'
    return response


# --- elder-friendly mode ------------------------------------------------------------------


@require_POST
def elder_mode(request: HttpRequest) -> HttpResponse:
    """Switch elder-friendly mode (适老化) on or off for this browser, remembered for a
    year, and go back to the page the switch was pressed on."""
    response = redirect(_safe_next(request, reverse("home")))
    response.set_cookie(
        ELDER_COOKIE,
        "1" if request.POST.get("elder") == "1" else "0",
        max_age=ELDER_COOKIE_AGE,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure(),
    )
    return response
