"""Training throughput: syncse's trainer (SentenceTransformerTrainer + MNRL) against a minimal
plain-PyTorch loop computing the same loss on the same batches, measured in the same run.

    python bench/bench_training.py [--steps 20] [--repeats 3] [--batch-size 64]

all-MiniLM-L6-v2, max length 32, on SICK-train triplets (real sentences). Prints triplets per
second (median of repeats), the ratio to the plain loop (target >= 0.9), and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def plain_loop(rows, steps: int, batch_size: int) -> float:
    import torch

    from syncse.models import load_encoder

    model = load_encoder("minilm", device="cpu")
    model.max_seq_length = 32
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5)
    start = time.perf_counter()
    for step in range(steps):
        batch = [rows[(step * batch_size + i) % len(rows)] for i in range(batch_size)]
        emb = [
            model(model.preprocess([r[k] for r in batch]))["sentence_embedding"]
            for k in ("sent0", "sent1", "hard_neg")
        ]
        a = torch.nn.functional.normalize(emb[0], dim=-1)
        cands = torch.nn.functional.normalize(torch.cat(emb[1:]), dim=-1)
        loss = torch.nn.functional.cross_entropy(a @ cands.T / 0.05, torch.arange(len(batch)))
        loss.backward()
        opt.step()
        opt.zero_grad()
    return steps * batch_size / (time.perf_counter() - start)


def syncse_trainer(data: Path, steps: int, batch_size: int) -> float:
    from syncse.training import TrainingConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = train(
            TrainingConfig(
                data=data,
                out=Path(tmp) / "m",
                max_steps=steps,
                batch_size=batch_size,
                device="cpu",
                save_steps=10**6,
            ),
        )
        elapsed = time.perf_counter() - start
        runtime = next(h["train_runtime"] for h in summary.log_history if "train_runtime" in h)
    return steps * batch_size / runtime, steps * batch_size / elapsed


def main() -> None:
    import torch

    from syncse.data.locations import resolve_data_dir
    from syncse.training.reference import sick_triplets, write_jsonl

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    data_dir = resolve_data_dir(
        os.environ.get("SYNCSE_DATA_DIR") or str(Path(__file__).parents[2] / "shared/data")
    )
    rows = sick_triplets(data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_jsonl(rows, Path(tmp) / "sick.jsonl")
        plain, ours, ours_wall = [], [], []
        for _ in range(args.repeats):
            plain.append(plain_loop(rows, args.steps, args.batch_size))
            loop_rate, wall_rate = syncse_trainer(data, args.steps, args.batch_size)
            ours.append(loop_rate)
            ours_wall.append(wall_rate)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p, o, w = (statistics.median(x) for x in (plain, ours, ours_wall))
    print(
        f"all-MiniLM-L6-v2, batch {args.batch_size}, max length 32, {args.steps} steps, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"median of {args.repeats}\n"
    )
    print("| method | triplets/s (median) | runs | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| plain PyTorch loop (same loss, data, batch size) | {p:.1f} | "
        f"{', '.join(f'{x:.1f}' for x in plain)} | 1.00 |"
    )
    print(
        f"| syncse train (trainer loop) | {o:.1f} | {', '.join(f'{x:.1f}' for x in ours)} | "
        f"{o / p:.2f} |"
    )
    print(
        f"| syncse train (incl. model load, save, card) | {w:.1f} | "
        f"{', '.join(f'{x:.1f}' for x in ours_wall)} | {w / p:.2f} |"
    )
    print(f"\npeak RSS of the benchmark process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
