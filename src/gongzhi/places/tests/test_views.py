"""The place pages and the roster upload, as each person meets them in a browser."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.accounts.models import Residency
from gongzhi.places.models import Place

from .test_roster import GOOD_ROWS


def login(client, user):
    client.force_login(user)
    return client


def test_place_pages_need_a_sign_in(client, tree):
    response = client.get(reverse("places:detail", args=[tree["community"].code]))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_worker_sees_the_community_page(client, tree, people):
    response = login(client, people["worker"]).get(
        reverse("places:detail", args=[tree["community"].code])
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "虹桥新城居民区" in body
    assert "虹桥新城小区" in body  # its child
    assert "第一网格" in body  # its grids
    assert reverse("places:roster_upload", args=[tree["community"].code]) in body


def test_a_building_page_shows_its_grid_and_breadcrumb(client, tree, people):
    response = login(client, people["grid_worker"]).get(
        reverse("places:detail", args=[tree["building"].code])
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "第一网格" in body
    assert "周家桥街道" in body  # named in the breadcrumb …
    assert reverse("places:detail", args=[tree["subdistrict"].code]) not in body  # … not linked
    assert reverse("places:detail", args=[tree["entrance"].code]) in body


@pytest.mark.parametrize(
    ("person", "place"),
    [("other_worker", "community"), ("grid_worker", "building_2"), ("resident", "dwelling_102")],
)
def test_a_place_outside_scope_answers_404(client, tree, people, person, place):
    response = login(client, people[person]).get(reverse("places:detail", args=[tree[place].code]))
    assert response.status_code == 404


def test_the_index_lists_the_communities_and_searches(client, tree, people):
    login(client, people["supervisor"])
    body = client.get(reverse("places:index")).content.decode()
    assert "虹桥新城居民区" in body and "另一居民区" in body
    partial = client.get(reverse("places:index"), {"q": "虹橋"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert tree["estate"].code in partial.content.decode()


def test_the_template_downloads_as_an_excel_file(client, people):
    response = login(client, people["worker"]).get(reverse("places:roster_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["花名册", "说明"]


@pytest.mark.parametrize("person", ["worker", "secretary", "admin"])
def test_the_upload_page_opens_for_staff_over_the_community(client, tree, people, person):
    response = login(client, people[person]).get(
        reverse("places:roster_upload", args=[tree["community"].code])
    )
    assert response.status_code == 200
    assert "导入花名册" in response.content.decode()


@pytest.mark.parametrize(
    ("person", "status"),
    [("other_worker", 404), ("grid_worker", 404), ("property", 404), ("volunteer", 403)],
)
def test_the_upload_page_is_closed_to_others(client, tree, people, person, status):
    response = login(client, people[person]).get(
        reverse("places:roster_upload", args=[tree["community"].code])
    )
    assert response.status_code == status


def test_the_upload_page_is_for_communities_only(client, tree, people):
    response = login(client, people["worker"]).get(
        reverse("places:roster_upload", args=[tree["estate"].code])
    )
    assert response.status_code == 404


def test_uploading_a_good_roster_shows_the_summary(client, tree, people, roster_file):
    login(client, people["secretary"])
    with open(roster_file(GOOD_ROWS), "rb") as upload:
        response = client.post(
            reverse("places:roster_upload", args=[tree["community"].code]),
            {"file": upload},
        )
    body = response.content.decode()
    assert response.status_code == 200
    assert "导入成功" in body
    assert Residency.objects.filter(community=tree["community"]).count() == 6


def test_uploading_a_bad_roster_shows_every_bad_row(client, tree, people, roster_file):
    rows = [
        ["虹桥新城小区", "12号楼", "1单元", "1201", "abc", "", "", "", ""],
        ["虹桥新城小区", "12号楼", "1单元", "1202", "", "张三", "123", "业主", ""],
    ]
    before = Place.objects.count()
    login(client, people["worker"])
    with open(roster_file(rows), "rb") as upload:
        response = client.post(
            reverse("places:roster_upload", args=[tree["community"].code]),
            {"file": upload},
        )
    body = response.content.decode()
    assert "发现 2 处问题，未导入任何数据" in body
    assert "<td>2</td>" in body and "<td>3</td>" in body
    assert "面积必须是大于0的数字" in body
    assert Place.objects.count() == before


def test_a_dry_run_upload_writes_nothing(client, tree, people, roster_file):
    before = Place.objects.count()
    login(client, people["worker"])
    with open(roster_file(GOOD_ROWS), "rb") as upload:
        response = client.post(
            reverse("places:roster_upload", args=[tree["community"].code]),
            {"file": upload, "dry_run": "on"},
        )
    assert "检查通过（尚未导入）" in response.content.decode()
    assert Place.objects.count() == before


def test_a_file_that_is_not_xlsx_is_refused_by_the_form(client, tree, people, tmp_path):
    path = tmp_path / "roster.xls"
    path.write_bytes(b"old excel")
    login(client, people["worker"])
    with open(path, "rb") as upload:
        response = client.post(
            reverse("places:roster_upload", args=[tree["community"].code]), {"file": upload}
        )
    assert response.status_code == 200
    assert "请上传 .xlsx 格式的 Excel 文件" in response.content.decode()


def test_outside_scope_an_upload_is_refused_before_reading_it(client, tree, people, roster_file):
    before = Place.objects.count()
    login(client, people["other_worker"])
    with open(roster_file(GOOD_ROWS), "rb") as upload:
        response = client.post(
            reverse("places:roster_upload", args=[tree["community"].code]), {"file": upload}
        )
    assert response.status_code == 404
    assert Place.objects.count() == before
