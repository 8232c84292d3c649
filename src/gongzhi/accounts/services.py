"""Every write to people, residencies and roles."""

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, UNUSABLE_PASSWORD_SUFFIX_LENGTH
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from gongzhi.core.audit import audit_record, audit_record_many
from gongzhi.core.errors import (
    InvalidTransition,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from gongzhi.core.notifications import notify
from gongzhi.core.sms import sms_send
from gongzhi.core.text import normalise
from gongzhi.places.models import Grid, Place, PlaceKind

from .models import (
    LoginFailure,
    OneTimeCode,
    OtpPurpose,
    Relation,
    Residency,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
    phone_validator,
)
from .privacy import mask_name
from .selectors import place_label, residency_verifiers

# What a person may say they are to each kind of place.
RELATIONS_FOR_KIND: dict[str, frozenset[str]] = {
    PlaceKind.DWELLING: frozenset(
        {Relation.OWNER, Relation.CO_OWNER, Relation.TENANT, Relation.FAMILY}
    ),
    PlaceKind.STREET_SHOP: frozenset({Relation.SHOP_OPERATOR, Relation.OWNER, Relation.TENANT}),
}
# The role a verified tie to a place gives.
ROLE_FOR_KIND: dict[str, str] = {
    PlaceKind.DWELLING: Role.RESIDENT,
    PlaceKind.STREET_SHOP: Role.STREET_SHOP,
}


def user_create(
    *,
    actor: Any,
    username: str,
    name: str = "",
    phone: str | None = None,
    password: str | None = None,
) -> User:
    """Create a person's account; without a password it can only be activated by a code."""
    if phone and User.objects.filter(phone=phone).exists():
        raise ValidationFailed(_("该手机号已被使用。"), code="phone_taken")
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(_("该用户名已被使用。"), code="username_taken")
    with transaction.atomic():
        user = User(username=username, name=name, phone=phone or None)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(actor=actor, verb="user.create", obj=user, after={"username": username})
    return user


def role_assign(
    *,
    actor: Any,
    user: User,
    role: str,
    place: Place | None = None,
    grid: Grid | None = None,
    organisation: str = "",
) -> RoleAssignment:
    """Give `user` a role at a place (or grid). Only administrators may hold a role nowhere."""
    if grid is None and place is None and role != Role.ADMINISTRATOR:
        raise ValidationFailed(_("请为该角色指定范围（地点或网格）。"), code="role_needs_scope")
    if grid is not None and role not in {Role.GRID_WORKER, Role.GRID_LEADER}:
        raise ValidationFailed(_("只有网格长、网格员按网格分配。"), code="role_grid_mismatch")
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user,
            role=role,
            place=place,
            grid=grid,
            defaults={
                "organisation": organisation,
                "granted_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if not created and not assignment.is_active:
            assignment.is_active = True
            assignment.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            verb="role.assign",
            obj=assignment,
            after={"user": user.pk, "role": role, "place": place, "grid": grid},
        )
        if role == Role.ADMINISTRATOR:
            user_staff_sync(actor=actor, user=user)
    user.__dict__.pop("_gongzhi_scopes", None)
    return assignment


def role_revoke(*, actor: Any, assignment: RoleAssignment) -> RoleAssignment:
    """End a role assignment; the row stays so that history still says who could act.

    Ending someone's last administrator role also closes the admin (/admin/) to them.
    """
    with transaction.atomic():
        assignment.is_active = False
        assignment.save(update_fields=["is_active", "updated_at"])
        audit_record(actor=actor, verb="role.revoke", obj=assignment, before={"is_active": True})
        if assignment.role == Role.ADMINISTRATOR:
            user_staff_sync(actor=actor, user=assignment.user)
    return assignment


def user_staff_sync(*, actor: Any, user: User) -> User:
    """Make `is_staff` — what lets Django's admin (/admin/) open at all — say whether the
    person holds an active administrator role (or is a superuser).

    Called wherever an administrator role is given or taken (`role_assign`, `role_revoke`,
    the admin's role forms); a change is audited as `user.staff_change`, no change writes
    nothing.
    """
    with transaction.atomic():
        is_staff, is_superuser = (
            User.objects.select_for_update().values_list("is_staff", "is_superuser").get(pk=user.pk)
        )
        staff = (
            is_superuser
            or RoleAssignment.objects.active()
            .filter(user_id=user.pk, role=Role.ADMINISTRATOR)
            .exists()
        )
        if staff != is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=staff)
            audit_record(
                actor=actor,
                verb="user.staff_change",
                obj=user,
                before={"is_staff": is_staff},
                after={"is_staff": staff},
            )
    user.is_staff = staff
    user.__dict__.pop("_gongzhi_model_perms", None)
    return user


