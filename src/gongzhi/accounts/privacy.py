"""Personal data shown to the right people only, and every staff read of it recorded (PIPL).

Every app shows phone numbers through `phone_for_viewer` and records a staff member's
look at a resident's personal data (or an export) with `personal_data_read`.
"""

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from gongzhi.places.models import Place

from .models import COMMUNITY_LEAD_ROLES, PersonalDataAccess, User
from .scopes import holds_role_over

# 11-digit mobile numbers keep their first three and last four digits (138****5678), the
# form Chinese services print; anything else keeps at most its last four.
_KEEP_HEAD = 3
_KEEP_TAIL = 4


def mask_phone(phone: str | None) -> str:
    """A phone number with its middle hidden; empty for no number."""
    if not phone:
        return ""
    if len(phone) >= _KEEP_HEAD + _KEEP_TAIL + 4:
        middle = len(phone) - _KEEP_HEAD - _KEEP_TAIL
        return phone[:_KEEP_HEAD] + "*" * middle + phone[-_KEEP_TAIL:]
    if len(phone) > _KEEP_TAIL * 2:
        return "*" * (len(phone) - _KEEP_TAIL) + phone[-_KEEP_TAIL:]
    return "*" * len(phone)


def mask_name(name: str) -> str:
    """A person's name with all but its first character hidden (张三丰 → 张**)."""
    return name[:1] + "*" * (len(name) - 1)


def phone_for_viewer(
    *,
    viewer: Any,
    subject_phone: str | None,
    unmasked_for: Iterable[Any] = (),
    place: Place | None = None,
) -> str:
    """The number as `viewer` may see it: in full for the person themself, for the users in
    `unmasked_for` (a case's handlers and reporter, say) and for the secretary or director
    over `place`; masked for everyone else.
    """
    if not subject_phone:
        return ""
    if not getattr(viewer, "is_authenticated", False):
        return mask_phone(subject_phone)
    if viewer.phone and viewer.phone == subject_phone:
        return subject_phone
    if any(getattr(u, "pk", None) == viewer.pk for u in unmasked_for):
        return subject_phone
    if place is not None and holds_role_over(viewer, COMMUNITY_LEAD_ROLES, place):
        return subject_phone
    return mask_phone(subject_phone)


def personal_data_read(
    *,
    viewer: User,
    subject: User | None,
    fields: Iterable[str],
    purpose: str,
    obj: models.Model | None = None,
) -> PersonalDataAccess | None:
    """Record that `viewer` read `fields` of `subject`'s personal data, and why.

    A person reading their own data is not recorded. `subject` may be None for an export
    covering many people (say so in `purpose`, and pass the export's record as `obj`).
    """
    if subject is not None and subject.pk == viewer.pk:
        return None
    return PersonalDataAccess.objects.create(
        at=timezone.now(),
        viewer=viewer,
        subject=subject,
        fields=",".join(fields)[:200],
        purpose=str(purpose)[:200],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
