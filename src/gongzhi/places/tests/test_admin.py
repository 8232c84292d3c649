"""The places admin: Chinese lists, and every save through the audited services."""

import pytest
from django.urls import reverse

from gongzhi.accounts.services import user_create
from gongzhi.core.models import AuditEvent
from gongzhi.places.models import Grid, Place


@pytest.fixture
def superuser(db):
    user = user_create(actor=None, username="root", name="管理员", password="pw-Example-2026")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def test_place_list_searches_and_filters(client, tree, superuser):
    client.force_login(superuser)
    url = reverse("admin:places_place_changelist")
    body = client.get(url, {"q": "HQXC-E1-B2", "kind__exact": "building"}).content.decode()
    assert "2号楼" in body
    assert "1号楼" not in body
    assert "类型" in body and "居民区类型" in body  # the Chinese filters


def test_adding_a_place_in_the_admin_goes_through_the_service(client, tree, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:places_place_add"),
        {"kind": "building", "name": "3号楼", "parent": tree["estate"].pk, "segment": "b3"},
    )
    assert response.status_code == 302
    building = Place.objects.get(code=tree["estate"].code + "-B3")
    assert building.community == tree["community"]
    assert building.search_name == "3号楼"
    assert (
        AuditEvent.objects.get(verb="place.create", object_id=str(building.pk)).actor == superuser
    )


def test_the_admin_explains_a_place_the_tree_does_not_allow(client, tree, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:places_place_add"),
        {"kind": "dwelling", "name": "101室", "parent": tree["district"].pk, "segment": "101"},
    )
    assert response.status_code == 200
    assert "区下面不能添加户" in response.content.decode()


def test_changing_a_place_in_the_admin_is_audited(client, tree, superuser):
    client.force_login(superuser)
    building = tree["building"]
    response = client.post(
        reverse("admin:places_place_change", args=[building.pk]),
        {"name": "一号楼", "sort_key": 1, "is_active": "on", "community_type": ""},
    )
    assert response.status_code == 302
    building.refresh_from_db()
    assert building.name == "一号楼"
    assert building.code.endswith("-B1")
    event = AuditEvent.objects.get(verb="place.update", object_id=str(building.pk))
    assert event.after == {"name": "一号楼", "sort_key": 1}


def test_redrawing_a_grid_in_the_admin_is_audited(client, tree, superuser):
    client.force_login(superuser)
    grid = tree["grid"]
    response = client.post(
        reverse("admin:places_grid_change", args=[grid.pk]),
        {"name": "第一网格", "buildings": [tree["building"].pk, tree["building_2"].pk]},
    )
    assert response.status_code == 302
    assert Grid.objects.get(pk=grid.pk).buildings.count() == 2
    assert AuditEvent.objects.filter(verb="grid.update", object_id=str(grid.pk)).exists()


def test_nothing_is_deleted_from_the_admin(client, tree, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:places_place_delete", args=[tree["dwelling"].pk]))
    assert response.status_code == 403
