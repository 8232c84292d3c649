"""Reads: who sees which cases, the inbox order and filters, duplicates, contacts, rates."""

from datetime import time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.models import PersonalDataAccess, Relation
from gongzhi.accounts.services import residency_claim, user_create
from gongzhi.cases.models import Channel
from gongzhi.cases.selectors import (
    INBOX_WINDOW,
    case_actions_for,
    case_contact_for,
    case_duplicates_for,
    case_get,
    case_handlers_for,
    case_rates_for,
    case_timeline_for,
    cases_for,
    cases_page_values,
    clock_contexts_for,
    inbox_areas_for,
    inbox_communities_for,
    inbox_for,
    inbox_grids_for,
)
from gongzhi.cases.services import (
    case_complete,
    case_decline,
    case_exclude_from_rates,
    case_follow_up,
    case_merge,
    case_respond,
    case_start,
    cases_close_unanswered,
)
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.workdays import clock_context_for
from gongzhi.places.models import CommunitySettings, PlaceKind
from gongzhi.places.services import grid_create, place_create

from .conftest import at


@pytest.fixture
def spread(report, tree, people):
    """A case in building 1 (grid 1), one in building 2 (grid 2), one in another community."""
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        b1 = report(text="1号楼路灯不亮")
        b2 = report(
            actor=people["worker"],
            place=tree["dwelling_201"],
            channel=Channel.PHONE,
            contact_name="李先生",
            text="2号楼垃圾堆放",
            code="litter",
        )
        # The resident rents a flat in the other community too, and reports there.
        residency_claim(
            user=people["resident"], place=tree["other_dwelling"], relation=Relation.TENANT
        )
        elsewhere = report(
            actor=people["resident"], place=tree["other_dwelling"], text="9号楼路灯不亮"
        )
    return {"b1": b1, "b2": b2, "elsewhere": elsewhere}


def numbers(cases):
    return {c.number for c in cases}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("resident", {"b1", "elsewhere"}),  # own reports, wherever they are
        ("grid_worker", {"b1"}),  # their grid's buildings
        ("grid_leader", {"b1"}),
        ("worker", {"b1", "b2"}),  # the whole community
        ("secretary", {"b1", "b2"}),
        ("supervisor", {"b1", "b2", "elsewhere"}),  # everything in the subdistrict
        ("district_supervisor", {"b1", "b2", "elsewhere"}),
        ("other_worker", {"elsewhere"}),
        ("property", set()),  # nothing routed to them yet
        ("volunteer", set()),
        ("partner", set()),
        ("admin", {"b1", "b2", "elsewhere"}),
    ],
)
def test_visibility_per_role(spread, people, who, sees):
    user = people[who]
    visible = numbers(cases_for(user=user))
    assert visible == {spread[k].number for k in sees}
    for key, case in spread.items():
        if key in sees:
            assert case_get(user=user, number=case.number).pk == case.pk
        else:
            with pytest.raises(NotFound):
                case_get(user=user, number=case.number)


@pytest.mark.parametrize(
    "who",
    ["resident", "grid_worker", "worker", "secretary", "supervisor", "other_worker", "admin"],
)
@pytest.mark.parametrize(
    "where", ["district", "subdistrict", "community", "other_community", "building_2"]
)
def test_a_place_filter_keeps_what_the_reader_sees_there(spread, people, tree, who, where):
    # A place inside one of the reader's scopes is the whole condition (`_in_scope`);
    # elsewhere the visibility is kept. Either way: what they see, at or under the place.
    user, place = people[who], tree[where]
    under = {c.number for c in cases_for(user=people["admin"], place=place)}
    assert numbers(cases_for(user=user, place=place)) == numbers(cases_for(user=user)) & under
    assert cases_for(user=user, place=place).count() == len(numbers(cases_for(user=user)) & under)


def test_a_party_sees_the_cases_routed_to_it(report, people):
    case = report("drain_blocked", text="下水道堵了")
    assert numbers(cases_for(user=people["property"])) == {case.number}
    assert numbers(cases_for(user=people["owners_committee"])) == set()


