"""Who may do what with a case: the permission matrix of roles × scopes × actions."""

import pytest
import rules

from gongzhi.cases.services import case_complete, case_respond, case_start, case_transfer

ROLES = [
    "resident",
    "grid_worker",
    "grid_leader",
    "worker",
    "secretary",
    "property",
    "owners_committee",
    "mediator",
    "supervisor",
    "district_supervisor",
    "volunteer",
    "partner",
    "admin",
    "other_worker",
]

# A street-light case at dwelling 101, routed to the grid worker (its lead).
REPORTED_MATRIX = {
    "cases.view": {
        "resident",
        "grid_worker",
        "grid_leader",
        "worker",
        "secretary",
        "supervisor",
        "district_supervisor",
        "admin",
    },
    "cases.view_internal": {
        "grid_worker",
        "grid_leader",
        "worker",
        "secretary",
        "supervisor",
        "district_supervisor",
        "admin",
    },
    "cases.respond": {"grid_worker", "grid_leader", "worker", "secretary"},
    "cases.start": {"grid_worker", "secretary"},
    "cases.complete": {"grid_worker", "secretary"},
    "cases.decline": {"grid_worker", "grid_leader", "worker", "secretary"},
    "cases.merge": {"grid_worker", "grid_leader", "worker", "secretary"},
    "cases.to_topic": {"grid_worker", "grid_leader", "worker", "secretary"},
    "cases.assign": {
        "grid_worker",
        "grid_leader",
        "worker",
        "secretary",
        "supervisor",
        "district_supervisor",
    },
    "cases.reassign": {"secretary", "supervisor", "district_supervisor"},
    "cases.transfer": {"grid_worker", "secretary"},
    "cases.reopen": {"resident", "grid_worker", "grid_leader", "worker", "secretary"},
    "cases.exclude_from_rates": {"secretary", "supervisor", "district_supervisor"},
    # The handler never records the follow-up of their own case.
    "cases.follow_up": {"resident", "grid_leader", "worker", "secretary"},
}


@pytest.fixture
def case(report):
    return report()


@pytest.mark.parametrize("perm", sorted(REPORTED_MATRIX))
def test_permission_matrix(case, people, perm):
    allowed = {who for who in ROLES if rules.has_perm(perm, people[who], case)}
    assert allowed == REPORTED_MATRIX[perm]


def test_anonymous_visitors_may_do_nothing(case):
    from django.contrib.auth.models import AnonymousUser

    assert not any(rules.has_perm(perm, AnonymousUser(), case) for perm in REPORTED_MATRIX)


def test_whoever_completed_a_case_may_not_follow_it_up(case, people):
    # The secretary stands in for the lead and completes it herself.
    case = case_respond(actor=people["grid_worker"], case=case)
    case = case_start(actor=people["secretary"], case=case)
    case = case_complete(actor=people["secretary"], case=case, note="已处理")
    assert not rules.has_perm("cases.follow_up", people["secretary"], case)
    assert rules.has_perm("cases.follow_up", people["worker"], case)


def test_a_party_routed_to_a_case_handles_it_and_sees_it(report, people):
    case = report("leak_from_above", text="楼上漏水")
    # mediator leads; the property company is a co-handler
    assert rules.has_perm("cases.start", people["mediator"], case)
    assert rules.has_perm("cases.view", people["property"], case)
    assert rules.has_perm("cases.view_internal", people["property"], case)
    assert not rules.has_perm("cases.start", people["property"], case)
    assert not rules.has_perm("cases.view", people["owners_committee"], case)


def test_the_person_asked_to_take_over_sees_the_case_and_may_accept(case, people):
    assert not rules.has_perm("cases.view", people["property"], case)
    case = case_transfer(
        actor=people["grid_worker"], case=case, to=people["property"], reason="物业维修"
    )
    assert rules.has_perm("cases.view", people["property"], case)
    assert rules.has_perm("cases.accept_transfer", people["property"], case)
    assert not rules.has_perm("cases.accept_transfer", people["worker"], case)
