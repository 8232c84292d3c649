"""Every write of the consultation loop: topics and their moves, surveys, meetings, plans
and their funding, the owner register, owners' votes and ballots, milestones, feedback.

Each service checks the permission predicates of `rules.py` (a Django superuser gets no
shortcut), runs in one transaction, writes an audit event for every change and, where a
topic moves or something happens to it, a history event (`TopicEvent`). Notifications
are outbox rows written in the same transaction; anything leaving the machine goes after
commit (`core.notifications`).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import IO, Any

import rules
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Relation, Residency, ResidencyStatus, User
from gongzhi.accounts.selectors import place_label
from gongzhi.cases.models import Case
from gongzhi.cases.services import case_link_topic, case_to_topic, cases_close_for_topic
from gongzhi.cases.states import OPEN_STATES as CASE_OPEN_STATES
from gongzhi.cases.states import CaseState
from gongzhi.core.audit import audit_record, audit_record_many
from gongzhi.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from gongzhi.core.images import MAX_PHOTO_PIXELS, image_clean
from gongzhi.core.notifications import notify
from gongzhi.places.models import Place, PlaceKind

from .models import (
    Answer,
    AreaSource,
    Attendance,
    Ballot,
    ConvenerKind,
    Eligibility,
    FundingShare,
    FundingSource,
    Meeting,
    MeetingInvitation,
    MeetingKind,
    MeetingState,
    Milestone,
    MilestonePhoto,
    MilestoneStatus,
    OnePer,
    OwnerRegisterEntry,
    OwnersMeetingRules,
    OwnersVote,
    Party,
    Plan,
    PlanDocument,
    PlanState,
    PreparatoryGroupMember,
    Question,
    QuestionKind,
    Resolution,
    ResolutionOutcome,
    Response,
    Survey,
    SurveyKind,
    SurveyState,
    Topic,
    TopicEvent,
    TopicEventKind,
    TopicOrigin,
    TopicSupport,
    VoteRollEntry,
    VoteState,
)
from .register import register_read, row_code
from .selectors import (
    register_places,
    survey_eligible_count,
    survey_eligible_places_for,
    topic_staff,
    vote_tally,
)
from .states import MANUAL_ACTIONS, TopicAction, TopicState, topic_next_state
from .tally import BallotChannel, BallotChoice, Item

MAX_TITLE = 100
MAX_TEXT = 5000
MAX_QUESTIONS = 30
MAX_OPTIONS = 20
MONEY_QUANTUM = Decimal("0.01")
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_MONEY = Decimal("999999999999.99")


# --- helpers ------------------------------------------------------------------------------


def _require(perm: str, actor: Any, obj: Any = None) -> None:
    if not rules.has_perm(perm, actor, obj):
        raise PermissionDenied()


def _text(value: str, *, message: str, field_name: str, limit: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(message, code=f"{field_name}_required", field=field_name)
    if len(text) > limit:
        raise ValidationFailed(
            _("内容过长（最多 %(n)d 字）。") % {"n": limit}, code=f"{field_name}_too_long"
        )
    return text


def money(value: Any, *, field_name: str = "amount") -> Decimal:
    """A money amount in yuan with at most two decimals; never a float."""
    if isinstance(value, float):
        raise TypeError("money is Decimal, int or str, never float")
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        raise ValidationFailed(
            _("金额须为不小于 0 的数字。"), code="invalid_amount", field=field_name
        )
    if amount != amount.quantize(MONEY_QUANTUM):
        raise ValidationFailed(
            _("金额最多保留两位小数（精确到分）。"), code="invalid_amount", field=field_name
        )
    return amount.quantize(MONEY_QUANTUM)


def yuan(amount: Decimal) -> str:
    """12345.6 → 12,345.60 元: how amounts read in messages."""
    return _("%(n)s 元") % {"n": f"{amount:,.2f}"}


def _at(now: datetime | None) -> datetime:
    """When something happened: now, or an earlier moment given by the caller.

    Services that record history take `now` so that what happened before it was entered
    (a paper vote held before gongzhi, the demo's history) carries its own time; the
    pages never pass it. The audit event still says when it was entered. A moment in
    the future is refused.
    """
    current = timezone.now()
    if now is None:
        return current
    if now > current:
        raise ValidationFailed(_("记录的时间不能晚于现在。"), code="time_in_future")
    return now


def _community(place: Place) -> Place:
    """The community a place lies in (itself for a community)."""
    if place.kind == PlaceKind.COMMUNITY:
        return place
    if place.community is None:
        raise ValidationFailed(_("该地点不属于任何居民区。"), code="place_without_community")
    return place.community


def _locked(topic: Topic) -> Topic:
    return Topic.objects.select_for_update().get(pk=topic.pk)


def _event(
    topic: Topic,
    *,
    actor: Any,
    kind: str,
    note: str = "",
    from_state: str = "",
    to_state: str = "",
    public: bool = True,
    at: datetime | None = None,
) -> TopicEvent:
    return TopicEvent.objects.create(
        topic=topic,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        kind=kind,
        note=note,
        from_state=from_state,
        to_state=to_state,
        public=public,
    )


def _move(
    topic: Topic,
    *,
    actor: Any,
    action: str,
    kind: str,
    note: str = "",
    now: datetime | None = None,
) -> Topic:
    """Move a locked topic along the loop: state, history event, audit."""
    before = topic.state
    topic.state = topic_next_state(topic.state, action)
    now = now or timezone.now()
    topic.state_changed_at = now
    if topic.state in (TopicState.DONE, TopicState.DECLINED):
        topic.closed_at = now
    topic.save(update_fields=["state", "state_changed_at", "closed_at", "updated_at"])
    _event(
        topic,
        actor=actor,
        kind=kind,
        note=note,
        from_state=before,
        to_state=topic.state,
        at=now,
    )
    audit_record(
        actor=actor,
        verb=f"topic.{action}",
        obj=topic,
        before={"state": before},
        after={"state": topic.state, "note": note},
    )
    return topic


def _topic_link(topic: Topic) -> str:
    return reverse("deliberation:topic", args=[topic.pk])


def _community_and_estate(community: Place, estate: Place | None) -> None:
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed(_("请选择居民区。"), code="not_a_community")
    if estate is not None and (
        estate.kind != PlaceKind.ESTATE or estate.community_id != community.pk
    ):
        raise ValidationFailed(_("所选小区不在该居民区内。"), code="estate_outside_community")


# --- topics -------------------------------------------------------------------------------


def topic_open(
    *,
    actor: User,
    community: Place,
    title: str,
    description: str = "",
    estate: Place | None = None,
    category: Any = None,
    now: datetime | None = None,
) -> Topic:
    """A community worker opens a topic (立项): it starts by collecting opinions."""
    now = _at(now)
    _community_and_estate(community, estate)
    _require("deliberation.open_topic", actor, community)
    title = _text(title, message=_("请填写议题。"), field_name="title", limit=MAX_TITLE)
    description = _text(
        description, message="", field_name="description", limit=MAX_TEXT, required=False
    )
    with transaction.atomic():
        topic = Topic.objects.create(
            community=community,
            estate=estate,
            title=title,
            description=description,
            origin=TopicOrigin.WORKER,
            state=TopicState.COLLECTING,
            category=category,
            opened_by=actor,
            state_changed_at=now,
        )
        _event(topic, actor=actor, kind=TopicEventKind.OPENED, to_state=topic.state, at=now)
        audit_record(
            actor=actor,
            verb="topic.open",
            obj=topic,
            after={"title": title, "community": community, "estate": estate},
        )
    return topic


def topic_propose(
    *,
    actor: User,
    community: Place,
    title: str,
    description: str,
    estate: Place | None = None,
) -> Topic:
    """A resident proposes a topic; it gathers supports until staff accept or decline it.
    The community's staff are told in their inbox."""
    _community_and_estate(community, estate)
    _require("deliberation.propose_topic", actor, community)
    title = _text(title, message=_("请填写议题。"), field_name="title", limit=MAX_TITLE)
    description = _text(
        description, message=_("请说明提议的理由。"), field_name="description", limit=MAX_TEXT
    )
    with transaction.atomic():
        topic = Topic.objects.create(
            community=community,
            estate=estate,
            title=title,
            description=description,
            origin=TopicOrigin.RESIDENT,
            state=TopicState.PROPOSED,
            proposed_by=actor,
            state_changed_at=timezone.now(),
        )
        _event(topic, actor=actor, kind=TopicEventKind.PROPOSED, to_state=topic.state)
        audit_record(
            actor=actor,
            verb="topic.propose",
            obj=topic,
            after={"title": title, "community": community, "estate": estate},
        )
        notify(
            recipients=topic_staff(topic=topic),
            verb="topic.proposed",
            title=_("居民提议：%(title)s") % {"title": title},
            link=_topic_link(topic),
            obj=topic,
        )
    return topic


def topic_support(*, actor: User, topic: Topic) -> TopicSupport:
    """A resident supports (附议) a proposal that is still gathering opinions; once."""
    _require("deliberation.support_topic", actor, topic)
    if topic.state not in (TopicState.PROPOSED, TopicState.COLLECTING):
        raise InvalidTransition(_("该议题已不再征集附议。"), code="support_closed")
    with transaction.atomic():
        try:
            with transaction.atomic():
                support = TopicSupport.objects.create(topic=topic, user=actor, at=timezone.now())
        except IntegrityError as exc:
            raise Conflict(_("您已附议过该议题。"), code="already_supported") from exc
        audit_record(actor=actor, verb="topic.support", obj=topic, after={"user": actor.pk})
    return support


def topic_accept(*, actor: User, topic: Topic, note: str = "") -> Topic:
    """Staff accept a resident's proposal: it starts collecting opinions; the proposer
    is told."""
    _require("deliberation.manage_topic", actor, topic)
    note = _text(note, message="", field_name="note", limit=500, required=False)
    with transaction.atomic():
        topic = _move(
            _locked(topic),
            actor=actor,
            action=TopicAction.ACCEPT,
            kind=TopicEventKind.ACCEPTED,
            note=note,
        )
        topic.opened_by = actor
        topic.save(update_fields=["opened_by", "updated_at"])
        notify(
            recipients=[topic.proposed_by],
            verb="topic.accepted",
            title=_("您的提议“%(title)s”已立项") % {"title": topic.title},
            body=note,
            link=_topic_link(topic),
            obj=topic,
        )
    return topic


def topic_decline(*, actor: User, topic: Topic, note: str) -> Topic:
    """Staff decline a proposal, saying why; the proposer is told."""
    _require("deliberation.manage_topic", actor, topic)
    note = _text(note, message=_("请说明不予立项的理由。"), field_name="note", limit=500)
    with transaction.atomic():
        topic = _move(
            _locked(topic),
            actor=actor,
            action=TopicAction.DECLINE,
            kind=TopicEventKind.DECLINED,
            note=note,
        )
        notify(
            recipients=[topic.proposed_by],
            verb="topic.declined",
            title=_("您的提议“%(title)s”未立项") % {"title": topic.title},
            body=note,
            link=_topic_link(topic),
            obj=topic,
        )
    return topic


def topic_advance(
    *, actor: User, topic: Topic, action: str, note: str = "", now: datetime | None = None
) -> Topic:
    """Staff move a topic by hand: to deliberation, back to collecting opinions, to
    planning, or (once feedback is in) to done. Moves that follow from a vote, a plan or
    its milestones are made by those services, not here."""
    _require("deliberation.manage_topic", actor, topic)
    if action not in MANUAL_ACTIONS or action in (TopicAction.ACCEPT, TopicAction.DECLINE):
        raise InvalidTransition(_("该步骤由表决、方案或节点自动推进。"), code="not_manual")
    note = _text(note, message="", field_name="note", limit=500, required=False)
    with transaction.atomic():
        topic = _locked(topic)
        if action == TopicAction.CLOSE:
            _close_feedback(topic=topic, actor=actor)
            kind = TopicEventKind.DONE
        else:
            kind = TopicEventKind.MOVED
        topic = _move(topic, actor=actor, action=action, kind=kind, note=note, now=_at(now))
    return topic


def _close_feedback(*, topic: Topic, actor: User) -> None:
    for survey in topic.surveys.filter(kind=SurveyKind.FEEDBACK, state=SurveyState.OPEN):
        _survey_close(survey=survey, actor=actor)


def _estate_of_case(case: Case) -> Place | None:
    """The estate a case's place lies in (by code: an estate is the fourth segment)."""
    codes = case.place.ancestor_codes()
    if len(codes) < 4:
        return None
    return Place.objects.filter(code=codes[3], kind=PlaceKind.ESTATE).first()


def topic_from_cases(
    *,
    actor: User,
    cases: Sequence[Case],
    title: str,
    note: str,
    description: str = "",
) -> Topic:
    """Open a topic from several cases of one community (转议题): open cases are turned
    into the topic, cases already turned into a topic are linked to it. Their reporters
    are told by the cases app; the cases close when the topic's plan is done."""
    if not cases:
        raise ValidationFailed(_("请选择要转为议题的诉求。"), code="no_cases")
    communities = {case.community_id for case in cases}
    if len(communities) != 1:
        raise ValidationFailed(
            _("只能把同一居民区的诉求转为一个议题。"), code="cases_span_communities"
        )
    community = cases[0].community
    found = [_estate_of_case(c) for c in cases]
    estate = found[0] if len({e.pk if e else None for e in found}) == 1 else None
    categories = {case.category_id for case in cases}
    category = cases[0].category if len(categories) == 1 else None
    with transaction.atomic():
        topic = topic_open(
            actor=actor,
            community=community,
            estate=estate,
            title=title,
            description=description,
            category=category,
        )
        topic.origin = TopicOrigin.CASES
        topic.save(update_fields=["origin", "updated_at"])
        for case in cases:
            _link_case(topic=topic, case=case, actor=actor, note=note)
    return topic


def topic_link_case(*, actor: User, topic: Topic, case: Case, note: str) -> Case:
    """Bring one more case into an open topic (the case is turned into it or linked)."""
    _require("deliberation.manage_topic", actor, topic)
    if topic.state in (TopicState.DONE, TopicState.DECLINED, TopicState.FEEDBACK):
        raise InvalidTransition(_("该议题已结束，不能再关联诉求。"), code="topic_closed")
    if case.community_id != topic.community_id:
        raise ValidationFailed(_("只能关联本居民区的诉求。"), code="case_outside_community")
    with transaction.atomic():
        return _link_case(topic=topic, case=case, actor=actor, note=note)


def _link_case(*, topic: Topic, case: Case, actor: User, note: str) -> Case:
    # The case as it is now: the caller's copy may predate someone else's step.
    case = Case.objects.get(pk=case.pk)
    if case.state in CASE_OPEN_STATES:
        linked = case_to_topic(actor=actor, case=case, note=note, topic_ref=topic.ref)
    elif case.state == CaseState.TO_TOPIC:
        linked = case_link_topic(actor=actor, case=case, topic_ref=topic.ref)
    else:
        raise InvalidTransition(
            _("诉求 %(number)s 已%(state)s，不能转为议题。")
            % {"number": case.number, "state": case.get_state_display()},
            code="case_not_open",
        )
    _event(
        topic,
        actor=actor,
        kind=TopicEventKind.CASE_LINKED,
        note=_("关联诉求 %(number)s") % {"number": case.number},
        public=False,
    )
    audit_record(actor=actor, verb="topic.link_case", obj=topic, after={"case": case.number})
    return linked


# --- surveys and polls --------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSpec:
    kind: str
    text: str
    options: tuple[str, ...] = ()
    scale_min: int = 1
    scale_max: int = 5
    required: bool = True


def _clean_questions(questions: Sequence[QuestionSpec]) -> list[QuestionSpec]:
    if not questions:
        raise ValidationFailed(_("请至少设置一道题目。"), code="no_questions")
    if len(questions) > MAX_QUESTIONS:
        raise ValidationFailed(
            _("题目最多 %(n)d 道。") % {"n": MAX_QUESTIONS}, code="too_many_questions"
        )
    cleaned = []
    for number, q in enumerate(questions, start=1):
        if q.kind not in QuestionKind.values:
            raise ValidationFailed(_("第 %(n)d 题的题型无效。") % {"n": number}, code="bad_kind")
        text = (q.text or "").strip()
        if not text or len(text) > 200:
            raise ValidationFailed(
                _("第 %(n)d 题的题目须为 1–200 字。") % {"n": number}, code="bad_question"
            )
        options = tuple(o.strip() for o in q.options if o and o.strip())
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            if not 2 <= len(options) <= MAX_OPTIONS or len(set(options)) != len(options):
                raise ValidationFailed(
                    _("第 %(n)d 题须有 2–%(max)d 个互不相同的选项。")
                    % {"n": number, "max": MAX_OPTIONS},
                    code="bad_options",
                )
        else:
            options = ()
        if q.kind == QuestionKind.SCALE and not q.scale_min < q.scale_max <= 10:
            raise ValidationFailed(
                _("第 %(n)d 题的分值范围无效。") % {"n": number}, code="bad_scale"
            )
        cleaned.append(
            QuestionSpec(q.kind, text, options, q.scale_min, q.scale_max, bool(q.required))
        )
    return cleaned


def survey_create(
    *,
    actor: User,
    place: Place,
    kind: str,
    title: str,
    questions: Sequence[QuestionSpec],
    eligibility: str = Eligibility.RESIDENTS,
    one_per: str = OnePer.PERSON,
    description: str = "",
    topic: Topic | None = None,
    closes_at: datetime | None = None,
    quorum: Fraction = Fraction(0),
    majority: Fraction = Fraction(1, 2),
    majority_inclusive: bool = False,
) -> Survey:
    """Write a survey or poll (draft) for the people of `place` (a community, estate or
    building). A poll has one single-choice question and the quorum and majority its
    organisers set; turnout is always counted against the eligible."""
    if place.kind not in (PlaceKind.COMMUNITY, PlaceKind.ESTATE, PlaceKind.BUILDING):
        raise ValidationFailed(_("范围须为居民区、小区或楼栋。"), code="bad_scope")
    if topic is not None and not place.is_within(topic.community):
        raise ValidationFailed(_("问卷范围须在议题所在的居民区内。"), code="scope_outside_topic")
    obj = topic if topic is not None else place
    _require("deliberation.manage_survey", actor, obj)
    if kind not in SurveyKind.values or eligibility not in Eligibility.values:
        raise ValidationFailed(_("类型或参与资格无效。"), code="bad_survey_kind")
    if one_per not in OnePer.values:
        raise ValidationFailed(_("填写份数设置无效。"), code="bad_one_per")
    if eligibility == Eligibility.SHOPS and one_per == OnePer.DWELLING:
        one_per = OnePer.PERSON
    title = _text(title, message=_("请填写标题。"), field_name="title", limit=MAX_TITLE)
    questions = _clean_questions(questions)
    if kind == SurveyKind.POLL and (
        len(questions) != 1 or questions[0].kind != QuestionKind.SINGLE
    ):
        raise ValidationFailed(_("民意投票须只有一道单选题。"), code="poll_shape")
    for threshold in (quorum, majority):
        if not 0 <= threshold <= 1 or threshold.denominator > 1000:
            raise ValidationFailed(_("门槛须在 0 与 1 之间。"), code="bad_threshold")
    if closes_at is not None and closes_at <= timezone.now():
        raise ValidationFailed(_("截止时间须晚于现在。"), code="closes_in_past")
    with transaction.atomic():
        survey = Survey.objects.create(
            community=_community(place),
            place=place,
            topic=topic,
            kind=kind,
            title=title,
            description=_text(
                description, message="", field_name="description", limit=MAX_TEXT, required=False
            ),
            eligibility=eligibility,
            one_per=one_per,
            closes_at=closes_at,
            quorum_numerator=quorum.numerator,
            quorum_denominator=quorum.denominator,
            majority_numerator=majority.numerator,
            majority_denominator=majority.denominator,
            majority_inclusive=majority_inclusive,
            created_by=actor,
        )
        Question.objects.bulk_create(
            Question(
                survey=survey,
                position=i,
                kind=q.kind,
                text=q.text,
                options=list(q.options),
                scale_min=q.scale_min,
                scale_max=q.scale_max,
                required=q.required,
            )
            for i, q in enumerate(questions, start=1)
        )
        audit_record(
            actor=actor,
            verb="survey.create",
            obj=survey,
            after={
                "title": title,
                "kind": kind,
                "place": place,
                "eligibility": eligibility,
                "one_per": one_per,
                "questions": len(questions),
            },
        )
    return survey


def survey_open(*, actor: User, survey: Survey) -> Survey:
    """Publish a draft survey: eligible people may answer until it closes."""
    _require("deliberation.manage_survey", actor, survey.topic or survey.place)
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if survey.state != SurveyState.DRAFT:
            raise InvalidTransition(_("该问卷已发布。"), code="survey_not_draft")
        survey.state = SurveyState.OPEN
        survey.opened_at = timezone.now()
        survey.save(update_fields=["state", "opened_at", "updated_at"])
        audit_record(
            actor=actor,
            verb="survey.open",
            obj=survey,
            before={"state": SurveyState.DRAFT},
            after={"state": survey.state},
        )
        if survey.topic is not None:
            _event(
                survey.topic,
                actor=actor,
                kind=TopicEventKind.SURVEY_OPENED,
                note=survey.title,
            )
    return survey


def survey_close(*, actor: User, survey: Survey) -> Survey:
    """Close an open survey; the eligible count is kept as it stood at closing."""
    _require("deliberation.manage_survey", actor, survey.topic or survey.place)
    with transaction.atomic():
        return _survey_close(survey=survey, actor=actor)


def _survey_close(*, survey: Survey, actor: Any) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.state != SurveyState.OPEN:
        raise InvalidTransition(_("该问卷不在进行中。"), code="survey_not_open")
    survey.state = SurveyState.CLOSED
    survey.closed_at = timezone.now()
    survey.eligible_at_close = survey_eligible_count(survey=survey)
    survey.save(update_fields=["state", "closed_at", "eligible_at_close", "updated_at"])
    responses = survey.responses.count()
    audit_record(
        actor=actor,
        verb="survey.close",
        obj=survey,
        before={"state": SurveyState.OPEN},
        after={
            "state": survey.state,
            "eligible": survey.eligible_at_close,
            "responses": responses,
        },
    )
    if survey.topic is not None:
        _event(
            survey.topic,
            actor=actor,
            kind=TopicEventKind.SURVEY_CLOSED,
            note=_("%(title)s：%(r)d / %(e)d 份")
            % {"title": survey.title, "r": responses, "e": survey.eligible_at_close},
        )
    return survey


def _answer_value(question: Question, value: Any) -> dict[str, Any]:
    """Check one answer against its question; returns the Answer fields, or {} if empty."""
    label = _("第 %(n)d 题") % {"n": question.position}
    empty = value in (None, "", [], ())
    if empty:
        if question.required:
            raise ValidationFailed(
                _("%(q)s为必答题。") % {"q": label}, code="answer_required", field=question.pk
            )
        return {}
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        values = value if isinstance(value, list | tuple) else [value]
        try:
            picked = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            picked = [-1]
        if any(not 0 <= p < len(question.options) for p in picked):
            raise ValidationFailed(
                _("%(q)s的选项无效。") % {"q": label}, code="bad_choice", field=question.pk
            )
        if question.kind == QuestionKind.SINGLE and len(picked) != 1:
            raise ValidationFailed(
                _("%(q)s只能选一项。") % {"q": label}, code="bad_choice", field=question.pk
            )
        return {"choices": picked}
    if question.kind == QuestionKind.SCALE:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = question.scale_min - 1
        if not question.scale_min <= number <= question.scale_max:
            raise ValidationFailed(
                _("%(q)s的分值须在 %(a)d–%(b)d 之间。")
                % {"q": label, "a": question.scale_min, "b": question.scale_max},
                code="bad_scale_answer",
                field=question.pk,
            )
        return {"number": number}
    text = str(value).strip()
    if len(text) > 2000:
        raise ValidationFailed(
            _("%(q)s的回答过长（最多 2000 字）。") % {"q": label},
            code="answer_too_long",
            field=question.pk,
        )
    return {"text": text} if text else {}


def survey_answer(
    *, actor: User, survey: Survey, answers: Mapping[int, Any], place: Place | None = None
) -> Response:
    """An eligible person answers an open survey, once (per person, or per dwelling for
    a survey counted by dwelling: then `place` says for which of their homes)."""
    survey = Survey.objects.get(pk=survey.pk)
    if survey.state != SurveyState.OPEN:
        raise InvalidTransition(_("该问卷不在进行中。"), code="survey_not_open")
    if survey.closes_at is not None and timezone.now() >= survey.closes_at:
        raise InvalidTransition(_("该问卷已截止。"), code="survey_past_close")
    eligible = survey_eligible_places_for(user=actor, survey=survey)
    if not eligible:
        raise PermissionDenied(_("您不在本问卷的参与范围内。"), code="not_eligible")
    if survey.one_per == OnePer.DWELLING:
        if place is None and len(eligible) == 1:
            place = eligible[0]
        if place is None or place.pk not in {p.pk for p in eligible}:
            raise ValidationFailed(_("请选择您代表的房屋。"), code="choose_dwelling")
        key = f"p:{place.pk}"
    else:
        place = place if place is not None and place.pk in {p.pk for p in eligible} else eligible[0]
        key = f"u:{actor.pk}"
    questions = list(survey.questions.all())
    values = {q.pk: _answer_value(q, answers.get(q.pk)) for q in questions}
    with transaction.atomic():
        try:
            with transaction.atomic():
                response = Response.objects.create(
                    survey=survey,
                    respondent=actor,
                    place=place,
                    respondent_key=key,
                    submitted_at=timezone.now(),
                )
        except IntegrityError as exc:
            message = (
                _("该房屋已有家庭成员填写过本问卷。")
                if survey.one_per == OnePer.DWELLING
                else _("您已填写过本问卷。")
            )
            raise Conflict(message, code="already_answered") from exc
        Answer.objects.bulk_create(
            Answer(response=response, question_id=pk, **fields)
            for pk, fields in values.items()
            if fields
        )
        audit_record(actor=actor, verb="survey.answer", obj=response, after={"survey": survey.pk})
    return response


# --- meetings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteeSpec:
    party: str
    name: str = ""
    organisation: str = ""
    user: User | None = None


@dataclass(frozen=True)
class ResolutionSpec:
    text: str
    outcome: str = ResolutionOutcome.ADOPTED
    topic: Topic | None = None


def _invitation(meeting: Meeting, spec: InviteeSpec) -> MeetingInvitation:
    if spec.party not in Party.values:
        raise ValidationFailed(_("参会方无效。"), code="bad_party")
    name = (spec.name or (spec.user.display_name if spec.user else "")).strip()
    if not name:
        raise ValidationFailed(_("请填写参会人姓名。"), code="invitee_name_required")
    return MeetingInvitation(
        meeting=meeting,
        party=spec.party,
        user=spec.user,
        name=name[:50],
        organisation=(spec.organisation or "").strip()[:100],
    )


def meeting_schedule(
    *,
    actor: User,
    community: Place,
    kind: str,
    title: str,
    starts_at: datetime,
    location: str,
    agenda: str,
    topic: Topic | None = None,
    invitations: Sequence[InviteeSpec] = (),
    now: datetime | None = None,
) -> Meeting:
    """Schedule a meeting (议事会, 专家联席会, 三驾马车联合办公, 听证会) with its agenda and
    invitations; invitees with an account are told in their inbox."""
    now = _at(now)
    if topic is not None and topic.community_id != community.pk:
        raise ValidationFailed(_("会议须在议题所在的居民区召开。"), code="meeting_outside_topic")
    _require("deliberation.manage_meeting", actor, topic or community)
    if kind not in MeetingKind.values:
        raise ValidationFailed(_("会议类型无效。"), code="bad_meeting_kind")
    title = _text(title, message=_("请填写会议名称。"), field_name="title", limit=MAX_TITLE)
    location = _text(location, message=_("请填写会议地点。"), field_name="location", limit=100)
    agenda = _text(agenda, message=_("请填写会议议程。"), field_name="agenda", limit=MAX_TEXT)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            community=community,
            topic=topic,
            kind=kind,
            title=title,
            starts_at=starts_at,
            location=location,
            agenda=agenda,
            created_by=actor,
        )
        rows = [_invitation(meeting, spec) for spec in invitations]
        users = [r.user_id for r in rows if r.user_id]
        if len(users) != len(set(users)):
            raise ValidationFailed(_("同一人被邀请了两次。"), code="invited_twice")
        MeetingInvitation.objects.bulk_create(rows)
        audit_record(
            actor=actor,
            verb="meeting.schedule",
            obj=meeting,
            after={
                "kind": kind,
                "title": title,
                "starts_at": starts_at,
                "topic": topic,
                "invitations": [f"{r.get_party_display()} {r.name}" for r in rows],
            },
        )
        if topic is not None:
            _event(
                topic,
                actor=actor,
                kind=TopicEventKind.MEETING_SCHEDULED,
                note=_("%(kind)s：%(title)s，%(when)s，%(where)s")
                % {
                    "kind": meeting.get_kind_display(),
                    "title": title,
                    "when": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
                    "where": location,
                },
                at=now,
            )
        notify(
            recipients=[r.user for r in rows if r.user is not None],
            verb="meeting.invited",
            title=_("会议邀请：%(title)s") % {"title": title},
            body=_("%(when)s，%(where)s")
            % {
                "when": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
                "where": location,
            },
            link=reverse("deliberation:meeting", args=[meeting.pk]),
            obj=meeting,
        )
    return meeting


