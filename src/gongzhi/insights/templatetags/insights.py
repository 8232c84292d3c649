"""Template helpers of the boards: links down to the worker inbox, rates as text.

Every figure on a board links to the inbox filtered to the cases behind it; the inbox's
query parameters are named here once (see `cases.forms_worker.InboxFilterForm`).
"""

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.formats import number_format

from gongzhi.insights.selectors import Period, Rate

register = template.Library()

# The inbox's state choice that lists cases in every state (finished ones too).
ALL_STATES = "all"


@register.simple_tag
def inbox_url(
    *,
    community: str = "",
    period: Period | None = None,
    state: str = ALL_STATES,
    **filters: Any,
) -> str:
    """The worker inbox filtered to one community (by code), the cases reported in a
    period, a state, and any other inbox filter given by name (category, place, overdue)."""
    params: dict[str, Any] = {"state": state}
    if community:
        params["area"] = f"p:{community}"
    if period is not None:
        params["reported_from"] = period.first_day.isoformat()
        params["reported_to"] = period.last_day.isoformat()
    params.update({name: value for name, value in filters.items() if value not in (None, "")})
    return f"{_inbox_path(get_script_prefix())}?{urlencode(params)}"


@lru_cache(maxsize=8)
def _inbox_path(script_prefix: str) -> str:
    """The inbox's path under a script prefix: the URLconf does not change while the
    process runs, and a board links to it some seventy times."""
    return reverse("cases_worker:inbox")


@register.filter
def percent(rate: Rate) -> str:
    """ "93.3%", or "—" when nothing was due."""
    value = rate.percent
    if value is None:
        return "—"
    return f"{number_format(value, decimal_pos=1)}%"
