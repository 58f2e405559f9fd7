"""How well does each local LLM judge NLI? Its verdicts against SICK's human labels.

    python experiments/nli_judge_sick.py                 # every local preset, trial + train
    python experiments/nli_judge_sick.py --models qwen2.5-coder-1.5b --train-limit 1000
    python experiments/nli_judge_sick.py --table         # the table from the JSON

SICK trial (500 pairs) and train (4,500; `--train-limit` draws a fixed subsample) carry human
entailment / neutral / contradiction labels. SICK test is an evaluation set of the embedding
models (SICK-R) and is never read here. The judge's prompt and demonstrations are fixed in
`syncse.synthesis.nli`; the only thing fitted is a log-space bias per label (the model's label
prior), on SICK *trial* only, by grid search for trial accuracy (`--fit` writes it into
`src/syncse/synthesis/nli_calibration.json`, which the judge then uses). SICK train is the held-out
check: its figures are reported raw and with the trial-fitted bias. Verdicts go through a
response cache in `$SYNCSE_CACHE_DIR/nli-judge/`, so an interrupted run resumes and a re-run is
free.

Results go to docs/results/nli_judge_sick.json: per model and split, 3-way accuracy, per-class
recall and precision, the confusion matrix (rows: human label, columns: judge), and seconds per
verdict (wall clock on this machine; cached verdicts excluded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "results" / "nli_judge_sick.json"
MODELS = ["smollm2-135m", "gemma-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


def data_dir() -> Path:
    from syncse.data.locations import data_dir_from_env, resolve_data_dir

    return resolve_data_dir(data_dir_from_env() or ROOT.parent / "shared/data")


def agreement(human: list[str], judged: list[str | None]) -> dict:
    """Accuracy, per-class recall/precision and the confusion matrix (unreadable verdicts
    count as wrong and get their own column)."""
    from syncse.synthesis.nli import LABELS

    columns = [*LABELS, "none"]
    matrix = {h: dict.fromkeys(columns, 0) for h in LABELS}
    for h, j in zip(human, judged, strict=True):
        matrix[h][j or "none"] += 1
    total = len(human)
    correct = sum(matrix[label][label] for label in LABELS)
    recall = {label: matrix[label][label] / max(1, sum(matrix[label].values())) for label in LABELS}
    precision = {
        label: matrix[label][label] / max(1, sum(matrix[h][label] for h in LABELS))
        for label in LABELS
    }
    majority = max(LABELS, key=lambda label: sum(matrix[label].values()))
    return {
        "pairs": total,
        "accuracy": correct / total,
        "majority_baseline": sum(matrix[majority].values()) / total,
        "recall": recall,
        "precision": precision,
        "confusion": matrix,
    }


async def judge_split(model: str, premises: list[str], hypotheses: list[str]):
    from syncse.data.locations import cache_dir
    from syncse.synthesis.backends import BackendConfig, create_backend
    from syncse.synthesis.caller import CachedCaller
    from syncse.synthesis.nli import NLIJudge
    from syncse.synthesis.store import ResponseCache

    backend = create_backend(BackendConfig(kind="llama-cpp", model=model))
    await backend.check()
    cache = ResponseCache(cache_dir() / "nli-judge" / f"{model}.sqlite")
    caller = CachedCaller(backend, cache)
    judge = NLIJudge(caller.ask)
    verdicts = []
    started = time.time()
    try:
        for i, (p, h) in enumerate(zip(premises, hypotheses, strict=True)):
            verdicts.append(await judge.label(p, h))
            if (i + 1) % 100 == 0:
                logging.info("%s: %d/%d judged", model, i + 1, len(premises))
    finally:
        await backend.aclose()
        cache.close()
    seconds = time.time() - started
    per_call = seconds / caller.usage.calls if caller.usage.calls else None
    return verdicts, per_call, caller.usage


def biased_labels(verdicts, bias: dict[str, float]) -> list[str | None]:
    import math

    from syncse.synthesis.nli import LABELS

    out = []
    for v in verdicts:
        if v.probabilities is None:
            out.append(v.label)
            continue
        score = {k: math.log(max(v.probabilities[k], 1e-12)) + bias.get(k, 0.0) for k in LABELS}
        out.append(max(score, key=score.get))
    return out


def fit_bias(verdicts, human: list[str]) -> dict[str, float]:
    """The label bias (entailment and contradiction, relative to neutral) with the best
    accuracy on these pairs: a grid of quarter steps in [-4, 4]."""
    import itertools

    grid = [i / 4 for i in range(-16, 17)]
    best = (-1.0, {})
    for be, bc in itertools.product(grid, grid):
        bias = {"entailment": be, "neutral": 0.0, "contradiction": bc}
        labels = biased_labels(verdicts, bias)
        accuracy = sum(a == b for a, b in zip(labels, human, strict=True)) / len(human)
        if accuracy > best[0] + 1e-9:
            best = (accuracy, bias)
    return best[1]


CALIBRATION = ROOT / "src" / "syncse" / "synthesis" / "nli_calibration.json"


def run(models: list[str], train_limit: int | None, fit: bool) -> None:
    from syncse.data.sampling import subsample_indices
    from syncse.data.senteval import load_sick_nli

    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    calibration = json.loads(CALIBRATION.read_text()) if CALIBRATION.exists() else {}
    for model in models:
        bias = None
        for split in ("trial", "train"):
            pairs = load_sick_nli(data_dir(), split)
            limit = train_limit if split == "train" else None
            index = subsample_indices(len(pairs.labels), limit, 0)
            premises = [pairs.premises[i] for i in index]
            hypotheses = [pairs.hypotheses[i] for i in index]
            human = [pairs.labels[i] for i in index]
            verdicts, per_call, usage = asyncio.run(judge_split(model, premises, hypotheses))
            found = agreement(human, [v.label for v in verdicts])
            if split == "trial" and fit:
                bias = fit_bias(verdicts, human)
                calibration[model] = {
                    "bias": bias,
                    "fitted_on": f"SICK trial ({len(human)} pairs)",
                    "command": f"python experiments/nli_judge_sick.py --models {model} --fit",
                }
                CALIBRATION.write_text(json.dumps(calibration, indent=1, sort_keys=True) + "\n")
            if bias is not None:
                found["bias"] = bias
                found["calibrated"] = agreement(human, biased_labels(verdicts, bias))
                if split == "trial":
                    found["calibrated"]["note"] = "fitted on these pairs (optimistic)"
            found["seconds_per_verdict"] = per_call
            found["method"] = sorted({v.method for v in verdicts})
            found["prompt_tokens_per_verdict"] = (
                usage.prompt_tokens / usage.calls if usage.calls else None
            )
            found["command"] = f"python experiments/nli_judge_sick.py --models {model}" + (
                f" --train-limit {train_limit}" if train_limit else ""
            )
            results.setdefault(model, {})[split] = found
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(json.dumps(results, indent=1) + "\n")
            logging.info("%s %s: accuracy %.3f", model, split, found["accuracy"])
    print(table(results))


def _row(model: str, split: str, what: str, r: dict, spv) -> str:
    rec, prec = r["recall"], r["precision"]
    return (
        f"| {model} | {split} | {what} | {r['pairs']} | **{100 * r['accuracy']:.1f}** | "
        f"{100 * r['majority_baseline']:.1f} | "
        f"{100 * rec['entailment']:.0f} / {100 * rec['neutral']:.0f} / "
        f"{100 * rec['contradiction']:.0f} | "
        f"{100 * prec['entailment']:.0f} / {100 * prec['contradiction']:.0f} | "
        f"{f'{spv:.2f}' if spv else 'cached'} |"
    )


def table(results: dict) -> str:
    lines = [
        "| judge | SICK split | decision | pairs | accuracy | majority class | "
        "recall E / N / C | precision E / C | s per verdict |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for model, splits in results.items():
        for split, r in splits.items():
            spv = r.get("seconds_per_verdict")
            lines.append(_row(model, split, "argmax", r, spv))
            if "calibrated" in r:
                what = "bias fitted here" if split == "trial" else "bias from trial"
                lines.append(_row(model, split, what, r["calibrated"], spv))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--train-limit", type=int, default=1000)
    parser.add_argument("--table", action="store_true")
    parser.add_argument(
        "--fit", action="store_true", help="fit the label bias on SICK trial and ship it"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.table:
        print(table(json.loads(OUT.read_text())))
        return
    run(args.models.split(","), args.train_limit, args.fit)


if __name__ == "__main__":
    main()
