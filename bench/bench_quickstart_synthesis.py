"""The quickstart's synthesis stage, as filed and as it is now, side by side in one run.

Issue 17's target is the quickstart's synthesis stage at least 2x faster than when it was filed.
This runs that stage (examples/scratch-smollm2.yaml, the former quickstart: SynCSE-scratch,
SmolLM2-135M through
llama-cpp-python, decontaminated against the evaluation data) in three arms, interleaved within
each repeat so drift hits every arm alike, every run in a fresh folder (no cache hits):

- `filed`: block size 1 (the paper's per-call sampling), written lines kept whole and no word
  limit on them: the quickstart's settings when the issue was filed.
- `lines`: block size 32 and the paper's 32-word limit on written lines (long lines dropped
  before annotation): the quickstart before sentence splitting.
- `split`: block size 32, each sentence of a written line a candidate anchor (the default).
- `server`: `split` through llama.cpp's own server with 2 slots (`make install` builds it).

    python bench/bench_quickstart_synthesis.py [--n 200] [--repeats 3] [--arms filed,lines,split]
    python bench/bench_quickstart_synthesis.py --seeds 42,43,44 --arms lines,split

Prints a markdown table: medians over the repeats of seconds and triplets/min, speed-up against
the first arm, what the sentence-writing calls cost (calls, sentences, generated tokens), and
the quality of what was written: parse failures, copies, positive-closer rate under
all-MiniLM-L6-v2, distinct-2, mean anchor words. Counts and quality are means over the runs:
with the config's one seed every repeat writes the same rows, so they are that run's figures;
`--seeds` gives each repeat its own seed, so the quality figures pool several samples (the
way to tell a quality difference between arms from the luck of one draw).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_block_size import quality  # noqa: E402

#: arm -> (block size, split written lines into sentences, word limit on written anchors,
#: backend kind)
ARMS = {
    "filed": (1, False, 100_000, "llama-cpp"),
    "lines": (32, False, 32, "llama-cpp"),
    "split": (32, True, 32, "llama-cpp"),
    "server": (32, True, 32, "llama-server"),
}


#: per-run figures the table averages over repeats
COUNTS = (
    "generation_calls",
    "generated_sentences",
    "too_long",
    "completion_tokens",
    "anchor_words",
)


def _mean(values) -> float | None:
    """The mean, or None when a run had no figure (fewer than 2 accepted rows)."""
    values = list(values)
    return None if None in values else statistics.mean(values)


def run_once(run_config, arm: str, n: int, seed: int, encoder) -> dict:
    from syncse.data.jsonl import read_jsonl
    from syncse.synthesis import synthesize_scratch

    block, split, max_words, kind = ARMS[arm]
    source = run_config.source
    backend = run_config.synthesis.backend
    if kind != backend.kind:
        backend = dataclasses.replace(backend, kind=kind, concurrency=2)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "triplets.jsonl"
        config = dataclasses.replace(
            run_config.synthesis,
            out=out,
            block_size=block,
            seed=seed,
            backend=backend,
            filters=dataclasses.replace(run_config.synthesis.filters, max_anchor_words=max_words),
        )
        start = time.perf_counter()
        summary = synthesize_scratch(
            config,
            n,
            source.genres,
            source.topics,
            source.domain,
            source.per_call,
            temperature=source.generation_temperature,
            split_sentences=split,
        )
        seconds = time.perf_counter() - start
        assert summary.this_run.cache_hits == 0
        anchors = [row["sent0"] for row in read_jsonl(out)]
        return {
            "seconds": seconds,
            "triplets_per_min": summary.accepted / seconds * 60,
            "accepted": summary.accepted,
            "calls": summary.this_run.llm_calls,
            "generation_calls": summary.generation_calls,
            "generated_sentences": summary.generated_sentences,
            "completion_tokens": summary.this_run.completion_tokens,
            "too_long": summary.rejected.get("input_too_long", 0),
            "anchor_words": statistics.mean(len(a.split()) for a in anchors),
            "quality": quality(out, summary, encoder),
        }


def main() -> None:
    from syncse.models import load_encoder
    from syncse.pipeline.config import load_run_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "examples/scratch-smollm2.yaml")
    parser.add_argument("--n", type=int, help="triplets wanted (default: the config's)")
    parser.add_argument("--arms", default="filed,lines,split", help=",".join(ARMS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--seeds", help="one repeat per seed (default: the config's, --repeats times)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    args = parser.parse_args()

    os.chdir(ROOT)  # the config's relative paths (data_dir) are the project root's
    run_config = load_run_config(args.config)
    n = args.n or run_config.source.n
    arms = args.arms.split(",")
    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
    else:
        seeds = [run_config.synthesis.seed] * args.repeats
    encoder = load_encoder("minilm", device="cpu")  # quality figures only; never filters
    raw: dict[str, list[dict]] = {arm: [] for arm in arms}
    for seed in seeds:
        for arm in arms:
            run = run_once(run_config, arm, n, seed, encoder)
            raw[arm].append(run)
            print(f"{arm}: {run['seconds']:.1f} s, {run['accepted']} triplets", flush=True)
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2) + "\n")

    print(
        f"\n{args.config.name}, {n} triplets; {len(seeds)} repeats, seeds "
        f"{', '.join(map(str, seeds))}; {os.cpu_count()} cores\n"
    )
    print(
        "| arm | backend | block size | split lines | seconds | triplets/min | speed-up | "
        "writing calls | sentences written | over the limit | generated tokens | "
        "parse failures | copies | positive closer (MiniLM) | distinct-2 | anchor words |"
    )
    print("| --- | --- | ---: | --- |" + " ---: |" * 12)
    base = statistics.median(r["triplets_per_min"] for r in raw[arms[0]])
    for arm in arms:
        runs = raw[arm]
        block, split, _, kind = ARMS[arm]
        speed = statistics.median(r["triplets_per_min"] for r in runs)
        count = {k: statistics.mean(r[k] for r in runs) for k in COUNTS}
        q = {k: _mean(r["quality"][k] for r in runs) for k in runs[0]["quality"]}
        closer = "-" if q["positive_closer"] is None else f"{q['positive_closer']:.0%}"
        d2 = "-" if q["distinct_2"] is None else f"{q['distinct_2']:.2f}"
        print(
            f"| {arm} | {kind} | {block} | {'yes' if split else 'no'} | "
            f"{statistics.median(r['seconds'] for r in runs):.0f} | {speed:.1f} | "
            f"{speed / base:.2f}x | {count['generation_calls']:.0f} | "
            f"{count['generated_sentences']:.0f} | {count['too_long']:.0f} | "
            f"{count['completion_tokens']:.0f} | {q['parse_failures']:.1%} | "
            f"{q['copies']:.1%} | {closer} | {d2} | {count['anchor_words']:.1f} |"
        )
    print(
        "\nRun times (s): "
        + "; ".join(f"{arm} " + " / ".join(f"{r['seconds']:.0f}" for r in raw[arm]) for arm in arms)
    )


if __name__ == "__main__":
    main()
