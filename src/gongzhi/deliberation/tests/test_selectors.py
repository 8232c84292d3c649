"""Reads with visibility: which topics a person sees, the suggestion to open a topic when
similar cases pile up in one estate, the loop position the page shows."""

from datetime import timedelta

import pytest
import time_machine

from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import case_report, case_to_topic
from gongzhi.core.errors import NotFound
from gongzhi.deliberation import selectors, services
from gongzhi.deliberation.states import TopicAction, TopicState

from .conftest import at

NOW = at(2026, 5, 20, 10, 0)


def report(people, place, *, when, code="parking_shortage", actor=None):
    with time_machine.travel(when, tick=False):
        return case_report(
            actor=actor or people["resident"],
            place=place,
            category=Category.objects.get(code=code),
            text="晚上没有地方停车",
            channel=Channel.RESIDENT_PAGE,
        )


def suggestions(people, tree, **kwargs):
    with time_machine.travel(NOW, tick=False):
        return selectors.topic_suggestions_for(
            user=people["worker"], community=tree["community"], **kwargs
        )


def test_three_similar_open_cases_in_one_estate_suggest_a_topic(people, tree, green):
    for place, days in (
        (tree["dwelling"], 20),
        (tree["building"], 5),
        (tree["building_2"], 1),
    ):
        report(people, place, when=NOW - timedelta(days=days))
    found = suggestions(people, tree)
    assert len(found) == 1
    assert found[0].estate == tree["estate"]
    assert found[0].category.code == "parking_shortage"
    assert found[0].count == 3
    assert found[0].since == NOW - timedelta(days=20)


def test_no_suggestion_below_the_count_outside_the_window_or_across_estates(people, tree, green):
    report(people, tree["dwelling"], when=NOW - timedelta(days=31))
    report(people, tree["building"], when=NOW - timedelta(days=2))
    report(people, green["b1_101"], when=NOW - timedelta(days=2), actor=green["wang"])
    report(people, tree["building_2"], when=NOW - timedelta(days=2), code="street_light")
    assert suggestions(people, tree) == []
    # A caller may ask with a shorter list or a longer window.
    assert [s.count for s in suggestions(people, tree, days=40, min_cases=2)] == [2]


def test_cases_already_turned_into_a_topic_are_not_suggested_again(people, tree):
    cases = [
        report(people, place, when=NOW - timedelta(days=3))
        for place in (tree["dwelling"], tree["building"], tree["building_2"])
    ]
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        case_to_topic(actor=people["worker"], case=cases[0], note="转议题")
    assert suggestions(people, tree) == []


def test_suggestions_show_only_cases_the_user_may_see(people, tree):
    for place in (tree["dwelling"], tree["building"], tree["building_2"]):
        report(people, place, when=NOW - timedelta(days=3))
    with time_machine.travel(NOW, tick=False):
        assert (
            selectors.topic_suggestions_for(
                user=people["other_worker"], community=tree["community"]
            )
            == []
        )


def test_topics_are_seen_inside_their_community_only(people, tree):
    topic = services.topic_open(actor=people["worker"], community=tree["community"], title="停车难")
    assert list(selectors.topics_for(user=people["resident"])) == [topic]
    assert list(selectors.topics_for(user=people["supervisor"])) == [topic]
    assert list(selectors.topics_for(user=people["other_worker"])) == []
    with pytest.raises(NotFound):
        selectors.topic_get(user=people["other_worker"], pk=topic.pk)


def test_residents_see_the_public_history_staff_see_all(people, tree):
    case = report(people, tree["dwelling"], when=NOW - timedelta(days=1))
    topic = services.topic_open(actor=people["worker"], community=tree["community"], title="停车难")
    services.topic_link_case(actor=people["worker"], topic=topic, case=case, note="并入")
    kinds = lambda user: [e.kind for e in selectors.topic_events_for(user=user, topic=topic)]  # noqa: E731
    assert kinds(people["worker"]) == ["opened", "case_linked"]
    assert kinds(people["resident"]) == ["opened"]


def test_the_loop_position_marks_a_skipped_vote(people, tree):
    topic = services.topic_open(actor=people["worker"], community=tree["community"], title="污水")
    assert selectors.topic_loop_position(topic=topic) == (0, False)
    for action in (TopicAction.DELIBERATE, TopicAction.PLAN):
        topic = services.topic_advance(actor=people["worker"], topic=topic, action=action)
    plan = services.plan_create(
        actor=people["worker"], topic=topic, title="排水管", description="新建", cost="10"
    )
    services.plan_funding_set(actor=people["worker"], plan=plan, shares={"government": "10"})
    services.plan_adopt(actor=people["worker"], plan=plan)
    topic.refresh_from_db()
    assert topic.state == TopicState.IMPLEMENTING
    assert selectors.topic_loop_position(topic=topic) == (4, True)
