"""The OpenAPI schema and the docs page work on an intranet: nothing is fetched from outside."""

import json
import re

from django.contrib.staticfiles import finders
from django.test import Client


def test_docs_page_uses_only_this_servers_static_files(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    for url in urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a shipped static file"
    assert "http://" not in html and "https://" not in html
    assert '"validatorUrl": null' in html


def test_openapi_schema_lists_every_endpoint(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "gongzhi API"
    assert schema["info"]["version"] == "1"
    steps = [
        "respond",
        "start",
        "pause",
        "resume",
        "complete",
        "follow-up",
        "close",
        "reopen",
        "merge",
        "decline",
        "to-topic",
        "co-handlers",
        "transfer",
        "transfer/accept",
        "transfer/refuse",
        "assign",
    ]
    assert {
        "/api/v1/me",
        "/api/v1/places/{code}",
        "/api/v1/places/{code}/children",
        "/api/v1/cases",
        "/api/v1/cases/duplicates",
        "/api/v1/cases/{number}",
        "/api/v1/cases/{number}/photos/{pk}",
        "/api/v1/cases/{number}/handlers/{handler_id}",
        "/api/v1/categories",
        "/api/v1/rates",
        *(f"/api/v1/cases/{{number}}/{step}" for step in steps),
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/cases"]) == {"get", "post"}
    complete = schema["paths"]["/api/v1/cases/{number}/complete"]["post"]
    assert "multipart/form-data" in complete["requestBody"]["content"]
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["ApiTokenAuth"].items()
    assert schemes["SessionAuth"]["in"] == "cookie"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert "401" in operation["responses"], f"{method.upper()} {path} hides its 401"
