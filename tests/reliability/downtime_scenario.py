"""The child-process half of `test_clocks_downtime.py`: it runs in the database the task
worker uses (the test's own database lives in another process, or in memory).

    python -m tests.reliability.downtime_scenario setup|report <n> <seed>|verify

`setup` builds a community, its grid worker, secretary, subdistrict supervisor and
households; `report` files `n` cases through `case_report`, each at a moment in the past
days (time travel), so that while no worker runs their warnings, overdue marks and
supervision notices come due; `verify` prints, as JSON, what fired how often.
"""

import json
import random
import sys
from collections import Counter
from datetime import timedelta


def setup() -> None:
    from gongzhi.accounts.models import Role
    from gongzhi.accounts.services import role_assign, user_create
    from gongzhi.places.models import PlaceKind
    from gongzhi.places.services import grid_create, place_create

    def add(kind, name, segment, parent=None):
        return place_create(actor=None, kind=kind, name=name, segment=segment, parent=parent)

    def person(username, phone, role, **where):
        user = user_create(
            actor=None, username=username, name=username, phone=phone, password="pw-Example-2026"
        )
        role_assign(actor=None, user=user, role=role, **where)
        return user

    district = add(PlaceKind.DISTRICT, "长宁区", "310105")
    subdistrict = add(PlaceKind.SUBDISTRICT, "周家桥街道", "ZJQ", district)
    community = add(PlaceKind.COMMUNITY, "虹桥新城居民区", "HQXC", subdistrict)
    estate = add(PlaceKind.ESTATE, "虹桥新城小区", "E1", community)
    building = add(PlaceKind.BUILDING, "1号楼", "B1", estate)
    entrance = add(PlaceKind.ENTRANCE, "1单元", "U1", building)
    grid = grid_create(
        actor=None, community=community, segment="G1", name="第一网格", buildings=[building]
    )
    person("grid_worker", "13800000001", Role.GRID_WORKER, grid=grid)
    person("secretary", "13800000004", Role.SECRETARY, place=community)
    person("supervisor", "13800000008", Role.SUBDISTRICT_SUPERVISOR, place=subdistrict)
    for floor in range(1, 7):
        for door in (1, 2):
            number = f"{floor}0{door}"
            dwelling = add(PlaceKind.DWELLING, f"{number}室", number, entrance)
            person(f"r{number}", f"1390000{int(number):04d}", Role.RESIDENT, place=dwelling)


def report(n: int, seed: int) -> None:
    import time_machine
    from django.utils import timezone

    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.cases.models import Category, Channel
    from gongzhi.cases.services import case_report

    rng = random.Random(seed)
    households = list(
        RoleAssignment.objects.filter(role="resident").select_related("user", "place")
    )
    categories = list(Category.objects.filter(code__in=["street_light", "drain_blocked"]))
    now = timezone.now()
    for _ in range(n):
        home = rng.choice(households)
        # Up to ten days ago: long enough for every level of both clocks to come due.
        with time_machine.travel(now - timedelta(minutes=rng.randint(5, 10 * 24 * 60))):
            case_report(
                actor=home.user,
                place=home.place,
                category=rng.choice(categories),
                text="楼道灯坏了，晚上看不见",
                channel=Channel.RESIDENT_PAGE,
            )


def verify() -> None:
    from django.utils import timezone

    from gongzhi.cases.models import AlarmLevel, Case, CaseEvent, ClockAlarm, EventKind
    from gongzhi.core.models import Notification

    now = timezone.now()
    alarms = ClockAlarm.objects.all()
    kinds = {
        EventKind.WARNING: AlarmLevel.WARNING,
        EventKind.OVERDUE: AlarmLevel.OVERDUE,
        EventKind.SUPERVISED: AlarmLevel.SUPERVISION,
    }
    events = Counter(
        (e.case_id, e.data["clock"], kinds[e.kind], e.data["round"])
        for e in CaseEvent.objects.filter(kind__in=list(kinds))
    )
    fired = {(a.case_id, a.clock, a.level, a.round) for a in alarms.filter(fired_at__isnull=False)}
    notified = Counter(
        Notification.objects.filter(dedupe_key__startswith="case-alarm:").values_list(
            "recipient_id", "channel", "dedupe_key"
        )
    )
    noticed_alarms = {int(key.split(":")[1]) for _who, _channel, key in notified}
    print(
        json.dumps(
            {
                "cases": Case.objects.count(),
                "alarms": alarms.count(),
                "due_pending": alarms.filter(
                    due_at__lte=now,
                    fired_at__isnull=True,
                    cancelled_at__isnull=True,
                    suspended_at__isnull=True,
                ).count(),
                "fired": len(fired),
                "fired_by_level": dict(
                    Counter(level for _case, _clock, level, _round in fired).most_common()
                ),
                "fired_in_the_future": alarms.filter(
                    fired_at__isnull=False, due_at__gt=now
                ).count(),
                "events_for_unfired_alarms": len(set(events) - fired),
                "alarms_without_one_event": sum(1 for key in fired if events[key] != 1),
                "notices_sent_twice": sum(1 for n in notified.values() if n > 1),
                "alarms_fired_without_notice": alarms.filter(fired_at__isnull=False)
                .exclude(pk__in=noticed_alarms)
                .count(),
                "overdue_cases": Case.objects.filter(overdue_at__isnull=False).count(),
                "cases_with_overdue_alarm": alarms.filter(
                    fired_at__isnull=False, level=AlarmLevel.OVERDUE
                )
                .values("case")
                .distinct()
                .count(),
                "supervised_cases": Case.objects.filter(supervised_at__isnull=False).count(),
                "cases_with_supervision_alarm": alarms.filter(
                    fired_at__isnull=False, level=AlarmLevel.SUPERVISION
                )
                .values("case")
                .distinct()
                .count(),
            }
        )
    )


if __name__ == "__main__":
    import django

    django.setup()
    command, *args = sys.argv[1:]
    if command == "setup":
        setup()
    elif command == "report":
        report(int(args[0]), int(args[1]))
    elif command == "verify":
        verify()
    else:
        raise SystemExit(f"unknown command {command}")
