"""Acting on cases through the API: every step, who may take it, the state graph, and two
people acting at once (the second is told what changed)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gongzhi.cases.models import Case, CaseHandler
from gongzhi.cases.services import case_complete, case_respond, case_start

from .conftest import png


def url(case, step=""):
    return f"/api/v1/cases/{case.number}" + (f"/{step}" if step else "")


def in_progress(case, people):
    case = case_respond(actor=people["grid_worker"], case=case)
    return case_start(actor=people["grid_worker"], case=case)


def test_the_lead_responds_and_the_version_moves_on(api, report):
    case = report()
    response = api("grid_worker").post(url(case, "respond"), {"note": "马上去看"})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "responded"
    assert body["version"] == 2
    assert response["ETag"] == '"2"'
    assert "start" in body["actions"]
    assert body["contact"] is None  # personal data only on GET, where each read is logged


def test_a_forbidden_step_is_403_with_a_clear_message(api, report):
    case = report()
    response = api("resident").post(url(case, "respond"))
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied"
    assert body["message"] == "您没有权限执行此操作。"
    assert Case.objects.get(pk=case.pk).state == "reported"


def test_a_step_on_an_invisible_case_is_404(api, report):
    case = report()
    assert api("other_worker").post(url(case, "respond")).status_code == 404
    assert api("property").post(url(case, "respond")).status_code == 404


def test_a_step_the_state_graph_does_not_allow_is_409(api, report):
    case = report()
    response = api("worker").post(url(case, "close"))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert body["details"]["state"] == "reported"
    assert "已上报" in body["message"]


def test_the_second_of_two_people_acting_at_once_gets_409_with_the_current_state(api, report):
    case = report()
    first = api("grid_worker").post(url(case, "respond"), {"expected_version": 1})
    second = api("worker").post(url(case, "decline"), {"expected_version": 1, "reason": "不归我们"})
    assert first.status_code == 200
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "conflict"
    assert body["details"] == {"state": "responded", "version": 2}
    assert Case.objects.get(pk=case.pk).state == "responded"


def test_if_match_carries_the_version_too(api, report):
    case = report()
    stale = api("grid_worker").post(url(case, "respond"), HTTP_IF_MATCH='"7"')
    assert stale.status_code == 409
    assert stale.json()["details"]["version"] == 1
    fresh = api("grid_worker").post(url(case, "respond"), HTTP_IF_MATCH='W/"1"')
    assert fresh.status_code == 200
    bad = api("grid_worker").post(url(case, "start"), HTTP_IF_MATCH="yesterday")
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_if_match"


def test_pause_and_resume(api, report, people):
    case = in_progress(report(), people)
    lead = api("grid_worker")
    missing_reason = lead.post(url(case, "pause"), {})
    assert missing_reason.status_code == 422
    assert missing_reason.json()["details"]["errors"][0]["field"] == "reason"
    paused = lead.post(url(case, "pause"), {"reason": "等居民在家"}).json()
    assert paused["state"] == "paused"
    assert paused["pause_reason"] == "等居民在家"
    resumed = lead.post(url(case, "resume")).json()
    assert resumed["state"] == "in_progress"


def test_complete_with_a_photo_where_the_category_asks(api, report, people, tree):
    case = in_progress(report("flying_wire", text="1单元楼道飞线充电"), people)
    lead = api("grid_worker")
    without = lead.post(url(case, "complete"), {"note": "已拆除"}, multipart=True)
    assert without.status_code == 422
    assert without.json()["code"] == "photo_required"
    done = lead.post(url(case, "complete"), {"note": "已拆除", "photos": [png()]}, multipart=True)
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["state"] == "completed"
    [photo] = body["photos"]
    assert photo["kind"] == "completion"
    image = api("resident").get(photo["url"])
    assert image.status_code == 200
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    assert api("other_worker").get(photo["url"]).status_code == 404
    assert Client().get(photo["url"]).status_code == 401


def test_complete_form_validation_is_422(api, report, people):
    case = in_progress(report(), people)
    response = api("grid_worker").post(url(case, "complete"), {}, multipart=True)
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["details"]["errors"]] == ["note"]


def test_resident_follows_up_online_and_the_case_closes(api, report, people):
    case = in_progress(report(), people)
    api("grid_worker").post(url(case, "complete"), {"note": "已修好"}, multipart=True)
    handler_says = api("grid_worker").post(
        url(case, "follow-up"), {"resolved": True, "satisfaction": "satisfied"}
    )
    assert handler_says.status_code == 403
    response = api("resident").post(
        url(case, "follow-up"), {"resolved": True, "satisfaction": "satisfied", "note": "亮了"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "closed"
    [follow_up] = body["follow_ups"]
    assert follow_up["method"] == "online"
    assert follow_up["satisfaction_label"] == "满意"


def test_an_unsatisfied_follow_up_reopens_and_a_complaint_reopens_a_closed_case(
    api, report, people
):
    case = in_progress(report(), people)
    api("grid_worker").post(url(case, "complete"), {"note": "已修好"}, multipart=True)
    reopened = (
        api("worker")
        .post(
            url(case, "follow-up"),
            {"resolved": False, "satisfaction": "unsatisfied", "method": "phone"},
        )
        .json()
    )
    assert reopened["state"] == "in_progress"
    assert reopened["reopen_count"] == 1

    api("grid_worker").post(url(case, "complete"), {"note": "换了灯泡"}, multipart=True)
    api("resident").post(url(case, "follow-up"), {"resolved": True, "satisfaction": "satisfied"})
    complaint = api("resident").post(url(case, "reopen"), {"reason": "又不亮了"})
    assert complaint.status_code == 200
    assert complaint.json()["state"] == "in_progress"
    assert complaint.json()["reopen_count"] == 2


def test_bad_follow_up_values_are_422(api, report, people):
    case = in_progress(report(), people)
    response = api("resident").post(
        url(case, "follow-up"), {"resolved": "maybe", "satisfaction": "thrilled"}
    )
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["details"]["errors"]}
    assert fields == {"resolved", "satisfaction"}


def test_merge_a_duplicate(api, report, people, tree):
    first = report(text="1号楼路灯不亮")
    second = report(actor=people["worker"], channel="phone", contact_name="王", text="1号楼灯坏")
    response = api("grid_worker").post(url(second, "merge"), {"into": first.number})
    assert response.status_code == 200
    assert response.json()["state"] == "merged"
    assert response.json()["merged_into"] == first.number

    elsewhere = report(
        actor=people["other_worker"],
        place=tree["other_dwelling"],
        channel="phone",
        contact_name="李",
    )
    third = report(text="又一个")
    hidden_target = api("grid_worker").post(url(third, "merge"), {"into": elsewhere.number})
    assert hidden_target.status_code == 404


def test_decline_with_a_referral(api, report):
    case = report()
    body = (
        api("worker")
        .post(url(case, "decline"), {"reason": "属市政道路照明", "referral": "12345市民服务热线"})
        .json()
    )
    assert body["state"] == "declined"
    assert body["referral"] == "12345市民服务热线"


def test_turn_into_a_topic(api, report):
    case = report("parking_shortage", text="小区停车太难")
    body = api("worker").post(url(case, "to-topic"), {"note": "需要业主协商车位方案"}).json()
    assert body["state"] == "to_topic"
    assert body["topic_note"] == "需要业主协商车位方案"


def test_joint_handling_co_handlers_and_their_parts(api, report, people):
    case = report("lift_trapped", text="2号电梯有人被困", answers={"trapped_count": 2})
    assert case.lead == people["property"]
    added = api("secretary").post(
        url(case, "co-handlers"), {"user": "mediator", "task": "安抚被困家属"}
    )
    assert added.status_code == 200
    parts = {h["user"]["name"]: h for h in added.json()["handlers"]}
    assert parts["mediator"]["task"] == "安抚被困家属"
    assert parts["mediator"]["kind"] == "co_handler"

    unknown = api("secretary").post(url(case, "co-handlers"), {"user": "nobody", "task": "x"})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_user"
    not_a_handler = api("secretary").post(
        url(case, "co-handlers"), {"user": "resident", "task": "x"}
    )
    assert not_a_handler.status_code == 422

    mine = CaseHandler.objects.get(case=case, user=people["grid_worker"], is_active=True)
    updated = api("grid_worker").post(
        url(case, f"handlers/{mine.pk}"), {"status": "done", "note": "已到场"}
    )
    assert updated.status_code == 200
    parts = {h["user"]["name"]: h for h in updated.json()["handlers"]}
    assert parts["grid_worker"]["status"] == "done"
    assert (
        api("resident").post(url(case, f"handlers/{mine.pk}"), {"status": "pending"}).status_code
        == 403
    )
    assert (
        api("grid_worker").post(url(case, "handlers/999999"), {"status": "done"}).status_code == 404
    )


def test_transfer_is_accepted_or_refused_by_the_person_asked(api, report):
    case = report()
    asked = (
        api("grid_worker")
        .post(url(case, "transfer"), {"to": "grid_leader", "reason": "我休假"})
        .json()
    )
    assert asked["transfer_to"]["name"] == "grid_leader"
    assert asked["lead"]["name"] == "grid_worker"  # 首接负责 until accepted
    assert api("worker").post(url(case, "transfer/accept")).status_code == 403
    accepted = api("grid_leader").post(url(case, "transfer/accept")).json()
    assert accepted["lead"]["name"] == "grid_leader"
    assert accepted["transfer_to"] is None

    api("grid_leader").post(url(case, "transfer"), {"to": "grid_worker", "reason": "还给你"})
    refused = api("grid_worker").post(url(case, "transfer/refuse"), {"reason": "还在休假"}).json()
    assert refused["transfer_to"] is None
    assert refused["lead"]["name"] == "grid_leader"


def test_only_those_above_the_first_receiver_reassign(api, report):
    case = report()
    refused = api("worker").post(url(case, "assign"), {"to": "grid_leader"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "first_receiver_responsible"
    assert "grid_worker" in refused.json()["message"]
    moved = api("secretary").post(url(case, "assign"), {"to": "grid_leader", "note": "改派"})
    assert moved.status_code == 200
    assert moved.json()["lead"]["name"] == "grid_leader"


@pytest.mark.parametrize(
    "step",
    ["respond", "start", "pause", "resume", "close", "reopen", "merge", "decline", "to-topic"],
)
def test_every_step_needs_authentication(report, step):
    case = report()
    response = Client().post(url(case, step), "{}", content_type="application/json")
    assert response.status_code == 401


def test_session_callers_need_the_csrf_token_for_steps(report, people):
    case = report()
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["grid_worker"])
    refused = client.post(url(case, "respond"), "{}", content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    client.get("/api/v1/docs")  # any page that hands out the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        url(case, "respond"), "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 200
    # Reading needs no CSRF token.
    assert Client(enforce_csrf_checks=True).get(url(case)).status_code == 401


# --- adding photos to a case already reported ----------------------------------------------


def test_the_reporter_adds_photos_to_an_open_case(api, report, people):
    case = report()
    response = api("resident").post(
        url(case, "photos"), {"photos": [png("a.png"), png("b.png")]}, multipart=True
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [photo["kind"] for photo in body["photos"]] == ["report", "report"]
    assert body["version"] == 2 and response["ETag"] == '"2"'
    assert body["timeline"][-1]["kind"] == "photos_added"
    image = api("grid_worker").get(body["photos"][0]["url"])
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")


def test_the_lead_adds_photos_of_the_work_at_the_version_it_saw(api, report, people):
    case = in_progress(report(), people)
    stale = api("grid_worker").post(
        url(case, "photos"), {"photos": [png()]}, multipart=True, HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 409 and stale.json()["details"]["version"] == 3
    added = api("grid_worker").post(
        url(case, "photos"), {"photos": [png()], "expected_version": 3}, multipart=True
    )
    assert added.status_code == 200
    assert [photo["kind"] for photo in added.json()["photos"]] == ["progress"]


def test_adding_photos_without_the_right_is_403(api, report, people):
    case = report()
    worker = api("worker").post(url(case, "photos"), {"photos": [png()]}, multipart=True)
    assert worker.status_code == 403 and worker.json()["code"] == "permission_denied"

    done = in_progress(case, people)
    case_complete(actor=people["grid_worker"], case=done, note="已修好")
    late = api("resident").post(url(case, "photos"), {"photos": [png()]}, multipart=True)
    assert late.status_code == 403
    assert late.json()["code"] == "case_not_open"
    assert "不能再补充照片" in late.json()["message"]


def test_adding_photos_to_a_case_out_of_sight_is_404_like_a_missing_one(api, report):
    case = report()
    hidden = api("other_worker").post(url(case, "photos"), {"photos": [png()]}, multipart=True)
    missing = api("other_worker").post(
        "/api/v1/cases/HQXC-20991231-9999/photos", {"photos": [png()]}, multipart=True
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_a_file_that_is_not_a_picture_is_422_naming_it(api, report):
    case = report()
    notes = SimpleUploadedFile("notes.txt", b"not a picture", content_type="text/plain")
    response = api("resident").post(url(case, "photos"), {"photos": [notes]}, multipart=True)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_photo"
    assert body["message"].startswith("“notes.txt”不是有效的图片")
    nothing = api("resident").post(url(case, "photos"), {}, multipart=True)
    assert nothing.status_code == 422 and nothing.json()["message"] == "请选择要上传的照片。"
