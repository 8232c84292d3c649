"""The small-matter loop (小事快办): categories and their policies, cases, who handles them,
their timeline, follow-ups, and the clock alarms that drive warnings and supervision (督办).

Every write goes through `services.py`; these classes only describe what is stored.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import Role
from gongzhi.core.clocks import ClockKind, TargetUnit
from gongzhi.core.models import BaseModel
from gongzhi.places.models import Place

from .states import OPEN_STATES, CaseState


class CategoryGroup(models.TextChoices):
    SMALL_MATTER = "small_matter", _("小事")
    PEOPLE_AT_RISK = "people_at_risk", _("人身安全")
    URGENT_SAFETY = "urgent_safety", _("紧急安全")
    REPAIR = "repair", _("维修")
    DISPUTE = "dispute", _("邻里纠纷")
    CONSULTATION = "consultation", _("需协商")


class HandlerRole(models.TextChoices):
    """The roles a category can route to; values are `accounts.Role` values."""

    GRID_WORKER = Role.GRID_WORKER.value, Role.GRID_WORKER.label
    PROPERTY_MANAGER = Role.PROPERTY_MANAGER.value, Role.PROPERTY_MANAGER.label
    MEDIATOR = Role.MEDIATOR.value, Role.MEDIATOR.label
    COMMUNITY_WORKER = Role.COMMUNITY_WORKER.value, Role.COMMUNITY_WORKER.label
    OWNERS_COMMITTEE = Role.OWNERS_COMMITTEE.value, Role.OWNERS_COMMITTEE.label


class Category(BaseModel):
    """What kind of problem a case is: it sets the clocks (through its policy), the photo
    rule, the extra questions and who the case is routed to."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    group = models.CharField(
        _("类别组"),
        max_length=20,
        choices=CategoryGroup.choices,
        default=CategoryGroup.SMALL_MATTER,
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    # Words a resident might use for it: search, Open311 `keywords`, duplicate hints.
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    requires_photo = models.BooleanField(
        _("办结须附照片"), default=False, help_text=_("办结时必须上传现场照片。")
    )
    # Open311-style attributes: [{code, label, datatype, required, values: [{key, name}]}]
    questions = models.JSONField(_("附加问题"), default=list, blank=True)
    lead_role = models.CharField(
        _("主办角色"), max_length=32, choices=HandlerRole.choices, default=HandlerRole.GRID_WORKER
    )
    co_handler_roles = models.JSONField(
        _("协办角色"),
        default=list,
        blank=True,
        help_text=_("大事多方办：除主办外同时分派的角色。小事类别只分派一人。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def single_handler(self) -> bool:
        """小事专人管: a small matter goes to one responsible person, never to a group."""
        return self.group == CategoryGroup.SMALL_MATTER


class Policy(BaseModel):
    """A category's time limits (分类限时办理): the default row has no community; a
    community may override it. Changed only through `services.policy_save`, audited."""

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="policies"
    )
    community = models.ForeignKey(
        Place,
        verbose_name=_("居民区"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": "community"},
        help_text=_("留空为默认时限；填写则仅对该居民区生效。"),
    )
    response_amount = models.PositiveIntegerField(_("响应时限"))
    response_unit = models.CharField(_("响应时限单位"), max_length=10, choices=TargetUnit.choices)
    response_clock = models.CharField(_("响应计时方式"), max_length=16, choices=ClockKind.choices)
    completion_amount = models.PositiveIntegerField(_("办结时限"))
    completion_unit = models.CharField(_("办结时限单位"), max_length=10, choices=TargetUnit.choices)
    completion_clock = models.CharField(_("办结计时方式"), max_length=16, choices=ClockKind.choices)
    preset = models.CharField(_("预设"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["category__sort", "category__code", "community__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(community__isnull=True),
                name="policy_one_default_per_category",
            ),
            models.UniqueConstraint(
                fields=["category", "community"],
                condition=Q(community__isnull=False),
                name="policy_one_override_per_community",
            ),
        ]

    def __str__(self) -> str:
        scope = self.community.name if self.community_id else _("默认")
        return f"{self.category} · {scope}"


class Channel(models.TextChoices):
    RESIDENT_PAGE = "resident_page", _("居民上报页")
    API = "api", _("接口")
    OPEN311 = "open311", _("Open311")
    PHONE = "phone", _("来电")
    WALK_IN = "walk_in", _("来访")
    RECEPTION_DAY = "reception_day", _("联合接待日")
    PATROL = "patrol", _("巡查发现")
    VISIT = "visit", _("走访发现")
    TASK = "task", _("协助任务")


# The person reporting is the one signed in.
SELF_SERVICE_CHANNELS = frozenset({Channel.RESIDENT_PAGE, Channel.API, Channel.OPEN311})
# A worker enters what a resident said on the phone, at the desk or at a reception day.
WORKER_ENTRY_CHANNELS = frozenset({Channel.PHONE, Channel.WALK_IN, Channel.RECEPTION_DAY})


class ClockName(models.TextChoices):
    RESPONSE = "response", _("响应")
    COMPLETION = "completion", _("办结")


class Case(BaseModel):
    """One problem reported by one resident (or found by a worker or volunteer)."""

    number = models.CharField(_("编号"), max_length=40, unique=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    community = models.ForeignKey(
        Place, verbose_name=_("居民区"), on_delete=models.PROTECT, related_name="+"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("地点"), on_delete=models.PROTECT, related_name="cases"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases"
    )
    text = models.TextField(_("诉求内容"))
    # What matching compares: simplified, half-width; and its jieba words, computed once.
    text_normalised = models.TextField(_("规范化内容"), editable=False)
    text_tokens = models.TextField(_("检索词"), editable=False, blank=True)
    answers = models.JSONField(_("附加问题回答"), default=dict, blank=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反映人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_anonymous = models.BooleanField(
        _("对外匿名"), default=False, help_text=_("对公众匿名；经办人仍可看到反映人。")
    )

    state = models.CharField(
        _("状态"), max_length=16, choices=CaseState.choices, default=CaseState.REPORTED
    )
    paused_from = models.CharField(_("挂起前状态"), max_length=16, blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_cases",
    )

    reported_at = models.DateTimeField(_("上报时间"))
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始办理时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    completion_note = models.TextField(_("办结说明"), blank=True)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    declined_at = models.DateTimeField(_("不予受理时间"), null=True, blank=True)
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True)
    topic_at = models.DateTimeField(_("转议题时间"), null=True, blank=True)

    # The policy as it stood at report time: a later policy change does not move the
    # deadlines of cases already running.
    response_clock = models.CharField(_("响应计时方式"), max_length=16, choices=ClockKind.choices)
    response_target = models.DurationField(_("响应时限(计时)"))
    response_due_at = models.DateTimeField(_("响应截止"))
    response_due_estimated = models.BooleanField(_("响应截止为估算"), default=False)
    completion_clock = models.CharField(_("办结计时方式"), max_length=16, choices=ClockKind.choices)
    completion_target = models.DurationField(_("办结时限(计时)"))
    completion_due_at = models.DateTimeField(_("办结截止"))
    completion_due_estimated = models.BooleanField(_("办结截止为估算"), default=False)
    # The deadline that matters now (response, completion or follow-up): the inbox order.
    next_due_at = models.DateTimeField(_("最近截止"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)

    paused_at = models.DateTimeField(_("挂起时间"), null=True, blank=True)
    pause_reason = models.CharField(_("挂起原因"), max_length=200, blank=True)
    paused_total = models.DurationField(_("累计挂起(计时)"), default=timedelta)

    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    decline_reason = models.CharField(_("不予受理原因"), max_length=200, blank=True)
    referral = models.CharField(
        _("转介去向"), max_length=100, blank=True, help_text=_("例如：12345市民服务热线")
    )
    # The consultation topic the case became or joined ("deliberation.topic:12").
    topic_ref = models.CharField(_("关联议题"), max_length=64, blank=True, db_index=True)
    topic_note = models.CharField(_("转议题说明"), max_length=200, blank=True)

    # 首接负责: the lead stays responsible until the person asked to take over accepts.
    transfer_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("待接收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # Indexed by `case_transfer_pending`, over the few rows that have one.
        db_index=False,
    )
    transfer_reason = models.CharField(_("移交原因"), max_length=200, blank=True)
    transfer_requested_at = models.DateTimeField(_("移交申请时间"), null=True, blank=True)

    # Optimistic concurrency: every change adds one; a stale `expected_version` is refused.
    version = models.PositiveIntegerField(_("版本"), default=1)
    # A retried report returns the first case: unique per submitter, channel and key.
    idempotency_scope = models.CharField(max_length=40, blank=True, editable=False)
    idempotency_key = models.CharField(_("幂等键"), max_length=100, blank=True, editable=False)

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_scope", "channel", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="case_report_once_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "state", "next_due_at"], name="case_inbox_community"),
            models.Index(fields=["lead", "state", "next_due_at"], name="case_inbox_lead"),
            models.Index(fields=["reporter", "reported_at"], name="case_by_reporter"),
            models.Index(fields=["community", "reported_at"], name="case_reported_in"),
            models.Index(fields=["category", "state", "reported_at"], name="case_category_open"),
            models.Index(fields=["state", "completed_at"], name="case_awaiting_follow_up"),
            # Almost every case has no pending transfer: a full index on the column would
            # hold one NULL per case, and SQLite's statistics would then call
            # `transfer_to = ?` unselective and read every open case instead.
            models.Index(
                fields=["transfer_to"],
                condition=Q(transfer_to__isnull=False),
                name="case_transfer_pending",
            ),
            # The open cases by id: a list of open cases finds the ones a person handles
            # (`cases.selectors._visible`: their handler rows' case ids, open or not — a
            # grid worker at a city's scale has ~480) among these instead of probing every
            # case row by key and reading it to test its state.
            models.Index(
                fields=["id"],
                condition=Q(state__in=sorted(OPEN_STATES)),
                name="case_open_by_id",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class HandlerKind(models.TextChoices):
    LEAD = "lead", _("主办")
    CO_HANDLER = "co_handler", _("协办")


class HandlerStatus(models.TextChoices):
    PENDING = "pending", _("待办")
    IN_PROGRESS = "in_progress", _("办理中")
    DONE = "done", _("已完成")


class CaseHandler(BaseModel):
    """One party handling a case (大事多方办): the lead, or a co-handler with its own part."""

    case = models.ForeignKey(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="handlers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="case_handlings",
    )
    kind = models.CharField(_("分工"), max_length=16, choices=HandlerKind.choices)
    # The role through which they were routed or added (property company, mediator, ...).
    party_role = models.CharField(_("身份"), max_length=32, choices=Role.choices, blank=True)
    task = models.CharField(_("分工任务"), max_length=200, blank=True)
    status = models.CharField(
        _("进展"), max_length=16, choices=HandlerStatus.choices, default=HandlerStatus.PENDING
    )
    note = models.CharField(_("进展说明"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # A handler replaced by a transfer keeps their row (history) but is no longer active.
    is_active = models.BooleanField(_("在办"), default=True)

    class Meta:
        verbose_name = _("经办人")
        verbose_name_plural = _("经办人")
        ordering = ["case", "kind", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=Q(is_active=True),
                name="case_handler_once_active",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(is_active=True, kind="lead"),
                name="case_handler_one_lead",
            ),
        ]
        indexes = [
            # With the case: a person's handled cases (the visibility's handler branch, the
            # "mine" filter) are read from the index alone, not from each handler row (a
            # grid worker at a city's scale has ~480, on as many table pages).
            models.Index(fields=["user", "is_active", "case"], name="case_handler_cases_by_user")
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_kind_display()} · {self.user}"


class PhotoKind(models.TextChoices):
    REPORT = "report", _("上报照片")
    # Taken by those handling the case while they work on it (before completion).
    PROGRESS = "progress", _("办理照片")
    COMPLETION = "completion", _("办结照片")


def _photo_path(instance: "CasePhoto", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"cases/{instance.case.number}/{instance.kind}-{instance.token}.{extension}"


class CasePhoto(BaseModel):
    case = models.ForeignKey(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="photos"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=PhotoKind.choices)
    token = models.CharField(max_length=32, editable=False)
    image = models.ImageField(
        _("照片"), upload_to=_photo_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(_("宽"), default=0)
    height = models.PositiveIntegerField(_("高"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("诉求照片")
        verbose_name_plural = _("诉求照片")
        ordering = ["case", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()}"


class EventKind(models.TextChoices):
    REPORTED = "reported", _("上报")
    ROUTED = "routed", _("分派")
    RESPONDED = "responded", _("响应")
    STARTED = "started", _("开始办理")
    PAUSED = "paused", _("挂起")
    RESUMED = "resumed", _("恢复办理")
    COMPLETED = "completed", _("办结")
    FOLLOWED_UP = "followed_up", _("回访")
    NO_ANSWER = "no_answer", _("回访无应答")
    CLOSED = "closed", _("关闭")
    REOPENED = "reopened", _("重新办理")
    MERGED = "merged", _("合并")
    MERGED_IN = "merged_in", _("并入重复诉求")
    DECLINED = "declined", _("不予受理")
    TO_TOPIC = "to_topic", _("转议题")
    TOPIC_LINKED = "topic_linked", _("关联议题")
    ASSIGNED = "assigned", _("指派")
    TRANSFER_REQUESTED = "transfer_requested", _("申请移交")
    TRANSFER_ACCEPTED = "transfer_accepted", _("接收移交")
    TRANSFER_REFUSED = "transfer_refused", _("拒绝移交")
    CO_HANDLER_ADDED = "co_handler_added", _("增加协办")
    HANDLER_UPDATED = "handler_updated", _("协办进展")
    WARNING = "warning", _("临期提醒")
    OVERDUE = "overdue", _("超时")
    SUPERVISED = "supervised", _("督办")
    EXCLUDED = "excluded", _("不计入统计")
    PHOTOS_ADDED = "photos_added", _("补充照片")


class CaseEvent(models.Model):
    """One step on a case's timeline: who did what, when, from which state to which."""

    case = models.ForeignKey(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("事件"), max_length=24, choices=EventKind.choices)
    from_state = models.CharField(_("原状态"), max_length=16, choices=CaseState.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, choices=CaseState.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    # What the reporter sees on their own page; internal steps (routing, alarms) are not.
    is_public = models.BooleanField(_("对反映人可见"), default=False)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("诉求事件")
        verbose_name_plural = _("诉求事件")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_timeline")]

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()}"


class FollowUpMethod(models.TextChoices):
    PHONE = "phone", _("电话回访")
    VISIT = "visit", _("上门回访")
    ONLINE = "online", _("居民在线评价")
    SYSTEM = "system", _("系统记录")


class FollowUpOutcome(models.TextChoices):
    ANSWERED = "answered", _("已回访")
    NO_ANSWER = "no_answer", _("无应答")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class FollowUp(models.Model):
    """One follow-up of one completion (办结回访): the resident's words, never the handler's."""

    case = models.ForeignKey(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    # The case's community, copied when the follow-up is written (a case keeps its
    # community): the rates read a community's follow-ups of a period straight from the
    # (community, recorded_at) index, not the whole city's joined to its cases. That index
    # leads with the column, so the foreign key needs none of its own.
    community = models.ForeignKey(
        Place,
        verbose_name=_("居民区"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    recorded_at = models.DateTimeField(_("回访时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    method = models.CharField(_("方式"), max_length=16, choices=FollowUpMethod.choices)
    outcome = models.CharField(_("结果"), max_length=16, choices=FollowUpOutcome.choices)
    resolved = models.BooleanField(_("问题是否解决"), null=True, blank=True)
    satisfaction = models.CharField(
        _("满意度"), max_length=24, choices=Satisfaction.choices, blank=True
    )
    note = models.TextField(_("回访记录"), blank=True)
    # Which completion this follows up: the case's reopen count at the time.
    round = models.PositiveSmallIntegerField(_("轮次"), default=0)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["case", "recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "round"], name="follow_up_once_per_round"),
            models.CheckConstraint(
                condition=(Q(outcome="answered", resolved__isnull=False) & ~Q(satisfaction=""))
                | Q(outcome="no_answer", resolved__isnull=True, satisfaction=""),
                name="follow_up_answer_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["recorded_at"], name="follow_up_recorded"),
            models.Index(fields=["community", "recorded_at"], name="follow_up_in_community"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_outcome_display()}"

    @property
    def is_positive(self) -> bool:
        return bool(self.resolved) and self.satisfaction in {
            Satisfaction.SATISFIED,
            Satisfaction.BASICALLY_SATISFIED,
        }


class AlarmLevel(models.TextChoices):
    WARNING = "warning", _("临期提醒(80%)")
    OVERDUE = "overdue", _("超时(100%)")
    SUPERVISION = "supervision", _("督办(200%)")


# How far into a target each alarm fires.
ALARM_FRACTIONS: dict[str, float] = {
    AlarmLevel.WARNING: 0.8,
    AlarmLevel.OVERDUE: 1.0,
    AlarmLevel.SUPERVISION: 2.0,
}


class ClockAlarm(models.Model):
    """A stored escalation point: one per case × clock × level × completion round.

    The checker picks only pending alarms that are due (a partial index), and
    claims each with a conditional update, so it fires once however often the checker runs.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="alarms"
    )
    clock = models.CharField(_("时钟"), max_length=16, choices=ClockName.choices)
    level = models.CharField(_("级别"), max_length=16, choices=AlarmLevel.choices)
    round = models.PositiveSmallIntegerField(_("轮次"), default=0)
    due_at = models.DateTimeField(_("触发时间"))
    fired_at = models.DateTimeField(_("已触发"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("已取消"), null=True, blank=True)
    # Set while the case is paused: the completion clock stops, so its alarms wait and are
    # moved on by the paused clock time when the case resumes.
    suspended_at = models.DateTimeField(_("暂停于"), null=True, blank=True)

    class Meta:
        verbose_name = _("时限提醒")
        verbose_name_plural = _("时限提醒")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "clock", "level", "round"], name="clock_alarm_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(
                    fired_at__isnull=True, cancelled_at__isnull=True, suspended_at__isnull=True
                ),
                name="clock_alarm_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_clock_display()} {self.get_level_display()}"


class RateExclusion(models.Model):
    """A case left out of the rates, with who decided it and why (audited)."""

    case = models.OneToOneField(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="rate_exclusion"
    )
    reason = models.CharField(_("原因"), max_length=200)
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    excluded_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("不计入统计")
        verbose_name_plural = _("不计入统计")

    def __str__(self) -> str:
        return f"{self.case}: {self.reason}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("星期一")
    TUESDAY = 1, _("星期二")
    WEDNESDAY = 2, _("星期三")
    THURSDAY = 3, _("星期四")
    FRIDAY = 4, _("星期五")
    SATURDAY = 5, _("星期六")
    SUNDAY = 6, _("星期日")


class DutyRota(BaseModel):
    """Who is on duty in a community on each day of the week: routing's fallback when no
    one matches a case's place and category (urgent matters answered by the duty worker)."""

    community = models.ForeignKey(
        Place,
        verbose_name=_("居民区"),
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": "community"},
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("值班人"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    sort = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("值班表")
        verbose_name_plural = _("值班表")
        ordering = ["community", "weekday", "sort", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "weekday", "user"], name="duty_rota_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.get_weekday_display()} {self.user}"


class CaseNumberSequence(models.Model):
    """The last number handed out for one prefix (community segment + local date)."""

    prefix = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


class ReceiptState(models.TextChoices):
    ACCEPTED = "accepted", _("已受理，等待登记")
    FILED = "filed", _("已登记为诉求")
    REFUSED = "refused", _("未能登记")


class ReportReceipt(models.Model):
    """A report accepted for filing (受理回执), kept as the one row its request wrote until
    the worker files it as a case (`report_receipts_file`).

    A client that asks for it (`Prefer: respond-async` on `POST /api/v1/cases`) is answered
    as soon as the report is checked and stored, with this receipt's token; the case, its
    number, routing, alarms and notices follow within a second or so. The report is checked
    at the door exactly as a case would check it, so a receipt is refused later only when
    something changed in between (the category switched off, the reporter moved out).
    The case's clocks start at `accepted_at`: the resident reported then, not when the
    worker got to it.
    """

    token = models.CharField(_("回执号"), max_length=32, unique=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("提交人"),
    )
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("地点")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("类别")
    )
    text = models.TextField(_("问题描述"))
    answers = models.JSONField(_("附加问题回答"), default=dict, blank=True)
    contact_name = models.CharField(_("反映人姓名"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_anonymous = models.BooleanField(_("对外匿名"), default=False)
    idempotency_scope = models.CharField(max_length=40, blank=True, editable=False)
    idempotency_key = models.CharField(_("幂等键"), max_length=100, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("受理时间"))
    state = models.CharField(
        _("状态"), max_length=10, choices=ReceiptState.choices, default=ReceiptState.ACCEPTED
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("诉求"),
        # Read from the receipt, never looked up from the case.
        db_index=False,
    )
    filed_at = models.DateTimeField(_("登记时间"), null=True, blank=True)
    refusal_code = models.CharField(max_length=40, blank=True)
    refusal_message = models.CharField(_("未能登记的原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("受理回执")
        verbose_name_plural = _("受理回执")
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_scope", "channel", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="receipt_once_per_key",
            ),
        ]
        indexes = [
            # What the worker files next: the few receipts still waiting, oldest first.
            models.Index(
                fields=["accepted_at"],
                condition=Q(state="accepted"),
                name="receipt_waiting",
            ),
        ]

    def __str__(self) -> str:
        return self.token
