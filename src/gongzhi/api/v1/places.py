"""`/places`: one node of the place tree and its children, as far as the caller may see."""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from gongzhi.api.errors import ErrorOut
from gongzhi.places import selectors
from gongzhi.places.models import PlaceKind

from .schemas import Page, label_of

router = Router(tags=["places"])


class CrumbOut(Schema):
    code: str
    name: str
    kind: str
    visible: bool = Field(description="调用者可否打开 / whether the caller may open it")


class PlaceOut(Schema):
    """地点 / A place: any node of district → … → dwelling."""

    code: str = Field(description="地点编码（物化路径）/ place code, a materialised path")
    name: str
    kind: str = Field(description="类型 / kind")
    kind_label: str = Field(description="类型名称（按请求语言）/ kind in the caller's language")
    parent_code: str | None = Field(description="上级编码 / parent's code")
    community_code: str | None = Field(description="所属居民区编码 / community's code")
    address: str
    latitude: float | None
    longitude: float | None

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return label_of(PlaceKind, obj.kind)

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_community_code(obj) -> str | None:
        return obj.community.code if obj.community_id else None


class PlaceDetailOut(PlaceOut):
    breadcrumb: list[CrumbOut] = Field(
        description="从根到本地点的上级 / ancestors from the root down to this place"
    )


class ChildOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    children_count: int = Field(description="下级数量 / number of children")

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return label_of(PlaceKind, obj.kind)


class ChildrenOut(Page):
    items: list[ChildOut]


class PageQuery(Schema):
    limit: int = Field(100, ge=1, le=500, description="每页条数 / page size")
    offset: int = Field(0, ge=0, description="起始位置 / offset")


@router.get(
    "/{code}",
    response={200: PlaceDetailOut, 401: ErrorOut, 404: ErrorOut},
    summary="地点详情 / A place",
    description=(
        "调用者可见范围内的地点；范围外与不存在一样返回 404。"
        " / A place within the caller's reach; outside it answers 404 as if it did not exist."
    ),
)
def place_detail(request: HttpRequest, code: str):
    place = selectors.place_get(user=request.auth, code=code)
    place.breadcrumb = selectors.place_breadcrumb_for(user=request.auth, place=place)
    return place


@router.get(
    "/{code}/children",
    response={200: ChildrenOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="下级地点 / Children of a place",
    description=(
        "调用者可见的直接下级，按排序。/ The place's direct children the caller may see, in order."
    ),
)
def place_children(request: HttpRequest, code: str, page: Query[PageQuery]):
    place = selectors.place_get(user=request.auth, code=code)
    children = selectors.place_children_for(user=request.auth, place=place)
    return {
        "count": children.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": list(children[page.offset : page.offset + page.limit]),
    }
