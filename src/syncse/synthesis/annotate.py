"""The annotation engine: for each input sentence, ask the LLM for an entailed positive and a
contradicting hard negative, filter, and store — resumably, without paying twice.

Workers pull inputs from a queue (bounded concurrency, flat memory for any input size). All
randomness is derived from (seed, input key, kind, attempt), so results do not depend on the
order concurrent calls finish, and a re-run asks byte-identical questions that the response
cache answers for free.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from syncse.files import write_json_atomic
from syncse.synthesis.backends import Backend, BackendError, ChatRequest, Completion
from syncse.synthesis.checks import RowCheck, run_checks
from syncse.synthesis.config import SynthesisConfig
from syncse.synthesis.filters import NearDuplicateIndex, RowFilter, is_about_itself, normalise
from syncse.synthesis.parsing import is_refusal, parse_sentence
from syncse.synthesis.pools import Example, Pools, Template
from syncse.synthesis.store import ResponseCache, ResultStore

SYSTEM_PROMPT = (
    "You write training data for sentence embeddings. Follow the instruction and "
    "answer with the new sentence only, on one line, without quotes or comments."
)


@dataclass
class Usage:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    backend_errors: int = 0
    #: Every answer by kind and outcome ("positive:ok", "negative:copies_input", ...): the
    #: figures that compare LLMs (parse failures, copies) before any filter.
    answers: Counter = field(default_factory=Counter)

    @property
    def unparseable_answers(self) -> int:
        return sum(
            v
            for k, v in self.answers.items()
            if k.endswith((":unparseable", ":refusal", ":empty_answer"))
        )

    def cost(self, price: tuple[float, float] | None) -> float | None:
        if price is None:
            return None
        return (self.prompt_tokens * price[0] + self.completion_tokens * price[1]) / 1e6


class CachedCaller:
    """LLM calls through the response cache, with usage counted: a request asked before (same
    messages, sampling and seed, same model) is answered from the cache for free."""

    def __init__(self, backend: Backend, cache: ResponseCache) -> None:
        self.backend, self.cache = backend, cache
        self.usage = Usage()

    async def ask(self, request: ChatRequest) -> tuple[Completion, str]:
        key = request.cache_key(self.backend.cache_id)
        hit = await asyncio.to_thread(self.cache.get, key)
        if hit is not None:
            self.usage.cache_hits += 1
            return Completion(hit[0], hit[1], hit[2], cached=True), key
        completion = await self.backend.complete(request)
        self.usage.calls += 1
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        if not completion.text.strip():
            # A glitching server's empty answer is not the model's answer for good: the next
            # run asks again.
            return completion, key
        await asyncio.to_thread(
            self.cache.put,
            key,
            completion.text,
            completion.prompt_tokens,
            completion.completion_tokens,
        )
        return completion, key


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
    return hashlib.sha256(f"{fingerprint}:{normalise(sentence)}".encode()).hexdigest()[:20]


def _int_seed(*parts: Any) -> int:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:8], 16)


class Annotator:
    def __init__(
        self,
        config: SynthesisConfig,
        backend: Backend,
        pools: Pools,
        cache: ResponseCache,
        store: ResultStore,
        banned: set[str],
        fingerprint: str,
        checks: list[RowCheck] | None = None,
    ) -> None:
        self.config, self.backend, self.pools = config, backend, pools
        self.cache, self.store, self.banned = cache, store, banned
        self.fingerprint = fingerprint
        #: Checks on finished rows (encoder agreement, the LLM judge), cheapest first.
        self.checks = checks or []
        self.caller = CachedCaller(backend, cache)
        self.usage = self.caller.usage
        self.ask = self.caller.ask
        self.counts: Counter[str] = Counter()
        self.row_filter = RowFilter(config.filters.min_words, config.filters.max_words, banned)
        for row in store.accepted_rows:  # resumed: earlier rows count for duplicate checks
            self.row_filter.check(row["sent0"], row["sent1"], row["hard_neg"])
        self.progress: tqdm | None = None

    async def write_one(self, item: Item, kind: str) -> tuple[str | None, dict[str, Any]]:
        s = self.config.sampling
        meta: dict[str, Any] = {}
        block = self.config.block_size
        # Block size 1 keeps the historical per-input seed (same data as before blocks).
        scope = item.key if block == 1 else f"block{item.index // block}"
        for attempt in range(self.config.max_attempts):
            rng = random.Random(f"{self.config.seed}:{scope}:{kind}:{attempt}")
            template, examples = self.pools.sample(kind, s.examples_per_call, rng)
            request = ChatRequest(
                messages=build_messages(template, examples, kind, item.sentence),
                temperature=s.temperature,
                top_p=s.top_p_positive if kind == "positive" else s.top_p_negative,
                max_tokens=s.max_tokens,
                seed=_int_seed(self.config.seed, item.key, kind, attempt),
                json_mode=False,
            )
            completion, response_key = await self.ask(request)
            meta = {
                "template": template.id,
                "examples": [e.id for e in examples],
                "attempts": attempt + 1,
                "response": response_key,
            }
            text = parse_sentence(completion.text)
            if text is not None and normalise(text) != normalise(item.sentence):
                self.usage.answers[f"{kind}:ok"] += 1
                return text, meta
            if not completion.text.strip():
                meta["last_problem"] = "empty_answer"
            elif text is None:
                meta["last_problem"] = "refusal" if is_refusal(completion.text) else "unparseable"
            else:
                meta["last_problem"] = "copies_input"
            self.usage.answers[f"{kind}:{meta['last_problem']}"] += 1
        return None, meta

    async def annotate_block(self, items: list[Item]) -> None:
        """All positives of a block, then all its negatives.

        Inputs of one block share one sampled template and exemplar set per kind
        (`block_size`), so consecutive calls of one kind differ only in their last sentence:
        llama.cpp's context (and a server's prefix cache) keeps the shared prompt prefix and
        evaluates only the new tokens. With `block_size` 1 this is the paper's per-call
        sampling, one input at a time.
        """
        written: dict[str, dict[str, tuple[str | None, dict[str, Any]]]] = {}
        failed: dict[str, BackendError] = {}
        for kind in ("positive", "negative"):
            for item in items:
                if item.key in failed or (
                    kind == "negative" and written[item.key]["positive"][0] is None
                ):
                    continue
                try:
                    written.setdefault(item.key, {})[kind] = await self.write_one(item, kind)
                except BackendError as exc:
                    failed[item.key] = exc
        # The rows' checks come last and in a row, so judge calls (one fixed prompt prefix)
        # follow each other too.
        for item in items:
            if item.key in failed:
                self._backend_failed(item, failed[item.key])
                continue
            answers = written[item.key]
            try:
                await self._finish(item, *answers["positive"], *answers.get("negative", (None, {})))
            except BackendError as exc:
                self._backend_failed(item, exc)

    def _backend_failed(self, item: Item, exc: BackendError) -> None:
        self.usage.backend_errors += 1
        reason = "backend_error" if exc.retryable else "backend_refused_input"
        self._reject(item, reason, retryable=exc.retryable, detail=str(exc))

    async def _finish(
        self,
        item: Item,
        positive: str | None,
        pos_meta: dict[str, Any],
        negative: str | None,
        neg_meta: dict[str, Any],
    ) -> None:
        """Filter and check one input's answers and store the row, or reject it with its
        reason (and what the checks found)."""
        if positive is None or negative is None:
            problem = (pos_meta if positive is None else neg_meta).get(
                "last_problem", "unparseable"
            )
            kind = "positive" if positive is None else "negative"
            # Empty answers come from a glitching server, not the model (they are not cached
            # either): the input is asked again on resume.
            self._reject(item, f"{kind}_{problem}", retryable=problem == "empty_answer")
            return
        reason = self.row_filter.check(item.sentence, positive, negative)
        if reason is not None:
            self._reject(item, reason, sent1=positive, hard_neg=negative)
            return
        reason, found = await run_checks(self.checks, item.sentence, positive, negative)
        if reason is not None:
            self._reject(item, reason, sent1=positive, hard_neg=negative, **found)
            return
        row = (
            {
                "sent0": item.sentence,
                "sent1": positive,
                "hard_neg": negative,
                "key": item.key,
                "input_index": item.index,
                "pos_template": pos_meta["template"],
                "neg_template": neg_meta["template"],
                "pos_examples": pos_meta["examples"],
                "neg_examples": neg_meta["examples"],
                "pos_attempts": pos_meta["attempts"],
                "neg_attempts": neg_meta["attempts"],
                "pos_response": pos_meta["response"],
                "neg_response": neg_meta["response"],
                "backend": self.backend.backend_id,
                "seed": self.config.seed,
                "config": self.fingerprint,
            }
            | found
            | item.meta
        )
        self.store.add(row)
        self.counts["accepted"] += 1
        self._tick()

    def _reject(self, item: Item, reason: str, retryable: bool = False, **info: Any) -> None:
        self.store.reject(
            item.key,
            reason,
            retryable=retryable,
            sent0=item.sentence,
            input_index=item.index,
            **info,
            **item.meta,
        )
        self.counts[reason] += 1
        self._tick()

    def _tick(self) -> None:
        if self.progress is None:
            return
        self.progress.update(1)
        postfix = {
            "ok": self.counts["accepted"],
            "tok": self.usage.prompt_tokens + self.usage.completion_tokens,
            "cached": self.usage.cache_hits,
        }
        cost = self.usage.cost(self.config.backend.price_per_million)
        if cost is not None:
            postfix["$"] = f"{cost:.3f}"
        self.progress.set_postfix(postfix, refresh=False)

    # -- input selection and the worker pool -----------------------------------------
    def select(
        self,
        sentences: list[tuple[str, dict[str, Any]]],
        start_index: int = 0,
        max_words: int | None = None,
        written: bool = False,
    ) -> list[Item]:
        """Key every input; drop duplicates and evaluation sentences *before* any call.
        Deterministic over the whole list, so a resumed run makes the same decisions.

        `max_words`: longer inputs are rejected (`input_too_long`); `written`: the inputs
        are the LLM's own (scratch), and those that talk about themselves are rejected."""
        near = NearDuplicateIndex(self.config.filters.near_duplicate_threshold)
        seen: set[str] = set()
        todo = []
        for offset, (sentence, meta) in enumerate(sentences):
            norm = normalise(sentence)
            key = input_key(self.fingerprint, sentence)
            item = Item(key, sentence, start_index + offset, meta)
            if norm in seen:
                self.counts["exact_duplicate_input"] += 1  # same key: one row stands for both
                continue
            seen.add(norm)
            if key in self.store.done:
                continue
            if len(norm.split()) < self.config.filters.min_words:
                self._reject(item, "input_too_short")
            elif max_words is not None and len(norm.split()) > max_words:
                self._reject(item, "input_too_long")
            elif written and is_about_itself(sentence):
                self._reject(item, "input_about_itself")
            elif norm in self.banned:
                self._reject(item, "contaminated_input")
            elif near.seen_or_add(sentence):
                self._reject(item, "near_duplicate_input")
            else:
                todo.append(item)
        return todo

    async def run(self, items: list[Item], description: str = "annotating") -> None:
        queue: asyncio.Queue[list[Item]] = asyncio.Queue()
        block = self.config.block_size
        for _, members in itertools.groupby(items, key=lambda i: i.index // block):
            queue.put_nowait(list(members))

        async def worker() -> None:
            while not queue.empty():
                await self.annotate_block(queue.get_nowait())

        self.progress = tqdm(total=len(items), desc=description, unit="row", smoothing=0.1)
        try:
            await gather_or_cancel([worker() for _ in range(self.backend.concurrency)])
        finally:
            self.progress.close()
            self.store.flush()


async def gather_or_cancel(coroutines: list) -> list:
    """`asyncio.gather`, except that when one fails (a bad model name, a rejected key) the
    others are cancelled and awaited before the error goes up: nothing may be written to the
    store or the cache after the run has failed and closed them."""
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def write_summary(
    path: Path,
    annotator: Annotator,
    config: SynthesisConfig,
    started: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Totals over the whole file (all runs) plus what this run spent."""
    store = annotator.store
    rejected: dict[str, dict[str, Any]] = {}
    rejected_file = store.rejected_path
    if rejected_file.exists():
        for line in rejected_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rejected[row["key"]] = row
    accepted_keys = {
        json.loads(line)["key"]
        for line in store.out.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    reasons = Counter(r["reason"] for k, r in rejected.items() if k not in accepted_keys)
    u = annotator.usage
    summary = {
        "output": str(store.out),
        "rejected_file": str(store.rejected_path),
        "accepted": len(accepted_keys),
        "rejected": dict(sorted(reasons.items())),
        "this_run": {
            "counts": dict(annotator.counts),
            "llm_calls": u.calls,
            "cache_hits": u.cache_hits,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "unparseable_answers": u.unparseable_answers,
            "answers": dict(sorted(u.answers.items())),
            "backend_errors": u.backend_errors,
            "estimated_cost_usd": u.cost(config.backend.price_per_million),
            "seconds": round(time.time() - started, 1),
        },
        "backend": annotator.backend.backend_id,
        "config_fingerprint": annotator.fingerprint,
    } | (extra or {})
    write_json_atomic(path, summary)
    return summary
