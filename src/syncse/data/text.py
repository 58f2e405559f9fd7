"""The two ways syncse normalises a sentence, each with a name that says what it is for."""

from __future__ import annotations

import re

_WORDS = re.compile(r"\w+")


def match_key(text: str) -> str:
    """Lowercased word tokens: equal under this means 'the same sentence' for every filter,
    cache key and decontamination check (catches case, spacing and punctuation variants like
    'A dog runs .' / 'a dog runs'). Never shown to a model."""
    return " ".join(_WORDS.findall(text.lower()))


def collapse_whitespace(text: str) -> str:
    """The text as a model sees it: runs of spaces, tabs and newlines become one space, ends
    are stripped, and case and punctuation stay (they carry meaning for an encoder)."""
    return " ".join(text.split())
