"""`/categories`: what a case can be about, its extra questions and its time limits."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from gongzhi.accounts.models import Role
from gongzhi.api.errors import ErrorOut
from gongzhi.cases import selectors
from gongzhi.cases.models import Category, CategoryGroup, Policy
from gongzhi.core.clocks import ClockKind, TargetUnit
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.places.selectors import place_get

from .schemas import label_of

router = Router(tags=["categories"])


class TargetOut(Schema):
    """时限 / A target: an amount of a unit, counted on a clock."""

    amount: int
    unit: TargetUnit
    unit_label: str
    clock: ClockKind = Field(
        description="calendar 全天候 / service_hours 服务时段 / working 工作日"
    )
    clock_label: str


class TargetsOut(Schema):
    response: TargetOut = Field(description="响应时限 / respond within")
    completion: TargetOut = Field(description="办结时限 / complete within")
    preset: str = Field(description="所用预设 / preset in use, if any")
    community_override: bool = Field(
        description="该居民区的专门时限 / the community's own override"
    )


class QuestionValueOut(Schema):
    key: str
    name: str


class QuestionOut(Schema):
    """附加问题（Open311 属性格式）/ An extra question, in Open311 attribute form."""

    code: str
    label: str
    datatype: str = Field(
        description="string / number / datetime / text / singlevaluelist / multivaluelist"
    )
    required: bool
    values: list[QuestionValueOut] = Field(default_factory=list)


class CategoryOut(Schema):
    """诉求类别 / A category."""

    code: str
    name: str
    group: CategoryGroup
    group_label: str
    description: str
    keywords: list[str]
    requires_photo: bool = Field(description="办结须附照片 / completion needs a photo")
    questions: list[QuestionOut]
    lead_role: str = Field(description="主办角色 / role routed to as lead")
    lead_role_label: str
    co_handler_roles: list[str] = Field(description="协办角色 / co-handler roles")
    single_handler: bool = Field(description="小事专人管 / one responsible person")
    targets: TargetsOut | None = Field(description="时限；未设置时为空 / time limits, if set")


class CategoryQuery(Schema):
    community: str | None = Field(
        None,
        description="居民区编码：返回该居民区的时限 / a community code: its own time limits",
    )


def _target(policy: Policy, which: str) -> dict[str, Any]:
    unit = getattr(policy, f"{which}_unit")
    clock = getattr(policy, f"{which}_clock")
    return {
        "amount": getattr(policy, f"{which}_amount"),
        "unit": unit,
        "unit_label": label_of(TargetUnit, unit),
        "clock": clock,
        "clock_label": label_of(ClockKind, clock),
    }


def _targets(category: Category, community: Any) -> dict[str, Any] | None:
    try:
        policy = selectors.policy_for(category=category, community=community)
    except ValidationFailed:
        # A category an administrator has not given time limits yet: listed without them.
        return None
    return {
        "response": _target(policy, "response"),
        "completion": _target(policy, "completion"),
        "preset": policy.preset,
        "community_override": policy.community_id is not None,
    }


@router.get(
    "",
    response={200: list[CategoryOut], 401: ErrorOut, 422: ErrorOut},
    summary="诉求类别 / Categories",
    description=(
        "可上报的类别、附加问题和时限（默认，或指定居民区的）。/ The categories one can report,"
        " with their extra questions and time limits (default, or a community's own)."
    ),
)
def category_list(request: HttpRequest, query: Query[CategoryQuery]):
    community = None
    if query.community:
        try:
            community = place_get(user=request.auth, code=query.community)
        except NotFound:
            raise ValidationFailed(
                _("没有这个居民区。"), code="unknown_place", field="community"
            ) from None
        community = community.community
    return [
        {
            "code": category.code,
            "name": category.name,
            "group": category.group,
            "group_label": label_of(CategoryGroup, category.group),
            "description": category.description,
            "keywords": category.keywords,
            "requires_photo": category.requires_photo,
            "questions": category.questions,
            "lead_role": category.lead_role,
            "lead_role_label": label_of(Role, category.lead_role),
            "co_handler_roles": category.co_handler_roles,
            "single_handler": category.single_handler,
            "targets": _targets(category, community),
        }
        for category in selectors.categories_for_report()
    ]
