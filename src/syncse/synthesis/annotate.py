"""The annotation engine: for each input sentence, ask the LLM for an entailed positive and a
contradicting hard negative, filter, and store — resumably, without paying twice.

The parts with one job each live beside it: `caller` (cached, counted LLM calls), `selection`
(which inputs get calls), `rows` (messages, keys, the stored row), `outcomes` (stored or
rejected, counted); this module orders the calls and runs the worker pool.

Workers pull inputs from a queue (bounded concurrency, flat memory for any input size). All
randomness is derived from (seed, input key, kind, attempt), so results do not depend on the
order concurrent calls finish, and a re-run asks byte-identical questions that the response
cache answers for free.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from typing import Any

from syncse.data.jsonl import read_jsonl
from syncse.data.text import match_key
from syncse.data.triplets import ROLES, WRITTEN
from syncse.progress import progress_bar
from syncse.synthesis.backends import Backend, BackendError, ChatRequest
from syncse.synthesis.caller import CachedCaller
from syncse.synthesis.checks import RowCheck, run_checks
from syncse.synthesis.config import SynthesisConfig
from syncse.synthesis.filters import RowFilter
from syncse.synthesis.outcomes import Outcomes
from syncse.synthesis.parsing import is_refusal, parse_sentence
from syncse.synthesis.pools import Pools
from syncse.synthesis.rows import Answer, Item, assemble_row, build_messages, request_seed
from syncse.synthesis.selection import select_inputs
from syncse.synthesis.store import ResponseCache, ResultStore
from syncse.synthesis.summary import RunUsage, SynthesisSummary

#: NLI rejections that a rewrite of one side can mend, and that side.
REWRITABLE = {
    "nli_positive_neutral": "positive",
    "nli_positive_contradiction": "positive",
    "nli_negative_neutral": "negative",
    "nli_negative_entailment": "negative",
}


class Annotator:
    """Orders one dataset's calls: per block of inputs all positives, then all negatives,
    then the row checks, each finished input becoming a row or a rejection."""

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
        self.store, self.banned = store, banned
        self.fingerprint = fingerprint
        #: Checks on finished rows (encoder agreement, the LLM judge), cheapest first.
        self.checks = checks or []
        self.caller = CachedCaller(backend, cache)
        self.usage = self.caller.usage
        self.ask = self.caller.ask
        self.outcomes = Outcomes(store, self.usage, config.backend.price_per_million)
        self.counts: Counter[str] = self.outcomes.counts
        self.row_filter = RowFilter(config.filters.min_words, config.filters.max_words, banned)
        #: Stored rows moved to the rejected file by this run's decontamination (by reason):
        #: written by an earlier run that had none.
        self.screened = store.screen(banned)
        self.counts.update(self.screened)
        for row in store.accepted_rows:  # resumed: earlier rows count for duplicate checks
            self.row_filter.check(*(row[WRITTEN[role]] for role in ROLES))

    async def write_one(
        self, item: Item, kind: str, rewrite: int = 0, avoid: str | None = None
    ) -> Answer:
        """One sentence of `kind` for `item`. `rewrite` > 0: the judge rejected the earlier
        one, so it is asked again for this input alone, with its own seeds and a template
        other than `avoid` (the one that failed)."""
        s = self.config.sampling
        meta: dict[str, Any] = {}
        block = self.config.block_size
        # Block size 1 keeps the historical per-input seed (same data as before blocks).
        scope = item.key if block == 1 else f"block{item.index // block}"
        if rewrite:
            scope = f"{item.key}:rewrite{rewrite}"
        for attempt in range(self.config.max_attempts):
            rng = random.Random(f"{self.config.seed}:{scope}:{kind}:{attempt}")
            template, examples = self.pools.sample(kind, s.examples_per_call, rng, avoid=avoid)
            seed_parts = (item.key, kind, attempt) if not rewrite else (scope, kind, attempt)
            request = ChatRequest(
                messages=build_messages(template, examples, kind, item.sentence),
                temperature=s.temperature,
                top_p=s.top_p_positive if kind == "positive" else s.top_p_negative,
                max_tokens=s.max_tokens,
                seed=request_seed(self.config.seed, *seed_parts),
            )
            completion, response_key = await self.ask(request)
            meta = {
                "template": template.id,
                "examples": [e.id for e in examples],
                "attempts": attempt + 1,
                "response": response_key,
            }
            if rewrite:
                meta["rewrite"] = rewrite
            text = parse_sentence(completion.text)
            if text is not None and match_key(text) != match_key(item.sentence):
                self.usage.answers[f"{kind}:ok"] += 1
                return Answer(text, meta)
            if not completion.text.strip():
                meta["last_problem"] = "empty_answer"
            elif text is None:
                meta["last_problem"] = "refusal" if is_refusal(completion.text) else "unparseable"
            else:
                meta["last_problem"] = "copies_input"
            self.usage.answers[f"{kind}:{meta['last_problem']}"] += 1
        return Answer(None, meta)

    async def annotate_block(self, items: list[Item]) -> None:
        """All positives of a block, then all its negatives.

        Inputs of one block share one sampled template and exemplar set per kind
        (`block_size`), so consecutive calls of one kind differ only in their last sentence:
        llama.cpp's context (and a server's prefix cache) keeps the shared prompt prefix and
        evaluates only the new tokens. With `block_size` 1 this is the paper's per-call
        sampling, one input at a time.
        """
        written: dict[str, dict[str, Answer]] = {}
        failed: dict[str, BackendError] = {}
        for kind in ("positive", "negative"):
            for item in items:
                if item.key in failed or (
                    kind == "negative" and written[item.key]["positive"].text is None
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
                await self._finish(item, answers["positive"], answers.get("negative", Answer(None)))
            except BackendError as exc:
                self._backend_failed(item, exc)

    def _backend_failed(self, item: Item, exc: BackendError) -> None:
        self.usage.backend_errors += 1
        reason = "backend_error" if exc.retryable else "backend_refused_input"
        self.outcomes.reject(item, reason, retryable=exc.retryable, detail=str(exc))

    async def _finish(self, item: Item, positive: Answer, negative: Answer) -> None:
        """Filter and check one input's answers and store the row, or reject it with its
        reason (and what the checks found)."""
        if positive.text is None or negative.text is None:
            failed = positive if positive.text is None else negative
            problem = failed.meta.get("last_problem", "unparseable")
            kind = "positive" if positive.text is None else "negative"
            # Empty answers come from a glitching server, not the model (they are not cached
            # either): the input is asked again on resume.
            self.outcomes.reject(item, f"{kind}_{problem}", retryable=problem == "empty_answer")
            return
        texts = {WRITTEN["positive"]: positive.text, WRITTEN["negative"]: negative.text}
        reason = self.row_filter.check(item.sentence, positive.text, negative.text)
        if reason is not None:
            self.outcomes.reject(item, reason, **texts)
            return
        reason, found = await run_checks(self.checks, item.sentence, positive.text, negative.text)
        if self.config.filters.nli_rewrites and reason in REWRITABLE:
            positive, negative, reason, found = await self._rewrite(
                item, positive, negative, reason, found
            )
            texts = {WRITTEN["positive"]: positive.text, WRITTEN["negative"]: negative.text}
        if reason is not None:
            self.outcomes.reject(item, reason, **texts, **found)
            return
        self.outcomes.accept(
            assemble_row(
                item,
                positive,
                negative,
                self.backend.backend_id,
                self.config.seed,
                self.fingerprint,
                found,
            )
        )

    async def _rewrite(
        self, item: Item, positive: Answer, negative: Answer, reason: str, found: dict[str, Any]
    ) -> tuple[Answer, Answer, str | None, dict[str, Any]]:
        """Write the side the NLI judge rejected again (another template and exemplars, for
        this input alone) and judge the row again, up to `nli_rewrites` times. A rewrite that
        fails the text filters, or cannot be written, leaves the last judged version and its
        rejection standing. Every version judged is named in the row's `nli.rewritten`."""
        rewritten: list[dict[str, Any]] = []
        for rewrite in range(1, self.config.filters.nli_rewrites + 1):
            side = REWRITABLE.get(reason or "")
            if side is None:
                break
            failed = positive if side == "positive" else negative
            self.counts[f"nli_rewrite_{side}"] += 1
            asked = self.usage.calls + self.usage.cache_hits
            answer = await self.write_one(item, side, rewrite, avoid=failed.meta.get("template"))
            # Writing calls the rewrites cost (answers that failed to parse are asked again).
            self.counts["nli_rewrite_writer_calls"] += (
                self.usage.calls + self.usage.cache_hits - asked
            )
            if answer.text is None:
                break
            pos, neg = (answer, negative) if side == "positive" else (positive, answer)
            assert pos.text is not None and neg.text is not None  # both written before
            if self.row_filter.check(item.sentence, pos.text, neg.text) is not None:
                break
            positive, negative = pos, neg
            reason, found = await run_checks(
                self.checks, item.sentence, pos.text, neg.text, rewrite=True
            )
            rewritten.append(
                {
                    "side": side,
                    "template": answer.meta["template"],
                    "replaced_template": failed.meta.get("template"),
                    "replaced_text": failed.text,
                }
            )
            if reason is None:
                self.counts[f"nli_rewrite_{side}_kept"] += 1
        if rewritten and "nli" in found:
            found["nli"]["rewritten"] = rewritten
        return positive, negative, reason, found

    # -- input selection and the worker pool -----------------------------------------
    def select(
        self,
        sentences: list[tuple[str, dict[str, Any]]],
        start_index: int = 0,
        max_words: int | None = None,
        written: bool = False,
    ) -> list[Item]:
        """`select_inputs` over this dataset, its refusals stored as rejected rows."""
        selection = select_inputs(
            sentences,
            self.fingerprint,
            self.config.filters,
            self.banned,
            self.store.done,
            start_index=start_index,
            max_words=max_words,
            written=written,
        )
        self.counts["exact_duplicate_input"] += selection.exact_duplicates
        for item, reason in selection.rejected:
            self.outcomes.reject(item, reason)
        return selection.todo

    async def run(self, items: list[Item], description: str = "annotating") -> None:
        queue: asyncio.Queue[list[Item]] = asyncio.Queue()
        block = self.config.block_size
        for _, members in itertools.groupby(items, key=lambda i: i.index // block):
            queue.put_nowait(list(members))

        async def worker() -> None:
            while not queue.empty():
                await self.annotate_block(queue.get_nowait())

        self.outcomes.progress = progress_bar(
            total=len(items), desc=description, unit="row", smoothing=0.1
        )
        try:
            await gather_or_cancel([worker() for _ in range(self.backend.concurrency)])
        finally:
            self.outcomes.progress.close()
            self.outcomes.progress = None
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
    annotator: Annotator,
    config: SynthesisConfig,
    started: float,
    extra: dict[str, Any] | None = None,
) -> SynthesisSummary:
    """Totals over the whole file (all runs) plus what this run spent; saved beside the file."""
    store = annotator.store
    rejected = {row["key"]: row for row in read_jsonl(store.rejected_path)}
    accepted_keys = {row["key"] for row in read_jsonl(store.out)}
    reasons = Counter(r["reason"] for k, r in rejected.items() if k not in accepted_keys)
    u = annotator.usage
    summary = SynthesisSummary(
        output=str(store.out),
        rejected_file=str(store.rejected_path),
        accepted=len(accepted_keys),
        rejected=dict(sorted(reasons.items())),
        this_run=RunUsage(
            counts=dict(annotator.counts),
            llm_calls=u.calls,
            cache_hits=u.cache_hits,
            prompt_tokens=u.prompt_tokens,
            completion_tokens=u.completion_tokens,
            unparseable_answers=u.unparseable_answers,
            answers=dict(sorted(u.answers.items())),
            backend_errors=u.backend_errors,
            estimated_cost_usd=u.cost(config.backend.price_per_million),
            seconds=round(time.time() - started, 1),
        ),
        backend=annotator.backend.backend_id,
        config_fingerprint=annotator.fingerprint,
        **(extra or {}),
    )
    summary.save()
    return summary
