"""Where a topic is in the consultation loop, as a pure table of allowed moves.

    proposed ──accept──▶ collecting_opinions ──▶ deliberating ──▶ planning ──▶ implementing
        └──decline──▶ declined        ▲               │              │  ▲          │
                                      └───────────────┘              ▼  │          ▼
                                                                   voting      feedback ──▶ done

- a worker's topic and one made from cases start in `collecting_opinions`;
- a resident's proposal waits in `proposed`, gathering supports, until staff accept or
  decline it;
- deliberation may send a topic back to collect more opinions;
- a plan that needs the owners' decision goes to `voting` when the vote is noticed; a
  vote that passes adopts the plan (`implementing`), one that fails sends it back to
  `planning`; a plan that needs no vote is adopted straight from `planning`;
- when every milestone is done the plan completes (`feedback`), and the topic is
  `done` once the feedback is in.

Services ask `topic_next_state` before they change anything; any other move is refused
with `InvalidTransition` naming both stages.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import InvalidTransition


class TopicState(models.TextChoices):
    PROPOSED = "proposed", _("居民提议")
    COLLECTING = "collecting_opinions", _("民意收集")
    DELIBERATING = "deliberating", _("共商共议")
    PLANNING = "planning", _("方案制定")
    VOTING = "voting", _("业主表决")
    IMPLEMENTING = "implementing", _("方案落地")
    FEEDBACK = "feedback", _("反馈收集")
    DONE = "done", _("已完成")
    DECLINED = "declined", _("不予立项")


class TopicAction(models.TextChoices):
    ACCEPT = "accept", _("受理提议")
    DECLINE = "decline", _("不予立项")
    DELIBERATE = "deliberate", _("进入共商共议")
    COLLECT_MORE = "collect_more", _("退回继续收集民意")
    PLAN = "plan", _("进入方案制定")
    NOTICE_VOTE = "notice_vote", _("发布业主表决公告")
    VOTE_PASSED = "vote_passed", _("表决通过")
    VOTE_FAILED = "vote_failed", _("表决未通过")
    ADOPT_PLAN = "adopt_plan", _("通过方案")
    COMPLETE_PLAN = "complete_plan", _("方案实施完成")
    CLOSE = "close", _("完成议题")


S = TopicState
A = TopicAction

TRANSITIONS: dict[str, dict[str, str]] = {
    S.PROPOSED: {A.ACCEPT: S.COLLECTING, A.DECLINE: S.DECLINED},
    S.COLLECTING: {A.DELIBERATE: S.DELIBERATING},
    S.DELIBERATING: {A.PLAN: S.PLANNING, A.COLLECT_MORE: S.COLLECTING},
    S.PLANNING: {A.NOTICE_VOTE: S.VOTING, A.ADOPT_PLAN: S.IMPLEMENTING},
    S.VOTING: {A.VOTE_PASSED: S.IMPLEMENTING, A.VOTE_FAILED: S.PLANNING},
    S.IMPLEMENTING: {A.COMPLETE_PLAN: S.FEEDBACK},
    S.FEEDBACK: {A.CLOSE: S.DONE},
    S.DONE: {},
    S.DECLINED: {},
}

# The loop's steps in order, as the topic page's step indicator shows them.
LOOP: tuple[str, ...] = (
    S.COLLECTING,
    S.DELIBERATING,
    S.PLANNING,
    S.VOTING,
    S.IMPLEMENTING,
    S.FEEDBACK,
    S.DONE,
)
# Moves staff make by hand; the others follow from votes, plans and milestones.
MANUAL_ACTIONS: frozenset[str] = frozenset(
    {A.ACCEPT, A.DECLINE, A.DELIBERATE, A.COLLECT_MORE, A.PLAN, A.CLOSE}
)
OPEN_STATES: frozenset[str] = frozenset(set(TRANSITIONS) - {S.DONE, S.DECLINED})


def topic_next_state(state: str, action: str) -> str:
    """The state `action` leads to from `state`, or `InvalidTransition`."""
    target = TRANSITIONS.get(state, {}).get(action)
    if target is None:
        raise InvalidTransition(
            _("议题处于“%(state)s”阶段，不能“%(action)s”。")
            % {"state": S(state).label, "action": A(action).label},
            code="invalid_topic_transition",
        )
    return target


def topic_actions_from(state: str) -> list[str]:
    """The actions the table allows from `state`, in the table's order."""
    return list(TRANSITIONS.get(state, {}))
