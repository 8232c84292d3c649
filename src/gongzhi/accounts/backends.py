from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Case, IntegerField, Q, Value, When

from .models import Role, User
from .scopes import scopes_with_roles


class PhoneOrUsernameBackend(ModelBackend):
    """Password sign-in with either the username or the phone number.

    If one person's username happens to equal another person's phone number, the
    username wins: that is what the person typing it chose as their sign-in name.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        user = (
            User.objects.filter(Q(username=username) | Q(phone=username))
            .annotate(
                by_username=Case(
                    When(username=username, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("by_username")
            .first()
        )
        if user is None:
            # Hash anyway so that an unknown account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class AdministratorBackend(BaseBackend):
    """The administrator role (系统管理员) holds Django's model permissions — the add, change,
    delete and view of each model that the admin (/admin/) asks about.

    Only those: permissions registered with rules (`places.see_place`,
    `accounts.view_phone_unmasked`…) are still answered by their predicates alone, so an
    administrator does not, say, see full phone numbers the way a superuser would.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        cached = getattr(user_obj, "_gongzhi_model_perms", None)
        if cached is None:
            cached = set()
            if scopes_with_roles(user_obj, [Role.ADMINISTRATOR]):
                cached = {
                    f"{app_label}.{codename}"
                    for app_label, codename in Permission.objects.values_list(
                        "content_type__app_label", "codename"
                    )
                }
            user_obj._gongzhi_model_perms = cached
        return cached

    def has_module_perms(self, user_obj, app_label):
        return any(perm.startswith(f"{app_label}.") for perm in self.get_all_permissions(user_obj))
