"""Entry points: `synthesize_partial` (annotate given sentences) and `synthesize_scratch`
(write sentences for sampled genres and topics first, then annotate them)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from syncse.data.corpora import evaluation_sentences
from syncse.data.files import exclusive
from syncse.data.triplets import TripletFiles
from syncse.progress import progress_bar as tqdm
from syncse.runtime import run_sync
from syncse.synthesis.annotate import Annotator, gather_or_cancel, write_summary
from syncse.synthesis.backends import Backend, BackendConfig, ChatRequest, create_backend
from syncse.synthesis.caller import CachedCaller
from syncse.synthesis.checks import EncoderAgreement, JudgeCheck, NLICheck, RowCheck
from syncse.synthesis.config import SynthesisConfig
from syncse.synthesis.filters import read_exclude_file
from syncse.synthesis.judge import LLMJudge
from syncse.synthesis.nli import AnchorJudge, NLIJudge
from syncse.synthesis.parsing import parse_list, split_sentences
from syncse.synthesis.pools import load_pools, read_word_list
from syncse.synthesis.rows import input_key
from syncse.synthesis.store import ResponseCache, ResultStore, check_manifest, partial_inputs
from syncse.synthesis.summary import SynthesisSummary

logger = logging.getLogger(__name__)

LENGTHS = ["3 to 8 words", "8 to 15 words", "10 to 20 words", "15 to 25 words", "20 to 32 words"]
MODES = [
    "declarative statements",
    "descriptions",
    "questions and statements mixed",
    "first-person remarks",
    "factual sentences",
]


NO_DECONTAMINATION = (
    "decontamination is off: no evaluation data folder (--data-dir, `data_dir:` or "
    "SYNCSE_DATA_DIR), so STS/SICK test sentences may end up in the training data"
)


def _banned(config: SynthesisConfig) -> tuple[set[str], str | None]:
    """Sentences to keep out of the data, and a warning when decontamination could not run."""
    banned: set[str] = set()
    warning = None
    if config.filters.decontaminate and config.data_dir is not None:
        from syncse.data.locations import resolve_data_dir

        banned |= evaluation_sentences(resolve_data_dir(config.data_dir))
    elif config.filters.decontaminate:
        warning = NO_DECONTAMINATION
    for path in config.filters.exclude_files:
        banned |= read_exclude_file(Path(path))
    return banned, warning


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


class _Session:
    """Opens backend, cache and store; closes and summarises whatever happens."""

    def __init__(
        self,
        config: SynthesisConfig,
        inputs_digest: str,
        sentences: list[str] | None = None,
        backend: Backend | None = None,
    ) -> None:
        self.config = config
        #: Scratch (no given sentences): the anchors are the LLM's own, so checks judge them.
        self.scratch = sentences is None
        self.pools = load_pools(config.pools)
        self.fingerprint = config.fingerprint(self.pools.digest)
        checks = config.filters.checks_id()
        # Checks change which rows a file holds: another set of checks is another dataset.
        identity = self.fingerprint if checks is None else f"{self.fingerprint}+{checks}"
        self.identity = {"config": identity, "inputs": inputs_digest}
        # Partial: the keys of every given sentence, to find rows from an edited input file.
        self.input_keys = (
            None if sentences is None else {input_key(self.fingerprint, s) for s in sentences}
        )
        self.banned, warning = _banned(config)
        #: Warnings for the summary and every report, printed as they arise.
        self.notes: list[str] = []
        if warning:
            self._warn(warning)
        self.backend = backend or create_backend(config.backend, seed=config.seed)
        self.started = time.time()
        self._hold = contextlib.ExitStack()

    async def open(self) -> None:
        """Check the backend first: a bad URL or model must not leave output files behind."""
        await self.backend.check()
        config = self.config
        out = Path(config.out)
        self._hold.enter_context(exclusive(out, "synthesis run"))
        try:
            note = check_manifest(out, self.identity, config.if_changed, self.input_keys)
            if note:
                logger.info("note: %s", note)
            self.cache = ResponseCache(TripletFiles(out).cache)
            self.store = ResultStore(out, flush_every=config.flush_every)
        except BaseException:
            self._hold.close()
            await self.backend.aclose()
            raise
        self.annotator = Annotator(
            config, self.backend, self.pools, self.cache, self.store, self.banned, self.fingerprint
        )
        self.annotator.checks = self._checks()
        if self.annotator.screened:
            moved = ", ".join(f"{n} {reason}" for reason, n in self.annotator.screened.items())
            logger.info(
                "note: %s: stored rows written without this decontamination hold sentences to "
                "keep out; moved to the rejected file (%s)",
                out,
                moved,
            )
        self.started = time.time()

    def _checks(self) -> list[RowCheck]:
        """The row checks the config asks for, cheapest first (an encoder pass before an LLM
        call, which a row the encoder rejects does not pay for)."""
        filters = self.config.filters
        checks: list[RowCheck] = []
        if filters.agreement_encoder:
            agreement = EncoderAgreement(
                filters.agreement_encoder, filters.agreement_max_positive_similarity
            )
            self._warn(agreement.note)
            checks.append(agreement)
        if filters.judge:
            judge = LLMJudge(self.annotator.ask, self.pools.examples, self.config.seed)
            checks.append(JudgeCheck(judge))
        if filters.nli_judge:
            checks.append(self._nli_check(filters.nli_judge))
        return checks

    def _nli_check(self, model: str) -> NLICheck:
        """The NLI judge on the writing LLM ("writer") or on a local model of its own; its
        calls share the run's response cache (keyed by the judging model)."""
        seed = self.config.seed
        writer = self.config.backend
        if model == "writer" and writer.kind == "llama-cpp" and writer.model:
            # A context of its own for the same model: sharing the writer's context would
            # swap its cached annotation prefix for the judge's on every row.
            model = writer.model
        if model == "writer":
            ask, judge_id = self.annotator.ask, self.backend.backend_id
        else:
            judge_backend = create_backend(BackendConfig(kind="llama-cpp", model=model))
            self._judge_backend = judge_backend
            self._judge_caller = CachedCaller(judge_backend, self.cache)
            ask, judge_id = self._judge_caller.ask, judge_backend.backend_id
        anchors = AnchorJudge(ask, seed) if self.scratch else None
        return NLICheck(NLIJudge(ask, seed), judge_id, anchors)

    def _warn(self, note: str) -> None:
        self.notes.append(note)
        logger.warning(note)

    def _check_summaries(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for check in self.annotator.checks:
            if isinstance(check, JudgeCheck):
                found["judge"] = check.position_bias()
                if "warning" in found["judge"]:
                    self._warn(found["judge"]["warning"])
            elif isinstance(check, NLICheck):
                found["nli"] = check.summary()
                caller = getattr(self, "_judge_caller", None)
                if caller is not None:
                    found["nli"]["llm_calls"] = caller.usage.calls
                    found["nli"]["cache_hits"] = caller.usage.cache_hits
            elif isinstance(check, EncoderAgreement):
                found["agreement"] = {
                    "encoder": check.encoder_name,
                    "max_positive_similarity": check.max_positive_similarity,
                }
        return found

    async def close(self, extra: dict[str, Any]) -> SynthesisSummary:
        try:
            self.store.close()
            checks = self._check_summaries()
            summary = write_summary(
                self.annotator,
                self.config,
                self.started,
                extra
                | {
                    "decontamination_sentences": len(self.banned),
                    "checks": checks,
                    "warnings": self.notes,
                },
            )
            self.cache.close()
            await self.backend.aclose()
            judge_backend = getattr(self, "_judge_backend", None)
            if judge_backend is not None:
                await judge_backend.aclose()
        finally:
            self._hold.close()
        return summary


async def _partial(
    config: SynthesisConfig, sentences: list[str], backend: Backend | None
) -> SynthesisSummary:
    # The whole input list (before `limit`) is checked against the file's rows: a larger
    # limit tops up the same file, an edited input file is another dataset.
    session = _Session(config, partial_inputs(sentences), sentences, backend)
    await session.open()
    try:
        if config.limit is not None:
            sentences = sentences[: config.limit]
        items = session.annotator.select([(s, {}) for s in sentences])
        await session.annotator.run(items)
    finally:
        summary = await session.close({"mode": "partial", "inputs": len(sentences)})
    return summary


def synthesize_partial(
    config: SynthesisConfig,
    sentences: list[str] | str | Path | Any,
    backend: Backend | None = None,
    column: str | None = None,
) -> SynthesisSummary:
    """SynCSE-partial: for each given sentence the LLM writes an entailed positive and a
    contradicting hard negative; the triplets go to `config.out` (JSONL, SimCSE's columns).

    Resumable and cached: run it again with the same settings and it continues where it
    stopped, and answers already given cost no LLM call. Works from a notebook (inside a
    running event loop) as from a script.

    Args:
        config: where to write, which LLM (`config.backend`), sampling, filters, seed.
        sentences: a list of sentences; a file (.txt one a line, .csv/.jsonl with
            `column`) or a `save_to_disk` folder; or a `datasets.Dataset` (its `column`).
        backend: an already made backend to use instead of creating one from
            `config.backend` (a wrapped or instrumented one, in tests and benchmarks). It
            must be the LLM that `config.backend` names, since the data's fingerprint and
            cache keys are taken from both.
        column: the column of a table or dataset that holds the sentences (default "text").

    Returns:
        The `SynthesisSummary` (also written beside the output): rows accepted, rejected by
        reason, LLM calls and tokens of this run.

    Example:
        >>> from syncse import SynthesisConfig, synthesize_partial
        >>> summary = synthesize_partial(
        ...     SynthesisConfig(out="data.jsonl"), ["A man is playing a guitar on stage."]
        ... )
        >>> summary.accepted
        1
    """
    from syncse.synthesis.inputs import as_sentences

    return run_sync(_partial(config, as_sentences(sentences, column), backend))


async def _propose_topics(session: _Session, domain: str) -> list[str]:
    request = ChatRequest(
        messages=(
            ("system", "You are a helpful assistant."),
            (
                "user",
                f"List 20 different, specific topics that texts about {domain} "
                "discuss. One topic per line, a few words each, no explanations.",
            ),
        ),
        temperature=0.7,
        top_p=0.95,
        max_tokens=300,
        seed=session.config.seed,
    )
    completion, _ = await session.annotator.ask(request)
    topics = parse_list(completion.text, min_words=1)
    return list(dict.fromkeys(t.rstrip(".") for t in topics))[:20]


#: A rule against self-description ("These sentences can be a great example of how different
#: writing styles ...") that was tried at the end of the sentence-writing prompt and is *not*
#: used: on SmolLM2 it made such sentences no rarer (9.7% -> 12.5%) and the sentences longer
#: (38.6 -> 48.8 words; bench/bench_scratch_prompt.py). The `input_about_itself` filter drops
#: them instead, before any annotation call is spent on them.
STAY_IN_THE_TEXT = (
    "Write only the sentences themselves, as they would appear in that text: never mention "
    "the sentences, the topics, the genre, the writing or this task."
)


def generation_request(
    seed: int,
    call: int,
    genres: list[str],
    topics: list[str],
    per_call: int,
    domain: str | None,
    temperature: float,
    rule: str = "",
) -> tuple[ChatRequest, dict[str, Any]]:
    """Scratch's sentence-writing call number `call`: a (genre, topics, length, mode) drawn
    from the call's own seed, so any call can be rebuilt (and answered from the cache) alone."""
    rng = random.Random(f"{seed}:scratch:{call}")
    genre = rng.choice(genres)
    chosen = rng.sample(topics, min(3, len(topics)))
    length, mode = rng.choice(LENGTHS), rng.choice(MODES)
    context = f" in the domain of {domain}" if domain else ""
    prompt = (
        f"Write {per_call} different sentences that could appear in a {genre}{context}. "
        f"Cover these topics: {', '.join(chosen)}. Write {mode}, each {length} long, each "
        "understandable on its own. One sentence per line, numbered 1 to "
        f"{per_call}, nothing else."
    )
    request = ChatRequest(
        messages=(("system", "You are a versatile writer."), ("user", f"{prompt} {rule}".strip())),
        temperature=temperature,
        top_p=0.95,
        max_tokens=40 * per_call,
        seed=seed + call,
        presence_penalty=0.3,
        frequency_penalty=0.3,
    )
    return request, {"genre": genre, "topics": chosen, "generation_call": call}


@dataclass(frozen=True)
class SentenceWriting:
    """What scratch's sentence-writing calls are made of; the rest of the config is the
    annotation's. Every field changes which sentences are written, so all of them are part of
    the file's inputs digest."""

    genres: list[str]
    topics: list[str]
    per_call: int
    domain: str | None
    temperature: float
    #: Each sentence of a written line is a candidate anchor (`parsing.split_sentences`).
    split: bool

    def digest(self) -> str:
        parts = ("scratch", self.genres, self.topics, self.domain, self.per_call, self.temperature)
        # Named only when on, so a folder written before splitting existed resumes with it off.
        return _digest(*parts, *(["split sentences"] if self.split else []))


async def _generate(
    session: _Session, call: int, writing: SentenceWriting
) -> list[tuple[str, dict[str, Any]]]:
    request, meta = generation_request(
        session.config.seed,
        call,
        writing.genres,
        writing.topics,
        writing.per_call,
        writing.domain,
        writing.temperature,
    )
    completion, response = await session.annotator.ask(request)
    meta["generation_response"] = response
    lines = parse_list(completion.text)[: writing.per_call]
    if writing.split:
        truncated = completion.completion_tokens >= request.max_tokens
        lines = split_sentences(lines, truncated=truncated)
    return [(s, meta) for s in lines]


async def _generate_all(
    session: _Session, calls: range, writing: SentenceWriting
) -> list[tuple[str, dict[str, Any]]]:
    """The sentence-writing calls, as many in flight as annotation allows and with a progress
    bar (thousands of calls can come before the first row). Results keep call order, so keys
    and resumes do not depend on which call finished first."""
    limit = asyncio.Semaphore(session.backend.concurrency)
    progress = tqdm(total=len(calls), desc="writing sentences", unit="call")

    async def one(call: int) -> list[tuple[str, dict[str, Any]]]:
        async with limit:
            sentences = await _generate(session, call, writing)
        progress.update(1)
        return sentences

    try:
        batches = await gather_or_cancel([one(call) for call in calls])
    finally:
        progress.close()
    return [sentence for batch in batches for sentence in batch]


def _calls_behind(rows: list[dict[str, Any]]) -> int:
    """How many sentence-writing calls the rows of a scratch file came from (each row
    records its `generation_call`)."""
    calls = [r.get("generation_call") for r in rows]
    return max((c for c in calls if isinstance(c, int)), default=-1) + 1


async def _scratch(
    config: SynthesisConfig,
    n: int,
    writing: SentenceWriting,
    max_rounds: int,
    backend: Backend | None,
) -> SynthesisSummary:
    # `n` is not in the digest: asking for more rows tops up the same file.
    session = _Session(config, writing.digest(), backend=backend)
    generated: list[tuple[str, dict[str, Any]]] = []
    calls = 0
    await session.open()
    try:
        if writing.domain:
            proposed = await _propose_topics(session, writing.domain)
            writing = replace(writing, topics=proposed or writing.topics)
        for _ in range(max_rounds):
            accepted = (
                len({r["key"] for r in session.store.accepted_rows})
                + session.annotator.counts["accepted"]
            )
            if accepted >= n:
                break
            # Generation calls are deterministic and cached: a resumed run regenerates the
            # same sentences for free, so keys (and skipped work) line up.
            # Small models write fewer sentences per call than asked: plan with the yield seen.
            per_call_seen = len(generated) / calls if calls else writing.per_call
            needed = math.ceil((n - accepted) * 1.3 / max(per_call_seen, 1.0))
            if not calls:
                # A resumed file's rows came from its first calls, which are replayed first:
                # plan past them, or a large top-up crawls through cached calls a round at
                # a time and runs out of rounds before writing anything new.
                needed += _calls_behind(session.store.accepted_rows)
            batch = await _generate_all(session, range(calls, calls + needed), writing)
            calls += needed
            start = len(generated)
            generated += batch
            # The whole list each round: stable dedup decisions. Written sentences follow the
            # paper's length rule and must not talk about themselves.
            items = session.annotator.select(
                generated, max_words=config.filters.max_anchor_words, written=True
            )
            items = [i for i in items if i.index >= start]
            await session.annotator.run(items[: max(n - accepted, 0)], description="annotating")
    finally:
        summary = await session.close(
            {
                "mode": "scratch",
                "wanted": n,
                "generation_calls": calls,
                "generated_sentences": len(generated),
                "split_sentences": writing.split,
                "topics": writing.topics,
                "domain": writing.domain,
            }
        )
    return summary


def synthesize_scratch(
    config: SynthesisConfig,
    n: int,
    genres: list[str] | Path | None = None,
    topics: list[str] | Path | None = None,
    domain: str | None = None,
    per_call: int = 10,
    max_rounds: int = 6,
    temperature: float = 1.3,
    backend: Backend | None = None,
    split_sentences: bool = True,
) -> SynthesisSummary:
    """SynCSE-scratch: no corpus; the LLM writes sentences for sampled (genre, topics)
    pairs, then annotates each with a positive and a hard negative, until `n` triplets are
    in `config.out`. Resumable and cached like `synthesize_partial`; a larger `n` tops up
    the same file.

    Args:
        config: where to write, which LLM, sampling, filters, seed.
        n: triplets wanted.
        genres, topics: lists of genres and topics, or files with one a line; None: the
            bundled lists.
        domain: let the LLM propose 20 topics for this domain first (e.g. "customer
            support"), in place of `topics`.
        per_call: sentences asked for per sentence-writing call.
        max_rounds: rounds of writing and annotating before giving up on `n`.
        temperature: the sentence-writing calls' own (higher than annotation's, for diverse
            sentences); `config.sampling.temperature` is the annotation calls'.
        backend: as for `synthesize_partial`.
        split_sentences: every sentence of a written line is a candidate anchor (small
            models write paragraphs where a list was asked for); False: a line is one
            candidate, as in the paper, and lines over the word limit are dropped.

    Returns:
        The `SynthesisSummary`; `accepted` may fall short of `n` when the LLM wrote too few
        usable sentences (run again to top up from the cache).

    Example:
        >>> from syncse import SynthesisConfig, synthesize_scratch
        >>> summary = synthesize_scratch(
        ...     SynthesisConfig(out="scratch.jsonl"), n=100, domain="customer support"
        ... )
    """
    writing = SentenceWriting(
        genres=read_word_list(genres, "genres.txt"),
        topics=read_word_list(topics, "topics.txt"),
        per_call=per_call,
        domain=domain,
        temperature=temperature,
        split=split_sentences,
    )
    return run_sync(_scratch(config, n, writing, max_rounds, backend))