def meeting_record(
    *,
    actor: User,
    meeting: Meeting,
    attendance: Mapping[int, str],
    minutes: str,
    resolutions: Sequence[ResolutionSpec],
    now: datetime | None = None,
) -> Meeting:
    """Record who came, the minutes and the resolutions (each tied to a topic); may be
    corrected until the minutes are published."""
    now = _at(now)
    _require("deliberation.manage_meeting", actor, meeting)
    minutes = _text(minutes, message=_("请填写会议纪要。"), field_name="minutes", limit=20000)
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if meeting.state == MeetingState.PUBLISHED:
            raise InvalidTransition(_("纪要已公布，不能再修改。"), code="meeting_published")
        invitations = {i.pk: i for i in meeting.invitations.all()}
        for pk, value in attendance.items():
            if pk not in invitations or value not in Attendance.values:
                raise ValidationFailed(_("出席情况无效。"), code="bad_attendance")
            invitations[pk].attendance = value
        MeetingInvitation.objects.bulk_update(list(invitations.values()), ["attendance"])
        cleaned = []
        for spec in resolutions:
            text = (spec.text or "").strip()
            if not text:
                continue
            if spec.outcome not in ResolutionOutcome.values:
                raise ValidationFailed(_("决议结果无效。"), code="bad_outcome")
            topic = spec.topic or meeting.topic
            if topic is not None and topic.community_id != meeting.community_id:
                raise ValidationFailed(_("决议的议题须在本居民区。"), code="resolution_topic")
            cleaned.append((text[:MAX_TEXT], spec.outcome, topic))
        meeting.resolutions.all().delete()
        Resolution.objects.bulk_create(
            Resolution(meeting=meeting, topic=topic, position=i, text=text, outcome=outcome)
            for i, (text, outcome, topic) in enumerate(cleaned, start=1)
        )
        before = meeting.state
        meeting.minutes = minutes
        meeting.state = MeetingState.HELD
        meeting.held_at = meeting.held_at or now
        meeting.save(update_fields=["minutes", "state", "held_at", "updated_at"])
        audit_record(
            actor=actor,
            verb="meeting.record",
            obj=meeting,
            before={"state": before},
            after={
                "state": meeting.state,
                "present": sum(
                    1 for i in invitations.values() if i.attendance == Attendance.PRESENT
                ),
                "resolutions": [text for text, _o, _t in cleaned],
            },
        )
    return meeting


