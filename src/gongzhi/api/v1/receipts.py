"""Receipts (受理回执): a report accepted by `POST /api/v1/cases` with
`Prefer: respond-async`, until and after the worker files it as a case.

The client keeps the token of the 202 answer (or follows its `Location`) and reads the
receipt here: `accepted` while it waits, `filed` with the case's number once the case
exists, `refused` with the reason if it could not be filed. Only the one who sent the
report can read it.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router

from gongzhi.api.errors import ErrorOut
from gongzhi.cases import selectors
from gongzhi.cases.models import ReceiptState, ReportReceipt

from .schemas import Answer, label_of

router = Router(tags=["cases"])


class RefusalOut(Answer):
    """未能登记的原因 / Why a receipt could not be filed."""

    code: str = Field(description="机器可读的原因 / a code for programs")
    message: str = Field(description="原因 / the reason, for people")


class ReceiptOut(Answer):
    """受理回执 / A receipt for an accepted report."""

    token: str = Field(description="回执号 / the receipt's token")
    state: str = Field(description="accepted 已受理 / filed 已登记 / refused 未能登记")
    state_label: str = Field(description="状态名称 / the state, for people")
    accepted_at: datetime = Field(description="受理时间，诉求时限由此起算 / when it was accepted")
    filed_at: datetime | None = Field(description="登记（或拒绝）时间 / when it was filed")
    case: str | None = Field(description="诉求编号（已登记时）/ the case number, once filed")
    case_url: str | None = Field(description="诉求的接口地址 / the case in this API")
    refusal: RefusalOut | None = Field(description="未能登记的原因 / why it was refused")
    url: str = Field(description="本回执的地址 / this receipt")


def receipt_answer(receipt: ReportReceipt) -> dict[str, Any]:
    """The receipt as its sender reads it (also the body of the 202 answer)."""
    number = receipt.case.number if receipt.case_id else None
    return {
        "token": receipt.token,
        "state": receipt.state,
        "state_label": label_of(ReceiptState, receipt.state),
        "accepted_at": receipt.accepted_at,
        "filed_at": receipt.filed_at,
        "case": number,
        "case_url": reverse("api-v1:case_detail", args=[number]) if number else None,
        "refusal": {"code": receipt.refusal_code, "message": receipt.refusal_message}
        if receipt.state == ReceiptState.REFUSED
        else None,
        "url": receipt_url(receipt),
    }


def receipt_url(receipt: ReportReceipt) -> str:
    return reverse("api-v1:receipt_detail", args=[receipt.token])


@router.get(
    "/{token}",
    response={200: ReceiptOut, 401: ErrorOut, 404: ErrorOut},
    summary="受理回执 / A receipt",
)
def receipt_detail(request: HttpRequest, token: str):
    return receipt_answer(selectors.report_receipt_get(user=request.auth, token=token))
