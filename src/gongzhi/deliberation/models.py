"""The consultation loop (民意收集 → 共商共议 → 方案落地 → 反馈收集): topics and their history,
surveys and polls, meetings, plans with their funding, owners' votes with the owner
register and ballots, implementation milestones.

Every write goes through `services.py`; these classes only describe what is stored.
Money is `Decimal` (two places, yuan); areas are `Decimal` square metres; vote ratios
are counted as fractions by `tally.py` and stored as "n/d" text, never as floats.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import BaseModel
from gongzhi.places.models import Place, PlaceKind

from .states import TopicState
from .tally import BallotChannel, BallotChoice, Item

TOPIC_REF_PREFIX = "deliberation.topic:"


class TopicOrigin(models.TextChoices):
    WORKER = "worker", _("社区工作者发起")
    RESIDENT = "resident", _("居民提议")
    CASES = "cases", _("由诉求转入")


class Topic(BaseModel):
    """A problem too big for one party (议题), carried through the consultation loop."""

    community = models.ForeignKey(
        Place,
        verbose_name=_("居民区"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": PlaceKind.COMMUNITY},
    )
    estate = models.ForeignKey(
        Place,
        verbose_name=_("小区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": PlaceKind.ESTATE},
    )
    title = models.CharField(_("议题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    origin = models.CharField(_("来源"), max_length=16, choices=TopicOrigin.choices)
    state = models.CharField(
        _("阶段"), max_length=24, choices=TopicState.choices, default=TopicState.COLLECTING
    )
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("诉求类别"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提议人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("立项人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state_changed_at = models.DateTimeField(_("进入当前阶段"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["community", "state"], name="topic_by_community")]

    def __str__(self) -> str:
        return self.title

    @property
    def ref(self) -> str:
        """How cases name the topic they became or joined (`Case.topic_ref`)."""
        return f"{TOPIC_REF_PREFIX}{self.pk}"

    @property
    def place(self) -> Place:
        """The place the topic is about: its estate, else its community."""
        return self.estate or self.community


class TopicSupport(models.Model):
    """A resident backing a proposal (附议)."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="supports"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("附议人"), on_delete=models.CASCADE
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="topic_support_once")]

    def __str__(self) -> str:
        return f"{self.topic_id} ← {self.user_id}"


class TopicEventKind(models.TextChoices):
    OPENED = "opened", _("立项")
    PROPOSED = "proposed", _("居民提议")
    ACCEPTED = "accepted", _("提议受理")
    DECLINED = "declined", _("不予立项")
    MOVED = "moved", _("进入下一阶段")
    CASE_LINKED = "case_linked", _("关联诉求")
    SURVEY_OPENED = "survey_opened", _("发布问卷")
    SURVEY_CLOSED = "survey_closed", _("问卷结束")
    MEETING_SCHEDULED = "meeting_scheduled", _("安排会议")
    MEETING_PUBLISHED = "meeting_published", _("公布会议纪要")
    PLAN_DRAFTED = "plan_drafted", _("拟订方案")
    FUNDING_SET = "funding_set", _("确定出资")
    PLAN_ADOPTED = "plan_adopted", _("方案通过")
    VOTE_CONVENED = "vote_convened", _("业主表决公告")
    VOTE_COUNTED = "vote_counted", _("表决计票")
    MILESTONE_UPDATED = "milestone_updated", _("节点进展")
    PLAN_COMPLETED = "plan_completed", _("方案实施完成")
    DONE = "done", _("议题完成")


