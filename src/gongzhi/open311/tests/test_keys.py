"""API keys: created and revoked by the command and the admin, stored only as a digest."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gongzhi.core.errors import InvalidTransition, ValidationFailed
from gongzhi.core.models import AuditEvent
from gongzhi.open311.models import Open311Key
from gongzhi.open311.services import (
    key_digest,
    open311_key_authenticate,
    open311_key_create,
    open311_key_revoke,
)

from .conftest import report


def command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("open311-key", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_prints_a_key_that_files_requests_until_revoked(api, tree):
    raw, note = command("create", "--jurisdiction", tree["community"].code, "--name", "随手拍")
    key = Open311Key.objects.get()
    assert raw.startswith(key.prefix) and key.prefix in note
    assert (key.name, key.jurisdiction) == ("随手拍", tree["community"])
    assert key.key_hash == key_digest(raw) and raw not in repr(key.__dict__)
    report(api, raw)
    listing, _ = command("list")
    assert key.prefix in listing and tree["community"].code in listing and "live" in listing
    assert "last used never" not in listing
    revoked, _ = command("revoke", key.prefix)
    assert key.prefix in revoked
    response = api.post("json", api_key=raw, service_code="litter", address_id="x")
    assert response.status_code == 403
    assert "revoked" in command("list")[0]
    assert {e.verb for e in AuditEvent.objects.filter(object_type="open311.open311key")} == {
        "open311_key.create",
        "open311_key.client",
        "open311_key.revoke",
    }


def test_the_command_names_a_subdistrict_key_after_it_by_default(tree):
    command("create", "--jurisdiction", tree["subdistrict"].code)
    assert Open311Key.objects.get().name == "Open311 周家桥街道"


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--jurisdiction", "310105-ZJQ-NOPE"),
        ("revoke", "o311_nope"),
    ],
)
def test_the_command_refuses_unknown_things(tree, args):
    with pytest.raises(CommandError):
        command(*args)


def test_a_key_is_for_a_community_or_subdistrict_only(tree):
    for place in [tree["building"], tree["district"]]:
        with pytest.raises(ValidationFailed):
            open311_key_create(actor=None, jurisdiction=place, name="x")
    with pytest.raises(CommandError):
        command("create", "--jurisdiction", tree["building"].code)


def test_revoking_twice_is_refused(key):
    open311_key_revoke(actor=None, key=key[0])
    with pytest.raises(InvalidTransition):
        open311_key_revoke(actor=None, key=key[0])
    with pytest.raises(CommandError):
        command("revoke", key[0].prefix)


def test_authentication_notes_the_last_use_and_ignores_other_tokens(key):
    assert open311_key_authenticate(raw_key=key[1]) == key[0]
    key[0].refresh_from_db()
    assert key[0].last_used_at is not None
    assert open311_key_authenticate(raw_key="gz_" + key[1][5:]) is None
    assert open311_key_authenticate(raw_key=key[1][:-1]) is None


def test_the_admin_creates_a_key_shown_once_and_revokes_it(client, people, tree):
    admin = people["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    response = client.post(
        "/admin/open311/open311key/add/",
        {"name": "市民云", "jurisdiction": tree["community"].pk},
        follow=True,
    )
    assert response.status_code == 200
    key = Open311Key.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    raw = next(m.rsplit("：", 1)[1] for m in shown if key.prefix in m)
    assert open311_key_authenticate(raw_key=raw) == key
    client.post(
        "/admin/open311/open311key/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert key.is_revoked
    assert open311_key_authenticate(raw_key=raw) is None
