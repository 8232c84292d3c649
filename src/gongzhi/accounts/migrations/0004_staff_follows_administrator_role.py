"""`is_staff` (what opens Django's admin) follows the administrator role from now on.

Before, nothing set it, so an administrator could not open /admin/, while a box ticked by
hand in the admin could leave it on for someone without the role. This sets it for every
superuser and every holder of an active administrator role, clears it for everyone else,
and records each change as a `user.staff_change` audit event, as
`accounts.services.user_staff_sync` does from now on.
"""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone


def staff_follows_administrator_role(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    AuditEvent = apps.get_model("core", "AuditEvent")
    administrators = RoleAssignment.objects.filter(role="administrator", is_active=True)
    should = Q(is_superuser=True) | Q(pk__in=administrators.values("user_id"))
    grant = list(User.objects.filter(should, is_staff=False).values_list("pk", flat=True))
    revoke = list(User.objects.filter(is_staff=True).exclude(should).values_list("pk", flat=True))
    User.objects.filter(pk__in=grant).update(is_staff=True)
    User.objects.filter(pk__in=revoke).update(is_staff=False)
    at = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=at,
                verb="user.staff_change",
                object_type="accounts.user",
                object_id=str(pk),
                before={"is_staff": not staff},
                after={"is_staff": staff, "via": "migration"},
            )
            for pks, staff in ((grant, True), (revoke, False))
            for pk in pks
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_role_assignment_unique_per_scope"),
        ("core", "0001_initial"),
    ]

    # Going back leaves `is_staff` as it is: the values before were the wrong ones.
    operations = [
        migrations.RunPython(staff_follows_administrator_role, migrations.RunPython.noop),
    ]
