"""A backlog of alarms fired in one run: every alarm still gets its own timeline event,
notices and audit event, written in bulk."""

import time_machine
from django.urls import resolve

from gongzhi.cases import tasks
from gongzhi.cases.models import Case, CaseEvent, ClockAlarm, EventKind
from gongzhi.cases.services import clock_alarms_fire
from gongzhi.core.audit import audit_chain_verify
from gongzhi.core.models import AuditEvent, Notification
from gongzhi.core.notifications import notify

from .conftest import at

REPORTED = at(2026, 11, 27, 9, 0)
LEVELS = ("case.warning", "case.overdue", "case.supervision")


def test_a_backlog_of_many_cases_fires_every_alarm_once_with_its_event_notice_and_audit(
    report, people
):
    with time_machine.travel(REPORTED, tick=False):
        cases = [report(text=f"路灯不亮 {n}") for n in range(5)]
    # The checker was down for half an hour: every response alarm of every case is due.
    with time_machine.travel(at(2026, 11, 27, 9, 31), tick=False):
        fired = clock_alarms_fire()
    assert fired == {"warning": 5, "overdue": 5, "supervision": 5}

    for case in cases:
        kinds = sorted(
            case.events.filter(
                kind__in=[EventKind.WARNING, EventKind.OVERDUE, EventKind.SUPERVISED]
            ).values_list("kind", flat=True)
        )
        assert kinds == sorted([EventKind.WARNING, EventKind.OVERDUE, EventKind.SUPERVISED])
        case.refresh_from_db()
        assert case.overdue_at == case.supervised_at == at(2026, 11, 27, 9, 31)
        audited = AuditEvent.objects.filter(
            object_type="cases.case", object_id=str(case.pk), verb__startswith="case.alarm."
        )
        assert sorted(audited.values_list("verb", flat=True)) == [
            "case.alarm.overdue",
            "case.alarm.supervision",
            "case.alarm.warning",
        ]
    # One notice per alarm and recipient: the handler is warned, the secretary told of the
    # breach, the subdistrict supervisor of the supervision.
    for user, verb in (
        (people["grid_worker"], "case.warning"),
        (people["secretary"], "case.overdue"),
        (people["supervisor"], "case.supervision"),
    ):
        notices = Notification.objects.filter(recipient=user, verb__in=LEVELS)
        assert sorted(notices.values_list("object_id", flat=True)) == sorted(
            str(case.pk) for case in cases
        )
        assert set(notices.values_list("verb", flat=True)) == {verb}
    assert audit_chain_verify().intact


def test_an_alarm_notice_reads_and_links_like_any_other(report, people):
    with time_machine.travel(REPORTED, tick=False):
        case = report()
    with time_machine.travel(at(2026, 11, 27, 9, 12), tick=False):
        clock_alarms_fire()
    notice = Notification.objects.get(recipient=people["grid_worker"], verb="case.warning")
    assert notice.title == f"诉求 {case.number} 的响应时限将到（11-27 09:15）"
    assert notice.body.endswith("1号楼门口的路灯不亮了")
    assert (notice.object_type, notice.object_id) == ("cases.case", str(case.pk))
    match = resolve(notice.link)
    assert match.view_name == "cases:case_open" and match.kwargs == {"number": case.number}
    event = CaseEvent.objects.get(case=case, kind=EventKind.WARNING)
    assert event.note == notice.title and event.actor is None and not event.is_public


def test_a_notice_already_queued_for_an_alarm_is_not_queued_again(report, people):
    """Another writer queued the secretary's overdue notice under the alarm's key (a run
    that died after writing it): the run still fires, and nobody gets it twice."""
    with time_machine.travel(REPORTED, tick=False):
        case = report()
    overdue = ClockAlarm.objects.get(case=case, clock="response", level="overdue")
    notify(
        recipients=[people["secretary"]],
        verb="case.overdue",
        title="已超时",
        obj=case,
        dedupe_key=f"case-alarm:{overdue.pk}",
    )
    with time_machine.travel(at(2026, 11, 27, 9, 16), tick=False):
        assert clock_alarms_fire() == {"warning": 1, "overdue": 1, "supervision": 0}
    key = f"case-alarm:{overdue.pk}"
    assert Notification.objects.filter(dedupe_key=key, recipient=people["secretary"]).count() == 1
    assert case.events.filter(kind=EventKind.OVERDUE).count() == 1
    assert Case.objects.get(pk=case.pk).overdue_at == at(2026, 11, 27, 9, 16)


def test_one_check_works_off_a_backlog_larger_than_a_run(report, monkeypatch):
    """After downtime a check does not stop at one run's worth and leave the rest for the
    next minute: it keeps going while it finds full runs."""
    monkeypatch.setattr(tasks, "ALARMS_PER_RUN", 2)
    with time_machine.travel(REPORTED, tick=False):
        for n in range(3):
            report(text=f"路灯不亮 {n}")
    with time_machine.travel(at(2026, 11, 27, 9, 16), tick=False):
        assert tasks.check_clocks.call() == {"warning": 3, "overdue": 3, "supervision": 0}
        assert tasks.check_clocks.call() == {"warning": 0, "overdue": 0, "supervision": 0}
    assert ClockAlarm.objects.filter(fired_at__isnull=False).count() == 6
