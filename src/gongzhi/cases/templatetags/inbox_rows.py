"""`{% inbox_rows rows h_number h_category h_place h_state h_lead h_due %}`: the inbox
table's rows (`cases.views.worker.InboxRow`), each cell labelled with its column's heading
for phones (`data-label`), the deadline as its countdown (`countdowns.countdown_html`).

Written in Python, as the countdown is: a row as a template was about a dozen variable
lookups, a `{% url %}`, an `{% if %}` and a filter, each resolved, localised and escaped
on its own, and the 25 rows were about a third of the page's rendering. What every row
shares is computed once a page: the words, and the case link (`reverse` took some 30 µs a
row). The headings stay in the template (its `{% translate %}`), so the table's words are
in one place.
"""

from collections.abc import Callable
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gongzhi.core.templatetags.escaping import format_escaped

from .countdowns import CountdownWords, countdown_html

register = template.Library()

_ROW = (
    '\n      <tr class="level-{level}">\n'
    '        <td data-label="{h_number}"><a href="{url}">{number}</a></td>\n'
    '        <td data-label="{h_category}">{category}</td>\n'
    '        <td data-label="{h_place}">{place}</td>\n'
    '        <td data-label="{h_state}">'
    '<span class="state state-{state}">{state_label}</span></td>\n'
    '        <td data-label="{h_lead}">{lead}</td>\n'
    '        <td data-label="{h_due}">{countdown}</td>\n'
    "      </tr>\n    "
)
_NUMBER = "0number0"


def case_links() -> Callable[[str], str]:
    """`reverse("cases_worker:case", args=[number])` for many numbers: the path around
    the number once, the number quoted as `reverse` quotes it."""
    before, after = reverse("cases_worker:case", args=[_NUMBER]).split(_NUMBER)
    return lambda number: before + quote(number, safe=RFC3986_SUBDELIMS + "/~:@") + after


@register.simple_tag
def inbox_rows(rows, h_number, h_category, h_place, h_state, h_lead, h_due) -> SafeString:
    headings = {
        "h_number": h_number,
        "h_category": h_category,
        "h_place": h_place,
        "h_state": h_state,
        "h_lead": h_lead,
        "h_due": h_due,
    }
    if not rows:
        return mark_safe("")
    words = CountdownWords.current()
    unassigned = format_html('<span class="muted">{}</span>', _("未分派"))
    case_url = case_links()
    cells = []
    for row in rows:
        cells.append(
            format_escaped(
                _ROW,
                level=row.countdown.level,
                url=case_url(row.number),
                number=row.number,
                category=row.category,
                place=row.place,
                state=row.state,
                state_label=row.state_label,
                lead=unassigned if row.lead is None else row.lead,
                countdown=countdown_html(row.countdown, words),
                **headings,
            )
        )
    return mark_safe("".join(cells))
