"""Version 1 of the REST API, mounted at /api/v1/.

Every endpoint is thin: it checks the shape of the request, asks a selector (reads and
visibility) or a service (writes, permissions, transitions) of the app that owns the
matter, and returns a typed answer. The OpenAPI schema is at /api/v1/openapi.json and the
documentation page at /api/v1/docs, served from this server's static files.
"""

from ninja import NinjaAPI, Swagger
from ninja.renderers import JSONRenderer

from gongzhi.api.auth import ApiTokenAuth, SessionAuth
from gongzhi.api.errors import install_error_handlers

from . import cases, categories, me, places, rates, receipts


class Utf8JSONRenderer(JSONRenderer):
    # Chinese as itself rather than \u escapes: a third of the bytes, and readable.
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="gongzhi API",
    version="1",
    description=(
        "共治 gongzhi 接口：小事快办、地点与角色。认证方式：网站登录会话（写操作需 X-CSRFToken）"
        "或 `Authorization: Bearer <令牌>`。错误统一为 `{code, message, details}`，message 按"
        " Accept-Language（默认简体中文，支持 en）。\n\n"
        "gongzhi API: cases, places and roles. Authenticate with the site's session (unsafe"
        " methods need X-CSRFToken) or `Authorization: Bearer <token>`. Every error is"
        " `{code, message, details}`, with the message in the Accept-Language language"
        " (Simplified Chinese by default, en supported)."
    ),
    urls_namespace="api-v1",
    renderer=Utf8JSONRenderer(),
    auth=[ApiTokenAuth(), SessionAuth()],
    # validatorUrl None: Swagger UI would otherwise fetch a badge from validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)

api.add_router("/me", me.router)
api.add_router("/places", places.router)
api.add_router("/cases", cases.router)
api.add_router("/categories", categories.router)
api.add_router("/rates", rates.router)
api.add_router("/receipts", receipts.router)
