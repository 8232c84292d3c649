"""The owner register: built from verified owners and registered areas, imported from
Excel (area and its source, owners, developer's unsold units), refused row by row."""

from decimal import Decimal

import pytest

from gongzhi.core.errors import PermissionDenied
from gongzhi.deliberation import selectors, services
from gongzhi.deliberation.models import AreaSource, OwnerRegisterEntry

from .conftest import workbook


def entries(green):
    return {e.place_id: e for e in OwnerRegisterEntry.objects.filter(estate=green["estate"])}


def test_the_register_is_built_from_verified_owners_and_registered_areas(people, green):
    report = services.owner_register_sync(actor=green["committee"], estate=green["estate"])
    assert report.entries == 6
    assert report.verified_owners == 5
    assert report.without_area == []
    rows = entries(green)
    assert rows[green["b1_101"].pk].owner_key == rows[green["b1_102"].pk].owner_key
    assert rows[green["b2_101"].pk].owner_label == "张伟、周芳"
    assert rows[green["b2_201"].pk].owner_label == "未登记"
    assert rows[green["b1_201"].pk].area_source == AreaSource.REGISTERED


def test_an_import_adds_areas_owners_and_the_developers_unsold_units(people, green):
    services.owner_register_sync(actor=green["committee"], estate=green["estate"])
    data = workbook(
        [
            ("2号楼", "201", "101.35", "实测", "", "", "是"),
            ("1号楼", "201室", "70.00", "不动产登记", "李梅", "13700000002", "否"),
            ("2幢", "102", "60.5", "合同", "赵强、赵丽", "", ""),
        ]
    )
    report = services.owner_register_import(
        actor=green["committee"], estate=green["estate"], file=data
    )
    assert report.errors == []
    assert report.imported == 3
    rows = entries(green)
    unsold = rows[green["b2_201"].pk]
    assert unsold.developer_unsold
    assert unsold.area == Decimal("101.35")
    assert unsold.area_source == AreaSource.SURVEYED
    # Verified owners win over the imported names; the imported area still counts.
    zhao = rows[green["b2_102"].pk]
    assert zhao.owner_label == "赵强"
    assert zhao.area == Decimal("60.50")
    assert zhao.area_source == AreaSource.CONTRACT


def test_an_imported_owner_matched_by_phone_is_one_owner_with_their_verified_parts(people, green):
    from gongzhi.places.models import PlaceKind
    from gongzhi.places.services import place_create

    extra = place_create(
        actor=None, kind=PlaceKind.DWELLING, name="301室", segment="301", parent=green["b1"]
    )
    data = workbook([("1号楼", "301", "88.00", "", "王建国", "13700000001", "")])
    services.owner_register_import(actor=green["committee"], estate=green["estate"], file=data)
    rows = entries(green)
    assert rows[extra.pk].owner_key == rows[green["b1_101"].pk].owner_key
    assert rows[extra.pk].representative is None


def test_a_wrong_row_stops_the_whole_import(people, green):
    data = workbook(
        [
            ("1号楼", "101", "90.00", "", "王建国", "", ""),
            ("9号楼", "101", "90.00", "", "某人", "", ""),
            ("1号楼", "102", "-3", "", "王建国", "", ""),
            ("1号楼", "201", "70", "估计", "李梅", "", ""),
            ("2号楼", "101", "100", "", "", "", ""),
            ("2号楼", "102", "60", "", "赵强", "123", ""),
        ]
    )
    report = services.owner_register_import(
        actor=green["committee"], estate=green["estate"], file=data
    )
    assert [row for row, _m in report.errors] == [4, 5, 6, 7, 8]
    messages = dict(report.errors)
    assert "找不到该房屋" in messages[4]
    assert "大于0" in messages[5]
    assert not OwnerRegisterEntry.objects.exists()


def test_a_file_without_the_columns_is_refused(people, green):
    data = workbook([("x",)], header=("姓名",))
    report = services.owner_register_import(
        actor=green["committee"], estate=green["estate"], file=data
    )
    assert "找不到表头" in report.errors[0][1]


def test_co_owners_choose_their_representative(people, green):
    services.owner_register_sync(actor=green["committee"], estate=green["estate"])
    entry = OwnerRegisterEntry.objects.get(place=green["b2_101"])
    assert entry.representative == green["zhang"]
    services.owner_register_set_representative(
        actor=green["committee"], entry=entry, user=green["zhou"]
    )
    services.owner_register_sync(actor=green["committee"], estate=green["estate"])
    entry.refresh_from_db()
    assert entry.representative == green["zhou"]
    from gongzhi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.owner_register_set_representative(
            actor=green["committee"], entry=entry, user=green["li"]
        )


def test_the_register_is_kept_by_the_committee_and_community_staff(people, green):
    with pytest.raises(PermissionDenied):
        services.owner_register_sync(actor=green["wang"], estate=green["estate"])
    with pytest.raises(PermissionDenied):
        services.owner_register_sync(actor=green["property"], estate=green["estate"])
    services.owner_register_sync(actor=people["worker"], estate=green["estate"])
    assert (
        selectors.owner_register_for(user=people["secretary"], estate=green["estate"]).count() == 6
    )
