"""Open311 GeoReport v2 at /open311/v2/, in XML and JSON (wiki.open311.org/GeoReport_v2),
with mySociety's GET servicerequestupdates extension.

Plain Django views: the spec fixes every element name and the shape of its error list,
so each view reads its arguments, calls a selector or service, and renders the payload
with `render.py`. Every call but discovery needs `jurisdiction_id`; POST needs an
`api_key`. Errors are the spec's list of code + description: 400 for a bad or missing
argument, 403 for a missing, wrong or revoked key, 404 for an unknown jurisdiction,
service, request or token.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from gongzhi.cases.models import Category, CategoryGroup
from gongzhi.cases.questions import LIST_DATATYPES
from gongzhi.core.errors import DomainError, NotFound, PermissionDenied, RateLimited
from gongzhi.core.ratelimit import report_rate_limit
from gongzhi.places.models import Place

from . import params, selectors
from .public import w3c
from .render import Open311Error, render, render_error
from .services import open311_key_authenticate, open311_request_create

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DATATYPE_HELP = {
    "string": gettext_lazy("单行文字，最多 200 字。"),
    "number": gettext_lazy("数字。"),
    "datetime": gettext_lazy("日期时间（ISO 8601，须带时区），例如 2026-11-27T09:30:00+08:00。"),
    "text": gettext_lazy("多行文字，最多 2000 字。"),
    "singlevaluelist": gettext_lazy("从 values 中选一项，提交其 key：attribute[代码]=key。"),
    "multivaluelist": gettext_lazy("可从 values 中选多项，每项一个：attribute[代码][]=key。"),
}

View = Callable[..., HttpResponse]


def endpoint(*methods: str) -> Callable[[View], View]:
    """A GeoReport call answering `methods`: any failure becomes the spec's error list in
    the format the URL asked for."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in (*methods, "HEAD" if "GET" in methods else ""):
                    raise Open311Error(
                        400,
                        _("此地址只接受 %(methods)s 请求。") % {"methods": " / ".join(methods)},
                    )
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return render_error(fmt, error)
            except NotFound as error:
                return render_error(fmt, Open311Error(404, error.message))
            except PermissionDenied as error:
                return render_error(fmt, Open311Error(403, error.message))
            except RateLimited as error:
                return render_error(fmt, Open311Error(429, error.message))
            except DomainError as error:
                return render_error(fmt, Open311Error(400, error.message))

        return wrapper

    return decorate


def _arg(request: HttpRequest, name: str) -> str:
    # Some clients put jurisdiction_id and api_key of a POST in the query string.
    return (request.POST.get(name) or request.GET.get(name) or "").strip()


