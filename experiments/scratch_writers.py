"""Which local preset writes scratch anchors that are sentences about the world?

SynCSE-scratch starts from sentences the LLM writes for sampled (genre, topics) pairs. Small
models write meta-text ("Here are ten sentences about ..."), headings and fragments instead;
a triplet built on one teaches nothing. This asks every preset the same sentence-writing calls
(scratch's own prompt, seeds, temperature 1.3 and sentence splitting) and measures what comes
back: sentences per call, time per sentence, the share the pattern check drops
(`is_about_itself`), the share over the 32-word anchor limit, and the share the 1.5B anchor
judge (`nli.AnchorJudge`) calls a standalone sentence about the world.

    python experiments/scratch_writers.py --calls 10    # -> docs/results/scratch_writers.json
    python experiments/scratch_writers.py --table       # the table, from that file
    python experiments/scratch_writers.py blind-make --out datasets/blind-labels/anchors1
    # a labeller answers yes/no for each text of anchors1/items.jsonl into labels.jsonl
    python experiments/scratch_writers.py blind-score --out datasets/blind-labels/anchors1

`blind-make` draws up to 50 candidate anchors per writer (what scratch would annotate) and
20 controls (10 SICK-train premises, 10 meta-text lines written here), shuffled, with only an
id and the text in `items.jsonl`; `blind-score` gives each writer's blind standalone rate and
the anchor judge's agreement with the blind labels.

Calls and verdicts go through a response cache in outputs/, so a re-run is free. The
sentences themselves are saved beside the result, for a blind check of the anchor judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
WORK = ROOT / "outputs" / "scratch-writers"
RESULT = ROOT / "docs" / "results" / "scratch_writers.json"
MODELS = ("smollm2-135m", "gemma-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
JUDGE = "qwen2.5-coder-1.5b"
MAX_ANCHOR_WORDS = 32  # FilterConfig.max_anchor_words, the paper's rule


async def write(model: str, calls: int) -> tuple[list[list[str]], float, int]:
    """Scratch's first `calls` sentence-writing calls on `model`: the anchors each call gives
    (split into sentences, as scratch does), seconds spent on uncached calls, and their count."""
    from syncse.synthesis.backends import create_backend
    from syncse.synthesis.caller import CachedCaller
    from syncse.synthesis.config import BackendConfig
    from syncse.synthesis.parsing import parse_list, split_sentences
    from syncse.synthesis.pipeline import generation_request
    from syncse.synthesis.pools import read_word_list
    from syncse.synthesis.store import ResponseCache

    genres = read_word_list(None, "genres.txt")
    topics = read_word_list(None, "topics.txt")
    backend = create_backend(BackendConfig(kind="llama-cpp", model=model))
    await backend.check()
    cache = ResponseCache(WORK / "cache.sqlite")
    caller = CachedCaller(backend, cache)
    found, seconds = [], 0.0
    try:
        for call in range(calls):
            request, _ = generation_request(42, call, genres, topics, 10, None, 1.3)
            started = time.perf_counter()
            completion, _ = await caller.ask(request)
            seconds += time.perf_counter() - started
            lines = parse_list(completion.text)[:10]
            truncated = completion.completion_tokens >= request.max_tokens
            found.append(split_sentences(lines, truncated=truncated))
    finally:
        await backend.aclose()
        cache.close()
    return found, seconds, caller.usage.calls


async def judge(sentences: list[str]) -> dict[str, str | None]:
    from syncse.synthesis.backends import create_backend
    from syncse.synthesis.caller import CachedCaller
    from syncse.synthesis.config import BackendConfig
    from syncse.synthesis.nli import AnchorJudge
    from syncse.synthesis.store import ResponseCache

    backend = create_backend(BackendConfig(kind="llama-cpp", model=JUDGE))
    await backend.check()
    cache = ResponseCache(WORK / "cache.sqlite")
    anchors = AnchorJudge(CachedCaller(backend, cache).ask, seed=42)
    try:
        return {s: (await anchors.label(s)).label for s in dict.fromkeys(sentences)}
    finally:
        await backend.aclose()
        cache.close()


def measure(models: list[str], calls: int) -> list[dict]:
    from syncse.synthesis.filters import is_about_itself

    WORK.mkdir(parents=True, exist_ok=True)
    results, written = [], {}
    for model in models:
        found, seconds, uncached = asyncio.run(write(model, calls))
        written[model] = found
        results.append({"model": model, "calls": calls, "uncached_calls": uncached,
                        "seconds": round(seconds, 1)})  # fmt: skip
    everything = [s for found in written.values() for batch in found for s in batch]
    verdicts = asyncio.run(judge(everything))
    for result in results:
        sentences = [s for batch in written[result["model"]] for s in batch]
        n = max(1, len(sentences))
        fits = [s for s in sentences if len(s.split()) <= MAX_ANCHOR_WORDS]
        kept = [s for s in fits if not is_about_itself(s)]  # what scratch would annotate
        good = [s for s in kept if verdicts[s] == "yes"]
        result |= {
            "sentences": len(sentences),
            "sentences_per_call": len(sentences) / result["calls"],
            "about_itself": sum(is_about_itself(s) for s in sentences) / n,
            "over_32_words": 1 - len(fits) / n,
            "mean_words": statistics.fmean(len(s.split()) for s in sentences) if sentences else 0,
            "candidates": len(kept),
            "judge_standalone": len(good) / max(1, len(kept)),
            "good_anchors_per_call": len(good) / result["calls"],
        }
        if result["uncached_calls"] == result["calls"]:
            result["seconds_per_good_anchor"] = round(result["seconds"] / max(1, len(good)), 2)
    (WORK / "sentences.json").write_text(
        json.dumps(
            {m: [[(s, verdicts[s]) for s in b] for b in f] for m, f in written.items()}, indent=1
        )  # fmt: skip
    )
    RESULT.write_text(json.dumps(results, indent=1) + "\n")
    return results


def table(results: list[dict]) -> str:
    lines = [
        "| writer | sentences / call | about itself | over 32 words | standalone (judge) "
        "| good anchors / call | s per good anchor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        per = r.get("seconds_per_good_anchor")
        lines.append(
            f"| `{r['model']}` | {r['sentences_per_call']:.1f} | {r['about_itself']:.0%} | "
            f"{r['over_32_words']:.0%} | {r['judge_standalone']:.0%} | "
            f"{r['good_anchors_per_call']:.1f} | {'' if per is None else f'{per:.1f}'} |"
        )
    return "\n".join(lines)


#: Controls a labeller must answer "no" to: meta-text, headings and fragments of the kind
#: small writers produce (written for this check, not taken from any model's output).
BAD_CONTROLS = (
    "Here are ten sentences about travel and food.",
    "Sentence 3: a short example written in the style of a news report.",
    "These sentences show how different writing styles can describe the same topic.",
    "Chapter Two: The Long Road Home",
    "1. Weather 2. Sports 3. Politics",
    "Now, let me write one more sentence for you.",
    "The following examples are written in a casual tone.",
    "and then the other one, which",
    "Topic: climate change; genre: blog post.",
    "I hope these sentences help with your writing task!",
)


def blind_make(
    out: Path, per_writer: int = 50, seed: int = 7, sets: list[str] | None = None
) -> None:
    """Blind anchor items: each writer's candidate anchors, or with `sets` (NAME=FILE of
    triplets) the anchors of those rows, among the controls."""
    import random

    from blind_labels import sick_triplets

    from syncse.data.jsonl import read_jsonl
    from syncse.synthesis.filters import is_about_itself

    if sets:
        written = {}
        for spec in sets:
            name, path = spec.split("=", 1)
            written[name] = [[(r["sent0"], None) for r in read_jsonl(Path(path))]]
    else:
        written = json.loads((WORK / "sentences.json").read_text())
    rng = random.Random(seed)
    items = []
    for model, batches in written.items():
        pool = [s for b in batches for s, _ in b]
        pool = [s for s in dict.fromkeys(pool)
                if len(s.split()) <= MAX_ANCHOR_WORDS and not is_about_itself(s)]  # fmt: skip
        items += [{"text": t, "set": model} for t in rng.sample(pool, min(per_writer, len(pool)))]
    items += [{"text": p, "set": "control-good"} for p, _, _ in sick_triplets(10, seed)]
    items += [{"text": t, "set": "control-bad"} for t in BAD_CONTROLS]
    rng.shuffle(items)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "items.jsonl").open("w") as f, (out / "key.jsonl").open("w") as k:
        for i, item in enumerate(items):
            f.write(json.dumps({"id": i, "text": item["text"]}, ensure_ascii=False) + "\n")
            k.write(json.dumps({"id": i, **item}, ensure_ascii=False) + "\n")
    print(f"{out}: {len(items)} items")


def blind_score(out: Path) -> dict:
    from syncse.synthesis.checks import wilson

    def rows(name: str) -> list[dict]:
        return [json.loads(x) for x in (out / name).read_text().splitlines() if x.strip()]

    key = {r["id"]: r for r in rows("key.jsonl")}
    labels = {r["id"]: r["label"] for r in rows("labels.jsonl")}
    sentences = WORK / "sentences.json"
    written = json.loads(sentences.read_text()) if sentences.exists() else {}
    verdicts = {s: v for batches in written.values() for b in batches for s, v in b}
    sets: dict[str, dict] = {}
    for i, item in key.items():
        entry = sets.setdefault(item["set"], {"items": 0, "yes": 0, "judged": 0, "agree": 0})
        entry["items"] += 1
        entry["yes"] += labels[i] == "yes"
        if item["text"] in verdicts:
            entry["judged"] += 1
            entry["agree"] += verdicts[item["text"]] == labels[i]
    for entry in sets.values():
        entry["standalone"] = entry["yes"] / entry["items"]
        entry["standalone_95"] = wilson(entry["yes"], entry["items"])
        if entry["judged"]:
            entry["judge_agreement"] = entry["agree"] / entry["judged"]
    good, bad = sets.get("control-good", {}), sets.get("control-bad", {})
    score = {"sets": sets, "controls_right": (good.get("yes", 0) + bad.get("items", 0)
             - bad.get("yes", 0)) / max(1, good.get("items", 0) + bad.get("items", 0))}  # fmt: skip
    (out / "score.json").write_text(json.dumps(score, indent=1) + "\n")
    print(json.dumps(score, indent=1))
    return score


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("blind-make", "blind-score"):
        step = argparse.ArgumentParser(description=__doc__.split("\n")[0])
        step.add_argument("step")
        step.add_argument("--out", type=Path, required=True)
        step.add_argument("--per-writer", type=int, default=50)
        step.add_argument("--set", action="append", help="NAME=FILE: anchors of these rows")
        a = step.parse_args()
        if a.step == "blind-make":
            blind_make(a.out, a.per_writer, sets=a.set)
        else:
            blind_score(a.out)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--table", action="store_true", help="print the table from the results")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(RESULT.read_text())))
        return
    print(table(measure(args.models.split(","), args.calls)))


if __name__ == "__main__":
    main()
