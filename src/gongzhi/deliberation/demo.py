"""Demo builder: stories 6 and 4 of the seed article played from records (`docs/demo.md`).

Story 6, 临汾路99弄: parking was short; the three parties met in their shared office; the
owners' committee wrote a road renovation plan (item 7 of Civil Code art. 278) paid by
the maintenance fund and a subsidy, and noticed an owners' vote; the committee's nine
members voted online, the other owners' paper and proxy ballots were entered after the
counting session; the vote passed by a wide margin, and the plan is being built — its
second milestone delivered 230 parking spaces and cleared the fire lanes.

Story 4, 张家宅 (国际丽都城): sewage at the gate; an expert joint meeting found the drain
too small; a new drain line is paid by a government subsidy, the maintenance fund and the
street shops at the gate, adding up exactly to its cost; the pipe is being laid.

Everything goes through the deliberation services, each step at the moment it happened
(`now`, days before the run), so the topic pages show a history rather than one instant.
A story already there is found by its topic's title in its community and left alone;
randomness comes from `ctx.rng("deliberation", <community code>)`.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import Conflict
from gongzhi.demo.context import DemoContext
from gongzhi.demo.places import community_code
from gongzhi.demo.spec import COMMUNITIES
from gongzhi.places.models import Place, PlaceKind

from . import services
from .models import (
    Attendance,
    ConvenerKind,
    FundingSource,
    MeetingKind,
    MilestoneStatus,
    Party,
    ResolutionOutcome,
    Topic,
)
from .states import TopicAction
from .tally import BallotChannel, BallotChoice, Item

PARKING_TITLE = "小区停车位严重不足"
DRAIN_TITLE = "小区门口污水外溢"
NEW_SPACES = 230


def _spec(segment: str):
    return next(spec for spec in COMMUNITIES if spec.segment == segment)


STORIES = {"LFL99": PARKING_TITLE, "ZJZ": DRAIN_TITLE}


def check(ctx: DemoContext) -> None:
    """Refuse if a topic with a demo story's title in its community was opened by someone
    other than the demo's worker: the demo would otherwise skip a story it did not write."""
    for segment, title in STORIES.items():
        spec = _spec(segment)
        topic = (
            Topic.objects.filter(community__code=community_code(spec), title=title)
            .select_related("opened_by")
            .first()
        )
        if topic is not None and getattr(topic.opened_by, "username", "") != f"{spec.key}-worker1":
            raise Conflict(
                _("%(community)s 已有议题“%(title)s”，不是演示数据。")
                % {"community": spec.name, "title": title},
                code="demo_topic_conflict",
            )


