"""A category's extra questions and the answers a report gives to them. Pure: no database.

Questions use the attribute shape of Open311 GeoReport v2 (`code`, `datatype`, `required`,
`values` of `{key, name}`), so the same definition drives the report page, the API and
Open311's service definitions. A category's questions are checked when it is saved, and
every report's answers are checked against them, so a stored answer always fits.
"""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.core.errors import ValidationFailed

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = frozenset({"singlevaluelist", "multivaluelist"})
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_QUESTIONS = 20
MAX_STRING = 200
MAX_TEXT = 2000


def clean_questions(raw: Any) -> list[dict[str, Any]]:
    """The questions in their canonical form, or `ValidationFailed` saying what is wrong."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise _invalid(_("附加问题必须是一个列表。"))
    if len(raw) > MAX_QUESTIONS:
        raise _invalid(_("附加问题最多 %(n)d 个。") % {"n": MAX_QUESTIONS})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise _invalid(_("第 %(i)d 个问题格式不正确。") % {"i": index})
        unknown = set(item) - {"code", "label", "datatype", "required", "values"}
        if unknown:
            raise _invalid(
                _("第 %(i)d 个问题含有不认识的字段：%(f)s")
                % {"i": index, "f": "、".join(sorted(unknown))}
            )
        code = str(item.get("code", "")).strip()
        if not _CODE.match(code):
            raise _invalid(
                _("第 %(i)d 个问题的代码须以小写字母开头，只含小写字母、数字和下划线。")
                % {"i": index}
            )
        if code in seen:
            raise _invalid(_("问题代码 %(c)s 重复。") % {"c": code})
        seen.add(code)
        label = str(item.get("label", "")).strip()
        if not label:
            raise _invalid(_("问题 %(c)s 缺少题目。") % {"c": code})
        datatype = item.get("datatype")
        if datatype not in DATATYPES:
            raise _invalid(
                _("问题 %(c)s 的类型须为 %(t)s 之一。") % {"c": code, "t": ", ".join(DATATYPES)}
            )
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise _invalid(_("问题 %(c)s 的“必填”须为是或否。") % {"c": code})
        values = _clean_values(code, datatype, item.get("values") or [])
        cleaned.append(
            {"code": code, "label": label, "datatype": datatype, "required": required}
            | ({"values": values} if values else {})
        )
    return cleaned


def _clean_values(code: str, datatype: str, raw: Any) -> list[dict[str, str]]:
    if datatype not in LIST_DATATYPES:
        if raw:
            raise _invalid(_("问题 %(c)s 不是选择题，不能设置选项。") % {"c": code})
        return []
    if not isinstance(raw, list) or not raw:
        raise _invalid(_("选择题 %(c)s 至少需要一个选项。") % {"c": code})
    values: list[dict[str, str]] = []
    keys: set[str] = set()
    for value in raw:
        if not isinstance(value, dict):
            raise _invalid(_("选择题 %(c)s 的选项格式不正确。") % {"c": code})
        key = str(value.get("key", "")).strip()
        name = str(value.get("name", "")).strip()
        if not _KEY.match(key) or not name:
            raise _invalid(_("选择题 %(c)s 的每个选项都需要键和名称。") % {"c": code})
        if key in keys:
            raise _invalid(_("选择题 %(c)s 的选项 %(k)s 重复。") % {"c": code, "k": key})
        keys.add(key)
        values.append({"key": key, "name": name})
    return values


def clean_answers(questions: list[dict[str, Any]], raw: Any) -> dict[str, Any]:
    """The answers in canonical form (numbers as numbers, times as ISO strings with zone),
    or `ValidationFailed` naming the question at fault."""
    answers = raw or {}
    if not isinstance(answers, dict):
        raise _bad_answer(_("附加问题的回答格式不正确。"))
    by_code = {q["code"]: q for q in questions}
    unknown = set(answers) - set(by_code)
    if unknown:
        raise _bad_answer(
            _("该类别没有这些问题：%(c)s") % {"c": "、".join(sorted(map(str, unknown)))}
        )
    cleaned: dict[str, Any] = {}
    for question in questions:
        code = question["code"]
        value = answers.get(code)
        if value is None or value == "" or value == []:
            if question.get("required"):
                raise _bad_answer(_("请回答：%(label)s") % {"label": question["label"]}, field=code)
            continue
        cleaned[code] = _clean_answer(question, value)
    return cleaned


def _clean_answer(question: dict[str, Any], value: Any) -> Any:
    code, label, datatype = question["code"], question["label"], question["datatype"]
    if datatype in {"string", "text"}:
        if not isinstance(value, str):
            raise _bad_answer(_("“%(label)s”须填写文字。") % {"label": label}, field=code)
        limit = MAX_STRING if datatype == "string" else MAX_TEXT
        text = value.strip()
        if len(text) > limit:
            raise _bad_answer(
                _("“%(label)s”最多 %(n)d 个字。") % {"label": label, "n": limit}, field=code
            )
        return text
    if datatype == "number":
        if isinstance(value, bool):
            raise _bad_answer(_("“%(label)s”须填写数字。") % {"label": label}, field=code)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _bad_answer(_("“%(label)s”须填写数字。") % {"label": label}, field=code) from None
        if not number.is_finite():
            raise _bad_answer(_("“%(label)s”须填写数字。") % {"label": label}, field=code)
        return int(number) if number == number.to_integral_value() else float(number)
    if datatype == "datetime":
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise _bad_answer(
                _("“%(label)s”须填写日期时间。") % {"label": label}, field=code
            ) from None
        if moment.tzinfo is None:
            raise _bad_answer(_("“%(label)s”的时间须带时区。") % {"label": label}, field=code)
        return moment.isoformat()
    keys = {v["key"] for v in question.get("values", [])}
    if datatype == "singlevaluelist":
        if not isinstance(value, str) or value not in keys:
            raise _bad_answer(_("“%(label)s”请从选项中选择。") % {"label": label}, field=code)
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) and v in keys for v in value):
        raise _bad_answer(_("“%(label)s”请从选项中选择。") % {"label": label}, field=code)
    # Keep the options' own order so equal answers compare equal.
    chosen = set(value)
    return [v["key"] for v in question["values"] if v["key"] in chosen]


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_questions")


def _bad_answer(message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_answers", **details)
