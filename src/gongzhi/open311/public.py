"""What anyone may read of a case through Open311 (rules §5). Pure: no database.

GET calls need no key, so everything here is written for the whole public:
- status: `open` while the case is being worked on (reported, responded, in progress,
  paused, or turned into a consultation topic that will close it), `closed` once it is
  completed, followed up, closed, merged into another case or declined;
- status notes and update texts say the state in words, plus where a declined case was
  referred and which case a duplicate joined. A handler's own notes are never shown: they
  were written for the reporter, not for everyone;
- the address and coordinates stop at the building (a dwelling, entrance or street shop
  shows its building, estate or community), so no household is pointed at;
- the description is plain text (markup removed), with phone numbers masked and the
  reporter's name and dwelling hidden; it is withheld altogether when the reporter asked to be
  anonymous to the public, and for categories about a person at risk or a dispute
  between neighbours, whose words are about other people.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from gongzhi.accounts.privacy import mask_phone
from gongzhi.cases.models import CategoryGroup
from gongzhi.cases.states import OPEN_STATES, CaseState
from gongzhi.places.models import PlaceKind

PUBLIC_OPEN_STATES = OPEN_STATES | {CaseState.TO_TOPIC}
# The deepest kinds a public answer may point at.
PUBLIC_PLACE_KINDS = frozenset(
    {
        PlaceKind.DISTRICT,
        PlaceKind.SUBDISTRICT,
        PlaceKind.COMMUNITY,
        PlaceKind.ESTATE,
        PlaceKind.BUILDING,
        PlaceKind.PUBLIC_AREA,
    }
)
WITHHELD_GROUPS = frozenset({CategoryGroup.PEOPLE_AT_RISK, CategoryGroup.DISPUTE})
# Seven or more digits, possibly split by spaces or dashes: a phone number in all but name.
_DIGIT_RUN = re.compile(r"\+?\d[\d -]{5,}\d")
_NAME_MASK = "**"


@dataclass(frozen=True)
class PlaceNode:
    code: str
    kind: str
    name: str
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


def status_for(state: str) -> str:
    """GeoReport's two statuses for one of the case's states."""
    return "open" if state in PUBLIC_OPEN_STATES else "closed"


def status_notes_for(*, state: str, referral: str = "", merged_into: str = "") -> str:
    """The case's state in words a resident understands."""
    if state == CaseState.MERGED and merged_into:
        return _("与诉求 %(number)s 重复，已合并办理。") % {"number": merged_into}
    if state == CaseState.DECLINED:
        if referral:
            return _("不予受理，已转介：%(referral)s。") % {"referral": referral}
        return _("不予受理。")
    if state == CaseState.PAUSED:
        return _("挂起：等待居民或第三方，办结计时暂停。")
    if state == CaseState.COMPLETED:
        return _("已办结，等待回访。")
    if state == CaseState.TO_TOPIC:
        return _("已转为协商议题，方案完成后关闭。")
    return str(CaseState(state).label)


def public_chain(chain: Sequence[PlaceNode]) -> list[PlaceNode]:
    """The places from the root down to the case's place, cut at the deepest one the
    public may see."""
    deepest = 0
    for index, node in enumerate(chain):
        if node.kind in PUBLIC_PLACE_KINDS:
            deepest = index
    return list(chain[: deepest + 1])


def address_for(chain: Sequence[PlaceNode]) -> str:
    """From the most specific place to the most general, as the spec asks: the building
    (with its street address when known), estate, community, subdistrict, district."""
    parts = [node.name for node in reversed(chain)]
    if chain and chain[-1].address:
        parts[0] = f"{parts[0]}（{chain[-1].address}）"
    return "，".join(parts)


def coordinates_for(chain: Sequence[PlaceNode]) -> tuple[float | None, float | None]:
    """The position of the deepest place in `chain` that has one."""
    for node in reversed(chain):
        if node.latitude is not None and node.longitude is not None:
            return float(node.latitude), float(node.longitude)
    return None, None


def plain_text(text: str) -> str:
    """Text without markup, with one kind of line break."""
    return strip_tags(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def masked(text: str, names: Iterable[str]) -> str:
    """`text` with every phone-number-like run of digits masked (138****5678) and each of
    `names` (two characters or more) replaced."""
    text = _DIGIT_RUN.sub(_mask_digits, text)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, _NAME_MASK)
    return text


def _mask_digits(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return mask_phone(digits) if len(digits) >= 7 else match.group(0)


def public_description(
    *,
    text: str,
    names: Iterable[str],
    is_anonymous: bool,
    group: str,
    location_note: str = "",
) -> str | None:
    """The case text as the public reads it, or None where it is withheld."""
    if is_anonymous or group in WITHHELD_GROUPS:
        return None
    if location_note:
        head, newline, last = text.rpartition("\n")
        if newline and location_note in last:
            text = head
    return masked(plain_text(text), names)


def location_suffix(location_note: str) -> str:
    """What a report's text gets when its location matched no place: for the handlers."""
    return "\n" + _("（位置：%(where)s）") % {"where": location_note}


def w3c(moment: datetime | None) -> str | None:
    """ISO 8601 with the local offset, to the second: 2026-11-27T09:30:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")
