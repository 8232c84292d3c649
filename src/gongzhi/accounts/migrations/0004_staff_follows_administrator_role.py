"""`is_staff` (what opens Django's admin) follows the administrator role from now on.

Before, nothing set it, so an administrator could not open /admin/, while a box ticked by
hand in the admin could leave it on for someone without the role. This sets it for every
superuser and every holder of an active administrator role and clears it for everyone
else, as `accounts.services.user_staff_sync` does from now on.

The migration writes no audit events: a migration writes around the audit hash chain
(`core.audit`), and what it sets follows from the role assignments, whose own events are
in the trail. Every later change is audited by `user_staff_sync`.
"""

from django.db import migrations
from django.db.models import Q


def staff_follows_administrator_role(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    administrators = RoleAssignment.objects.filter(role="administrator", is_active=True)
    should = Q(is_superuser=True) | Q(pk__in=administrators.values("user_id"))
    User.objects.filter(should, is_staff=False).update(is_staff=True)
    User.objects.filter(is_staff=True).exclude(should).update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_role_assignment_unique_per_scope"),
    ]

    # Going back leaves `is_staff` as it is: the values before were the wrong ones.
    operations = [
        migrations.RunPython(staff_follows_administrator_role, migrations.RunPython.noop),
    ]
