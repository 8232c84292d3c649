"""The demo plays stories 6 and 4 from records, once: the numbers come out of the tally
and the plans, not from constants, and a second run writes nothing."""

from decimal import Decimal
from io import StringIO

import pytest
from django.urls import reverse

from gongzhi.core.errors import Conflict
from gongzhi.deliberation import demo, selectors
from gongzhi.deliberation.models import Milestone, OwnersVote, Plan, Topic, VoteState
from gongzhi.deliberation.states import TopicState
from gongzhi.demo import build


@pytest.fixture(scope="module")
def demo_db(django_db_setup, django_db_blocker):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        build(out, scale=0.02)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_story_6_the_owners_passed_the_road_plan_and_230_spaces_were_added(demo_db):
    topic = Topic.objects.get(title=demo.PARKING_TITLE)
    assert topic.community.name == "临汾路99弄居民区"
    assert topic.state == TopicState.IMPLEMENTING
    vote = OwnersVote.objects.get(topic=topic)
    assert vote.state == VoteState.COUNTED
    assert vote.passed
    result = selectors.vote_tally(vote=vote)
    assert result.passed
    assert result.item == 7
    assert result.participation_owner_ratio >= result.quorum_threshold
    assert result.approval_area_ratio >= result.approval_threshold
    # The nine committee members voted online; everyone else on paper or by proxy.
    assert set(vote.result["ballots_by_channel"]) == {"online", "paper", "proxy"}
    assert vote.ballots.filter(channel="online").count() == 9
    plan = Plan.objects.get(topic=topic)
    assert plan.state == "adopted"
    outcomes = list(Milestone.objects.filter(plan=plan).values_list("outcome", flat=True))
    assert any("新增停车位 230 个" in outcome for outcome in outcomes)
    history = list(topic.events.order_by("at").values_list("at", flat=True))
    assert history == sorted(history)
    assert "新增停车位 230 个" in demo_db


@pytest.mark.django_db
def test_story_4_the_drain_line_is_funded_by_three_sources_adding_up(demo_db):
    plan = Plan.objects.get(topic__title=demo.DRAIN_TITLE)
    assert plan.topic.community.name == "张家宅居民区"
    shares = {s.source: s.amount for s in plan.funding.all()}
    assert set(shares) == {"government", "maintenance_fund", "street_shops"}
    assert sum(shares.values()) == plan.cost == Decimal("186000.00")
    assert plan.topic.meetings.get().state == "published"
    assert selectors.plan_progress(plan=plan) == 85


@pytest.mark.django_db
def test_a_second_run_writes_nothing(demo_db):
    out = StringIO()
    ctx = build(out, scale=0.02)
    assert ctx.created == {}
    assert Topic.objects.count() == 2


@pytest.mark.django_db
def test_a_topic_of_the_same_title_not_made_by_the_demo_stops_it(demo_db):
    Topic.objects.filter(title=demo.DRAIN_TITLE).update(opened_by=None)
    with pytest.raises(Conflict) as error:
        demo.check(None)
    assert "张家宅居民区" in str(error.value.message)


@pytest.mark.django_db
def test_the_demo_pages_open_for_its_people(demo_db, client):
    from gongzhi.accounts.models import User

    topic = Topic.objects.get(title=demo.PARKING_TITLE)
    vote = OwnersVote.objects.get(topic=topic)
    client.force_login(User.objects.get(username="lfl99-resident"))
    page = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert "✓ 表决通过" in page
    assert "（七）改建、重建建筑物及其附属设施" in page
