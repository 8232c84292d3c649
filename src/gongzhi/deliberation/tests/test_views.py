"""The pages with Django's test client: what each person sees and may do, what a refused
form says (and that it keeps what was typed), 404 outside the community."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from gongzhi.deliberation import services
from gongzhi.deliberation.models import (
    ConvenerKind,
    FundingSource,
    MeetingKind,
    MilestoneStatus,
    Party,
    SurveyKind,
)
from gongzhi.deliberation.services import QuestionSpec
from gongzhi.deliberation.states import TopicAction
from gongzhi.deliberation.tally import Item

from .conftest import at
from .test_votes import CLOSES, DURING, NOTICED, OPENS

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(people, tree):
    return services.topic_open(
        actor=people["worker"],
        community=tree["community"],
        estate=tree["estate"],
        title="小区门口污水外溢",
        description="雨天污水漫到人行道",
    )


def planning(topic, people):
    for action in (TopicAction.DELIBERATE, TopicAction.PLAN):
        topic = services.topic_advance(actor=people["worker"], topic=topic, action=action)
    return topic


def test_the_topic_page_says_where_the_topic_is_in_words(client, people, topic):
    client.force_login(people["resident"])
    page = client.get(reverse("deliberation:topic", args=[topic.pk])).content.decode()
    assert "小区门口污水外溢" in page
    assert 'aria-current="step"' in page
    assert "1. 民意收集" in page and "当前阶段" in page and "未开始" in page
    # A resident follows the topic but is offered no move.
    assert "进入共商共议" not in page


def test_staff_move_the_topic_from_its_page(client, people, topic):
    client.force_login(people["worker"])
    url = reverse("deliberation:topic", args=[topic.pk])
    assert "进入共商共议" in client.get(url).content.decode()
    response = client.post(
        reverse("deliberation:topic_move", args=[topic.pk]),
        {"action": TopicAction.DELIBERATE, "note": "意见已收齐"},
        follow=True,
    )
    page = response.content.decode()
    assert "已进入共商共议" in page
    assert "意见已收齐" in page
    topic.refresh_from_db()
    assert topic.state == "deliberating"


def test_a_resident_cannot_move_a_topic_by_posting(client, people, topic):
    client.force_login(people["resident"])
    client.post(
        reverse("deliberation:topic_move", args=[topic.pk]), {"action": TopicAction.DELIBERATE}
    )
    topic.refresh_from_db()
    assert topic.state == "collecting_opinions"


def test_a_topic_outside_the_community_is_not_found(client, people, topic):
    client.force_login(people["other_worker"])
    assert client.get(reverse("deliberation:topic", args=[topic.pk])).status_code == 404
    assert client.get(reverse("deliberation:topics")).status_code == 200


def test_a_resident_proposes_from_the_new_page(client, people, tree):
    client.force_login(people["resident"])
    page = client.get(reverse("deliberation:topic_new")).content.decode()
    assert "我要提议" in page
    response = client.post(
        reverse("deliberation:topic_new"),
        {
            "community": tree["community"].pk,
            "estate": "",
            "title": "增设充电桩",
            "description": "没有充电口",
        },
        follow=True,
    )
    assert "提议已提交" in response.content.decode()


def test_the_funding_page_refuses_a_split_that_does_not_add_up_and_keeps_the_input(
    client, people, topic
):
    plan = services.plan_create(
        actor=people["worker"],
        topic=planning(topic, people),
        title="新建排水管",
        description="门口新建排水管",
        cost="180000.00",
    )
    client.force_login(people["worker"])
    url = reverse("deliberation:plan", args=[plan.pk])
    response = client.post(
        url,
        {
            FundingSource.GOVERNMENT: "100000",
            FundingSource.MAINTENANCE_FUND: "50000",
            FundingSource.STREET_SHOPS: "20000",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "各出资来源合计 170,000.00 元，与方案总造价 180,000.00 元 不一致，还差 10,000.00 元。"
        in page
    )
    assert 'value="50000"' in page
    assert not plan.funding.exists()
    response = client.post(
        url,
        {
            FundingSource.GOVERNMENT: "100000",
            FundingSource.MAINTENANCE_FUND: "60000",
            FundingSource.STREET_SHOPS: "20000",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "出资已保存" in page
    # The table carries the numbers the pie draws, in text.
    assert "100,000.00" in page and "55.56%" in page and "11.11%" in page
    assert 'id="funding-chart-data"' in page


def test_a_survey_is_answered_on_its_page(client, people, tree, green):
    survey = services.survey_create(
        actor=people["worker"],
        place=green["estate"],
        kind=SurveyKind.SURVEY,
        title="停车意见征询",
        questions=[
            QuestionSpec(kind="single", text="您支持增设车位吗？", options=("支持", "反对")),
            QuestionSpec(kind="text", text="其他建议", required=False),
        ],
    )
    services.survey_open(actor=people["worker"], survey=survey)
    q1, q2 = survey.questions.order_by("position")
    client.force_login(green["li"])
    url = reverse("deliberation:survey", args=[survey.pk])
    response = client.post(url, {f"q{q2.pk}": "夜间车位紧张"})
    page = response.content.decode()
    assert "这个字段是必填项" in page or "必填" in page
    assert "夜间车位紧张" in page
    response = client.post(url, {f"q{q1.pk}": "0", f"q{q2.pk}": "夜间车位紧张"}, follow=True)
    assert "您已填写本问卷" in response.content.decode()
    client.force_login(people["worker"])
    page = client.get(url).content.decode()
    assert "答卷 1 份 / 有资格参与 6" in page
    assert "16.67%" in page


def test_meeting_minutes_reach_residents_only_when_published(client, people, tree, topic):
    meeting = services.meeting_schedule(
        actor=people["worker"],
        community=tree["community"],
        topic=topic,
        kind=MeetingKind.THREE_PARTIES,
        title="三驾马车联合办公",
        starts_at=at(2026, 4, 2, 14, 0),
        location="居委会",
        agenda="污水问题",
        invitations=[services.InviteeSpec(party=Party.PROPERTY_COMPANY, user=people["property"])],
    )
    services.meeting_record(
        actor=people["worker"],
        meeting=meeting,
        attendance={},
        minutes="物业承诺先行疏通",
        resolutions=[services.ResolutionSpec(text="物业三日内疏通")],
    )
    client.force_login(people["resident"])
    url = reverse("deliberation:meeting", args=[meeting.pk])
    assert "物业承诺先行疏通" not in client.get(url).content.decode()
    services.meeting_publish(actor=people["worker"], meeting=meeting)
    page = client.get(url).content.decode()
    assert "物业承诺先行疏通" in page and "物业三日内疏通" in page and "✓ 通过" in page


def test_milestones_on_the_implementation_page(client, people, topic):
    plan = services.plan_create(
        actor=people["worker"],
        topic=planning(topic, people),
        title="新建排水管",
        description="新建",
        cost="100",
    )
    services.plan_funding_set(actor=people["worker"], plan=plan, shares={"government": "100"})
    services.plan_adopt(actor=people["worker"], plan=plan)
    milestone = services.milestone_add(
        actor=people["worker"],
        plan=plan,
        title="铺设管道",
        planned_start=date(2026, 4, 1),
        planned_end=date(2026, 4, 30),
    )
    client.force_login(people["property"])
    prefix = f"m{milestone.pk}"
    client.post(
        reverse("deliberation:milestone_update", args=[milestone.pk]),
        {
            f"{prefix}-status": MilestoneStatus.DONE,
            f"{prefix}-progress": "100",
            f"{prefix}-note": "已通水",
            f"{prefix}-outcome": "门口不再反水",
        },
    )
    client.force_login(people["resident"])
    page = client.get(reverse("deliberation:implementation", args=[plan.pk])).content.decode()
    assert "铺设管道" in page and "已完成" in page and "门口不再反水" in page
    assert "更新进展" not in page


@pytest.fixture
def counted_vote(people, tree, green):
    with time_machine.travel(NOTICED - timedelta(days=1), tick=False):
        topic = services.topic_open(
            actor=people["worker"],
            community=tree["community"],
            estate=green["estate"],
            title="停车难",
        )
        topic = planning(topic, people)
        plan = services.plan_create(
            actor=green["committee"],
            topic=topic,
            title="道路改造",
            description="增加车位",
            cost="1000",
            requires_owners_vote=True,
            vote_item=Item.REBUILD,
        )
        services.plan_funding_set(
            actor=green["committee"], plan=plan, shares={"maintenance_fund": "1000"}
        )
        services.owners_meeting_rules_set(
            actor=green["committee"],
            estate=green["estate"],
            electronic_voting=True,
            adopted_on=date(2025, 12, 1),
        )
    with time_machine.travel(NOTICED, tick=False):
        vote = services.vote_notice(
            actor=green["committee"],
            topic=topic,
            convener_kind=ConvenerKind.OWNERS_COMMITTEE,
            title="道路改造方案表决",
            description="同意改造",
            item=Item.REBUILD,
            opens_at=OPENS,
            closes_at=CLOSES,
            plan=plan,
        )
    return vote


def test_an_owner_votes_on_the_vote_page(client, people, green, counted_vote):
    vote = counted_vote
    url = reverse("deliberation:vote", args=[vote.pk])
    entry = vote.roll.get(place=green["b1_101"])
    client.force_login(green["wang"])
    with time_machine.travel(DURING, tick=False):
        page = client.get(url).content.decode()
        assert "我的选票" in page and "计为一位业主" in page and "170.00" in page
        response = client.post(
            reverse("deliberation:vote_cast", args=[vote.pk]),
            {"entry_pk": entry.pk, f"e{entry.pk}-entry": entry.pk, f"e{entry.pk}-choice": "agree"},
            follow=True,
        )
    page = response.content.decode()
    assert "您的选票已提交" in page
    assert "您已投票：同意" in page
    assert "已投票的专有部分：2 / 6" in page
    # Another owner sees the turnout and not the audit list.
    client.force_login(green["li"])
    assert "查验选票" not in client.get(url).content.decode()
    assert client.get(reverse("deliberation:vote_ballots", args=[vote.pk])).status_code == 404


def test_the_result_page_shows_both_ratios_against_both_thresholds(
    client, people, green, counted_vote
):
    vote = counted_vote
    client.force_login(green["committee"])
    with time_machine.travel(DURING, tick=False):
        for place in ("b1_101", "b1_201", "b2_101", "b2_102"):
            entry = vote.roll.get(place=green[place])
            client.post(
                reverse("deliberation:vote_enter", args=[vote.pk]),
                {
                    "entry": entry.pk,
                    "choice": "disagree" if place == "b2_102" else "agree",
                    "channel": "paper",
                },
            )
    with time_machine.travel(at(2026, 4, 1, 9, 0), tick=False):
        response = client.post(reverse("deliberation:vote_count", args=[vote.pk]), follow=True)
    page = response.content.decode()
    assert "✓ 表决通过" in page
    assert "（七）改建、重建建筑物及其附属设施" in page
    assert "参与表决的专有部分面积" in page and "400.00 / 500.00" in page and "80.00%" in page
    assert "参与表决的业主人数" in page and "4 / 5" in page
    assert "同意的专有部分面积" in page and "340.00 / 400.00" in page and "85.00%" in page
    assert "同意的业主人数" in page and "3 / 4" in page and "75.00%" in page
    assert "≥ 2/3" in page and "≥ 3/4" in page
    assert page.count("✓ 达到") == 4


def test_the_register_page_lists_import_problems_by_row(client, people, green):
    from .conftest import workbook

    client.force_login(green["committee"])
    url = reverse("deliberation:register", args=[green["estate"].pk])
    data = workbook([("9号楼", "101", "90", "", "某人", "", "")])
    data.name = "register.xlsx"
    response = client.post(url, {"action": "import", "file": data})
    page = response.content.decode()
    assert "第 3 行" in page and "找不到该房屋" in page
    response = client.post(url, {"action": "sync"})
    assert "名册 6 个专有部分，其中 5 个有已核验业主" in response.content.decode()
    client.force_login(green["wang"])
    assert client.get(url).status_code == 404