def _generated_usernames(count: int) -> list[str]:
    # Residents sign in with their phone; a username only has to be unique and must
    # never look like a phone number (the backend matches either). One query per round;
    # a second round needs two random 40-bit names to collide.
    chosen: set[str] = set()
    while len(chosen) < count:
        fresh = {f"u{secrets.token_hex(5)}" for _ in range(count - len(chosen))} - chosen
        taken = User.objects.filter(username__in=fresh).values_list("username", flat=True)
        chosen |= fresh - set(taken)
    return list(chosen)


def _check_phone(phone: str) -> None:
    try:
        phone_validator(phone)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="invalid_phone") from exc


def _community_of(place: Place) -> Place:
    if place.community is None:
        raise ValidationFailed(_("该地点不属于任何居民区。"), code="place_without_community")
    return place.community


def _check_residency_place(place: Place, relation: str) -> None:
    allowed = RELATIONS_FOR_KIND.get(place.kind)
    if allowed is None:
        raise ValidationFailed(_("只能登记到具体的房屋或沿街商铺。"), code="residency_place_kind")
    if relation not in allowed:
        raise ValidationFailed(
            _("“%(relation)s”不适用于%(kind)s。")
            % {"relation": Relation(relation).label, "kind": place.get_kind_display()},
            code="residency_relation_invalid",
        )


@dataclass(frozen=True)
class RosterResident:
    """One resident row of a community's roster (花名册): who, their phone if they have
    one, which dwelling (or street shop), and as what."""

    name: str
    phone: str | None
    dwelling: Place
    relation: str


class RosterRefused(ValidationFailed):
    """Rows that `residents_from_roster` will not register; nothing of the batch is written.

    `problems` maps the index of each refused row to why: an error with its own code
    (`name_required`, `invalid_phone`, `residency_relation_invalid`, `phone_other_name`…).
    """

    code = "roster_refused"

    def __init__(self, problems: dict[int, ValidationFailed]) -> None:
        self.problems = dict(sorted(problems.items()))
        super().__init__(
            _("花名册中有 %(n)d 行无法登记。") % {"n": len(problems)},
            rows={index: str(problem.message) for index, problem in self.problems.items()},
        )


def residents_from_roster(*, actor: Any, rows: Sequence[RosterResident]) -> list[User]:
    """Record residents from a community's roster (花名册) as verified at their dwellings.

    Each person is found by phone, or created as an inactive account with no usable
    password that they later activate with a code sent to that phone. Without a phone, a
    roster resident of the same name at the same dwelling is the same person. Each tie is
    verified at once (the roster is the community's own record) and gives the resident
    (or street-shop) role at the place. What is already so changes nothing, so a roster
    can be imported again; a person named twice in the batch is one person.

    All rows or none: a row without a name, with a bad phone, with a relation that does
    not fit the place, or with a phone already registered under another name is refused,
    and `RosterRefused` lists every such row while nothing is written. Returns the person
    of each row, in order.

    The number of queries does not grow with the rows (lookups by phone and dwelling,
    bulk inserts and updates, one audit event per person created, tie verified and role
    given, inserted in bulk); batches of about a thousand rows keep each statement small.
    """
    rows = [_roster_cleaned(row) for row in rows]
    problems = _roster_row_problems(rows)
    verifier = actor if getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    with transaction.atomic():
        # The places import hands over dwellings with only a few fields loaded.
        dwellings = Place.objects.filter(pk__in={row.dwelling.pk for row in rows})
        communities = {
            pk: community
            for pk, community in dwellings.values_list("pk", "community_id")
            if community is not None
        }
        for index, row in enumerate(rows):
            if index not in problems and row.dwelling.pk not in communities:
                problems[index] = ValidationFailed(
                    _("该地点不属于任何居民区。"), code="place_without_community"
                )
        people = _roster_people(rows)
        registered = {user.phone: user.name for user in people.values() if user.phone}
        _roster_name_problems(rows, registered, problems)
        if problems:
            raise RosterRefused(problems)
        users, created, named = _roster_users(rows, people)
        existing_ids = {user.pk for user in users} - {user.pk for user in created}
        verified = _roster_residencies(
            rows, users, communities, existing_ids=existing_ids, verifier=verifier, now=now
        )
        assignments = _roster_roles(
            rows, users, verified, existing_ids=existing_ids, verifier=verifier, now=now
        )
        audit_record_many(
            actor=actor,
            verb="user.create",
            changes=[(u, None, {"username": u.username, "source": "roster"}) for u in created],
        )
        audit_record_many(
            actor=actor,
            verb="user.update",
            changes=[(u, {"name": ""}, {"name": u.name, "source": "roster"}) for u in named],
        )
        audit_record_many(
            actor=actor,
            verb="residency.verify",
            changes=[
                (r, before, {"status": r.status, "relation": r.relation, "source": "roster"})
                for r, before in verified.values()
            ],
        )
        audit_record_many(
            actor=actor,
            verb="role.assign",
            changes=[
                (a, None, {"user": a.user_id, "role": a.role, "place": a.place_id, "grid": None})
                for a in assignments
            ],
        )
    for user in users:
        user.__dict__.pop("_gongzhi_scopes", None)
    return users


