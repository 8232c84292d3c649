"""The lifecycle services: reporting, every transition, joint handling, merging, declining,
topics, and what residents and handlers are told."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, close_old_connections, connection

from gongzhi.accounts.models import Role
from gongzhi.cases.models import (
    Case,
    CaseEvent,
    CaseHandler,
    CasePhoto,
    Category,
    Channel,
    EventKind,
    HandlerKind,
    HandlerStatus,
    PhotoKind,
    Policy,
)
from gongzhi.cases.services import (
    case_add_co_handler,
    case_assign,
    case_complete,
    case_decline,
    case_exclude_from_rates,
    case_link_topic,
    case_merge,
    case_pause,
    case_reopen,
    case_report,
    case_respond,
    case_resume,
    case_start,
    case_to_topic,
    case_transfer,
    case_transfer_accept,
    case_transfer_refuse,
    cases_close_for_topic,
    category_save,
    handler_task_update,
    policy_apply_preset,
    policy_delete,
    policy_save,
)
from gongzhi.cases.states import CaseState
from gongzhi.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from gongzhi.core.models import AuditEvent, Notification, SmsMessage

from .conftest import at, png


def inbox(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def started(case, people, who="grid_worker"):
    case = case_respond(actor=people[who], case=case)
    return case_start(actor=people[who], case=case)


# --- reporting ------------------------------------------------------------------------


def test_a_report_gets_a_number_deadlines_a_lead_and_a_timeline(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        first = report(text="1號樓門口的路燈不亮了")
        second = report()
    assert first.number == "HQXC-20261127-0001"
    assert second.number == "HQXC-20261127-0002"
    assert first.state == CaseState.REPORTED and first.version == 1
    assert first.text == "1號樓門口的路燈不亮了"  # the original is kept
    assert first.text_normalised == "1号楼门口的路灯不亮了"  # matching uses simplified
    assert first.response_due_at == at(2026, 11, 27, 9, 15)
    assert first.completion_due_at == at(2026, 11, 28, 9, 0)
    assert first.next_due_at == first.response_due_at
    kinds = list(first.events.values_list("kind", flat=True))
    assert kinds == [EventKind.REPORTED, EventKind.ROUTED]
    assert AuditEvent.objects.filter(verb="case.report", object_id=str(first.pk)).exists()
    assert next(n.title for n in inbox(people["grid_worker"])).startswith(
        "新诉求 HQXC-20261127-0001"
    )


def test_the_daily_sequence_restarts_each_local_day(report):
    with time_machine.travel(at(2026, 11, 27, 23, 59), tick=False):
        assert report().number.endswith("20261127-0001")
    with time_machine.travel(at(2026, 11, 28, 0, 1), tick=False):
        assert report().number.endswith("20261128-0001")


def test_a_retried_report_with_the_same_key_creates_one_case(report):
    first = report(idempotency_key="abc-123")
    again = report(idempotency_key="abc-123", text="重试时内容可能略有不同")
    other = report(idempotency_key="abc-124")
    assert again.pk == first.pk and again.text == first.text
    assert other.pk != first.pk
    assert Case.objects.count() == 2


def test_the_same_key_from_another_person_is_another_case(report, people, tree, resident_at):
    neighbour = resident_at(tree["dwelling_102"])
    mine = report(idempotency_key="k1")
    theirs = report(idempotency_key="k1", actor=neighbour, place=tree["dwelling_102"])
    assert mine.pk != theirs.pk


def test_answers_are_checked_against_the_category(report):
    with pytest.raises(ValidationFailed, match="被困人数"):
        report("lift_trapped", text="电梯困人了")
    with pytest.raises(ValidationFailed, match="数字"):
        report("lift_trapped", text="电梯困人了", answers={"trapped_count": "两个"})
    with pytest.raises(ValidationFailed, match="没有这些问题"):
        report("lift_trapped", text="电梯困人了", answers={"trapped_count": 2, "floor": 3})
    case = report("lift_trapped", text="电梯困人了", answers={"trapped_count": "2"})
    assert case.answers == {"trapped_count": 2}


def test_photos_must_be_images(report):
    case = report(photos=[png("a.png"), png("b.png")])
    photos = CasePhoto.objects.filter(case=case)
    assert photos.count() == 2 and {p.kind for p in photos} == {PhotoKind.REPORT}
    assert all(p.width == 8 and p.height == 6 for p in photos)
    assert photos[0].image.name.startswith(f"cases/{case.number}/report-")
    fake = SimpleUploadedFile("x.jpg", b"not really a picture", content_type="image/jpeg")
    with pytest.raises(ValidationFailed, match="不是有效的图片"):
        report(photos=[fake])


def test_a_report_needs_text_and_an_active_category(report, category):
    with pytest.raises(ValidationFailed, match="请描述"):
        report(text="   ")
    category["litter"].is_active = False
    category["litter"].save()
    with pytest.raises(ValidationFailed, match="停用"):
        report("litter")


def test_a_worker_enters_a_phone_call_for_a_caller_without_an_account(
    report, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = report(
            actor=people["worker"],
            channel=Channel.PHONE,
            contact_name="王阿姨",
            contact_phone="13900009999",
        )
    assert case.reporter is None and case.entered_by == people["worker"]
    with django_capture_on_commit_callbacks(execute=True):
        case_respond(actor=people["grid_worker"], case=case)
    # The caller has no inbox: they hear of each change by text message.
    assert SmsMessage.objects.filter(phone="13900009999").count() == 2
    with pytest.raises(ValidationFailed, match="姓名或联系电话"):
        report(actor=people["worker"], channel=Channel.WALK_IN)


def test_only_staff_in_scope_enter_reports_for_others(report, people, tree):
    with pytest.raises(PermissionDenied):
        report(actor=people["resident"], channel=Channel.PHONE, contact_name="某人")
    with pytest.raises(PermissionDenied):
        report(actor=people["other_worker"], channel=Channel.PHONE, contact_name="某人")
    finding = report(actor=people["volunteer"], channel=Channel.PATROL, text="楼道里有飞线充电")
    assert finding.reporter == people["volunteer"]


# --- the lifecycle ----------------------------------------------------------------------


def test_the_full_loop_tells_the_reporter_each_step(report, people):
    resident = people["resident"]
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        case = report()
    with time_machine.travel(at(2026, 11, 27, 9, 10), tick=False):
        case = case_respond(actor=people["grid_worker"], case=case, note="马上去看")
    assert case.state == CaseState.RESPONDED
    assert case.responded_at == at(2026, 11, 27, 9, 10)
    assert case.next_due_at == case.completion_due_at
    with time_machine.travel(at(2026, 11, 27, 9, 30), tick=False):
        case = case_start(actor=people["grid_worker"], case=case)
        case = case_complete(actor=people["grid_worker"], case=case, note="已更换灯泡")
    assert case.state == CaseState.COMPLETED and case.completed_by == people["grid_worker"]
    assert case.next_due_at == at(2026, 11, 28, 9, 30)  # the follow-up is due in 24 h
    titles = [n.title for n in inbox(resident)]
    assert titles == [
        f"您反映的问题 {case.number}：已响应",
        f"您反映的问题 {case.number}：处理中",
        f"您反映的问题 {case.number}：已办结",
    ]
    lead_row = CaseHandler.objects.get(case=case, kind=HandlerKind.LEAD, is_active=True)
    assert lead_row.status == HandlerStatus.DONE
    public = case.events.filter(is_public=True).values_list("kind", flat=True)
    assert list(public) == ["reported", "responded", "started", "completed"]


def test_an_impossible_transition_is_refused_with_the_state_named(report, people):
    case = report()
    with pytest.raises(InvalidTransition, match=r"已上报.*办结"):
        case_complete(actor=people["grid_worker"], case=case, note="好了")
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED and case.version == 1


def test_a_stale_version_is_a_conflict_showing_the_current_state(report, people):
    case = report()
    seen = case.version
    case_respond(actor=people["grid_worker"], case=case, expected_version=seen)
    with pytest.raises(Conflict) as conflict:
        case_respond(actor=people["worker"], case=case, expected_version=seen)
    assert conflict.value.details == {"state": CaseState.RESPONDED, "version": seen + 1}
    assert "已响应" in str(conflict.value.message)


def test_whoever_responds_takes_the_case(report, people):
    case = report()
    case = case_respond(actor=people["worker"], case=case)
    assert case.lead == people["worker"]
    rows = CaseHandler.objects.filter(case=case).order_by("pk")
    assert [(r.user.username, r.is_active) for r in rows] == [
        ("grid_worker", False),
        ("worker", True),
    ]


def test_people_outside_the_case_cannot_act_and_cannot_see_it(report, people):
    case = report()
    with pytest.raises(NotFound):
        case_respond(actor=people["other_worker"], case=case)
    # A property manager of the estate sees only cases routed to them.
    with pytest.raises(NotFound):
        case_respond(actor=people["property"], case=case)
    # The reporter sees the case but cannot respond to it.
    with pytest.raises(PermissionDenied):
        case_respond(actor=people["resident"], case=case)


def test_a_completion_photo_is_required_where_the_category_asks(report, people):
    case = report("drain_blocked", text="下水道堵了")
    case = started(case, people, who="property")
    with pytest.raises(ValidationFailed, match="现场照片"):
        case_complete(actor=people["property"], case=case, note="已疏通")
    case = case_complete(actor=people["property"], case=case, note="已疏通", photos=[png()])
    assert case.photos.get().kind == PhotoKind.COMPLETION


def test_pause_and_resume_keep_the_reason_and_return_where_they_were(report, people):
    case = report()
    case = case_respond(actor=people["grid_worker"], case=case)
    case = case_pause(actor=people["grid_worker"], case=case, reason="等待居民在家")
    assert case.state == CaseState.PAUSED and case.paused_from == CaseState.RESPONDED
    assert case.next_due_at is None
    with pytest.raises(ValidationFailed):
        case_pause(actor=people["grid_worker"], case=case, reason="")
    case = case_resume(actor=people["grid_worker"], case=case)
    assert case.state == CaseState.RESPONDED and case.pause_reason == ""


def test_a_paused_case_that_is_merged_or_turned_into_a_topic_is_no_longer_paused(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        original = report(text="路灯不亮")
        paused = [report(text=f"路灯不亮 {n}") for n in range(2)]
        for n, case in enumerate(paused):
            case = case_respond(actor=people["grid_worker"], case=case)
            paused[n] = case_pause(actor=people["grid_worker"], case=case, reason="等待")
        clock.move_to(at(2026, 11, 27, 10, 0))
        merged = case_merge(actor=people["worker"], case=paused[0], into=original)
        topic = case_to_topic(actor=people["worker"], case=paused[1], note="需要共商")
    for case in (merged, topic):
        assert (case.paused_at, case.paused_from, case.pause_reason) == (None, "", "")
        assert case.paused_total == timedelta(hours=1)


def test_a_complaint_reopens_a_completed_case_and_counts(report, people):
    case = started(report(), people)
    case = case_complete(actor=people["grid_worker"], case=case, note="修好了")
    case = case_reopen(actor=people["resident"], case=case, reason="灯还是不亮")
    assert case.state == CaseState.IN_PROGRESS and case.reopen_count == 1
    assert case.completed_at is None
    event = case.events.get(kind=EventKind.REOPENED)
    assert "灯还是不亮" in event.note and event.is_public
    assert inbox(people["grid_worker"])[-1].title.endswith("已重新办理")


def test_decline_records_the_reason_and_the_referral(report, people):
    case = report()
    case = case_decline(
        actor=people["worker"], case=case, reason="属于市政道路", referral="12345市民服务热线"
    )
    assert case.state == CaseState.DECLINED
    assert case.referral == "12345市民服务热线" and case.responded_at is not None
    assert not case.alarms.filter(fired_at__isnull=True, cancelled_at__isnull=True).exists()
    message = inbox(people["resident"])[-1]
    assert "12345" in message.body


def test_merging_keeps_both_reporters_informed(report, people, tree, resident_at):
    neighbour = resident_at(tree["dwelling_102"])
    original = report()
    duplicate = report(actor=neighbour, place=tree["dwelling_102"], text="楼门口路灯坏了")
    duplicate = case_merge(actor=people["grid_worker"], case=duplicate, into=original)
    assert duplicate.state == CaseState.MERGED and duplicate.merged_into == original
    assert f"{original.number}" in inbox(neighbour)[-1].body
    assert inbox(people["resident"])[-1].verb == "case.merged_in"
    # From now on the neighbour hears of the original's progress too.
    case_respond(actor=people["grid_worker"], case=original)
    assert inbox(neighbour)[-1].title == f"您反映的问题 {original.number}：已响应"
    assert inbox(people["resident"])[-1].title == f"您反映的问题 {original.number}：已响应"


def test_merge_refuses_itself_a_closed_target_and_another_community(report, people, tree):
    case = report()
    with pytest.raises(ValidationFailed):
        case_merge(actor=people["grid_worker"], case=case, into=case)
    other = report(text="另一盏灯")
    case_decline(actor=people["worker"], case=other, reason="重复")
    with pytest.raises(ValidationFailed, match="仍在办理"):
        case_merge(actor=people["grid_worker"], case=case, into=other)


def test_merging_a_case_that_had_duplicates_moves_them_along(report, people, tree):
    a, b, c = report(text="灯一"), report(text="灯二"), report(text="灯三")
    case_merge(actor=people["worker"], case=a, into=b)
    case_merge(actor=people["worker"], case=b, into=c)
    a.refresh_from_db()
    assert a.merged_into == c


def test_a_case_turned_into_a_topic_closes_with_the_topic(report, people):
    case = report("parking_shortage", text="小区停车位太少，晚上没地方停")
    case = case_to_topic(actor=people["worker"], case=case, note="停车问题需要三方共商")
    assert case.state == CaseState.TO_TOPIC and case.topic_at is not None
    case = case_link_topic(actor=people["worker"], case=case, topic_ref="deliberation.topic:7")
    other = report("parking_shortage", text="停车难，希望增加车位")
    case_to_topic(
        actor=people["worker"], case=other, note="并入停车议题", topic_ref="deliberation.topic:7"
    )
    closed = cases_close_for_topic(
        actor=people["secretary"], topic_ref="deliberation.topic:7", note="新增车位230个"
    )
    assert {c.pk for c in closed} == {case.pk, other.pk}
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert "新增车位230个" in case.events.filter(kind=EventKind.CLOSED).get().note
    # A complaint afterwards puts it back to work: no longer done by its topic.
    case = case_reopen(actor=people["resident"], case=case, reason="还是没有车位")
    assert case.state == CaseState.IN_PROGRESS
    assert case.topic_at is None and case.topic_ref == "deliberation.topic:7"


# --- who handles it -------------------------------------------------------------------


def test_joint_handling_each_party_has_its_own_part(report, people):
    case = report("parking_dispute", text="车位被人长期占用")
    case = started(case, people, who="mediator")
    property_part = CaseHandler.objects.get(case=case, user=people["property"])
    property_part = handler_task_update(
        actor=people["property"],
        handler=property_part,
        status=HandlerStatus.IN_PROGRESS,
        note="调取监控",
    )
    assert property_part.status == HandlerStatus.IN_PROGRESS and property_part.started_at
    with pytest.raises(PermissionDenied, match="主办人"):
        handler_task_update(actor=people["property"], handler=property_part, task="别的任务")
    handler_task_update(actor=people["mediator"], handler=property_part, task="提供监控录像")
    owners_part = CaseHandler.objects.get(case=case, user=people["owners_committee"])
    with pytest.raises(PermissionDenied):
        handler_task_update(
            actor=people["property"], handler=owners_part, status=HandlerStatus.DONE
        )
    # The case completes when the lead completes it, whatever the co-handlers' status.
    case = case_complete(actor=people["mediator"], case=case, note="双方达成协议")
    assert case.state == CaseState.COMPLETED
    owners_part.refresh_from_db()
    assert owners_part.status == HandlerStatus.PENDING
    updates = case.events.filter(kind=EventKind.HANDLER_UPDATED, is_public=True)
    assert updates.count() == 2


def test_adding_a_co_handler(report, people):
    case = report()
    handler = case_add_co_handler(
        actor=people["grid_worker"], case=case, user=people["property"], task="更换灯具"
    )
    assert handler.kind == HandlerKind.CO_HANDLER and handler.party_role == Role.PROPERTY_MANAGER
    with pytest.raises(ValidationFailed, match="已在办理"):
        case_add_co_handler(
            actor=people["grid_worker"], case=case, user=people["property"], task="再加一次"
        )
    with pytest.raises(ValidationFailed, match="没有办理诉求的职责"):
        case_add_co_handler(
            actor=people["grid_worker"], case=case, user=people["other_worker"], task="外区"
        )
    assert inbox(people["property"])[-1].verb == "case.assigned"


def test_the_first_receiver_stays_responsible_until_someone_accepts(report, people):
    case = report()
    # Another worker cannot simply take it away from its lead...
    with pytest.raises(PermissionDenied, match="首接负责"):
        case_assign(actor=people["worker"], case=case, to=people["worker"])
    # ...the lead asks, and stays lead until the other accepts.
    case = case_transfer(
        actor=people["grid_worker"], case=case, to=people["property"], reason="属于物业维修范围"
    )
    assert case.lead == people["grid_worker"] and case.transfer_to == people["property"]
    with pytest.raises(PermissionDenied):
        case_transfer_accept(actor=people["worker"], case=case)
    case = case_transfer_accept(actor=people["property"], case=case)
    assert case.lead == people["property"] and case.transfer_to is None
    assert inbox(people["grid_worker"])[-1].verb == "case.transfer_accepted"


def test_a_refused_transfer_leaves_the_lead_in_charge(report, people):
    case = report()
    case = case_transfer(
        actor=people["grid_worker"], case=case, to=people["mediator"], reason="纠纷"
    )
    case = case_transfer_refuse(actor=people["mediator"], case=case, reason="不是纠纷")
    assert case.lead == people["grid_worker"] and case.transfer_to is None


def test_the_secretary_may_reassign_directly(report, people):
    case = report()
    case = case_assign(actor=people["secretary"], case=case, to=people["worker"], note="加急")
    assert case.lead == people["worker"]
    assert case.events.filter(kind=EventKind.ASSIGNED, is_public=False).exists()
    assert inbox(people["grid_worker"])[-1].verb == "case.reassigned"


def test_excluding_a_case_from_the_rates_needs_a_lead_and_a_reason(report, people):
    case = report()
    with pytest.raises(PermissionDenied):
        case_exclude_from_rates(actor=people["grid_worker"], case=case, reason="测试数据")
    with pytest.raises(ValidationFailed):
        case_exclude_from_rates(actor=people["secretary"], case=case, reason="")
    case_exclude_from_rates(actor=people["secretary"], case=case, reason="系统测试数据")
    assert AuditEvent.objects.filter(verb="case.exclude_from_rates").count() == 1
    with pytest.raises(ValidationFailed, match="已不计入"):
        case_exclude_from_rates(actor=people["supervisor"], case=case, reason="再来一次")


# --- categories and policies ----------------------------------------------------------


def test_the_seeded_categories_carry_the_rules_defaults(category):
    names = {c.name for c in category.values()}
    assert {"路灯不亮", "电梯困人", "燃气异味", "下水道堵塞", "楼上漏水", "停车难"} <= names
    light = Policy.objects.get(category=category["street_light"], community=None)
    assert (light.response_amount, light.response_unit, light.response_clock) == (
        15,
        "minutes",
        "service_hours",
    )
    assert (light.completion_amount, light.completion_unit, light.completion_clock) == (
        24,
        "hours",
        "calendar",
    )
    lift = Policy.objects.get(category=category["lift_trapped"], community=None)
    assert (lift.response_clock, lift.completion_amount, lift.completion_unit) == (
        "calendar",
        4,
        "hours",
    )
    topic = Policy.objects.get(category=category["parking_shortage"], community=None)
    assert (topic.completion_amount, topic.completion_unit, topic.completion_clock) == (
        5,
        "days",
        "working",
    )


def test_a_new_category_checks_its_questions_and_gets_its_group_default(people):
    bad = Category(
        code="pigeons",
        name="鸽子扰民",
        group="small_matter",
        questions=[{"code": "count", "label": "数量", "datatype": "colour"}],
    )
    with pytest.raises(ValidationFailed, match="类型"):
        category_save(actor=people["admin"], category=bad)
    good = Category(
        code="pigeons",
        name="鸽子扰民",
        group="small_matter",
        questions=[
            {
                "code": "when",
                "label": "时段",
                "datatype": "singlevaluelist",
                "values": [{"key": "am", "name": "上午"}, {"key": "pm", "name": "下午"}],
            }
        ],
        keywords="鸽子，鸟",
    )
    saved = category_save(actor=people["admin"], category=good)
    assert saved.keywords == ["鸽子", "鸟"]
    assert saved.questions[0]["required"] is False
    assert Policy.objects.get(category=saved, community=None).completion_amount == 24
    assert AuditEvent.objects.filter(verb="category.create", object_id=str(saved.pk)).exists()


def test_a_community_override_and_the_beijing_presets(report, people, tree, category):
    light = category["street_light"]
    override = policy_apply_preset(
        actor=people["admin"], category=light, preset="beijing_urgent", community=tree["community"]
    )
    assert (override.completion_amount, override.completion_unit) == (2, "hours")
    assert override.response_amount == 15  # the response target is kept
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        case = report()
        elsewhere = report(place=tree["other_dwelling"])
    assert case.completion_due_at == at(2026, 11, 27, 11, 0)
    assert elsewhere.completion_due_at == at(2026, 11, 28, 9, 0)
    general = policy_apply_preset(actor=people["admin"], category=light, preset="beijing_general")
    assert (general.completion_amount, general.completion_unit, general.completion_clock) == (
        7,
        "days",
        "calendar",
    )
    assert AuditEvent.objects.filter(verb="policy.update", object_id=str(general.pk)).exists()
    with pytest.raises(ValidationFailed):
        policy_apply_preset(actor=people["admin"], category=light, preset="shanghai_magic")
    with pytest.raises(ValidationFailed, match="默认时限不能删除"):
        policy_delete(actor=people["admin"], policy=general)
    policy_delete(actor=people["admin"], policy=override)
    assert AuditEvent.objects.filter(verb="policy.delete").count() == 1


def test_a_policy_must_have_positive_targets_and_one_row_per_scope(people, category):
    duplicate = Policy(
        category=category["litter"],
        response_amount=10,
        response_unit="minutes",
        response_clock="calendar",
        completion_amount=12,
        completion_unit="hours",
        completion_clock="calendar",
    )
    with pytest.raises(ValidationFailed, match="已有时限"):
        policy_save(actor=people["admin"], policy=duplicate)
    existing = Policy.objects.get(category=category["litter"], community=None)
    existing.response_amount = 0
    with pytest.raises(ValidationFailed, match="大于零"):
        policy_save(actor=people["admin"], policy=existing)


# --- two people at once ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_people_responding_at_once_one_wins(tree, people, category):
    case = case_report(
        actor=people["resident"],
        place=tree["dwelling"],
        category=category["street_light"],
        text="路灯不亮",
        channel=Channel.RESIDENT_PAGE,
    )
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(2)
    # The loser is told the case changed. On the in-memory SQLite database the tests use
    # (shared cache), a writer that finds the other's transaction open is refused at once
    # ("table is locked") instead of waiting as it does on a file: refused all the same.
    refusals = (Conflict, InvalidTransition) + (
        (OperationalError,) if connection.vendor == "sqlite" else ()
    )

    def act(who):
        try:
            barrier.wait()
            case_respond(actor=people[who], case=case, expected_version=1)
            outcomes[who] = "won"
        except refusals as exc:
            outcomes[who] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=act, args=(who,)) for who in ("grid_worker", "worker")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [who for who, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1, outcomes
    loser = next(o for o in outcomes.values() if o != "won")
    assert isinstance(loser, refusals)
    case.refresh_from_db()
    assert case.version == 2 and case.lead == people[winners[0]]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.RESPONDED).count() == 1
