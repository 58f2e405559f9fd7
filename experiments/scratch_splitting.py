"""Does cutting scratch's written lines into sentences change what training gets out of them?

Splitting (`split_sentences`, the default) makes scratch's sentence writing ~3x cheaper per
anchor, but it also changes the anchors: shorter, more of them starting with a pronoun, several
from one paragraph. This runs the SmolLM2 scratch example (examples/scratch-smollm2.yaml, the
former quickstart: SmolLM2-135M writes 200
triplets, all-MiniLM-L6-v2 trains on them, STS) with whole lines (`lines`, the paper's reading)
and with split lines (`split`), and trains each dataset with several seeds, so a difference
can be told from seed noise.

    python experiments/scratch_splitting.py [--seeds 42,1,2] [--out outputs/splitting]
    python experiments/scratch_splitting.py --table          # print the table from finished runs

Each (arm, seed) is a `syncse run` folder under --out (resumable); the first seed synthesizes,
the others train on that seed's triplets. Prints a markdown table: per arm the triplets, mean
anchor words, the STS average per seed, and their mean and spread; the start model's score
above it.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import statistics
from pathlib import Path

import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

from syncse.data.jsonl import read_jsonl
from syncse.evaluation.results import EvaluationResults
from syncse.pipeline.layout import RunLayout

ROOT = Path(__file__).resolve().parents[1]
ARMS = {"lines": False, "split": True}


def arm_config(base: dict, arm: str, seed: int, out: Path, first: int) -> dict:
    config = copy.deepcopy(base)
    config["out"] = str(out / f"{arm}-seed{seed}")
    config["training"]["seed"] = seed
    if seed == first:
        config["synthesis"]["split_sentences"] = ARMS[arm]
    else:
        del config["synthesis"]
        config["triplets"] = str(RunLayout(out / f"{arm}-seed{first}").triplets)
    return config


def table(out: Path, seeds: list[int]) -> str:
    lines = [
        "| data | triplets | anchor words | "
        + " | ".join(f"STS seed {s}" for s in seeds)
        + " | mean | spread |",
        "| --- | ---: | ---: |" + " ---: |" * (len(seeds) + 2),
    ]
    start = None
    for arm in ARMS:
        rows = read_jsonl(RunLayout(out / f"{arm}-seed{seeds[0]}").triplets)
        scores = []
        for seed in seeds:
            layout = RunLayout(out / f"{arm}-seed{seed}")
            scores.append(EvaluationResults.load(layout.evaluation("trained")).average("sts"))
            start = EvaluationResults.load(layout.evaluation("start")).average("sts")
        words = statistics.mean(len(r["sent0"].split()) for r in rows)
        lines.append(
            f"| {arm} | {len(rows)} | {words:.1f} | "
            + " | ".join(f"{s:.2f}" for s in scores)
            + f" | {statistics.mean(scores):.2f} | {max(scores) - min(scores):.2f} |"
        )
    return f"Start model (all-MiniLM-L6-v2), STS average: {start:.2f}\n\n" + "\n".join(lines)


def main() -> None:
    from syncse.pipeline import run_config_from_dict, run_pipeline

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="42,1,2")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs/splitting")
    parser.add_argument("--table", action="store_true", help="only print the table")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    os.chdir(ROOT)  # the example's relative paths (data_dir) are the project root's
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the stages' progress
    if not args.table:
        base = yaml.safe_load((ROOT / "examples/scratch-smollm2.yaml").read_text())
        for arm in ARMS:
            for seed in seeds:
                config = arm_config(base, arm, seed, args.out, seeds[0])
                run_pipeline(run_config_from_dict(config, f"{arm} seed {seed}"))
    print(table(args.out, seeds))


if __name__ == "__main__":
    main()
