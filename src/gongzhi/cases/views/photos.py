"""Case photos, served only to those who may see the case (its handlers and the staff over
it, the reporter): photos of homes and people are personal data, so they never sit at a
public media URL."""

import mimetypes

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from gongzhi.core.errors import NotFound

from ..selectors import case_photo_get


@login_required
@require_GET
def photo(request, pk: int):
    """One photo of a case the user may see; 404 for anyone else, as if it did not exist."""
    try:
        found = case_photo_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    try:
        handle = found.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404() from exc
    content_type = mimetypes.guess_type(found.image.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    # Kept by the browser that asked, never by a shared cache between it and us.
    response["Cache-Control"] = "private, max-age=3600"
    return response
