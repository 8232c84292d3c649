"""Every write to people, residencies and roles."""

import secrets
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import ValidationFailed
from gongzhi.places.models import Grid, Place, PlaceKind

from .models import (
    Relation,
    Residency,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
    phone_validator,
)

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
    user.__dict__.pop("_gongzhi_scopes", None)
    return assignment


def role_revoke(*, actor: Any, assignment: RoleAssignment) -> RoleAssignment:
    """End a role assignment; the row stays so that history still says who could act."""
    with transaction.atomic():
        assignment.is_active = False
        assignment.save(update_fields=["is_active", "updated_at"])
        audit_record(actor=actor, verb="role.revoke", obj=assignment, before={"is_active": True})
    return assignment


def _generated_username() -> str:
    # Residents sign in with their phone; the username only has to be unique and must
    # never look like a phone number (the backend matches either).
    while True:
        candidate = f"u{secrets.token_hex(5)}"
        if not User.objects.filter(username=candidate).exists():
            return candidate


def _check_phone(phone: str) -> None:
    try:
        phone_validator(phone)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="invalid_phone") from exc


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


def resident_from_roster(
    *, actor: Any, name: str, phone: str | None, dwelling: Place, relation: str
) -> User:
    """Record a resident from the community's roster (花名册) as verified at `dwelling`.

    The person is found by phone, or created as an inactive account with no usable
    password that they later activate with a code sent to that phone. Without a phone,
    a roster resident of the same name at the same dwelling is the same person. The tie
    is verified at once (the roster is the community's own record) and gives the
    resident (or street-shop) role at the place. Running the same row again changes
    nothing, so an import can be repeated.
    """
    name = name.strip()
    phone = (phone or "").strip() or None
    if not name:
        raise ValidationFailed(_("请填写姓名。"), code="name_required")
    if phone:
        _check_phone(phone)
    _check_residency_place(dwelling, relation)
    with transaction.atomic():
        user = _roster_person(name=name, phone=phone, dwelling=dwelling)
        created = user is None
        if user is None:
            user = User(username=_generated_username(), name=name, phone=phone, is_active=False)
            user.set_unusable_password()
            user.save()
            audit_record(
                actor=actor,
                verb="user.create",
                obj=user,
                after={"username": user.username, "source": "roster"},
            )
        elif not user.name:
            user.name = name
            user.save(update_fields=["name"])
        residency = (
            Residency.objects.select_for_update()
            .filter(user=user, place=dwelling)
            .exclude(status__in=[ResidencyStatus.REJECTED, ResidencyStatus.ENDED])
            .first()
        )
        before = {"status": residency.status, "relation": residency.relation} if residency else {}
        if residency is None:
            residency = Residency(
                user=user,
                place=dwelling,
                community=dwelling.community,
                claimed_relation=relation,
                source="roster",
            )
        if (
            created
            or residency.status != ResidencyStatus.VERIFIED
            or residency.relation != relation
        ):
            residency.relation = relation
            residency.status = ResidencyStatus.VERIFIED
            residency.verified_by = actor if getattr(actor, "is_authenticated", False) else None
            residency.verified_at = timezone.now()
            residency.save()
            audit_record(
                actor=actor,
                verb="residency.verify",
                obj=residency,
                before=before,
                after={"status": residency.status, "relation": relation, "source": "roster"},
            )
            role_assign(actor=actor, user=user, role=ROLE_FOR_KIND[dwelling.kind], place=dwelling)
    return user


def _roster_person(*, name: str, phone: str | None, dwelling: Place) -> User | None:
    if phone:
        return User.objects.select_for_update().filter(phone=phone).first()
    return (
        User.objects.select_for_update()
        .filter(
            name=name,
            phone__isnull=True,
            residencies__place=dwelling,
            residencies__source="roster",
        )
        .first()
    )
