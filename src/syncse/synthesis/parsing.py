"""Pull the sentence out of an LLM answer that may carry numbering, quotes, labels or chatter.

Small models rarely answer with the bare sentence: "Sure! Here is a paraphrase:\n1. \"...\"".
Parsing is lenient on form and strict on content: an answer with no usable sentence is None
(the caller retries, then counts a failure); it never raises.
"""

from __future__ import annotations

import functools
import json
import re

_PREFIX = re.compile(
    r"^\s*(?:[-*•>]+|\(?\d{1,3}[.):]|\(?[a-z][.)])?\s*"
    r"(?:\*\*)?(?:(?:new|rewritten|paraphrased|entailed|contradicting|contradictory|output|"
    r"final|the)\s+)*(?:sentence|paraphrase|answer|output|positive|negative|hypothesis|"
    r"contradiction|entailment|rewrite|result|response)\s*(?:\d+)?\s*(?:\*\*)?\s*[:\-–]\s*",
    re.IGNORECASE,
)
_NUMBERING = re.compile(r"^\s*(?:[-*•>]+|\(?\d{1,3}[.):]|\(?[a-z][.)])\s+")
_CHATTER = re.compile(
    r"^(?:sure|certainly|of course|okay|ok|here(?:'s| is| are)|absolutely|great|i (?:would|'d)|"
    r"below is|this sentence|note:|explanation:)\b",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"\b(?:i (?:cannot|can't|can not|am unable|'m unable|won't)|as an ai|"
    r"i'm sorry|i am sorry)\b",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’`«»"


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text[:200]))


def _clean(line: str) -> str:
    line = _PREFIX.sub("", line, count=1)
    line = _NUMBERING.sub("", line, count=1)
    line = line.strip().strip("*").strip()
    if len(line) >= 2 and line[0] in _QUOTES and line[-1] in _QUOTES + ".":
        line = line.strip(_QUOTES + " ").rstrip(_QUOTES)
        if line.endswith(tuple(_QUOTES)):
            line = line[:-1]
    return line.strip(_QUOTES + " ").strip()


def parse_sentence(text: str, min_words: int = 2) -> str | None:
    """Return the first line that looks like a sentence, or None."""
    text = (text or "").strip()
    if not text or is_refusal(text):
        return None
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            strings = [v for v in value.values() if isinstance(v, str) and v.strip()]
            if strings:
                text = strings[0]
    for raw in text.splitlines():
        if not raw.strip():
            continue
        line = _clean(raw)
        if not line or _CHATTER.match(line) or line.endswith(":"):
            continue
        if len(line.split()) >= min_words:
            return line
    return None


def parse_list(text: str, min_words: int = 3) -> list[str]:
    """Every usable line of a (numbered or bulleted) list of sentences."""
    out = []
    for raw in (text or "").splitlines():
        line = _clean(raw)
        if (
            line
            and not _CHATTER.match(line)
            and not line.endswith(":")
            and len(line.split()) >= min_words
            and not is_refusal(line)
        ):
            out.append(line)
    return out


_SENTENCE_END = (".", "!", "?", '"', "'", "”", "’", ")")


@functools.cache
def _segmenter():
    # pysbd (rule-based, the Golden Rules of sentence boundaries: "Dr.", "U.S.", "3.5", quotes)
    # rather than a split on ". ": an abbreviation cut in two is two broken anchors.
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(lines: list[str], truncated: bool = False, min_words: int = 3) -> list[str]:
    """The sentences of `lines`, one each.

    Why: asked for "one sentence per line", small models write paragraphs (SmolLM2-135M: 377
    lines in 122 calls, 149 of them over the 32-word anchor limit, most of them several
    sentences). Dropping such a line wastes every token of it; its sentences are sentences the
    LLM wrote, each within the limit as often as a listed one. `truncated`: the answer was cut
    at `max_tokens`, so its last sentence is unfinished unless it ends like a sentence.
    """
    out = [
        sentence.strip()
        for line in lines
        for sentence in _segmenter().segment(line)
        if len(sentence.split()) >= min_words
    ]
    if truncated and out and not out[-1].endswith(_SENTENCE_END):
        out.pop()
    return out
