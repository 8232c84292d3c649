"""Roster residents: created by the places import, verified at once, activated later."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from gongzhi.accounts.models import (
    Relation,
    Residency,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
)
from gongzhi.accounts.services import (
    RosterRefused,
    RosterResident,
    residency_claim,
    residency_end,
    resident_from_roster,
    residents_from_roster,
    user_create,
)
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditEvent
from gongzhi.places.roster import RESIDENT_BATCH, roster_import


def test_roster_resident_is_inactive_and_verified_at_the_dwelling(tree, people):
    user = resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone="13911112222",
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )

    assert not user.is_active
    assert not user.has_usable_password()
    assert user.activated_at is None
    residency = user.residencies.get()
    assert residency.place == tree["dwelling_102"]
    assert residency.community == tree["community"]
    assert residency.source == "roster"
    assert residency.status == ResidencyStatus.VERIFIED
    assert residency.relation == Relation.OWNER
    assert residency.verified_by == people["worker"]
    assert residency.is_verified_owner
    assert RoleAssignment.objects.filter(
        user=user, role=Role.RESIDENT, place=tree["dwelling_102"], is_active=True
    ).exists()


def test_importing_the_same_row_twice_changes_nothing(tree, people):
    kwargs = {
        "actor": people["worker"],
        "name": "张阿姨",
        "phone": "13911112222",
        "dwelling": tree["dwelling_102"],
        "relation": Relation.TENANT,
    }
    first = resident_from_roster(**kwargs)
    second = resident_from_roster(**kwargs)

    assert first == second
    assert User.objects.filter(phone="13911112222").count() == 1
    assert first.residencies.count() == 1
    assert RoleAssignment.objects.filter(user=first).count() == 1


def test_a_known_phone_is_the_same_person_in_a_second_dwelling(tree, people):
    resident = people["resident"]
    user = resident_from_roster(
        actor=people["worker"],
        name="resident",
        phone=resident.phone,
        dwelling=tree["dwelling_201"],
        relation=Relation.FAMILY,
    )

    assert user == resident
    user.refresh_from_db()
    assert user.is_active, "an existing account keeps working"
    assert user.residencies.get(place=tree["dwelling_201"]).relation == Relation.FAMILY


def test_without_phone_the_same_name_at_the_same_dwelling_is_one_person(tree, people):
    kwargs = {
        "actor": people["worker"],
        "name": "李老伯",
        "phone": None,
        "dwelling": tree["dwelling_201"],
        "relation": Relation.OWNER,
    }
    first = resident_from_roster(**kwargs)
    second = resident_from_roster(**kwargs)
    other = resident_from_roster(**{**kwargs, "dwelling": tree["dwelling_102"]})

    assert first == second
    assert other != first
    assert first.phone is None


@pytest.mark.parametrize(
    ("place_key", "relation", "phone"),
    [
        ("building", Relation.OWNER, "13911112222"),
        ("dwelling", Relation.SHOP_OPERATOR, "13911112222"),
        ("dwelling", Relation.OWNER, "12345"),
    ],
)
def test_roster_rows_that_cannot_be_right_are_refused(tree, people, place_key, relation, phone):
    with pytest.raises(ValidationFailed):
        resident_from_roster(
            actor=people["worker"],
            name="王先生",
            phone=phone,
            dwelling=tree[place_key],
            relation=relation,
        )
    assert not User.objects.filter(name="王先生").exists()


# --- many rows at once ----------------------------------------------------------------


def _rows(tree, count, *, start=0, relation=Relation.OWNER):
    """`count` new roster residents, one at each of the fixture's three dwellings in turn."""
    dwellings = [tree["dwelling"], tree["dwelling_102"], tree["dwelling_201"]]
    return [
        RosterResident(
            name=f"居民{n}",
            phone=f"1370000{n:04d}",
            dwelling=dwellings[n % 3],
            relation=relation,
        )
        for n in range(start, start + count)
    ]


