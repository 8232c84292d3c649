"""`/rates`: the response, completion, resolution and satisfaction rates (rules §3)."""

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from gongzhi.api.errors import ErrorOut
from gongzhi.cases import selectors
from gongzhi.cases.selectors import RateFigures
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.places.selectors import place_get

router = Router(tags=["rates"])

DEFAULT_SPAN = timedelta(days=30)


class FiguresOut(Schema):
    """计数与比率（无应答从不计为解决或满意）/ Counts and rates (no answer never counts as
    resolved or satisfied); a rate is null when nothing was due."""

    reported: int
    due_response: int
    responded_in_time: int
    due_completion: int
    completed_in_time: int
    reopened: int
    follow_ups_answered: int
    resolved: int
    satisfied: int = Field(description="满意 + 基本满意 / satisfied + basically satisfied")
    unsatisfied: int
    no_answer: int
    excluded: int = Field(description="经审计排除的诉求 / cases excluded with a recorded reason")
    response_rate: float | None = Field(description="按时响应率 / responded in time / due")
    completion_rate: float | None = Field(description="按时办结率 / completed in time / due")
    resolution_rate: float | None = Field(description="解决率 / resolved / answered")
    satisfaction_rate: float | None = Field(description="满意率 / satisfied / answered")


class PeriodOut(FiguresOut):
    period: date = Field(description="周期首日 / first day of the period")


class GroupOut(FiguresOut):
    key: int
    label: str


class RatesOut(Schema):
    start: datetime
    end: datetime
    total: FiguresOut
    series: list[PeriodOut] = Field(description="按周期 / over time, when bucket is given")
    breakdown: list[GroupOut] = Field(description="按分组 / per group, when breakdown is given")


class RatesQuery(Schema):
    start: datetime | None = Field(None, description="起（含），默认 30 天前 / from (30 days ago)")
    end: datetime | None = Field(None, description="止（不含），默认现在 / to, exclusive (now)")
    place: str | None = Field(None, description="地点编码 / place code: it and below")
    category: str | None = Field(None, description="类别代码 / category code")
    bucket: Literal["day", "week", "month"] | None = Field(None, description="趋势周期 / trend")
    breakdown: Literal["category", "community"] | None = Field(None, description="分组 / group")


def _figures(figures: RateFigures) -> dict[str, Any]:
    return {
        **asdict(figures),
        "response_rate": figures.response_rate,
        "completion_rate": figures.completion_rate,
        "resolution_rate": figures.resolution_rate,
        "satisfaction_rate": figures.satisfaction_rate,
    }


def _aware(moment: datetime) -> datetime:
    aware = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    try:
        # In UTC: Python allows offsets up to ±23:59, PostgreSQL only up to ±15:59.
        return aware.astimezone(UTC)
    except OverflowError:  # 0001-01-01 at +23:00 is before the year 1 in UTC
        raise ValidationFailed(_("时间超出范围。"), code="datetime_out_of_range") from None


@router.get(
    "",
    response={200: RatesOut, 401: ErrorOut, 422: ErrorOut},
    summary="三率 / Rates",
    description=(
        "调用者工作或督办范围内的响应率、解决率、满意率，只据时间戳和居民回答计算；不对个人排名。"
        " / Response, resolution and satisfaction rates over the caller's staff or supervisor"
        " scope, from timestamps and residents' answers only; individuals are never ranked."
    ),
)
def rates(request: HttpRequest, query: Query[RatesQuery]):
    user = request.auth
    end = _aware(query.end) if query.end else timezone.now()
    start = _aware(query.start) if query.start else end - DEFAULT_SPAN
    if start >= end:
        raise ValidationFailed(_("开始时间须早于结束时间。"), code="invalid_range", field="start")
    place = None
    if query.place:
        try:
            place = place_get(user=user, code=query.place)
        except NotFound:
            raise ValidationFailed(
                _("没有这个地点。"), code="unknown_place", field="place"
            ) from None
    category = None
    if query.category:
        category = selectors.categories_for_report().filter(code=query.category).first()
        if category is None:
            raise ValidationFailed(_("没有这个类别。"), code="unknown_category", field="category")
    result = selectors.case_rates_for(
        user=user,
        start=start,
        end=end,
        place=place,
        category=category,
        bucket=query.bucket,
        breakdown=query.breakdown,
    )
    return {
        "start": start,
        "end": end,
        "total": _figures(result.total),
        "series": [{"period": day, **_figures(figures)} for day, figures in result.series],
        "breakdown": [
            {"key": row.key, "label": row.label, **_figures(row.figures)}
            for row in result.breakdown
        ],
    }