def meeting_publish(*, actor: User, meeting: Meeting, now: datetime | None = None) -> Meeting:
    """Publish the minutes and resolutions to residents (on the topic's page)."""
    now = _at(now)
    _require("deliberation.manage_meeting", actor, meeting)
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if meeting.state != MeetingState.HELD:
            raise InvalidTransition(_("请先记录会议纪要再公布。"), code="meeting_not_held")
        meeting.state = MeetingState.PUBLISHED
        meeting.published_at = now
        meeting.save(update_fields=["state", "published_at", "updated_at"])
        audit_record(
            actor=actor,
            verb="meeting.publish",
            obj=meeting,
            before={"state": MeetingState.HELD},
            after={"state": meeting.state},
        )
        topics = {r.topic for r in meeting.resolutions.select_related("topic") if r.topic}
        if meeting.topic is not None:
            topics.add(meeting.topic)
        for topic in topics:
            _event(
                topic,
                actor=actor,
                kind=TopicEventKind.MEETING_PUBLISHED,
                note="；".join(
                    f"{r.text}（{r.get_outcome_display()}）"
                    for r in meeting.resolutions.filter(Q(topic=topic) | Q(topic__isnull=True))
                )
                or meeting.title,
                at=now,
            )
    return meeting


# --- plans and funding --------------------------------------------------------------------