def _queries(rows, actor):
    with CaptureQueriesContext(connection) as captured:
        residents_from_roster(actor=actor, rows=rows)
    return len(captured.captured_queries)


def test_sixty_residents_take_no_more_queries_than_five(tree, people):
    few = _queries(_rows(tree, 5), people["worker"])
    many = _queries(_rows(tree, 60, start=100), people["worker"])

    assert many == few
    assert User.objects.filter(phone__startswith="1370000").count() == 65
    assert Residency.objects.filter(status=ResidencyStatus.VERIFIED, source="roster").count() == 65


def test_each_person_tie_and_role_has_its_own_audit_event(tree, people):
    [user] = residents_from_roster(actor=people["worker"], rows=_rows(tree, 1))

    residency = user.residencies.get()
    assignment = user.role_assignments.get()
    events = {
        (e.verb, e.object_type, e.object_id): e
        for e in AuditEvent.objects.filter(actor=people["worker"])
    }
    created = events[("user.create", "accounts.user", str(user.pk))]
    assert created.after == {"username": user.username, "source": "roster"}
    verified = events[("residency.verify", "accounts.residency", str(residency.pk))]
    assert verified.after == {"status": "verified", "relation": "owner", "source": "roster"}
    role = events[("role.assign", "accounts.roleassignment", str(assignment.pk))]
    assert role.after == {
        "user": user.pk,
        "role": Role.RESIDENT,
        "place": tree["dwelling"].pk,
        "grid": None,
    }
    assert len(events) == 3


def test_a_batch_imported_again_writes_nothing(tree, people):
    rows = _rows(tree, 6)
    first = residents_from_roster(actor=people["worker"], rows=rows)
    before = (User.objects.count(), Residency.objects.count(), AuditEvent.objects.count())
    again = residents_from_roster(actor=people["worker"], rows=rows)

    assert again == first
    assert (User.objects.count(), Residency.objects.count(), AuditEvent.objects.count()) == before


def test_one_refused_row_refuses_the_batch_and_names_every_bad_row(tree, people):
    rows = [
        *_rows(tree, 2),
        RosterResident(
            name="冒名者", phone=people["worker"].phone, dwelling=tree["dwelling"], relation="owner"
        ),
        RosterResident(name="王先生", phone="12345", dwelling=tree["dwelling"], relation="owner"),
        RosterResident(name=" ", phone=None, dwelling=tree["dwelling"], relation="owner"),
    ]
    before = (User.objects.count(), Residency.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RosterRefused) as refused:
        residents_from_roster(actor=people["worker"], rows=rows)

    problems = refused.value.problems
    assert sorted(problems) == [2, 3, 4]
    assert problems[2].code == "phone_other_name"
    # The worker's name, masked, in the words the roster import shows for the row.
    assert str(problems[2].message) == "系统中该手机号登记的姓名是“w*****”，与表中姓名不一致。"
    assert problems[3].code == "invalid_phone"
    assert problems[4].code == "name_required"
    assert (User.objects.count(), Residency.objects.count(), AuditEvent.objects.count()) == before


def test_one_phone_under_two_names_in_one_batch_is_refused(tree, people):
    rows = [
        RosterResident(
            name="张三", phone="13711112222", dwelling=tree["dwelling"], relation="owner"
        ),
        RosterResident(
            name="李四", phone="13711112222", dwelling=tree["dwelling_102"], relation="owner"
        ),
    ]
    with pytest.raises(RosterRefused) as refused:
        residents_from_roster(actor=people["worker"], rows=rows)
    assert list(refused.value.problems) == [1]
    assert "“张*”" in str(refused.value.problems[1].message)


def test_one_phone_at_two_dwellings_in_one_batch_is_one_person(tree, people):
    rows = [
        RosterResident(
            name="张三", phone="13711112222", dwelling=tree["dwelling"], relation="owner"
        ),
        RosterResident(
            name="張三", phone="13711112222", dwelling=tree["dwelling_102"], relation="family"
        ),
    ]
    first, second = residents_from_roster(actor=people["worker"], rows=rows)

    assert first == second
    assert first.name == "张三"
    assert dict(first.residencies.values_list("place__name", "relation")) == {
        "101室": Relation.OWNER,
        "102室": Relation.FAMILY,
    }
    assert first.role_assignments.filter(is_active=True).count() == 2


