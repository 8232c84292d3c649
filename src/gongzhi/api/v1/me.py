"""`/me`: who the caller is and what their roles reach."""

from django.http import HttpRequest
from ninja import Field, Router, Schema

from gongzhi.accounts.models import Role
from gongzhi.accounts.scopes import scopes_for
from gongzhi.accounts.selectors import roles_for
from gongzhi.api.errors import ErrorOut

from .schemas import GridRef, PlaceRef, label_of

router = Router(tags=["me"])


class RoleOut(Schema):
    """角色 / A role held at a place or on a grid."""

    role: str = Field(description="角色 / role")
    role_label: str = Field(
        description="角色名称（按请求语言）/ role name in the caller's language"
    )
    place: PlaceRef | None = Field(description="角色所在地点 / the place the role is held at")
    grid: GridRef | None = Field(description="网格（网格员、网格长）/ grid, for grid roles")
    organisation: str = Field(description="所属单位 / organisation acted for")


class ScopeOut(Schema):
    """可见范围 / What one role reaches: these places and everything below them."""

    role: str
    place_codes: list[str] = Field(description="可见的地点编码 / codes of the places reached")
    everywhere: bool = Field(description="全部可见（系统管理员）/ reaches every place")


class UserOut(Schema):
    id: int
    username: str
    name: str
    display_name: str
    phone: str | None = Field(description="本人手机号 / the caller's own phone")
    preferred_language: str


class MeOut(Schema):
    """当前用户 / The caller, their roles and what those roles reach."""

    user: UserOut
    roles: list[RoleOut]
    scopes: list[ScopeOut]


@router.get(
    "",
    response={200: MeOut, 401: ErrorOut},
    summary="当前用户 / The caller",
    description="调用者本人、其角色及可见范围。/ The calling user, their roles and scopes.",
)
def me(request: HttpRequest):
    user = request.auth
    # Only the columns the answer shows: the places' and grids' whole rows as models cost
    # more than the rest of the request.
    assignments = roles_for(user=user).values_list(
        "role",
        "organisation",
        "place__code",
        "place__name",
        "place__kind",
        "grid__code",
        "grid__name",
    )
    roles = [
        {
            "role": role,
            "role_label": label_of(Role, role),
            "place": {"code": place_code, "name": place_name, "kind": place_kind}
            if place_code is not None
            else None,
            "grid": {"code": grid_code, "name": grid_name} if grid_code is not None else None,
            "organisation": organisation,
        }
        for role, organisation, place_code, place_name, place_kind, grid_code, grid_name in (
            assignments
        )
    ]
    scopes = [
        {"role": s.role, "place_codes": list(s.place_codes), "everywhere": s.everywhere}
        for s in scopes_for(user)
    ]
    return {"user": user, "roles": roles, "scopes": scopes}