def resident_from_roster(
    *, actor: Any, name: str, phone: str | None, dwelling: Place, relation: str
) -> User:
    """One roster row: `residents_from_roster` for a single resident (the demo, tests).

    A refused row raises its own error (a `ValidationFailed` with the row's code).
    """
    row = RosterResident(name=name, phone=phone, dwelling=dwelling, relation=relation)
    try:
        return residents_from_roster(actor=actor, rows=[row])[0]
    except RosterRefused as refused:
        raise refused.problems[0] from None


def residents_from_roster_problems(
    *, rows: Sequence[RosterResident]
) -> dict[int, ValidationFailed]:
    """What `residents_from_roster` would refuse among `rows`, by index; writes nothing.

    The places import asks before it writes anything, so that these problems are listed
    with every other problem in the file. The dwellings need not be saved yet. One query.
    """
    rows = [_roster_cleaned(row) for row in rows]
    problems = _roster_row_problems(rows)
    phones = {row.phone for row in rows if row.phone}
    registered = {
        phone: name
        for phone, name in User.objects.filter(phone__in=phones).values_list("phone", "name")
        if phone
    }
    _roster_name_problems(rows, registered, problems)
    return problems


def _roster_cleaned(row: RosterResident) -> RosterResident:
    return RosterResident(
        name=row.name.strip(),
        phone=(row.phone or "").strip() or None,
        dwelling=row.dwelling,
        relation=row.relation,
    )


def _roster_row_problems(rows: list[RosterResident]) -> dict[int, ValidationFailed]:
    problems: dict[int, ValidationFailed] = {}
    for index, row in enumerate(rows):
        try:
            if not row.name:
                raise ValidationFailed(_("请填写姓名。"), code="name_required")
            if row.phone:
                _check_phone(row.phone)
            _check_residency_place(row.dwelling, row.relation)
        except ValidationFailed as problem:
            problems[index] = problem
    return problems


def _roster_name_problems(
    rows: list[RosterResident], registered: dict[str, str], problems: dict[int, ValidationFailed]
) -> None:
    # A phone registered under another name is most likely a typo in the roster, and
    # linking it would give a stranger a verified tie to the dwelling. `registered`
    # (phone → name) grows with the rows: the first row of a new phone names its person.
    for index, row in enumerate(rows):
        if index in problems or not row.phone:
            continue
        name = registered.get(row.phone)
        if not name:
            registered[row.phone] = row.name
        elif normalise(name) != normalise(row.name):
            problems[index] = ValidationFailed(
                _("系统中该手机号登记的姓名是“%(name)s”，与表中姓名不一致。")
                % {"name": mask_name(name)},
                code="phone_other_name",
            )


_PersonKey = str | tuple[str, int]


def _person_key(row: RosterResident) -> _PersonKey:
    return row.phone or (row.name, row.dwelling.pk)