class TopicEvent(models.Model):
    """One step of a topic's history, shown on its page."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("事件"), max_length=24, choices=TopicEventKind.choices)
    from_state = models.CharField(
        _("原阶段"), max_length=24, choices=TopicState.choices, blank=True
    )
    to_state = models.CharField(_("新阶段"), max_length=24, choices=TopicState.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    # Residents see public events; internal ones (a case linked) only staff see.
    public = models.BooleanField(_("对居民公开"), default=True)

    class Meta:
        verbose_name = _("议题记录")
        verbose_name_plural = _("议题记录")
        ordering = ["at", "pk"]

    # --- surveys and polls -----------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class SurveyKind(models.TextChoices):
    SURVEY = "survey", _("问卷")
    POLL = "poll", _("民意投票")
    FEEDBACK = "feedback", _("反馈问卷")


class Eligibility(models.TextChoices):
    RESIDENTS = "residents", _("范围内已核验的居民")
    OWNERS = "owners", _("仅已核验的业主")
    SHOPS = "shops", _("沿街商铺")


class OnePer(models.TextChoices):
    PERSON = "person", _("每人一份")
    DWELLING = "dwelling", _("每户一份")


class SurveyState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")


class Survey(BaseModel):
    """A questionnaire or poll for the people of one place; any loop may use it."""

    community = models.ForeignKey(
        Place, verbose_name=_("居民区"), on_delete=models.PROTECT, related_name="+"
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("范围"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("居民区、小区或楼栋：范围内符合条件的人可以填写。"),
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("议题"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="surveys",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=SurveyKind.choices)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    eligibility = models.CharField(_("参与资格"), max_length=16, choices=Eligibility.choices)
    one_per = models.CharField(_("填写份数"), max_length=16, choices=OnePer.choices)
    state = models.CharField(
        _("状态"), max_length=16, choices=SurveyState.choices, default=SurveyState.DRAFT
    )
    opened_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # A poll's quorum and majority, set by its organisers (rules §4), as exact fractions.
    quorum_numerator = models.PositiveSmallIntegerField(_("参与门槛分子"), default=0)
    quorum_denominator = models.PositiveSmallIntegerField(_("参与门槛分母"), default=1)
    majority_numerator = models.PositiveSmallIntegerField(_("通过门槛分子"), default=1)
    majority_denominator = models.PositiveSmallIntegerField(_("通过门槛分母"), default=2)
    majority_inclusive = models.BooleanField(_("门槛含本数"), default=False)
    # How many could answer when it closed: later moves do not change a closed turnout.
    eligible_at_close = models.PositiveIntegerField(_("结束时有资格人数"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("问卷/投票")
        verbose_name_plural = _("问卷/投票")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("单选")
    MULTIPLE = "multiple", _("多选")
    SCALE = "scale", _("打分")
    TEXT = "text", _("文字")


class Question(models.Model):
    survey = models.ForeignKey(
        Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("题型"), max_length=16, choices=QuestionKind.choices)
    text = models.CharField(_("题目"), max_length=200)
    options = models.JSONField(_("选项"), default=list, blank=True)
    scale_min = models.SmallIntegerField(_("最低分"), default=1)
    scale_max = models.SmallIntegerField(_("最高分"), default=5)
    required = models.BooleanField(_("必答"), default=True)

    class Meta:
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="question_position")
        ]

    def __str__(self) -> str:
        return self.text


class Response(models.Model):
    """One filled-in questionnaire: once per person or once per dwelling."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="responses"
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填写人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("房屋/商铺"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # "u:<user>" or "p:<place>": what "once" is counted by, unique per survey.
    respondent_key = models.CharField(max_length=40, editable=False)
    submitted_at = models.DateTimeField(_("提交时间"))

    class Meta:
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent_key"], name="response_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.respondent_key}"


