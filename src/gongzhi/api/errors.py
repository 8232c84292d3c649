"""Every error the API answers with has one shape: ``{"code", "message", "details"}``.

`code` is stable for programs; `message` is for people, in the caller's language
(`Accept-Language`: zh-hans by default, en supported), which Django's LocaleMiddleware
activates before the API runs — so the lazily translated messages of the domain errors
are rendered here, in that language.
"""

import logging
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from gongzhi.core.errors import DomainError, NotFound, PermissionDenied, RateLimited

logger = logging.getLogger("gongzhi.api")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    http_status = 401
    default_message = _("请先登录，或在请求头中提供有效的接口令牌。")


class BadRequest(DomainError):
    code = "bad_request"
    http_status = 400
    default_message = _("请求格式有误。")


class ErrorOut(Schema):
    """错误 / Error: `code` for programs, `message` for people, `details` for specifics."""

    code: str
    message: str
    details: dict[str, Any]


# What each kind of field problem says to a person; pydantic's own wording is English only.
FIELD_MESSAGES: dict[str, Any] = {
    "missing": _("此项为必填项。"),
    "extra_forbidden": _("没有这个字段，请检查字段名。"),
    "string_type": _("应为文本。"),
    "string_too_short": _("内容太短。"),
    "string_too_long": _("内容太长。"),
    "int_type": _("应为整数。"),
    "int_parsing": _("应为整数。"),
    "float_parsing": _("应为数字。"),
    "decimal_parsing": _("应为数字。"),
    "bool_parsing": _("应为是或否。"),
    "date_from_datetime_parsing": _("应为日期，例如 2026-05-01。"),
    "date_parsing": _("应为日期，例如 2026-05-01。"),
    "datetime_parsing": _("应为日期时间，例如 2026-05-01T08:30:00+08:00。"),
    "datetime_from_date_parsing": _("应为日期时间，例如 2026-05-01T08:30:00+08:00。"),
    "enum": _("不是可选的值。"),
    "literal_error": _("不是可选的值。"),
    "greater_than": _("数值太小。"),
    "greater_than_equal": _("数值太小。"),
    "less_than": _("数值太大。"),
    "less_than_equal": _("数值太大。"),
    "list_type": _("应为列表。"),
    "json_invalid": _("不是有效的 JSON。"),
    "model_attributes_type": _("格式不正确。"),
    "dict_type": _("格式不正确。"),
}


def error_body(code: str, message: Any, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": str(message), "details": details or {}}


def _field_problems(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    problems = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "text"): the parameter's name is the view's business, not the
        # caller's; they sent {"text": ...}.
        path = loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:]
        problems.append(
            {
                # "answers.kind" rather than a list: what a form shows next to a field.
                "field": ".".join(path) or ".".join(loc),
                "location": loc[0] if loc else "",
                "type": error.get("type", ""),
                "message": str(FIELD_MESSAGES.get(error.get("type", ""), error.get("msg", ""))),
            }
        )
    return problems


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the handlers that give every refusal the one error shape."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        response = api.create_response(request, body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="gongzhi"'
        return response

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return respond(request, exc.http_status, error_body(exc.code, exc.message, exc.details))

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return respond(
            request,
            422,
            error_body(
                "validation_failed",
                _("填写的内容有误。"),
                {"errors": _field_problems(exc.errors)},
            ),
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        error = NotAuthenticated()
        return respond(request, 401, error_body(error.code, error.message))

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        error = RateLimited()
        return respond(request, 429, error_body(error.code, error.message, {"wait": exc.wait}))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            error: DomainError = BadRequest()
        elif exc.status_code == 403:
            error = PermissionDenied()
        elif exc.status_code == 404:
            error = NotFound()
        else:
            error = DomainError(code=f"http_{exc.status_code}")
        return respond(request, exc.status_code, error_body(error.code, error.message))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        error = NotFound()
        return respond(request, 404, error_body(error.code, error.message))

    @api.exception_handler(DjangoPermissionDenied)
    def django_permission_denied(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        error = PermissionDenied()
        return respond(request, 403, error_body(error.code, error.message))

    @api.exception_handler(RequestDataTooBig)
    def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
        message = _("提交的内容太大：除照片外最多 %(mb).1f MB。") % {"mb": limit}
        return respond(request, 413, error_body("body_too_large", message))

    @api.exception_handler(TooManyFieldsSent)
    @api.exception_handler(TooManyFilesSent)
    def too_many_fields(request: HttpRequest, exc: Exception) -> HttpResponse:
        message = _("提交的字段或文件太多。")
        return respond(request, 400, error_body("too_many_fields", message))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Still tell Django (error reports, the test client re-raising), but answer in
        # the API's shape rather than with an HTML page.
        logger.exception("api.unhandled", exc_info=exc)
        signals.got_request_exception.send(sender=None, request=request)
        return respond(
            request,
            500,
            error_body("server_error", _("服务器内部错误，请稍后再试。")),
        )