def _roster_people(rows: list[RosterResident]) -> dict[_PersonKey, User]:
    """The people the rows already name, locked: by phone, or (without a phone) by name
    among the roster residents of the same dwelling."""
    phones = {row.phone for row in rows if row.phone}
    unphoned = {(row.name, row.dwelling.pk) for row in rows if not row.phone}
    by_name: dict[_PersonKey, int] = {}
    if unphoned:
        found = (
            Residency.objects.filter(
                source="roster",
                user__phone__isnull=True,
                user__name__in={name for name, _place in unphoned},
                place_id__in={place for _name, place in unphoned},
            )
            .order_by("user_id")
            .values_list("user__name", "place_id", "user_id")
        )
        for name, place_id, user_id in found:
            by_name.setdefault((name, place_id), user_id)
    users = {
        user.pk: user
        for user in User.objects.select_for_update().filter(
            Q(phone__in=phones) | Q(pk__in=set(by_name.values()))
        )
    }
    people: dict[_PersonKey, User] = {user.phone: user for user in users.values() if user.phone}
    people.update({key: users[pk] for key, pk in by_name.items()})
    return people


def _roster_users(
    rows: list[RosterResident], people: dict[_PersonKey, User]
) -> tuple[list[User], list[User], list[User]]:
    """The person of each row, the people created, and the people found without a name
    (they take the roster's)."""
    users: list[User] = []
    created: list[User] = []
    named: list[User] = []
    for row in rows:
        key = _person_key(row)
        user = people.get(key)
        if user is None:
            # What set_unusable_password() stores, but one random token per person:
            # make_password(None) draws its 40 characters one by one (0.1 ms a person).
            password = UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(
                UNUSABLE_PASSWORD_SUFFIX_LENGTH // 2
            )
            user = people[key] = User(
                name=row.name, phone=row.phone, is_active=False, password=password
            )
            created.append(user)
        elif not user.name:
            user.name = row.name
            named.append(user)
        users.append(user)
    for user, username in zip(created, _generated_usernames(len(created)), strict=True):
        user.username = username
    User.objects.bulk_create(created)
    User.objects.bulk_update(named, ["name"])
    return users, created, named


def _roster_residencies(
    rows: list[RosterResident],
    users: list[User],
    communities: dict[int, int],
    *,
    existing_ids: set[int],
    verifier: User | None,
    now: datetime,
) -> dict[tuple[int, int], tuple[Residency, dict[str, str]]]:
    """Verify each row's tie (a new one, or the live one the person already has there);
    returns the ties verified or changed, keyed by (user, place), with their state before."""
    live = {
        (r.user_id, r.place_id): r
        for r in Residency.objects.select_for_update()
        .filter(user_id__in=existing_ids, place_id__in={row.dwelling.pk for row in rows})
        .exclude(status__in=[ResidencyStatus.REJECTED, ResidencyStatus.ENDED])
    }
    changed: dict[tuple[int, int], tuple[Residency, dict[str, str]]] = {}
    for row, user in zip(rows, users, strict=True):
        key = (user.pk, row.dwelling.pk)
        residency = live.get(key)
        if residency is None:
            residency = live[key] = Residency(
                user=user,
                place_id=row.dwelling.pk,
                community_id=communities[row.dwelling.pk],
                claimed_relation=row.relation,
                source="roster",
            )
        if residency.status == ResidencyStatus.VERIFIED and residency.relation == row.relation:
            continue
        before = {"status": residency.status, "relation": residency.relation}
        changed.setdefault(key, (residency, before if residency.pk else {}))
        residency.relation = row.relation
        residency.status = ResidencyStatus.VERIFIED
        residency.verified_by = verifier
        residency.verified_at = now
        residency.updated_at = now
    new = [r for r, _before in changed.values() if r.pk is None]
    old = [r for r, _before in changed.values() if r.pk is not None]
    Residency.objects.bulk_create(new)
    Residency.objects.bulk_update(
        old, ["relation", "status", "verified_by", "verified_at", "updated_at"]
    )
    return changed


def _roster_roles(
    rows: list[RosterResident],
    users: list[User],
    verified: dict[tuple[int, int], tuple[Residency, dict[str, str]]],
    *,
    existing_ids: set[int],
    verifier: User | None,
    now: datetime,
) -> list[RoleAssignment]:
    """The resident (or street-shop) role at each place where a tie was just verified:
    given, or made active again; returns the assignments given or revived."""
    wanted: dict[tuple[int, str, int], User] = {}
    for row, user in zip(rows, users, strict=True):
        if (user.pk, row.dwelling.pk) in verified:
            wanted[(user.pk, ROLE_FOR_KIND[row.dwelling.kind], row.dwelling.pk)] = user
    held = {
        (a.user_id, a.role, a.place_id): a
        for a in RoleAssignment.objects.select_for_update().filter(
            user_id__in=existing_ids & {user_id for user_id, _role, _place in wanted},
            role__in={role for _user, role, _place in wanted},
            place_id__in={place for _user, _role, place in wanted},
            grid__isnull=True,
        )
    }
    given: list[RoleAssignment] = []
    revived: list[RoleAssignment] = []
    for key, user in wanted.items():
        assignment = held.get(key)
        if assignment is None:
            given.append(
                RoleAssignment(user=user, role=key[1], place_id=key[2], granted_by=verifier)
            )
        elif not assignment.is_active:
            assignment.is_active = True
            assignment.updated_at = now
            revived.append(assignment)
    RoleAssignment.objects.bulk_create(given)
    RoleAssignment.objects.bulk_update(revived, ["is_active", "updated_at"])
    return given + revived