def plan_create(
    *,
    actor: User,
    topic: Topic,
    title: str,
    description: str,
    cost: Any,
    requires_owners_vote: bool = False,
    vote_item: int | None = None,
    now: datetime | None = None,
) -> Plan:
    """Write a plan (方案) for a topic in planning. A plan that is one of the matters
    owners decide (Civil Code art. 278) names its item and goes to an owners' vote."""
    now = _at(now)
    _require("deliberation.manage_plan", actor, topic)
    if topic.state != TopicState.PLANNING:
        raise InvalidTransition(_("议题进入方案制定阶段后才能拟订方案。"), code="not_planning")
    title = _text(title, message=_("请填写方案名称。"), field_name="title", limit=MAX_TITLE)
    description = _text(
        description, message=_("请填写方案内容。"), field_name="description", limit=MAX_TEXT
    )
    cost = money(cost, field_name="cost")
    if cost <= 0:
        raise ValidationFailed(_("总造价须大于 0。"), code="invalid_amount", field="cost")
    vote_item = _vote_item(requires_owners_vote, vote_item)
    if requires_owners_vote and topic.estate_id is None:
        raise ValidationFailed(_("须业主表决的方案，议题须指定小区。"), code="vote_needs_estate")
    with transaction.atomic():
        plan = Plan.objects.create(
            topic=topic,
            title=title,
            description=description,
            cost=cost,
            requires_owners_vote=requires_owners_vote,
            vote_item=vote_item,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            verb="plan.create",
            obj=plan,
            after={
                "title": title,
                "cost": cost,
                "requires_owners_vote": requires_owners_vote,
                "vote_item": vote_item,
            },
        )
        _event(
            topic,
            actor=actor,
            kind=TopicEventKind.PLAN_DRAFTED,
            note=_("%(title)s，总造价 %(cost)s") % {"title": title, "cost": yuan(cost)},
            at=now,
        )
    return plan


def _vote_item(requires_owners_vote: bool, vote_item: int | None) -> int | None:
    if not requires_owners_vote:
        return None
    if vote_item not in Item.values:
        raise ValidationFailed(
            _("须业主表决的方案，请选择民法典第二百七十八条的表决事项。"),
            code="vote_item_required",
            field="vote_item",
        )
    return vote_item


def plan_update(
    *,
    actor: User,
    plan: Plan,
    title: str,
    description: str,
    cost: Any,
    requires_owners_vote: bool,
    vote_item: int | None = None,
) -> Plan:
    """Revise a plan still being drafted (after a failed vote, for instance). A new cost
    clears nothing: the funding must then be set again to add up to it."""
    _require("deliberation.manage_plan", actor, plan)
    title = _text(title, message=_("请填写方案名称。"), field_name="title", limit=MAX_TITLE)
    description = _text(
        description, message=_("请填写方案内容。"), field_name="description", limit=MAX_TEXT
    )
    cost = money(cost, field_name="cost")
    if cost <= 0:
        raise ValidationFailed(_("总造价须大于 0。"), code="invalid_amount", field="cost")
    vote_item = _vote_item(requires_owners_vote, vote_item)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.state != PlanState.DRAFT:
            raise InvalidTransition(_("方案已通过，不能再修改。"), code="plan_not_draft")
        if plan.votes.filter(state=VoteState.NOTICED).exists():
            raise InvalidTransition(_("方案正在业主表决中，不能修改。"), code="plan_in_vote")
        before = {"title": plan.title, "cost": plan.cost, "vote_item": plan.vote_item}
        plan.title, plan.description, plan.cost = title, description, cost
        plan.requires_owners_vote, plan.vote_item = requires_owners_vote, vote_item
        plan.save()
        audit_record(
            actor=actor,
            verb="plan.update",
            obj=plan,
            before=before,
            after={"title": title, "cost": cost, "vote_item": vote_item},
        )
    return plan


