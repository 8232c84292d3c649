from django.contrib.auth.backends import ModelBackend
from django.db.models import Case, IntegerField, Q, Value, When

from .models import User


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
