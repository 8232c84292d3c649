"""GeoReport v2 documents in XML and JSON, and its error lists.

One payload (dicts, lists, strings, numbers, booleans, None) renders both ways, following
the spec's Spark convention: in XML a list becomes a container element whose children
are named by `LIST_ITEMS` (`<services><service>…`), in JSON a list is a list and the
root element disappears. Booleans are `true`/`false` in both, `None` is an empty element
in XML and `null` in JSON. XML is built with ElementTree, so every text is escaped.
"""

import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

FORMATS = ("xml", "json")
CONTENT_TYPES = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'

# The element a list's items are called, by the list's element name.
LIST_ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
}


class Open311Error(Exception):
    """An answer of the spec's error list: HTTP `status` and one or more descriptions."""

    def __init__(self, status: int, *descriptions: Any):
        self.status = status
        self.descriptions = [str(d) for d in descriptions]
        super().__init__("; ".join(self.descriptions))


def render(fmt: str, root: str, payload: Any, *, status: int = 200) -> HttpResponse:
    """`payload` as the `fmt` document whose XML root element is `root`."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False, default=_json_default).encode()
    else:
        body = to_xml(root, payload)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def render_error(fmt: str, error: Open311Error) -> HttpResponse:
    """The spec's error list: `[{"code": 400, "description": "…"}]` or `<errors>…`."""
    errors = [{"code": error.status, "description": text} for text in error.descriptions]
    return render(fmt, "errors", errors, status=error.status)


def to_xml(root: str, payload: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, payload)
    ET.indent(element)
    return XML_DECLARATION + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list | tuple):
        item_tag = LIST_ITEMS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