def funding_check(*, cost: Decimal, shares: Mapping[str, Decimal]) -> None:
    """Refuse a funding split that does not add up exactly to the cost, saying by how
    much it is off (政府补一点、维修资金出一点、沿街商铺担一点 must make the whole)."""
    total = sum(shares.values(), Decimal("0.00"))
    if total != cost:
        difference = cost - total
        raise ValidationFailed(
            _("各出资来源合计 %(total)s，与方案总造价 %(cost)s 不一致，%(gap)s %(diff)s。")
            % {
                "total": yuan(total),
                "cost": yuan(cost),
                "gap": _("还差") if difference > 0 else _("多出"),
                "diff": yuan(abs(difference)),
            },
            code="funding_mismatch",
            total=str(total),
            cost=str(cost),
        )


def plan_funding_set(
    *,
    actor: User,
    plan: Plan,
    shares: Mapping[str, Any],
    notes: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[FundingShare]:
    """Set who pays what (出资) for a draft plan: amounts by source, replacing the split
    before. Refused unless the amounts add up exactly to the plan's cost."""
    now = _at(now)
    _require("deliberation.manage_plan", actor, plan)
    notes = notes or {}
    cleaned: dict[str, Decimal] = {}
    for source, value in shares.items():
        if source not in FundingSource.values:
            raise ValidationFailed(_("出资来源无效。"), code="bad_source")
        if value in (None, ""):
            continue
        amount = money(value, field_name=source)
        if amount > 0:
            cleaned[source] = amount
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.state != PlanState.DRAFT:
            raise InvalidTransition(_("方案已通过，出资不能再改。"), code="plan_not_draft")
        if plan.votes.filter(state=VoteState.NOTICED).exists():
            raise InvalidTransition(_("方案正在业主表决中，出资不能修改。"), code="plan_in_vote")
        funding_check(cost=plan.cost, shares=cleaned)
        before = {s.source: s.amount for s in plan.funding.all()}
        plan.funding.all().delete()
        rows = FundingShare.objects.bulk_create(
            FundingShare(
                plan=plan,
                source=source,
                amount=amount,
                note=(notes.get(source) or "").strip()[:200],
            )
            for source, amount in cleaned.items()
        )
        audit_record(actor=actor, verb="plan.funding_set", obj=plan, before=before, after=cleaned)
        _event(
            plan.topic,
            actor=actor,
            kind=TopicEventKind.FUNDING_SET,
            note="、".join(
                f"{FundingSource(source).label} {yuan(amount)}"
                for source, amount in cleaned.items()
            ),
            at=now,
        )
    return rows


def plan_document_add(*, actor: User, plan: Plan, title: str, file: UploadedFile) -> PlanDocument:
    """Attach a document (drawings, quotation, contract) to a plan."""
    _require("deliberation.manage_plan", actor, plan)
    title = _text(title, message=_("请填写文件名称。"), field_name="title", limit=MAX_TITLE)
    if file.size is not None and file.size > 20 * 1024 * 1024:
        raise ValidationFailed(_("文件不能超过 20 MB。"), code="file_too_large")
    with transaction.atomic():
        document = PlanDocument.objects.create(plan=plan, title=title, file=file, uploaded_by=actor)
        audit_record(actor=actor, verb="plan.document_add", obj=plan, after={"document": title})
    return document


def _funding_complete(plan: Plan) -> None:
    shares = {s.source: s.amount for s in plan.funding.all()}
    if not shares:
        raise ValidationFailed(_("请先确定出资：各来源合计须等于总造价。"), code="no_funding")
    funding_check(cost=plan.cost, shares=shares)


def plan_adopt(*, actor: User, plan: Plan, note: str = "", now: datetime | None = None) -> Plan:
    """Adopt a plan that needs no owners' vote: the topic moves to implementation. A plan
    that needs one is adopted only by a vote that passes (`vote_count`)."""
    now = _at(now)
    _require("deliberation.manage_plan", actor, plan)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.requires_owners_vote:
            raise InvalidTransition(
                _("该方案须经业主大会表决通过，不能直接通过。"), code="plan_needs_vote"
            )
        _funding_complete(plan)
        return _adopt(plan, actor=actor, action=TopicAction.ADOPT_PLAN, note=note, now=now)


def _adopt(plan: Plan, *, actor: Any, action: str, note: str, now: datetime) -> Plan:
    if plan.state != PlanState.DRAFT:
        raise InvalidTransition(_("方案已通过。"), code="plan_not_draft")
    plan.state = PlanState.ADOPTED
    plan.adopted_at = now
    plan.save(update_fields=["state", "adopted_at", "updated_at"])
    audit_record(
        actor=actor,
        verb="plan.adopt",
        obj=plan,
        before={"state": PlanState.DRAFT},
        after={"state": plan.state, "note": note},
    )
    _move(
        _locked(plan.topic),
        actor=actor,
        action=action,
        kind=TopicEventKind.PLAN_ADOPTED,
        note=note or plan.title,
        now=now,
    )
    return plan


# --- implementation -----------------------------------------------------------------------


def milestone_add(
    *, actor: User, plan: Plan, title: str, planned_start: date, planned_end: date
) -> Milestone:
    """Add a milestone (节点) to a plan that is not yet done."""
    _require("deliberation.update_milestone", actor, plan)
    title = _text(title, message=_("请填写节点名称。"), field_name="title", limit=MAX_TITLE)
    if planned_end < planned_start:
        raise ValidationFailed(_("计划完成日期不能早于开始日期。"), code="bad_dates")
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.state == PlanState.DONE:
            raise InvalidTransition(_("方案已完成。"), code="plan_done")
        position = plan.milestones.count() + 1
        milestone = Milestone.objects.create(
            plan=plan,
            position=position,
            title=title,
            planned_start=planned_start,
            planned_end=planned_end,
        )
        audit_record(
            actor=actor,
            verb="milestone.add",
            obj=milestone,
            after={"plan": plan, "title": title, "start": planned_start, "end": planned_end},
        )
    return milestone


def milestone_update(
    *,
    actor: User,
    milestone: Milestone,
    status: str,
    progress: int,
    note: str = "",
    outcome: str = "",
    finished_on: date | None = None,
    photos: Iterable[UploadedFile] = (),
    caption: str = "",
    now: datetime | None = None,
) -> Milestone:
    """Report a milestone's progress to residents (status, %, note, outcome, photos).
    Only an adopted plan is being built; a milestone done is at 100 % with a date."""
    now = _at(now)
    _require("deliberation.update_milestone", actor, milestone.plan)
    if status not in MilestoneStatus.values:
        raise ValidationFailed(_("节点状态无效。"), code="bad_status")
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValidationFailed(_("进度须为 0–100 的整数。"), code="bad_progress", field="progress")
    if status == MilestoneStatus.DONE:
        progress = 100
        finished_on = finished_on or timezone.localdate(now)
    elif progress == 100:
        raise ValidationFailed(
            _("进度 100% 的节点请标记为“已完成”。"), code="bad_progress", field="progress"
        )
    else:
        finished_on = None
    note = _text(note, message="", field_name="note", limit=500, required=False)
    outcome = _text(outcome, message="", field_name="outcome", limit=200, required=False)
    # Site photos may show homes and people: stored as clean copies, no EXIF or GPS.
    clean = [
        image_clean(photo, max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)
        for photo in photos
    ]
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update(of=("self",))
            .select_related("plan__topic")
            .get(pk=milestone.pk)
        )
        if milestone.plan.state != PlanState.ADOPTED:
            raise InvalidTransition(_("方案通过后才能填报实施进展。"), code="plan_not_adopted")
        before = {
            "status": milestone.status,
            "progress": milestone.progress,
            "outcome": milestone.outcome,
        }
        milestone.status, milestone.progress, milestone.finished_on = status, progress, finished_on
        milestone.note = note or milestone.note
        milestone.outcome = outcome or milestone.outcome
        milestone.save()
        for photo in clean:
            MilestonePhoto.objects.create(
                milestone=milestone, image=photo, caption=caption[:100], uploaded_by=actor
            )
        audit_record(
            actor=actor,
            verb="milestone.update",
            obj=milestone,
            before=before,
            after={
                "status": status,
                "progress": progress,
                "outcome": milestone.outcome,
                "photos": len(clean),
            },
        )
        _event(
            milestone.plan.topic,
            actor=actor,
            kind=TopicEventKind.MILESTONE_UPDATED,
            note=_("%(title)s：%(status)s，%(p)d%%")
            % {"title": milestone.title, "status": milestone.get_status_display(), "p": progress}
            + (f"。{milestone.outcome}" if milestone.outcome else ""),
            at=now,
        )
    return milestone


FEEDBACK_OPTIONS = ("满意", "基本满意", "不满意")


