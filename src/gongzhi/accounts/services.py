"""Every write to people, residencies and roles."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import ValidationFailed
from gongzhi.places.models import Grid, Place

from .models import Role, RoleAssignment, User


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
