"""`/cases/<number>/`: the one address a case has outside its pages. Notifications link
here, because the person they tell may read the case on the worker pages or on 我的诉求;
this view sends each to the page that is theirs."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gongzhi.core.errors import NotFound

from ..selectors import WORKER_PAGE, case_page_for


@login_required
@never_cache
@require_GET
def case_open(request: HttpRequest, number: str) -> HttpResponse:
    """The handling side goes to the worker's case page, the reporter to their own case
    page; anyone else gets a 404, exactly as for a number that does not exist."""
    try:
        page = case_page_for(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if page == WORKER_PAGE:
        return redirect("cases_worker:case", number)
    return redirect("resident:my_case", number)
