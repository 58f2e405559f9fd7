"""The LLM checks its own rows: a label-free quality check that involves no human-trained model.

After a row is written, the same backend is asked once more, with the anchor and both of its
sentences, whether each sentence is entailed by, contradicts, or is neutral to the anchor (the
NLI labels the paper's prompts ask the writer to produce). A row is kept only if its positive is
judged an entailment and its hard negative a contradiction. One call per row judges both
sentences, so the check costs at most one extra call per row.

Why the prompt looks the way it does:
- The two sentences appear as "A" and "B" in an order drawn from the row's key, so a model that
  always answers "A: entailment" keeps a random half of the rows rather than all of them, and
  position bias cannot pass as a quality check.
- The few-shot turns are fixed (the first exemplars of the pool, in a fixed arrangement that
  shows all three labels in both positions), so every judge call shares one prompt prefix that
  llama.cpp and servers with prefix caching evaluate once.
- Greedy decoding (temperature 0) and a short answer: a verdict, not a sample.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from syncse.synthesis.backends import ChatRequest, Completion
from syncse.synthesis.pools import Example

LABELS = ("entailment", "neutral", "contradiction")

JUDGE_SYSTEM = (
    "You check pairs of sentences. For each of A and B, say whether it follows from the "
    "sentence (entailment), contradicts it (contradiction), or neither (neutral)."
)
_QUESTION = (
    "Sentence: {anchor}\nA: {a}\nB: {b}\n"
    "If the sentence is true, is A entailment, neutral or contradiction? And B?"
)
_ANSWER = "A: {a}\nB: {b}"

_LABEL = r"(entail\w*|neutral|neither|contradict\w*)"
_VERDICT = re.compile(rf"\b([AB])\b\**\s*(?:is|[:=\-–)])?\s*\(?\**\s*{_LABEL}", re.IGNORECASE)


def _label(word: str) -> str:
    word = word.lower()
    if word.startswith("entail"):
        return "entailment"
    if word.startswith("contradict"):
        return "contradiction"
    return "neutral"


def parse_verdict(text: str) -> dict[str, str] | None:
    """{"A": label, "B": label} from an answer like "A: entailment\\nB: contradiction";
    None when either label is missing. The first label given for a letter counts."""
    found: dict[str, str] = {}
    for letter, word in _VERDICT.findall(text):
        found.setdefault(letter.upper(), _label(word))
    return found if len(found) == 2 else None


def _few_shot(examples: list[Example]) -> tuple[tuple[str, str], ...]:
    """Fixed demonstrations covering every label in both positions: positive/negative in
    both orders, and an unrelated sentence (another exemplar's positive) as the neutral case."""
    turns: list[tuple[str, str]] = []
    n = len(examples)
    for i, ex in enumerate(examples[:4]):
        other = examples[(i + 1) % n].positive
        a, b, la, lb = [
            (ex.positive, ex.negative, "entailment", "contradiction"),
            (ex.negative, ex.positive, "contradiction", "entailment"),
            (ex.positive, other, "entailment", "neutral"),
            (other, ex.negative, "neutral", "contradiction"),
        ][i]
        if n == 1 and "neutral" in (la, lb):
            continue  # no other exemplar to stand in as the unrelated sentence
        turns.append(("user", _QUESTION.format(anchor=ex.input, a=a, b=b)))
        turns.append(("assistant", _ANSWER.format(a=la, b=lb)))
    return tuple(turns)


@dataclass(frozen=True)
class Judgement:
    """What the judge said about one row, as recorded in the row (`judge` field)."""

    positive: str | None  # a label, or None when the answer could not be read
    negative: str | None
    order: str  # "pn": the positive was A; "np": the negative was A
    response: str  # the response-cache key of the judge call

    @property
    def reject_reason(self) -> str | None:
        if self.positive is None or self.negative is None:
            return "judge_unparseable"
        if self.positive != "entailment":
            return f"judge_positive_{self.positive}"
        if self.negative != "contradiction":
            return f"judge_negative_{self.negative}"
        return None

    def record(self) -> dict[str, str | None]:
        return {
            "positive": self.positive,
            "negative": self.negative,
            "order": self.order,
            "response": self.response,
        }


Ask = Callable[[ChatRequest], Awaitable[tuple[Completion, str]]]


class LLMJudge:
    """One judge call per row, through the caller's cached `ask` (so judgements are resumable
    and free on a re-run, like every other call)."""

    def __init__(self, ask: Ask, examples: list[Example], seed: int, max_tokens: int = 16) -> None:
        self.ask = ask
        self.prefix = (("system", JUDGE_SYSTEM), *_few_shot(examples))
        self.seed = seed
        self.max_tokens = max_tokens

    def order(self, anchor: str, positive: str, negative: str) -> str:
        digest = hashlib.sha256(f"{self.seed}:{anchor}\n{positive}\n{negative}".encode())
        return "pn" if digest.digest()[0] % 2 == 0 else "np"

    def request(self, anchor: str, positive: str, negative: str) -> tuple[ChatRequest, str]:
        order = self.order(anchor, positive, negative)
        a, b = (positive, negative) if order == "pn" else (negative, positive)
        question = ("user", _QUESTION.format(anchor=anchor, a=a, b=b))
        request = ChatRequest(
            messages=(*self.prefix, question),
            temperature=0.0,
            top_p=1.0,
            max_tokens=self.max_tokens,
            seed=self.seed,
        )
        return request, order

    async def judge(self, anchor: str, positive: str, negative: str) -> Judgement:
        request, order = self.request(anchor, positive, negative)
        completion, key = await self.ask(request)
        verdict = parse_verdict(completion.text) or {}
        pos, neg = ("A", "B") if order == "pn" else ("B", "A")
        return Judgement(verdict.get(pos), verdict.get(neg), order, key)
