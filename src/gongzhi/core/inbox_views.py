"""The inbox pages: a person's in-app notifications, and the unread badge in the header."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .errors import NotFound
from .selectors import notifications_for, unread_count_for
from .services import notification_mark_read, notifications_mark_all_read

PAGE_SIZE = 30


@login_required
@require_GET
def inbox(request):
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read(request, notification_id: int):
    """Marks one notification read; with `open`, then follows its link."""
    try:
        row = notification_mark_read(user=request.user, notification_id=notification_id)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if request.POST.get("open") and _is_local(request, row.link):
        return redirect(row.link)
    if request.headers.get("HX-Request"):
        response = render(request, "core/inbox_item.html", {"notification": row})
        # tells the header badge to fetch its count again now, not at the next poll
        response["HX-Trigger"] = "inbox-changed"
        return response
    return redirect("core:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("已将 %(count)d 条消息标为已读。") % {"count": count})
    return redirect("core:inbox")


@require_GET
@never_cache
def unread_count(request):
    """The badge's number, polled by HTMX. A session that has ended answers 204, which
    htmx leaves alone, instead of a login page swapped into the header."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(
        request,
        "core/inbox_unread_count.html",
        {"inbox_unread_count": unread_count_for(request.user)},
    )


def _is_local(request, link: str) -> bool:
    # A notification's link is written by our own code, but following it after a POST
    # must still never become an open redirect.
    return bool(link) and url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
