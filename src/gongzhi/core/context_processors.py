from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .selectors import unread_count_for


def gongzhi(request):
    """What every page's chrome needs: the language switcher, elder-friendly mode, and the
    unread count of the inbox badge (counted only if the page shows the badge)."""
    return {
        "LANGUAGES": settings.LANGUAGES,
        "elder_mode": request.COOKIES.get("elder_mode") == "1",
        "inbox_unread_count": SimpleLazyObject(lambda: unread_count_for(request.user)),
    }
