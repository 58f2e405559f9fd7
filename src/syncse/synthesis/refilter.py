"""`syncse filter`: run the row checks (LLM judge, encoder agreement) over an existing triplets
file, written by syncse earlier or by anything else with SimCSE columns.

Kept rows go to `out` with what the checks found (`judge`, `agreement` fields), dropped ones to
`<out>.rejected.jsonl` with their reason, the counts to `<out>.summary.json`. Judge calls go
through a response cache beside `out`, so an interrupted run resumes for free: a re-run asks
again only what was never answered.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from pathlib import Path
from typing import Any

from syncse.data.files import exclusive, write_json_atomic, write_text_atomic
from syncse.data.jsonl import jsonl_text
from syncse.data.triplets import TripletFiles, iter_triplets
from syncse.errors import DataError, SyncseError
from syncse.progress import progress_bar as tqdm
from syncse.runtime import run_sync
from syncse.synthesis.backends import create_backend
from syncse.synthesis.caller import CachedCaller
from syncse.synthesis.checks import (
    EncoderAgreement,
    JudgeCheck,
    NLICheck,
    RowCheck,
    run_checks,
)
from syncse.synthesis.config import BackendConfig, FilterConfig
from syncse.synthesis.judge import LLMJudge
from syncse.synthesis.nli import AnchorJudge, NLIJudge
from syncse.synthesis.pools import load_pools
from syncse.synthesis.store import ResponseCache
from syncse.synthesis.summary import FilterSummary, SynthesisSummary


def read_rows(
    path: Path, need_negatives: bool = False
) -> list[tuple[dict[str, Any], tuple[str, str, str | None]]]:
    """Every row of a triplets or pairs file (or `save_to_disk` folder), all fields kept (they
    are written back), with its (anchor, positive, negative), read by the training reader (the
    same columns and checks); negative is None for pairs."""
    rows = list(iter_triplets(path, need_negatives=need_negatives))
    if not rows:
        raise DataError(path, "no rows")
    return rows


async def _filter(
    rows: list[tuple[dict[str, Any], tuple[str, str, str | None]]], checks: list[RowCheck]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    kept, rejected = [], []
    for row, (anchor, positive, negative) in tqdm(rows, desc="checking", unit="row"):
        reason, found = await run_checks(checks, anchor, positive, negative)
        if reason is None:
            kept.append(row | found)
        else:
            rejected.append(row | found | {"reason": reason})
    return kept, rejected


async def _run(
    source: Path,
    out: Path,
    filters: FilterConfig,
    backend_config: BackendConfig,
    seed: int,
    pools: Path | None,
) -> FilterSummary:
    # Pairs (no negatives) can be checked by encoder agreement; both judges need negatives.
    rows = read_rows(source, need_negatives=filters.judge or bool(filters.nli_judge))
    checks: list[RowCheck] = []
    notes: list[str] = []
    if filters.agreement_encoder:
        agreement = EncoderAgreement(
            filters.agreement_encoder, filters.agreement_max_positive_similarity
        )
        notes.append(agreement.note)
        checks.append(agreement)
    backend = caller = cache = judge_check = nli_check = None
    started = time.time()
    with contextlib.ExitStack() as stack:
        stack.enter_context(exclusive(out, "filter run"))
        if filters.judge or filters.nli_judge:
            if filters.nli_judge and filters.nli_judge != "writer":
                # The NLI judge names its own local model; --backend/--model name a server.
                backend_config = BackendConfig(kind="llama-cpp", model=filters.nli_judge)
            backend = create_backend(backend_config, seed=seed)
            await backend.check()
            cache = ResponseCache(TripletFiles(out).cache)
            stack.callback(cache.close)
            caller = CachedCaller(backend, cache)
        if filters.judge and caller is not None:
            judge_check = JudgeCheck(LLMJudge(caller.ask, load_pools(pools).examples, seed))
            checks.append(judge_check)
        if filters.nli_judge and caller is not None and backend is not None:
            # Scratch rows' anchors are the LLM's own sentences, so they are judged too, as
            # during synthesis (`syncse stats` does the same): meta-text is rejected here.
            scratch = SynthesisSummary.is_scratch(source)
            anchors = AnchorJudge(caller.ask, seed) if scratch else None
            nli_check = NLICheck(NLIJudge(caller.ask, seed), backend.backend_id, anchors)
            checks.append(nli_check)
        try:
            kept, rejected = await _filter(rows, checks)
        finally:
            if backend is not None:
                await backend.aclose()
        write_text_atomic(out, jsonl_text(kept))
        write_text_atomic(TripletFiles(out).rejected, jsonl_text(rejected))
        summary = FilterSummary(
            source=str(source),
            output=str(out),
            rows=len(rows),
            kept=len(kept),
            rejected=dict(sorted(Counter(r["reason"] for r in rejected).items())),
            checks=[c.name for c in checks],
            seconds=round(time.time() - started, 1),
        )
        if judge_check is not None and caller is not None:
            bias = judge_check.position_bias()
            summary.judge = bias | {
                "backend": backend.backend_id,  # type: ignore[union-attr]
                "llm_calls": caller.usage.calls,
                "cache_hits": caller.usage.cache_hits,
                "prompt_tokens": caller.usage.prompt_tokens,
                "completion_tokens": caller.usage.completion_tokens,
            }
            if "warning" in bias:
                notes.append(bias["warning"])
        if nli_check is not None and caller is not None:
            summary.nli = nli_check.summary() | {"llm_calls": caller.usage.calls}
        summary.warnings = notes
        write_json_atomic(TripletFiles(out).summary, summary.to_json())
    return summary


def filter_triplets(
    source: Path,
    out: Path,
    filters: FilterConfig,
    backend: BackendConfig | None = None,
    seed: int = 42,
    pools: Path | None = None,
) -> FilterSummary:
    """Check every row of `source`; write the kept ones to `out`. Returns the summary."""
    if not filters.judge and not filters.agreement_encoder and not filters.nli_judge:
        raise SyncseError(
            "syncse filter: nothing to check; pass --nli-judge, --judge and/or --agreement-encoder"
        )
    if Path(out).resolve() == Path(source).resolve():
        raise SyncseError(f"{out}: the output would overwrite the input; pass another --out")
    backend = backend or BackendConfig()
    return run_sync(_run(Path(source), Path(out), filters, backend, seed, pools))
