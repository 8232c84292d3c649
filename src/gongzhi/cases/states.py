"""The case lifecycle of rules §1 as a pure table: which action leads from which state where.

    reported → responded → in_progress → completed → followed_up → closed
    responded / in_progress ⇄ paused (back to where it was)
    completed / followed_up / closed → in_progress   (reopen: a negative follow-up or a complaint)
    completed → closed                               (no answer to the follow-up after 3 days)
    open states → merged | to_topic;  reported / responded → declined
    to_topic → closed                                (the topic's plan is done)

Services ask `next_state` before they change anything; whatever the table does not list
is refused with `InvalidTransition`, naming the current state and the action in words a
worker understands. No database here: the table is tested exhaustively and by hypothesis.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import InvalidTransition


class CaseState(models.TextChoices):
    REPORTED = "reported", _("已上报")
    RESPONDED = "responded", _("已响应")
    IN_PROGRESS = "in_progress", _("处理中")
    PAUSED = "paused", _("挂起")
    COMPLETED = "completed", _("已办结")
    FOLLOWED_UP = "followed_up", _("已回访")
    CLOSED = "closed", _("已关闭")
    MERGED = "merged", _("已合并")
    DECLINED = "declined", _("不予受理")
    TO_TOPIC = "to_topic", _("已转议题")


class CaseAction(models.TextChoices):
    RESPOND = "respond", _("响应")
    START = "start", _("开始办理")
    PAUSE = "pause", _("挂起")
    RESUME = "resume", _("恢复办理")
    COMPLETE = "complete", _("办结")
    FOLLOW_UP = "follow_up", _("回访")
    CLOSE = "close", _("关闭")
    CLOSE_UNANSWERED = "close_unanswered", _("回访无应答关闭")
    REOPEN = "reopen", _("重新办理")
    MERGE = "merge", _("合并")
    DECLINE = "decline", _("不予受理")
    TO_TOPIC = "to_topic", _("转议题")
    CLOSE_FOR_TOPIC = "close_for_topic", _("议题方案完成后关闭")


S = CaseState
A = CaseAction

# Still being worked on: the clocks run, duplicates are looked for, it can be merged.
OPEN_STATES: frozenset[str] = frozenset({S.REPORTED, S.RESPONDED, S.IN_PROGRESS, S.PAUSED})
# Nothing more happens to these (a closed case can still be reopened by a complaint).
FINAL_STATES: frozenset[str] = frozenset({S.CLOSED, S.MERGED, S.DECLINED})
# The states a paused case may have been paused from, and so may return to.
PAUSABLE_STATES: frozenset[str] = frozenset({S.RESPONDED, S.IN_PROGRESS})

TRANSITIONS: dict[str, dict[str, str]] = {
    A.RESPOND: {S.REPORTED: S.RESPONDED},
    A.START: {S.RESPONDED: S.IN_PROGRESS},
    A.PAUSE: {S.RESPONDED: S.PAUSED, S.IN_PROGRESS: S.PAUSED},
    # RESUME goes back to the state recorded at pause time; see `next_state`.
    A.RESUME: {S.PAUSED: S.PAUSED},
    A.COMPLETE: {S.IN_PROGRESS: S.COMPLETED},
    A.FOLLOW_UP: {S.COMPLETED: S.FOLLOWED_UP},
    A.CLOSE: {S.FOLLOWED_UP: S.CLOSED},
    A.CLOSE_UNANSWERED: {S.COMPLETED: S.CLOSED},
    A.REOPEN: {S.COMPLETED: S.IN_PROGRESS, S.FOLLOWED_UP: S.IN_PROGRESS, S.CLOSED: S.IN_PROGRESS},
    A.MERGE: {state: S.MERGED for state in OPEN_STATES},
    A.DECLINE: {S.REPORTED: S.DECLINED, S.RESPONDED: S.DECLINED},
    A.TO_TOPIC: {state: S.TO_TOPIC for state in OPEN_STATES},
    A.CLOSE_FOR_TOPIC: {S.TO_TOPIC: S.CLOSED},
}


def next_state(state: str, action: str, *, paused_from: str = "") -> str:
    """The state `action` leads to from `state`, or `InvalidTransition` if the graph has no
    such edge. Resuming needs `paused_from`, the state the case was paused in."""
    targets = TRANSITIONS.get(action)
    if targets is None or state not in targets:
        raise InvalidTransition(
            _("案件当前状态为“%(state)s”，不能执行“%(action)s”。")
            % {"state": _label(CaseState, state), "action": _label(CaseAction, action)},
            code="invalid_transition",
            state=state,
            action=action,
        )
    if action == A.RESUME:
        if paused_from not in PAUSABLE_STATES:
            raise InvalidTransition(
                _("案件挂起前的状态“%(state)s”无法恢复。")
                % {"state": _label(CaseState, paused_from)},
                code="invalid_transition",
                state=state,
                action=action,
            )
        return paused_from
    return targets[state]


def allowed_actions(state: str) -> frozenset[str]:
    """Every action the graph allows from `state` (before permissions are considered)."""
    return frozenset(action for action, targets in TRANSITIONS.items() if state in targets)


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"
