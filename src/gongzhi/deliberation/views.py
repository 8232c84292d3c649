"""The consultation pages: topics (list, page with the loop and its history), surveys
(answered on a phone), meetings, plans with their funding, owners' votes (online ballot,
paper and proxy entry, audit, result), implementation, and the owner register.

Views read forms, call selectors and services, and render. The predicates decide which
actions are offered, and the services decide again when one is posted; a refusal comes
back as a message or a form error with everything typed kept. Objects the user may not
see answer 404.
"""

import mimetypes
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction
from typing import Any

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts.models import Role, RoleAssignment
from gongzhi.accounts.selectors import place_label
from gongzhi.cases.selectors import case_get
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.places.models import Place, PlaceKind

from . import selectors as s
from . import services
from .forms import (
    AnswerForm,
    BallotForm,
    DeclineForm,
    DocumentForm,
    EnterBallotForm,
    FromCasesForm,
    FundingForm,
    LinkCaseForm,
    MeetingForm,
    MilestoneForm,
    MilestoneUpdateForm,
    MoveForm,
    NoteForm,
    PlanForm,
    QuestionFormSet,
    RecordForm,
    RegisterImportForm,
    RegisterRulesForm,
    SurveyForm,
    TopicForm,
    VoteForm,
    add_service_error,
    lines,
)
from .models import (
    ConvenerKind,
    FundingSource,
    Milestone,
    MilestonePhoto,
    Party,
    PlanDocument,
    PlanState,
    SurveyState,
    VoteState,
)
from .states import LOOP, TopicAction, TopicState
from .tally import BallotChoice, Item

# --- helpers ------------------------------------------------------------------------------