def plan_complete(*, actor: User, plan: Plan, note: str = "") -> Plan:
    """Complete a plan whose milestones are all done: the topic moves to feedback, a
    feedback survey opens for the residents of its place, and every case turned into
    the topic closes with its reporters told (`cases.services.cases_close_for_topic`)."""
    _require("deliberation.manage_plan", actor, plan)
    note = _text(note, message="", field_name="note", limit=500, required=False)
    with transaction.atomic():
        plan = Plan.objects.select_for_update(of=("self",)).select_related("topic").get(pk=plan.pk)
        if plan.state != PlanState.ADOPTED:
            raise InvalidTransition(_("只有实施中的方案才能完成。"), code="plan_not_adopted")
        milestones = list(plan.milestones.all())
        if not milestones:
            raise ValidationFailed(_("请先设置实施节点。"), code="no_milestones")
        unfinished = [m.title for m in milestones if m.status != MilestoneStatus.DONE]
        if unfinished:
            raise ValidationFailed(
                _("以下节点尚未完成：%(list)s") % {"list": "、".join(unfinished)},
                code="milestones_open",
            )
        plan.state = PlanState.DONE
        plan.done_at = timezone.now()
        plan.save(update_fields=["state", "done_at", "updated_at"])
        audit_record(
            actor=actor,
            verb="plan.complete",
            obj=plan,
            before={"state": PlanState.ADOPTED},
            after={"state": plan.state, "note": note},
        )
        topic = _move(
            _locked(plan.topic),
            actor=actor,
            action=TopicAction.COMPLETE_PLAN,
            kind=TopicEventKind.PLAN_COMPLETED,
            note=note or plan.title,
        )
        feedback = Survey.objects.create(
            community=topic.community,
            place=topic.place,
            topic=topic,
            kind=SurveyKind.FEEDBACK,
            title=_("“%(title)s”实施效果反馈") % {"title": plan.title},
            eligibility=Eligibility.RESIDENTS,
            one_per=OnePer.DWELLING,
            state=SurveyState.OPEN,
            opened_at=timezone.now(),
            created_by=actor,
        )
        Question.objects.bulk_create(
            [
                Question(
                    survey=feedback,
                    position=1,
                    kind=QuestionKind.SINGLE,
                    text=_("您对方案实施的效果满意吗？"),
                    options=[_(o) for o in FEEDBACK_OPTIONS],
                ),
                Question(
                    survey=feedback,
                    position=2,
                    kind=QuestionKind.TEXT,
                    text=_("还有什么意见和建议？"),
                    required=False,
                ),
            ]
        )
        audit_record(actor=actor, verb="survey.create", obj=feedback, after={"kind": "feedback"})
        _event(topic, actor=actor, kind=TopicEventKind.SURVEY_OPENED, note=feedback.title)
        cases_close_for_topic(
            actor=actor,
            topic_ref=topic.ref,
            note=_("“%(title)s”已实施完成。") % {"title": plan.title},
        )
    return plan


# --- the owner register -------------------------------------------------------------------


def owners_meeting_rules_set(
    *,
    actor: User,
    estate: Place,
    electronic_voting: bool,
    adopted_on: date | None = None,
    notice_days: int = 15,
) -> OwnersMeetingRules:
    """Record what the owners' meeting adopted in its rules of procedure: whether owners
    may vote online, and how many days a vote is noticed before it opens."""
    if estate.kind != PlaceKind.ESTATE:
        raise ValidationFailed(_("请选择小区。"), code="not_an_estate")
    _require("deliberation.set_meeting_rules", actor, estate)
    if electronic_voting and adopted_on is None:
        raise ValidationFailed(
            _("请填写业主大会决定采用电子投票的日期。"), code="adopted_on_required"
        )
    if not 1 <= notice_days <= 90:
        raise ValidationFailed(_("公告期须为 1–90 天。"), code="bad_notice_days")
    with transaction.atomic():
        rules_row, _created = OwnersMeetingRules.objects.select_for_update().get_or_create(
            estate=estate
        )
        before = {
            "electronic_voting": rules_row.electronic_voting,
            "adopted_on": rules_row.adopted_on,
            "notice_days": rules_row.notice_days,
        }
        rules_row.electronic_voting = electronic_voting
        rules_row.adopted_on = adopted_on if electronic_voting else None
        rules_row.notice_days = notice_days
        rules_row.save()
        audit_record(
            actor=actor,
            verb="owners_meeting_rules.set",
            obj=rules_row,
            before=before,
            after={
                "electronic_voting": electronic_voting,
                "adopted_on": rules_row.adopted_on,
                "notice_days": notice_days,
            },
        )
    return rules_row


def preparatory_group_set(
    *, actor: User, estate: Place, members: Sequence[User]
) -> list[PreparatoryGroupMember]:
    """The subdistrict forms (or changes) the preparatory group of an estate's owners'
    meeting; the group may keep the register and convene a vote."""
    if estate.kind != PlaceKind.ESTATE:
        raise ValidationFailed(_("请选择小区。"), code="not_an_estate")
    _require("deliberation.appoint_preparatory_group", actor, estate)
    with transaction.atomic():
        before = list(
            PreparatoryGroupMember.objects.filter(estate=estate).values_list("user_id", flat=True)
        )
        PreparatoryGroupMember.objects.filter(estate=estate).exclude(
            user__in=[m.pk for m in members]
        ).delete()
        rows = [
            PreparatoryGroupMember.objects.get_or_create(
                estate=estate, user=member, defaults={"appointed_by": actor}
            )[0]
            for member in members
        ]
        audit_record(
            actor=actor,
            verb="preparatory_group.set",
            obj=estate,
            before={"members": before},
            after={"members": [m.pk for m in members]},
        )
    return rows


@dataclass
class RegisterReport:
    """What building or importing the register did, and what stops a vote."""

    entries: int = 0
    verified_owners: int = 0
    imported: int = 0
    without_area: list[Place] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def _owner_identity(
    place: Place,
    owners: list[Residency],
    entry: OwnerRegisterEntry | None,
    phone_users: Mapping[str, User],
) -> tuple[str, str, int, User | None]:
    """(owner_key, owner_label, co_owner_count, representative) for one part.

    Verified owners come first; then the imported owner (matched to an account by phone,
    so one person is one owner whichever way their parts came in); else the part is its
    own, unregistered owner — it still counts, as one owner, in every quorum.
    """
    if owners:
        people = sorted({r.user for r in owners}, key=lambda u: u.pk)
        key = "+".join(f"u{u.pk}" for u in people)
        label = "、".join(u.display_name for u in people)
        current = entry.representative if entry is not None else None
        if current is not None and current in people:
            representative = current
        else:
            named = [r.user for r in owners if r.relation == Relation.OWNER]
            representative = (named or people)[0]
        return key, label, len(people), representative
    if entry is not None and entry.imported_owner_name:
        names = [n for n in entry.imported_owner_name.split("、") if n]
        user = phone_users.get(entry.imported_owner_phone)
        if user is not None and len(names) == 1:
            key = f"u{user.pk}"
        elif entry.imported_owner_phone:
            key = f"t{entry.imported_owner_phone}:" + "、".join(sorted(names))
        else:
            key = "n" + "、".join(sorted(names))
        return key, entry.imported_owner_name, max(1, len(names)), None
    return f"p{place.pk}", _("未登记"), 1, None


def _register_refresh(*, estate: Place) -> RegisterReport:
    """Rebuild every entry of the estate from its places, verified owners and imports."""
    report = RegisterReport()
    places = list(register_places(estate=estate))
    entries = {e.place_id: e for e in OwnerRegisterEntry.objects.filter(estate=estate)}
    owners: dict[int, list[Residency]] = {}
    for residency in Residency.objects.filter(
        place__in=[p.pk for p in places],
        status=ResidencyStatus.VERIFIED,
        relation__in=[Relation.OWNER, Relation.CO_OWNER],
    ).select_related("user"):
        owners.setdefault(residency.place_id, []).append(residency)
    phones = {e.imported_owner_phone for e in entries.values() if e.imported_owner_phone}
    phone_users = {u.phone: u for u in User.objects.filter(phone__in=phones) if u.phone}
    to_create, to_update = [], []
    for place in places:
        entry = entries.get(place.pk)
        if entry is not None and entry.imported_area is not None:
            area, source = entry.imported_area, entry.imported_area_source
        elif place.exclusive_area:
            area, source = place.exclusive_area, AreaSource.REGISTERED
        else:
            report.without_area.append(place)
            continue
        key, label, count, representative = _owner_identity(
            place, owners.get(place.pk, []), entry, phone_users
        )
        report.verified_owners += bool(owners.get(place.pk))
        fields = {
            "area": area,
            "area_source": source,
            "owner_key": key[:200],
            "owner_label": label[:200],
            "co_owner_count": count,
            "representative": representative,
        }
        if entry is None:
            to_create.append(OwnerRegisterEntry(estate=estate, place=place, **fields))
        else:
            for name, value in fields.items():
                setattr(entry, name, value)
            to_update.append(entry)
    OwnerRegisterEntry.objects.bulk_create(to_create, batch_size=500)
    OwnerRegisterEntry.objects.bulk_update(
        to_update,
        ["area", "area_source", "owner_key", "owner_label", "co_owner_count", "representative"],
        batch_size=500,
    )
    report.entries = len(to_create) + len(to_update)
    return report


def owner_register_sync(*, actor: User, estate: Place) -> RegisterReport:
    """Build the estate's owner register from its dwellings and shops (area), the
    verified owners of each (`accounts.Residency`) and any imported register."""
    if estate.kind != PlaceKind.ESTATE:
        raise ValidationFailed(_("请选择小区。"), code="not_an_estate")
    _require("deliberation.manage_register", actor, estate)
    with transaction.atomic():
        report = _register_refresh(estate=estate)
        audit_record(
            actor=actor,
            verb="owner_register.sync",
            obj=estate,
            after={
                "entries": report.entries,
                "verified_owners": report.verified_owners,
                "without_area": len(report.without_area),
            },
        )
    return report


