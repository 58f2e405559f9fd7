"""What asking the rejected side again buys: `--nli-rewrites 1` against rejecting at once, on
the first captions of the published 1.5B set, with the same writer and judge.

    python experiments/nli_rewrites.py --captions 128   # measure -> docs/results/nli_rewrites.json
    python experiments/nli_rewrites.py --table          # the table, from that file

The run is `syncse synthesize partial --nli-judge qwen2.5-coder-1.5b --nli-rewrites 1` over the
first N captions of `experiments/valid_sets.py`'s input list. Its first versions are the
published rows (same seeds), so with the set's writer and judge caches copied in (when this
machine has them) only the rewrites are computed; calls are counted as a fresh run would make
them (calls plus cache hits). Without rewrites a row is kept when its first version is valid
(`checks.nli.valid_rate`), so both arms come from the one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import valid_sets  # noqa: E402

WORK = ROOT / "outputs" / "nli-rewrites"
RESULT = ROOT / "docs" / "results" / "nli_rewrites.json"
CACHES = (
    valid_sets.WORK / "triplets.jsonl.cache.sqlite",  # the writer's answers
    valid_sets.WORK.parent / "judged" / "triplets.judged.jsonl.cache.sqlite",  # the judge's
)


def seed_cache(target: Path) -> int:
    """Copy the published set's cached answers into `target` (a fresh run's cache), so the
    first versions cost nothing here; returns how many answers were copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(target)
    con.execute(
        "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
        "text TEXT, prompt_tokens INTEGER, completion_tokens INTEGER)"
    )
    copied = 0
    for source in CACHES:
        if not source.exists():
            continue
        con.execute("ATTACH DATABASE ? AS src", (str(source),))
        insert = "INSERT OR IGNORE INTO responses SELECT * FROM src.responses"
        copied += con.execute(insert).rowcount
        con.commit()
        con.execute("DETACH DATABASE src")
    con.close()
    return copied


def measure(captions: int) -> dict:
    out = WORK / f"first{captions}.jsonl"
    if out.exists():
        shutil.rmtree(WORK)
    copied = seed_cache(Path(f"{out}.cache.sqlite"))
    command = [
        "syncse", "synthesize", "partial",
        "--input", str(valid_sets.captions_file().relative_to(ROOT)),
        "--out", str(out.relative_to(ROOT)),
        "--model", valid_sets.MODEL,
        "--data-dir", str(valid_sets.DATA),
        "--limit", str(captions),
        "--nli-judge", valid_sets.MODEL,
        "--nli-rewrites", "1",
    ]  # fmt: skip
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    binary = Path(sys.executable).parent / "syncse"
    started = time.time()
    subprocess.run([str(binary), *command[1:]], cwd=ROOT, env=env, check=True)
    seconds = time.time() - started
    summary = json.loads(Path(f"{out}.summary.json").read_text())
    nli, run = summary["checks"]["nli"], summary["this_run"]
    counts = run["counts"]
    judged = nli["rows_judged"]
    first_valid = round(nli["valid_rate"] * judged)
    kept = summary["accepted"]
    rewrites = counts.get("nli_rewrite_positive", 0) + counts.get("nli_rewrite_negative", 0)
    # Every call a fresh run makes: the ones made here plus the ones the copied caches
    # answered. The judge: two per first version and one per judged rewrite (the side that
    # passed is the same question again, which a fresh run's own cache answers).
    writer_calls = run["llm_calls"] + run["cache_hits"]
    rewrite_writer_calls = counts.get("nli_rewrite_writer_calls", 0)
    rewrites_judged = nli.get("rewrites", {}).get("rows_judged", 0)
    judge_calls = 2 * judged + rewrites_judged
    # Rejecting at once: the first versions' writing calls and two judge calls per row.
    first_calls = writer_calls - rewrite_writer_calls + 2 * judged
    result = {
        "captions": captions,
        "rows_judged": judged,
        "generator": valid_sets.MODEL,
        "judge": nli["judge"],
        "without_rewrites": {
            "kept": first_valid,
            "yield": first_valid / captions,
            "llm_calls": first_calls,
            "calls_per_kept": first_calls / max(1, first_valid),
        },
        "with_one_rewrite": {
            "kept": kept,
            "yield": kept / captions,
            "rewrites": rewrites,
            "rewrites_positive": counts.get("nli_rewrite_positive", 0),
            "rewrites_negative": counts.get("nli_rewrite_negative", 0),
            "rewrites_judged": rewrites_judged,
            "rewrites_kept": counts.get("nli_rewrite_positive_kept", 0)
            + counts.get("nli_rewrite_negative_kept", 0),
            "llm_calls": writer_calls + judge_calls,
            "calls_per_kept": (writer_calls + judge_calls) / max(1, kept),
        },
        "seconds": round(seconds, 1),
        "seconds_per_rewrite": round(seconds / max(1, rewrites), 2),
        "cached_answers_copied": copied,
        "command": " ".join(command),
    }
    RESULT.write_text(json.dumps(result, indent=1) + "\n")
    return result


def table(result: dict) -> str:
    a, b = result["without_rewrites"], result["with_one_rewrite"]
    n = result["captions"]
    return "\n".join(
        [
            f"| first {n} captions | rows kept | yield (kept per caption) "
            "| LLM calls per kept row |",
            "|---|---:|---:|---:|",
            f"| rejected at once | {a['kept']} | {a['yield']:.1%} | {a['calls_per_kept']:.1f} |",
            f"| the failed side asked again once | {b['kept']} | {b['yield']:.1%} | "
            f"{b['calls_per_kept']:.1f} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captions", type=int, default=128)
    parser.add_argument("--table", action="store_true", help="print the table from the results")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(RESULT.read_text())))
        return
    print(table(measure(args.captions)))


if __name__ == "__main__":
    main()
