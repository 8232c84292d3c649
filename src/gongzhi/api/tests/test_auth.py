"""Who may call the API: session users, holders of live tokens, nobody else."""

import re

import time_machine
from django.core.management import call_command
from django.test import Client

from gongzhi.api.models import ApiToken
from gongzhi.api.services import api_token_create, api_token_revoke
from gongzhi.core.models import AuditEvent


def test_session_user_is_the_caller(client_as):
    response = client_as("secretary").get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "secretary"


def test_bearer_token_authenticates_its_owner_and_notes_its_use(people, token_for):
    headers = token_for(people["grid_worker"])
    response = Client().get("/api/v1/me", **headers)
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "grid_worker"
    assert ApiToken.objects.get(user=people["grid_worker"]).last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(people):
    token, raw = api_token_create(actor=None, user=people["worker"], name="sync")
    with time_machine.travel("2026-05-01 09:00:00+08:00", tick=False):
        Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
        first = ApiToken.objects.get(pk=token.pk).last_used_at
    with time_machine.travel("2026-05-01 09:00:30+08:00", tick=False):
        Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    with time_machine.travel("2026-05-01 09:02:00+08:00", tick=False):
        Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_no_credentials_is_401_with_the_error_shape(tree):
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["message"]
    assert body["details"] == {}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(tree):
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer gz_not-a-real-token")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_revoked_token_is_401(people):
    token, raw = api_token_create(actor=None, user=people["worker"], name="old")
    api_token_revoke(actor=people["admin"], token=token)
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_token_of_a_deactivated_user_is_401(people):
    _token, raw = api_token_create(actor=None, user=people["worker"], name="sync")
    people["worker"].is_active = False
    people["worker"].save(update_fields=["is_active"])
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_a_bad_token_is_not_rescued_by_a_session_cookie(client_as):
    client = client_as("secretary")
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer gz_wrong")
    assert response.status_code == 401


def test_only_a_digest_of_the_token_is_stored(people):
    token, raw = api_token_create(actor=None, user=people["worker"], name="sync")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(v) for v in stored.values()]
    assert raw.startswith(token.prefix)


def test_create_and_revoke_are_audited(people):
    token, _raw = api_token_create(actor=people["admin"], user=people["worker"], name="sync")
    api_token_revoke(actor=people["admin"], token=token)
    verbs = list(
        AuditEvent.objects.filter(object_type="api.apitoken", object_id=str(token.pk))
        .order_by("at", "id")
        .values_list("verb", flat=True)
    )
    assert verbs == ["api_token.create", "api_token.revoke"]


def test_command_creates_a_working_token_and_revokes_it_by_prefix(people, capsys):
    call_command("api-token", "create", "worker", "--name", "12345 对接")
    raw = capsys.readouterr().out.strip()
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    token = ApiToken.objects.get(user=people["worker"])
    assert token.name == "12345 对接"
    call_command("api-token", "list", "worker")
    assert token.prefix in capsys.readouterr().out

    call_command("api-token", "revoke", token.prefix)
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_admin_creates_a_token_and_shows_it_once(people, client_as):
    admin_user = people["admin"]
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    client = client_as("admin")
    response = client.post(
        "/admin/api/apitoken/add/",
        {"user": people["worker"].pk, "name": "报表"},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=people["worker"], name="报表")
    shown = [
        found
        for message in response.context["messages"]
        for found in re.findall(r"gz_[\w-]{40,}", str(message))
    ]
    assert len(shown) == 1
    raw = shown[0]
    assert raw.startswith(token.prefix)
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
