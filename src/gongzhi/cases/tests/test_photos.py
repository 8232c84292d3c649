"""Adding photos to a case already reported (`case_photos_add`): who may, when, which kind,
the limits, and what it leaves behind (timeline, audit, version, notices)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.cases.models import CaseEvent, CasePhoto, EventKind, PhotoKind
from gongzhi.cases.services import (
    MAX_PHOTOS,
    case_complete,
    case_follow_up,
    case_photos_add,
    case_respond,
    case_start,
)
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEvent, Notification

from .conftest import png


def working(case, people):
    case = case_respond(actor=people["grid_worker"], case=case)
    return case_start(actor=people["grid_worker"], case=case)


def completed(case, people):
    return case_complete(actor=people["grid_worker"], case=working(case, people), note="已修好")


def test_the_reporter_adds_photos_of_the_problem_and_the_handlers_hear_of_it(report, people):
    case = report()
    added = case_photos_add(
        actor=people["resident"], case=case, photos=[png("a.png"), png("b.png")]
    )

    assert [photo.kind for photo in added] == [PhotoKind.REPORT, PhotoKind.REPORT]
    assert all(photo.uploaded_by == people["resident"] for photo in added)
    case.refresh_from_db()
    assert case.version == 2
    event = CaseEvent.objects.get(case=case, kind=EventKind.PHOTOS_ADDED)
    assert event.is_public and event.actor == people["resident"]
    assert "补充了 2 张上报照片" in event.note
    assert event.data["photos"] == [photo.pk for photo in added]
    audit = AuditEvent.objects.get(verb="case.photos_add", object_id=str(case.pk))
    assert audit.before["photos"] == 0 and audit.after["photos"] == 2
    notice = Notification.objects.get(recipient=people["grid_worker"], verb="case.photos_added")
    assert case.number in notice.title and "2 张照片" in notice.body


def test_the_lead_adds_progress_photos_then_completion_photos(report, people):
    case = working(report(), people)
    [progress] = case_photos_add(actor=people["grid_worker"], case=case, photos=[png()])
    assert progress.kind == PhotoKind.PROGRESS

    case = case_complete(actor=people["grid_worker"], case=case, note="已更换灯泡")
    [completion] = case_photos_add(actor=people["grid_worker"], case=case, photos=[png()])
    assert completion.kind == PhotoKind.COMPLETION
    # The handler's own photos tell no one: the reporter sees them on the timeline.
    assert not Notification.objects.filter(verb="case.photos_added").exists()


def test_a_community_lead_standing_in_may_add_photos(report, people):
    case = working(report(), people)
    [photo] = case_photos_add(actor=people["secretary"], case=case, photos=[png()])
    assert photo.kind == PhotoKind.PROGRESS


def test_the_reporter_cannot_add_photos_once_the_case_is_completed(report, people):
    case = completed(report(), people)
    with pytest.raises(PermissionDenied) as refused:
        case_photos_add(actor=people["resident"], case=case, photos=[png()])
    assert refused.value.code == "case_not_open"
    assert "不能再补充照片" in refused.value.message and "投诉" in refused.value.message
    assert not CasePhoto.objects.filter(kind=PhotoKind.REPORT).exists()


def test_nobody_adds_photos_to_a_closed_case(report, people):
    case = completed(report(), people)
    case_follow_up(actor=people["resident"], case=case, resolved=True, satisfaction="satisfied")
    with pytest.raises(PermissionDenied):
        case_photos_add(actor=people["grid_worker"], case=case, photos=[png()])


@pytest.mark.parametrize("who", ["worker", "supervisor", "admin"])
def test_staff_who_do_not_handle_the_case_may_not_add_photos(report, people, who):
    with pytest.raises(PermissionDenied):
        case_photos_add(actor=people[who], case=report(), photos=[png()])


@pytest.mark.parametrize("who", ["other_worker", "volunteer", "property"])
def test_a_case_out_of_sight_is_not_found(report, people, who):
    with pytest.raises(NotFound):
        case_photos_add(actor=people[who], case=report(), photos=[png()])


def test_a_file_that_is_not_a_picture_is_refused_by_name(report, people):
    notes = SimpleUploadedFile("notes.txt", b"not a picture", content_type="text/plain")
    with pytest.raises(ValidationFailed) as refused:
        case_photos_add(actor=people["resident"], case=report(), photos=[png(), notes])
    assert refused.value.code == "invalid_photo"
    assert "“notes.txt”不是有效的图片" in refused.value.message
    assert not CasePhoto.objects.exists()


def test_each_kind_of_photo_is_capped_per_case(report, people):
    case = report(photos=[png(f"{n}.png") for n in range(MAX_PHOTOS - 1)])
    case_photos_add(actor=people["resident"], case=case, photos=[png()])
    with pytest.raises(ValidationFailed) as refused:
        case_photos_add(actor=people["resident"], case=case, photos=[png()])
    assert refused.value.code == "too_many_photos"
    assert "最多 9 张，已有 9 张，还可添加 0 张" in refused.value.message
    # The handler's photos are another kind, with their own room.
    case = working(case, people)
    assert len(case_photos_add(actor=people["grid_worker"], case=case, photos=[png()])) == 1


def test_no_photos_is_a_clear_refusal(report, people):
    with pytest.raises(ValidationFailed) as refused:
        case_photos_add(actor=people["resident"], case=report(), photos=[])
    assert refused.value.message == "请选择要上传的照片。"


def test_a_stale_version_is_a_conflict_and_adds_nothing(report, people):
    case = report()
    case_respond(actor=people["grid_worker"], case=case)
    with pytest.raises(Conflict):
        case_photos_add(actor=people["resident"], case=case, photos=[png()], expected_version=1)
    assert not CasePhoto.objects.exists()