# --- one-time codes -------------------------------------------------------------------


def gongzhi_int_setting(name: str) -> int:
    """One number from the GONGZHI settings dict (which mixes numbers, strings, lists)."""
    return cast(int, settings.GONGZHI[name])


def _otp_settings() -> tuple[int, int, int]:
    return (
        gongzhi_int_setting("OTP_TTL_SECONDS"),
        gongzhi_int_setting("OTP_MAX_ATTEMPTS"),
        gongzhi_int_setting("OTP_RESEND_SECONDS"),
    )


def _otp_hash(*, phone: str, purpose: str, code: str) -> str:
    # An HMAC under the site secret: a leaked table alone does not give the codes away,
    # and checking stays fast (a code lives five minutes and allows five tries).
    return salted_hmac(
        "gongzhi.accounts.otp", f"{phone}:{purpose}:{code}", algorithm="sha256"
    ).hexdigest()


def _awaits_activation(user: User) -> bool:
    # A roster resident: created by the community, never signed in, no password yet.
    return not user.is_active and user.activated_at is None and not user.has_usable_password()


def _otp_check_phone_fits(*, phone: str, purpose: str) -> None:
    user = User.objects.filter(phone=phone).first()
    if purpose == OtpPurpose.LOGIN:
        if user is None:
            raise ValidationFailed(_("该手机号尚未注册，请先注册。"), code="phone_unknown")
        if _awaits_activation(user):
            raise ValidationFailed(
                _("该账号尚未激活，请先通过“激活账号”完成激活。"), code="account_not_activated"
            )
        if not user.is_active:
            raise ValidationFailed(_("该账号已停用，请联系居委会。"), code="account_disabled")
    elif purpose == OtpPurpose.ACTIVATE:
        if user is None or not _awaits_activation(user):
            raise ValidationFailed(
                _("该手机号没有待激活的账号；已激活的账号请直接登录。"), code="nothing_to_activate"
            )
    elif purpose == OtpPurpose.REGISTER and user is not None:
        if _awaits_activation(user):
            raise ValidationFailed(
                _("社区已为该手机号登记了账号，请通过“激活账号”完成激活。"),
                code="phone_on_roster",
            )
        raise ValidationFailed(_("该手机号已注册，请直接登录。"), code="phone_taken")


