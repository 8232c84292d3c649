"""The city data set generator (bench/dataset.py) on a tiny city: what it writes must be
what the services would have written, so the real services, selectors and clocks work on
it. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from bench.dataset import generate
from django.apps import apps
from django.db import connection
from django.db.models import F

from gongzhi.accounts.models import User
from gongzhi.cases.models import (
    ALARM_FRACTIONS,
    Case,
    CaseEvent,
    CaseHandler,
    CaseNumberSequence,
    ClockAlarm,
    FollowUp,
)
from gongzhi.cases.routing import route
from gongzhi.cases.selectors import inbox_for, routing_input_for
from gongzhi.cases.services import (
    case_report,
    case_respond,
    cases_close_unanswered,
    clock_alarms_fire,
)
from gongzhi.cases.states import OPEN_STATES
from gongzhi.core.clocks import deadline_after
from gongzhi.core.workdays import clock_context_for
from gongzhi.insights.selectors import community_board_for
from gongzhi.places.models import Place

pytestmark = pytest.mark.django_db(transaction=True)

COMMUNITIES = 3
CASES = 2000


def test_generated_city_works_with_the_real_services():
    summary = generate(communities=COMMUNITIES, cases=CASES, seed=7)
    now = datetime.fromisoformat(summary["now"])

    assert Case.objects.count() == CASES
    assert Place.objects.filter(kind="community").count() == COMMUNITIES
    assert dict(Counter(Case.objects.values_list("state", flat=True))) == summary["states"]
    states = summary["states"]
    assert states["closed"] > CASES * 0.75
    for state in ("reported", "responded", "in_progress", "paused", "completed", "merged"):
        assert states.get(state, 0) > 0, state
    _foreign_keys_hold()

    # Numbers are unique, and the sequences end where the numbers end.
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    last = defaultdict(int)
    for number in numbers:
        prefix, _sep, seq = number.rpartition("-")
        last[prefix] = max(last[prefix], int(seq))
    assert dict(CaseNumberSequence.objects.values_list("prefix", "last")) == dict(last)

    # Every timeline starts with the report and walks the state graph to the case's state.
    timelines = defaultdict(list)
    for event in CaseEvent.objects.order_by("at", "id"):
        timelines[event.case_id].append(event)
    cases = {c.pk: c for c in Case.objects.all()}
    for pk, case in cases.items():
        events = timelines[pk]
        assert events[0].kind == "reported", case.number
        current = "reported"
        for event in events[1:]:
            if event.to_state:
                assert event.from_state == current, (case.number, event.kind, current)
                current = event.to_state
        assert current == case.state, case.number
        assert case.lead_id is not None
    assert FollowUp.objects.filter(case__state="closed").count() >= states["closed"]
    assert not FollowUp.objects.filter(case__state__in=OPEN_STATES).exists()
    assert not FollowUp.objects.exclude(community=F("case__community")).exists()

    # Deadlines and alarms are the policy's, on the real clocks; open cases have pending
    # alarms, and nothing is due at the generation time.
    ctx = clock_context_for(None)
    open_cases = [c for c in cases.values() if c.state in OPEN_STATES]
    alarms = defaultdict(list)
    for alarm in ClockAlarm.objects.filter(case__in=[c.pk for c in open_cases]):
        alarms[alarm.case_id].append(alarm)
    with_pending = 0
    for case in open_cases:
        assert (
            case.response_due_at
            == deadline_after(
                case.reported_at, case.response_target, case.response_clock, ctx
            ).due_at
        )
        assert (
            case.completion_due_at
            == deadline_after(
                case.reported_at, case.completion_target, case.completion_clock, ctx
            ).due_at
        )
        assert len(alarms[case.pk]) == 6
        for alarm in alarms[case.pk]:
            target, clock = (
                (case.response_target, case.response_clock)
                if alarm.clock == "response"
                else (case.completion_target, case.completion_clock)
            )
            expected = deadline_after(
                case.reported_at, target * ALARM_FRACTIONS[alarm.level], clock, ctx
            ).due_at
            assert alarm.due_at == expected, (case.number, alarm.clock, alarm.level)
            if alarm.fired_at is None and alarm.cancelled_at is None:
                assert alarm.suspended_at is not None or alarm.due_at > now - timedelta(minutes=1)
        with_pending += any(a.fired_at is None and a.cancelled_at is None for a in alarms[case.pk])
        if case.state == "paused":
            assert case.next_due_at is None
        elif case.state == "reported":
            assert case.next_due_at == case.response_due_at
        else:
            assert case.next_due_at == case.completion_due_at
    assert with_pending == summary["open_with_pending_alarms"] > 0
    # Alarms due in the minute before generation may still wait for the checker, and no
    # completed case has waited more than 3 days for its follow-up.
    assert sum(clock_alarms_fire(now=now - timedelta(minutes=1)).values()) == 0
    assert cases_close_unanswered(now=now) == 0

    # Routing is the real routing.
    for case in list(cases.values())[:: CASES // 40]:
        decision = route(
            routing_input_for(category=case.category, place=case.place, at=case.reported_at)
        )
        assert decision.lead.user_id == CaseHandler.objects.get(case=case, kind="lead").user_id

    # A grid worker's inbox holds their open cases; they respond through the service.
    worker = User.objects.get(username=summary["logins"]["grid_worker"])
    theirs = {c.pk for c in open_cases if c.lead_id == worker.pk}
    assert theirs
    inbox = set(inbox_for(user=worker, state=list(OPEN_STATES)).values_list("pk", flat=True))
    assert theirs <= inbox
    waiting = next((c for c in open_cases if c.state == "reported" and c.lead_id is not None), None)
    assert waiting is not None
    responded = case_respond(actor=waiting.lead, case=waiting, expected_version=waiting.version)
    assert responded.state == "responded"

    # A new report continues the numbering without a collision.
    secretary = User.objects.get(username=summary["logins"]["secretary"])
    dwelling = Place.objects.filter(
        kind="dwelling", code__startswith=_community_code(secretary) + "-"
    ).first()
    new = case_report(
        actor=secretary,
        place=dwelling,
        category=waiting.category,
        text="楼道灯不亮",
        channel="phone",
        contact_name="王先生",
    )
    assert new.number not in set(numbers)
    assert Case.objects.filter(number=new.number).count() == 1

    # The community board reads it.
    board = community_board_for(user=secretary, community=dwelling.community, now=now)
    assert sum(t.count for t in board.by_state) > 0


def _community_code(user):
    return user.role_assignments.get(role="secretary").place.code


def _foreign_keys_hold():
    """The load does not check foreign keys row by row: every one must point somewhere."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in {"places", "accounts", "cases"}:
            continue
        for f in model._meta.concrete_fields:
            if not f.is_relation or f.related_model is None:
                continue
            table, column = model._meta.db_table, f.column
            target = f.related_model._meta.db_table
            target_column = f.target_field.column
            with connection.cursor() as cursor:
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{table}" t WHERE t."{column}" IS NOT NULL AND NOT '
                    f'EXISTS (SELECT 1 FROM "{target}" r WHERE r."{target_column}" = t."{column}")'
                )
                assert cursor.fetchone()[0] == 0, f"{table}.{column}"
