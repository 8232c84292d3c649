"""Every read of the consultation loop, with visibility: a topic (and everything hanging on
it) the user may not see is reported exactly like one that does not exist.

Residents see their community's topics, surveys, published meeting minutes, plans,
vote notices and results, and implementation; ballots are secret (an owner sees their
own, the convening body and the owners' committee audit them all). Staff see drafts and
internal history too.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import rules
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from gongzhi.accounts.models import Relation, Residency, ResidencyStatus, RoleAssignment, User
from gongzhi.accounts.scopes import scopes_for
from gongzhi.cases.models import Case, Category
from gongzhi.cases.selectors import cases_for
from gongzhi.cases.states import OPEN_STATES as CASE_OPEN_STATES
from gongzhi.core.errors import NotFound
from gongzhi.places.models import Place, PlaceKind

from .models import (
    Ballot,
    Eligibility,
    FundingShare,
    Meeting,
    MeetingState,
    Milestone,
    OnePer,
    OwnerRegisterEntry,
    OwnersMeetingRules,
    OwnersVote,
    Plan,
    QuestionKind,
    Survey,
    SurveyKind,
    SurveyState,
    Topic,
    TopicEvent,
    VoteRollEntry,
    VoteState,
)
from .rules import COMMUNITY_STAFF_ROLES
from .states import MANUAL_ACTIONS, TopicState, topic_actions_from
from .tally import (
    DEVELOPER,
    BallotChoice,
    ExclusivePart,
    PollResult,
    VoteResult,
    owners_vote_tally,
    poll_tally,
)
from .tally import Ballot as TallyBallot

# rules.md §2 "needs consultation": several similar cases in one estate within a window
# suggest a topic. Defaults; a caller may ask with others.
SUGGEST_MIN_CASES = 3
SUGGEST_WINDOW_DAYS = 30


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


# --- topics -------------------------------------------------------------------------------


def _visible_topics(user: Any) -> QuerySet[Topic]:
    if not _authenticated(user):
        return Topic.objects.none()
    condition = Q(pk__in=[])
    for scope in scopes_for(user):
        if scope.everywhere:
            return Topic.objects.all()
        if scope.community_id is not None:
            condition |= Q(community_id=scope.community_id)
        for code in scope.place_codes:
            condition |= Q(community__code=code) | Q(community__code__startswith=code + "-")
    return Topic.objects.filter(condition)


def topics_for(
    *, user: Any, community: Place | None = None, states: Iterable[str] | None = None
) -> QuerySet[Topic]:
    """Topics the user may see (their community's, or those under their scope), newest
    first, with their supports counted."""
    topics = _visible_topics(user)
    if community is not None:
        topics = topics.filter(community=community)
    if states is not None:
        topics = topics.filter(state__in=list(states))
    return (
        topics.select_related("community", "estate", "category")
        .annotate(support_count=Count("supports", distinct=True))
        .order_by("-created_at", "-pk")
    )


def topic_get(*, user: Any, pk: int) -> Topic:
    """One topic, or NotFound if it does not exist or the user may not see it."""
    topic = (
        _visible_topics(user)
        .filter(pk=pk)
        .select_related("community", "estate", "category", "proposed_by", "opened_by")
        .annotate(support_count=Count("supports", distinct=True))
        .first()
    )
    if topic is None or not rules.has_perm("deliberation.see_topic", user, topic):
        raise NotFound()
    return topic


def topic_is_staff(*, user: Any, topic: Topic) -> bool:
    """Whether the user sees the topic's internal side (manages it, or supervises)."""
    return rules.has_perm("deliberation.manage_plan", user, topic) or rules.has_perm(
        "deliberation.open_topic", user, topic.community
    )


def topic_events_for(*, user: Any, topic: Topic) -> QuerySet[TopicEvent]:
    """The topic's history, oldest first; residents see the public steps only."""
    events = topic.events.select_related("actor").order_by("at", "pk")
    if not topic_is_staff(user=user, topic=topic):
        events = events.filter(public=True)
    return events


def topic_cases_for(*, user: Any, topic: Topic) -> QuerySet[Case]:
    """The cases turned into the topic that the user may see."""
    return cases_for(user=user).filter(topic_ref=topic.ref)


def topic_case_count(*, topic: Topic) -> int:
    """How many cases became or joined the topic (a count anyone following it may see)."""
    return Case.objects.filter(topic_ref=topic.ref).count()


def topic_actions_for(*, user: Any, topic: Topic) -> list[str]:
    """The hand-made moves the user may make now, in the loop's order."""
    if not rules.has_perm("deliberation.manage_topic", user, topic):
        return []
    return [a for a in topic_actions_from(topic.state) if a in MANUAL_ACTIONS]


def topic_can_support(*, user: Any, topic: Topic) -> bool:
    return (
        topic.state in (TopicState.PROPOSED, TopicState.COLLECTING)
        and rules.has_perm("deliberation.support_topic", user, topic)
        and not topic.supports.filter(user_id=user.pk).exists()
    )


def topic_staff(*, topic: Topic) -> QuerySet[User]:
    """Who is told of a resident's proposal: the community's staff."""
    assignments = RoleAssignment.objects.active().filter(
        role__in=COMMUNITY_STAFF_ROLES, place=topic.community
    )
    return User.objects.filter(is_active=True, pk__in=assignments.values("user_id")).order_by("pk")


def topic_communities_for(*, user: Any, perm: str) -> list[Place]:
    """The communities where the user may open (or propose) a topic."""
    communities: dict[int, Place] = {}
    ids = {s.community_id for s in scopes_for(user) if s.community_id is not None}
    codes = [code for s in scopes_for(user) for code in s.place_codes]
    everywhere = any(s.everywhere for s in scopes_for(user))
    candidates = Place.objects.filter(kind=PlaceKind.COMMUNITY, is_active=True)
    if not everywhere:
        under = Q(pk__in=ids)
        for code in codes:
            under |= Q(code=code) | Q(code__startswith=code + "-")
        candidates = candidates.filter(under)
    for community in candidates.order_by("code")[:200]:
        if rules.has_perm(perm, user, community):
            communities[community.pk] = community
    return list(communities.values())


def estates_of(*, community: Place) -> QuerySet[Place]:
    return Place.objects.filter(kind=PlaceKind.ESTATE, parent=community, is_active=True).order_by(
        "sort_key", "code"
    )


@dataclass(frozen=True)
class TopicSuggestion:
    """Several similar open cases in one estate: perhaps one topic rather than N cases."""

    estate: Place
    category: Category
    count: int
    case_numbers: tuple[str, ...]
    since: datetime


def topic_suggestions_for(
    *,
    user: Any,
    community: Place,
    min_cases: int = SUGGEST_MIN_CASES,
    days: int = SUGGEST_WINDOW_DAYS,
    now: datetime | None = None,
) -> list[TopicSuggestion]:
    """Suggestions to open a topic: at least `min_cases` open cases of the same category
    in the same estate reported within the last `days` days, among the cases the user
    may see and not yet turned into a topic. Most cases first."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    rows = (
        cases_for(user=user, state=sorted(CASE_OPEN_STATES), reported_from=since)
        .filter(community=community)
        .order_by("reported_at", "pk")
        .values_list("number", "category_id", "place__code", "reported_at")
    )
    groups: dict[tuple[str, int], list[tuple[str, datetime]]] = {}
    for number, category_id, code, reported_at in rows:
        segments = code.split("-")
        if len(segments) < 4:
            continue
        estate_code = "-".join(segments[:4])
        groups.setdefault((estate_code, category_id), []).append((number, reported_at))
    wanted = {key: found for key, found in groups.items() if len(found) >= min_cases}
    if not wanted:
        return []
    estates = {
        p.code: p
        for p in Place.objects.filter(code__in={code for code, _c in wanted}, kind=PlaceKind.ESTATE)
    }
    categories = Category.objects.in_bulk({category for _e, category in wanted})
    suggestions = [
        TopicSuggestion(
            estate=estates[code],
            category=categories[category],
            count=len(found),
            case_numbers=tuple(number for number, _at in found),
            since=found[0][1],
        )
        for (code, category), found in wanted.items()
        if code in estates
    ]
    return sorted(suggestions, key=lambda s: (-s.count, s.estate.code, s.category.code))


# --- surveys ------------------------------------------------------------------------------


def _eligible_residencies(survey: Survey) -> QuerySet[Residency]:
    code = survey.place.code
    under = Q(place__code=code) | Q(place__code__startswith=code + "-")
    residencies = Residency.objects.filter(under, status=ResidencyStatus.VERIFIED)
    if survey.eligibility == Eligibility.OWNERS:
        return residencies.filter(
            relation__in=[Relation.OWNER, Relation.CO_OWNER],
            place__kind__in=[PlaceKind.DWELLING, PlaceKind.STREET_SHOP],
        )
    if survey.eligibility == Eligibility.SHOPS:
        return residencies.filter(place__kind=PlaceKind.STREET_SHOP)
    return residencies.filter(place__kind=PlaceKind.DWELLING)


def survey_eligible_count(*, survey: Survey) -> int:
    """Everyone who may answer: people, or dwellings for a survey counted by dwelling.
    Turnout is measured against this, never against whoever answered."""
    if survey.eligible_at_close is not None:
        return survey.eligible_at_close
    residencies = _eligible_residencies(survey)
    column = "place_id" if survey.one_per == OnePer.DWELLING else "user_id"
    return residencies.values(column).distinct().count()


def survey_eligible_places_for(*, user: Any, survey: Survey) -> list[Place]:
    """The homes (or shops) through which the user may answer; empty if not eligible."""
    if not _authenticated(user):
        return []
    residencies = (
        _eligible_residencies(survey)
        .filter(user=user)
        .select_related("place__parent__parent__parent")
    )
    return [r.place for r in residencies.order_by("place__code")]


def surveys_for(*, user: Any, topic: Topic) -> QuerySet[Survey]:
    """A topic's surveys: drafts only for its staff."""
    surveys = topic.surveys.all().order_by("-created_at", "-pk")
    if not topic_is_staff(user=user, topic=topic):
        surveys = surveys.exclude(state=SurveyState.DRAFT)
    return surveys.annotate(response_count=Count("responses"))


def survey_get(*, user: Any, pk: int) -> Survey:
    """One survey the user may see: on a topic they may see, or eligible or managing it."""
    survey = Survey.objects.select_related("place", "community", "topic").filter(pk=pk).first()
    if survey is None:
        raise NotFound()
    manages = rules.has_perm("deliberation.manage_survey", user, survey.topic or survey.place)
    if survey.state == SurveyState.DRAFT and not manages:
        raise NotFound()
    if survey.topic is not None and rules.has_perm("deliberation.see_topic", user, survey.topic):
        return survey
    if manages or survey_eligible_places_for(user=user, survey=survey):
        return survey
    raise NotFound()


def survey_answered(*, user: Any, survey: Survey) -> bool:
    """Whether the user (or, for a per-dwelling survey, each of their homes) has answered."""
    places = survey_eligible_places_for(user=user, survey=survey)
    if not places:
        return False
    if survey.one_per == OnePer.DWELLING:
        keys = [f"p:{p.pk}" for p in places]
        return survey.responses.filter(respondent_key__in=keys).count() >= len(keys)
    return survey.responses.filter(respondent_key=f"u:{user.pk}").exists()


@dataclass
class QuestionResult:
    position: int
    text: str
    kind: str
    answered: int
    options: list[tuple[str, int]] = field(default_factory=list)
    average: Fraction | None = None
    texts: list[str] = field(default_factory=list)


@dataclass
class SurveyResults:
    survey: Survey
    eligible: int
    responses: int
    questions: list[QuestionResult]
    poll: PollResult | None = None

    @property
    def turnout(self) -> Fraction:
        return Fraction(self.responses, self.eligible) if self.eligible else Fraction(0)


def survey_results_for(*, user: Any, survey: Survey) -> SurveyResults:
    """Counts per option, average scores, the written answers (to staff only), turnout
    against the eligible, and for a poll the result against its quorum and majority."""
    staff = rules.has_perm("deliberation.manage_survey", user, survey.topic or survey.place)
    eligible = survey_eligible_count(survey=survey)
    responses = survey.responses.count()
    results: list[QuestionResult] = []
    for question in survey.questions.prefetch_related("answers"):
        answers = list(question.answers.all())
        result = QuestionResult(
            position=question.position,
            text=question.text,
            kind=question.kind,
            answered=len(answers),
        )
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            counts = Counter(i for a in answers for i in a.choices)
            result.options = [(label, counts.get(i, 0)) for i, label in enumerate(question.options)]
        elif question.kind == QuestionKind.SCALE:
            numbers = [a.number for a in answers if a.number is not None]
            result.average = Fraction(sum(numbers), len(numbers)) if numbers else None
        elif staff:
            result.texts = [a.text for a in answers if a.text]
        results.append(result)
    poll = None
    if survey.kind == SurveyKind.POLL and results:
        poll = poll_tally(
            eligible=max(eligible, responses),
            counts=dict(results[0].options),
            quorum=Fraction(survey.quorum_numerator, survey.quorum_denominator),
            majority=Fraction(survey.majority_numerator, survey.majority_denominator),
            majority_inclusive=survey.majority_inclusive,
        )
    return SurveyResults(
        survey=survey, eligible=eligible, responses=responses, questions=results, poll=poll
    )


def topic_feedback_for(*, user: Any, topic: Topic) -> SurveyResults | None:
    """The results of the topic's latest feedback survey, as its page summarises them."""
    survey = topic.surveys.filter(kind=SurveyKind.FEEDBACK).exclude(state=SurveyState.DRAFT)
    latest = survey.order_by("-created_at", "-pk").first()
    return survey_results_for(user=user, survey=latest) if latest else None


# --- meetings -----------------------------------------------------------------------------


def meetings_for(*, user: Any, topic: Topic) -> QuerySet[Meeting]:
    """Meetings on the topic (or with a resolution on it), newest first."""
    return (
        Meeting.objects.filter(Q(topic=topic) | Q(resolutions__topic=topic))
        .distinct()
        .order_by("-starts_at", "-pk")
    )


def meeting_get(*, user: Any, pk: int) -> Meeting:
    """A meeting of a community the user follows; NotFound otherwise."""
    meeting = Meeting.objects.select_related("community", "topic").filter(pk=pk).first()
    if meeting is None or not rules.has_perm("deliberation.see_topic", user, meeting):
        raise NotFound()
    return meeting


def meeting_shows_minutes(*, user: Any, meeting: Meeting) -> bool:
    """Minutes and resolutions reach residents once published; organisers see drafts."""
    return meeting.state == MeetingState.PUBLISHED or rules.has_perm(
        "deliberation.manage_meeting", user, meeting
    )


# --- plans --------------------------------------------------------------------------------


def plans_for(*, user: Any, topic: Topic) -> QuerySet[Plan]:
    return topic.plans.prefetch_related("funding", "documents").order_by("-created_at", "-pk")


def plan_get(*, user: Any, pk: int) -> Plan:
    plan = Plan.objects.select_related("topic__community", "topic__estate").filter(pk=pk).first()
    if plan is None or not rules.has_perm("deliberation.see_topic", user, plan.topic):
        raise NotFound()
    return plan


@dataclass(frozen=True)
class FundingRow:
    source: str
    label: str
    amount: Decimal
    note: str
    share: Fraction


def plan_funding_rows(*, plan: Plan) -> list[FundingRow]:
    """Who pays what, with each source's exact share of the cost."""
    rows = []
    for share in FundingShare.objects.filter(plan=plan).order_by("-amount", "source"):
        rows.append(
            FundingRow(
                source=share.source,
                label=str(share.get_source_display()),
                amount=share.amount,
                note=share.note,
                share=Fraction(share.amount) / Fraction(plan.cost) if plan.cost else Fraction(0),
            )
        )
    return rows


def milestones_for(*, plan: Plan) -> QuerySet[Milestone]:
    return plan.milestones.prefetch_related("photos").order_by("position")


def plan_progress(*, plan: Plan) -> int:
    """The plan's overall progress: the milestones' average, in whole percent."""
    values = list(plan.milestones.values_list("progress", flat=True))
    return round(sum(values) / len(values)) if values else 0


# --- owners' votes ------------------------------------------------------------------------


def register_places(*, estate: Place) -> QuerySet[Place]:
    """The exclusive parts of an estate: its active dwellings and street shops."""
    return (
        Place.objects.filter(
            code__startswith=estate.code + "-",
            kind__in=[PlaceKind.DWELLING, PlaceKind.STREET_SHOP],
            is_active=True,
        )
        .select_related("parent__parent__parent")
        .order_by("code")
    )


def owner_register_for(*, user: Any, estate: Place) -> QuerySet[OwnerRegisterEntry]:
    """The estate's owner register, for those who keep it (names are personal data)."""
    if not rules.has_perm("deliberation.manage_register", user, estate):
        raise NotFound()
    return OwnerRegisterEntry.objects.filter(estate=estate).select_related(
        "place__parent__parent__parent", "representative"
    )


def owners_meeting_rules_for(*, estate: Place) -> OwnersMeetingRules | None:
    return OwnersMeetingRules.objects.filter(estate=estate).first()


def votes_for(*, user: Any, topic: Topic) -> QuerySet[OwnersVote]:
    return topic.votes.all().order_by("-notice_at", "-pk")


def vote_get(*, user: Any, pk: int) -> OwnersVote:
    """A vote on a topic the user may see; NotFound otherwise."""
    vote = (
        OwnersVote.objects.select_related("topic__community", "topic__estate", "estate", "plan")
        .filter(pk=pk)
        .first()
    )
    if vote is None or not rules.has_perm("deliberation.see_topic", user, vote.topic):
        raise NotFound()
    return vote


def vote_is_open(*, vote: OwnersVote, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return vote.state == VoteState.NOTICED and vote.opens_at <= now < vote.closes_at


def vote_tally(*, vote: OwnersVote) -> VoteResult:
    """Count the vote's ballots against its frozen register (`tally.owners_vote_tally`)."""
    roll = list(VoteRollEntry.objects.filter(vote=vote))
    parts = [
        ExclusivePart(
            key=str(e.pk),
            area=e.area,
            owner=e.owner_key,
            developer_unsold=e.developer_unsold,
        )
        for e in roll
    ]
    ballots = [
        TallyBallot(part=str(b.entry_id), choice=b.choice, channel=b.channel)
        for b in Ballot.objects.filter(vote=vote).order_by("pk")
    ]
    return owners_vote_tally(item=vote.item, parts=parts, ballots=ballots)


def vote_result_for(*, user: Any, vote: OwnersVote) -> VoteResult | None:
    """The counted result (anyone following the topic sees it once counted)."""
    if vote.state != VoteState.COUNTED:
        return None
    return vote_tally(vote=vote)


@dataclass(frozen=True)
class VoterGroup:
    """The parts one owner votes for with one ballot, and whether it has been cast."""

    entry: VoteRollEntry
    places: tuple[Place, ...]
    area: Decimal
    ballot: Ballot | None


def vote_voter_groups_for(*, user: Any, vote: OwnersVote) -> list[VoterGroup]:
    """The owner groups the user votes for online (as a part's registered voter), each
    with all of that owner's parts and the user's own ballot if cast."""
    if not _authenticated(user):
        return []
    mine = list(
        vote.roll.filter(representative=user).select_related("place__parent__parent__parent")
    )
    groups: dict[str, VoterGroup] = {}
    for entry in mine:
        key = DEVELOPER if entry.developer_unsold else entry.owner_key
        if key in groups:
            continue
        same_owner = (
            vote.roll.filter(developer_unsold=True)
            if entry.developer_unsold
            else vote.roll.filter(owner_key=entry.owner_key, developer_unsold=False)
        )
        members = list(same_owner.select_related("place__parent__parent__parent"))
        ballot = Ballot.objects.filter(vote=vote, entry__in=members).first()
        groups[key] = VoterGroup(
            entry=entry,
            places=tuple(m.place for m in members),
            area=sum((m.area for m in members), Decimal("0.00")),
            ballot=ballot,
        )
    return list(groups.values())


def vote_progress(*, vote: OwnersVote) -> tuple[int, int]:
    """(parts with a ballot, parts in the register): turnout while voting, no choices."""
    return vote.ballots.count(), vote.roll.count()


def vote_ballots_for_audit(*, user: Any, vote: OwnersVote) -> QuerySet[Ballot]:
    """Every ballot with who cast it and how, for the convening body and the owners'
    committee; NotFound for anyone else (ballots are secret from other owners)."""
    if not rules.has_perm("deliberation.audit_vote", user, vote):
        raise NotFound()
    return vote.ballots.select_related(
        "entry__place__parent__parent__parent", "cast_by", "entered_by"
    ).order_by("entry__place__code")


def vote_entries_for_entry(
    *, user: Any, vote: OwnersVote, query: str = ""
) -> QuerySet[VoteRollEntry]:
    """Register entries the convening body enters paper or proxy ballots for, with
    whether each already has a ballot; filtered by a place code or name fragment."""
    if not rules.has_perm("deliberation.enter_ballot", user, vote):
        raise NotFound()
    entries = vote.roll.select_related("place__parent__parent__parent", "representative")
    if query:
        entries = entries.filter(
            Q(place__code__icontains=query)
            | Q(place__name__icontains=query)
            | Q(place__parent__name__icontains=query)
            | Q(place__parent__parent__name__icontains=query)
        )
    return entries.annotate(ballot_count=Count("ballots")).order_by("place__code")


def vote_roll_entry_get(*, user: Any, vote: OwnersVote, pk: int) -> VoteRollEntry:
    entry = vote.roll.select_related("place").filter(pk=pk).first()
    if entry is None:
        raise NotFound()
    return entry


def choice_counts(*, vote: OwnersVote) -> dict[str, int]:
    """Ballots per choice, for a counted vote only (before, the choices stay sealed)."""
    if vote.state != VoteState.COUNTED:
        return {}
    counted = dict(
        vote.ballots.values_list("choice").annotate(n=Count("pk")).values_list("choice", "n")
    )
    return {c: counted.get(c, 0) for c in BallotChoice.values}


def topic_loop_position(*, topic: Topic) -> tuple[int, bool]:
    """Which step of the loop the topic is at (index into `states.LOOP`) and whether its
    plan skipped the owners' vote (so the page can say "无需表决" at that step)."""
    from .states import LOOP

    state = TopicState.COLLECTING if topic.state == TopicState.PROPOSED else topic.state
    index = LOOP.index(state) if state in LOOP else -1
    skipped_vote = not topic.votes.exists() and index > LOOP.index(TopicState.VOTING)
    return index, skipped_vote