def otp_request(*, phone: str, purpose: str) -> OneTimeCode:
    """Send a new six-digit code to `phone` for `purpose`; it is stored only as a hash.

    The phone must fit the purpose (an active account to sign in, a roster account not
    yet activated to activate, an unused number to register). At most one code is sent
    to a phone per OTP_RESEND_SECONDS; a new code replaces the earlier one for the same
    purpose. The text message leaves after the transaction commits.
    """
    phone = phone.strip()
    _check_phone(phone)
    if purpose not in OtpPurpose.values:
        raise ValidationFailed(_("验证码用途无效。"), code="otp_purpose_invalid")
    _otp_check_phone_fits(phone=phone, purpose=purpose)
    ttl, _max_attempts, resend = _otp_settings()
    now = timezone.now()
    with transaction.atomic():
        last = OneTimeCode.objects.filter(phone=phone).order_by("-created_at").first()
        if last is not None and last.created_at > now - timedelta(seconds=resend):
            wait = resend - int((now - last.created_at).total_seconds())
            raise RateLimited(
                _("验证码已发送，请 %(seconds)d 秒后再重新获取。") % {"seconds": max(wait, 1)},
                code="otp_resend_too_soon",
                retry_after=max(wait, 1),
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        otp = OneTimeCode.objects.create(
            phone=phone,
            purpose=purpose,
            code_hash=_otp_hash(phone=phone, purpose=purpose, code=code),
            expires_at=now + timedelta(seconds=ttl),
        )
        audit_record(actor=None, verb="otp.send", obj=otp, after={"purpose": purpose})
        body = _(
            "【共治】您的验证码是 %(code)s，%(minutes)d 分钟内有效。如非本人操作，请忽略。"
        ) % {"code": code, "minutes": ttl // 60}
        transaction.on_commit(lambda: sms_send(phone=phone, body=body))
    return otp


def otp_verify(*, phone: str, purpose: str, code: str) -> OneTimeCode:
    """Check `code` against the latest code sent to `phone` for `purpose` and use it up.

    Each wrong try counts (committed even though the call fails); after OTP_MAX_ATTEMPTS
    tries, or once expired, the code is dead and a new one must be requested. Call this
    outside any enclosing transaction, or a failed try would be rolled back with it.
    """
    phone = phone.strip()
    code = code.strip()
    _ttl, max_attempts, _resend = _otp_settings()
    now = timezone.now()
    failure: ValidationFailed | None = None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        if otp is None or otp.used_at is not None:
            failure = ValidationFailed(_("请先获取验证码。"), code="otp_missing")
        elif otp.expires_at <= now:
            failure = ValidationFailed(_("验证码已过期，请重新获取。"), code="otp_expired")
        elif otp.attempts >= max_attempts:
            failure = ValidationFailed(_("验证码错误次数过多，请重新获取。"), code="otp_exhausted")
        else:
            otp.attempts += 1
            expected = _otp_hash(phone=phone, purpose=purpose, code=code)
            if constant_time_compare(otp.code_hash, expected):
                otp.used_at = now
            else:
                left = max_attempts - otp.attempts
                failure = (
                    ValidationFailed(
                        _("验证码错误，还可以再试 %(left)d 次。") % {"left": left},
                        code="otp_wrong",
                    )
                    if left
                    else ValidationFailed(
                        _("验证码错误次数过多，请重新获取。"), code="otp_exhausted"
                    )
                )
            otp.save(update_fields=["attempts", "used_at", "updated_at"])
    if failure is not None:
        raise failure
    return cast(OneTimeCode, otp)  # no failure: a code was found and used


# --- signing in -----------------------------------------------------------------------


def _identifier_keys(identifier: str) -> set[str]:
    # A person may type their username or their phone: failures under either count
    # against the same account.
    keys = {identifier.lower()}
    user = User.objects.filter(Q(username=identifier) | Q(phone=identifier)).first()
    if user is not None:
        keys.add(user.username.lower())
        if user.phone:
            keys.add(user.phone)
    return keys


def login_throttle_check(*, identifier: str, ip_address: str | None) -> None:
    """Refuse (RateLimited) when the account or the address failed too often recently.

    Failures are rows in LoginFailure, so the limit holds across restarts and across
    several app servers.
    """
    limit = gongzhi_int_setting("LOGIN_MAX_FAILURES")
    window = timedelta(seconds=gongzhi_int_setting("LOGIN_WINDOW_SECONDS"))
    now = timezone.now()
    recent = LoginFailure.objects.filter(at__gt=now - window)
    for condition in (
        Q(identifier__in=_identifier_keys(identifier)),
        Q(ip_address=ip_address) if ip_address else None,
    ):
        if condition is None:
            continue
        failures = list(
            recent.filter(condition).order_by("-at").values_list("at", flat=True)[:limit]
        )
        if len(failures) >= limit:
            # Unlocked when the oldest of the last `limit` failures leaves the window.
            retry_after = max(1, math.ceil((failures[-1] + window - now).total_seconds()))
            raise RateLimited(
                _("登录失败次数过多，请 %(minutes)d 分钟后再试。")
                % {"minutes": math.ceil(retry_after / 60)},
                code="login_throttled",
                retry_after=retry_after,
            )


def _login_failure_record(*, identifier: str, ip_address: str | None) -> None:
    LoginFailure.objects.create(
        at=timezone.now(), identifier=identifier.lower()[:150], ip_address=ip_address or None
    )


def _signed_in(*, user: User, identifier: str, method: str) -> User:
    with transaction.atomic():
        LoginFailure.objects.filter(identifier__in=_identifier_keys(identifier)).delete()
        audit_record(actor=user, verb="user.sign_in", obj=user, after={"method": method})
    return user


def password_sign_in(*, identifier: str, password: str, ip_address: str | None) -> User:
    """Check a username-or-phone and password; every failure is counted for throttling.

    Returns the user for the view to log in. A locked-out account or address is refused
    before the password is even looked at.
    """
    identifier = identifier.strip()
    login_throttle_check(identifier=identifier, ip_address=ip_address)
    user = authenticate(None, username=identifier, password=password)
    if user is None:
        _login_failure_record(identifier=identifier, ip_address=ip_address)
        raise ValidationFailed(_("账号或密码错误。"), code="login_failed")
    return _signed_in(user=user, identifier=identifier, method="password")


def otp_sign_in(*, phone: str, code: str, ip_address: str | None) -> User:
    """Sign in with a code sent to the phone of an active account (counted like passwords)."""
    phone = phone.strip()
    login_throttle_check(identifier=phone, ip_address=ip_address)
    try:
        otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=code)
    except ValidationFailed:
        _login_failure_record(identifier=phone, ip_address=ip_address)
        raise
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise ValidationFailed(_("该手机号没有可登录的账号。"), code="phone_unknown")
    if user.phone_verified_at is None:
        user.phone_verified_at = timezone.now()
        user.save(update_fields=["phone_verified_at"])
    return _signed_in(user=user, identifier=phone, method="otp")


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), code="password_invalid") from exc


