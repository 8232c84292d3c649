"""Pages for signing in, registering, activating, claiming a home and verifying claims.

Views only read forms, call a service or selector, and render; every decision is made in
the services (`services.py`) and every visibility rule in the selectors.
"""

import ipaddress

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.errors import DomainError, NotFound, PermissionDenied, RateLimited
from gongzhi.places.models import Place, PlaceKind

from . import selectors, services
from .forms import (
    ActivateForm,
    ClaimForm,
    CodeLoginForm,
    DecisionForm,
    PasswordLoginForm,
    PhoneForm,
    RegisterForm,
)
from .models import RESIDENCY_VERIFIER_ROLES, OtpPurpose, Relation
from .privacy import mask_phone, personal_data_read
from .scopes import scopes_with_roles

# Codes are issued by the services, but a session still needs to know which backend
# vouched for the person when no password was checked.
_SESSION_BACKEND = "gongzhi.accounts.backends.PhoneOrUsernameBackend"
# Where each purpose's "send me a code" button comes from, when the browser has no HTMX.
_PAGE_FOR_PURPOSE = {
    OtpPurpose.LOGIN: "accounts:login",
    OtpPurpose.REGISTER: "accounts:register",
    OtpPurpose.ACTIVATE: "accounts:activate",
}
_QUEUE_PAGE_SIZE = 50


def client_ip(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or the header a trusted proxy sets
    (GONGZHI["CLIENT_IP_HEADER"], e.g. HTTP_X_REAL_IP) when one is configured."""
    header = settings.GONGZHI.get("CLIENT_IP_HEADER") or "REMOTE_ADDR"
    value = request.META.get(header, "").split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _status_for(error: DomainError) -> int:
    # A refused form is still a page to read and correct; only throttling changes status.
    return error.http_status if isinstance(error, RateLimited) else 200


# --- signing in and out -----------------------------------------------------------------


def _login_page(request, *, tab: str, password_form=None, code_form=None, status: int = 200):
    return render(
        request,
        "accounts/login.html",
        {
            "tab": tab,
            "password_form": password_form or PasswordLoginForm(),
            "code_form": code_form
            or CodeLoginForm(initial={"phone": request.GET.get("phone", "")}),
            "next": _next_url(request),
        },
        status=status,
    )


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    """Sign in with a phone number or username and a password (the code tab posts to
    `otp_login`)."""
    tab = "code" if request.GET.get("tab") == "code" else "password"
    if request.method == "GET":
        if request.user.is_authenticated:
            return redirect(_next_url(request))
        return _login_page(request, tab=tab)
    form = PasswordLoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, tab="password", password_form=form)
    try:
        user = services.password_sign_in(
            identifier=form.cleaned_data["identifier"],
            password=form.cleaned_data["password"],
            ip_address=client_ip(request),
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _login_page(request, tab="password", password_form=form, status=_status_for(error))
    login(request, user)
    return redirect(_next_url(request))


@sensitive_post_parameters("code")
@never_cache
@require_POST
def otp_login(request):
    """Sign in with a code texted to the phone."""
    form = CodeLoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, tab="code", code_form=form)
    try:
        user = services.otp_sign_in(
            phone=form.cleaned_data["phone"],
            code=form.cleaned_data["code"],
            ip_address=client_ip(request),
        )
    except DomainError as error:
        form.add_error("code", error.message)
        return _login_page(request, tab="code", code_form=form, status=_status_for(error))
    login(request, user, backend=_SESSION_BACKEND)
    return redirect(_next_url(request))


@require_POST
def otp_request(request):
    """Text a code to the phone typed in the form. HTMX gets a status line back; a plain
    form post goes back to its page with a message."""
    purpose = request.POST.get("purpose", "")
    form = PhoneForm(request.POST)
    ok, text = False, ""
    if purpose not in _PAGE_FOR_PURPOSE:
        text = _("验证码用途无效。")
    elif not form.is_valid():
        text = " ".join(form.errors["phone"])
    else:
        phone = form.cleaned_data["phone"]
        try:
            services.otp_request(phone=phone, purpose=purpose)
        except DomainError as error:
            text = str(error.message)
        else:
            ok = True
            text = _("验证码已发送至 %(phone)s，%(minutes)d 分钟内有效。") % {
                "phone": mask_phone(phone),
                "minutes": services.gongzhi_int_setting("OTP_TTL_SECONDS") // 60,
            }
    if _is_htmx(request):
        return render(request, "accounts/_otp_status.html", {"ok": ok, "text": text})
    (messages.success if ok else messages.error)(request, text)
    page = reverse(_PAGE_FOR_PURPOSE.get(purpose, "accounts:login"))
    query = f"?phone={form.cleaned_data['phone']}" if form.is_valid() else ""
    if purpose == OtpPurpose.LOGIN:
        query = (query + "&" if query else "?") + "tab=code"
    return redirect(page + query)


@require_POST
def logout_view(request):
    """Sign out (POST only, so that a link or an image cannot sign anyone out)."""
    logout(request)
    messages.success(request, _("您已退出登录。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    """Change (or, for someone who only ever used codes, set) one's password."""
    form_class = PasswordChangeForm if request.user.has_usable_password() else SetPasswordForm
    form = form_class(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_password_set(
                actor=request.user,
                user=request.user,
                password=form.cleaned_data["new_password1"],
            )
        except DomainError as error:
            form.add_error("new_password1", error.message)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("密码已更新。"))
            return redirect("home")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "has_password": request.user.has_usable_password()},
    )


