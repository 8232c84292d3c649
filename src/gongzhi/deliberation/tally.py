"""Counting votes exactly: owners' votes as rules.md §4 says, and simple polls.

Owners' votes (业主大会表决, PRC Civil Code art. 278, counted as 法释〔2009〕7号 art. 8–9 say):

- the register lists every exclusive part (专有部分) in the vote's scope with its area and
  the identity of its right holder (one person, or a group of co-owners with one
  representative), and whether it is a developer's unsold or undelivered unit;
- head count: each exclusive part is one owner, except that all of the developer's unsold
  units together are ONE owner, and one right holder with several parts is ONE owner
  with all their area; co-owners are one owner and cast one ballot through their
  representative;
- quorum: owners holding ≥ 2/3 of ALL the area AND ≥ 2/3 of ALL owners take part
  (a ballot of agree, disagree or abstain is taking part);
- approval, measured against those who took part: items 6–8 need ≥ 3/4 of the area AND
  ≥ 3/4 of the owners agreeing; every other item needs MORE than half of both
  ("以上" includes the boundary, "过半数" does not — Civil Code art. 1259).

Areas are `Decimal`, `int`, `str` or `Fraction` and are counted as `Fraction`: a float is
refused, because 2/3 of a sum of floats is not 2/3 of the area. Nothing here touches the
database; the services build the inputs from the register and the ballots.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Item(models.IntegerChoices):
    """The matters owners decide jointly, numbered as Civil Code art. 278 numbers them."""

    PROCEDURE_RULES = 1, _("（一）制定和修改业主大会议事规则")
    COMPACT = 2, _("（二）制定和修改管理规约")
    COMMITTEE = 3, _("（三）选举业主委员会或者更换业主委员会成员")
    PROPERTY_COMPANY = 4, _("（四）选聘和解聘物业服务企业或者其他管理人")
    USE_FUND = 5, _("（五）使用建筑物及其附属设施的维修资金")
    RAISE_FUND = 6, _("（六）筹集建筑物及其附属设施的维修资金")
    REBUILD = 7, _("（七）改建、重建建筑物及其附属设施")
    CHANGE_USE = 8, _("（八）改变共有部分的用途或者利用共有部分从事经营活动")
    OTHER = 9, _("（九）有关共有和共同管理权利的其他重大事项")


# Items whose approval needs three quarters rather than a majority (art. 278 para. 2).
SPECIAL_ITEMS = frozenset({Item.RAISE_FUND, Item.REBUILD, Item.CHANGE_USE})

QUORUM = Fraction(2, 3)
SPECIAL_APPROVAL = Fraction(3, 4)
MAJORITY = Fraction(1, 2)

# The head-count identity shared by every unsold unit of the developer.
DEVELOPER = "developer"


class BallotChoice(models.TextChoices):
    AGREE = "agree", _("同意")
    DISAGREE = "disagree", _("反对")
    ABSTAIN = "abstain", _("弃权")


class BallotChannel(models.TextChoices):
    """How a ballot was cast; recorded for every ballot (rules §4)."""

    ONLINE = "online", _("线上投票")
    PAPER = "paper", _("纸质表决票（业委会录入）")
    PROXY = "proxy", _("书面委托代投")


class TallyError(ValueError):
    """The register or the ballots break a counting rule; nothing is counted."""

    def __init__(self, message: Any, *, code: str) -> None:
        self.message = message
        self.code = code
        super().__init__(str(message))


def exact(value: Fraction | Decimal | int | str) -> Fraction:
    """An area as an exact fraction; floats are refused (they are not exact)."""
    if isinstance(value, bool | float):
        raise TypeError("areas are counted exactly: pass Decimal, int, str or Fraction")
    return Fraction(value)


@dataclass(frozen=True)
class ExclusivePart:
    """One exclusive part of the register.

    `owner` identifies the right holder as the register records it: the same string on
    several parts means one buyer holding them all. Co-owners of one part have one
    `owner` for the group, list themselves in `co_owners` and vote through
    `representative`.
    """

    key: str
    area: Fraction | Decimal | int | str
    owner: str
    developer_unsold: bool = False
    co_owners: tuple[str, ...] = ()
    representative: str = ""

    @property
    def identity(self) -> str:
        """Who this part counts as in the head count."""
        return DEVELOPER if self.developer_unsold else self.owner


@dataclass(frozen=True)
class Ballot:
    """One ballot: for one exclusive part (`part`) or for one owner (`owner`, the
    identity the register gives them, or `DEVELOPER`). `cast_by` is who handed it in."""

    choice: str
    channel: str = BallotChannel.ONLINE
    part: str = ""
    owner: str = ""
    cast_by: str = ""


@dataclass(frozen=True)
class Side:
    """Area and head count of one group of owners."""

    area: Fraction = Fraction(0)
    owners: int = 0


def _ratio(part: Fraction | int, whole: Fraction | int) -> Fraction:
    return Fraction(part) / Fraction(whole) if whole else Fraction(0)


@dataclass(frozen=True)
class VoteResult:
    """What the result page shows: both ratios against both thresholds, and the item."""

    item: int
    total: Side
    participating: Side
    agree: Side
    disagree: Side
    abstain: Side
    ballots_by_channel: Mapping[str, int]
    quorum_threshold: Fraction
    approval_threshold: Fraction
    # True for "以上" (≥, items 6–8), False for "过半数" (>, every other item).
    approval_inclusive: bool
    quorum_met: bool
    approval_met: bool
    reasons: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.quorum_met and self.approval_met

    @property
    def participation_area_ratio(self) -> Fraction:
        return _ratio(self.participating.area, self.total.area)

    @property
    def participation_owner_ratio(self) -> Fraction:
        return _ratio(self.participating.owners, self.total.owners)

    @property
    def approval_area_ratio(self) -> Fraction:
        return _ratio(self.agree.area, self.participating.area)

    @property
    def approval_owner_ratio(self) -> Fraction:
        return _ratio(self.agree.owners, self.participating.owners)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe record of the count; fractions as "n/d" so nothing is rounded."""

        def side(s: Side) -> dict[str, Any]:
            return {"area": _fraction_text(s.area), "owners": s.owners}

        return {
            "item": self.item,
            "total": side(self.total),
            "participating": side(self.participating),
            "agree": side(self.agree),
            "disagree": side(self.disagree),
            "abstain": side(self.abstain),
            "ballots_by_channel": dict(self.ballots_by_channel),
            "quorum_threshold": _fraction_text(self.quorum_threshold),
            "approval_threshold": _fraction_text(self.approval_threshold),
            "approval_inclusive": self.approval_inclusive,
            "participation_area_ratio": _fraction_text(self.participation_area_ratio),
            "participation_owner_ratio": _fraction_text(self.participation_owner_ratio),
            "approval_area_ratio": _fraction_text(self.approval_area_ratio),
            "approval_owner_ratio": _fraction_text(self.approval_owner_ratio),
            "quorum_met": self.quorum_met,
            "approval_met": self.approval_met,
            "passed": self.passed,
            "reasons": list(self.reasons),
        }


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def fraction_from_text(text: str) -> Fraction:
    """The inverse of the "n/d" form `VoteResult.as_dict` stores."""
    return Fraction(text)


