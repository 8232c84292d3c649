from django.conf import settings


def gongzhi(request):
    """What every page's chrome needs: the language switcher and elder-friendly mode."""
    return {
        "LANGUAGES": settings.LANGUAGES,
        "elder_mode": request.COOKIES.get("elder_mode") == "1",
    }