def owner_register_import(*, actor: User, estate: Place, file: str | IO[bytes]) -> RegisterReport:
    """Import an owner register from Excel (area, area source, owners, phone, developer's
    unsold units) for the estate's places, then rebuild the register. Nothing is written
    if any row is wrong: the report lists every problem by row."""
    if estate.kind != PlaceKind.ESTATE:
        raise ValidationFailed(_("请选择小区。"), code="not_an_estate")
    _require("deliberation.manage_register", actor, estate)
    sheet = register_read(file)
    report = RegisterReport(errors=list(sheet.errors))
    places = {p.code: p for p in register_places(estate=estate)}
    matched: dict[int, Any] = {}
    for row in sheet.rows:
        code = row_code(row, estate.code)
        place = places.get(code or "")
        if place is None:
            report.errors.append(
                (row.row, _("本小区找不到该房屋（%(code)s）。") % {"code": code or "-"})
            )
        elif place.pk in matched:
            report.errors.append((row.row, _("该房屋在表格中出现了两次。")))
        else:
            matched[place.pk] = row
    if report.errors or not matched:
        if not report.errors:
            report.errors.append((0, _("表格中没有数据行。")))
        report.errors.sort(key=lambda error: error[0])
        return report
    with transaction.atomic():
        entries = {
            e.place_id: e
            for e in OwnerRegisterEntry.objects.select_for_update().filter(estate=estate)
        }
        for place_pk, row in matched.items():
            entry = entries.get(place_pk) or OwnerRegisterEntry(
                estate=estate,
                place_id=place_pk,
                area=row.area,
                area_source=row.area_source,
                owner_key=f"p{place_pk}",
            )
            entry.imported_area = row.area
            entry.imported_area_source = row.area_source
            entry.imported_owner_name = "、".join(row.owners)[:100]
            entry.imported_owner_phone = row.phone
            entry.developer_unsold = row.developer_unsold
            entry.save()
        report.imported = len(matched)
        refreshed = _register_refresh(estate=estate)
        report.entries, report.verified_owners = refreshed.entries, refreshed.verified_owners
        report.without_area = refreshed.without_area
        audit_record(
            actor=actor,
            verb="owner_register.import",
            obj=estate,
            after={"rows": report.imported, "entries": report.entries},
        )
    return report


def owner_register_set_representative(
    *, actor: User, entry: OwnerRegisterEntry, user: User
) -> OwnerRegisterEntry:
    """Record which co-owner casts the part's one ballot (共有人推举的代表人): one of its
    verified owners."""
    _require("deliberation.manage_register", actor, entry.estate)
    if not Residency.objects.filter(
        place=entry.place,
        user=user,
        status=ResidencyStatus.VERIFIED,
        relation__in=[Relation.OWNER, Relation.CO_OWNER],
    ).exists():
        raise ValidationFailed(_("代表人须为该房屋已核验的业主或共有人。"), code="not_co_owner")
    with transaction.atomic():
        before = entry.representative_id
        entry.representative = user
        entry.save(update_fields=["representative", "updated_at"])
        audit_record(
            actor=actor,
            verb="owner_register.representative",
            obj=entry,
            before={"representative": before},
            after={"representative": user.pk},
        )
    return entry


# --- owners' votes ------------------------------------------------------------------------


def _convener_allowed(actor: User, convener_kind: str, topic: Topic) -> bool:
    from . import rules as predicates

    checks: dict[str, Any] = {
        ConvenerKind.OWNERS_COMMITTEE: predicates.is_owners_committee,
        ConvenerKind.PREPARATORY_GROUP: predicates.is_preparatory_member,
        ConvenerKind.SUBDISTRICT: predicates.is_subdistrict_office,
    }
    check = checks.get(convener_kind)
    return bool(check and check(actor, topic.estate))


def vote_notice(
    *,
    actor: User,
    topic: Topic,
    convener_kind: str,
    title: str,
    description: str,
    item: int,
    opens_at: datetime,
    closes_at: datetime,
    plan: Plan | None = None,
    buildings: Sequence[Place] = (),
    now: datetime | None = None,
) -> OwnersVote:
    """A convener publishes the notice of an owners' vote (业主大会表决公告).

    The convener is the estate's owners' committee, its preparatory group or the
    subdistrict, and the actor must be one of them. The vote opens no earlier than the
    notice period of the estate's rules; owners vote online only if the owners' meeting
    has adopted electronic voting. The register is rebuilt and frozen for the vote (the
    whole estate, or only the owners of `buildings`); a part without an area stops it.
    Each owner with an account in the register is told in their inbox.
    """
    _require("deliberation.convene_vote", actor, topic)
    estate = topic.estate
    if estate is None:
        raise ValidationFailed(_("议题须指定小区才能进行业主表决。"), code="vote_needs_estate")
    if not _convener_allowed(actor, convener_kind, topic):
        raise PermissionDenied(
            _("只有业主委员会、业主大会筹备组或街道办事处可以召集业主表决。"),
            code="not_convener",
        )
    if item not in Item.values:
        raise ValidationFailed(
            _("请选择民法典第二百七十八条的表决事项。"), code="vote_item_required", field="item"
        )
    title = _text(title, message=_("请填写表决事项名称。"), field_name="title", limit=MAX_TITLE)
    description = _text(
        description, message=_("请填写表决内容。"), field_name="description", limit=MAX_TEXT
    )
    for building in buildings:
        if building.kind != PlaceKind.BUILDING or not building.is_within(estate):
            raise ValidationFailed(_("表决范围须为本小区的楼栋。"), code="bad_buildings")
    rules_row = OwnersMeetingRules.objects.filter(estate=estate).first()
    notice_days = rules_row.notice_days if rules_row else 15
    now = _at(now)
    if opens_at < now + timedelta(days=notice_days):
        raise ValidationFailed(
            _("表决须在公告 %(n)d 天后开始（最早 %(when)s）。")
            % {
                "n": notice_days,
                "when": timezone.localtime(now + timedelta(days=notice_days)).strftime(
                    "%Y-%m-%d %H:%M"
                ),
            },
            code="notice_too_short",
            field="opens_at",
        )
    if closes_at <= opens_at:
        raise ValidationFailed(
            _("投票截止时间须晚于开始时间。"), code="bad_window", field="closes_at"
        )
    with transaction.atomic():
        topic = _locked(topic)
        if plan is not None:
            plan = Plan.objects.select_for_update().get(pk=plan.pk)
            if plan.topic_id != topic.pk or plan.state != PlanState.DRAFT:
                raise ValidationFailed(_("只能就本议题拟订中的方案表决。"), code="bad_plan")
            if plan.vote_item != item:
                raise ValidationFailed(
                    _("表决事项须与方案所列事项一致（%(item)s）。")
                    % {"item": Item(plan.vote_item).label if plan.vote_item else "-"},
                    code="item_mismatch",
                    field="item",
                )
            _funding_complete(plan)
        report = _register_refresh(estate=estate)
        entries = OwnerRegisterEntry.objects.filter(estate=estate).select_related("place")
        if buildings:
            scope = Q()
            for building in buildings:
                scope |= Q(place__code__startswith=building.code + "-")
            entries = entries.filter(scope)
            missing = [p for p in report.without_area if any(p.is_within(b) for b in buildings)]
        else:
            missing = report.without_area
        if missing:
            labels = [place_label(p) or p.code for p in missing[:20]]
            raise ValidationFailed(
                _("以下专有部分没有面积，无法表决：%(list)s")
                % {"list": "、".join(labels) + ("……" if len(missing) > 20 else "")},
                code="register_without_area",
            )
        parts = list(entries)
        if not parts:
            raise ValidationFailed(_("表决范围内没有专有部分。"), code="empty_register")
        vote = OwnersVote.objects.create(
            topic=topic,
            plan=plan,
            estate=estate,
            title=title,
            description=description,
            item=item,
            convener_kind=convener_kind,
            convened_by=actor,
            notice_at=now,
            opens_at=opens_at,
            closes_at=closes_at,
            electronic=bool(rules_row and rules_row.electronic_voting),
        )
        vote.buildings.set(buildings)
        VoteRollEntry.objects.bulk_create(
            (
                VoteRollEntry(
                    vote=vote,
                    place=e.place,
                    area=e.area,
                    area_source=e.area_source,
                    developer_unsold=e.developer_unsold,
                    owner_key=e.owner_key,
                    owner_label=e.owner_label,
                    co_owner_count=e.co_owner_count,
                    representative=e.representative,
                )
                for e in parts
            ),
            batch_size=500,
        )
        audit_record(
            actor=actor,
            verb="vote.notice",
            obj=vote,
            after={
                "title": title,
                "item": item,
                "convener": convener_kind,
                "opens_at": opens_at,
                "closes_at": closes_at,
                "electronic": vote.electronic,
                "parts": len(parts),
                "buildings": [b.pk for b in buildings],
                "plan": plan,
            },
        )
        _move(
            topic,
            actor=actor,
            action=TopicAction.NOTICE_VOTE,
            kind=TopicEventKind.VOTE_CONVENED,
            note=_("%(title)s，表决事项%(item)s，%(a)s 至 %(b)s 投票")
            % {
                "title": title,
                "item": Item(item).label,
                "a": timezone.localtime(opens_at).strftime("%Y-%m-%d"),
                "b": timezone.localtime(closes_at).strftime("%Y-%m-%d"),
            },
            now=now,
        )
        # A vote entered after it was over tells nobody to go and vote.
        voters = [] if closes_at <= timezone.now() else parts
        notify(
            recipients={e.representative for e in voters if e.representative is not None},
            verb="vote.noticed",
            title=_("业主大会表决公告：%(title)s") % {"title": title},
            body=_("投票时间 %(a)s 至 %(b)s")
            % {
                "a": timezone.localtime(opens_at).strftime("%Y-%m-%d %H:%M"),
                "b": timezone.localtime(closes_at).strftime("%Y-%m-%d %H:%M"),
            },
            link=reverse("deliberation:vote", args=[vote.pk]),
            obj=vote,
        )
    return vote


