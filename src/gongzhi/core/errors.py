"""Domain errors: what a service refuses, with a code for machines and a message for people.

Messages are lazy translations, so the same error reads in Chinese or English depending on
the language of the request that receives it.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "invalid"
    http_status = 400
    default_message = _("请求无法完成。")

    def __init__(self, message: Any = None, *, code: str | None = None, **details: Any):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.details = details
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.details:
            payload["details"] = self.details
        return payload


class ValidationFailed(DomainError):
    code = "validation_failed"
    http_status = 422
    default_message = _("填写的内容有误。")


class NotFound(DomainError):
    """Also what an object outside the caller's scope looks like: no hint that it exists."""

    code = "not_found"
    http_status = 404
    default_message = _("找不到该记录。")


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403
    default_message = _("您没有权限执行此操作。")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409
    default_message = _("当前状态下不能执行此操作。")


class Conflict(DomainError):
    """Someone else changed the record first; the caller must look again before acting."""

    code = "conflict"
    http_status = 409
    default_message = _("记录已被他人修改，请刷新后重试。")


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429
    default_message = _("操作过于频繁，请稍后再试。")