def approval_rule(item: int) -> tuple[Fraction, bool]:
    """The approval threshold of an item and whether the boundary itself passes."""
    if item not in Item.values:
        raise TallyError(_("表决事项须为民法典第二百七十八条所列的第1至9项。"), code="invalid_item")
    if item in SPECIAL_ITEMS:
        return SPECIAL_APPROVAL, True
    return MAJORITY, False


def _check_register(parts: Iterable[ExclusivePart]) -> dict[str, ExclusivePart]:
    by_key: dict[str, ExclusivePart] = {}
    for part in parts:
        if part.key in by_key:
            raise TallyError(
                _("专有部分 %(key)s 在名册中出现了两次。") % {"key": part.key},
                code="duplicate_part",
            )
        if exact(part.area) <= 0:
            raise TallyError(
                _("专有部分 %(key)s 没有有效的面积。") % {"key": part.key}, code="invalid_area"
            )
        if not part.developer_unsold and not part.owner:
            raise TallyError(
                _("专有部分 %(key)s 没有登记业主。") % {"key": part.key}, code="missing_owner"
            )
        if part.representative and part.co_owners and part.representative not in part.co_owners:
            raise TallyError(
                _("专有部分 %(key)s 的代表人不是其共有人。") % {"key": part.key},
                code="invalid_representative",
            )
        by_key[part.key] = part
    return by_key


