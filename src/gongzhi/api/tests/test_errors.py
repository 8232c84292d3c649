"""Every refusal has the shape {code, message, details}, in the caller's language."""

import json

import pytest
from django.test import Client, RequestFactory
from django.utils import translation

from gongzhi.api.errors import NotAuthenticated
from gongzhi.api.v1 import api
from gongzhi.core.errors import Conflict, InvalidTransition, RateLimited, ValidationFailed


def _in(language, message):
    with translation.override(language):
        return str(message)


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [(None, "zh-hans"), ("zh-CN,zh;q=0.9", "zh-hans"), ("en-US,en;q=0.8", "en")],
)
def test_validation_error_is_422_with_field_problems_in_the_callers_language(
    client_as, tree, accept_language, language
):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    response = client_as("worker").get(
        f"/api/v1/places/{tree['estate'].code}/children?limit=0&offset=x", **headers
    )
    assert response.status_code == 422
    assert response["Content-Language"] == language
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["message"] == _in(language, ValidationFailed.default_message)
    problems = {p["field"]: p for p in body["details"]["errors"]}
    assert set(problems) == {"limit", "offset"}
    assert problems["limit"]["location"] == "query"
    assert problems["limit"]["type"] == "greater_than_equal"
    assert problems["offset"]["type"] == "int_parsing"
    assert all(p["message"] for p in problems.values())


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_unauthenticated_message_follows_accept_language(tree, language):
    response = Client().get("/api/v1/me", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 401
    assert response["Content-Language"] == language
    assert response.json()["message"] == _in(language, NotAuthenticated.default_message)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RateLimited(), 429, "rate_limited"),
        (InvalidTransition(), 409, "invalid_transition"),
        (Conflict(state="in_progress", version=4), 409, "conflict"),
        (ValidationFailed(code="text_required"), 422, "text_required"),
    ],
)
def test_domain_errors_keep_their_status_code_and_details(error, status, code):
    request = RequestFactory().get("/api/v1/me")
    response = api.on_exception(request, error)
    assert response.status_code == status
    body = json.loads(response.content)
    assert body["code"] == code
    assert body["message"] == str(error.message)
    assert body["details"] == error.details


def test_malformed_place_code_is_just_not_found(client_as):
    response = client_as("worker").get("/api/v1/places/%20")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
