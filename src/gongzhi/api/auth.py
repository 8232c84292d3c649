"""Who is calling: a bearer token (programs) or the Django session (the site's own pages).

The token is tried first, so a program never needs a CSRF token. A request that presents
a token that is unknown or revoked is refused outright rather than falling back to a
session cookie that happens to travel with it.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from gongzhi.core.errors import PermissionDenied

from .errors import NotAuthenticated
from .services import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer gz_…` — a token made with `gongzhi api-token create`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(raw_token=token.strip())
        if user is None:
            raise NotAuthenticated(_("令牌无效或已被吊销。"), code="invalid_token")
        # Code further down (request logging, services reading request.user) sees the
        # token's owner just as it would see a signed-in user.
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in user of the Django session; unsafe methods need the CSRF token
    (header `X-CSRFToken`), exactly as a form post on the site does."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(_("CSRF 校验失败，请刷新页面后重试。"), code="csrf_failed")
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return self(request)