def account_activate(*, phone: str, code: str, password: str = "", ip_address: str | None) -> User:
    """Activate a roster resident's account with a code sent to the roster phone.

    A password is optional: without one the resident signs in with codes. Wrong codes
    count towards sign-in throttling, since activation signs the person in.
    """
    phone = phone.strip()
    user = User.objects.filter(phone=phone).first()
    if user is None or not _awaits_activation(user):
        raise ValidationFailed(
            _("该手机号没有待激活的账号；已激活的账号请直接登录。"), code="nothing_to_activate"
        )
    if password:
        _check_password(password, user)
    login_throttle_check(identifier=phone, ip_address=ip_address)
    try:
        otp_verify(phone=phone, purpose=OtpPurpose.ACTIVATE, code=code)
    except ValidationFailed:
        _login_failure_record(identifier=phone, ip_address=ip_address)
        raise
    now = timezone.now()
    with transaction.atomic():
        user.is_active = True
        user.activated_at = now
        user.phone_verified_at = now
        if password:
            user.set_password(password)
        user.save()
        audit_record(
            actor=user,
            verb="user.activate",
            obj=user,
            before={"is_active": False},
            after={"is_active": True, "password_set": bool(password)},
        )
    return _signed_in(user=user, identifier=phone, method="activate")


def resident_register(*, phone: str, code: str, name: str, password: str = "") -> User:
    """A resident or street shop signs themselves up with their phone and a code.

    The account is active at once; what it may see comes only after a community worker
    verifies the place it claims (`residency_claim`, `residency_verify`).
    """
    phone = phone.strip()
    name = name.strip()
    if not name:
        raise ValidationFailed(_("请填写姓名。"), code="name_required")
    _check_phone(phone)
    _otp_check_phone_fits(phone=phone, purpose=OtpPurpose.REGISTER)
    user = User(username=_generated_usernames(1)[0], name=name, phone=phone)
    if password:
        _check_password(password, user)
    otp_verify(phone=phone, purpose=OtpPurpose.REGISTER, code=code)
    now = timezone.now()
    with transaction.atomic():
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.activated_at = now
        user.phone_verified_at = now
        user.save()
        audit_record(
            actor=user,
            verb="user.register",
            obj=user,
            after={"username": user.username, "password_set": bool(password)},
        )
    return user


def user_password_set(*, actor: User, user: User, password: str) -> User:
    """Set a new password (checked against the password rules); the old one stops working."""
    if actor.pk != user.pk:
        raise PermissionDenied()
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=actor, verb="user.password_change", obj=user)
    return user


# --- residencies ----------------------------------------------------------------------


