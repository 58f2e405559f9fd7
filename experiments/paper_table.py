"""SynCSE's main table at a resolution that can answer it: arms on the same anchors, rows and
steps, several seeds each, from a start model that never saw sentence pairs.

    python experiments/paper_table.py --arms unsup,human-flickr --rows 2000 --steps 300
    python experiments/paper_table.py --arms none,unsup,human-flickr,partial-qwen2.5-coder-1.5b \
        --rows 150 --steps 300 --seeds 42,43,44
    python experiments/paper_table.py --table      # docs/experiments.md's table from table.json

Every arm trains with `syncse train` and is scored with `syncse evaluate` (STS 7 tasks and
Flickr8k caption reranking), run as subprocesses: the commands stored with each result are the
ones a user types. Results go to `docs/results/table.json` (one object per arm and seed, with
`arm`, `seed`, `rows`, `steps`, `start`, `sts_avg`, `tasks` and `command`); a re-run of the
same arm, seed, rows, steps and start replaces its row.

Arms (training data; the first `--rows` rows of each):
- `none`: the start model untrained.
- `unsup`: unsupervised SimCSE on the first N decontaminated Flickr8k train captions
  (`flickr8k_captions`); a static start uses word deletion (it has no dropout).
- `human-flickr`: the same captions, each with another caption of its image as the positive
  (`flickr8k_caption_pairs`; human paraphrases, in-batch negatives only).
- `human-sick`: SICK-train entailment pairs with a contradiction as hard negative.
- `partial-<generator>`: `datasets/flickr8k-partial-<generator>` (LLM-written, the same
  captions as anchors); `judged-<generator>`: its rows the NLI judge kept
  (`triplets.judged.jsonl` beside it, written by `syncse filter --nli-judge`).
- `pairs-<generator>`: the partial set's rows without their hard negatives (LLM positives,
  in-batch negatives only, like `human-flickr`): which part of the LLM rows does the work.
- `scratch-<generator>`: `datasets/scratch-<generator>` (LLM-written sentences and triplets);
  `judged-scratch-<generator>`: its rows the NLI judge kept (anchor, positive and negative).

Checkpoint selection is the same for every trained arm: STS-B dev every `steps/10` steps,
the best step kept (`syncse train --eval-steps`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from syncse.data.jsonl import count_jsonl

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "senteval"
DATASETS = ROOT / "datasets"
WORK = ROOT / "outputs" / "table"
TABLE = ROOT / "docs" / "results" / "table.json"
STS = ["STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"]
SYNCSE = str(Path(sys.executable).with_name("syncse"))


def arm_data(arm: str, rows: int) -> tuple[Path, str]:
    """The arm's training file (written under outputs/ when derived) and its objective."""
    from syncse.data.corpora import flickr8k_caption_pairs, flickr8k_captions
    from syncse.training.reference import sick_triplets, write_jsonl

    folder = WORK / "data"
    if arm == "unsup":
        rows_ = [{"sent0": c} for c in flickr8k_captions(DATA, rows)]
        return write_jsonl(rows_, folder / f"unsup-{rows}.jsonl"), "unsup"
    if arm == "human-flickr":
        pairs = flickr8k_caption_pairs(DATA, rows)
        rows_ = [{"sent0": a, "sent1": b} for a, b in pairs]
        return write_jsonl(rows_, folder / f"human-flickr-{rows}.jsonl"), "sup"
    if arm == "human-sick":
        return write_jsonl(sick_triplets(DATA)[:rows], folder / f"human-sick-{rows}.jsonl"), "sup"
    kind, _, generator = arm.partition("-")
    if kind == "pairs":
        source, _ = arm_data(f"partial-{generator}", rows)
        with source.open(encoding="utf-8") as handle:
            rows_ = [json.loads(line) for line in handle if line.strip()][:rows]
        pairs_ = [{"sent0": r["sent0"], "sent1": r["sent1"]} for r in rows_]
        return write_jsonl(pairs_, folder / f"{arm}-{rows}.jsonl"), "sup"
    # `judged-scratch-<generator>`: the judge-kept rows of a scratch set; `judged-<generator>`
    # those of the partial set.
    written = generator if generator.startswith("scratch-") else f"flickr8k-partial-{generator}"
    name = {"partial": written, "judged": written}
    file = {"judged": "triplets.judged.jsonl"}.get(kind, "triplets.jsonl")
    path = DATASETS / name.get(kind, arm) / file
    if kind not in ("partial", "judged", "scratch") or not path.exists():
        raise SystemExit(f"arm {arm}: no data ({path} missing)")
    return path, "sup"


