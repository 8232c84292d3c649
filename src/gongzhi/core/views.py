from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gongzhi.accounts import selectors as account_selectors

from .navigation import HOME, WORK, entry_links_for


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on every site, admin pages included: point them at
    the icon in the static files instead of answering 404."""
    return redirect(static("gongzhi/favicon.svg"), permanent=True)


@require_GET
@never_cache
def health(request):
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def home(request):
    """Each person's start page: the pages their work starts from (`entry_links_for`), their
    roles, the part of the place tree those roles reach (compact: large scopes stop at
    estates, with counts), and their own homes and claims."""
    user = request.user
    links = entry_links_for(user=user, count_pending=True)
    return render(
        request,
        "core/home.html",
        {
            "entry_links": links,
            "home_links": [link for link in links if link.group == HOME],
            "work_links": [link for link in links if link.group == WORK],
            "roles": account_selectors.roles_for(user=user),
            "sections": account_selectors.place_tree_for(user=user),
            "residencies": account_selectors.residencies_for_user(user=user),
        },
    )