def test_a_missing_number_is_not_found(people):
    with pytest.raises(NotFound):
        case_get(user=people["admin"], number="HQXC-20991231-9999")


def test_the_inbox_is_ordered_by_the_nearest_deadline(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        light = report(text="路灯不亮")  # response due 09:15
        clock.move_to(at(2026, 11, 27, 9, 5))
        gas = report("gas_smell", text="有煤气味")  # response due 09:20
        clock.move_to(at(2026, 11, 27, 9, 6))
        responded = report(text="另一盏路灯")
        responded = case_respond(actor=people["grid_worker"], case=responded)  # due tomorrow
        declined = report(text="不是本社区的事")
        case_decline(actor=people["worker"], case=declined, reason="不属于本社区")
    order = [c.number for c in cases_for(user=people["worker"])]
    assert order == [light.number, gas.number, responded.number, declined.number]


def test_inbox_filters(report, people, tree, category):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        light = report(text="路灯不亮")
        litter = report("litter", place=tree["dwelling_201"], text="垃圾堆放")
        clock.move_to(at(2026, 11, 28, 9, 0))
        late = report(text="又一盏路灯")
        case_respond(actor=people["grid_worker"], case=late)
        clock.move_to(at(2026, 11, 28, 9, 30))
        worker = people["worker"]
        assert numbers(cases_for(user=worker, state="reported")) == {light.number, litter.number}
        assert numbers(cases_for(user=worker, state=["responded"])) == {late.number}
        assert numbers(cases_for(user=worker, category=category["litter"])) == {litter.number}
        assert numbers(cases_for(user=worker, place=tree["building_2"])) == {litter.number}
        assert numbers(cases_for(user=worker, assignee=people["grid_worker"])) == {
            light.number,
            late.number,
        }
        # Both first cases are past their response and completion deadlines.
        assert numbers(cases_for(user=worker, overdue=True)) == {light.number, litter.number}
        assert numbers(cases_for(user=worker, overdue=False)) == {late.number}
        assert numbers(
            cases_for(
                user=worker,
                reported_from=at(2026, 11, 28, 0, 0),
                reported_to=at(2026, 11, 29, 0, 0),
            )
        ) == {late.number}


def test_the_inbox_takes_the_same_queries_for_few_or_many_cases(report, people):
    def queries():
        people["worker"].__dict__.pop("_gongzhi_scopes", None)
        with CaptureQueriesContext(connection) as ctx:
            rows = list(cases_for(user=people["worker"]))
            shown = [
                (c.category.name, c.place.name, c.community.name, c.lead.display_name) for c in rows
            ]
        return len(ctx.captured_queries), len(shown)

    for n in range(2):
        report(text=f"路灯 {n}")
    few, count_few = queries()
    for n in range(8):
        report(text=f"更多路灯 {n}")
    many, count_many = queries()
    assert (count_few, count_many) == (2, 10)
    assert few == many


def test_a_page_of_values_is_the_lists_slice_with_its_total_in_two_queries(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        for n in range(7):
            clock.move_to(at(2026, 11, 27, 9, n))
            report(text=f"路灯 {n} 不亮")
    worker = people["worker"]
    order = [c.number for c in inbox_for(user=worker)]
    for offset, shown in ((0, order[:3]), (3, order[3:6]), (6, order[6:]), (9, [])):
        with CaptureQueriesContext(connection) as ctx:
            rows, total = cases_page_values(
                inbox_for(user=worker), offset=offset, limit=3, columns=["number", "lead__name"]
            )
        assert [row["number"] for row in rows] == shown
        assert total == 7
        # the page's ids with the total, then their rows; past the end, a count instead
        assert len(ctx.captured_queries) == 2
    with CaptureQueriesContext(connection) as ctx:
        rows, total = cases_page_values(
            inbox_for(user=people["resident"], state="closed"), offset=0, limit=3, columns=[]
        )
    assert (rows, total, len(ctx.captured_queries)) == ([], 0, 1)


def test_a_listed_case_carries_its_communitys_service_window_for_its_clock(
    report, people, tree, resident_at
):
    CommunitySettings.objects.filter(community=tree["community"]).update(
        service_start=time(7, 30), service_end=time(21, 0)
    )
    CommunitySettings.objects.filter(community=tree["other_community"]).delete()
    here = report(text="1号楼路灯不亮")
    there = report(
        actor=resident_at(tree["other_dwelling"]), place=tree["other_dwelling"], text="9号楼"
    )
    rows, _total = cases_page_values(
        inbox_for(user=people["supervisor"]),
        offset=0,
        limit=25,
        columns=["number", "community_id"],
        computed=INBOX_WINDOW,
    )
    windows = {
        row["number"]: (row["community_id"], row["service_start"], row["service_end"])
        for row in rows
    }
    assert windows == {
        here.number: (tree["community"].pk, time(7, 30), time(21, 0)),
        there.number: (tree["other_community"].pk, None, None),
    }
    contexts = clock_contexts_for(
        windows={tree["community"].pk: (time(7, 30), time(21, 0)), tree["other_community"].pk: None}
    )
    default = clock_context_for(None)
    assert (
        contexts[tree["community"].pk].service_start,
        contexts[tree["community"].pk].service_end,
    ) == (time(7, 30), time(21, 0))
    assert (
        contexts[tree["other_community"].pk].service_start,
        contexts[tree["other_community"].pk].service_end,
    ) == (default.service_start, default.service_end)


def test_residents_see_only_the_public_timeline(report, people):
    case = report()
    case_respond(actor=people["grid_worker"], case=case, note="马上处理")
    public = [e.kind for e in case_timeline_for(user=people["resident"], case=case)]
    internal = [e.kind for e in case_timeline_for(user=people["worker"], case=case)]
    assert public == ["reported", "responded"]
    assert internal == ["reported", "routed", "responded"]
    with pytest.raises(NotFound):
        case_timeline_for(user=people["other_worker"], case=case)


def test_handlers_are_shown_to_everyone_who_sees_the_case(report, people):
    case = report("parking_dispute", text="车位被占")
    rows = case_handlers_for(user=people["resident"], case=case)
    assert {(h.kind, h.user.username, h.status) for h in rows} == {
        ("lead", "mediator", "pending"),
        ("co_handler", "property", "pending"),
        ("co_handler", "owners_committee", "pending"),
    }


def test_duplicates_are_same_category_same_building_similar_words_still_open(
    report, people, tree, category
):
    neighbour = user_create(actor=None, username="neighbour", phone="13900000002")
    first = report(text="1号楼门口的路灯不亮了，晚上很黑")
    report(text="楼道里有人堆放杂物", code="corridor_clutter")
    report(place=tree["dwelling_201"], text="2号楼门口的路灯不亮了")
    closed = report(text="1号楼门口路灯不亮")
    case_decline(actor=people["worker"], case=closed, reason="已由供电局处理")
    found = case_duplicates_for(
        user=neighbour,
        category=category["street_light"],
        place=tree["dwelling_102"],
        text="1號樓門口路燈壞了，不亮",
    )
    assert [d.number for d in found] == [first.number]
    assert found[0].score >= 0.5 and found[0].state_label == "已上报"
    # The neighbour may not read someone else's report; staff may.
    assert found[0].text is None
    staff = case_duplicates_for(
        user=people["worker"],
        category=category["street_light"],
        place=tree["dwelling_102"],
        text="1号楼门口路灯坏了",
    )
    assert staff[0].text == first.text
    assert (
        case_duplicates_for(
            user=people["worker"],
            category=category["street_light"],
            place=tree["dwelling_102"],
            text="小区花园的秋千坏了",
        )
        == []
    )


def test_contact_details_are_masked_for_staff_who_do_not_handle_the_case(spread, people):
    call = spread["b2"]  # a phone call from 李先生, who has no account
    handler = case_contact_for(user=call.lead, case=call)
    assert handler.name == "李先生" and not handler.has_account
    own = case_contact_for(user=people["resident"], case=spread["b1"])
    assert own.phone == "13900000001"
    staff = case_contact_for(user=people["worker"], case=spread["b1"])
    assert staff.phone == "139****0001"
    secretary = case_contact_for(user=people["secretary"], case=spread["b1"])
    assert secretary.phone == "13900000001"
    lead = case_contact_for(user=people["grid_worker"], case=spread["b1"])
    assert lead.phone == "13900000001"
    # Every staff read is logged; the reporter reading their own is not.
    reads = PersonalDataAccess.objects.filter(object_id=str(spread["b1"].pk))
    assert sorted(reads.values_list("viewer__username", flat=True)) == [
        "grid_worker",
        "secretary",
        "worker",
    ]
    assert not PersonalDataAccess.objects.filter(viewer=people["resident"]).exists()


def test_a_merged_reporter_follows_the_case_but_not_its_reporter(report, people, tree, resident_at):
    neighbour = resident_at(tree["dwelling_102"])
    original = report()
    duplicate = report(actor=neighbour, place=tree["dwelling_102"], text="路灯坏了")
    case_merge(actor=people["worker"], case=duplicate, into=original)
    assert case_get(user=neighbour, number=original.number).pk == original.pk
    assert case_contact_for(user=neighbour, case=original) is None


def test_the_buttons_a_user_gets(report, people):
    case = report()
    assert case_actions_for(user=people["grid_worker"], case=case) == [
        "respond",
        "merge",
        "decline",
        "to_topic",
        "assign",
        "transfer",
        "add_co_handler",
    ]
    assert case_actions_for(user=people["resident"], case=case) == []
    assert "exclude_from_rates" in case_actions_for(user=people["secretary"], case=case)


# --- rates ------------------------------------------------------------------------------


def test_rates_come_from_timestamps_and_answers_only(report, people, tree):
    november = {"start": at(2026, 11, 1, 0, 0), "end": at(2026, 12, 1, 0, 0)}
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        quick = report(text="路灯一")
        slow = report(text="路灯二")
        silent = report(text="路灯三")
        excluded = report(text="测试")
        clock.move_to(at(2026, 11, 27, 9, 10))
        for case in (quick, silent):
            case = case_respond(actor=people["grid_worker"], case=case)
            case = case_start(actor=people["grid_worker"], case=case)
            case_complete(actor=people["grid_worker"], case=case, note="修好了")
        clock.move_to(at(2026, 11, 27, 9, 40))  # the second was answered late
        slow = case_respond(actor=people["grid_worker"], case=slow)
        slow = case_start(actor=people["grid_worker"], case=slow)
        slow = case_complete(actor=people["grid_worker"], case=slow, note="修好了")
        case_exclude_from_rates(actor=people["secretary"], case=excluded, reason="测试数据")
        clock.move_to(at(2026, 11, 27, 12, 0))
        case_follow_up(
            actor=people["resident"], case=quick, resolved=True, satisfaction="satisfied"
        )
        case_follow_up(
            actor=people["resident"], case=slow, resolved=False, satisfaction="basically_satisfied"
        )
        clock.move_to(at(2026, 11, 30, 10, 0))
        cases_close_unanswered()  # `silent` is closed without an answer
        rates = case_rates_for(user=people["secretary"], **november)
    figures = rates.total
    assert (figures.reported, figures.excluded) == (3, 1)
    assert (figures.due_response, figures.responded_in_time) == (3, 2)
    assert figures.response_rate == pytest.approx(2 / 3, abs=1e-4)
    # `slow` was reopened by its follow-up and is again due: past its new deadline now.
    assert figures.reopened == 1
    assert (figures.follow_ups_answered, figures.resolved, figures.satisfied) == (2, 1, 2)
    assert figures.no_answer == 1
    assert figures.resolution_rate == 0.5
    assert figures.satisfaction_rate == 1.0
    # A grid worker reaches only their grid; someone with no staff role sees nothing.
    assert case_rates_for(user=people["resident"], **november).total.reported == 0
    assert case_rates_for(user=people["other_worker"], **november).total.reported == 0


def test_rates_over_time_and_per_category(report, people, tree, category):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        report(text="路灯")
    with time_machine.travel(at(2026, 11, 20, 9, 0), tick=False):
        report(text="路灯")
        report("litter", text="垃圾")
    with time_machine.travel(at(2026, 12, 1, 9, 0), tick=False):
        rates = case_rates_for(
            user=people["supervisor"],
            start=at(2026, 11, 1, 0, 0),
            end=at(2026, 12, 1, 0, 0),
            bucket="week",
            breakdown="category",
        )
    assert [(day.isoformat(), f.reported) for day, f in rates.series] == [
        ("2026-11-02", 1),
        ("2026-11-16", 2),
    ]
    assert {row.label: row.figures.reported for row in rates.breakdown} == {
        "路灯不亮": 2,
        "垃圾堆放": 1,
    }
    # Nobody responded: every case is due a response and none was in time.
    assert rates.total.response_rate == 0.0
    per_community = case_rates_for(
        user=people["supervisor"],
        start=at(2026, 11, 1, 0, 0),
        end=at(2026, 12, 1, 0, 0),
        breakdown="community",
        place=tree["community"],
        category=category["street_light"],
    )
    assert [(r.label, r.figures.reported) for r in per_community.breakdown] == [
        ("虹桥新城居民区", 2)
    ]
    with pytest.raises(ValidationFailed):
        case_rates_for(
            user=people["supervisor"],
            start=at(2026, 11, 1, 0, 0),
            end=at(2026, 12, 1, 0, 0),
            bucket="year",
        )


def test_a_case_not_yet_due_is_not_counted_against_the_response_rate(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        report()
        rates = case_rates_for(
            user=people["worker"],
            start=at(2026, 11, 27, 0, 0),
            end=at(2026, 11, 28, 0, 0),
        )
    assert rates.total.reported == 1 and rates.total.due_response == 0
    assert rates.total.response_rate is None


def test_the_area_filter_offers_the_grids_a_worker_reaches(tree, people):
    building = place_create(
        actor=None,
        kind=PlaceKind.BUILDING,
        name="77号楼",
        segment="B77",
        parent=tree["other_estate"],
    )
    other = grid_create(
        actor=None,
        community=tree["other_community"],
        segment="G9",
        name="另一网格",
        buildings=[building],
    )
    ours = [tree["grid"].code, tree["grid_2"].code]

    def offered(role):
        return [grid.code for grid in inbox_grids_for(user=people[role])]

    # a supervisor reaches every grid of the communities under the subdistrict
    assert offered("supervisor") == sorted(
        [*ours, other.code],
        key=lambda code: (
            tree["community"].code if code in ours else tree["other_community"].code,
            code,
        ),
    )
    assert offered("district_supervisor") == offered("supervisor")
    # a community's staff their community's grids; another community's worker theirs
    assert offered("secretary") == offered("worker") == sorted(ours)
    assert offered("other_worker") == [other.code]
    assert offered("resident") == []
    # the area filter reads both lists at once, each in its order, with what it shows
    for role in ("supervisor", "district_supervisor", "secretary", "grid_worker", "resident"):
        communities = [
            (c.pk, c.code, c.name, c.kind, c.community_id)
            for c in inbox_communities_for(user=people[role])
        ]
        grids = [
            (g.pk, g.code, g.name, g.community.name) for g in inbox_grids_for(user=people[role])
        ]
        with CaptureQueriesContext(connection) as ctx:
            areas = inbox_areas_for(user=people[role])
        assert len(ctx.captured_queries) <= 1
        assert [(c.pk, c.code, c.name, c.kind, c.community_id) for c in areas.communities] == (
            communities
        )
        assert [(g.pk, g.code, g.name, g.community.name) for g in areas.grids] == grids
    assert [c.code for c in inbox_areas_for(user=people["supervisor"]).communities] == [
        tree["community"].code,
        tree["other_community"].code,
    ]