def _get(selector: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return selector(**kwargs)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def _run(request, call: Callable[[], Any], success: str) -> bool:
    """Run a service; a refusal becomes an error message. True when it went through."""
    try:
        call()
    except DomainError as error:
        messages.error(request, str(error.message))
        return False
    messages.success(request, success)
    return True


def _perm(user: Any, perm: str, obj: Any) -> bool:
    return rules.has_perm(perm, user, obj)


def _require(user: Any, perm: str, obj: Any) -> None:
    # Those who may see but not act get the page without the action, and a direct post
    # is refused like a missing page: nothing to learn from probing.
    if not rules.has_perm(perm, user, obj):
        raise Http404()


def _topic_url(topic) -> str:
    return reverse("deliberation:topic", args=[topic.pk])


# --- topics -------------------------------------------------------------------------------


@login_required
@require_GET
def topic_list(request):
    """The topics of the user's communities, newest first, with the loop step in words;
    staff see suggestions drawn from similar open cases."""
    user = request.user
    topics = list(s.topics_for(user=user)[:200])
    can_open = s.topic_communities_for(user=user, perm="deliberation.open_topic")
    can_propose = s.topic_communities_for(user=user, perm="deliberation.propose_topic")
    suggestions = [
        (community, suggestion)
        for community in can_open[:20]
        for suggestion in s.topic_suggestions_for(user=user, community=community)
    ]
    return render(
        request,
        "deliberation/topic_list.html",
        {
            "topics": topics,
            "can_open": bool(can_open),
            "can_propose": bool(can_propose),
            "suggestions": [
                (
                    community,
                    suggestion,
                    # One form per suggestion on the page: ids kept apart, names shared.
                    FromCasesForm(
                        auto_id=f"s{index}_%s",
                        initial={
                            "title": _("%(estate)s%(category)s问题")
                            % {
                                "estate": suggestion.estate.name,
                                "category": suggestion.category.name,
                            },
                            "cases": ",".join(suggestion.case_numbers),
                        },
                    ),
                )
                for index, (community, suggestion) in enumerate(suggestions)
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def topic_new(request):
    """Open a topic (staff) or propose one (residents)."""
    user = request.user
    communities = s.topic_communities_for(user=user, perm="deliberation.open_topic")
    proposing = not communities
    if proposing:
        communities = s.topic_communities_for(user=user, perm="deliberation.propose_topic")
    if not communities:
        raise Http404()
    estates = [e for c in communities for e in s.estates_of(community=c).select_related("parent")]
    form = TopicForm(request.POST or None, communities=communities, estates=estates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        community = next(c for c in communities if c.pk == data["community"])
        estate = next((e for e in estates if e.pk == data["estate"]), None)
        try:
            if proposing:
                topic = services.topic_propose(
                    actor=user,
                    community=community,
                    estate=estate,
                    title=data["title"],
                    description=data["description"],
                )
                messages.success(request, _("提议已提交，邻居可以附议，社区将尽快答复。"))
            else:
                topic = services.topic_open(
                    actor=user,
                    community=community,
                    estate=estate,
                    title=data["title"],
                    description=data["description"],
                )
                messages.success(request, _("议题已立项，进入民意收集。"))
            return redirect(_topic_url(topic))
        except DomainError as error:
            add_service_error(form, error)
    return render(request, "deliberation/topic_new.html", {"form": form, "proposing": proposing})


@login_required
@require_POST
def topic_from_cases(request):
    """Open a topic from a suggestion: its cases turn into the topic."""
    form = FromCasesForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写议题和转议题说明。"))
        return redirect("deliberation:topics")
    cases = []
    for number in form.numbers():
        try:
            cases.append(case_get(user=request.user, number=number))
        except NotFound as exc:
            raise Http404() from exc
    try:
        topic = services.topic_from_cases(
            actor=request.user,
            cases=cases,
            title=form.cleaned_data["title"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("deliberation:topics")
    messages.success(request, _("已把 %(n)d 件诉求转为议题。") % {"n": len(cases)})
    return redirect(_topic_url(topic))


def _loop_steps(topic) -> list[dict[str, Any]]:
    """The step indicator: each step with its status in words (colour is never alone)."""
    index, skipped_vote = s.topic_loop_position(topic=topic)
    steps = []
    for i, state in enumerate(LOOP):
        if topic.state == TopicState.DONE or i < index:
            status, words = "done", _("已完成")
            if state == TopicState.VOTING and skipped_vote:
                status, words = "skipped", _("无需表决")
        elif i == index:
            status, words = "current", _("当前阶段")
        else:
            status, words = "todo", _("未开始")
        steps.append(
            {"state": state, "label": TopicState(state).label, "status": status, "words": words}
        )
    return steps


@login_required
@require_GET
def topic_page(request, pk: int):
    """Where the topic is in the loop, its history, and everything hanging on it."""
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    staff = s.topic_is_staff(user=user, topic=topic)
    plans = list(s.plans_for(user=user, topic=topic))
    for plan in plans:
        plan.progress = s.plan_progress(plan=plan)
    context = {
        "topic": topic,
        "steps": _loop_steps(topic),
        "events": s.topic_events_for(user=user, topic=topic),
        "staff": staff,
        "actions": [
            (a, TopicAction(a).label, MoveForm(initial={"action": a}, auto_id=False))
            for a in s.topic_actions_for(user=user, topic=topic)
            if a != TopicAction.DECLINE
        ],
        "can_decline": TopicAction.DECLINE in s.topic_actions_for(user=user, topic=topic),
        "decline_form": DeclineForm(auto_id="decline_%s"),
        "can_support": s.topic_can_support(user=user, topic=topic),
        "cases": list(s.topic_cases_for(user=user, topic=topic)[:100]) if staff else [],
        "case_count": s.topic_case_count(topic=topic),
        "link_form": LinkCaseForm(auto_id="link_%s")
        if staff and topic.state not in (TopicState.DONE, TopicState.DECLINED, TopicState.FEEDBACK)
        else None,
        "surveys": s.surveys_for(user=user, topic=topic),
        "meetings": s.meetings_for(user=user, topic=topic),
        "plans": plans,
        "votes": s.votes_for(user=user, topic=topic),
        "feedback": s.topic_feedback_for(user=user, topic=topic),
        "can_survey": _perm(user, "deliberation.manage_survey", topic),
        "can_meet": _perm(user, "deliberation.manage_meeting", topic),
        "can_plan": _perm(user, "deliberation.manage_plan", topic)
        and topic.state == TopicState.PLANNING,
        "can_convene": _perm(user, "deliberation.convene_vote", topic)
        and topic.state == TopicState.PLANNING
        and topic.estate_id is not None,
        "can_register": topic.estate is not None
        and _perm(user, "deliberation.manage_register", topic.estate),
    }
    return render(request, "deliberation/topic.html", context)


@login_required
@require_POST
def topic_move(request, pk: int):
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        action, note = form.cleaned_data["action"], form.cleaned_data["note"]

        def call():
            if action == TopicAction.ACCEPT:
                return services.topic_accept(actor=user, topic=topic, note=note)
            return services.topic_advance(actor=user, topic=topic, action=action, note=note)

        label = TopicAction(action).label if action in TopicAction.values else action
        _run(request, call, _("已%(action)s。") % {"action": label})
    return redirect(_topic_url(topic))


@login_required
@require_POST
def topic_decline(request, pk: int):
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请说明不予立项的理由。"))
    else:
        _run(
            request,
            lambda: services.topic_decline(actor=user, topic=topic, note=form.cleaned_data["note"]),
            _("已答复提议人：不予立项。"),
        )
    return redirect(_topic_url(topic))


@login_required
@require_POST
def topic_support(request, pk: int):
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    _run(request, lambda: services.topic_support(actor=user, topic=topic), _("已附议。"))
    return redirect(_topic_url(topic))


@login_required
@require_POST
def topic_link_case(request, pk: int):
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    _require(user, "deliberation.manage_topic", topic)
    form = LinkCaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写诉求编号和转议题说明。"))
        return redirect(_topic_url(topic))
    try:
        case = case_get(user=user, number=form.cleaned_data["number"].strip())
    except NotFound:
        messages.error(request, _("找不到诉求 %(n)s。") % {"n": form.cleaned_data["number"]})
        return redirect(_topic_url(topic))
    _run(
        request,
        lambda: services.topic_link_case(
            actor=user, topic=topic, case=case, note=form.cleaned_data["note"]
        ),
        _("已关联诉求 %(n)s。") % {"n": case.number},
    )
    return redirect(_topic_url(topic))


# --- surveys ------------------------------------------------------------------------------


def _survey_places(topic) -> list[tuple[Place, str]]:
    places = [(topic.community, topic.community.name)]
    for estate in s.estates_of(community=topic.community):
        places.append((estate, estate.name))
        if estate.pk == topic.estate_id:
            for building in Place.objects.filter(parent=estate, kind=PlaceKind.BUILDING).order_by(
                "sort_key", "code"
            ):
                places.append((building, f"{estate.name} {building.name}"))
    return places


@login_required
@require_http_methods(["GET", "POST"])
def survey_new(request, pk: int):
    """Write a survey or poll for a topic (any loop may use surveys; this page is the
    consultation loop's)."""
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    _require(user, "deliberation.manage_survey", topic)
    places = _survey_places(topic)
    initial = {"place": (topic.estate or topic.community).pk}
    form = SurveyForm(request.POST or None, places=places, initial=initial)
    questions = QuestionFormSet(request.POST or None, prefix="q")
    if request.method == "POST" and form.is_valid() and questions.is_valid():
        data = form.cleaned_data
        specs = [
            services.QuestionSpec(
                kind=q["kind"],
                text=q["text"],
                options=tuple(line.strip() for line in q["options"].splitlines()),
                scale_max=q.get("scale_max") or 5,
                required=q.get("required", False),
            )
            for q in questions.cleaned_data
            if q and q.get("text", "").strip()
        ]
        try:
            survey = services.survey_create(
                actor=user,
                place=next(p for p, _label in places if p.pk == data["place"]),
                topic=topic,
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                eligibility=data["eligibility"],
                one_per=data["one_per"],
                closes_at=data["closes_at"],
                quorum=data["quorum"],
                majority=data["majority"],
                majority_inclusive=data["majority_inclusive"],
                questions=specs,
            )
            messages.success(request, _("问卷已保存为草稿，发布后居民即可填写。"))
            return redirect("deliberation:survey", pk=survey.pk)
        except DomainError as error:
            add_service_error(form, error)
    return render(
        request,
        "deliberation/survey_new.html",
        {"topic": topic, "form": form, "questions": questions},
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_page(request, pk: int):
    """Answer a survey (phone first) and, where allowed, see its results with turnout
    against everyone eligible."""
    user = request.user
    survey = _get(s.survey_get, user=user, pk=pk)
    manages = _perm(user, "deliberation.manage_survey", survey.topic or survey.place)
    places = s.survey_eligible_places_for(user=user, survey=survey)
    answered = s.survey_answered(user=user, survey=survey)
    questions = list(survey.questions.all())
    form = None
    if survey.state == SurveyState.OPEN and places and not answered:
        place_choices = [(p, place_label(p) or p.name) for p in places]
        if survey.one_per == "dwelling":
            taken = set(survey.responses.values_list("respondent_key", flat=True))
            place_choices = [(p, lbl) for p, lbl in place_choices if f"p:{p.pk}" not in taken]
        form = AnswerForm(request.POST or None, questions=questions, places=place_choices)
        if request.method == "POST" and form.is_valid():
            place_pk = form.cleaned_data.get("place")
            place = next((p for p, _l in place_choices if p.pk == place_pk), None)
            if place is None and place_choices:
                place = place_choices[0][0]
            try:
                services.survey_answer(
                    actor=user, survey=survey, answers=form.answers(), place=place
                )
                messages.success(request, _("感谢您的参与，答卷已提交。"))
                return redirect("deliberation:survey", pk=survey.pk)
            except DomainError as error:
                add_service_error(form, error)
    elif request.method == "POST":
        messages.error(request, _("本问卷现在不能填写。"))
        return redirect("deliberation:survey", pk=survey.pk)
    show_results = manages or survey.state == SurveyState.CLOSED
    return render(
        request,
        "deliberation/survey.html",
        {
            "survey": survey,
            "form": form,
            "answered": answered,
            "eligible": bool(places),
            "manages": manages,
            "results": s.survey_results_for(user=user, survey=survey) if show_results else None,
        },
    )


@login_required
@require_POST
def survey_state(request, pk: int, action: str):
    user = request.user
    survey = _get(s.survey_get, user=user, pk=pk)
    if action == "open":
        _run(request, lambda: services.survey_open(actor=user, survey=survey), _("问卷已发布。"))
    elif action == "close":
        _run(request, lambda: services.survey_close(actor=user, survey=survey), _("问卷已结束。"))
    else:
        raise Http404()
    return redirect("deliberation:survey", pk=survey.pk)


# --- meetings -----------------------------------------------------------------------------


def _meeting_candidates(topic) -> list[tuple[str, str, Any]]:
    """The three parties and staff to tick: (label, party, user)."""
    party_for = {
        Role.SECRETARY: Party.RESIDENTS_COMMITTEE,
        Role.DIRECTOR: Party.RESIDENTS_COMMITTEE,
        Role.COMMUNITY_WORKER: Party.RESIDENTS_COMMITTEE,
        Role.OWNERS_COMMITTEE: Party.OWNERS_COMMITTEE,
        Role.PROPERTY_MANAGER: Party.PROPERTY_COMPANY,
    }
    places = [topic.community] + ([topic.estate] if topic.estate else [])
    assignments = (
        RoleAssignment.objects.active()
        .filter(role__in=list(party_for), place__in=places)
        .select_related("user")
        .order_by("role", "user__pk")
    )
    seen, rows = set(), []
    for a in assignments:
        if a.user_id in seen:
            continue
        seen.add(a.user_id)
        party = party_for[a.role]
        label = f"{Party(party).label} · {a.get_role_display()} · {a.user.display_name}"
        rows.append((label, party, a.user))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request, pk: int):
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    _require(user, "deliberation.manage_meeting", topic)
    candidates = _meeting_candidates(topic)
    form = MeetingForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitations = [
            services.InviteeSpec(party=candidates[i][1], user=candidates[i][2])
            for i in data["invitees"]
        ]
        for field, party in (
            ("experts", Party.EXPERT),
            ("partners", Party.PARTNER),
            ("residents", Party.RESIDENT),
        ):
            invitations += [
                services.InviteeSpec(party=party, name=name, organisation=org)
                for name, org in lines(data[field])
            ]
        try:
            meeting = services.meeting_schedule(
                actor=user,
                community=topic.community,
                topic=topic,
                kind=data["kind"],
                title=data["title"],
                starts_at=data["starts_at"],
                location=data["location"],
                agenda=data["agenda"],
                invitations=invitations,
            )
            messages.success(request, _("会议已安排，受邀的三方已收到通知。"))
            return redirect("deliberation:meeting", pk=meeting.pk)
        except DomainError as error:
            add_service_error(form, error)
    return render(request, "deliberation/meeting_new.html", {"topic": topic, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def meeting_page(request, pk: int):
    """Agenda, invitations and attendance, minutes and resolutions (to residents once
    published); organisers record and publish here."""
    user = request.user
    meeting = _get(s.meeting_get, user=user, pk=pk)
    manages = _perm(user, "deliberation.manage_meeting", meeting)
    invitations = list(meeting.invitations.all())
    form = None
    if manages and meeting.state != "published":
        resolutions = list(meeting.resolutions.all())
        initial = {"minutes": meeting.minutes}
        for i, r in enumerate(resolutions, start=1):
            initial[f"r{i}_text"], initial[f"r{i}_outcome"] = r.text, r.outcome
        form = RecordForm(
            request.POST or None,
            invitations=invitations,
            resolutions=max(3, len(resolutions) + 1),
            initial=initial,
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.meeting_record(
                    actor=user,
                    meeting=meeting,
                    attendance=form.attendance(),
                    minutes=form.cleaned_data["minutes"],
                    resolutions=[
                        services.ResolutionSpec(text=text, outcome=outcome)
                        for text, outcome in form.resolution_rows()
                    ],
                )
                messages.success(request, _("会议记录已保存。"))
                return redirect("deliberation:meeting", pk=meeting.pk)
            except DomainError as error:
                add_service_error(form, error)
    elif request.method == "POST":
        raise Http404()
    return render(
        request,
        "deliberation/meeting.html",
        {
            "meeting": meeting,
            "invitations": invitations,
            "present": sum(1 for i in invitations if i.attendance == "present"),
            "shows_minutes": s.meeting_shows_minutes(user=user, meeting=meeting),
            "resolutions": meeting.resolutions.select_related("topic"),
            "manages": manages,
            "form": form,
        },
    )


@login_required
@require_POST
def meeting_publish(request, pk: int):
    user = request.user
    meeting = _get(s.meeting_get, user=user, pk=pk)
    _run(
        request,
        lambda: services.meeting_publish(actor=user, meeting=meeting),
        _("会议纪要和决议已向居民公布。"),
    )
    return redirect("deliberation:meeting", pk=meeting.pk)


# --- plans --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request, pk: int):
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    _require(user, "deliberation.manage_plan", topic)
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=user,
                topic=topic,
                title=data["title"],
                description=data["description"],
                cost=data["cost"],
                requires_owners_vote=data["requires_owners_vote"],
                vote_item=data["vote_item"],
            )
            messages.success(request, _("方案已保存，请填写出资。"))
            return redirect("deliberation:plan", pk=plan.pk)
        except DomainError as error:
            add_service_error(form, error)
    return render(request, "deliberation/plan_new.html", {"topic": topic, "form": form})


def _funding_context(plan) -> dict[str, Any]:
    rows = s.plan_funding_rows(plan=plan)
    return {
        "funding_rows": rows,
        "funding_chart": {
            "title": str(_("出资构成")),
            "data": [{"name": r.label, "value": str(r.amount)} for r in rows],
        },
    }


@login_required
@require_http_methods(["GET", "POST"])
def plan_page(request, pk: int):
    """The plan: what it is, its cost and funding split (table, the same numbers as a
    pie), documents, milestones; its managers set the funding and adopt it here."""
    user = request.user
    plan = _get(s.plan_get, user=user, pk=pk)
    manages = _perm(user, "deliberation.manage_plan", plan)
    funding_form = None
    if manages and plan.state == PlanState.DRAFT:
        initial = {}
        for share in plan.funding.all():
            initial[share.source] = f"{share.amount:.2f}"
            initial[f"{share.source}_note"] = share.note
        funding_form = FundingForm(request.POST or None, initial=initial)
        if request.method == "POST" and funding_form.is_valid():
            try:
                services.plan_funding_set(
                    actor=user, plan=plan, shares=funding_form.shares(), notes=funding_form.notes()
                )
                messages.success(request, _("出资已保存，各来源合计等于总造价。"))
                return redirect("deliberation:plan", pk=plan.pk)
            except DomainError as error:
                add_service_error(funding_form, error)
    elif request.method == "POST":
        raise Http404()
    context = {
        "plan": plan,
        "topic": plan.topic,
        "manages": manages,
        "funding_form": funding_form,
        "funding_sources": FundingSource,
        "documents": plan.documents.all(),
        "document_form": DocumentForm(auto_id="doc_%s")
        if manages and plan.state != PlanState.DONE
        else None,
        "milestones": s.milestones_for(plan=plan),
        "progress": s.plan_progress(plan=plan),
        "milestone_form": MilestoneForm(auto_id="ms_%s")
        if manages and plan.state != PlanState.DONE
        else None,
        "votes": plan.votes.all(),
        **_funding_context(plan),
    }
    return render(request, "deliberation/plan.html", context)


@login_required
@require_POST
def plan_document(request, pk: int):
    user = request.user
    plan = _get(s.plan_get, user=user, pk=pk)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请填写文件名称并选择文件。"))
    else:
        _run(
            request,
            lambda: services.plan_document_add(
                actor=user,
                plan=plan,
                title=form.cleaned_data["title"],
                file=form.cleaned_data["file"],
            ),
            _("文件已上传。"),
        )
    return redirect("deliberation:plan", pk=plan.pk)


@login_required
@require_POST
def plan_adopt(request, pk: int):
    user = request.user
    plan = _get(s.plan_get, user=user, pk=pk)
    form = NoteForm(request.POST)
    form.is_valid()
    _run(
        request,
        lambda: services.plan_adopt(actor=user, plan=plan, note=form.cleaned_data.get("note", "")),
        _("方案已通过，进入实施。"),
    )
    return redirect("deliberation:plan", pk=plan.pk)


@login_required
@require_POST
def plan_complete(request, pk: int):
    user = request.user
    plan = _get(s.plan_get, user=user, pk=pk)
    form = NoteForm(request.POST)
    form.is_valid()
    _run(
        request,
        lambda: services.plan_complete(
            actor=user, plan=plan, note=form.cleaned_data.get("note", "")
        ),
        _("方案已实施完成：相关诉求已关闭并告知反映人，反馈问卷已发布。"),
    )
    return redirect("deliberation:implementation", pk=plan.pk)


@login_required
@require_POST
def milestone_add(request, pk: int):
    user = request.user
    plan = _get(s.plan_get, user=user, pk=pk)
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写节点名称和计划日期。"))
    else:
        _run(
            request,
            lambda: services.milestone_add(actor=user, plan=plan, **form.cleaned_data),
            _("节点已添加。"),
        )
    return redirect("deliberation:plan", pk=plan.pk)


@login_required
@require_GET
def implementation(request, pk: int):
    """The page residents follow: each milestone's dates, status and progress in words
    and bars, photos and outcomes; those who report progress do it here."""
    user = request.user
    plan = _get(s.plan_get, user=user, pk=pk)
    can_update = (
        _perm(user, "deliberation.update_milestone", plan) and plan.state == PlanState.ADOPTED
    )
    milestones = list(s.milestones_for(plan=plan))
    forms = (
        {
            m.pk: MilestoneUpdateForm(
                prefix=f"m{m.pk}",
                initial={
                    "status": m.status,
                    "progress": m.progress,
                    "note": m.note,
                    "outcome": m.outcome,
                },
            )
            for m in milestones
        }
        if can_update
        else {}
    )
    return render(
        request,
        "deliberation/implementation.html",
        {
            "plan": plan,
            "topic": plan.topic,
            "milestones": [(m, forms.get(m.pk)) for m in milestones],
            "progress": s.plan_progress(plan=plan),
            "can_update": can_update,
            "can_complete": can_update
            and bool(milestones)
            and all(m.status == "done" for m in milestones),
            "complete_form": NoteForm(),
        },
    )


@login_required
@require_POST
def milestone_update(request, pk: int):
    user = request.user
    milestone = Milestone.objects.select_related("plan").filter(pk=pk).first()
    if milestone is None:
        raise Http404()
    plan = _get(s.plan_get, user=user, pk=milestone.plan_id)
    form = MilestoneUpdateForm(request.POST, request.FILES, prefix=f"m{milestone.pk}")
    if not form.is_valid():
        messages.error(
            request,
            "；".join(str(e) for errors in form.errors.values() for e in errors)
            or _("请检查填写的内容。"),
        )
    else:
        data = form.cleaned_data
        _run(
            request,
            lambda: services.milestone_update(
                actor=user,
                milestone=milestone,
                status=data["status"],
                progress=data["progress"],
                note=data["note"],
                outcome=data["outcome"],
                photos=[data["photo"]] if data.get("photo") else [],
                caption=data["caption"],
            ),
            _("进展已更新，居民可在实施页面看到。"),
        )
    return redirect("deliberation:implementation", pk=plan.pk)


@login_required
@require_GET
def document_file(request, pk: int):
    """A plan document, to those who may see the topic."""
    document = PlanDocument.objects.select_related("plan").filter(pk=pk).first()
    if document is None:
        raise Http404()
    _get(s.plan_get, user=request.user, pk=document.plan_id)
    return _file(document.file)


@login_required
@require_GET
def milestone_photo(request, pk: int):
    """A milestone photo, to those who may see the topic."""
    photo = MilestonePhoto.objects.select_related("milestone").filter(pk=pk).first()
    if photo is None:
        raise Http404()
    _get(s.plan_get, user=request.user, pk=photo.milestone.plan_id)
    return _file(photo.image)


def _file(field) -> FileResponse:
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404() from exc
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- owners' votes ------------------------------------------------------------------------


def _conveners(user, topic) -> list[str]:
    from . import rules as predicates

    estate = topic.estate
    checks = [
        (ConvenerKind.OWNERS_COMMITTEE, predicates.is_owners_committee),
        (ConvenerKind.PREPARATORY_GROUP, predicates.is_preparatory_member),
        (ConvenerKind.SUBDISTRICT, predicates.is_subdistrict_office),
    ]
    return [kind for kind, check in checks if estate is not None and check(user, estate)]


@login_required
@require_http_methods(["GET", "POST"])
def vote_new(request, pk: int):
    """A convener notices an owners' vote on the topic's plan."""
    user = request.user
    topic = _get(s.topic_get, user=user, pk=pk)
    _require(user, "deliberation.convene_vote", topic)
    conveners = _conveners(user, topic)
    plans = list(topic.plans.filter(state=PlanState.DRAFT, requires_owners_vote=True))
    buildings = list(
        Place.objects.filter(parent=topic.estate, kind=PlaceKind.BUILDING).order_by(
            "sort_key", "code"
        )
    )
    rules_row = s.owners_meeting_rules_for(estate=topic.estate)
    notice_days = rules_row.notice_days if rules_row else 15
    start = timezone.localtime() + timedelta(days=notice_days, hours=1)
    start = start.replace(minute=0, second=0, microsecond=0)
    initial = {
        "opens_at": start,
        "closes_at": start + timedelta(days=14),
        "title": plans[0].title if plans else "",
        "description": plans[0].description if plans else "",
        "item": plans[0].vote_item if plans else Item.OTHER,
        "plan": plans[0].pk if plans else None,
    }
    form = VoteForm(
        request.POST or None, conveners=conveners, plans=plans, buildings=buildings, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            vote = services.vote_notice(
                actor=user,
                topic=topic,
                convener_kind=data["convener_kind"],
                title=data["title"],
                description=data["description"],
                item=data["item"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                plan=next((p for p in plans if p.pk == data["plan"]), None),
                buildings=[b for b in buildings if b.pk in data["buildings"]],
            )
            messages.success(request, _("表决公告已发布，名册中的业主已收到通知。"))
            return redirect("deliberation:vote", pk=vote.pk)
        except DomainError as error:
            add_service_error(form, error)
    return render(
        request,
        "deliberation/vote_new.html",
        {"topic": topic, "form": form, "rules_row": rules_row, "notice_days": notice_days},
    )


def _result_rows(result) -> list[dict[str, Any]]:
    """Both ratios against both thresholds, each with its words and a ✓/✗ in text."""
    inclusive = result.approval_inclusive
    return [
        {
            "label": _("参与表决的专有部分面积"),
            "part": result.participating.area,
            "whole": result.total.area,
            "unit": "㎡",
            "ratio": result.participation_area_ratio,
            "threshold": result.quorum_threshold,
            "rule": _("≥ %(t)s（全体业主专有部分面积）") % {"t": "2/3"},
            "met": result.participation_area_ratio >= result.quorum_threshold,
            "is_area": True,
        },
        {
            "label": _("参与表决的业主人数"),
            "part": result.participating.owners,
            "whole": result.total.owners,
            "unit": _("人"),
            "ratio": result.participation_owner_ratio,
            "threshold": result.quorum_threshold,
            "rule": _("≥ %(t)s（全体业主人数）") % {"t": "2/3"},
            "met": result.participation_owner_ratio >= result.quorum_threshold,
        },
        {
            "label": _("同意的专有部分面积"),
            "part": result.agree.area,
            "whole": result.participating.area,
            "unit": "㎡",
            "ratio": result.approval_area_ratio,
            "threshold": result.approval_threshold,
            "rule": ("≥ " if inclusive else "> ")
            + f"{result.approval_threshold.numerator}/{result.approval_threshold.denominator}"
            + _("（参与表决的面积）"),
            "met": _approved(result.approval_area_ratio, result),
            "is_area": True,
        },
        {
            "label": _("同意的业主人数"),
            "part": result.agree.owners,
            "whole": result.participating.owners,
            "unit": _("人"),
            "ratio": result.approval_owner_ratio,
            "threshold": result.approval_threshold,
            "rule": ("≥ " if inclusive else "> ")
            + f"{result.approval_threshold.numerator}/{result.approval_threshold.denominator}"
            + _("（参与表决的人数）"),
            "met": _approved(result.approval_owner_ratio, result),
        },
    ]


def _approved(ratio: Fraction, result) -> bool:
    if not result.participating.owners:
        return False
    if result.approval_inclusive:
        return ratio >= result.approval_threshold
    return ratio > result.approval_threshold


@login_required
@require_GET
def vote_page(request, pk: int):
    """The notice, the owner's ballot (online where adopted), progress, and once counted
    the result: both ratios against both thresholds and the item it was judged under."""
    user = request.user
    vote = _get(s.vote_get, user=user, pk=pk)
    result = s.vote_result_for(user=user, vote=vote)
    groups = s.vote_voter_groups_for(user=user, vote=vote)
    is_open = s.vote_is_open(vote=vote)
    cast, total = s.vote_progress(vote=vote)
    return render(
        request,
        "deliberation/vote.html",
        {
            "vote": vote,
            "topic": vote.topic,
            "item_label": Item(vote.item).label,
            "special": vote.item in (6, 7, 8),
            "is_open": is_open,
            "before_open": vote.state == VoteState.NOTICED and timezone.now() < vote.opens_at,
            "groups": [
                (g, BallotForm(initial={"entry": g.entry.pk}, prefix=f"e{g.entry.pk}"))
                for g in groups
            ],
            "cast": cast,
            "total": total,
            "buildings": vote.buildings.all(),
            "result": result,
            "result_rows": _result_rows(result) if result else [],
            "choice_counts": [
                (BallotChoice(c).label, n) for c, n in s.choice_counts(vote=vote).items()
            ],
            "can_enter": _perm(user, "deliberation.enter_ballot", vote) and is_open,
            "can_audit": _perm(user, "deliberation.audit_vote", vote),
            "can_count": _perm(user, "deliberation.count_vote", vote)
            and vote.state == VoteState.NOTICED
            and timezone.now() >= vote.closes_at,
        },
    )


@login_required
@require_POST
def vote_cast(request, pk: int):
    user = request.user
    vote = _get(s.vote_get, user=user, pk=pk)
    entry_pk = request.POST.get("entry_pk", "")
    entry = _get(
        s.vote_roll_entry_get, user=user, vote=vote, pk=int(entry_pk) if entry_pk.isdigit() else 0
    )
    form = BallotForm(request.POST, prefix=f"e{entry.pk}")
    if not form.is_valid():
        messages.error(request, _("请选择同意、反对或弃权。"))
    else:
        _run(
            request,
            lambda: services.ballot_cast(
                actor=user, vote=vote, entry=entry, choice=form.cleaned_data["choice"]
            ),
            _("您的选票已提交。投票内容对其他业主保密。"),
        )
    return redirect("deliberation:vote", pk=vote.pk)


@login_required
@require_http_methods(["GET", "POST"])
def vote_enter(request, pk: int):
    """The convening body enters paper ballots and written-proxy ballots."""
    user = request.user
    vote = _get(s.vote_get, user=user, pk=pk)
    query = request.GET.get("q", "").strip()
    entries = _get(s.vote_entries_for_entry, user=user, vote=vote, query=query)
    form = EnterBallotForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = _get(s.vote_roll_entry_get, user=user, vote=vote, pk=data["entry"])
        try:
            ballots = services.ballot_enter(
                actor=user,
                vote=vote,
                entry=entry,
                choice=data["choice"],
                channel=data["channel"],
                proxy_holder=data["proxy_holder"],
                proxy_note=data["proxy_note"],
                proxy_document=data.get("proxy_document"),
            )
            messages.success(
                request,
                _("已录入 %(place)s 的选票（%(n)d 个专有部分）。")
                % {"place": place_label(entry.place) or entry.place.name, "n": len(ballots)},
            )
            return redirect(f"{reverse('deliberation:vote_enter', args=[vote.pk])}?q={query}")
        except DomainError as error:
            add_service_error(form, error)
    return render(
        request,
        "deliberation/vote_enter.html",
        {
            "vote": vote,
            "entries": entries[:50],
            "matches": entries.count(),
            "query": query,
            "form": form,
            "is_open": s.vote_is_open(vote=vote),
        },
    )


@login_required
@require_GET
def vote_ballots(request, pk: int):
    """Every ballot with how and by whom it was cast, for the convening body and the
    owners' committee to audit."""
    user = request.user
    vote = _get(s.vote_get, user=user, pk=pk)
    ballots = _get(s.vote_ballots_for_audit, user=user, vote=vote)
    return render(request, "deliberation/vote_ballots.html", {"vote": vote, "ballots": ballots})


@login_required
@require_POST
def vote_count(request, pk: int):
    user = request.user
    vote = _get(s.vote_get, user=user, pk=pk)
    _run(request, lambda: services.vote_count(actor=user, vote=vote), _("计票完成。"))
    return redirect("deliberation:vote", pk=vote.pk)


# --- the owner register -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def register_page(request, pk: int):
    """An estate's owner register: rebuild it from verified owners, import it from Excel,
    and record whether the owners' meeting adopted electronic voting."""
    user = request.user
    estate = Place.objects.filter(pk=pk, kind=PlaceKind.ESTATE).first()
    if estate is None:
        raise Http404()
    entries = _get(s.owner_register_for, user=user, estate=estate)
    rules_row = s.owners_meeting_rules_for(estate=estate)
    rules_form = RegisterRulesForm(
        initial={
            "electronic_voting": rules_row.electronic_voting if rules_row else False,
            "adopted_on": rules_row.adopted_on if rules_row else None,
            "notice_days": rules_row.notice_days if rules_row else 15,
        }
    )
    import_form = RegisterImportForm()
    report = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "sync":
                report = services.owner_register_sync(actor=user, estate=estate)
                messages.success(request, _("名册已按已核验业主和房屋面积更新。"))
            elif action == "import":
                import_form = RegisterImportForm(request.POST, request.FILES)
                if import_form.is_valid():
                    report = services.owner_register_import(
                        actor=user, estate=estate, file=import_form.cleaned_data["file"]
                    )
                    if report.errors:
                        messages.error(request, _("导入未完成：请按行修改后重新上传。"))
                    else:
                        messages.success(request, _("已导入 %(n)d 行。") % {"n": report.imported})
            elif action == "rules":
                rules_form = RegisterRulesForm(request.POST)
                if rules_form.is_valid():
                    services.owners_meeting_rules_set(
                        actor=user, estate=estate, **rules_form.cleaned_data
                    )
                    messages.success(request, _("议事规则已保存。"))
                    return redirect("deliberation:register", pk=estate.pk)
            else:
                raise Http404()
        except DomainError as error:
            messages.error(request, str(error.message))
    page_entries = list(entries[:300])
    return render(
        request,
        "deliberation/register.html",
        {
            "estate": estate,
            "entries": page_entries,
            "entry_count": entries.count(),
            "report": report,
            "without_area": [place_label(p) or p.code for p in report.without_area[:50]]
            if report
            else [],
            "rules_row": rules_row,
            "rules_form": rules_form,
            "import_form": import_form,
            "can_set_rules": _perm(user, "deliberation.set_meeting_rules", estate),
        },
    )
