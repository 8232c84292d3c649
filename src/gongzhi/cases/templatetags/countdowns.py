"""`{% countdown c %}`: a case's countdown (`cases.views.worker.Countdown`) as a bar and
words — an icon and text (colour is never the only signal), the share of the target used,
and the deadline, marked when it is estimated.

Written in Python, as the admin writes its change list's cells: the inbox shows 25 of
them, and as a template each took about 0.4 ms of the page (a dozen variables and
filters, each localised and escaped on its own). A list writing many of them translates
their fixed words once (`CountdownWords`, `countdown_html`).
"""

from dataclasses import dataclass

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gongzhi.core.templatetags.escaping import format_escaped

register = template.Library()

_ICONS = {"ok": "●", "warn": "▲", "overdue": "■"}
_PAUSED_ICON = "Ⅱ"
_NONE = mark_safe('<span class="muted">—</span>')
_COUNTDOWN = (
    '<div class="countdown countdown-{level}">\n'
    '  <span class="countdown-text"><span class="countdown-icon" aria-hidden="true">'
    "{icon}</span>\n"
    "    <strong>{clock}</strong> {text}</span>\n"
    '  <progress max="100" value="{percent}" aria-label="{used}">{percent}%</progress>\n'
    '  <span class="countdown-due">{due_word} {estimated}'
    '<time datetime="{due_iso}">{due_short}</time></span>\n'
    "</div>"
)


@dataclass(frozen=True)
class CountdownWords:
    """The words every countdown of a page shares, in the active language."""

    due: str
    used: str
    estimated: SafeString

    @classmethod
    def current(cls) -> "CountdownWords":
        return cls(
            due=_("截止"),
            used=_("已用时限 %(percent)s%%"),
            estimated=format_html(
                '<abbr title="{}">{}</abbr> ', _("节假日安排尚未公布，按周一至周五估算"), _("约")
            ),
        )


def countdown_html(countdown, words: CountdownWords) -> SafeString:
    """The countdown's markup, with the page's shared words."""
    if countdown.level == "none":
        return _NONE
    due = timezone.localtime(countdown.due_at)
    percent = countdown.percent
    return format_escaped(
        _COUNTDOWN,
        level=countdown.level,
        icon=_ICONS.get(countdown.level, _PAUSED_ICON),
        clock=countdown.clock_label,
        text=countdown.text,
        percent=percent,
        used=words.used % {"percent": percent},
        due_word=words.due,
        estimated=words.estimated if countdown.estimated else "",
        due_iso=due.isoformat(),
        due_short=due.strftime("%m-%d %H:%M"),
    )


@register.simple_tag
def countdown(countdown) -> SafeString:
    if countdown.level == "none":
        return _NONE
    return countdown_html(countdown, CountdownWords.current())
