"""Scratch's sentence-writing prompt, before and after the rule against self-description.

Small models writing "sentences that could appear in a blog post" often write about the
sentences instead ("These sentences can be a great example of how different writing styles
overlap"). This bench asks the same calls (same seeds, genres, topics, lengths) with and
without a rule against it at the end of the prompt (`STAY_IN_THE_TEXT`) and counts what comes
back. (Measured on SmolLM2 the rule did not help, so the default prompt does not use it.)

    python bench/bench_scratch_prompt.py [--models smollm2-135m,qwen2.5-0.5b] [--calls 30]

Per model and prompt: sentences parsed per call, the share that talk about themselves
(`syncse.synthesis.filters.is_about_itself`), mean words, and the share over 32 words (the
paper's length rule, which scratch now applies to anchors). Greedy-free: the calls sample at
scratch's own temperature (1.3) with fixed seeds, so both prompts see the same randomness.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics

os.environ.setdefault("HF_HUB_OFFLINE", "1")


async def sentences_for(model: str, rule: str, calls: int) -> list[list[str]]:
    from syncse.synthesis.backends import create_backend
    from syncse.synthesis.config import BackendConfig
    from syncse.synthesis.parsing import parse_list
    from syncse.synthesis.pipeline import generation_request
    from syncse.synthesis.pools import read_word_list

    genres = read_word_list(None, "genres.txt")
    topics = read_word_list(None, "topics.txt")
    backend = create_backend(BackendConfig(kind="llama-cpp", model=model))
    await backend.check()
    found = []
    try:
        for call in range(calls):
            request, _ = generation_request(42, call, genres, topics, 10, None, 1.3, rule=rule)
            completion = await backend.complete(request)
            found.append(parse_list(completion.text)[:10])
    finally:
        await backend.aclose()
    return found


def main() -> None:
    from syncse.data.text import match_key
    from syncse.synthesis.filters import is_about_itself
    from syncse.synthesis.pipeline import STAY_IN_THE_TEXT

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-0.5b")
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    print("| model | prompt | calls | sentences/call | about itself | mean words | over 32 words |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for model in args.models.split(","):
        for label, rule in (
            ("before (no rule)", ""),
            ("after (STAY_IN_THE_TEXT)", STAY_IN_THE_TEXT),
        ):
            batches = asyncio.run(sentences_for(model, rule, args.calls))
            sentences = [s for batch in batches for s in batch]
            words = [len(match_key(s).split()) for s in sentences] or [0]
            n = max(len(sentences), 1)
            print(
                f"| {model} | {label} | {args.calls} | {len(sentences) / args.calls:.1f} | "
                f"{sum(map(is_about_itself, sentences)) / n:.1%} | {statistics.mean(words):.1f} "
                f"| {sum(w > 32 for w in words) / n:.1%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
