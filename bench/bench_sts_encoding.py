"""Time the STS suite (7 tasks, 18,850 pairs) for all-MiniLM-L6-v2: syncse's evaluator, which
encodes each distinct sentence once in large batches, against a naive loop that encodes every
pair separately (`model.encode([a, b])` per pair), measured in the same run.

    python bench/bench_sts_encoding.py [--repeats 3] [--naive-pairs 1500 | --naive-pairs 0]

The naive loop is slow (minutes for the full suite), so by default it times a fixed sample of
pairs from every task and scales to the suite's pair count (marked "extrapolated");
`--naive-pairs 0` runs it over every pair. Prints a markdown table of medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from syncse.data.locations import resolve_data_dir
    from syncse.evaluation import EvaluationConfig, evaluate_model
    from syncse.evaluation.runner import build_tasks
    from syncse.models import load_encoder

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-pairs", type=int, default=1500)
    args = parser.parse_args()
    data_dir = resolve_data_dir(args.data_dir or str(Path(__file__).parents[2] / "shared/data"))
    model = load_encoder("minilm", device="cpu")
    config = EvaluationConfig(model="minilm", data_dir=data_dir, tasks=["sts"])

    pairs: list[tuple[str, str]] = []
    for task in build_tasks(config):
        for pair_set in task.pair_sets().values():
            pairs += list(zip(pair_set.left, pair_set.right, strict=True))

    ours = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        evaluate_model(config, model=model)
        ours.append(time.perf_counter() - start)

    sample = pairs
    if args.naive_pairs and args.naive_pairs < len(pairs):
        idx = np.random.default_rng(0).choice(len(pairs), args.naive_pairs, replace=False)
        sample = [pairs[i] for i in idx]
    naive = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for a, b in sample:
            model.encode([a, b], convert_to_numpy=True, show_progress_bar=False)
        naive.append((time.perf_counter() - start) * len(pairs) / len(sample))

    ours_med, naive_med = statistics.median(ours), statistics.median(naive)
    label = "" if sample is pairs else f" (extrapolated from {len(sample)} pairs)"
    print(
        f"STS suite: {len(pairs)} pairs; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; median of {args.repeats} runs\n"
    )
    print("| method | seconds (median) | runs | speed-up |")
    print("| --- | --- | --- | --- |")
    print(
        f"| naive: encode each pair separately{label} | {naive_med:.1f} | "
        f"{', '.join(f'{x:.1f}' for x in naive)} | 1.00x |"
    )
    print(
        f"| syncse: distinct sentences once, batched | {ours_med:.1f} | "
        f"{', '.join(f'{x:.1f}' for x in ours)} | {naive_med / ours_med:.2f}x |"
    )


if __name__ == "__main__":
    main()
