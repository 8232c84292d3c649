from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from gongzhi.api.v1 import api as api_v1
from gongzhi.core import views as core_views

admin.site.site_header = _("共治 gongzhi 管理后台")
admin.site.site_title = _("共治 gongzhi")
admin.site.index_title = _("配置与数据")

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.health, name="health"),
    path("favicon.ico", core_views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("places/", include("gongzhi.places.urls")),
    path("inbox/", include("gongzhi.core.urls")),
    path("board/", include("gongzhi.insights.urls")),
    path("work/", include("gongzhi.cases.urls_worker")),
    path("cases/", include("gongzhi.cases.urls")),
    path("", include("gongzhi.cases.urls_resident")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("open311/v2/", include("gongzhi.open311.urls")),
    path("topics/", include("gongzhi.deliberation.urls")),
]

if settings.GONGZHI_SERVE_MEDIA:
    urlpatterns += [
        re_path(
            rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
