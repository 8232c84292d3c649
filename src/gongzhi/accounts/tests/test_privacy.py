"""Masking phone numbers and recording staff reads of personal data."""

import pytest
from django.contrib.auth.models import AnonymousUser
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.accounts.models import PersonalDataAccess, Role, User
from gongzhi.accounts.privacy import mask_phone, personal_data_read, phone_for_viewer
from gongzhi.accounts.services import role_assign

SUBJECT_PHONE = "13900000001"  # the fixture resident's phone
MASKED = "139****0001"


def test_mask_a_mobile_number():
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [(None, ""), ("", ""), ("62345678", "********"), ("021623456", "*****3456")],
)
def test_mask_other_numbers(phone, masked):
    assert mask_phone(phone) == masked


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_a_masked_mobile_keeps_head_and_tail_and_hides_the_middle(phone):
    masked = mask_phone(phone)
    assert len(masked) == 11
    assert masked[:3] == phone[:3]
    assert masked[-4:] == phone[-4:]
    assert masked[3:7] == "****"


@given(st.text(alphabet="0123456789", max_size=20))
def test_masking_never_shows_more_than_seven_digits(phone):
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    assert sum(ch.isdigit() for ch in masked) <= 7
    assert masked.count("*") >= len(phone) // 3


@pytest.mark.parametrize(
    ("viewer_key", "shown"),
    [
        ("resident", SUBJECT_PHONE),  # the person themself
        ("secretary", SUBJECT_PHONE),  # the community's secretary
        ("worker", MASKED),
        ("grid_worker", MASKED),
        ("property", MASKED),
        ("supervisor", MASKED),
        ("volunteer", MASKED),
        ("partner", MASKED),
        ("admin", MASKED),
        ("other_worker", MASKED),
    ],
)
def test_phone_for_viewer_by_role(tree, people, viewer_key, shown):
    assert (
        phone_for_viewer(
            viewer=people[viewer_key], subject_phone=SUBJECT_PHONE, place=tree["dwelling"]
        )
        == shown
    )


def test_a_secretary_elsewhere_sees_the_mask(tree, people):
    other_secretary = User.objects.create_user(username="other_secretary", password="x")

    role_assign(
        actor=None, user=other_secretary, role=Role.SECRETARY, place=tree["other_community"]
    )
    assert (
        phone_for_viewer(
            viewer=other_secretary, subject_phone=SUBJECT_PHONE, place=tree["dwelling"]
        )
        == MASKED
    )


def test_without_a_place_even_the_secretary_sees_the_mask(people):
    assert phone_for_viewer(viewer=people["secretary"], subject_phone=SUBJECT_PHONE) == MASKED


def test_the_people_named_by_the_caller_see_the_number(tree, people):
    handlers = [people["worker"], people["property"]]
    for viewer_key in ("worker", "property"):
        assert (
            phone_for_viewer(
                viewer=people[viewer_key], subject_phone=SUBJECT_PHONE, unmasked_for=handlers
            )
            == SUBJECT_PHONE
        )
    assert (
        phone_for_viewer(
            viewer=people["grid_worker"], subject_phone=SUBJECT_PHONE, unmasked_for=handlers
        )
        == MASKED
    )


def test_anonymous_and_missing_numbers(people):
    assert phone_for_viewer(viewer=AnonymousUser(), subject_phone=SUBJECT_PHONE) == MASKED
    assert phone_for_viewer(viewer=people["secretary"], subject_phone=None) == ""


def test_a_superuser_sees_the_mask_too(tree, db):
    root = User.objects.create_superuser(username="root", password="x-Example-2026")
    assert (
        phone_for_viewer(viewer=root, subject_phone=SUBJECT_PHONE, place=tree["dwelling"]) == MASKED
    )


def test_a_staff_read_is_recorded_with_who_what_and_why(tree, people):
    row = personal_data_read(
        viewer=people["worker"],
        subject=people["resident"],
        fields=["name", "phone"],
        purpose="回访",
        obj=tree["dwelling"],
    )
    assert row is not None
    stored = PersonalDataAccess.objects.get()
    assert stored.viewer == people["worker"]
    assert stored.subject == people["resident"]
    assert stored.fields == "name,phone"
    assert stored.purpose == "回访"
    assert (stored.object_type, stored.object_id) == ("places.place", str(tree["dwelling"].pk))
    assert stored.at is not None


def test_reading_ones_own_data_is_not_recorded(people):
    assert (
        personal_data_read(
            viewer=people["resident"], subject=people["resident"], fields=["phone"], purpose="本人"
        )
        is None
    )
    assert not PersonalDataAccess.objects.exists()


def test_an_export_of_many_people_is_recorded_once(people):
    personal_data_read(
        viewer=people["secretary"], subject=None, fields=["name", "phone"], purpose="导出花名册"
    )
    assert PersonalDataAccess.objects.get().subject is None
