"""Services: codes, sign-in and throttling, registration, claims and their verification."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from gongzhi.accounts.models import (
    LoginFailure,
    OneTimeCode,
    OtpPurpose,
    Relation,
    ResidencyStatus,
    Role,
    RoleAssignment,
)
from gongzhi.accounts.services import (
    account_activate,
    otp_request,
    otp_sign_in,
    otp_verify,
    password_sign_in,
    residency_claim,
    residency_end,
    residency_reject,
    residency_verify,
    resident_from_roster,
    resident_register,
    user_password_set,
)
from gongzhi.core.errors import (
    InvalidTransition,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from gongzhi.core.models import AuditEvent, Notification, SmsMessage

PASSWORD = "pw-Example-2026"
NEW_PHONE = "13700001111"
START = timezone.datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(480))


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# --- one-time codes --------------------------------------------------------------------


def test_a_code_is_texted_and_only_its_hash_is_kept(people, code_for, frozen):
    code = code_for(people["resident"].phone, OtpPurpose.LOGIN)

    otp = OneTimeCode.objects.get()
    assert len(code) == 6
    assert code not in otp.code_hash
    assert otp.expires_at == START + timedelta(minutes=5)
    assert "5 分钟内有效" in SmsMessage.objects.get().body


def test_a_code_works_once(people, code_for, frozen):
    phone = people["resident"].phone
    code = code_for(phone, OtpPurpose.LOGIN)

    otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=code)
    with pytest.raises(ValidationFailed) as again:
        otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=code)
    assert again.value.code == "otp_missing"


def test_a_code_expires_after_five_minutes(people, code_for, frozen):
    phone = people["resident"].phone
    code = code_for(phone, OtpPurpose.LOGIN)

    frozen.shift(timedelta(minutes=5, seconds=1))
    with pytest.raises(ValidationFailed) as expired:
        otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=code)
    assert expired.value.code == "otp_expired"
    assert "过期" in str(expired.value.message)


def test_a_code_still_works_just_before_it_expires(people, code_for, frozen):
    phone = people["resident"].phone
    code = code_for(phone, OtpPurpose.LOGIN)

    frozen.shift(timedelta(minutes=4, seconds=59))
    assert otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=code).used_at is not None


def test_five_wrong_tries_kill_the_code_even_the_right_one_after(people, code_for, frozen):
    phone = people["resident"].phone
    code = code_for(phone, OtpPurpose.LOGIN)
    wrong = "000000" if code != "000000" else "111111"

    messages = []
    for _ in range(5):
        with pytest.raises(ValidationFailed) as failure:
            otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=wrong)
        messages.append(str(failure.value.message))
    with pytest.raises(ValidationFailed) as exhausted:
        otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=code)

    assert messages[0] == "验证码错误，还可以再试 4 次。"
    assert exhausted.value.code == "otp_exhausted"
    assert OneTimeCode.objects.get().attempts == 5


def test_one_code_per_minute_per_phone(people, code_for, frozen):
    phone = people["resident"].phone
    code_for(phone, OtpPurpose.LOGIN)

    frozen.shift(timedelta(seconds=59))
    with pytest.raises(RateLimited) as too_soon:
        otp_request(phone=phone, purpose=OtpPurpose.LOGIN)
    assert too_soon.value.details["retry_after"] == 1
    assert SmsMessage.objects.count() == 1

    frozen.shift(timedelta(seconds=1))
    second = code_for(phone, OtpPurpose.LOGIN)
    assert SmsMessage.objects.count() == 2
    otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=second)


def test_a_new_code_replaces_the_earlier_one(people, code_for, frozen):
    phone = people["resident"].phone
    first = code_for(phone, OtpPurpose.LOGIN)
    frozen.shift(timedelta(seconds=61))
    second = code_for(phone, OtpPurpose.LOGIN)

    if first != second:
        with pytest.raises(ValidationFailed):
            otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=first)
    otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=second)


@pytest.mark.parametrize(
    ("purpose", "phone_key", "error"),
    [
        (OtpPurpose.LOGIN, None, "phone_unknown"),
        (OtpPurpose.REGISTER, "resident", "phone_taken"),
        (OtpPurpose.ACTIVATE, "resident", "nothing_to_activate"),
        (OtpPurpose.ACTIVATE, None, "nothing_to_activate"),
    ],
)
def test_a_code_is_only_sent_when_the_phone_fits_the_purpose(people, purpose, phone_key, error):
    phone = people[phone_key].phone if phone_key else NEW_PHONE
    with pytest.raises(ValidationFailed) as refused:
        otp_request(phone=phone, purpose=purpose)
    assert refused.value.code == error
    assert not SmsMessage.objects.exists()


# --- password sign-in and throttling ------------------------------------------------------


@pytest.mark.parametrize("identifier", ["worker", "13800000003", " 13800000003 "])
def test_sign_in_with_username_or_phone(people, identifier):
    user = password_sign_in(identifier=identifier, password=PASSWORD, ip_address="10.0.0.1")
    assert user == people["worker"]
    assert AuditEvent.objects.filter(verb="user.sign_in", object_id=str(user.pk)).exists()


def test_wrong_password_is_refused_in_chinese_and_counted(people):
    with pytest.raises(ValidationFailed) as wrong:
        password_sign_in(identifier="worker", password="nope", ip_address="10.0.0.1")
    assert str(wrong.value.message) == "账号或密码错误。"
    assert LoginFailure.objects.filter(identifier="worker", ip_address="10.0.0.1").count() == 1


def test_too_many_failures_lock_the_account_even_with_the_right_password(people, frozen):
    for n in range(5):
        with pytest.raises(ValidationFailed):
            # alternate the spellings: phone and username count against the same account
            password_sign_in(
                identifier="worker" if n % 2 else "13800000003",
                password="nope",
                ip_address=f"10.0.0.{n}",
            )
    with pytest.raises(RateLimited) as locked:
        password_sign_in(identifier="worker", password=PASSWORD, ip_address="10.0.0.99")
    assert str(locked.value.message) == "登录失败次数过多，请 15 分钟后再试。"

    frozen.shift(timedelta(minutes=15, seconds=1))
    assert (
        password_sign_in(identifier="worker", password=PASSWORD, ip_address="10.0.0.99")
        == people["worker"]
    )


def test_too_many_failures_from_one_address_lock_that_address(people):
    for n in range(5):
        with pytest.raises(ValidationFailed):
            password_sign_in(identifier=f"guess{n}", password="nope", ip_address="10.9.9.9")
    with pytest.raises(RateLimited):
        password_sign_in(identifier="secretary", password=PASSWORD, ip_address="10.9.9.9")
    assert (
        password_sign_in(identifier="secretary", password=PASSWORD, ip_address="10.9.9.10")
        == (people["secretary"])
    )


def test_a_successful_sign_in_clears_the_accounts_failures(people):
    for _ in range(4):
        with pytest.raises(ValidationFailed):
            password_sign_in(identifier="worker", password="nope", ip_address=None)
    password_sign_in(identifier="worker", password=PASSWORD, ip_address=None)
    for _ in range(4):
        with pytest.raises(ValidationFailed):
            password_sign_in(identifier="worker", password="nope", ip_address=None)
    assert password_sign_in(identifier="worker", password=PASSWORD, ip_address=None)


def test_an_inactive_account_cannot_sign_in_with_a_password(people):
    worker = people["worker"]
    worker.is_active = False
    worker.save()
    with pytest.raises(ValidationFailed):
        password_sign_in(identifier="worker", password=PASSWORD, ip_address=None)


def test_sign_in_with_a_code(people, code_for):
    phone = people["resident"].phone
    code = code_for(phone, OtpPurpose.LOGIN)
    assert otp_sign_in(phone=phone, code=code, ip_address="10.0.0.1") == people["resident"]


def test_wrong_codes_count_as_failed_sign_ins(people, code_for, frozen):
    phone = people["resident"].phone
    code_for(phone, OtpPurpose.LOGIN)
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            otp_sign_in(phone=phone, code="abcdef", ip_address="10.0.0.1")
    frozen.shift(timedelta(seconds=61))
    code = code_for(phone, OtpPurpose.LOGIN)
    with pytest.raises(RateLimited):
        otp_sign_in(phone=phone, code=code, ip_address="10.0.0.2")


# --- registration, roster activation, passwords ------------------------------------------


def test_register_with_phone_code_and_name(db, code_for):
    code = code_for(NEW_PHONE, OtpPurpose.REGISTER)
    user = resident_register(phone=NEW_PHONE, code=code, name=" 陈女士 ")

    assert user.is_active
    assert user.name == "陈女士"
    assert user.phone_verified_at is not None
    assert not user.has_usable_password(), "residents may live with codes only"
    assert not RoleAssignment.objects.filter(user=user).exists(), "no role before verification"


def test_register_with_a_weak_password_keeps_the_code(db, code_for):
    code = code_for(NEW_PHONE, OtpPurpose.REGISTER)
    with pytest.raises(ValidationFailed) as weak:
        resident_register(phone=NEW_PHONE, code=code, name="陈女士", password="123")
    assert weak.value.code == "password_invalid"
    user = resident_register(phone=NEW_PHONE, code=code, name="陈女士", password="Long-enough-9")
    assert user.check_password("Long-enough-9")


def test_register_with_a_wrong_code_creates_nobody(db, code_for):
    code_for(NEW_PHONE, OtpPurpose.REGISTER)
    with pytest.raises(ValidationFailed):
        resident_register(phone=NEW_PHONE, code="999999x", name="陈女士")
    assert not OneTimeCode.objects.get().used_at
    from gongzhi.accounts.models import User

    assert not User.objects.filter(phone=NEW_PHONE).exists()


def test_a_roster_phone_is_sent_to_activation_not_registration(tree, people):
    resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone=NEW_PHONE,
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )
    with pytest.raises(ValidationFailed) as refused:
        otp_request(phone=NEW_PHONE, purpose=OtpPurpose.REGISTER)
    assert refused.value.code == "phone_on_roster"
    with pytest.raises(ValidationFailed) as login:
        otp_request(phone=NEW_PHONE, purpose=OtpPurpose.LOGIN)
    assert login.value.code == "account_not_activated"


def test_roster_resident_activates_with_a_code_and_then_signs_in(tree, people, code_for):
    roster = resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone=NEW_PHONE,
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )
    code = code_for(NEW_PHONE, OtpPurpose.ACTIVATE)
    user = account_activate(
        phone=NEW_PHONE, code=code, password="Zhang-ayi-2026", ip_address="10.0.0.1"
    )

    assert user == roster
    user.refresh_from_db()
    assert user.is_active and user.activated_at and user.phone_verified_at
    assert user.residencies.get().is_verified_owner
    assert (
        password_sign_in(identifier=NEW_PHONE, password="Zhang-ayi-2026", ip_address=None) == user
    )
    with pytest.raises(ValidationFailed):
        otp_request(phone=NEW_PHONE, purpose=OtpPurpose.ACTIVATE)


def test_password_change_by_the_person_only(people):
    worker = people["worker"]
    user_password_set(actor=worker, user=worker, password="Another-pw-2027")
    worker.refresh_from_db()
    assert worker.check_password("Another-pw-2027")
    with pytest.raises(PermissionDenied):
        user_password_set(actor=people["secretary"], user=worker, password="Another-pw-2028")
    with pytest.raises(ValidationFailed):
        user_password_set(actor=worker, user=worker, password="12345678")


# --- claims and verification ------------------------------------------------------------


@pytest.fixture
def newcomer(db, code_for):
    code = code_for(NEW_PHONE, OtpPurpose.REGISTER)
    return resident_register(phone=NEW_PHONE, code=code, name="陈女士")


def test_claim_then_verify_makes_an_owner_with_the_resident_role(tree, people, newcomer):
    residency = residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.OWNER)
    assert residency.status == ResidencyStatus.CLAIMED
    assert residency.relation == "", "a claim alone never makes an owner"
    assert not residency.is_verified_owner
    inbox = Notification.objects.filter(verb="residency.claimed")
    assert {n.recipient for n in inbox} == {people["worker"], people["secretary"]}

    residency = residency_verify(actor=people["worker"], residency=residency)

    assert residency.status == ResidencyStatus.VERIFIED
    assert residency.relation == Relation.OWNER
    assert residency.verified_by == people["worker"]
    assert residency.is_verified_owner
    assert RoleAssignment.objects.filter(
        user=newcomer, role=Role.RESIDENT, place=tree["dwelling_102"], is_active=True
    ).exists()
    assert Notification.objects.filter(recipient=newcomer, verb="residency.verified").exists()


def test_the_verifier_sets_the_relation_not_the_claimant(tree, people, newcomer):
    residency = residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.OWNER)
    residency = residency_verify(
        actor=people["secretary"], residency=residency, relation=Relation.TENANT, note="租房合同"
    )
    assert residency.relation == Relation.TENANT
    assert not residency.is_verified_owner


def test_a_street_shop_claim_gives_the_street_shop_role(tree, people, newcomer, shop):
    residency = residency_claim(user=newcomer, place=shop, relation=Relation.SHOP_OPERATOR)
    residency_verify(actor=people["worker"], residency=residency)
    assert RoleAssignment.objects.filter(user=newcomer, role=Role.STREET_SHOP, place=shop).exists()


def test_a_worker_outside_the_community_cannot_verify(tree, people, newcomer):
    residency = residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.OWNER)
    for outsider in ("other_worker", "grid_worker", "property", "supervisor", "resident"):
        with pytest.raises(PermissionDenied):
            residency_verify(actor=people[outsider], residency=residency)
    residency.refresh_from_db()
    assert residency.status == ResidencyStatus.CLAIMED


def test_reject_needs_a_reason_and_lets_the_person_claim_again(tree, people, newcomer):
    residency = residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.OWNER)
    with pytest.raises(ValidationFailed):
        residency_reject(actor=people["worker"], residency=residency, note=" ")
    residency = residency_reject(actor=people["worker"], residency=residency, note="查无此人")
    assert residency.status == ResidencyStatus.REJECTED
    assert not RoleAssignment.objects.filter(user=newcomer).exists()
    with pytest.raises(InvalidTransition):
        residency_verify(actor=people["worker"], residency=residency)

    again = residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.TENANT)
    assert again.status == ResidencyStatus.CLAIMED


def test_one_open_claim_per_place(tree, newcomer):
    residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.OWNER)
    with pytest.raises(ValidationFailed) as twice:
        residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.FAMILY)
    assert twice.value.code == "residency_exists"


@pytest.mark.parametrize(
    ("place_key", "relation"),
    [("building", Relation.OWNER), ("community", Relation.OWNER), ("dwelling", "shop_operator")],
)
def test_claims_must_name_a_dwelling_or_shop_and_a_fitting_relation(
    tree, newcomer, place_key, relation
):
    with pytest.raises(ValidationFailed):
        residency_claim(user=newcomer, place=tree[place_key], relation=relation)


def test_moving_out_ends_the_tie_and_the_role(tree, people):
    user = resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone=NEW_PHONE,
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )
    residency = residency_end(actor=people["worker"], residency=user.residencies.get())

    assert residency.status == ResidencyStatus.ENDED
    assert not residency.is_verified_owner
    assert not RoleAssignment.objects.filter(user=user, is_active=True).exists()
    with pytest.raises(InvalidTransition):
        residency_end(actor=people["worker"], residency=residency)
    again = resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone=NEW_PHONE,
        dwelling=tree["dwelling_102"],
        relation=Relation.TENANT,
    )
    assert again.residencies.filter(status=ResidencyStatus.VERIFIED).count() == 1


def test_old_codes_and_failures_are_pruned(people, code_for, frozen):
    from gongzhi.accounts.tasks import prune_sign_in_records

    code_for(people["resident"].phone, OtpPurpose.LOGIN)
    with pytest.raises(ValidationFailed):
        password_sign_in(identifier="worker", password="nope", ip_address=None)
    frozen.shift(timedelta(hours=23))
    assert prune_sign_in_records.call() == 0
    frozen.shift(timedelta(hours=1, seconds=1))
    assert prune_sign_in_records.call() == 2
    assert not OneTimeCode.objects.exists() and not LoginFailure.objects.exists()


@pytest.mark.parametrize("scope", ["place", "grid", "everywhere"])
def test_the_database_keeps_one_row_per_person_role_and_scope(tree, people, scope):
    from django.db import IntegrityError, transaction

    user = people["volunteer"]
    fields = {
        "place": {"role": Role.BUILDING_LEADER, "place": tree["building"]},
        "grid": {"role": Role.GRID_WORKER, "grid": tree["grid"]},
        "everywhere": {"role": Role.ADMINISTRATOR},
    }[scope]
    RoleAssignment.objects.create(user=user, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, **fields)
