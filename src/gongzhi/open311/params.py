"""Reading a GeoReport v2 call's arguments: dates, ranges, locations, attributes. Pure.

Each reader returns clean values or raises `Open311Error` (HTTP 400) with a description
naming the argument, so a client developer can see at once what to fix.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from .render import Open311Error

# GeoReport v2: a search "may not span more than 90 days" and returns at most 1,000.
MAX_RANGE = timedelta(days=90)
MAX_RESULTS = 1000
MAX_DESCRIPTION = 4000
STATUSES = ("open", "closed")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# "+08:00" sent unencoded in a query string arrives as " 08:00".
_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


@dataclass(frozen=True)
class Location:
    """Where a POSTed request is: a point, an address the person typed, or a place code."""

    lat: Decimal | None = None
    long: Decimal | None = None
    address_string: str = ""
    address_id: str = ""


def parse_datetime(name: str, raw: str, tz: ZoneInfo) -> datetime:
    """A W3C date-time (`2026-11-27T09:30:00+08:00`, `…Z`) or a date (local midnight).
    A date-time without an offset is taken as local time."""
    value = _SPACE_OFFSET.sub(r"+\1", raw.strip())
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=tz)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(
            400,
            _("%(name)s 须为 W3C 日期时间，例如 2026-11-27T09:30:00+08:00。") % {"name": name},
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def date_range(
    start_raw: str, end_raw: str, *, now: datetime, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """The [start, end] a search covers: the last 90 days by default; one bound given, the
    90 days from or up to it; both given, at most 90 days apart."""
    start = parse_datetime("start_date", start_raw, tz) if start_raw.strip() else None
    end = parse_datetime("end_date", end_raw, tz) if end_raw.strip() else None
    if start is None:
        end = end or now
        return end - MAX_RANGE, end
    if end is None:
        return start, start + MAX_RANGE
    if end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if end - start > MAX_RANGE:
        raise Open311Error(400, _("start_date 与 end_date 相隔不能超过 90 天。"))
    return start, end


def comma_list(raw: str) -> list[str]:
    """`a,b, c` → ["a", "b", "c"]; empty items dropped, order kept, repeats removed."""
    seen: dict[str, None] = {}
    for item in raw.split(","):
        if item.strip():
            seen[item.strip()] = None
    return list(seen)


def statuses(raw: str) -> list[str]:
    """The `status` filter: open, closed or both (comma separated)."""
    wanted = [s.lower() for s in comma_list(raw)]
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise Open311Error(
            400, _("status 只能是 open 或 closed，收到：%(s)s") % {"s": ", ".join(unknown)}
        )
    return wanted


def location(form: Any) -> Location:
    """The location of a POST: `lat` + `long`, `address_string` or `address_id` (any may
    be given together; at least one is needed)."""
    lat_raw, long_raw = form.get("lat", "").strip(), form.get("long", "").strip()
    if bool(lat_raw) != bool(long_raw):
        raise Open311Error(400, _("lat 和 long 须同时提供。"))
    lat = _coordinate("lat", lat_raw, 90) if lat_raw else None
    long = _coordinate("long", long_raw, 180) if long_raw else None
    found = Location(
        lat=lat,
        long=long,
        address_string=form.get("address_string", "").strip()[:200],
        address_id=form.get("address_id", "").strip(),
    )
    if lat is None and not found.address_string and not found.address_id:
        raise Open311Error(400, _("须提供位置：lat 和 long、address_string 或 address_id 之一。"))
    return found


def _coordinate(name: str, raw: str, bound: int) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) > bound:
        raise Open311Error(400, _("%(name)s 须为 WGS84 坐标数值。") % {"name": name})
    return value


def attributes(form: Any) -> dict[str, list[str]]:
    """Every `attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2` of a form,
    as code → the values given, in order."""
    found: dict[str, list[str]] = {}
    for key in form:
        match = _ATTRIBUTE.match(key)
        if match:
            found.setdefault(match.group(1), []).extend(form.getlist(key))
    return found


def answers(questions: list[dict[str, Any]], given: dict[str, list[str]]) -> dict[str, Any]:
    """The attributes as the category's answers: a list for a multi-value list, one value
    for every other question. Codes the category does not ask pass through unchanged, so
    the cases app names them in its refusal."""
    datatypes = {q["code"]: q["datatype"] for q in questions}
    result: dict[str, Any] = {}
    for code, values in given.items():
        values = [v for v in values if v.strip()]
        if datatypes.get(code) == "multivaluelist":
            result[code] = values
        elif len(values) > 1:
            raise Open311Error(400, _("attribute[%(code)s] 只能有一个值。") % {"code": code})
        else:
            result[code] = values[0] if values else ""
    return result


def request_token(*, header: str, form: Any, day: date) -> str:
    """The idempotency key of a POST: the client's `Idempotency-Key` header when it sends
    one, else a digest of the form (without the api_key) and the local date, so that a
    client retrying the same report that day gets the first request back."""
    header = (header or "").strip()
    if header:
        return header[:100]
    items = sorted((k, v) for k in form if k != "api_key" for v in form.getlist(k))
    digest = hashlib.sha256(repr((day.isoformat(), items)).encode()).hexdigest()
    return f"form-{digest[:40]}"