def _owner_groups(vote: OwnersVote, entries: Sequence[VoteRollEntry]) -> list[list[VoteRollEntry]]:
    """For each entry, every part its owner holds in the vote: one owner is one vote with
    all their area, and the developer's unsold units are one owner together."""
    roll = list(VoteRollEntry.objects.select_for_update().filter(vote=vote).order_by("pk"))
    by_owner: dict[str, list[VoteRollEntry]] = {}
    for part in roll:
        by_owner.setdefault("" if part.developer_unsold else part.owner_key, []).append(part)
    return [by_owner["" if e.developer_unsold else e.owner_key] for e in entries]


@dataclass(frozen=True)
class BallotSpec:
    """One ballot handed in: for `entry`'s owner, how it was cast, and the written proxy
    when it was cast by one."""

    entry: VoteRollEntry
    choice: str
    channel: str = BallotChannel.PAPER
    proxy_holder: str = ""
    proxy_note: str = ""
    proxy_document: UploadedFile | None = None


def _clean_ballot(spec: BallotSpec, *, online: bool) -> BallotSpec:
    if spec.choice not in BallotChoice.values:
        raise ValidationFailed(_("请选择同意、反对或弃权。"), code="invalid_choice", field="choice")
    if online:
        return spec
    if spec.channel not in (BallotChannel.PAPER, BallotChannel.PROXY):
        raise ValidationFailed(_("请选择纸质表决票或书面委托。"), code="bad_channel")
    if spec.channel == BallotChannel.PAPER:
        return BallotSpec(entry=spec.entry, choice=spec.choice, channel=spec.channel)
    holder, note = spec.proxy_holder.strip()[:50], spec.proxy_note.strip()[:200]
    if not (holder and (note or spec.proxy_document)):
        raise ValidationFailed(
            _("书面委托投票须登记受托人，并记录委托书（说明或扫描件）。"),
            code="proxy_required",
            field="proxy_holder",
        )
    return BallotSpec(spec.entry, spec.choice, spec.channel, holder, note, spec.proxy_document)


def _cast(
    *, vote: OwnersVote, specs: Sequence[BallotSpec], actor: User, online: bool, now: datetime
) -> list[Ballot]:
    """Write the ballots of one or more owners in one go: within the voting window, each
    covering all of its owner's parts, none for a part that already has one."""
    vote = OwnersVote.objects.select_for_update().get(pk=vote.pk)
    if vote.state != VoteState.NOTICED or not vote.opens_at <= now < vote.closes_at:
        raise InvalidTransition(
            _("不在投票时间内（%(a)s 至 %(b)s）。")
            % {
                "a": timezone.localtime(vote.opens_at).strftime("%Y-%m-%d %H:%M"),
                "b": timezone.localtime(vote.closes_at).strftime("%Y-%m-%d %H:%M"),
            },
            code="vote_not_open",
        )
    groups = _owner_groups(vote, [spec.entry for spec in specs])
    taken = set(Ballot.objects.filter(vote=vote).values_list("entry_id", flat=True))
    rows: list[Ballot] = []
    changes = []
    for spec, group in zip(specs, groups, strict=True):
        if any(part.pk in taken for part in group):
            raise Conflict(
                _("%(place)s 已投过票：每个专有部分只能投一票。")
                % {"place": place_label(spec.entry.place) or spec.entry.place.name},
                code="already_voted",
            )
        taken.update(part.pk for part in group)
        cast_by = actor if online else spec.entry.representative
        rows += [
            Ballot(
                vote=vote,
                entry=part,
                choice=spec.choice,
                channel=spec.channel,
                cast_by=cast_by,
                entered_by=None if online else actor,
                proxy_holder=spec.proxy_holder,
                proxy_note=spec.proxy_note,
                cast_at=now,
            )
            for part in group
        ]
        # The choice is secret: the trail says who handed in a ballot for which parts
        # and how, which the committee may check; it does not repeat what it says.
        changes.append(
            (
                vote,
                None,
                {
                    "parts": [part.place_id for part in group],
                    "channel": spec.channel,
                    "proxy_holder": spec.proxy_holder,
                    "cast_at": now,
                },
            )
        )
    ballots = Ballot.objects.bulk_create(rows, batch_size=500)
    for spec in specs:
        if spec.proxy_document:
            ballot = next(b for b in ballots if b.entry_id == spec.entry.pk)
            ballot.proxy_document = spec.proxy_document
            ballot.save(update_fields=["proxy_document"])
    channel = specs[0].channel if len({spec.channel for spec in specs}) == 1 else "mixed"
    audit_record_many(actor=actor, verb=f"vote.ballot_{channel}", changes=changes)
    return ballots


def ballot_cast(
    *,
    actor: User,
    vote: OwnersVote,
    entry: VoteRollEntry,
    choice: str,
    now: datetime | None = None,
) -> list[Ballot]:
    """An owner votes online: only where the owners' meeting has adopted electronic
    voting, within the voting window, as the register's voter for the part (its verified
    owner, or the co-owners' representative). The ballot covers every part the owner
    holds in the vote."""
    now = _at(now)
    if entry.vote_id != vote.pk:
        raise NotFound()
    if not vote.electronic:
        raise PermissionDenied(
            _("本小区业主大会尚未决定采用电子投票，请使用纸质表决票。"), code="no_e_voting"
        )
    if (
        entry.representative_id != actor.pk
        or not Residency.objects.filter(
            user=actor,
            place=entry.place,
            status=ResidencyStatus.VERIFIED,
            relation__in=[Relation.OWNER, Relation.CO_OWNER],
        ).exists()
    ):
        raise PermissionDenied(
            _("您不是该专有部分在业主名册中登记的投票人。"), code="not_registered_voter"
        )
    spec = _clean_ballot(
        BallotSpec(entry=entry, choice=choice, channel=BallotChannel.ONLINE), online=True
    )
    with transaction.atomic():
        return _cast(vote=vote, specs=[spec], actor=actor, online=True, now=now)


def ballot_enter(
    *,
    actor: User,
    vote: OwnersVote,
    entry: VoteRollEntry,
    choice: str,
    channel: str,
    proxy_holder: str = "",
    proxy_note: str = "",
    proxy_document: UploadedFile | None = None,
    now: datetime | None = None,
) -> list[Ballot]:
    """A member of the convening body enters a paper ballot, or one cast by written
    proxy (the proxy holder and the proxy recorded). Counted with the online ballots."""
    return ballots_enter(
        actor=actor,
        vote=vote,
        ballots=[BallotSpec(entry, choice, channel, proxy_holder, proxy_note, proxy_document)],
        now=now,
    )


def ballots_enter(
    *,
    actor: User,
    vote: OwnersVote,
    ballots: Sequence[BallotSpec],
    now: datetime | None = None,
) -> list[Ballot]:
    """The convening body enters a stack of paper and proxy ballots from one counting
    session at once: all or none, one audit event per owner's ballot."""
    now = _at(now)
    _require("deliberation.enter_ballot", actor, vote)
    if not ballots:
        raise ValidationFailed(_("没有要录入的选票。"), code="no_ballots")
    if any(spec.entry.vote_id != vote.pk for spec in ballots):
        raise NotFound()
    specs = [_clean_ballot(spec, online=False) for spec in ballots]
    with transaction.atomic():
        return _cast(vote=vote, specs=specs, actor=actor, online=False, now=now)


def vote_count(*, actor: User, vote: OwnersVote, now: datetime | None = None) -> OwnersVote:
    """The convening body counts a vote after it closes (`tally.owners_vote_tally`): the
    result is stored with both ratios and both thresholds. A vote that passes adopts its
    plan and moves the topic to implementation; one that fails sends it back to planning."""
    now = _at(now)
    _require("deliberation.count_vote", actor, vote)
    with transaction.atomic():
        vote = (
            OwnersVote.objects.select_for_update(of=("self",))
            .select_related("topic", "plan")
            .get(pk=vote.pk)
        )
        if vote.state != VoteState.NOTICED:
            raise InvalidTransition(_("该表决已计票。"), code="vote_counted")
        if now < vote.closes_at:
            raise InvalidTransition(_("投票截止后才能计票。"), code="vote_still_open")
        result = vote_tally(vote=vote)
        vote.result = result.as_dict()
        vote.passed = result.passed
        vote.state = VoteState.COUNTED
        vote.counted_at = now
        vote.counted_by = actor
        vote.save()
        audit_record(
            actor=actor,
            verb="vote.count",
            obj=vote,
            before={"state": VoteState.NOTICED},
            after=vote.result,
        )
        summary = _("%(verdict)s：%(reasons)s") % {
            "verdict": _("表决通过") if result.passed else _("表决未通过"),
            "reasons": "；".join(result.reasons),
        }
        if result.passed and vote.plan is not None:
            _event(vote.topic, actor=actor, kind=TopicEventKind.VOTE_COUNTED, note=summary, at=now)
            _adopt(vote.plan, actor=actor, action=TopicAction.VOTE_PASSED, note=vote.title, now=now)
        else:
            action = TopicAction.VOTE_PASSED if result.passed else TopicAction.VOTE_FAILED
            _move(
                _locked(vote.topic),
                actor=actor,
                action=action,
                kind=TopicEventKind.VOTE_COUNTED,
                note=summary,
                now=now,
            )
    return vote
