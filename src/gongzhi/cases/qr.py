"""一居一码: the QR code that opens a community's report page, as SVG.

The code holds the absolute address of `/r/<slug>/` as the request that asks for it saw
the site (scheme and host), so a code printed from the intranet address opens the
intranet page and one printed from the public address opens the public page.
"""

import qrcode
import qrcode.constants
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def report_url(*, request: HttpRequest, slug: str) -> str:
    """The absolute address of a community's report page, as this request reaches the site."""
    return request.build_absolute_uri(reverse("resident:report", args=[slug]))


def qr_svg(data: str, *, label: str) -> SafeString:
    """`data` as an SVG QR code that scales to the box the page gives it.

    Drawn from the module matrix as one path (one unit per module, the quiet zone of two
    modules included) on a white square, so it prints black on white whatever the page
    colours. Error correction M (15 %) survives a creased or slightly dirty poster while
    keeping the modules large enough to scan from a noticeboard. `label` is what a
    screen reader says instead of the picture.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    path = "".join(
        f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    )
    # Safe: numbers we drew and an escaped label, nothing else.
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
