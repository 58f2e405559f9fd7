"""Judging scratch rows: the anchor judge and the NLI judge take turns on one context.

Each scratch row gets three verdicts, an anchor verdict (is it a standalone sentence?) and
two NLI verdicts (positive, negative), each from a few-shot prompt. A llama-cpp context holds
one prompt's prefix, so before prefix states were kept (`PREFIX_STATES`) every switch
between the two judges re-evaluated the other judge's few-shot turns. This times both on the
same rows of the published scratch set, with an empty response cache each time:

    python bench/bench_judge_turns.py [--model qwen2.5-coder-1.5b] [--rows 8] [--repeats 3]

Arms: `states kept` (the default) and `one prefix` (`PREFIX_STATES = 0`: the state cache
keeps nothing, as before). Seconds per row (three verdicts); the first row of each run, which
evaluates both few-shot prefixes whole in either arm, is left out. Medians over rows and
repeats, arms interleaved; the ratio is against `one prefix` in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = ROOT / "datasets" / "scratch-qwen2.5-coder-1.5b" / "triplets.jsonl"


async def seconds_per_row(model: str, rows: list[dict], keep_states: bool) -> list[float]:
    import syncse.synthesis.backends.llama_cpp_backend as llama_cpp_backend
    from syncse.synthesis.backends import BackendConfig, create_backend
    from syncse.synthesis.caller import CachedCaller
    from syncse.synthesis.nli import AnchorJudge, NLIJudge
    from syncse.synthesis.store import ResponseCache

    kept = llama_cpp_backend.PREFIX_STATES
    llama_cpp_backend.PREFIX_STATES = kept if keep_states else 0
    backend = create_backend(BackendConfig(kind="llama-cpp", model=model))
    try:
        await backend.check()
        with tempfile.TemporaryDirectory() as folder:
            caller = CachedCaller(backend, ResponseCache(Path(folder) / "cache.sqlite"))
            anchors, nli = AnchorJudge(caller.ask), NLIJudge(caller.ask)
            times = []
            for row in rows:
                start = time.perf_counter()
                await anchors.label(row["sent0"])
                await nli.label(row["sent0"], row["sent1"])
                await nli.label(row["sent0"], row["hard_neg"])
                times.append(time.perf_counter() - start)
        return times[1:]
    finally:
        await backend.aclose()
        llama_cpp_backend.PREFIX_STATES = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with ROWS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()][: args.rows + 1]
    arms = {"one prefix": False, "states kept": True}
    found: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(args.repeats):
        for name, keep in arms.items():
            found[name] += asyncio.run(seconds_per_row(args.model, rows, keep))
    base = statistics.median(found["one prefix"])
    print(f"{args.model}, {args.rows} rows x {args.repeats} repeats, three verdicts a row\n")
    print("| arm | s per row (median) | min | max | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name, times in found.items():
        median = statistics.median(times)
        print(
            f"| {name} | {median:.2f} | {min(times):.2f} | {max(times):.2f} | "
            f"{base / median:.2f}x |"
        )


if __name__ == "__main__":
    main()
