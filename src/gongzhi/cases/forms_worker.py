"""Forms of the worker pages: the inbox filters, one small form per case action, and the
fast entry of phone calls, walk-ins and reception-day cases.

Forms only read input; the services decide. Errors a service raises for a named field
are put back on that field by the views (`add_service_error`), so nothing typed is lost.
"""

import html
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.templatetags.escaping import escaped
from gongzhi.core.text import normalise
from gongzhi.places.models import Place, PlaceKind
from gongzhi.places.roster import segment_for
from gongzhi.places.selectors import place_get, places_search_for

from .models import Category, Channel, FollowUpMethod, HandlerStatus, Satisfaction
from .selectors import categories_for_report
from .services import MAX_NOTE, MAX_PHOTOS, MAX_TEXT, REPORTABLE_KINDS
from .states import CaseState

# The inbox's own state choices before the states themselves.
STATE_OPEN = "open"
STATE_ALL = "all"


def add_service_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names (an extra question's answer, say),
    or above the form."""
    name = error.details.get("field")
    for field in (name, f"answer_{name}"):
        if field and field in form.fields:
            form.add_error(field, str(error.message))
            return
    form.add_error(None, str(error.message))


# --- inbox ---------------------------------------------------------------------------------


class FlatSelect(forms.Select):
    """A select of plain options written in Python: the same markup as `forms.Select`
    without a template per option. The inbox's area filter lists a subdistrict's every
    community and grid (about 80 options), and its three selects took some 7 ms a page
    through the widget templates. The options are read from the choices as
    `ChoiceWidget.optgroups` reads them (the first option of the value is the selected
    one), without building its dictionary per option; grouped choices go Django's way."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        choices = list(self.choices)
        if self.allow_multiple_selected or any(
            isinstance(label, (list, tuple)) for _value, label in choices
        ):
            return super().render(name, value, attrs, renderer)
        chosen = set(self.format_value(value))
        options, found = [], False
        for option_value, label in choices:
            option_value = "" if option_value is None else option_value
            selected = not found and str(option_value) in chosen
            found = found or selected
            mark = " selected" if selected else ""
            options.append(
                f'<option value="{html.escape(str(option_value))}"{mark}>{escaped(label)}</option>'
            )
        return format_html(
            '<select name="{}"{}>\n{}\n</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            mark_safe("\n".join(options)),
        )


def _attrs_html(attrs: dict[str, Any]) -> str:
    """Attributes as Django's `attrs.html` writes them: in their order, `True` as the bare
    name, `False` left out."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FlatInput(forms.Widget):
    """An `<input>` written in Python, byte for byte as Django's `input.html` writes it:
    each of the inbox's five inputs took two templates a page."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
        return mark_safe(
            f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"'
            f"{shown}{_attrs_html(widget['attrs'])}>"
        )


class FlatTextInput(FlatInput, forms.TextInput):
    pass


class FlatDateInput(FlatInput, forms.DateInput):
    pass


class Checkbox(FlatInput, forms.CheckboxInput):
    """Named so that `BoundField.widget_type` is "checkbox" (from the class name), which
    `_field.html` asks for to put the box inside its label."""


class InboxFilterForm(forms.Form):
    """The inbox filters, read from the query string (a GET form that works without JS)."""

    state = forms.ChoiceField(label=_("状态"), required=False, widget=FlatSelect)
    category = forms.ChoiceField(label=_("类别"), required=False, widget=FlatSelect)
    area = forms.ChoiceField(label=_("居民区/网格"), required=False, widget=FlatSelect)
    place = forms.CharField(
        label=_("地点"),
        required=False,
        max_length=120,
        widget=FlatTextInput(attrs={"placeholder": _("楼号、房号或编码")}),
    )
    mine = forms.BooleanField(label=_("只看我的"), required=False, widget=Checkbox)
    overdue = forms.BooleanField(label=_("只看超时"), required=False, widget=Checkbox)
    reported_from = forms.DateField(
        label=_("上报日期从"), required=False, widget=FlatDateInput(attrs={"type": "date"})
    )
    reported_to = forms.DateField(
        label=_("至"), required=False, widget=FlatDateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, communities=(), grids=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            (STATE_OPEN, _("未办结")),
            (CaseState.COMPLETED.value, _("已办结待回访")),
            (STATE_ALL, _("全部")),
            *[(s.value, s.label) for s in CaseState if s != CaseState.COMPLETED],
        ]
        # One query for both the options and the check of the chosen one; the name is all
        # an option shows and the filter needs the key alone (a category's questions and
        # keywords are JSON, decoded for each of them on every inbox page otherwise).
        self.categories = {str(c.pk): c for c in categories_for_report().only("name")}
        self.fields["category"].choices = [
            ("", _("全部类别")),
            *[(pk, c.name) for pk, c in self.categories.items()],
        ]
        self.fields["area"].choices = [
            ("", _("全部")),
            *[(f"p:{c.code}", c.name) for c in communities],
            *[(f"g:{g.pk}", f"{g.community.name} · {g.name}") for g in grids],
        ]

    def clean_category(self) -> Category | None:
        return self.categories.get(self.cleaned_data["category"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("reported_from"), data.get("reported_to")
        if start and end and start > end:
            self.add_error("reported_to", _("结束日期不能早于开始日期。"))
        return data


def day_start(day) -> datetime:
    """Local midnight at the start of `day`, as an aware instant."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(day) -> datetime:
    """Local midnight after `day` (the range's end is exclusive)."""
    return day_start(day + timedelta(days=1))


# --- case actions --------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one file input (the services check they are images)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("照片最多 %(n)d 张。") % {"n": MAX_PHOTOS})
        return [super(PhotosField, self).clean(f, initial) for f in files]


def _note(label, *, required: bool = False, limit: int = MAX_NOTE) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _line(label, *, required: bool = True, limit: int = 200, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=limit, widget=forms.TextInput(attrs=attrs)
    )


class ActionForm(forms.Form):
    """Every action carries the case version the page showed, so a stale page is refused
    (`Conflict`) instead of overwriting someone else's change."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NoteForm(ActionForm):
    note = _note(_("说明（可不填）"))


class ReasonForm(ActionForm):
    reason = _line(_("原因"))


class PauseForm(ActionForm):
    reason = _line(_("挂起原因"), placeholder=_("例如：等待居民在家时上门"))


class CompleteForm(ActionForm):
    note = _note(_("办结说明"), required=True)
    photos = PhotosField(label=_("现场照片"), required=False)

    def __init__(self, *args: Any, category: Category | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if category is not None and category.requires_photo:
            photos = self.fields["photos"]
            photos.required = True
            photos.label = _("现场照片（该类别必须上传）")
            photos.error_messages["required"] = _("“%(category)s”办结时须上传现场照片。") % {
                "category": category.name
            }


class FollowUpForm(ActionForm):
    resolved = forms.TypedChoiceField(
        label=_("问题是否已解决（按居民原话）"),
        choices=[("yes", _("已解决")), ("no", _("未解决"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    satisfaction = forms.ChoiceField(
        label=_("满意度"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    method = forms.ChoiceField(
        label=_("回访方式"),
        choices=[
            (FollowUpMethod.PHONE.value, FollowUpMethod.PHONE.label),
            (FollowUpMethod.VISIT.value, FollowUpMethod.VISIT.label),
        ],
        initial=FollowUpMethod.PHONE.value,
        widget=forms.RadioSelect,
    )
    note = _note(_("回访记录（可不填）"))


class MergeForm(ActionForm):
    into = _line(_("并入诉求编号"), limit=40, placeholder="HQXC-20261127-0001")
    note = _note(_("说明（可不填）"))

    def clean_into(self) -> str:
        return self.cleaned_data["into"].strip().upper()


class DeclineForm(ActionForm):
    reason = _line(_("不予受理原因"))
    referral = _line(
        _("转介去向"), required=False, limit=100, placeholder=_("例如：12345市民服务热线")
    )


class ToTopicForm(ActionForm):
    note = _note(_("转议题理由"), required=True, limit=200)


class UserChoiceForm(ActionForm):
    """An action that names a person from the case's handler candidates."""

    to = forms.TypedChoiceField(label=_("经办人"), coerce=int)

    def __init__(self, *args: Any, candidates=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {c.user.pk: c.user for c in candidates}
        self.fields["to"].choices = [
            ("", _("请选择")),
            *[(c.user.pk, f"{c.user.display_name}（{'、'.join(c.roles)}）") for c in candidates],
        ]

    def chosen(self):
        return self.candidates[self.cleaned_data["to"]]


class AssignForm(UserChoiceForm):
    note = _note(_("说明（可不填）"))


class TransferForm(UserChoiceForm):
    reason = _line(_("移交原因"))


class CoHandlerForm(UserChoiceForm):
    task = _line(_("协办任务"), placeholder=_("例如：物业负责更换管道"))


class AcceptTransferForm(ActionForm):
    decision = forms.ChoiceField(
        choices=[("accept", _("接收")), ("refuse", _("不接收"))], widget=forms.HiddenInput
    )
    reason = _line(_("不接收的原因"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "refuse" and not data.get("reason"):
            self.add_error("reason", _("请说明不接收的原因。"))
        return data


class ExcludeForm(ActionForm):
    reason = _line(_("不计入统计的原因"), placeholder=_("例如：测试数据、恶意重复上报"))


class HandlerUpdateForm(ActionForm):
    handler = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("进展"), choices=HandlerStatus.choices)
    note = _line(_("进展说明（可不填）"), required=False)


# --- fast entry ------------------------------------------------------------------------

_NUMBER = r"[0-9零〇一二两三四五六七八九十百]+"
# "12号楼1201", "12幢3单元1201室", "12-1201": a building, maybe an entrance, a door.
_ADDRESS = re.compile(
    rf"^第?(?P<building>{_NUMBER})(?:号楼|号|幢|栋|座|-)"
    rf"(?:第?(?P<entrance>{_NUMBER})(?:单元|门)-?)?"
    rf"(?P<door>[0-9]+)(?:室|户|号)?$"
)


# A full place code as printed on a roster: segments joined by dashes.
_CODE = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+$")


def place_search_text(text: str) -> str:
    """What the place search should look for: an address a worker types the way residents
    say it ("12号楼1201") becomes the code segments it implies ("B12 1201"); anything
    else is searched as typed."""
    compact = normalise(text or "").replace(" ", "")
    match = _ADDRESS.match(compact)
    if match is None:
        return (text or "").strip()
    words = [segment_for(PlaceKind.BUILDING, match["building"] + "号楼")]
    if match["entrance"]:
        words.append(segment_for(PlaceKind.ENTRANCE, match["entrance"] + "单元"))
    words.append(segment_for(PlaceKind.DWELLING, match["door"]))
    return " ".join(w for w in words if w)


def place_candidates(*, user: Any, text: str, limit: int = 12) -> list[Place]:
    """Places a report could be entered at that match `text` (a code, a name, or an
    address such as "12号楼1201"), exact matches of the address first."""
    text = (text or "").strip()
    if not text:
        return []
    if _CODE.match(text):
        try:
            return [place_get(user=user, code=text)]
        except NotFound:
            pass
    query = place_search_text(text)
    segments = query.split() if query != text else []
    found = [p for p in places_search_for(user=user, text=query) if p.kind in REPORTABLE_KINDS]
    if segments:
        # "B12 1201" also matches B120's door 1201: the exact segments come first.
        def exact(place: Place) -> bool:
            parts = place.code.split("-")
            return parts[-1] == segments[-1] and all(s in parts for s in segments[:-1])

        found.sort(key=lambda p: (not exact(p), p.depth))
        if found and exact(found[0]) and not (len(found) > 1 and exact(found[1])):
            return found[:1]
    return found[:limit]


@dataclass(frozen=True)
class PlaceChoice:
    """Where an entered report is: the place once one is settled, else the candidates to
    pick from and what to tell the worker."""

    place: Place | None
    options: list[Place]
    error: str = ""


def entry_place(*, user: Any, code: str = "", query: str = "") -> PlaceChoice:
    """The place picked on the entry form: the chosen code, or the only match of what
    was typed; several matches are offered as a choice."""
    code = (code or "").strip()
    if code:
        try:
            return PlaceChoice(place=place_get(user=user, code=code), options=[])
        except NotFound:
            return PlaceChoice(place=None, options=[], error=str(_("找不到该地点，请重新选择。")))
    options = place_candidates(user=user, text=query)
    if len(options) == 1:
        return PlaceChoice(place=options[0], options=options)
    if options:
        return PlaceChoice(
            place=None, options=options, error=str(_("匹配到多个地点，请从候选中选择一个。"))
        )
    if (query or "").strip():
        return PlaceChoice(place=None, options=[], error=str(_("没有找到该地点，请换个写法。")))
    return PlaceChoice(place=None, options=[], error=str(_("请输入并选择地点。")))


class EntryForm(forms.Form):
    """A report entered by a worker for a caller, a visitor or a resident (代居民上报)."""

    channel = forms.ChoiceField(
        label=_("渠道"),
        choices=[
            (c.value, c.label) for c in (Channel.PHONE, Channel.WALK_IN, Channel.RECEPTION_DAY)
        ],
        initial=Channel.PHONE.value,
        widget=forms.RadioSelect,
    )
    place_query = forms.CharField(
        label=_("地点"),
        required=False,
        max_length=120,
        help_text=_("输入房号，如“1号楼101”，或地点名称、编码，再从候选中选择。"),
        widget=forms.TextInput(attrs={"autofocus": True, "accesskey": "p", "autocomplete": "off"}),
    )
    place = forms.CharField(required=False, max_length=120)
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=Category.objects.none(),
        empty_label=_("请选择类别"),
        widget=forms.Select(attrs={"accesskey": "c"}),
    )
    text = forms.CharField(
        label=_("问题描述"),
        max_length=MAX_TEXT,
        help_text=_("Ctrl+Enter 保存。"),
        widget=forms.Textarea(attrs={"rows": 3, "accesskey": "t"}),
    )
    reporter = forms.TypedChoiceField(
        label=_("反映人"), required=False, coerce=int, empty_value=None
    )
    contact_name = forms.CharField(
        label=_("来电人/来访人姓名"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"accesskey": "n", "autocomplete": "off"}),
    )
    contact_phone = forms.CharField(
        label=_("联系电话"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off", "accesskey": "m"}
        ),
    )
    is_anonymous = forms.BooleanField(label=_("对外匿名（经办人仍可看到反映人）"), required=False)
    # One key per form shown: pressing Enter twice, or resending after a timeout, finds
    # the case made the first time instead of making a second one.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, *args: Any, spot: PlaceChoice, reporters=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spot = spot
        self.reporters = list(reporters)
        self.fields["category"].queryset = categories_for_report()
        self.fields["reporter"].choices = [
            ("", _("来电人/来访人（无账号）")),
            *[(r.pk, r.display_name) for r in self.reporters],
        ]
        self.category_obj = self._category_from_data()
        self.questions = list(self.category_obj.questions) if self.category_obj else []
        for question in self.questions:
            self.fields[f"answer_{question['code']}"] = question_field(question)

    def _category_from_data(self) -> Category | None:
        raw = self.data.get("category") if self.is_bound else self.initial.get("category")
        if isinstance(raw, Category):
            return raw
        try:
            return self.fields["category"].queryset.filter(pk=int(raw)).first() if raw else None
        except (TypeError, ValueError):
            return None

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[f"answer_{q['code']}"] for q in self.questions]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.spot.error:
            self.add_error("place_query", self.spot.error)
        reporter = data.get("reporter")
        if reporter is not None and reporter not in {r.pk for r in self.reporters}:
            self.add_error("reporter", _("请从该地点的居民中选择。"))
        if reporter is None and not (data.get("contact_name") or data.get("contact_phone")):
            self.add_error("contact_name", _("请填写反映人的姓名或联系电话，或选择本户居民。"))
        return data

    def chosen_reporter(self):
        reporter = self.cleaned_data.get("reporter")
        return next((r for r in self.reporters if r.pk == reporter), None)

    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for question in self.questions:
            value = self.cleaned_data.get(f"answer_{question['code']}")
            if value not in (None, "", []):
                answers[question["code"]] = value
        return answers


def question_field(question: dict[str, Any]) -> forms.Field:
    """A form field for one of a category's extra questions (Open311 attribute shape)."""
    label, required = question["label"], bool(question.get("required"))
    datatype = question["datatype"]
    choices = [(v["key"], v["name"]) for v in question.get("values", [])]
    field = _question_field(datatype, label, required, choices)
    field.error_messages["required"] = _("请回答：%(label)s") % {"label": label}
    return field


def _question_field(
    datatype: str, label: str, required: bool, choices: list[tuple[str, str]]
) -> forms.Field:
    if datatype == "singlevaluelist":
        return forms.ChoiceField(label=label, required=required, choices=[("", "—"), *choices])
    if datatype == "multivaluelist":
        return forms.MultipleChoiceField(
            label=label, required=required, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    if datatype == "number":
        return forms.DecimalField(
            label=label, required=required, widget=forms.NumberInput(attrs={"inputmode": "decimal"})
        )
    if datatype == "datetime":
        return AwareDateTimeField(
            label=label,
            required=required,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        )
    if datatype == "text":
        return forms.CharField(
            label=label, required=required, widget=forms.Textarea(attrs={"rows": 2})
        )
    return forms.CharField(label=label, required=required, max_length=200)


class AwareDateTimeField(forms.DateTimeField):
    """A local date and time from the browser, answered as an ISO string with its zone."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def clean(self, value: Any) -> Any:
        moment = super().clean(value)
        return timezone.localtime(moment).isoformat() if moment else None