def test_a_claim_waiting_for_verification_is_verified_by_the_roster(tree, people):
    resident = people["resident"]
    claim = residency_claim(user=resident, place=tree["dwelling_102"], relation=Relation.OWNER)
    residents_from_roster(
        actor=people["worker"],
        rows=[
            RosterResident(
                name=resident.name,
                phone=resident.phone,
                dwelling=tree["dwelling_102"],
                relation=Relation.TENANT,
            )
        ],
    )

    claim.refresh_from_db()
    assert (claim.status, claim.relation, claim.verified_by) == (
        ResidencyStatus.VERIFIED,
        Relation.TENANT,
        people["worker"],
    )
    event = AuditEvent.objects.get(verb="residency.verify", object_id=str(claim.pk))
    assert event.before == {"status": "claimed", "relation": ""}
    assert RoleAssignment.objects.filter(
        user=resident, place=tree["dwelling_102"], role=Role.RESIDENT, is_active=True
    ).exists()


def test_a_resident_who_moved_back_gets_the_same_role_again(tree, people):
    [row] = _rows(tree, 1)
    [user] = residents_from_roster(actor=people["worker"], rows=[row])
    residency_end(actor=people["worker"], residency=user.residencies.get())
    assignment = user.role_assignments.get()
    assert not RoleAssignment.objects.get(pk=assignment.pk).is_active

    residents_from_roster(actor=people["worker"], rows=[row])

    assert RoleAssignment.objects.get(pk=assignment.pk).is_active
    assert AuditEvent.objects.filter(verb="role.assign", object_id=str(assignment.pk)).count() == 2
    assert user.residencies.filter(status=ResidencyStatus.VERIFIED).count() == 1


def test_a_known_phone_without_a_name_takes_the_rosters(tree, people):
    nameless = user_create(actor=None, username="nameless", phone="13711113333")
    [user] = residents_from_roster(
        actor=people["worker"],
        rows=[
            RosterResident(
                name="赵阿姨", phone="13711113333", dwelling=tree["dwelling"], relation="owner"
            )
        ],
    )

    assert user == nameless
    nameless.refresh_from_db()
    assert nameless.name == "赵阿姨"
    assert AuditEvent.objects.get(verb="user.update", object_id=str(nameless.pk)).after == {
        "name": "赵阿姨",
        "source": "roster",
    }


def test_a_large_roster_registers_its_residents_in_batches_with_progress(tree, people, tmp_path):
    count = RESIDENT_BATCH + 200
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["小区", "楼栋", "单元", "室号", "姓名", "手机号", "与房屋关系"])
    for n in range(count):
        sheet.append(
            [
                "大楼小区",
                f"{n // 100 + 1}号楼",
                "",
                f"{n % 100 + 1}01",
                f"居民{n}",
                f"1360000{n:04d}",
                "业主",
            ]
        )
    workbook.save(tmp_path / "roster.xlsx")
    steps = []

    with CaptureQueriesContext(connection) as captured:
        report = roster_import(
            actor=people["worker"],
            community=tree["community"],
            file=str(tmp_path / "roster.xlsx"),
            progress=lambda stage, done, total: steps.append((stage, done, total)),
        )

    assert report.ok, report.summary_lines()[:5]
    assert report.created["resident"] == count
    assert [s for s in steps if s[0] == "登记居民"] == [
        ("登记居民", 0, count),
        ("登记居民", RESIDENT_BATCH, count),
        ("登记居民", count, count),
    ]
    # Places and people in bulk: a few hundred statements, not several per resident.
    assert len(captured.captured_queries) < count / 3
    assert Residency.objects.filter(community=tree["community"], source="roster").count() == count
