"""`{% entry_nav %}`: the header's links to each person's work (`core.navigation`)."""

from typing import Any

from django import template

from gongzhi.core.navigation import entry_links_for

register = template.Library()


@register.inclusion_tag("core/_entry_nav.html", takes_context=True)
def entry_nav(context: template.Context) -> dict[str, Any]:
    """The signed-in user's entry links; a page that already lists them (the home page
    passes `entry_links`) is not asked to compute them twice."""
    request = context.get("request")
    if request is None:
        return {"links": [], "current": ""}
    links = context.get("entry_links")
    if links is None:
        links = entry_links_for(user=request.user)
    return {"links": links, "current": request.path}
