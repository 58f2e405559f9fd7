"""Quality filters, each with a named counter in the run summary.

Inputs are filtered *before* any LLM call where possible (duplicates, evaluation sentences),
because a call spent on a row that will be dropped is money lost.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from syncse.data.text import match_key

if TYPE_CHECKING:
    from datasketch import MinHash

_ABOUT_ITSELF = re.compile(
    r"\b(?:this|these|the following|each|those|the above) "
    r"(?:sentences?|texts?|examples?|paragraphs?|passages?|writing)\b"
    r"|\bsentences? ?#?\d|\b(?:first|second|third|fourth|fifth|next|last) sentence\b"
    r"|\bwriting styles?\b|\bgenres? of writing\b"
    r"|\bhere (?:is|are) (?:\d+|a|an|some|the|my)\b",
    re.IGNORECASE,
)


def is_about_itself(sentence: str) -> bool:
    """A written sentence that talks about the sentences, the writing or the task instead of
    the world ("These sentences can be a great example of how different writing styles
    overlap"): useless as an anchor, common from small models writing from scratch. A pattern
    list, not a model: cheap and predictable, and it errs toward keeping a sentence."""
    return bool(_ABOUT_ITSELF.search(sentence))


def read_exclude_file(path: Path) -> set[str]:
    from syncse.synthesis.inputs import read_sentences

    return {match_key(s) for s in read_sentences(path)}


class NearDuplicateIndex:
    """MinHash LSH over word uni+bigrams: sub-linear near-duplicate checks for 100k+ rows."""

    def __init__(self, threshold: float = 0.9, num_perm: int = 64) -> None:
        # Imported here: datasketch is the `synthesis` extra, and this module's text rules
        # are read by commands that run without it.
        from datasketch import MinHashLSH

        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.num_perm = num_perm
        self._n = 0

    def _minhash(self, text: str) -> MinHash:
        from datasketch import MinHash

        words = match_key(text).split()
        shingles = set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
        mh = MinHash(num_perm=self.num_perm, seed=1)
        for s in shingles or {""}:
            mh.update(s.encode())
        return mh

    def seen_or_add(self, text: str) -> bool:
        mh = self._minhash(text)
        if self.lsh.query(mh):
            return True
        self.lsh.insert(str(self._n), mh)
        self._n += 1
        return False


class RowFilter:
    """Checks a finished (anchor, positive, negative) triplet; returns a reject reason or None."""

    def __init__(self, min_words: int, max_words: int, banned: set[str]) -> None:
        self.min_words, self.max_words = min_words, max_words
        self.banned = banned
        self.seen_outputs: set[tuple[str, str]] = set()
        self.counts: Counter[str] = Counter()

    def check(self, anchor: str, positive: str, negative: str) -> str | None:
        a, p, n = match_key(anchor), match_key(positive), match_key(negative)
        reason = None
        if p == a:
            reason = "positive_copies_input"
        elif n == a:
            reason = "negative_copies_input"
        elif n == p:
            reason = "negative_equals_positive"
        elif not all(self.min_words <= len(x.split()) <= self.max_words for x in (p, n)):
            reason = "length_out_of_bounds"
        elif p in self.banned or n in self.banned:
            reason = "contaminated_output"
        elif (p, n) in self.seen_outputs:
            reason = "duplicate_row"
        if reason is None:
            self.seen_outputs.add((p, n))
        return reason
