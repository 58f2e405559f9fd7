"""Which inputs get LLM calls: keyed, deduplicated and screened *before* any call, because a
call spent on a row that will be dropped is money lost.

A pure function of the whole input list (no store, counter or file is touched), so a resumed
run makes the same decisions and a test can check them without a backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from syncse.data.text import match_key
from syncse.synthesis.config import FilterConfig
from syncse.synthesis.filters import NearDuplicateIndex, is_about_itself
from syncse.synthesis.rows import Item, input_key


@dataclass
class Selection:
    #: Inputs to annotate, in input order.
    todo: list[Item] = field(default_factory=list)
    #: Inputs refused before any call, with the reason (stored as rejected rows).
    rejected: list[tuple[Item, str]] = field(default_factory=list)
    #: Inputs equal (by match key) to an earlier one: one row stands for both, nothing stored.
    exact_duplicates: int = 0


def select_inputs(
    sentences: list[tuple[str, dict[str, Any]]],
    fingerprint: str,
    filters: FilterConfig,
    banned: set[str],
    done: set[str],
    start_index: int = 0,
    max_words: int | None = None,
    written: bool = False,
) -> Selection:
    """Key every input; refuse duplicates, evaluation sentences (`banned` match keys) and too
    short inputs; leave out those already `done` (stored rows' keys). Each input's decision
    depends on the inputs before it only, never on which of them are done.

    `max_words`: longer inputs are refused (`input_too_long`); `written`: the inputs are the
    LLM's own (scratch), and those that talk about themselves are refused."""
    near = NearDuplicateIndex(filters.near_duplicate_threshold)
    seen: set[str] = set()
    selection = Selection()
    for offset, (sentence, meta) in enumerate(sentences):
        norm = match_key(sentence)
        item = Item(input_key(fingerprint, sentence), sentence, start_index + offset, meta)
        if norm in seen:
            selection.exact_duplicates += 1
            continue
        seen.add(norm)
        reason = None
        if len(norm.split()) < filters.min_words:
            reason = "input_too_short"
        elif max_words is not None and len(norm.split()) > max_words:
            reason = "input_too_long"
        elif written and is_about_itself(sentence):
            reason = "input_about_itself"
        elif norm in banned:
            reason = "contaminated_input"
        elif near.seen_or_add(sentence):
            reason = "near_duplicate_input"
        # Done inputs are decided like the others (and fill the near-duplicate index) before
        # they are skipped: a top-up, a resumed run or scratch's next round over the grown list
        # selects exactly what one fresh run over that list selects.
        if item.key in done:
            continue
        if reason is None:
            selection.todo.append(item)
        else:
            selection.rejected.append((item, reason))
    return selection
