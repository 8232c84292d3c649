"""The back office: Chinese pages, audited role changes, read-only evidence."""

from importlib import import_module

import pytest
import rules
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.urls import reverse

from gongzhi.accounts.models import (
    LoginFailure,
    PersonalDataAccess,
    Relation,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
)
from gongzhi.accounts.services import (
    password_sign_in,
    resident_from_roster,
    role_assign,
    role_revoke,
    user_create,
)
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditEvent


@pytest.fixture
def root(client, db):
    user = User.objects.create_superuser(username="root", password="x-Example-2026")
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "model", ["user", "roleassignment", "residency", "personaldataaccess", "loginfailure"]
)
def test_every_accounts_page_opens_in_chinese(client, root, people, model):
    response = client.get(reverse(f"admin:accounts_{model}_changelist"))
    assert response.status_code == 200
    assert "共治 gongzhi 管理后台" in response.content.decode()


def test_user_list_masks_phones_and_opening_a_user_is_logged(client, root, people):
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "139****0001" in listing and "13900000001" not in listing

    resident = people["resident"]
    page = client.get(reverse("admin:accounts_user_change", args=[resident.pk]))
    assert page.status_code == 200
    assert "角色分配" in page.content.decode() and "居住关系" in page.content.decode()
    read = PersonalDataAccess.objects.get()
    assert (read.viewer, read.subject) == (root, resident)


