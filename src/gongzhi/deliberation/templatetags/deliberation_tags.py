"""Showing exact numbers: fractions as "2/3" and as percentages, money as yuan."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django import template

from ..tally import fraction_words

register = template.Library()


@register.filter
def percent(value: Fraction | None, places: int = 2) -> str:
    """2/3 → "66.67%": for reading only; decisions use the exact fraction."""
    if value is None:
        return "—"
    fraction = Fraction(value)
    scaled = Decimal(fraction.numerator * 100) / Decimal(fraction.denominator)
    quantum = Decimal(1).scaleb(-int(places))
    return f"{scaled.quantize(quantum, rounding=ROUND_HALF_UP)}%"


@register.filter
def fraction(value: Fraction | None) -> str:
    """The exact fraction, "1647/2647"."""
    if value is None:
        return "—"
    value = Fraction(value)
    return f"{value.numerator}/{value.denominator}"


@register.filter
def fraction_cn(value: Fraction) -> str:
    """A threshold as Chinese reads it: 三分之二, 四分之三, 半数."""
    return fraction_words(Fraction(value))


@register.filter
def yuan(value: Decimal | None) -> str:
    """12345.6 → "12,345.60"."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def area(value: Fraction | Decimal | None) -> str:
    """An area in square metres with two decimals (exact areas are whole hundredths)."""
    if value is None:
        return "—"
    fraction = Fraction(value)
    scaled = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    return f"{scaled.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
