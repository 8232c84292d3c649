"""Forms of the consultation pages. They only read and check what was typed; the services
decide. A service's refusal is put back on the form (`add_service_error`) so nothing the
user typed is lost."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError

from .models import (
    Attendance,
    ConvenerKind,
    Eligibility,
    FundingSource,
    MeetingKind,
    MilestoneStatus,
    OnePer,
    QuestionKind,
    ResolutionOutcome,
    SurveyKind,
)
from .tally import BallotChannel, BallotChoice, Item

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def add_service_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names, else at the top of the form."""
    field = error.details.get("field") if isinstance(error.details, dict) else None
    target = field if isinstance(field, str) and field in form.fields else None
    form.add_error(target, str(error.message))


class TopicForm(forms.Form):
    community = forms.TypedChoiceField(label=_("居民区"), coerce=int)
    estate = forms.TypedChoiceField(
        label=_("小区"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("涉及某个小区（例如须业主表决）时请选择。"),
    )
    title = forms.CharField(label=_("议题"), max_length=100)
    description = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, communities, estates, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [(c.pk, c.name) for c in communities]
        self.fields["estate"].choices = [("", _("不限小区（整个居民区）"))] + [
            (e.pk, f"{e.parent.name} · {e.name}") for e in estates
        ]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class MoveForm(NoteForm):
    action = forms.CharField(widget=forms.HiddenInput)


class DeclineForm(forms.Form):
    note = forms.CharField(
        label=_("不予立项的理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class FromCasesForm(forms.Form):
    title = forms.CharField(label=_("议题"), max_length=100)
    note = forms.CharField(label=_("转议题说明（告知反映人）"), max_length=200)
    cases = forms.CharField(widget=forms.HiddenInput)

    def numbers(self) -> list[str]:
        return [n for n in self.cleaned_data["cases"].split(",") if n]


class LinkCaseForm(forms.Form):
    number = forms.CharField(label=_("诉求编号"), max_length=40)
    note = forms.CharField(label=_("转议题说明（告知反映人）"), max_length=200)


def _fraction(text: str) -> Fraction:
    cleaned = (text or "").strip().replace("／", "/")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
        try:
            return Fraction(Decimal(cleaned)) / 100
        except ArithmeticError as exc:
            raise forms.ValidationError(_("请填写如 2/3 或 50% 的门槛。")) from exc
    try:
        value = Fraction(cleaned)
    except (ValueError, ZeroDivisionError) as exc:
        raise forms.ValidationError(_("请填写如 2/3 或 50% 的门槛。")) from exc
    if not 0 <= value <= 1:
        raise forms.ValidationError(_("门槛须在 0 与 1 之间。"))
    return value


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=[
            (SurveyKind.SURVEY, SurveyKind.SURVEY.label),
            (SurveyKind.POLL, SurveyKind.POLL.label),
        ],
        widget=forms.RadioSelect,
        initial=SurveyKind.SURVEY,
    )
    place = forms.TypedChoiceField(label=_("范围"), coerce=int)
    eligibility = forms.ChoiceField(
        label=_("谁可以填写"), choices=Eligibility.choices, initial=Eligibility.RESIDENTS
    )
    one_per = forms.ChoiceField(
        label=_("填写份数"),
        choices=OnePer.choices,
        initial=OnePer.DWELLING,
        widget=forms.RadioSelect,
    )
    closes_at = forms.DateTimeField(
        label=_("截止时间"), required=False, widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    quorum = forms.CharField(
        label=_("参与门槛（民意投票）"),
        required=False,
        initial="1/2",
        help_text=_("参与人数占有资格人数的比例，如 1/2 或 50%。"),
    )
    majority = forms.CharField(
        label=_("通过门槛（民意投票）"),
        required=False,
        initial="1/2",
        help_text=_("得票最多的选项占答卷的比例须超过该值。"),
    )
    majority_inclusive = forms.BooleanField(label=_("达到门槛即通过（含本数）"), required=False)

    def __init__(self, *args: Any, places, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.pk, label) for p, label in places]

    def clean_quorum(self) -> Fraction:
        return _fraction(self.cleaned_data.get("quorum") or "0")

    def clean_majority(self) -> Fraction:
        return _fraction(self.cleaned_data.get("majority") or "1/2")


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("题型"), choices=QuestionKind.choices)
    text = forms.CharField(label=_("题目"), max_length=200, required=False)
    options = forms.CharField(
        label=_("选项（每行一个）"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    scale_max = forms.IntegerField(label=_("最高分"), min_value=2, max_value=10, initial=5)
    required = forms.BooleanField(label=_("必答"), required=False, initial=True)


QuestionFormSet = forms.formset_factory(QuestionForm, extra=4, max_num=30)


class AnswerForm(forms.Form):
    """Built from the survey's questions; field names are q<question pk>."""

    def __init__(self, *args: Any, questions, places=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(places) > 1:
            self.fields["place"] = forms.TypedChoiceField(
                label=_("代表哪一户填写"),
                coerce=int,
                choices=[(p.pk, label) for p, label in places],
                widget=forms.RadioSelect,
            )
        for q in questions:
            name = f"q{q.pk}"
            label = f"{q.position}. {q.text}"
            if q.kind == QuestionKind.SINGLE:
                field = forms.TypedChoiceField(
                    label=label,
                    coerce=int,
                    choices=list(enumerate(q.options)),
                    widget=forms.RadioSelect,
                )
            elif q.kind == QuestionKind.MULTIPLE:
                field = forms.TypedMultipleChoiceField(
                    label=label,
                    coerce=int,
                    choices=list(enumerate(q.options)),
                    widget=forms.CheckboxSelectMultiple,
                )
            elif q.kind == QuestionKind.SCALE:
                field = forms.TypedChoiceField(
                    label=label,
                    coerce=int,
                    choices=[(n, str(n)) for n in range(q.scale_min, q.scale_max + 1)],
                    widget=forms.RadioSelect,
                    help_text=_("%(a)d 分最低，%(b)d 分最高")
                    % {"a": q.scale_min, "b": q.scale_max},
                )
            else:
                field = forms.CharField(
                    label=label, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
                )
            field.required = q.required
            self.fields[name] = field

    def answers(self) -> dict[int, Any]:
        return {
            int(name[1:]): value
            for name, value in self.cleaned_data.items()
            if name.startswith("q")
        }


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("会议类型"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("会议名称"), max_length=100)
    starts_at = forms.DateTimeField(
        label=_("时间"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    location = forms.CharField(label=_("地点"), max_length=100)
    agenda = forms.CharField(label=_("议程"), widget=forms.Textarea(attrs={"rows": 5}))
    invitees = forms.TypedMultipleChoiceField(
        label=_("邀请（三方及工作人员）"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    experts = forms.CharField(
        label=_("专家（每行：姓名，单位）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    partners = forms.CharField(
        label=_("赋能伙伴（每行：姓名，单位）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    residents = forms.CharField(
        label=_("居民代表（每行：姓名）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, candidates, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invitees"].choices = [
            (i, label) for i, (label, _p, _u) in enumerate(candidates)
        ]


def lines(text: str) -> list[tuple[str, str]]:
    """ "姓名，单位" lines as (name, organisation)."""
    rows = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.replace("，", ",").split(",", 1)]
        if parts and parts[0]:
            rows.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return rows


class RecordForm(forms.Form):
    minutes = forms.CharField(label=_("会议纪要"), widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args: Any, invitations, resolutions=3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for invitation in invitations:
            self.fields[f"a{invitation.pk}"] = forms.ChoiceField(
                label=f"{invitation.get_party_display()} · {invitation.name}",
                choices=Attendance.choices,
                initial=invitation.attendance,
            )
        for i in range(1, resolutions + 1):
            self.fields[f"r{i}_text"] = forms.CharField(
                label=_("决议 %(n)d") % {"n": i},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"r{i}_outcome"] = forms.ChoiceField(
                label=_("决议 %(n)d 结果") % {"n": i}, choices=ResolutionOutcome.choices
            )

    def attendance(self) -> dict[int, str]:
        return {int(k[1:]): v for k, v in self.cleaned_data.items() if k.startswith("a")}

    def resolution_rows(self) -> list[tuple[str, str]]:
        rows = []
        i = 1
        while f"r{i}_text" in self.cleaned_data:
            rows.append((self.cleaned_data[f"r{i}_text"], self.cleaned_data[f"r{i}_outcome"]))
            i += 1
        return rows


class PlanForm(forms.Form):
    title = forms.CharField(label=_("方案名称"), max_length=100)
    description = forms.CharField(label=_("方案内容"), widget=forms.Textarea(attrs={"rows": 6}))
    cost = forms.CharField(
        label=_("总造价（元）"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    requires_owners_vote = forms.BooleanField(
        label=_("须经业主大会表决（民法典第二百七十八条事项）"), required=False
    )
    vote_item = forms.TypedChoiceField(
        label=_("表决事项"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "—"), *Item.choices],
    )


class FundingForm(forms.Form):
    """One amount (and note) per source; left empty means the source pays nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for source in FundingSource:
            self.fields[source.value] = forms.CharField(
                label=_("%(source)s（元）") % {"source": source.label},
                required=False,
                max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            self.fields[f"{source.value}_note"] = forms.CharField(
                label=_("%(source)s说明") % {"source": source.label},
                required=False,
                max_length=200,
            )

    def shares(self) -> dict[str, str]:
        return {s.value: self.cleaned_data.get(s.value, "") for s in FundingSource}

    def notes(self) -> dict[str, str]:
        return {s.value: self.cleaned_data.get(f"{s.value}_note", "") for s in FundingSource}


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("文件名称"), max_length=100)
    file = forms.FileField(label=_("文件"))


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("节点名称"), max_length=100)
    planned_start = forms.DateField(label=_("计划开始"), widget=DATE)
    planned_end = forms.DateField(label=_("计划完成"), widget=DATE)


class MilestoneUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=MilestoneStatus.choices)
    progress = forms.IntegerField(label=_("进度（%）"), min_value=0, max_value=100)
    note = forms.CharField(label=_("最新进展"), required=False, max_length=500)
    outcome = forms.CharField(
        label=_("成果"),
        required=False,
        max_length=200,
        help_text=_("完成后居民能看到的成果，如“新增停车位 230 个”。"),
    )
    photo = forms.ImageField(label=_("现场照片"), required=False)
    caption = forms.CharField(label=_("照片说明"), required=False, max_length=100)


class VoteForm(forms.Form):
    convener_kind = forms.ChoiceField(label=_("召集人"))
    title = forms.CharField(label=_("表决事项名称"), max_length=100)
    description = forms.CharField(label=_("表决内容"), widget=forms.Textarea(attrs={"rows": 5}))
    item = forms.TypedChoiceField(
        label=_("法定事项（民法典第二百七十八条）"), coerce=int, choices=Item.choices
    )
    plan = forms.TypedChoiceField(
        label=_("表决的方案"), coerce=int, required=False, empty_value=None
    )
    opens_at = forms.DateTimeField(
        label=_("投票开始"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    closes_at = forms.DateTimeField(
        label=_("投票截止"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    buildings = forms.TypedMultipleChoiceField(
        label=_("仅以下楼栋的业主表决"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选为全体业主；仅涉及部分楼栋的事项（如一栋楼的电梯）由这些楼栋的业主表决。"),
    )

    def __init__(self, *args: Any, conveners, plans, buildings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["convener_kind"].choices = [(k, ConvenerKind(k).label) for k in conveners]
        self.fields["plan"].choices = [("", _("不涉及方案"))] + [(p.pk, p.title) for p in plans]
        self.fields["buildings"].choices = [(b.pk, b.name) for b in buildings]


class BallotForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(
        label=_("您的意见"), choices=BallotChoice.choices, widget=forms.RadioSelect
    )


class EnterBallotForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(
        label=_("意见"), choices=BallotChoice.choices, widget=forms.RadioSelect
    )
    channel = forms.ChoiceField(
        label=_("投票方式"),
        choices=[
            (BallotChannel.PAPER, BallotChannel.PAPER.label),
            (BallotChannel.PROXY, BallotChannel.PROXY.label),
        ],
        widget=forms.RadioSelect,
        initial=BallotChannel.PAPER,
    )
    proxy_holder = forms.CharField(label=_("受托人"), required=False, max_length=50)
    proxy_note = forms.CharField(label=_("委托书说明"), required=False, max_length=200)
    proxy_document = forms.FileField(label=_("委托书扫描件"), required=False)


class RegisterRulesForm(forms.Form):
    electronic_voting = forms.BooleanField(label=_("业主大会已决定采用电子投票"), required=False)
    adopted_on = forms.DateField(label=_("决定日期"), required=False, widget=DATE)
    notice_days = forms.IntegerField(label=_("公告期（天）"), min_value=1, max_value=90, initial=15)


class RegisterImportForm(forms.Form):
    file = forms.FileField(
        label=_("业主名册（.xlsx）"),
        help_text=_(
            "列：楼栋、单元、室号（或房屋编码）、专有部分面积、面积依据、业主、手机号、开发商未售。"
        ),
    )
