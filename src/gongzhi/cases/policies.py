"""Default time limits per category group (rules §2) and the presets an administrator can
switch a category to. Pure data: the services and the seed migration read it.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from gongzhi.core.clocks import ClockKind, TargetUnit


@dataclass(frozen=True)
class Target:
    amount: int
    unit: str
    clock: str


FIFTEEN_MINUTES_SERVICE = Target(15, TargetUnit.MINUTES, ClockKind.SERVICE_HOURS)
FIFTEEN_MINUTES_CALENDAR = Target(15, TargetUnit.MINUTES, ClockKind.CALENDAR)

# group → (response target, completion target)
GROUP_DEFAULTS: dict[str, tuple[Target, Target]] = {
    # small matter: 15 min in service hours; 24 h on the calendar, from the report
    "small_matter": (FIFTEEN_MINUTES_SERVICE, Target(24, TargetUnit.HOURS, ClockKind.CALENDAR)),
    # someone trapped in a lift, an elder living alone not answering
    "people_at_risk": (FIFTEEN_MINUTES_CALENDAR, Target(4, TargetUnit.HOURS, ClockKind.CALENDAR)),
    # gas smell, flying-wire charging, blocked fire lane, water main burst
    "urgent_safety": (FIFTEEN_MINUTES_CALENDAR, Target(4, TargetUnit.HOURS, ClockKind.CALENDAR)),
    # drains, roofs, public facilities: parts or contractors
    "repair": (FIFTEEN_MINUTES_SERVICE, Target(3, TargetUnit.DAYS, ClockKind.WORKING)),
    # leaks into the flat below, pets, parking quarrels
    "dispute": (FIFTEEN_MINUTES_SERVICE, Target(7, TargetUnit.DAYS, ClockKind.WORKING)),
    # parking shortage, renovation, new charging ports: the completion target is the
    # topic being opened (the case goes `to_topic`), within 5 working days
    "consultation": (FIFTEEN_MINUTES_SERVICE, Target(5, TargetUnit.DAYS, ClockKind.WORKING)),
}


@dataclass(frozen=True)
class Preset:
    label: str
    completion: Target


# Beijing's 接诉即办 tiers: the time to give the resident the result (反馈). A preset sets
# the completion target only; the response target (first contact) stays as it was.
PRESETS: dict[str, Preset] = {
    "beijing_urgent": Preset(
        _("北京接诉即办·紧急（2小时，涉及生命财产安全）"),
        Target(2, TargetUnit.HOURS, ClockKind.CALENDAR),
    ),
    "beijing_utilities": Preset(
        _("北京接诉即办·水电气热（24小时）"), Target(24, TargetUnit.HOURS, ClockKind.CALENDAR)
    ),
    "beijing_general": Preset(
        _("北京接诉即办·一般（7天）"), Target(7, TargetUnit.DAYS, ClockKind.CALENDAR)
    ),
    "beijing_complex": Preset(
        _("北京接诉即办·复杂（15天）"), Target(15, TargetUnit.DAYS, ClockKind.CALENDAR)
    ),
}
