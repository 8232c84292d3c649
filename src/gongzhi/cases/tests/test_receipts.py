"""Receipts: a report accepted at once and filed as a case by the worker — once, whatever
two workers at once, a fault halfway or a retry do."""

from collections import Counter

import pytest
from django.db import OperationalError, connection

from gongzhi.accounts.models import RoleAssignment
from gongzhi.accounts.services import role_revoke
from gongzhi.cases import services
from gongzhi.cases.models import Case, Channel, ReceiptState, ReportReceipt
from gongzhi.cases.services import report_accept, report_receipts_file
from gongzhi.cases.tasks import RECEIPTS_PER_RUN, file_report_receipts
from gongzhi.core.errors import ValidationFailed

from .test_stateful_concurrent import at_once


def accept(tree, people, category, n=1, **changes):
    return [
        report_accept(
            actor=people["resident"],
            place=tree["dwelling"],
            category=category["street_light"],
            text=f"楼道灯坏了（{i}）",
            channel=Channel.API,
            **changes,
        )[0]
        for i in range(n)
    ]


def test_an_accepted_report_is_one_row_until_it_is_filed(tree, people, category):
    (receipt,) = accept(tree, people, category)

    assert receipt.state == ReceiptState.ACCEPTED
    assert len(receipt.token) == 32
    assert Case.objects.count() == 0
    assert report_receipts_file() == {"filed": 1, "refused": 0}
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.FILED
    assert receipt.case.text == "楼道灯坏了（0）"
    assert receipt.case.entered_by == people["resident"]
    assert receipt.filed_at >= receipt.accepted_at
    assert report_receipts_file() == {"filed": 0, "refused": 0}


def test_receipts_are_filed_in_the_order_they_were_accepted(tree, people, category):
    receipts = accept(tree, people, category, n=3)
    report_receipts_file()

    numbers = [ReportReceipt.objects.get(pk=r.pk).case.number for r in receipts]
    assert numbers == sorted(numbers)


def test_a_fault_while_filing_leaves_the_receipt_waiting_and_the_others_filed(
    tree, people, category, monkeypatch, caplog
):
    first, second = accept(tree, people, category, n=2)
    real_report = services.case_report_with_outcome

    def report_failing_on_the_first(**report):
        if report["text"] == first.text:
            raise RuntimeError("the database went away")
        return real_report(**report)

    monkeypatch.setattr(services, "case_report_with_outcome", report_failing_on_the_first)
    assert report_receipts_file() == {"filed": 1, "refused": 0}
    assert ReportReceipt.objects.get(pk=first.pk).state == ReceiptState.ACCEPTED
    assert ReportReceipt.objects.get(pk=second.pk).state == ReceiptState.FILED
    assert "could not be filed" in caplog.text

    monkeypatch.setattr(services, "case_report_with_outcome", real_report)
    assert report_receipts_file() == {"filed": 1, "refused": 0}
    assert Case.objects.count() == 2


def test_the_task_works_off_a_burst_in_one_run(tree, people, category):
    accept(tree, people, category, n=RECEIPTS_PER_RUN + 5)

    assert file_report_receipts.call() == RECEIPTS_PER_RUN + 5
    assert Case.objects.count() == RECEIPTS_PER_RUN + 5
    assert file_report_receipts.call() == 0


def test_a_resident_who_moved_out_before_filing_is_told_why(tree, people, category):
    (receipt,) = accept(tree, people, category)
    for assignment in RoleAssignment.objects.filter(user=people["resident"]):
        role_revoke(actor=None, assignment=assignment)

    assert report_receipts_file() == {"filed": 0, "refused": 1}
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.REFUSED
    assert receipt.refusal_code == "place_not_yours"
    assert receipt.case is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_file_every_receipt_exactly_once(tree, people, category):
    receipts = accept(tree, people, category, n=12)

    outcomes = at_once([report_receipts_file, report_receipts_file])
    # A worker that lost a race on SQLite's tests (shared cache: "table is locked") leaves
    # receipts waiting for its next run, as the worker's loop does.
    report_receipts_file()

    for outcome in outcomes:
        if isinstance(outcome, Exception):
            assert connection.vendor == "sqlite" and isinstance(outcome, OperationalError)
    filed = ReportReceipt.objects.filter(pk__in=[r.pk for r in receipts])
    assert set(filed.values_list("state", flat=True)) == {ReceiptState.FILED}
    per_case = Counter(filed.values_list("case_id", flat=True))
    assert len(per_case) == 12 and set(per_case.values()) == {1}
    assert Case.objects.count() == 12
    if connection.vendor == "postgresql":
        assert sum(o["filed"] for o in outcomes) == 12


def test_on_sqlite_the_worker_leaves_the_write_lock_free_between_spells(
    tree, people, category, monkeypatch
):
    from gongzhi.cases import tasks

    pauses = []
    monkeypatch.setattr(tasks, "sleep", pauses.append)
    accept(tree, people, category, n=12)

    assert file_report_receipts.call() == 12
    if connection.vendor == "sqlite":
        # spells of 5, 5 and 2, each followed by a pause for the requests waiting
        assert pauses == [tasks.SQLITE_PAUSE_SECONDS] * 3
    else:
        assert pauses == []


@pytest.mark.django_db(transaction=True)
def test_the_same_report_sent_twice_at_once_is_one_receipt(tree, people, category):
    def send():
        return report_accept(
            actor=people["resident"],
            place=tree["dwelling"],
            category=category["street_light"],
            text="楼道灯坏了",
            channel=Channel.API,
            idempotency_key="phone-7f3a",
        )

    outcomes = at_once([send, send])
    answered = [o for o in outcomes if not isinstance(o, Exception)]
    for outcome in outcomes:
        if isinstance(outcome, Exception):  # the loser on SQLite's tests: "table is locked"
            assert connection.vendor == "sqlite" and isinstance(outcome, OperationalError)

    assert ReportReceipt.objects.count() == 1
    assert {receipt.token for receipt, _created in answered} == {ReportReceipt.objects.get().token}
    assert sorted(created for _receipt, created in answered) == (
        [False, True] if len(answered) == 2 else [True]
    )


def test_a_worker_entering_a_phone_call_gets_a_receipt_and_the_case_keeps_the_contact(
    tree, people, category
):
    receipt, _created = report_accept(
        actor=people["worker"],
        place=tree["dwelling_201"],
        category=category["street_light"],
        text="王阿姨来电：2号楼路灯不亮",
        channel=Channel.PHONE,
        contact_name="王阿姨",
        contact_phone="139 0000 1111",
    )
    report_receipts_file()

    case = ReportReceipt.objects.get(pk=receipt.pk).case
    assert (case.channel, case.contact_name, case.contact_phone) == (
        Channel.PHONE,
        "王阿姨",
        "13900001111",
    )
    assert case.entered_by == people["worker"] and case.reporter is None


def test_a_staff_entry_without_a_contact_is_refused_at_the_door(tree, people, category):
    with pytest.raises(ValidationFailed) as refused:
        report_accept(
            actor=people["worker"],
            place=tree["dwelling_201"],
            category=category["street_light"],
            text="来电反映路灯不亮",
            channel=Channel.PHONE,
        )
    assert refused.value.code == "contact_required"
    assert ReportReceipt.objects.count() == 0