def build(ctx: DemoContext) -> None:
    """Play stories 6 and 4 unless they are already there."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    def day(ago: int, hour: int = 10) -> datetime:
        return today - timedelta(days=ago) + timedelta(hours=hour)

    for segment, story in (("LFL99", _parking), ("ZJZ", _drain)):
        spec = _spec(segment)
        community = Place.objects.get(code=community_code(spec))
        if Topic.objects.filter(community=community, title=STORIES[segment]).exists():
            continue
        with transaction.atomic():
            story(ctx, spec, community, day)
        ctx.count(_("议题"), 1)


def _users(spec, *names: str) -> list[User]:
    return [User.objects.get(username=f"{spec.key}-{name}") for name in names]


def _parking(ctx: DemoContext, spec, community: Place, day) -> None:
    estate = Place.objects.get(parent=community, kind=PlaceKind.ESTATE, code__endswith="-E1")
    worker, secretary, property_manager = _users(spec, "worker1", "secretary", "e1-property")
    committee = _users(spec, *(f"e1-oc{n}" for n in range(1, 10)))
    chair = committee[0]
    rng = ctx.rng("deliberation", community.code)

    topic = services.topic_open(
        actor=worker,
        community=community,
        estate=estate,
        title=PARKING_TITLE,
        description="小区车位远少于车辆，夜间车辆停满主干道和消防通道，居民反映强烈。",
        now=day(150),
    )
    topic = services.topic_advance(
        actor=worker,
        topic=topic,
        action=TopicAction.DELIBERATE,
        note="走访和居民反映汇总：停车难是小区第一位的问题。",
        now=day(140),
    )
    meeting = services.meeting_schedule(
        actor=secretary,
        community=community,
        topic=topic,
        kind=MeetingKind.THREE_PARTIES,
        title="三驾马车联合办公：停车难怎么解",
        starts_at=day(136, 14),
        location="小区三驾马车联合办公室",
        agenda="一、停车现状与居民意见\n二、道路改造增加车位的可行性\n三、资金来源与业主表决安排",
        invitations=[
            services.InviteeSpec(party=Party.RESIDENTS_COMMITTEE, user=secretary),
            services.InviteeSpec(party=Party.OWNERS_COMMITTEE, user=chair),
            services.InviteeSpec(party=Party.PROPERTY_COMPANY, user=property_manager),
        ],
        now=day(138),
    )
    services.meeting_record(
        actor=secretary,
        meeting=meeting,
        attendance={i.pk: Attendance.PRESENT for i in meeting.invitations.all()},
        minutes=(
            "三方一致认为：改造小区主干道、利用边角绿地划设车位，可明显增加车位并打通"
            "消防通道。改造属于改建共有部分的设施，须由业主大会表决。"
        ),
        resolutions=[
            services.ResolutionSpec(text="由业委会拟订道路改造增加停车位方案，提交业主大会表决"),
            services.ResolutionSpec(text="物业公司配合清理消防通道内的违停车辆"),
        ],
        now=day(136, 17),
    )
    services.meeting_publish(actor=secretary, meeting=meeting, now=day(135))
    topic = services.topic_advance(actor=worker, topic=topic, action=TopicAction.PLAN, now=day(130))
    plan = services.plan_create(
        actor=chair,
        topic=topic,
        title="小区道路改造增加停车位方案",
        description=(
            "拓宽主干道，改造边角绿地，划设停车位；施划消防通道标线并设置隔离桩；建设停车管理系统。"
        ),
        cost="3680000.00",
        requires_owners_vote=True,
        vote_item=Item.REBUILD,
        now=day(125),
    )
    services.plan_funding_set(
        actor=chair,
        plan=plan,
        shares={
            FundingSource.MAINTENANCE_FUND: "2680000.00",
            FundingSource.GOVERNMENT: "1000000.00",
        },
        notes={FundingSource.GOVERNMENT: "街道美丽家园建设补贴"},
        now=day(124),
    )
    services.owners_meeting_rules_set(
        actor=chair,
        estate=estate,
        electronic_voting=True,
        adopted_on=day(400).date(),
    )
    vote = services.vote_notice(
        actor=chair,
        topic=topic,
        convener_kind=ConvenerKind.OWNERS_COMMITTEE,
        title="小区道路改造增加停车位方案",
        description="是否同意按《小区道路改造增加停车位方案》改造道路、增加停车位。",
        item=Item.REBUILD,
        opens_at=day(105, 9),
        closes_at=day(90, 18),
        plan=plan,
        now=day(121),
    )
    _ballots(rng, vote=vote, committee=committee, day=day)
    services.vote_count(actor=chair, vote=vote, now=day(89))

    milestones = [
        ("道路拓宽与管线迁改", 85, 55, MilestoneStatus.DONE, 100, "主干道由 4 米拓宽至 6 米", 54),
        (
            "划设停车位、清理消防通道",
            54,
            20,
            MilestoneStatus.DONE,
            100,
            f"新增停车位 {NEW_SPACES} 个；消防通道全部清空",
            18,
        ),
        ("停车管理系统与道闸上线", 19, -10, MilestoneStatus.IN_PROGRESS, 60, "", 2),
    ]
    for title, start, end, status, progress, outcome, reported in milestones:
        milestone = services.milestone_add(
            actor=property_manager,
            plan=plan,
            title=title,
            planned_start=day(start).date(),
            planned_end=day(end).date(),
        )
        services.milestone_update(
            actor=property_manager,
            milestone=milestone,
            status=status,
            progress=progress,
            outcome=outcome,
            note="按计划推进" if status != MilestoneStatus.DONE else "已完成并经三方验收",
            now=day(reported, 16),
        )
    ctx.say(
        _("%(name)s：道路改造方案经业主大会表决通过，新增停车位 %(n)d 个")
        % {"name": spec.name, "n": NEW_SPACES}
    )


def _ballots(rng, *, vote, committee: list[User], day) -> None:
    """The committee's members vote online; most other owners hand in paper ballots (a
    few by written proxy), entered after the counting session. A high vote, as in the
    article."""
    members = {m.pk for m in committee}
    online = [e for e in vote.roll.select_related("place") if e.representative_id in members]
    for entry in online:
        services.ballot_cast(
            actor=entry.representative,
            vote=vote,
            entry=entry,
            choice=BallotChoice.AGREE,
            now=day(104, 20),
        )
    voted_owners = {e.owner_key for e in online}
    paper: list[services.BallotSpec] = []
    developer_done = False
    for entry in vote.roll.select_related("place").order_by("place__code"):
        if entry.owner_key in voted_owners or (entry.developer_unsold and developer_done):
            continue
        voted_owners.add(entry.owner_key)
        developer_done = developer_done or entry.developer_unsold
        if rng.random() >= 0.86:
            continue
        roll = rng.random()
        choice = (
            BallotChoice.AGREE
            if roll < 0.93
            else BallotChoice.DISAGREE
            if roll < 0.97
            else BallotChoice.ABSTAIN
        )
        if len(paper) % 25 == 24:
            paper.append(
                services.BallotSpec(
                    entry,
                    choice,
                    BallotChannel.PROXY,
                    proxy_holder="业主亲属",
                    proxy_note="业主书面委托，委托书原件存业委会",
                )
            )
        else:
            paper.append(services.BallotSpec(entry, choice))
    if paper:
        services.ballots_enter(actor=committee[0], vote=vote, ballots=paper, now=day(91, 15))


def _drain(ctx: DemoContext, spec, community: Place, day) -> None:
    estate = Place.objects.get(parent=community, kind=PlaceKind.ESTATE, code__endswith="-E1")
    worker, secretary, property_manager, chair = _users(
        spec, "worker1", "secretary", "e1-property", "e1-oc1"
    )
    shops = Place.objects.filter(parent=estate, kind=PlaceKind.STREET_SHOP).count()

    topic = services.topic_open(
        actor=worker,
        community=community,
        estate=estate,
        title=DRAIN_TITLE,
        description="雨天小区大门口污水漫上人行道，居民和沿街商铺多次反映。",
        now=day(75),
    )
    topic = services.topic_advance(
        actor=worker, topic=topic, action=TopicAction.DELIBERATE, now=day(70)
    )
    meeting = services.meeting_schedule(
        actor=secretary,
        community=community,
        topic=topic,
        kind=MeetingKind.JOINT,
        title="门口污水外溢专家联席会",
        starts_at=day(66, 14),
        location="张家宅居民区党群服务站",
        agenda="一、现场勘查情况\n二、专家意见\n三、出资方案：政府、维修资金、沿街商铺",
        invitations=[
            services.InviteeSpec(party=Party.RESIDENTS_COMMITTEE, user=secretary),
            services.InviteeSpec(party=Party.OWNERS_COMMITTEE, user=chair),
            services.InviteeSpec(party=Party.PROPERTY_COMPANY, user=property_manager),
            services.InviteeSpec(
                party=Party.EXPERT, name="排水专家", organisation="市政排水设计单位"
            ),
        ],
        now=day(68),
    )
    services.meeting_record(
        actor=secretary,
        meeting=meeting,
        attendance={i.pk: Attendance.PRESENT for i in meeting.invitations.all()},
        minutes=(
            "经现场勘查，门口排水管径不足且雨污混接，须新建排水管接入市政管网。"
            "费用由政府补一点、维修资金出一点、沿街商铺担一点。"
        ),
        resolutions=[
            services.ResolutionSpec(text="新建排水管，政府补贴、维修资金、沿街商铺三方出资"),
            services.ResolutionSpec(text="施工期间设置临时排水", outcome=ResolutionOutcome.ADOPTED),
        ],
        now=day(66, 17),
    )
    services.meeting_publish(actor=secretary, meeting=meeting, now=day(65))
    topic = services.topic_advance(actor=worker, topic=topic, action=TopicAction.PLAN, now=day(60))
    plan = services.plan_create(
        actor=worker,
        topic=topic,
        title="国际丽都城门口新建排水管",
        description="门口新建 DN300 排水管 60 米，雨污分流，接入市政管网。",
        cost="186000.00",
        now=day(58),
    )
    services.plan_funding_set(
        actor=worker,
        plan=plan,
        shares={
            FundingSource.GOVERNMENT: Decimal("100000.00"),
            FundingSource.MAINTENANCE_FUND: Decimal("56000.00"),
            FundingSource.STREET_SHOPS: Decimal("30000.00"),
        },
        notes={FundingSource.STREET_SHOPS: f"门口 {shops} 家沿街商铺分摊"},
        now=day(57),
    )
    services.plan_adopt(actor=secretary, plan=plan, note="专家联席会决议", now=day(50))
    for title, start, end, status, progress, reported in (
        ("管线勘察与设计", 50, 40, MilestoneStatus.DONE, 100, 40),
        ("开挖铺设排水管", 39, -7, MilestoneStatus.IN_PROGRESS, 70, 3),
    ):
        milestone = services.milestone_add(
            actor=property_manager,
            plan=plan,
            title=title,
            planned_start=day(start).date(),
            planned_end=day(end).date(),
        )
        services.milestone_update(
            actor=property_manager,
            milestone=milestone,
            status=status,
            progress=progress,
            note="已铺设约 40 米" if status != MilestoneStatus.DONE else "设计已通过审查",
            now=day(reported, 16),
        )
    ctx.say(
        _("%(name)s：新建排水管，政府补贴、维修资金、沿街商铺出资合计 %(cost)s 元")
        % {"name": spec.name, "cost": f"{plan.cost:,.2f}"}
    )
