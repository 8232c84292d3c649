"""Rate limits on the endpoints that create records for anyone who asks: the report page,
`POST /api/v1/cases` and Open311 `POST requests`.

A fixed window counted in Django's cache — Redis in production (`REDIS_URL`), so every app
server shares the count; the in-process memory cache otherwise (one process, the demo).
Each caller is counted on its own: a signed-in person (or API token) by account, anyone
else by address. The limit, `(requests, seconds)`, is `GONGZHI["REPORT_RATE_LIMIT"]`.

Signing in has its own, stricter throttle kept in the database (`accounts`:
`LoginFailure`, `login_throttle_check`), which counts failures rather than requests.
"""

import ipaddress
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import RateLimited

REPORT_SCOPE = "report"


def rate_limit_hit(*, scope: str, identity: str, limit: tuple[int, int]) -> None:
    """Count one request of `identity` in `scope`; `RateLimited` once it is over `limit`
    (`(requests, seconds)`) within the current window, with `retry_after` in seconds."""
    allowed, window = limit
    now = time.time()
    bucket = int(now // window)
    key = f"gongzhi:ratelimit:{scope}:{window}:{bucket}:{identity}"
    # add() creates the counter only if it is missing; incr() is atomic in Redis and
    # under the memory cache's lock, so two requests at once are both counted.
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the counter expired between the two calls: a new window
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > allowed:
        retry_after = max(1, math.ceil((bucket + 1) * window - now))
        raise RateLimited(
            _("提交过于频繁，请 %(seconds)d 秒后再试。") % {"seconds": retry_after},
            code="rate_limited",
            retry_after=retry_after,
        )


def report_rate_limit(request: HttpRequest) -> None:
    """Count one report by the caller of `request`; `RateLimited` when over the limit."""
    rate_limit_hit(
        scope=REPORT_SCOPE,
        identity=request_identity(request),
        limit=tuple(settings.GONGZHI["REPORT_RATE_LIMIT"]),  # type: ignore[arg-type]
    )


def report_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page view whose POSTs count as reports: over the limit it answers 429 with a page
    saying how long to wait (and `Retry-After`), without running the view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            try:
                report_rate_limit(request)
            except RateLimited as error:
                response = render(
                    request,
                    "core/rate_limited.html",
                    {"message": error.message, "back": request.get_full_path()},
                    status=429,
                )
                response["Retry-After"] = str(error.details["retry_after"])
                return response
        return view(request, *args, **kwargs)

    return wrapper


def request_identity(request: HttpRequest) -> str:
    """Who is counted: the account (an API token's user in `request.auth`, or the session's
    user), else the client's address — an IPv6 address by its /64, which one household or
    phone typically holds whole."""
    for user in (getattr(request, "auth", None), getattr(request, "user", None)):
        if user is not None and getattr(user, "is_authenticated", False):
            return f"user:{user.pk}"
    return f"ip:{client_network(request)}"


def client_network(request: HttpRequest) -> str:
    """The caller's address as counted: REMOTE_ADDR, or the header a trusted proxy sets
    (`GONGZHI["CLIENT_IP_HEADER"]`, e.g. HTTP_X_REAL_IP)."""
    header = str(settings.GONGZHI.get("CLIENT_IP_HEADER") or "REMOTE_ADDR")
    value = str(request.META.get(header, "")).split(",")[0].strip()
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
