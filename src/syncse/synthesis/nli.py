"""An NLI judge: (premise, hypothesis) -> entailment / neutral / contradiction, one hypothesis
at a time, decided from the log-probabilities of the label tokens.

SynCSE needs a positive that its anchor entails and a hard negative that its anchor
contradicts. This judge asks exactly that, the way SNLI annotators label a pair: one
hypothesis against its premise, nothing else in view, so there is no position for a small
model to answer by (the pairwise judge in `judge.py` showed both sentences as A and B, and the
local models answered by position).

Why the judge looks the way it does:
- Scored, not parsed: the answer is one token, and the label whose first token is likeliest
  wins (log-probabilities of the tokens that start each label word, summed). A model that
  would ramble or refuse still gives a distribution, and the verdict is deterministic.
- Few-shot turns are fixed and written here (everyday scenes, two per label, in an order
  that does not end on one label), never taken from an evaluation set: SICK's labelled pairs
  measure the judge (`experiments/nli_judge_sick.py`), they do not teach it.
- Every judge call shares the same system prompt and demonstrations, so llama.cpp (and
  servers with prefix caching) evaluates that prefix once; a call costs the premise and
  hypothesis tokens and one forward step.
- Where a server offers no log-probabilities, the judge falls back to the one-token answer's
  text (greedy), and every verdict records `method: "text"` so the summaries can say so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources

from syncse.synthesis.backends import ChatRequest, Completion

LABELS = ("entailment", "neutral", "contradiction")

NLI_SYSTEM = (
    "You are an expert annotator of natural language inference. You are given a premise and "
    "a hypothesis. Answer with one word: entailment if the hypothesis must be true whenever "
    "the premise is true; contradiction if the hypothesis cannot be true when the premise is "
    "true; neutral if it might be true or false."
)
_QUESTION = "Premise: {premise}\nHypothesis: {hypothesis}"

#: Fixed demonstrations: (premise, hypothesis, label). Written for this module.
NLI_EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("A man is slicing a tomato in the kitchen.", "A person is cutting a vegetable.", "entailment"),
    (
        "Two children are playing on a sandy beach.",
        "The children are asleep in their beds.",
        "contradiction",
    ),
    ("A woman is riding a bicycle down the street.", "The woman is going to work.", "neutral"),
    ("A dog is not running in the park.", "A dog is running in the park.", "contradiction"),
    (
        "A crowd watches a band perform on an outdoor stage.",
        "People are listening to music outside.",
        "entailment",
    ),
    (
        "An old man sits on a bench reading a newspaper.",
        "The man is reading about sports.",
        "neutral",
    ),
)

#: Likeliest first tokens asked for; the few-shot prompt makes the three labels the top ones.
TOP_LOGPROBS = 20


def label_of_token(token: str, labels: tuple[str, ...] = LABELS) -> str | None:
    """The label a first answer token starts ("ent" -> entailment), or None."""
    word = token.strip().lower()
    if len(word) < 2:
        return None
    for label in labels:
        if label.startswith(word) or (word.startswith(label[:4]) and len(word) >= 4):
            return label
    return None


def label_scores(
    top_logprobs: dict[str, float], labels: tuple[str, ...] = LABELS
) -> dict[str, float]:
    """Log-probability of each label: its first tokens' probabilities summed (-inf when
    none of its tokens was among the likeliest)."""
    sums = dict.fromkeys(labels, 0.0)
    for token, logprob in top_logprobs.items():
        label = label_of_token(token, labels)
        if label is not None:
            sums[label] += math.exp(logprob)
    return {label: math.log(p) if p > 0 else -math.inf for label, p in sums.items()}


@dataclass(frozen=True)
class Verdict:
    """What the judge said about one (premise, hypothesis) pair."""

    label: str | None  # None: no label token among the answer's likeliest tokens
    #: Normalised probability of each label (over the three), when scored.
    probabilities: dict[str, float] | None
    method: str  # "logprobs" or "text" (the server offered no log-probabilities)
    response: str  # the response-cache key of the call

    def record(self) -> dict:
        found: dict = {"label": self.label, "method": self.method}
        if self.probabilities is not None:
            found["p"] = {k: round(v, 4) for k, v in self.probabilities.items()}
        return found


def verdict_from(
    completion: Completion,
    key: str,
    labels: tuple[str, ...] = LABELS,
    bias: dict[str, float] | None = None,
) -> Verdict:
    """The verdict of one scored answer. `bias` (log-space, per label) is added before the
    argmax: the judge's calibration; the recorded probabilities stay the model's own."""
    if completion.top_logprobs is None:
        return Verdict(label_of_token(completion.text, labels), None, "text", key)
    scores = label_scores(completion.top_logprobs, labels)
    best = max(scores.values())
    if best == -math.inf:
        return Verdict(None, None, "logprobs", key)
    total = sum(math.exp(s - best) for s in scores.values())
    probabilities = {k: math.exp(s - best) / total for k, s in scores.items()}
    if bias:
        shifted = {k: s + bias.get(k, 0.0) for k, s in scores.items()}
        return Verdict(max(shifted, key=shifted.get), probabilities, "logprobs+bias", key)
    return Verdict(max(probabilities, key=probabilities.get), probabilities, "logprobs", key)


CALIBRATION_FILE = "nli_calibration.json"


def calibration_for(backend_id: str) -> dict[str, float] | None:
    """The label bias fitted for this judging model on SICK, or None.

    A log-space bias per label, fitted on SICK *trial* only by `experiments/nli_judge_sick.py
    --fit` and checked on SICK train, lifts Qwen2.5-Coder-1.5B's 3-way agreement with SICK's
    labels from 53% to 80%. It is not used when syncse filters or measures triplets: the bias
    learns SICK's convention (two captions that differ in a detail are *neutral*), while SynCSE
    needs SNLI's (the same scene, so a changed detail is a *contradiction*), and on blind
    hand-labelled synthetic rows the uncalibrated judge is the better filter (docs/quality.md).
    Keyed by the model (a preset name or GGUF file name), whichever backend serves it."""
    table = json.loads(resources.files("syncse.synthesis").joinpath(CALIBRATION_FILE).read_text())
    model = backend_id.split(":", 1)[-1]
    found = table.get(model)
    return None if found is None else dict(found["bias"])


Ask = Callable[[ChatRequest], Awaitable[tuple[Completion, str]]]


def _few_shot() -> tuple[tuple[str, str], ...]:
    turns: list[tuple[str, str]] = [("system", NLI_SYSTEM)]
    for premise, hypothesis, label in NLI_EXAMPLES:
        turns.append(("user", _QUESTION.format(premise=premise, hypothesis=hypothesis)))
        turns.append(("assistant", label))
    return tuple(turns)


def scored_request(prefix: tuple[tuple[str, str], ...], question: str, seed: int) -> ChatRequest:
    """A one-token, greedy request whose answer is scored from its first-token logprobs."""
    return ChatRequest(
        messages=(*prefix, ("user", question)),
        temperature=0.0,
        top_p=1.0,
        max_tokens=1,
        seed=seed,
        top_logprobs=TOP_LOGPROBS,
    )


ANCHOR_LABELS = ("yes", "no")
ANCHOR_SYSTEM = (
    "You check sentences for a corpus of natural sentences. Answer yes if the text is one "
    "complete, standalone sentence that states something about the world (a fact, event, "
    "scene, opinion or instruction), as it could appear in a book, article or conversation. "
    "Answer no if it is about writing, sentences, genres, topics or the task itself, a "
    "heading, a list item, a fragment, or several unrelated pieces. Answer with one word."
)
#: Fixed demonstrations for the anchor check: (text, label). Written for this module.
ANCHOR_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("The museum reopened last spring after two years of renovation.", "yes"),
    ("Here are some sentences about the topic of travel in a formal style:", "no"),
    ("Customers can return unused items within thirty days for a full refund.", "yes"),
    ("3. Cooking tips", "no"),
    ("This sentence is an example of a persuasive genre.", "no"),
    ("Heavy rain flooded several streets in the old town overnight.", "yes"),
)


class AnchorJudge:
    """Is a written anchor a standalone sentence about the world? (scratch's bad-anchor rate)

    Small writers produce meta-text ("Here are five sentences about ..."), numbered fragments
    and headings; a triplet built on one teaches nothing about meaning. Scored like the NLI
    judge: one token, yes/no from the label log-probabilities.
    """

    def __init__(self, ask: Ask, seed: int = 0) -> None:
        self.ask = ask
        self.seed = seed
        turns: list[tuple[str, str]] = [("system", ANCHOR_SYSTEM)]
        for text, label in ANCHOR_EXAMPLES:
            turns += [("user", f"Text: {text}"), ("assistant", label)]
        self.prefix = tuple(turns)

    async def label(self, text: str) -> Verdict:
        request = scored_request(self.prefix, f"Text: {text}", self.seed)
        completion, key = await self.ask(request)
        return verdict_from(completion, key, ANCHOR_LABELS)


class NLIJudge:
    """Labels (premise, hypothesis) pairs through a caller's cached `ask`, so verdicts are
    resumable and free on a re-run, like every other LLM call.

    Args:
        ask: the cached call (`CachedCaller.ask`), bound to the judging model's backend.
        seed: recorded in the request (the verdict is greedy and does not depend on it).
        bias: log-space label bias added before the argmax (`calibration_for(backend_id)`);
            None: the model's own argmax.

    Example:
        >>> judge = NLIJudge(caller.ask, bias=calibration_for(backend.backend_id))
        >>> (await judge.label("A dog runs.", "An animal moves.")).label
        'entailment'
    """

    def __init__(self, ask: Ask, seed: int = 0, bias: dict[str, float] | None = None) -> None:
        self.ask = ask
        self.seed = seed
        self.bias = bias
        self.prefix = _few_shot()

    def request(self, premise: str, hypothesis: str) -> ChatRequest:
        question = _QUESTION.format(premise=premise, hypothesis=hypothesis)
        return scored_request(self.prefix, question, self.seed)

    async def label(self, premise: str, hypothesis: str) -> Verdict:
        completion, key = await self.ask(self.request(premise, hypothesis))
        return verdict_from(completion, key, LABELS, self.bias)
