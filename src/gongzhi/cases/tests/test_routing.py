"""Routing (分拨): the pure decision, and the cases it produces from the place tree."""

import time_machine
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.accounts.models import Role
from gongzhi.accounts.services import role_assign, user_create
from gongzhi.cases.models import CaseHandler, DutyRota, EventKind, HandlerKind
from gongzhi.cases.routing import Candidate, RoutingInput, route
from gongzhi.cases.services import duty_rota_save

from .conftest import at

CODES = ("310105", "310105-ZJQ", "310105-ZJQ-HQXC", "310105-ZJQ-HQXC-E1", "310105-ZJQ-HQXC-E1-B1")


def data(**overrides) -> RoutingInput:
    values = {
        "place_name": "1号楼",
        "place_codes": CODES,
        "grid_ids": (7,),
        "category_name": "路灯不亮",
        "lead_role": Role.GRID_WORKER,
        "co_handler_roles": (),
        "single_handler": True,
        "candidates": (),
        "on_duty": (),
        "community_workers": (),
        "day_ordinal": 740000,
    }
    values.update(overrides)
    return RoutingInput(**values)


def grid_worker(user_id=1, grid_id=7, role=Role.GRID_WORKER):
    return Candidate(user_id, f"网格员{user_id}", role, grid_id=grid_id, grid_name="第一网格")


def holder(user_id, role, code):
    return Candidate(user_id, f"人员{user_id}", role, scope_code=code)


def test_a_small_matter_goes_to_the_grid_worker_of_the_building():
    decision = route(data(candidates=(grid_worker(3, grid_id=9), grid_worker(2))))
    assert decision.lead.user_id == 2
    assert decision.co_handlers == ()
    assert "第一网格" in decision.reason and "网格员2" in decision.reason
    assert not decision.used_fallback


def test_without_a_grid_worker_the_grid_leader_takes_it():
    decision = route(data(candidates=(grid_worker(5, role=Role.GRID_LEADER),)))
    assert decision.lead.user_id == 5
    assert "暂无网格员" in decision.reason


def test_the_nearest_party_wins_by_place():
    candidates = (
        holder(11, Role.PROPERTY_MANAGER, "310105-ZJQ-HQXC"),
        holder(12, Role.PROPERTY_MANAGER, "310105-ZJQ-HQXC-E1"),
        holder(13, Role.PROPERTY_MANAGER, "310105-ZJQ-LY"),
    )
    decision = route(data(lead_role=Role.PROPERTY_MANAGER, candidates=candidates))
    assert decision.lead.user_id == 12
    assert "物业" in decision.reason


def test_a_big_matter_gets_a_lead_and_one_co_handler_per_role():
    candidates = (
        holder(21, Role.MEDIATOR, "310105-ZJQ-HQXC"),
        holder(22, Role.PROPERTY_MANAGER, "310105-ZJQ-HQXC-E1"),
        holder(23, Role.OWNERS_COMMITTEE, "310105-ZJQ-HQXC-E1"),
        holder(24, Role.OWNERS_COMMITTEE, "310105-ZJQ-HQXC-E1"),
    )
    decision = route(
        data(
            lead_role=Role.MEDIATOR,
            co_handler_roles=(Role.PROPERTY_MANAGER, Role.OWNERS_COMMITTEE),
            single_handler=False,
            candidates=candidates,
        )
    )
    assert decision.lead.user_id == 21
    assert [c.user_id for c in decision.co_handlers] == [22, 23]
    assert "协办" in decision.reason


def test_a_small_matter_never_gets_co_handlers():
    decision = route(
        data(
            candidates=(grid_worker(1), holder(2, Role.PROPERTY_MANAGER, CODES[3])),
            co_handler_roles=(Role.PROPERTY_MANAGER,),
            single_handler=True,
        )
    )
    assert decision.co_handlers == ()
    assert "小事专人管" in decision.reason


def test_a_missing_co_handler_is_named_in_the_reason():
    decision = route(
        data(
            candidates=(grid_worker(1),),
            co_handler_roles=(Role.PROPERTY_MANAGER,),
            single_handler=False,
        )
    )
    assert decision.lead.user_id == 1
    assert decision.co_handlers == ()
    assert "未找到协办的物业" in decision.reason


def test_nobody_matching_falls_back_to_the_duty_rota_then_the_community_workers():
    on_duty = (Candidate(31, "值班甲", Role.COMMUNITY_WORKER), Candidate(32, "值班乙", "x"))
    decision = route(data(on_duty=on_duty))
    assert decision.lead.user_id == 31 and decision.used_fallback
    assert "值班" in decision.reason

    workers = tuple(Candidate(i, f"社工{i}", Role.COMMUNITY_WORKER) for i in (41, 42, 43))
    monday = route(data(community_workers=workers, day_ordinal=3))
    tuesday = route(data(community_workers=workers, day_ordinal=4))
    assert monday.lead.user_id == 41 and tuesday.lead.user_id == 42
    assert "轮值" in monday.reason

    nobody = route(data())
    assert nobody.lead is None and "请书记指派" in nobody.reason


