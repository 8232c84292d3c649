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


def search_tokens(text: str) -> list[str]:
    """Words for search and similarity: jieba's segmentation of the normalised text."""
    import jieba  # loaded lazily: its dictionary takes a second to build

    words = jieba.lcut_for_search(_PUNCTUATION.sub(" ", normalise(text)))
    return [w for w in words if w.strip()]
