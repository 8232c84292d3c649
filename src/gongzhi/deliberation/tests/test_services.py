"""The consultation loop through its services: topics opened, proposed and supported,
moved along the loop, turned from cases; meetings; plans whose funding must add up;
implementation in milestones; completion closing the linked cases; feedback."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import case_report
from gongzhi.cases.states import CaseState
from gongzhi.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEvent, Notification
from gongzhi.deliberation import selectors, services
from gongzhi.deliberation.models import (
    Attendance,
    FundingSource,
    MeetingKind,
    MilestoneStatus,
    Party,
    ResolutionOutcome,
    SurveyKind,
    SurveyState,
    TopicEventKind,
    TopicOrigin,
)
from gongzhi.deliberation.states import TopicAction, TopicState

from .conftest import verified


def audited(obj, verb):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk), verb=verb
    ).exists()


def open_topic(people, tree, **kwargs):
    fields = {"title": "小区门口污水外溢", "estate": tree["estate"]} | kwargs
    return services.topic_open(actor=people["worker"], community=tree["community"], **fields)


def to_planning(topic, actor):
    for action in (TopicAction.DELIBERATE, TopicAction.PLAN):
        topic = services.topic_advance(actor=actor, topic=topic, action=action)
    return topic


# --- topics ------------------------------------------------------------------------------------


def test_a_worker_opens_a_topic_that_starts_by_collecting_opinions(people, tree):
    topic = open_topic(people, tree, description="雨天污水漫到人行道")
    assert topic.state == TopicState.COLLECTING
    assert topic.origin == TopicOrigin.WORKER
    assert topic.ref == f"deliberation.topic:{topic.pk}"
    assert [e.kind for e in topic.events.all()] == [TopicEventKind.OPENED]
    assert audited(topic, "topic.open")


@pytest.mark.parametrize("who", ["resident", "other_worker", "property", "volunteer"])
def test_only_the_communitys_staff_open_topics(people, tree, who):
    with pytest.raises(PermissionDenied):
        services.topic_open(actor=people[who], community=tree["community"], title="停车难")


def test_an_estate_must_lie_in_the_topics_community(people, tree):
    with pytest.raises(ValidationFailed) as error:
        services.topic_open(
            actor=people["worker"],
            community=tree["community"],
            estate=tree["other_estate"],
            title="停车难",
        )
    assert error.value.code == "estate_outside_community"


def test_a_residents_proposal_gathers_supports_and_staff_answer_it(people, tree, green):
    topic = services.topic_propose(
        actor=people["resident"],
        community=tree["community"],
        title="增设电动自行车充电桩",
        description="车棚里没有充电口，大家只好飞线充电",
    )
    assert topic.state == TopicState.PROPOSED
    told = Notification.objects.filter(verb="topic.proposed", recipient=people["worker"])
    assert told.exists()
    services.topic_support(actor=green["li"], topic=topic)
    with pytest.raises(Conflict):
        services.topic_support(actor=green["li"], topic=topic)
    with pytest.raises(PermissionDenied):
        services.topic_support(actor=people["resident"], topic=topic)
    assert selectors.topic_get(user=people["worker"], pk=topic.pk).support_count == 1
    topic = services.topic_accept(actor=people["secretary"], topic=topic, note="列入本季度议题")
    assert topic.state == TopicState.COLLECTING
    accepted = Notification.objects.get(verb="topic.accepted", recipient=people["resident"])
    assert "已立项" in accepted.title


def test_declining_a_proposal_needs_a_reason_and_tells_the_proposer(people, tree):
    topic = services.topic_propose(
        actor=people["resident"],
        community=tree["community"],
        title="拆除围墙",
        description="嫌挡路",
    )
    with pytest.raises(ValidationFailed):
        services.topic_decline(actor=people["worker"], topic=topic, note=" ")
    topic = services.topic_decline(actor=people["worker"], topic=topic, note="围墙属消防分隔")
    assert topic.state == TopicState.DECLINED
    assert topic.closed_at is not None
    told = Notification.objects.get(verb="topic.declined", recipient=people["resident"])
    assert told.body == "围墙属消防分隔"


def test_the_loop_refuses_moves_it_does_not_list(people, tree):
    topic = open_topic(people, tree)
    with pytest.raises(InvalidTransition) as error:
        services.topic_advance(actor=people["worker"], topic=topic, action=TopicAction.PLAN)
    assert "民意收集" in str(error.value.message)
    topic = services.topic_advance(
        actor=people["worker"], topic=topic, action=TopicAction.DELIBERATE
    )
    topic = services.topic_advance(
        actor=people["worker"], topic=topic, action=TopicAction.COLLECT_MORE, note="意见不足"
    )
    assert topic.state == TopicState.COLLECTING
    # Moves that follow from votes, plans and milestones are not made by hand.
    with pytest.raises(InvalidTransition):
        services.topic_advance(
            actor=people["worker"], topic=topic, action=TopicAction.COMPLETE_PLAN
        )
    history = [(e.from_state, e.to_state) for e in topic.events.filter(kind="moved")]
    assert history == [
        (TopicState.COLLECTING, TopicState.DELIBERATING),
        (TopicState.DELIBERATING, TopicState.COLLECTING),
    ]


def test_residents_may_follow_but_not_move_a_topic(people, tree):
    topic = open_topic(people, tree)
    assert selectors.topic_get(user=people["resident"], pk=topic.pk) == topic
    with pytest.raises(PermissionDenied):
        services.topic_advance(actor=people["resident"], topic=topic, action=TopicAction.DELIBERATE)


# --- from cases ----------------------------------------------------------------------------


@pytest.fixture
def drain_cases(people, tree):
    category = Category.objects.get(code="drain_blocked")
    return [
        case_report(
            actor=people["resident"],
            place=place,
            category=category,
            text=f"门口下水道反水 {i}",
            channel=Channel.RESIDENT_PAGE,
        )
        for i, place in enumerate([tree["dwelling"], tree["building"], tree["building_2"]])
    ]


def test_cases_become_one_topic_and_close_when_its_plan_is_done(people, tree, drain_cases):
    topic = services.topic_from_cases(
        actor=people["worker"],
        cases=drain_cases,
        title="张家宅门口污水外溢",
        note="需新建排水管，转议题共商",
    )
    assert topic.origin == TopicOrigin.CASES
    assert topic.estate == tree["estate"]
    assert topic.category.code == "drain_blocked"
    linked = list(selectors.topic_cases_for(user=people["worker"], topic=topic))
    assert {c.pk for c in linked} == {c.pk for c in drain_cases}
    assert all(c.state == CaseState.TO_TOPIC for c in linked)
    assert Notification.objects.filter(verb="case.to_topic", recipient=people["resident"]).exists()

    topic = to_planning(topic, people["worker"])
    plan = services.plan_create(
        actor=people["worker"],
        topic=topic,
        title="新建排水管",
        description="门口新建 DN300 排水管 60 米",
        cost="180000.00",
    )
    services.plan_funding_set(
        actor=people["worker"],
        plan=plan,
        shares={
            FundingSource.GOVERNMENT: "100000.00",
            FundingSource.MAINTENANCE_FUND: "60000.00",
            FundingSource.STREET_SHOPS: "20000.00",
        },
    )
    services.plan_adopt(actor=people["secretary"], plan=plan, note="联席会议一致同意")
    milestone = services.milestone_add(
        actor=people["property"],
        plan=plan,
        title="开挖铺管",
        planned_start=date(2026, 4, 1),
        planned_end=date(2026, 4, 20),
    )
    with pytest.raises(ValidationFailed) as error:
        services.plan_complete(actor=people["worker"], plan=plan)
    assert "开挖铺管" in str(error.value.message)
    services.milestone_update(
        actor=people["property"],
        milestone=milestone,
        status=MilestoneStatus.DONE,
        progress=100,
        outcome="新排水管通水，门口不再反水",
    )
    services.plan_complete(actor=people["worker"], plan=plan, note="已验收")

    for case in drain_cases:
        case.refresh_from_db()
        assert case.state == CaseState.CLOSED
    closed = Notification.objects.filter(verb="case.closed", recipient=people["resident"])
    assert closed.count() == 3
    topic.refresh_from_db()
    assert topic.state == TopicState.FEEDBACK
    feedback = topic.surveys.get(kind=SurveyKind.FEEDBACK)
    assert feedback.state == SurveyState.OPEN


def test_a_closed_case_cannot_join_a_topic(people, tree, drain_cases):
    topic = open_topic(people, tree)
    services.topic_link_case(
        actor=people["worker"], topic=topic, case=drain_cases[0], note="同一问题"
    )
    other = open_topic(people, tree, title="另一议题")
    # Already turned into a topic: it is linked to the new one instead.
    services.topic_link_case(actor=people["worker"], topic=other, case=drain_cases[0], note="改挂")
    drain_cases[0].refresh_from_db()
    assert drain_cases[0].topic_ref == other.ref
    with pytest.raises(ValidationFailed):
        services.topic_link_case(
            actor=people["worker"],
            topic=other,
            case=case_report(
                actor=people["other_worker"],
                place=tree["other_dwelling"],
                category=Category.objects.get(code="drain_blocked"),
                text="别处的下水道",
                channel=Channel.PHONE,
                contact_name="路人",
                contact_phone="13911112222",
            ),
            note="不属本居民区",
        )


# --- plans and funding ------------------------------------------------------------------------


@pytest.fixture
def plan(people, tree):
    topic = to_planning(open_topic(people, tree), people["worker"])
    return services.plan_create(
        actor=people["worker"],
        topic=topic,
        title="新建排水管",
        description="门口新建排水管",
        cost="180000.00",
    )


def test_a_funding_split_that_does_not_add_up_is_refused_and_nothing_is_saved(people, plan):
    with pytest.raises(ValidationFailed) as error:
        services.plan_funding_set(
            actor=people["worker"],
            plan=plan,
            shares={FundingSource.GOVERNMENT: "100000", FundingSource.STREET_SHOPS: "79999.99"},
        )
    assert error.value.code == "funding_mismatch"
    assert str(error.value.message) == (
        "各出资来源合计 179,999.99 元，与方案总造价 180,000.00 元 不一致，还差 0.01 元。"
    )
    assert not plan.funding.exists()
    with pytest.raises(ValidationFailed) as error:
        services.plan_funding_set(
            actor=people["worker"],
            plan=plan,
            shares={FundingSource.GOVERNMENT: "200000"},
        )
    assert "多出 20,000.00 元" in str(error.value.message)


def test_a_split_that_adds_up_exactly_is_saved_replacing_the_last(people, plan):
    services.plan_funding_set(
        actor=people["worker"], plan=plan, shares={FundingSource.GOVERNMENT: "180000"}
    )
    services.plan_funding_set(
        actor=people["worker"],
        plan=plan,
        shares={
            FundingSource.GOVERNMENT: "90000.50",
            FundingSource.MAINTENANCE_FUND: "59999.50",
            FundingSource.STREET_SHOPS: "30000",
            FundingSource.RESIDENTS: "",
        },
        notes={FundingSource.STREET_SHOPS: "沿街 14 家商铺分摊"},
    )
    rows = {r.source: r for r in selectors.plan_funding_rows(plan=plan)}
    assert set(rows) == {"government", "maintenance_fund", "street_shops"}
    assert rows["street_shops"].amount == Decimal("30000.00")
    assert rows["street_shops"].note == "沿街 14 家商铺分摊"
    assert sum(r.share for r in rows.values()) == 1
    assert audited(plan, "plan.funding_set")


def test_money_is_never_a_float(people, plan):
    with pytest.raises(TypeError):
        services.plan_funding_set(
            actor=people["worker"], plan=plan, shares={FundingSource.GOVERNMENT: 180000.0}
        )
    with pytest.raises(ValidationFailed):
        services.plan_funding_set(
            actor=people["worker"], plan=plan, shares={FundingSource.GOVERNMENT: "1.005"}
        )


def test_a_plan_is_adopted_only_with_its_funding_complete(people, plan):
    with pytest.raises(ValidationFailed) as error:
        services.plan_adopt(actor=people["worker"], plan=plan)
    assert error.value.code == "no_funding"


def test_a_plan_needing_the_owners_cannot_be_adopted_by_hand(people, tree):
    topic = to_planning(open_topic(people, tree), people["worker"])
    plan = services.plan_create(
        actor=people["owners_committee"],
        topic=topic,
        title="道路改造增加车位",
        description="拓宽道路，划设车位",
        cost="2300000",
        requires_owners_vote=True,
        vote_item=7,
    )
    services.plan_funding_set(
        actor=people["worker"], plan=plan, shares={FundingSource.MAINTENANCE_FUND: "2300000"}
    )
    with pytest.raises(InvalidTransition) as error:
        services.plan_adopt(actor=people["worker"], plan=plan)
    assert error.value.code == "plan_needs_vote"


def test_a_plan_needing_a_vote_names_its_item(people, tree):
    topic = to_planning(open_topic(people, tree), people["worker"])
    with pytest.raises(ValidationFailed) as error:
        services.plan_create(
            actor=people["worker"],
            topic=topic,
            title="道路改造",
            description="x",
            cost="10",
            requires_owners_vote=True,
        )
    assert error.value.code == "vote_item_required"


def test_plans_are_written_only_in_planning(people, tree):
    topic = open_topic(people, tree)
    with pytest.raises(InvalidTransition):
        services.plan_create(
            actor=people["worker"], topic=topic, title="方案", description="x", cost="10"
        )


def test_milestones_report_progress_with_photos(people, plan):
    services.plan_funding_set(
        actor=people["worker"], plan=plan, shares={FundingSource.GOVERNMENT: "180000"}
    )
    milestone = services.milestone_add(
        actor=people["worker"],
        plan=plan,
        title="施工",
        planned_start=date(2026, 4, 1),
        planned_end=date(2026, 4, 30),
    )
    # A draft plan is not being built yet.
    with pytest.raises(InvalidTransition):
        services.milestone_update(
            actor=people["property"], milestone=milestone, status="in_progress", progress=10
        )
    services.plan_adopt(actor=people["worker"], plan=plan)
    with pytest.raises(ValidationFailed):
        services.milestone_update(
            actor=people["property"], milestone=milestone, status="in_progress", progress=100
        )
    with pytest.raises(ValidationFailed):
        services.milestone_update(
            actor=people["property"],
            milestone=milestone,
            status=MilestoneStatus.IN_PROGRESS,
            progress=40,
            photos=[SimpleUploadedFile("site.jpg", b"<svg></svg>", "image/jpeg")],
        )
    data = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(data, format="PNG")
    photo = SimpleUploadedFile("site.png", data.getvalue(), "image/png")
    services.milestone_update(
        actor=people["property"],
        milestone=milestone,
        status=MilestoneStatus.IN_PROGRESS,
        progress=40,
        note="管道已铺设一半",
        photos=[photo],
        caption="开挖现场",
    )
    milestone.refresh_from_db()
    assert milestone.progress == 40
    assert milestone.photos.get().caption == "开挖现场"
    assert selectors.plan_progress(plan=plan) == 40
    with pytest.raises(PermissionDenied):
        services.milestone_update(
            actor=people["resident"], milestone=milestone, status="done", progress=100
        )
    with pytest.raises(ValidationFailed):
        services.milestone_add(
            actor=people["worker"],
            plan=plan,
            title="倒序",
            planned_start=date(2026, 5, 2),
            planned_end=date(2026, 5, 1),
        )


def test_feedback_is_summarised_and_the_topic_closes(people, tree, green, plan):
    services.plan_funding_set(
        actor=people["worker"], plan=plan, shares={FundingSource.GOVERNMENT: "180000"}
    )
    services.plan_adopt(actor=people["worker"], plan=plan)
    milestone = services.milestone_add(
        actor=people["worker"],
        plan=plan,
        title="施工",
        planned_start=date(2026, 4, 1),
        planned_end=date(2026, 4, 30),
    )
    services.milestone_update(
        actor=people["worker"], milestone=milestone, status=MilestoneStatus.DONE, progress=100
    )
    services.plan_complete(actor=people["worker"], plan=plan)
    topic = plan.topic
    feedback = topic.surveys.get(kind=SurveyKind.FEEDBACK)
    # The topic is about estate E1: its only verified resident lives at 101.
    verified(people, people["resident"], tree["dwelling"])
    first, text = feedback.questions.order_by("position")
    services.survey_answer(
        actor=people["resident"], survey=feedback, answers={first.pk: 0, text.pk: "很好"}
    )
    with pytest.raises(PermissionDenied):
        services.survey_answer(actor=green["li"], survey=feedback, answers={first.pk: 2})
    summary = selectors.topic_feedback_for(user=people["resident"], topic=topic)
    assert summary.responses == 1
    assert summary.eligible == 1
    assert summary.questions[0].options[0] == ("满意", 1)
    topic = services.topic_advance(actor=people["worker"], topic=topic, action=TopicAction.CLOSE)
    assert topic.state == TopicState.DONE
    feedback.refresh_from_db()
    assert feedback.state == SurveyState.CLOSED
    assert feedback.eligible_at_close == 1


# --- meetings -----------------------------------------------------------------------------------


def test_a_joint_meeting_with_minutes_and_resolutions_published_to_residents(people, tree):
    topic = open_topic(people, tree)
    meeting = services.meeting_schedule(
        actor=people["worker"],
        community=tree["community"],
        topic=topic,
        kind=MeetingKind.JOINT,
        title="污水外溢专家联席会",
        starts_at=timezone.now() + timedelta(days=2),
        location="居委会会议室",
        agenda="一、情况通报\n二、专家意见\n三、出资讨论",
        invitations=[
            services.InviteeSpec(party=Party.RESIDENTS_COMMITTEE, user=people["secretary"]),
            services.InviteeSpec(party=Party.OWNERS_COMMITTEE, user=people["owners_committee"]),
            services.InviteeSpec(party=Party.PROPERTY_COMPANY, user=people["property"]),
            services.InviteeSpec(party=Party.EXPERT, name="陈工", organisation="市政设计院"),
        ],
    )
    assert Notification.objects.filter(verb="meeting.invited").count() == 3
    assert not selectors.meeting_shows_minutes(user=people["resident"], meeting=meeting)
    with pytest.raises(InvalidTransition):
        services.meeting_publish(actor=people["worker"], meeting=meeting)
    invitations = {i.name: i for i in meeting.invitations.all()}
    services.meeting_record(
        actor=people["worker"],
        meeting=meeting,
        attendance={
            invitations["陈工"].pk: Attendance.PRESENT,
            invitations["property"].pk: Attendance.ABSENT,
        },
        minutes="专家建议新建排水管，三方同意分摊费用。",
        resolutions=[
            services.ResolutionSpec(text="新建排水管，政府、维修资金、商铺三方出资"),
            services.ResolutionSpec(text="暂不封闭侧门", outcome=ResolutionOutcome.DEFERRED),
            services.ResolutionSpec(text=" "),
        ],
    )
    services.meeting_publish(actor=people["worker"], meeting=meeting)
    meeting.refresh_from_db()
    assert selectors.meeting_shows_minutes(user=people["resident"], meeting=meeting)
    assert [r.topic for r in meeting.resolutions.all()] == [topic, topic]
    published = topic.events.get(kind=TopicEventKind.MEETING_PUBLISHED)
    assert "新建排水管" in published.note and "暂缓" in published.note
    with pytest.raises(InvalidTransition):
        services.meeting_record(
            actor=people["worker"], meeting=meeting, attendance={}, minutes="改", resolutions=[]
        )


def test_only_organisers_schedule_meetings(people, tree):
    topic = open_topic(people, tree)
    with pytest.raises(PermissionDenied):
        services.meeting_schedule(
            actor=people["resident"],
            community=tree["community"],
            topic=topic,
            kind=MeetingKind.COUNCIL,
            title="议事会",
            starts_at=timezone.now(),
            location="会议室",
            agenda="议程",
        )