def residency_claim(*, user: User, place: Place, relation: str) -> Residency:
    """A signed-up person states that they live in (or run) `place` as `relation`.

    The claim waits for a community worker (`residency_verify`); until then it gives no
    role, and the stated relation is only what the person said. The community's
    verifiers are told in their inbox.
    """
    if not user.is_active:
        raise PermissionDenied(_("账号尚未激活。"))
    if not place.is_active:
        raise ValidationFailed(_("该房屋已停用。"), code="place_inactive")
    _check_residency_place(place, relation)
    with transaction.atomic():
        if (
            Residency.objects.filter(user=user, place=place)
            .exclude(status__in=[ResidencyStatus.REJECTED, ResidencyStatus.ENDED])
            .exists()
        ):
            raise ValidationFailed(_("您已申报过该房屋，请等待核验。"), code="residency_exists")
        residency = Residency.objects.create(
            user=user,
            place=place,
            community=_community_of(place),
            claimed_relation=relation,
            source="claim",
        )
        audit_record(
            actor=user,
            verb="residency.claim",
            obj=residency,
            after={"place": place, "claimed_relation": relation},
        )
        notify(
            recipients=residency_verifiers(place=place),
            verb="residency.claimed",
            title=_("%(name)s 申报了 %(place)s，待核验")
            % {"name": user.display_name, "place": place_label(place)},
            link=reverse("accounts:verification_queue"),
            obj=residency,
        )
    return residency


def _decided(residency: Residency) -> Residency:
    if residency.status != ResidencyStatus.CLAIMED:
        raise InvalidTransition(_("该申报已处理。"), code="residency_already_decided")
    return residency


def residency_verify(
    *, actor: User, residency: Residency, relation: str | None = None, note: str = ""
) -> Residency:
    """A community worker confirms a claim: sets the verified relation and gives the role.

    This is the only way a self-registered person becomes an owner (业主), which counts in
    owners' votes. The relation defaults to what the person claimed.
    """
    if not actor.has_perm("accounts.verify_residency", residency):
        raise PermissionDenied()
    relation = relation or residency.claimed_relation
    _check_residency_place(residency.place, relation)
    with transaction.atomic():
        residency = _decided(Residency.objects.select_for_update().get(pk=residency.pk))
        residency.status = ResidencyStatus.VERIFIED
        residency.relation = relation
        residency.verified_by = actor
        residency.verified_at = timezone.now()
        residency.review_note = note.strip()[:200]
        residency.save()
        audit_record(
            actor=actor,
            verb="residency.verify",
            obj=residency,
            before={"status": ResidencyStatus.CLAIMED},
            after={"status": residency.status, "relation": relation, "note": residency.review_note},
        )
        role_assign(
            actor=actor,
            user=residency.user,
            role=ROLE_FOR_KIND[residency.place.kind],
            place=residency.place,
        )
        notify(
            recipients=[residency.user],
            verb="residency.verified",
            title=_("您申报的 %(place)s 已通过核验") % {"place": place_label(residency.place)},
            link=reverse("home"),
            obj=residency,
        )
    return residency


def residency_reject(*, actor: User, residency: Residency, note: str) -> Residency:
    """A community worker turns a claim down, saying why; the person may claim again."""
    if not actor.has_perm("accounts.verify_residency", residency):
        raise PermissionDenied()
    note = note.strip()
    if not note:
        raise ValidationFailed(_("请填写未通过的原因。"), code="reason_required")
    with transaction.atomic():
        residency = _decided(Residency.objects.select_for_update().get(pk=residency.pk))
        residency.status = ResidencyStatus.REJECTED
        residency.verified_by = actor
        residency.verified_at = timezone.now()
        residency.review_note = note[:200]
        residency.save()
        audit_record(
            actor=actor,
            verb="residency.reject",
            obj=residency,
            before={"status": ResidencyStatus.CLAIMED},
            after={"status": residency.status, "note": residency.review_note},
        )
        notify(
            recipients=[residency.user],
            verb="residency.rejected",
            title=_("您申报的 %(place)s 未通过核验") % {"place": place_label(residency.place)},
            body=residency.review_note,
            link=reverse("accounts:claim"),
            obj=residency,
        )
    return residency


def residency_end(*, actor: Any, residency: Residency) -> Residency:
    """The person no longer lives at (or runs) the place: the tie ends and so does the
    role it gave. The row stays, so past votes and cases still show who they were."""
    with transaction.atomic():
        residency = Residency.objects.select_for_update().get(pk=residency.pk)
        if residency.status in (ResidencyStatus.ENDED, ResidencyStatus.REJECTED):
            raise InvalidTransition(_("该居住关系已结束。"), code="residency_not_live")
        before = residency.status
        residency.status = ResidencyStatus.ENDED
        residency.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            verb="residency.end",
            obj=residency,
            before={"status": before},
            after={"status": residency.status},
        )
        role = ROLE_FOR_KIND.get(residency.place.kind)
        for assignment in RoleAssignment.objects.active().filter(
            user=residency.user, role=role, place=residency.place
        ):
            role_revoke(actor=actor, assignment=assignment)
    return residency