# --- registration and activation --------------------------------------------------------


@sensitive_post_parameters("code", "password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def register(request):
    """A resident or street shop signs up with phone, code and name, then claims a place."""
    if request.user.is_authenticated:
        return redirect("accounts:claim")
    form = RegisterForm(request.POST or None, initial={"phone": request.GET.get("phone", "")})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.resident_register(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password1"],
            )
        except DomainError as error:
            form.add_error(_field_for(error), error.message)
            status = _status_for(error)
        else:
            login(request, user, backend=_SESSION_BACKEND)
            messages.success(request, _("注册成功。请申报您居住的房屋或经营的商铺。"))
            return redirect("accounts:claim")
    return render(request, "accounts/register.html", {"form": form}, status=status)


@sensitive_post_parameters("code", "password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def activate(request):
    """A resident the community entered from its roster takes up the account with a code."""
    form = ActivateForm(request.POST or None, initial={"phone": request.GET.get("phone", "")})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_activate(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password1"],
                ip_address=client_ip(request),
            )
        except DomainError as error:
            form.add_error(_field_for(error), error.message)
            status = _status_for(error)
        else:
            login(request, user, backend=_SESSION_BACKEND)
            messages.success(request, _("账号已激活，欢迎使用共治。"))
            return redirect("home")
    return render(request, "accounts/activate.html", {"form": form}, status=status)


def _field_for(error: DomainError) -> str | None:
    if error.code.startswith("otp_"):
        return "code"
    if error.code == "password_invalid":
        return "password1"
    if error.code == "name_required":
        return "name"
    return None


# --- claiming a dwelling or shop ----------------------------------------------------------

_SHOPS = "shops"


def _claim_choices(*, community_id: str, building_id: str) -> dict:
    """The options of the building and place selects for what has been chosen so far."""
    community = (
        Place.objects.filter(pk=int(community_id), kind=PlaceKind.COMMUNITY).first()
        if community_id.isdigit()
        else None
    )
    buildings, shops_exist, places = [], False, []
    if community is not None:
        buildings = list(selectors.claimable_buildings(community=community))
        shops = list(selectors.claimable_shops(community=community))
        shops_exist = bool(shops)
        if building_id == _SHOPS:
            places = shops
        elif building_id.isdigit():
            building = next((b for b in buildings if b.pk == int(building_id)), None)
            if building is not None:
                places = list(selectors.claimable_dwellings(building=building))
    return {
        "community": community,
        "buildings": buildings,
        "shops_exist": shops_exist,
        "places": places,
        "building_choice": building_id,
        "SHOPS": _SHOPS,
    }


@login_required
@require_http_methods(["GET", "POST"])
def claim(request):
    """Choose community → building → dwelling (or a street shop) and say how one lives there."""
    source = request.POST if request.method == "POST" else request.GET
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            place = selectors.claimable_place_get(pk=form.cleaned_data["place"])
            services.residency_claim(
                user=request.user, place=place, relation=form.cleaned_data["relation"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("已提交申报：%(place)s。社区工作者核验后，您就能看到本户信息。")
                % {"place": selectors.place_label(place)},
            )
            return redirect("home")
    context = _claim_choices(
        community_id=source.get("community", ""), building_id=source.get("building", "")
    )
    context.update(
        form=form,
        communities=selectors.claimable_communities(),
        relations=Relation.choices,
        residencies=selectors.residencies_for_user(user=request.user),
    )
    return render(request, "accounts/claim.html", context)


@login_required
@require_GET
def claim_options(request):
    """HTMX: the options of the next select once a community or a building is chosen."""
    context = _claim_choices(
        community_id=request.GET.get("community", ""),
        building_id=request.GET.get("building", ""),
    )
    template = (
        "accounts/_claim_buildings.html"
        if request.GET.get("level") == "buildings"
        else "accounts/_claim_places.html"
    )
    return render(request, template, context)


# --- the verification queue ------------------------------------------------------------------


def _require_verifier(request) -> None:
    if not scopes_with_roles(request.user, RESIDENCY_VERIFIER_ROLES):
        raise DjangoPermissionDenied


def _residency_or_404(request, pk: int):
    try:
        return selectors.residency_get_for_verifier(user=request.user, pk=pk)
    except NotFound as missing:
        raise Http404(str(missing.message)) from missing


@login_required
@require_GET
def verification_queue(request):
    """Claims waiting for this worker's verification, oldest first (only in their scope)."""
    _require_verifier(request)
    pending = selectors.residencies_for_verifier(user=request.user)
    total = pending.count()
    shown = list(pending[:_QUEUE_PAGE_SIZE])
    for residency in shown:
        personal_data_read(
            viewer=request.user,
            subject=residency.user,
            fields=["name", "residency"],
            purpose=_("居住关系核验"),
            obj=residency,
        )
    return render(
        request,
        "accounts/verification_queue.html",
        {"residencies": shown, "total": total, "relations": Relation.choices},
    )


@login_required
@require_POST
def verification_decide(request, pk: int):
    """Verify or reject one claim; HTMX swaps the row for the outcome."""
    _require_verifier(request)
    residency = _residency_or_404(request, pk)
    form = DecisionForm(request.POST)
    error_text = ""
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "verify":
                residency = services.residency_verify(
                    actor=request.user,
                    residency=residency,
                    relation=form.cleaned_data["relation"] or None,
                    note=form.cleaned_data["note"],
                )
            else:
                residency = services.residency_reject(
                    actor=request.user, residency=residency, note=form.cleaned_data["note"]
                )
        except PermissionDenied as denied:
            raise Http404(str(denied.message)) from denied
        except DomainError as error:
            error_text = str(error.message)
    else:
        error_text = _("请选择通过或不通过。")
    if _is_htmx(request):
        return render(
            request,
            "accounts/_verification_row.html",
            {"residency": residency, "error": error_text, "relations": Relation.choices},
        )
    if error_text:
        messages.error(request, error_text)
    else:
        messages.success(
            request,
            _("已处理：%(name)s · %(place)s")
            % {
                "name": residency.user.display_name,
                "place": selectors.place_label(residency.place),
            },
        )
    return redirect("accounts:verification_queue")


@login_required
@require_POST
def verification_phone(request, pk: int):
    """Show a claimant's full phone number to the verifier who asks, and record the read."""
    _require_verifier(request)
    residency = _residency_or_404(request, pk)
    personal_data_read(
        viewer=request.user,
        subject=residency.user,
        fields=["phone"],
        purpose=_("居住关系核验：联系申报人"),
        obj=residency,
    )
    return HttpResponse(residency.user.phone or "", content_type="text/plain; charset=utf-8")