def test_a_role_added_in_the_admin_is_audited(client, root, tree, people):
    response = client.post(
        reverse("admin:accounts_roleassignment_add"),
        {
            "user": people["volunteer"].pk,
            "role": Role.BUILDING_LEADER,
            "place": tree["building"].pk,
            "organisation": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(role=Role.BUILDING_LEADER)
    assert assignment.granted_by == root
    event = AuditEvent.objects.get(verb="role.assign", object_id=str(assignment.pk))
    assert event.actor == root


def test_evidence_cannot_be_edited(client, root, people):
    with pytest.raises(ValidationFailed):
        password_sign_in(identifier="worker", password="x", ip_address="10.0.0.1")
    failure = LoginFailure.objects.get()
    assert client.get(reverse("admin:accounts_loginfailure_add")).status_code == 403
    assert (
        client.post(reverse("admin:accounts_loginfailure_delete", args=[failure.pk])).status_code
        == 403
    )


def test_marking_moved_out_from_the_admin(client, root, tree, people):
    user = resident_from_roster(
        actor=None,
        name="张阿姨",
        phone="13700001111",
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )
    residency = user.residencies.get()
    client.post(
        reverse("admin:accounts_residency_changelist"),
        {"action": "mark_ended", "_selected_action": [residency.pk]},
    )
    residency.refresh_from_db()
    assert residency.status == ResidencyStatus.ENDED


def test_adding_a_staff_account_in_the_admin(client, root):
    assert client.get(reverse("admin:accounts_user_add")).status_code == 200
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newworker",
            "name": "新同事",
            "phone": "13600001234",
            "usable_password": "true",
            "password1": "Worker-pw-2026",
            "password2": "Worker-pw-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newworker")
    assert (user.name, user.phone) == ("新同事", "13600001234")
    assert AuditEvent.objects.filter(verb="user.create", object_id=str(user.pk)).exists()


def test_a_role_added_on_the_users_page_is_audited(client, root, tree, people):
    volunteer = people["volunteer"]
    existing = RoleAssignment.objects.get(user=volunteer)
    response = client.post(
        reverse("admin:accounts_user_change", args=[volunteer.pk]),
        {
            "username": volunteer.username,
            "name": volunteer.name,
            "phone": volunteer.phone,
            "preferred_language": "zh-hans",
            "is_active": "on",
            "role_assignments-TOTAL_FORMS": "2",
            "role_assignments-INITIAL_FORMS": "1",
            "role_assignments-0-id": existing.pk,
            "role_assignments-0-user": volunteer.pk,
            "role_assignments-0-role": existing.role,
            "role_assignments-0-place": existing.place_id,
            "role_assignments-0-is_active": "on",
            "role_assignments-1-user": volunteer.pk,
            "role_assignments-1-role": Role.BUILDING_LEADER,
            "role_assignments-1-place": tree["building"].pk,
            "role_assignments-1-is_active": "on",
            "residencies-TOTAL_FORMS": "0",
            "residencies-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    added = RoleAssignment.objects.get(user=volunteer, role=Role.BUILDING_LEADER)
    assert added.granted_by == root
    assert AuditEvent.objects.filter(
        verb="role.assign", object_id=str(added.pk), actor=root
    ).exists()


# --- the administrator role opens the admin -------------------------------------------


def _staff_changes(user):
    return [
        (e.before, e.after)
        for e in AuditEvent.objects.filter(verb="user.staff_change", object_id=str(user.pk))
    ]


def test_an_administrator_opens_the_admin_in_chinese_until_the_role_ends(client, db):
    user = user_create(actor=None, username="it-admin", name="管理员甲", password="x-Example-2026")
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 302

    assignment = role_assign(actor=None, user=user, role=Role.ADMINISTRATOR)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert "共治 gongzhi 管理后台" in page.content.decode()

    role_revoke(actor=None, assignment=assignment)
    closed = client.get(reverse("admin:index"))
    assert closed.status_code == 302
    assert closed.url.startswith(reverse("admin:login"))
    assert _staff_changes(user) == [
        ({"is_staff": False}, {"is_staff": True}),
        ({"is_staff": True}, {"is_staff": False}),
    ]


def test_the_admin_stays_open_while_another_administrator_role_is_held(tree, db):
    user = user_create(actor=None, username="it-admin", password="x-Example-2026")
    everywhere = role_assign(actor=None, user=user, role=Role.ADMINISTRATOR)
    role_assign(actor=None, user=user, role=Role.ADMINISTRATOR, place=tree["community"])

    role_revoke(actor=None, assignment=everywhere)

    user.refresh_from_db()
    assert user.is_staff
    assert len(_staff_changes(user)) == 1


def test_a_superuser_keeps_the_admin_without_the_role(db):
    root = User.objects.create_superuser(username="root", password="x-Example-2026")
    assignment = role_assign(actor=None, user=root, role=Role.ADMINISTRATOR)
    role_revoke(actor=None, assignment=assignment)

    root.refresh_from_db()
    assert root.is_staff
    assert _staff_changes(root) == []


def test_an_administrator_role_ended_in_the_admin_closes_it(client, root, people):
    admin = people["admin"]
    assert User.objects.get(pk=admin.pk).is_staff
    assignment = admin.role_assignments.get(role=Role.ADMINISTRATOR)

    response = client.post(
        reverse("admin:accounts_roleassignment_change", args=[assignment.pk]),
        {"role": Role.ADMINISTRATOR, "place": "", "grid": "", "organisation": ""},
    )

    assert response.status_code == 302
    assert not RoleAssignment.objects.get(pk=assignment.pk).is_active
    assert not User.objects.get(pk=admin.pk).is_staff


def test_the_migration_gives_the_admin_to_administrators_only(people):
    migration = import_module("gongzhi.accounts.migrations.0004_staff_follows_administrator_role")
    admin, worker = people["admin"], people["worker"]
    # As before the migration: nothing set is_staff, and a box could be ticked by hand.
    User.objects.filter(pk=admin.pk).update(is_staff=False)
    User.objects.filter(pk=worker.pk).update(is_staff=True)

    migration.staff_follows_administrator_role(django_apps, None)

    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) == {"admin"}


# --- what the admin lets an administrator do ------------------------------------------


@pytest.fixture
def administrator(client, people):
    """The fixture's administrator (the role, not a superuser), signed in."""
    client.force_login(people["admin"])
    return people["admin"]


def test_no_rule_is_named_like_a_model_permission_of_the_admin(db):
    model_permissions = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    ours = set(rules.permissions.permissions)
    assert {"places.see_place", "deliberation.see_topic"} <= ours
    assert model_permissions & ours == set()


def test_an_administrator_browses_places_and_people_in_the_admin(client, tree, administrator):
    index = client.get(reverse("admin:index")).content.decode()
    assert "地点" in index and "用户" in index

    assert client.get(reverse("admin:places_place_changelist")).status_code == 200
    place = client.get(reverse("admin:places_place_change", args=[tree["dwelling"].pk]))
    assert place.status_code == 200 and "101室" in place.content.decode()
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_an_administrator_cannot_make_anyone_a_superuser(client, people, administrator):
    volunteer = people["volunteer"]
    page = client.get(reverse("admin:accounts_user_change", args=[volunteer.pk]))
    assert 'name="is_superuser"' not in page.content.decode()

    response = client.post(
        reverse("admin:accounts_user_change", args=[volunteer.pk]),
        {
            "username": volunteer.username,
            "name": "志愿者乙",
            "phone": volunteer.phone,
            "preferred_language": "zh-hans",
            "is_active": "on",
            "is_superuser": "on",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
            "residencies-TOTAL_FORMS": "0",
            "residencies-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.name == "志愿者乙"
    assert not volunteer.is_superuser


def test_the_administrators_model_permissions_are_not_the_scoped_rules(tree, people):
    admin = people["admin"]
    assert admin.has_perm("places.view_place") and admin.has_perm("accounts.change_user")
    assert admin.has_perm("places.see_place", tree["dwelling"])
    assert not admin.has_perm("accounts.view_phone_unmasked", tree["dwelling"])
    assert not people["secretary"].has_perm("places.view_place")