def _ballot_identity(
    ballot: Ballot, parts: Mapping[str, ExclusivePart], identities: set[str]
) -> str:
    if bool(ballot.part) == bool(ballot.owner):
        raise TallyError(_("每张选票须指明一个专有部分或一位业主。"), code="ballot_target")
    if ballot.choice not in BallotChoice.values:
        raise TallyError(_("选票意见须为同意、反对或弃权。"), code="invalid_choice")
    if ballot.channel not in BallotChannel.values:
        raise TallyError(_("选票须记录投票方式。"), code="invalid_channel")
    if ballot.owner:
        if ballot.owner not in identities:
            raise TallyError(
                _("投票人 %(owner)s 不在业主名册中。") % {"owner": ballot.owner},
                code="not_in_register",
            )
        return ballot.owner
    part = parts.get(ballot.part)
    if part is None:
        raise TallyError(
            _("专有部分 %(key)s 不在本次表决的业主名册中。") % {"key": ballot.part},
            code="not_in_register",
        )
    # Co-owners vote once, through their representative; a proxy holder is someone else.
    if (
        ballot.cast_by
        and part.representative
        and len(part.co_owners) > 1
        and ballot.channel != BallotChannel.PROXY
        and ballot.cast_by != part.representative
    ):
        raise TallyError(
            _("专有部分 %(key)s 为共有，须由共有人推举的代表人投票。") % {"key": part.key},
            code="not_representative",
        )
    return part.identity


def owners_vote_tally(
    *, item: int, parts: Iterable[ExclusivePart], ballots: Iterable[Ballot]
) -> VoteResult:
    """Count an owners' vote under rules.md §4 (see the module docstring).

    Raises `TallyError` when the register or the ballots break a rule: a part listed
    twice, a part without area or owner, a ballot for someone not in the register, two
    ballots for one exclusive part or one owner, or one owner's ballots disagreeing.
    """
    approval_threshold, inclusive = approval_rule(item)
    by_key = _check_register(parts)
    area_of: dict[str, Fraction] = {}
    for part in by_key.values():
        area_of[part.identity] = area_of.get(part.identity, Fraction(0)) + exact(part.area)

    choice_of: dict[str, str] = {}
    seen_parts: set[str] = set()
    seen_owner_ballots: set[str] = set()
    by_channel: dict[str, int] = {}
    for ballot in ballots:
        identity = _ballot_identity(ballot, by_key, set(area_of))
        if ballot.part:
            if ballot.part in seen_parts:
                raise TallyError(
                    _("专有部分 %(key)s 已有一张选票：每个专有部分只能投一票。")
                    % {"key": ballot.part},
                    code="duplicate_ballot",
                )
            seen_parts.add(ballot.part)
        else:
            if identity in seen_owner_ballots:
                raise TallyError(
                    _("业主 %(owner)s 已投过票。") % {"owner": identity}, code="duplicate_ballot"
                )
            seen_owner_ballots.add(identity)
        earlier = choice_of.get(identity)
        if earlier is not None and earlier != ballot.choice:
            # One owner is one vote with all their area: their ballots must say the same.
            raise TallyError(
                _("同一业主（%(owner)s）的选票意见不一致。") % {"owner": identity},
                code="inconsistent_owner",
            )
        choice_of[identity] = ballot.choice
        by_channel[ballot.channel] = by_channel.get(ballot.channel, 0) + 1

    def side_of(identities: Iterable[str]) -> Side:
        chosen = list(identities)
        return Side(area=sum((area_of[i] for i in chosen), Fraction(0)), owners=len(chosen))

    total = side_of(area_of)
    participating = side_of(choice_of)
    agree = side_of(i for i, c in choice_of.items() if c == BallotChoice.AGREE)
    disagree = side_of(i for i, c in choice_of.items() if c == BallotChoice.DISAGREE)
    abstain = side_of(i for i, c in choice_of.items() if c == BallotChoice.ABSTAIN)

    quorum_area = total.area > 0 and participating.area / total.area >= QUORUM
    quorum_owners = total.owners > 0 and Fraction(participating.owners, total.owners) >= QUORUM

    def meets(part: Fraction | int, whole: Fraction | int) -> bool:
        if not whole:
            return False
        share = Fraction(part) / Fraction(whole)
        return share >= approval_threshold if inclusive else share > approval_threshold

    approval_area = meets(agree.area, participating.area)
    approval_owners = meets(agree.owners, participating.owners)

    reasons = _reasons(
        quorum_area=quorum_area,
        quorum_owners=quorum_owners,
        approval_area=approval_area,
        approval_owners=approval_owners,
        inclusive=inclusive,
        threshold=approval_threshold,
    )
    return VoteResult(
        item=item,
        total=total,
        participating=participating,
        agree=agree,
        disagree=disagree,
        abstain=abstain,
        ballots_by_channel=by_channel,
        quorum_threshold=QUORUM,
        approval_threshold=approval_threshold,
        approval_inclusive=inclusive,
        quorum_met=bool(quorum_area and quorum_owners),
        approval_met=approval_area and approval_owners,
        reasons=reasons,
    )


