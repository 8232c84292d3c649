"""Place pages: the tree a user can see, one place, the roster import and its template."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.core.errors import NotFound

from .forms import RosterUploadForm
from .models import Place, PlaceKind
from .roster import roster_import
from .roster_template import roster_template_bytes
from .selectors import (
    place_breadcrumb_for,
    place_children_for,
    place_get,
    place_grids_for,
    place_tree_summary_for,
    places_search_for,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _place_or_404(request, code: str) -> Place:
    try:
        return place_get(user=request.user, code=code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


@login_required
@require_GET
def index(request):
    """The communities the user sees, with their counts, and a search over their places."""
    query = request.GET.get("q", "").strip()
    results = places_search_for(user=request.user, text=query) if query else None
    if request.headers.get("HX-Request") and "q" in request.GET:
        return render(request, "places/_search_results.html", {"results": results, "query": query})
    return render(
        request,
        "places/index.html",
        {
            "summaries": place_tree_summary_for(user=request.user),
            "results": results,
            "query": query,
        },
    )


@login_required
@require_GET
def place_detail(request, code: str):
    """One place: where it lies, what is under it, which grids it is in."""
    place = _place_or_404(request, code)
    return render(
        request,
        "places/place_detail.html",
        {
            "place": place,
            "crumbs": place_breadcrumb_for(user=request.user, place=place),
            "children": place_children_for(user=request.user, place=place),
            "grids": place_grids_for(place=place),
            "can_import_roster": request.user.has_perm("places.import_roster", place),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def roster_upload(request, code: str):
    """Upload a community's roster: the errors table, or what was (or would be) imported."""
    community = _place_or_404(request, code)
    if community.kind != PlaceKind.COMMUNITY:
        raise Http404(_("花名册只能导入到居民区。"))
    if not request.user.has_perm("places.import_roster", community):
        raise PermissionDenied(_("只有本居民区的社区工作者、书记、主任可以导入花名册。"))
    report = None
    form = RosterUploadForm()
    if request.method == "POST":
        submitted = RosterUploadForm(request.POST, request.FILES)
        if submitted.is_valid():
            report = roster_import(
                actor=request.user,
                community=community,
                file=submitted.cleaned_data["file"],
                dry_run=submitted.cleaned_data["dry_run"],
            )
        else:
            form = submitted
    return render(
        request,
        "places/roster_upload.html",
        {"community": community, "form": form, "report": report},
    )


@login_required
@require_GET
def roster_template(request):
    """The .xlsx template a community worker fills in."""
    response = HttpResponse(roster_template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("花名册模板.xlsx")
    )
    return response
