"""Template helpers for personal data: `{% load gongzhi_privacy %}{{ phone|mask_phone }}`."""

from django import template

from gongzhi.accounts import privacy

register = template.Library()


@register.filter(name="mask_phone")
def mask_phone(phone: str | None) -> str:
    """138****5678 for 13812345678 (see `accounts.privacy.mask_phone`)."""
    return privacy.mask_phone(phone)