def _reasons(
    *,
    quorum_area: bool,
    quorum_owners: bool,
    approval_area: bool,
    approval_owners: bool,
    inclusive: bool,
    threshold: Fraction,
) -> tuple[str, ...]:
    """Why the vote passed or failed, in the words of the rule that decided it."""
    rule = (_("%(t)s以上（含本数）") if inclusive else _("过%(t)s（不含本数）")) % {
        "t": fraction_words(threshold)
    }
    reasons: list[str] = []
    if not quorum_area:
        reasons.append(str(_("参与表决的专有部分面积未达到总面积的三分之二")))
    if not quorum_owners:
        reasons.append(str(_("参与表决的业主人数未达到总人数的三分之二")))
    if quorum_area and quorum_owners:
        if not approval_area:
            reasons.append(
                str(_("同意的专有部分面积未达到参与表决面积的%(rule)s") % {"rule": rule})
            )
        if not approval_owners:
            reasons.append(str(_("同意的业主人数未达到参与表决人数的%(rule)s") % {"rule": rule}))
    if not reasons:
        reasons.append(
            str(
                _("参与表决的面积和人数均达到三分之二以上，同意的面积和人数均达到%(rule)s")
                % {"rule": rule}
            )
        )
    return tuple(reasons)


def fraction_words(value: Fraction) -> str:
    """A threshold as Chinese reads it: 三分之二, 四分之三, 半数."""
    if value == MAJORITY:
        return str(_("半数"))
    digits = "零一二三四五六七八九十"
    if value.denominator <= 10 and value.numerator <= 10:
        return f"{digits[value.denominator]}分之{digits[value.numerator]}"
    return f"{value.numerator}/{value.denominator}"


# --- simple polls --------------------------------------------------------------------------


@dataclass(frozen=True)
class PollResult:
    """A residents' poll with a quorum and majority its organisers set (rules §4, last
    paragraph). Turnout is measured against everyone eligible, never against whoever
    happened to answer."""

    eligible: int
    responses: int
    counts: Mapping[str, int]
    quorum: Fraction
    majority: Fraction
    majority_inclusive: bool
    leading: str
    quorum_met: bool
    majority_met: bool

    @property
    def turnout(self) -> Fraction:
        return _ratio(self.responses, self.eligible)

    @property
    def leading_share(self) -> Fraction:
        return _ratio(self.counts.get(self.leading, 0), self.responses)

    @property
    def passed(self) -> bool:
        return self.quorum_met and self.majority_met


def poll_tally(
    *,
    eligible: int,
    counts: Mapping[str, int],
    quorum: Fraction,
    majority: Fraction = MAJORITY,
    majority_inclusive: bool = False,
) -> PollResult:
    """Count a single-choice poll: `counts` maps each option to its answers. The leading
    option carries the poll if turnout reaches the quorum and its share of the answers
    passes the majority; a tie for the lead carries nothing."""
    if eligible < 0 or any(n < 0 for n in counts.values()):
        raise TallyError(_("人数不能为负。"), code="negative_count")
    responses = sum(counts.values())
    if responses > eligible:
        raise TallyError(_("答卷数超过了有资格参与的人数。"), code="too_many_responses")
    if not (0 <= quorum <= 1 and 0 <= majority <= 1):
        raise TallyError(_("门槛须在 0 与 1 之间。"), code="invalid_threshold")
    top = max(counts.values(), default=0)
    leaders = [option for option, n in counts.items() if n == top and n > 0]
    leading = leaders[0] if len(leaders) == 1 else ""
    turnout = _ratio(responses, eligible)
    share = _ratio(top, responses) if leading else Fraction(0)
    return PollResult(
        eligible=eligible,
        responses=responses,
        counts=dict(counts),
        quorum=quorum,
        majority=majority,
        majority_inclusive=majority_inclusive,
        leading=leading,
        quorum_met=eligible > 0 and turnout >= quorum,
        majority_met=bool(leading)
        and (share >= majority if majority_inclusive else share > majority),
    )
