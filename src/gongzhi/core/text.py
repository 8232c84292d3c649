"""Chinese text for matching: residents type traditional or simplified, with any spacing."""

import re
import unicodedata
from functools import lru_cache

import opencc

_WHITESPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Simplified characters, half-width forms, lower case, single spaces: for matching only.

    The original text is always kept; this is what searches and duplicate checks compare.
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = _converter().convert(text)
    return _WHITESPACE.sub(" ", text).strip().lower()


def warm_up() -> None:
    """Load jieba's dictionary and OpenCC's tables now (1–3 s), not during someone's first
    report: gunicorn calls this in each web worker before it takes requests."""
    import jieba

    jieba.initialize()
    _converter()


def search_tokens(text: str) -> list[str]:
    """Words for search and similarity: jieba's segmentation of the normalised text."""
    import jieba  # loaded lazily: its dictionary takes a second to build

    words = jieba.lcut_for_search(_PUNCTUATION.sub(" ", normalise(text)))
    return [w for w in words if w.strip()]


NULL_CHARACTER = "\x00"


def contains_null_character(value: object) -> bool:
    """True if a string anywhere in `value` (a string, or lists and dicts of them, as JSON
    decodes) holds U+0000. PostgreSQL cannot store it in text, and no person types it."""
    if isinstance(value, str):
        return NULL_CHARACTER in value
    if isinstance(value, dict):
        return any(
            contains_null_character(k) or contains_null_character(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(contains_null_character(item) for item in value)
    return False