class Answer(models.Model):
    response = models.ForeignKey(
        Response, verbose_name=_("答卷"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, verbose_name=_("题目"), on_delete=models.CASCADE, related_name="answers"
    )
    choices = models.JSONField(_("所选"), default=list, blank=True)
    number = models.SmallIntegerField(_("分数"), null=True, blank=True)
    text = models.TextField(_("文字回答"), blank=True)

    class Meta:
        verbose_name = _("回答")
        verbose_name_plural = _("回答")

    # --- meetings -------------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.response_id} · {self.question_id}"


class MeetingKind(models.TextChoices):
    COUNCIL = "council", _("议事会")
    JOINT = "joint", _("专家联席会")
    THREE_PARTIES = "three_parties", _("三驾马车联合办公")
    HEARING = "hearing", _("听证会")


class MeetingState(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    HELD = "held", _("已召开")
    PUBLISHED = "published", _("纪要已公布")


class Meeting(BaseModel):
    community = models.ForeignKey(
        Place, verbose_name=_("居民区"), on_delete=models.PROTECT, related_name="+"
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("议题"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
    )
    kind = models.CharField(_("会议类型"), max_length=16, choices=MeetingKind.choices)
    title = models.CharField(_("会议名称"), max_length=100)
    starts_at = models.DateTimeField(_("时间"))
    location = models.CharField(_("地点"), max_length=100)
    agenda = models.TextField(_("议程"))
    state = models.CharField(
        _("状态"), max_length=16, choices=MeetingState.choices, default=MeetingState.SCHEDULED
    )
    minutes = models.TextField(_("会议纪要"), blank=True)
    held_at = models.DateTimeField(_("召开时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("召集人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class Party(models.TextChoices):
    RESIDENTS_COMMITTEE = "residents_committee", _("居委会")
    OWNERS_COMMITTEE = "owners_committee", _("业委会")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    EXPERT = "expert", _("专家")
    PARTNER = "partner", _("赋能伙伴")
    RESIDENT = "resident", _("居民代表")
    OTHER = "other", _("其他单位")


class Attendance(models.TextChoices):
    INVITED = "invited", _("已邀请")
    PRESENT = "present", _("出席")
    ABSENT = "absent", _("缺席")


class MeetingInvitation(models.Model):
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="invitations"
    )
    party = models.CharField(_("参会方"), max_length=24, choices=Party.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("姓名"), max_length=50)
    organisation = models.CharField(_("单位"), max_length=100, blank=True)
    attendance = models.CharField(
        _("出席"), max_length=16, choices=Attendance.choices, default=Attendance.INVITED
    )

    class Meta:
        verbose_name = _("参会邀请")
        verbose_name_plural = _("参会邀请")
        ordering = ["meeting", "party", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=Q(user__isnull=False),
                name="meeting_invitation_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_party_display()} {self.name}"


class ResolutionOutcome(models.TextChoices):
    ADOPTED = "adopted", _("通过")
    REJECTED = "rejected", _("未通过")
    DEFERRED = "deferred", _("暂缓，继续商议")


class Resolution(models.Model):
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="resolutions"
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("议题"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resolutions",
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    text = models.TextField(_("决议"))
    outcome = models.CharField(_("结果"), max_length=16, choices=ResolutionOutcome.choices)

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")
        ordering = ["meeting", "position"]

    # --- plans and funding ------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.text[:40]


class PlanState(models.TextChoices):
    DRAFT = "draft", _("拟订中")
    ADOPTED = "adopted", _("已通过，实施中")
    DONE = "done", _("已完成")


class Plan(BaseModel):
    """A plan (方案) with its cost and who pays what."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="plans"
    )
    title = models.CharField(_("方案名称"), max_length=100)
    description = models.TextField(_("方案内容"))
    cost = models.DecimalField(_("总造价(元)"), max_digits=14, decimal_places=2)
    state = models.CharField(
        _("状态"), max_length=16, choices=PlanState.choices, default=PlanState.DRAFT
    )
    requires_owners_vote = models.BooleanField(
        _("须业主大会表决"),
        default=False,
        help_text=_("属于民法典第二百七十八条所列事项的，须经业主共同决定。"),
    )
    vote_item = models.PositiveSmallIntegerField(
        _("表决事项"), choices=Item.choices, null=True, blank=True
    )
    adopted_at = models.DateTimeField(_("通过时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("拟订人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("方案")
        verbose_name_plural = _("方案")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def place(self) -> Place:
        return self.topic.place


class FundingSource(models.TextChoices):
    GOVERNMENT = "government", _("政府补贴")
    MAINTENANCE_FUND = "maintenance_fund", _("维修资金")
    STREET_SHOPS = "street_shops", _("沿街商铺")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    RESIDENTS = "residents", _("居民自筹")


class FundingShare(models.Model):
    plan = models.ForeignKey(
        Plan, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="funding"
    )
    source = models.CharField(_("出资来源"), max_length=24, choices=FundingSource.choices)
    amount = models.DecimalField(_("金额(元)"), max_digits=14, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("出资")
        verbose_name_plural = _("出资")
        ordering = ["plan", "source"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "source"], name="funding_once_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.amount}"


def _document_path(instance: "PlanDocument", filename: str) -> str:
    return f"deliberation/plans/{instance.plan_id}/{filename}"


class PlanDocument(BaseModel):
    plan = models.ForeignKey(
        Plan, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(_("名称"), max_length=100)
    file = models.FileField(_("文件"), upload_to=_document_path)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("方案文件")
        verbose_name_plural = _("方案文件")
        ordering = ["plan", "created_at"]


# --- implementation ------------------------------------------------------------------------------


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    DELAYED = "delayed", _("延期")
    DONE = "done", _("已完成")


class Milestone(BaseModel):
    plan = models.ForeignKey(
        Plan, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="milestones"
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("节点"), max_length=100)
    planned_start = models.DateField(_("计划开始"))
    planned_end = models.DateField(_("计划完成"))
    status = models.CharField(
        _("状态"), max_length=16, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED
    )
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    finished_on = models.DateField(_("实际完成"), null=True, blank=True)
    # What the milestone delivered, as residents will read it ("新增停车位 230 个").
    outcome = models.CharField(_("成果"), max_length=200, blank=True)
    note = models.CharField(_("最新进展"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("实施节点")
        verbose_name_plural = _("实施节点")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="milestone_position"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="milestone_progress_max"),
        ]

    def __str__(self) -> str:
        return self.title


def _milestone_photo_path(instance: "MilestonePhoto", filename: str) -> str:
    return f"deliberation/milestones/{instance.milestone_id}/{filename}"


class MilestonePhoto(BaseModel):
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("节点"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("照片"), upload_to=_milestone_photo_path)
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("节点照片")
        verbose_name_plural = _("节点照片")
        ordering = ["milestone", "created_at", "pk"]


# --- owners' votes ------------------------------------------------------------------------------


class OwnersMeetingRules(BaseModel):
    """What the estate's owners' meeting has adopted in its rules of procedure that
    changes how votes run: electronic voting, and the notice period."""

    estate = models.OneToOneField(
        Place,
        verbose_name=_("小区"),
        on_delete=models.CASCADE,
        related_name="owners_meeting_rules",
        limit_choices_to={"kind": PlaceKind.ESTATE},
    )
    electronic_voting = models.BooleanField(
        _("已采用电子投票"),
        default=False,
        help_text=_("业主大会在议事规则中决定采用电子投票后，业主方可线上投票。"),
    )
    adopted_on = models.DateField(_("决定日期"), null=True, blank=True)
    notice_days = models.PositiveSmallIntegerField(
        _("公告期(天)"), default=15, help_text=_("表决开始前须公告的天数。")
    )

    class Meta:
        verbose_name = _("业主大会议事规则")
        verbose_name_plural = _("业主大会议事规则")

    def __str__(self) -> str:
        return str(self.estate)


class PreparatoryGroupMember(BaseModel):
    """A member of the preparatory group (筹备组) the subdistrict forms for an estate's
    first owners' meeting; the group may convene a vote."""

    estate = models.ForeignKey(
        Place, verbose_name=_("小区"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), on_delete=models.CASCADE
    )
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("指定人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("筹备组成员")
        verbose_name_plural = _("筹备组成员")
        constraints = [
            models.UniqueConstraint(fields=["estate", "user"], name="preparatory_member_once")
        ]


class AreaSource(models.TextChoices):
    """Which area counts (法释〔2009〕7号 art. 8): registered, else surveyed, else contract."""

    REGISTERED = "registered", _("不动产登记面积")
    SURVEYED = "surveyed", _("实测面积")
    CONTRACT = "contract", _("合同面积")


class OwnerRegisterEntry(BaseModel):
    """One exclusive part (专有部分) of an estate in the owner register (业主名册).

    Area comes from the imported register if one was imported, else from the place's
    registered exclusive area. The owners are the verified owners of the place
    (`accounts.Residency`); without any, the imported owner, else "not registered"
    (the part still counts as one owner). `owner_key` identifies the right holder: the
    same key on several parts is one buyer holding them all.
    """

    estate = models.ForeignKey(
        Place, verbose_name=_("小区"), on_delete=models.CASCADE, related_name="+"
    )
    place = models.OneToOneField(
        Place,
        verbose_name=_("专有部分"),
        on_delete=models.CASCADE,
        related_name="owner_register_entry",
    )
    area = models.DecimalField(_("专有部分面积(㎡)"), max_digits=10, decimal_places=2)
    area_source = models.CharField(_("面积依据"), max_length=16, choices=AreaSource.choices)
    developer_unsold = models.BooleanField(_("开发建设单位未售出或未交付"), default=False)
    owner_key = models.CharField(_("权利人标识"), max_length=200)
    owner_label = models.CharField(_("业主"), max_length=200, blank=True)
    co_owner_count = models.PositiveSmallIntegerField(_("共有人数"), default=1)
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("投票代表人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_area = models.DecimalField(
        _("导入面积"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    imported_area_source = models.CharField(
        _("导入面积依据"), max_length=16, choices=AreaSource.choices, blank=True
    )
    imported_owner_name = models.CharField(_("导入业主姓名"), max_length=100, blank=True)
    imported_owner_phone = models.CharField(_("导入业主电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("业主名册")
        verbose_name_plural = _("业主名册")
        ordering = ["estate", "place__code"]

    def __str__(self) -> str:
        return f"{self.place} {self.owner_label}"


class ConvenerKind(models.TextChoices):
    OWNERS_COMMITTEE = "owners_committee", _("业主委员会")
    PREPARATORY_GROUP = "preparatory_group", _("业主大会筹备组")
    SUBDISTRICT = "subdistrict", _("街道办事处")


class VoteState(models.TextChoices):
    NOTICED = "noticed", _("已公告")
    COUNTED = "counted", _("已计票")


class OwnersVote(BaseModel):
    """An owners' vote (业主大会表决) on one art. 278 item, for the whole estate or for the
    owners of some buildings only (one building's lift)."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("议题"), on_delete=models.PROTECT, related_name="votes"
    )
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("方案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="votes",
    )
    estate = models.ForeignKey(
        Place, verbose_name=_("小区"), on_delete=models.PROTECT, related_name="+"
    )
    buildings = models.ManyToManyField(
        Place,
        verbose_name=_("表决范围楼栋"),
        blank=True,
        related_name="+",
        help_text=_("留空为全体业主；仅涉及部分楼栋的（如一栋楼的电梯）由这些楼栋的业主表决。"),
    )
    title = models.CharField(_("表决事项名称"), max_length=100)
    description = models.TextField(_("表决内容"))
    item = models.PositiveSmallIntegerField(_("法定事项"), choices=Item.choices)
    convener_kind = models.CharField(_("召集人"), max_length=24, choices=ConvenerKind.choices)
    convened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("公告人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=VoteState.choices, default=VoteState.NOTICED
    )
    notice_at = models.DateTimeField(_("公告时间"))
    opens_at = models.DateTimeField(_("投票开始"))
    closes_at = models.DateTimeField(_("投票截止"))
    # Whether owners may vote online: the estate's rules when the vote was noticed.
    electronic = models.BooleanField(_("可线上投票"))
    result = models.JSONField(_("计票结果"), default=dict, blank=True)
    passed = models.BooleanField(_("通过"), null=True, blank=True)
    counted_at = models.DateTimeField(_("计票时间"), null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计票人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("业主大会表决")
        verbose_name_plural = _("业主大会表决")
        ordering = ["-notice_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def place(self) -> Place:
        return self.estate

    @property
    def community_id(self) -> int | None:
        return self.topic.community_id


class VoteRollEntry(models.Model):
    """The owner register as it stood when the vote was noticed: later changes to the
    register do not move a vote already under way."""

    vote = models.ForeignKey(
        OwnersVote, verbose_name=_("表决"), on_delete=models.CASCADE, related_name="roll"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("专有部分"), on_delete=models.PROTECT, related_name="+"
    )
    area = models.DecimalField(_("专有部分面积(㎡)"), max_digits=10, decimal_places=2)
    area_source = models.CharField(_("面积依据"), max_length=16, choices=AreaSource.choices)
    developer_unsold = models.BooleanField(_("开发建设单位未售出"), default=False)
    owner_key = models.CharField(_("权利人标识"), max_length=200)
    owner_label = models.CharField(_("业主"), max_length=200, blank=True)
    co_owner_count = models.PositiveSmallIntegerField(_("共有人数"), default=1)
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("投票代表人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("表决名册")
        verbose_name_plural = _("表决名册")
        ordering = ["vote", "place__code"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "place"], name="vote_roll_once_per_part")
        ]

    def __str__(self) -> str:
        return f"{self.place} {self.owner_label}"


def _proxy_path(instance: "Ballot", filename: str) -> str:
    return f"deliberation/votes/{instance.vote_id}/proxy-{instance.entry_id}-{filename}"


class Ballot(models.Model):
    """One ballot per exclusive part. Secret from other owners; the convening body
    audits them. How it was cast is always recorded."""

    vote = models.ForeignKey(
        OwnersVote, verbose_name=_("表决"), on_delete=models.CASCADE, related_name="ballots"
    )
    entry = models.ForeignKey(
        VoteRollEntry, verbose_name=_("专有部分"), on_delete=models.CASCADE, related_name="ballots"
    )
    choice = models.CharField(_("意见"), max_length=16, choices=BallotChoice.choices)
    channel = models.CharField(_("投票方式"), max_length=16, choices=BallotChannel.choices)
    cast_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("投票人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proxy_holder = models.CharField(_("受托人"), max_length=50, blank=True)
    proxy_note = models.CharField(_("委托书说明"), max_length=200, blank=True)
    proxy_document = models.FileField(_("委托书扫描件"), upload_to=_proxy_path, blank=True)
    cast_at = models.DateTimeField(_("投票时间"))

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")
        ordering = ["vote", "cast_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "entry"], name="ballot_once_per_part")
        ]

    def __str__(self) -> str:
        return f"{self.vote_id} · {self.entry_id} · {self.get_channel_display()}"
