import json
import logging
import time
import uuid

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from .text import NULL_CHARACTER, contains_null_character

logger = logging.getLogger("gongzhi.request")


class RequestLogMiddleware:
    """Logs every request as one structured line: method, path, status, duration, user id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
        response["X-Request-Id"] = request.request_id
        return response


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy of settings.CONTENT_SECURITY_POLICY to every response.

    A view that needs a different policy sets the header itself; it is left untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = "; ".join(
            f"{directive} {' '.join(sources)}"
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.header
        return response


class RefuseNullCharactersMiddleware:
    """Refuses, before any view runs, a request whose path, query or text fields hold
    U+0000 (NUL): PostgreSQL cannot store it, SQLite would, so one database would answer
    500 and the other keep it. Refusing it at the edge gives every surface one behaviour.

    Each surface answers in its own error format: the API its `{code, message, details}`
    with 422, Open311 the spec's error list with 400, pages a plain 400. Files in a
    multipart body are binary and are not looked at; their names are.
    """

    JSON_ESCAPED_NULL = b"\\u0000"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.holds_null_character(request):
            return self.refusal(request)
        return self.get_response(request)

    def holds_null_character(self, request) -> bool:
        if NULL_CHARACTER in request.path or any(
            contains_null_character(values) for values in request.GET.lists()
        ):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        content_type = request.content_type or ""
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                body = request.body
            except Exception:  # too large: the view's own reading refuses it in its format
                return False
            if self.JSON_ESCAPED_NULL not in body:
                return False
            try:
                return contains_null_character(json.loads(body))
            except ValueError:
                return False  # not JSON at all: the view's own parser says so
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                fields = list(request.POST.lists())
                names = [f.name for files in request.FILES.lists() for f in files[1]]
            except Exception:  # a malformed body: the view's own parsing reports it
                return False
            return contains_null_character(fields) or contains_null_character(names)
        return False

    def refusal(self, request) -> HttpResponse:
        message = _("提交的内容含有空字符（NUL），无法保存。请删除后重试。")
        if request.path.startswith("/api/"):
            body = {"code": "null_character", "message": str(message), "details": {}}
            return JsonResponse(body, status=422, json_dumps_params={"ensure_ascii": False})
        if request.path.startswith("/open311/"):
            from gongzhi.open311.render import Open311Error, render_error

            fmt = "xml" if request.path.rstrip("/").endswith(".xml") else "json"
            return render_error(fmt, Open311Error(400, message))
        return HttpResponseBadRequest(str(message), content_type="text/plain; charset=utf-8")