candidate_lists = st.lists(
    st.builds(
        Candidate,
        user_id=st.integers(1, 30),
        name=st.just("某人"),
        role=st.sampled_from(
            [
                Role.GRID_WORKER,
                Role.GRID_LEADER,
                Role.PROPERTY_MANAGER,
                Role.MEDIATOR,
                Role.OWNERS_COMMITTEE,
                Role.COMMUNITY_WORKER,
            ]
        ),
        scope_code=st.sampled_from(["", *CODES, "310105-ZJQ-LY"]),
        grid_id=st.sampled_from([None, 7, 8]),
    ),
    max_size=12,
)


@given(
    candidates=candidate_lists,
    on_duty=candidate_lists,
    workers=candidate_lists,
    lead_role=st.sampled_from([Role.GRID_WORKER, Role.PROPERTY_MANAGER, Role.MEDIATOR]),
    co_roles=st.lists(
        st.sampled_from([Role.PROPERTY_MANAGER, Role.OWNERS_COMMITTEE, Role.GRID_WORKER]),
        unique=True,
    ),
    single=st.booleans(),
    day=st.integers(0, 10_000),
)
def test_routing_is_deterministic_and_picks_only_eligible_people(
    candidates, on_duty, workers, lead_role, co_roles, single, day
):
    inputs = data(
        candidates=tuple(candidates),
        on_duty=tuple(on_duty),
        community_workers=tuple(workers),
        lead_role=lead_role,
        co_handler_roles=tuple(r for r in co_roles if r != lead_role),
        single_handler=single,
        day_ordinal=day,
    )
    decision = route(inputs)
    assert decision == route(inputs)
    assert decision.reason
    if decision.lead is not None:
        assert decision.lead in (*candidates, *on_duty, *workers)
        if not decision.used_fallback:
            assert decision.lead in candidates
    else:
        assert not on_duty and not workers
    ids = [c.user_id for c in decision.co_handlers]
    assert len(ids) == len(set(ids))
    assert decision.lead is None or decision.lead.user_id not in ids
    if single:
        assert decision.co_handlers == ()
    for co in decision.co_handlers:
        assert co in candidates and co.role in (*inputs.co_handler_roles, Role.GRID_LEADER)


# --- routed cases, from the place tree --------------------------------------------------


def handlers(case):
    return {
        (h.kind, h.user.username)
        for h in CaseHandler.objects.filter(case=case, is_active=True).select_related("user")
    }


def test_a_light_in_building_1_goes_to_its_grid_worker(report, people):
    case = report("street_light")
    assert case.lead == people["grid_worker"]
    assert handlers(case) == {(HandlerKind.LEAD, "grid_worker")}
    routed = case.events.get(kind=EventKind.ROUTED)
    assert "第一网格" in routed.note and not routed.is_public


def test_drains_go_to_the_property_company(report, people):
    case = report("drain_blocked", text="楼下下水道堵了，污水反上来")
    assert case.lead == people["property"]
    assert handlers(case) == {(HandlerKind.LEAD, "property")}


def test_a_dispute_goes_to_the_mediator_with_the_property_company(report, people):
    case = report("leak_from_above", text="楼上卫生间漏水到我家天花板")
    assert case.lead == people["mediator"]
    assert handlers(case) == {(HandlerKind.LEAD, "mediator"), (HandlerKind.CO_HANDLER, "property")}


def test_parking_brings_in_the_property_company_and_the_owners_committee(report, people):
    case = report("parking_dispute", text="有人长期占用我的车位")
    assert handlers(case) == {
        (HandlerKind.LEAD, "mediator"),
        (HandlerKind.CO_HANDLER, "property"),
        (HandlerKind.CO_HANDLER, "owners_committee"),
    }
    co = CaseHandler.objects.filter(case=case, kind=HandlerKind.CO_HANDLER)
    assert all(h.task and h.status == "pending" for h in co)


def test_a_place_outside_every_grid_falls_back_to_the_duty_rota(report, tree, people):
    # The estate itself is in no grid: nobody's grid covers it.
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):  # a Friday
        duty_rota_save(
            actor=people["secretary"],
            rota=DutyRota(community=tree["community"], weekday=4, user=people["worker"]),
        )
        case = report("street_light", place=tree["estate"], text="小区大门口路灯不亮")
    assert case.lead == people["worker"]
    assert "值班" in case.events.get(kind=EventKind.ROUTED).note


def test_without_a_rota_the_community_workers_take_turns(report, tree, people):
    second = user_create(actor=None, username="worker2", name="社工二", phone="13800000099")
    role_assign(actor=None, user=second, role=Role.COMMUNITY_WORKER, place=tree["community"])
    leads = set()
    for day in (27, 28):
        with time_machine.travel(at(2026, 11, day, 10, 0), tick=False):
            leads.add(report("street_light", place=tree["estate"], text="大门口路灯").lead)
    assert leads == {people["worker"], second}
