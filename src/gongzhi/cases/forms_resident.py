"""Forms of the resident's pages: the phone and code that stand in for an account, the
report, the follow-up rating and the complaint. They check input only; the services
decide (and a `ValidationFailed` they raise is put back on the field it names)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import phone_validator
from gongzhi.core.errors import ValidationFailed

from .models import Category, Satisfaction
from .questions import clean_answers

MAX_PHOTOS = 4
MAX_TEXT = 2000


class PhoneForm(forms.Form):
    """The first step without an account: the phone the code goes to."""

    phone = forms.CharField(
        label=_("手机号"),
        max_length=11,
        validators=[phone_validator],
        error_messages={"required": _("请填写手机号。")},
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "numeric"}
        ),
    )


class CodeForm(forms.Form):
    """The second step: the code from the text message, and for a phone new to the
    community what the workers should call the person."""

    code = forms.CharField(
        label=_("验证码"),
        min_length=6,
        max_length=6,
        error_messages={
            "required": _("请填写短信里的6位验证码。"),
            "min_length": _("验证码是6位数字。"),
            "max_length": _("验证码是6位数字。"),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )
    name = forms.CharField(
        label=_("怎么称呼您"),
        max_length=50,
        required=False,
        help_text=_("例如：王阿姨、李先生。工作人员联系您时使用。"),
    )

    def __init__(self, *args: Any, needs_name: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_name = needs_name
        if not needs_name:
            del self.fields["name"]

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name", "").strip()
        if self.needs_name and not name:
            raise ValidationError(_("请告诉我们怎么称呼您。"))
        return name


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to `max_count` pictures, each checked to be an image (Pillow opens it)."""

    widget = MultiplePhotoInput

    def __init__(self, *, max_count: int, **kwargs: Any) -> None:
        self.max_count = max_count
        super().__init__(required=False, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > self.max_count:
            raise ValidationError(
                _("照片最多 %(n)d 张，请少选几张。") % {"n": self.max_count}, code="too_many"
            )
        image = forms.ImageField()
        cleaned = []
        for upload in files:
            try:
                cleaned.append(image.clean(upload))
            except ValidationError:
                raise ValidationError(
                    _("“%(name)s”不是图片，请选择照片文件。") % {"name": upload.name},
                    code="invalid_image",
                ) from None
        return cleaned


def answer_field_name(category: Category, code: str) -> str:
    """The form field of one extra question of one category."""
    return f"q-{category.code}-{code}"


def _question_field(question: dict[str, Any]) -> forms.Field:
    """A form field for an Open311-style question, by its datatype. Never required here:
    only the chosen category's questions count, and `clean_answers` says which are
    missing."""
    label = question["label"]
    datatype = question["datatype"]
    choices = [(v["key"], v["name"]) for v in question.get("values", [])]
    if datatype == "number":
        return forms.DecimalField(
            label=label,
            required=False,
            widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            error_messages={"invalid": _("请填写数字。")},
        )
    if datatype == "datetime":
        return forms.DateTimeField(
            label=label,
            required=False,
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            error_messages={"invalid": _("请填写日期和时间。")},
        )
    if datatype == "text":
        return forms.CharField(
            label=label, required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
        )
    if datatype == "singlevaluelist":
        return forms.ChoiceField(
            label=label, required=False, choices=choices, widget=forms.RadioSelect
        )
    if datatype == "multivaluelist":
        return forms.MultipleChoiceField(
            label=label, required=False, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    return forms.CharField(label=label, required=False, max_length=200)


def _answer_value(value: Any) -> Any:
    """A cleaned form value in the shape `clean_answers` reads."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class ReportForm(forms.Form):
    """Report a problem: category, place (the resident's home or a shared place of the
    estate), text, photos, the category's extra questions, anonymity to the public."""

    category = forms.ChoiceField(
        label=_("遇到了什么问题"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请先选择问题类别。"),
            "invalid_choice": _("请从列表中选择问题类别。"),
        },
    )
    place = forms.ChoiceField(
        label=_("在哪里"),
        error_messages={
            "required": _("请选择问题发生的地点。"),
            "invalid_choice": _("请从列表中选择地点。"),
        },
    )
    text = forms.CharField(
        label=_("具体情况"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("请描述遇到的问题。"),
            "max_length": _("问题描述最多 %(limit_value)d 个字。"),
        },
    )
    photos = PhotosField(label=_("照片（可选，最多4张）"), max_count=MAX_PHOTOS)
    is_anonymous = forms.BooleanField(label=_("对外匿名"), required=False)
    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        categories: list[Category],
        home_places: list[tuple[str, str]],
        public_places: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.categories = {c.code: c for c in categories}
        self.fields["category"].choices = [(c.code, c.name) for c in categories]
        place_choices: list[Any] = [("", _("请选择地点"))]
        if home_places:
            place_choices.append((_("我的住址"), home_places))
        if public_places:
            place_choices.append((_("小区公共区域"), public_places))
        self.fields["place"].choices = place_choices
        # Every category's questions are on the page (the script shows only the chosen
        # one's); only the chosen category's answers are read.
        for category in categories:
            for question in category.questions:
                field = _question_field(question)
                # Shown as 必答 next to the label; enforced by `clean_answers`.
                field.must_answer = bool(question.get("required"))  # type: ignore[attr-defined]
                self.fields[answer_field_name(category, question["code"])] = field

    def question_fields(self, category: Category) -> list[forms.BoundField]:
        return [self[answer_field_name(category, q["code"])] for q in category.questions]

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise ValidationError(_("请描述遇到的问题。"))
        return text

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        category = self.categories.get(cleaned.get("category", ""))
        cleaned["category_obj"] = category
        cleaned["answers"] = {}
        if category is None or not category.questions:
            return cleaned
        raw = {}
        for question in category.questions:
            name = answer_field_name(category, question["code"])
            if name in self.errors:
                return cleaned
            raw[question["code"]] = _answer_value(cleaned.get(name))
        try:
            cleaned["answers"] = clean_answers(category.questions, raw)
        except ValidationFailed as error:
            self.add_service_error(error, category=category)
        return cleaned

    def add_service_error(self, error: ValidationFailed, *, category: Category | None) -> None:
        """Put a service's refusal on the field it is about, so the resident sees it there."""
        field = error.details.get("field")
        if category is not None and field in {q["code"] for q in category.questions}:
            self.add_error(answer_field_name(category, field), error.message)
        elif field in self.fields:
            self.add_error(field, error.message)
        else:
            self.add_error(None, error.message)


class FollowUpForm(forms.Form):
    """The resident's rating of a completed case: resolved first, then how satisfied."""

    resolved = forms.ChoiceField(
        label=_("问题解决了吗？"),
        choices=[("yes", _("解决了")), ("no", _("没有解决"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请先告诉我们问题解决了没有。")},
    )
    satisfaction = forms.ChoiceField(
        label=_("您对办理满意吗？"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意、基本满意或不满意。")},
    )
    note = forms.CharField(
        label=_("还想说的话（可选）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReopenForm(forms.Form):
    """A complaint about a finished case: it goes back to the handlers."""

    reason = forms.CharField(
        label=_("还有什么问题没解决？"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请说明还有什么问题。")},
    )
