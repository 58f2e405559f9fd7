"""Synthesis throughput (partial mode) with a bundled local model, measured in one run:

- llama-cpp backend, sequential (one context, all threads) vs parallel contexts (`--concurrency`);
- openai backend against llama-cpp-python's server on 127.0.0.1, concurrency 1 vs 8;
- the ceiling: raw tokens/s of the runtime on the same model (prompt + generation of one
  annotation-sized request, no pipeline), expressed as the rows/min it would allow.

    python bench/bench_synthesis.py [--model smollm2-135m] [--inputs 12] [--repeats 3]

Inputs are real Flickr8k train-image captions. Every run writes to a fresh folder (no response
cache hits; the table shows the calls made). Prints a markdown table of medians.
"""

from __future__ import annotations

import argparse
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


def run_partial(sentences: list[str], backend, instance=None) -> dict:
    """`backend`: the BackendConfig; `instance`: an already made backend for it."""
    from syncse.synthesis import SynthesisConfig, synthesize_partial
    from syncse.synthesis.config import FilterConfig

    with tempfile.TemporaryDirectory() as tmp:
        config = SynthesisConfig(
            out=Path(tmp) / "out.jsonl",
            backend=backend,
            filters=FilterConfig(decontaminate=False),
        )
        start = time.perf_counter()
        summary = synthesize_partial(config, sentences, backend=instance)
        seconds = time.perf_counter() - start
    run = summary.this_run
    assert run.cache_hits == 0
    return {
        "seconds": seconds,
        "calls": run.llm_calls,
        "tokens": run.prompt_tokens + run.completion_tokens,
        "completion_tokens": run.completion_tokens,
        "accepted": summary.accepted,
    }


def record_requests(sentences: list[str], backend) -> list:
    """The exact requests the pipeline sends (recorded from one extra run)."""
    from syncse.synthesis.backends import create_backend

    recorded: list = []
    inner = create_backend(backend)
    complete = inner.complete

    async def complete_and_record(request):
        recorded.append(request)
        return await complete(request)

    inner.complete = complete_and_record  # the instance's own method, not a module global
    run_partial(sentences, backend, instance=inner)
    return recorded


def bare_runtime(model_path: Path, requests: list) -> dict:
    """The same requests straight into one llama.cpp context, one after another: no pipeline,
    no asyncio, no parsing or files. Also pure generation speed (one token at a time)."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(model_path), n_ctx=2048, n_threads=os.cpu_count(), verbose=False)
    tokens = 0
    start = time.perf_counter()
    for r in requests:
        out = llm.create_chat_completion(
            messages=r.as_messages(),
            temperature=r.temperature,
            top_p=r.top_p,
            max_tokens=r.max_tokens,
            seed=r.seed,
        )
        tokens += out["usage"]["prompt_tokens"] + out["usage"]["completion_tokens"]
    seconds = time.perf_counter() - start
    llm.reset()
    llm.eval(llm.tokenize(b"The man"))
    gen_start = time.perf_counter()
    for _ in range(128):
        llm.eval([llm.sample(temp=1.0, top_p=0.95)])
    generation = 128 / (time.perf_counter() - gen_start)
    llm.close()
    return {"seconds": seconds, "tokens": tokens, "generation_tok_s": generation}


def main() -> None:
    from syncse.synthesis.backends.llama_cpp_backend import resolve_gguf
    from syncse.synthesis.backends.llama_cpp_python_server import python_server
    from syncse.synthesis.config import BackendConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--inputs", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sentences = captions(args.inputs)
    path = resolve_gguf(args.model)
    cores = os.cpu_count() or 1

    arms = {
        "llama-cpp, sequential (1 context)": BackendConfig(model=args.model, concurrency=1),
        f"llama-cpp, parallel ({cores} contexts)": BackendConfig(
            model=args.model, concurrency=cores
        ),
    }
    results: dict[str, list[dict]] = {name: [] for name in arms}
    server_arms = [
        "openai -> llama_cpp.server, concurrency 1",
        "openai -> llama_cpp.server, concurrency 8",
    ]
    results |= {name: [] for name in server_arms}
    with python_server(path, alias=args.model, n_threads=cores) as url:
        os.environ.setdefault("OPENAI_API_KEY", "local")
        arms[server_arms[0]] = BackendConfig(
            kind="openai", model=args.model, base_url=url, concurrency=1
        )
        arms[server_arms[1]] = BackendConfig(
            kind="openai", model=args.model, base_url=url, concurrency=8
        )
        for repeat in range(args.repeats):
            for name, backend in arms.items():  # interleaved, so drift hits every arm alike
                results[name].append(run_partial(sentences, backend))
                r = results[name][-1]
                print(f"[{repeat + 1}/{args.repeats}] {name}: {r['seconds']:.1f} s", flush=True)

    requests = record_requests(sentences, arms[next(iter(arms))])
    bare = [bare_runtime(path, requests) for _ in range(args.repeats)]

    rows = len(sentences)
    first = results[next(iter(arms))]
    base = statistics.median(r["seconds"] for r in first)
    print(
        f"\nPartial mode, {rows} Flickr8k captions ({len(requests)} LLM calls), model "
        f"{args.model}, {cores} CPU cores, median of {args.repeats} runs\n"
    )
    print("| setting | seconds | rows/min | tokens/s (prompt+gen) | vs sequential |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        sec = statistics.median(r["seconds"] for r in runs)
        tok = statistics.median(r["tokens"] / r["seconds"] for r in runs)
        print(f"| {name} | {sec:.1f} | {rows * 60 / sec:.1f} | {tok:.0f} | {base / sec:.2f}x |")
    sec = statistics.median(b["seconds"] for b in bare)
    tok = statistics.median(b["tokens"] / b["seconds"] for b in bare)
    gen = statistics.median(b["generation_tok_s"] for b in bare)
    print(
        f"| ceiling: the same {len(requests)} requests into one bare llama.cpp context | "
        f"{sec:.1f} | {rows * 60 / sec:.1f} | {tok:.0f} | {base / sec:.2f}x |"
    )
    print(f"\nBare generation speed (one token at a time, one context): {gen:.0f} tok/s")


if __name__ == "__main__":
    main()
