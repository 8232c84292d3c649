"""Template helpers of the accounts pages."""

from django import template

from gongzhi.accounts.selectors import place_label as _place_label
from gongzhi.places.models import Place

register = template.Library()


@register.filter(name="place_label")
def place_label(place: Place | None) -> str:
    """`{{ residency.place|place_label }}` → "虹桥新城1期 1号楼 1单元 101室"."""
    return _place_label(place)
