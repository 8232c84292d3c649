from django.contrib.auth.backends import ModelBackend


class PhoneOrUsernameBackend(ModelBackend):
    """Password sign-in with either the username or the phone number (via the manager)."""
