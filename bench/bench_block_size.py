"""Prompt-prefix reuse and batching: synthesis speed and data quality by `--block-size` and
backend, in one run.

With block size 1 (the paper's sampling) every call samples its own template and exemplars,
so no two consecutive prompts share more than the system prompt and llama.cpp evaluates the
whole ~300-token prompt each time. With block size N, N consecutive inputs share one template
and exemplar set per kind and are asked positives-then-negatives, so llama.cpp's context keeps
the shared prefix and evaluates only the new sentence. Speed must not hide worse data, so each
row also shows the quality figures of what was written.

    python bench/bench_block_size.py [--models smollm2-135m,qwen2.5-0.5b] [--inputs 40] \\
        [--blocks 1,8,32] [--repeats 3] [--scratch 0]

Partial mode on the first N decontaminated Flickr8k train captions (scratch: `--scratch N`
triplets); the quickstart's sampling (3 exemplars, 48 tokens); one llama.cpp context with all
cores; every run in a fresh folder (no cache hits); a run's time includes loading the model
(and starting the server). Prints a markdown table: medians over the repeats, speed-up against
llama-cpp at the first block size for the same model in the same run, and quality from the first
repeat (the runs are seeded, so repeats write the same rows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def captions(n: int) -> list[str]:
    from syncse.data.corpora import flickr8k_captions
    from syncse.data.locations import data_dir_from_env, resolve_data_dir

    senteval = resolve_data_dir(data_dir_from_env() or ROOT.parent / "shared/data")
    return flickr8k_captions(senteval, n)


def quality(path: Path, summary, encoder) -> dict:
    from syncse.synthesis.stats import triplet_stats

    answers = summary.this_run.answers
    calls = sum(answers.values()) or 1
    result = {
        "parse_failures": summary.this_run.unparseable_answers / calls,
        "copies": sum(v for k, v in answers.items() if k.endswith(":copies_input")) / calls,
        "positive_closer": None,
        "distinct_2": None,
    }
    if summary.accepted >= 2:
        stats = triplet_stats(path, encoder)
        result["positive_closer"] = stats["similarity"]["positive_closer_rate"]
        d2 = stats["distinct_2"]
        result["distinct_2"] = (d2["positive"] + d2["negative"]) / 2
    return result


def run_once(
    model: str, backend: str, slots: int, block: int, sentences: list[str], scratch: int, encoder
) -> dict:
    from syncse.synthesis import (
        BackendConfig,
        SamplingConfig,
        SynthesisConfig,
        synthesize_partial,
        synthesize_scratch,
    )
    from syncse.synthesis.config import FilterConfig

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        config = SynthesisConfig(
            out=out,
            backend=BackendConfig(
                kind=backend, model=model, concurrency=slots if backend == "llama-server" else 1
            ),
            sampling=SamplingConfig(examples_per_call=3, max_tokens=48),
            filters=FilterConfig(decontaminate=False),
            block_size=block,
        )
        start = time.perf_counter()
        if scratch:
            summary = synthesize_scratch(config, n=scratch, per_call=10)
        else:
            summary = synthesize_partial(config, sentences)
        seconds = time.perf_counter() - start
        assert summary.this_run.cache_hits == 0
        done = summary.accepted + sum(summary.rejected.values())
        return {
            "seconds": seconds,
            "inputs_per_min": (scratch or done) / seconds * 60,
            "rows_per_min": summary.accepted / seconds * 60,
            "accepted": summary.accepted,
            "calls": summary.this_run.llm_calls,
            "prompt_tok_s": summary.this_run.prompt_tokens / seconds,
            "gen_tok_s": summary.this_run.completion_tokens / seconds,
            "quality": quality(out, summary, encoder),
        }


def ceiling(model: str, sentences: list[str]) -> dict:
    """The bare runtime: one llama.cpp context with all cores, no pipeline. Prompt speed is a
    ~256-token prompt evaluated from an empty context (what block size 1 pays per call);
    generation speed is one token at a time after it. Prefix reuse shows up as prompt tokens/s
    above this ceiling, since reused tokens are counted by the API but not evaluated again."""
    from llama_cpp import Llama

    from syncse.synthesis.backends.llama_cpp_backend import resolve_gguf

    llm = Llama(
        model_path=str(resolve_gguf(model)), n_ctx=2048, n_threads=os.cpu_count(), verbose=False
    )
    tokens = llm.tokenize(" ".join(sentences * 4).encode())[:256]
    llm.reset()
    start = time.perf_counter()
    llm.eval(tokens)
    prompt = len(tokens) / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(48):
        llm.eval([llm.sample(temp=1.0, top_p=0.95)])
    generation = 48 / (time.perf_counter() - start)
    llm.close()
    return {"prompt_tok_s": prompt, "gen_tok_s": generation}


def main() -> None:
    from syncse.models import load_encoder

    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-0.5b")
    parser.add_argument("--inputs", type=int, default=40)
    parser.add_argument("--blocks", default="1,8,32")
    parser.add_argument("--backends", default="llama-cpp", help="llama-cpp,llama-server")
    parser.add_argument("--slots", type=int, default=4, help="llama-server's slots")
    parser.add_argument(
        "--arms",
        help="explicit BACKEND:BLOCK[@MODEL] arms, e.g. llama-cpp:1,llama-server:16 "
        "(instead of every backend with every block size); @MODEL runs another model in that "
        "arm (a re-quantized variant), compared with the row model's first arm",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scratch", type=int, default=0, help="scratch triplets instead")
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    args = parser.parse_args()

    sentences = captions(args.inputs)
    encoder = load_encoder("minilm", device="cpu")  # quality figures only; never filters
    blocks = [int(b) for b in args.blocks.split(",")]
    backends = args.backends.split(",")
    arms = [(backend, block, None) for backend in backends for block in blocks]
    if args.arms:
        arms = []
        for arm in args.arms.split(","):
            spec, _, variant = arm.partition("@")
            backend, block = spec.split(":")
            arms.append((backend, int(block), variant or None))
    raw: dict[str, list[dict]] = {}
    ceilings: dict[str, list[dict]] = {}
    for model in args.models.split(","):
        for _ in range(args.repeats):  # interleaved, so drift hits every arm alike
            for used in dict.fromkeys([model] + [v for _, _, v in arms if v]):
                ceilings.setdefault(used, []).append(ceiling(used, sentences))
            for backend, block, variant in arms:
                used = variant or model
                run = run_once(used, backend, args.slots, block, sentences, args.scratch, encoder)
                raw.setdefault(f"{model}|{backend}|{block}|{variant}", []).append(run)
                print(f"{used} {backend} block {block}: {run['seconds']:.1f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"runs": raw, "ceilings": ceilings}, indent=2) + "\n")

    mode = f"scratch, {args.scratch} triplets" if args.scratch else f"partial, {args.inputs} inputs"
    print(f"\n{mode}; {args.repeats} repeats; {os.cpu_count()} cores; medians\n")
    print(
        "| model | backend | block size | inputs/min | accepted rows/min | speed-up | "
        "prompt tok/s (x ceiling) | generated tok/s (x ceiling) | accepted | "
        "parse failures | copies | positive closer (MiniLM) | distinct-2 |"
    )
    print(
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for model in args.models.split(","):
        first = "|".join(map(str, (model, *arms[0])))
        base = statistics.median(r["inputs_per_min"] for r in raw[first])
        for backend, block, variant in arms:
            top_prompt = statistics.median(c["prompt_tok_s"] for c in ceilings[variant or model])
            top_gen = statistics.median(c["gen_tok_s"] for c in ceilings[variant or model])
            runs = raw[f"{model}|{backend}|{block}|{variant}"]
            label = f"llama-server, {args.slots} slots" if backend == "llama-server" else backend
            speed = statistics.median(r["inputs_per_min"] for r in runs)
            rows = statistics.median(r["rows_per_min"] for r in runs)
            q = runs[0]["quality"]
            closer = "-" if q["positive_closer"] is None else f"{q['positive_closer']:.0%}"
            d2 = "-" if q["distinct_2"] is None else f"{q['distinct_2']:.2f}"
            prompt = statistics.median(r["prompt_tok_s"] for r in runs)
            gen = statistics.median(r["gen_tok_s"] for r in runs)
            print(
                f"| {variant or model} | {label} | {block} | {speed:.1f} | {rows:.1f} | "
                f"{speed / base:.2f}x | "
                f"{prompt:.0f} ({prompt / top_prompt:.2f}x) | {gen:.1f} ({gen / top_gen:.2f}x) | "
                f"{runs[0]['accepted']} | {q['parse_failures']:.1%} | {q['copies']:.1%} | "
                f"{closer} | {d2} |"
            )
    print("\nCeiling (bare llama.cpp context, all cores, medians): ")
    for model in ceilings:
        top_prompt = statistics.median(c["prompt_tok_s"] for c in ceilings[model])
        top_gen = statistics.median(c["gen_tok_s"] for c in ceilings[model])
        print(
            f"- {model}: prompt {top_prompt:.0f} tok/s (256 tokens from an empty context), "
            f"generation {top_gen:.1f} tok/s"
        )


if __name__ == "__main__":
    main()