def _jurisdiction(request: HttpRequest) -> Place:
    code = _arg(request, "jurisdiction_id")
    if not code:
        raise Open311Error(400, _("缺少 jurisdiction_id（居民区或街道编码）。"))
    return selectors.jurisdiction_get(code=code)


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Service discovery: where the endpoint is, its formats, and how to get a key."""
    changeset = w3c(selectors.services_changed_at()) or ""
    base = request.build_absolute_uri(request.path.rsplit("/", 1)[0])
    payload = {
        "changeset": changeset,
        "contact": _("请联系所在居民区或街道的系统管理员。"),
        "key_service": _(
            "提交诉求须使用 api_key：由系统管理员在管理后台或用命令"
            " gongzhi open311-key create --jurisdiction <居民区或街道编码> 创建。"
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", payload)


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET Service List: one service per active category."""
    _jurisdiction(request)
    rows = [_service(category) for category in selectors.services_for()]
    return render(fmt, "services", rows)


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.name,
        "metadata": bool(category.questions),
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": str(CategoryGroup(category.group).label),
    }


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    """GET Service Definition: the category's extra questions as attributes."""
    _jurisdiction(request)
    category = selectors.service_get(code=service_code)
    attributes = []
    for order, question in enumerate(category.questions, start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": question["code"],
            "datatype": question["datatype"],
            "required": bool(question.get("required")),
            "datatype_description": str(DATATYPE_HELP[question["datatype"]]),
            "order": order,
            "description": question["label"],
        }
        if question["datatype"] in LIST_DATATYPES:
            attribute["values"] = [
                {"key": value["key"], "name": value["name"]} for value in question["values"]
            ]
        attributes.append(attribute)
    payload = {"service_code": category.code, "attributes": attributes}
    return render(fmt, "service_definition", payload)


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET Service Requests (a search), or POST Service Request (a new case)."""
    if request.method == "POST":
        return _create(request, fmt)
    jurisdiction = _jurisdiction(request)
    numbers = params.comma_list(request.GET.get("service_request_id", ""))
    start, end = params.date_range(
        request.GET.get("start_date", ""),
        request.GET.get("end_date", ""),
        now=timezone.now(),
        tz=timezone.get_current_timezone(),
    )
    rows = selectors.requests_for(
        jurisdiction=jurisdiction,
        numbers=numbers,
        service_codes=params.comma_list(request.GET.get("service_code", "")),
        start=start,
        end=end,
        statuses=params.statuses(request.GET.get("status", "")),
    )
    return render(fmt, "service_requests", rows)


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    report_rate_limit(request)
    raw_key = _arg(request, "api_key")
    if not raw_key:
        raise Open311Error(403, _("缺少 api_key，不能提交诉求。"))
    key = open311_key_authenticate(raw_key=raw_key)
    if key is None:
        raise Open311Error(403, _("api_key 无效或已被吊销，不能提交诉求。"))
    missing = [
        _("缺少 %(name)s。") % {"name": name}
        for name in ("jurisdiction_id", "service_code")
        if not _arg(request, name)
    ]
    if missing:
        raise Open311Error(400, *missing)
    jurisdiction = _jurisdiction(request)
    category = selectors.service_get(code=_arg(request, "service_code"))
    form = request.POST
    case = open311_request_create(
        key=key,
        jurisdiction=jurisdiction,
        category=category,
        location=params.location(form),
        token=params.request_token(
            header=request.headers.get("Idempotency-Key", ""),
            form=form,
            day=timezone.localdate(),
        ),
        description=form.get("description", ""),
        answers=params.answers(category.questions, params.attributes(form)),
        first_name=form.get("first_name", ""),
        last_name=form.get("last_name", ""),
        phone=form.get("phone", ""),
        media_url=form.get("media_url", ""),
    )
    row = {
        "service_request_id": case.number,
        "service_notice": selectors.service_notice(case),
        # gongzhi keeps no accounts for people reporting through a client.
        "account_id": None,
    }
    return render(fmt, "service_requests", [row])


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    """GET Service Request: one request, as a list of one."""
    jurisdiction = _jurisdiction(request)
    row = selectors.request_get(jurisdiction=jurisdiction, number=service_request_id)
    return render(fmt, "service_requests", [row])


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """GET service_request_id from a token (the POST's Idempotency-Key)."""
    jurisdiction = _jurisdiction(request)
    rows = selectors.requests_for_token(jurisdiction=jurisdiction, token=token)
    return render(fmt, "service_requests", rows)


@endpoint("GET")
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    """mySociety's GET Service Request Updates: the public steps of the requests."""
    jurisdiction = _jurisdiction(request)
    start, end = params.date_range(
        request.GET.get("start_date", ""),
        request.GET.get("end_date", ""),
        now=timezone.now(),
        tz=timezone.get_current_timezone(),
    )
    rows = selectors.request_updates_for(jurisdiction=jurisdiction, start=start, end=end)
    return render(fmt, "service_request_updates", rows)


@csrf_exempt
def unknown(request: HttpRequest, path: str) -> HttpResponse:
    """Any other address under /open311/v2/: the spec's error list (XML unless .json)."""
    fmt = "json" if path.endswith(".json") else "xml"
    return render_error(
        fmt,
        Open311Error(
            404,
            _(
                "没有这个 Open311 地址：%(path)s。可用：discovery、services、requests、tokens、"
                "servicerequestupdates，后缀 .xml 或 .json。"
            )
            % {"path": path or "/"},
        ),
    )
