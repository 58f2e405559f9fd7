"""What one annotation call asks and what one finished row holds: inputs' stable keys, the
few-shot chat messages, and the row written to the triplets file (with its provenance)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from syncse.data.text import match_key
from syncse.data.triplets import WRITTEN
from syncse.synthesis.pools import Example, Template

SYSTEM_PROMPT = (
    "You write training data for sentence embeddings. Follow the instruction and "
    "answer with the new sentence only, on one line, without quotes or comments."
)


@dataclass
class Item:
    """One input sentence to annotate, with its stable key and any provenance metadata."""

    key: str
    sentence: str
    index: int
    meta: dict[str, Any] = field(default_factory=dict)


def build_messages(
    template: Template, examples: list[Example], kind: str, sentence: str
) -> tuple[tuple[str, str], ...]:
    """Multi-turn few-shot chat: each exemplar is a user turn and the assistant's answer."""
    messages = [("system", SYSTEM_PROMPT)]
    for ex in examples:
        messages.append(("user", f"{template.text}\nSentence: {ex.input}"))
        messages.append(("assistant", ex.positive if kind == "positive" else ex.negative))
    messages.append(("user", f"{template.text}\nSentence: {sentence}"))
    return tuple(messages)


def input_key(fingerprint: str, sentence: str) -> str:
    """An input's stable key: the same sentence under the same configuration, in any run."""
    return hashlib.sha256(f"{fingerprint}:{match_key(sentence)}".encode()).hexdigest()[:20]


def request_seed(*parts: Any) -> int:
    """A 32-bit sampling seed drawn from the parts (seed, input key, kind, attempt): the same
    question gets the same seed in every run, whatever order calls finish in."""
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:8], 16)


@dataclass
class Answer:
    """One written sentence (None when every attempt failed) and how it was asked for."""

    text: str | None
    #: template id, exemplar ids, attempts, response cache key, and `last_problem` on failure.
    meta: dict[str, Any] = field(default_factory=dict)


def assemble_row(
    item: Item,
    positive: Answer,
    negative: Answer,
    backend_id: str,
    seed: int,
    fingerprint: str,
    found: dict[str, Any],
) -> dict[str, Any]:
    """The triplet as stored: SimCSE's columns first, then enough provenance to trace each
    sentence to its prompt, exemplars and cached response, then what the checks found."""
    return (
        {
            WRITTEN["anchor"]: item.sentence,
            WRITTEN["positive"]: positive.text,
            WRITTEN["negative"]: negative.text,
            "key": item.key,
            "input_index": item.index,
            "pos_template": positive.meta["template"],
            "neg_template": negative.meta["template"],
            "pos_examples": positive.meta["examples"],
            "neg_examples": negative.meta["examples"],
            "pos_attempts": positive.meta["attempts"],
            "neg_attempts": negative.meta["attempts"],
            "pos_response": positive.meta["response"],
            "neg_response": negative.meta["response"],
            "backend": backend_id,
            "seed": seed,
            "config": fingerprint,
        }
        # A side the NLI judge had rejected and that was written again (`nli_rewrites`).
        | {
            f"{k}_rewrite": a.meta["rewrite"]
            for k, a in (("pos", positive), ("neg", negative))
            if a.meta.get("rewrite")
        }
        | found
        | item.meta
    )