def run_arm(arm: str, seed: int, args) -> dict:
    """Train (unless `none`) and evaluate one arm and seed; return its table row."""
    tag = f"{arm}-r{args.rows}-s{args.steps}-seed{seed}"
    folder = WORK / args.start.replace(":", "_") / tag
    command = (
        f"python experiments/paper_table.py --start {args.start} --arms {arm} "
        f"--rows {args.rows} --steps {args.steps} --seeds {seed} --batch-size {args.batch_size} "
        f"--lr {args.lr} --transfer-limit {args.transfer_limit}"
    )
    train: list[str] = []
    model = args.start
    rows = 0
    if arm != "none":
        data, objective = arm_data(arm, args.rows)
        rows = min(args.rows, count_jsonl(data))
        model = str(folder / "model")
        train = [
            SYNCSE, "train", "--data", str(data), "--out", model, "--model", args.start,
            "--objective", objective, "--max-steps", str(args.steps),
            "--batch-size", str(args.batch_size), "--lr", str(args.lr), "--seed", str(seed),
            "--limit", str(args.rows), "--eval-steps", str(max(1, args.steps // 10)),
            "--data-dir", str(DATA), "--overwrite",
        ]  # fmt: skip
        subprocess.run(train, check=True)
    results = folder / "results.json"
    evaluate = [
        SYNCSE, "evaluate", model, "--tasks", "sts,rerank", "--data-dir", str(DATA),
        "--out", str(results),
    ]  # fmt: skip
    subprocess.run(evaluate, check=True, stdout=subprocess.DEVNULL)
    scores = _scores(json.loads(results.read_text()))
    transfer = {}
    if args.transfer_limit:
        # Transfer on subsampled splits (`--limit` caps every split), kept apart from STS so
        # the STS figures stay on the full sets.
        transfer_out = folder / "transfer.json"
        subprocess.run(
            [SYNCSE, "evaluate", model, "--tasks", "transfer", "--data-dir", str(DATA),
             "--limit", str(args.transfer_limit), "--out", str(transfer_out)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        found = _scores(json.loads(transfer_out.read_text()))
        transfer = {
            "transfer": found,
            "transfer_avg": round(statistics.fmean(found.values()), 2),
            "transfer_limit": args.transfer_limit,
        }
    training = {}
    if train:
        summary = json.loads((Path(model) / "syncse_training.json").read_text())
        training = {"best_step": summary.get("best_step"), "dev": summary.get("dev_spearman")}
    return {
        "arm": arm,
        "seed": seed if train else None,
        "rows": rows,
        "steps": args.steps if train else 0,
        "start": args.start,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "sts_avg": round(statistics.fmean(scores[t] for t in STS), 2),
        "tasks": scores,
        **transfer,
        **training,
        "command": command,
    }


def _scores(results: dict) -> dict[str, float]:
    """Task -> headline score x100 (Spearman for STS, MAP for reranking, accuracy for
    transfer)."""
    found = {}
    for name, metrics in results["tasks"].items():
        key = next(k for k in ("spearman", "map", "accuracy") if k in metrics)
        found[name] = round(metrics[key], 2)
    return found


def save(rows: list[dict]) -> None:
    table = json.loads(TABLE.read_text()) if TABLE.exists() else []
    keys = ("arm", "seed", "rows", "steps", "start", "batch_size", "lr")
    for row in rows:
        table = [r for r in table if any(r.get(k) != row.get(k) for k in keys)]
        table.append(row)
    table.sort(key=lambda r: (r["start"], r["steps"], r["rows"], r["arm"], r["seed"] or 0))
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(json.dumps(table, indent=1) + "\n")


def markdown(table: list[dict]) -> str:
    """One line per (start, rows, steps, arm): seed mean, spread and each task's mean."""
    from syncse.evaluation.runner import display_name  # the runner registers the tasks

    groups: dict[tuple, list[dict]] = {}
    for row in table:
        key = (row["start"], row["batch_size"], row["lr"], row["steps"], row["arm"], row["rows"])
        groups.setdefault(key, []).append(row)
    tasks = [*STS, "Flickr8kCaptionRerank"]
    head = ["start", "steps", "arm", "rows", "seeds", "STS avg", "± sd"]
    lines = [
        "| " + " | ".join(head + [display_name(t) for t in tasks]) + " | transfer avg |",
        "|" + "---|" * (len(head) + len(tasks) + 1),
    ]
    for (start, batch, lr, steps, arm, rows), group in groups.items():
        avgs = [r["sts_avg"] for r in group]
        sd = statistics.stdev(avgs) if len(avgs) > 1 else 0.0
        cells = [
            f"`{start}` b{batch} lr{lr}",
            str(steps),
            arm,
            str(rows),
            str(len(group)),
            f"{statistics.fmean(avgs):.2f}",
            f"{sd:.2f}",
        ]
        cells += [f"{statistics.fmean(r['tasks'][t] for r in group):.2f}" for t in tasks]
        transfer = [r["transfer_avg"] for r in group if "transfer_avg" in r]
        cells.append(f"{statistics.fmean(transfer):.2f}" if len(transfer) == len(group) else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gap_closed(arm: list[float], unsup: list[float], human: list[float]) -> tuple[float, ...]:
    """The share of the unsup-to-human STS-avg gap an arm closes, (arm - unsup) / (human -
    unsup) on seed means, with a 95% interval from resampling each arm's seeds (2,000 draws,
    fixed seed)."""
    import random

    def share(a, u, h):
        gap = statistics.fmean(h) - statistics.fmean(u)
        return (statistics.fmean(a) - statistics.fmean(u)) / gap if gap else float("nan")

    rng = random.Random(0)
    draws = sorted(
        share(*(rng.choices(x, k=len(x)) for x in (arm, unsup, human))) for _ in range(2000)
    )
    return share(arm, unsup, human), draws[50], draws[1949]


def gap_lines(table: list[dict], reference: str = "human-flickr") -> list[str]:
    """For each LLM arm: the share of the unsup-to-`reference` gap it closes."""
    groups: dict[tuple, dict[str, list[float]]] = {}
    for row in table:
        if row["seed"] is None:
            continue
        key = (row["start"], row["batch_size"], row["lr"], row["steps"], row["rows"])
        groups.setdefault(key, {}).setdefault(row["arm"], []).append(row["sts_avg"])
    lines = []
    for (start, _, _, steps, rows), arms in groups.items():
        if "unsup" not in arms or reference not in arms:
            continue
        for arm, scores in arms.items():
            if arm.split("-")[0] not in ("partial", "judged", "pairs", "scratch"):
                continue
            mid, low, high = gap_closed(scores, arms["unsup"], arms[reference])
            lines.append(
                f"- `{start}`, {rows} rows, {steps} steps: **{arm}** closes {mid:.0%} of the "
                f"unsup-to-{reference} gap (95% interval over seeds {low:.0%} to {high:.0%})"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="static:smollm2-135m")
    parser.add_argument("--arms", default="none,unsup,human-flickr")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument(
        "--transfer-limit", type=int, default=1000,
        help="SentEval transfer on at most N examples per split (0: skip transfer)",
    )  # fmt: skip
    parser.add_argument("--table", action="store_true", help="print the table and stop")
    args = parser.parse_args()
    if args.table:
        table = json.loads(TABLE.read_text())
        print(markdown(table))
        print("\n".join(["", *gap_lines(table)]))
        return
    for arm in args.arms.split(","):
        seeds = [42] if arm == "none" else [int(s) for s in args.seeds.split(",")]
        for seed in seeds:
            row = run_arm(arm, seed, args)
            save([row])
            print(f"{arm} seed {seed}: STS avg {row['sts_avg']}", flush=True)


if __name__ == "__main__":
    main()
