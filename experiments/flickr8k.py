"""The paper's experiment on Flickr8k, scaled to a CPU, and the local-LLM preset comparison.

    python experiments/flickr8k.py --rows 200 --arms none,unsup,partial,scratch,sick
    python experiments/flickr8k.py --rows 200 --arms partial --presets qwen2.5-0.5b,gemma-270m
    python experiments/flickr8k.py --rows 200 --table       # print the tables from finished runs
    python experiments/flickr8k.py --rows 1000 --arms partial --scaling 250,500   # scaling curve
    python experiments/flickr8k.py --rows 1000 --arms partial,unsup --seeds 43,44  # seed spread

Arms, all starting from all-MiniLM-L6-v2 with the same number of training rows and steps:
`none` (no training), `unsup` (unsupervised SimCSE on the captions), `partial-<preset>`
(SynCSE-partial: the local LLM annotates the captions), `scratch-<preset>` (SynCSE-scratch: the
LLM writes its own sentences), `sick` (human-labelled reference: SICK-train triplets);
`--scaling` adds, for each synthesized arm, the first N rows of its data: `scale<N>-<preset>`
(partial) and `scale<N>-scratch-<preset>` (scratch), one pass each; with `--scaling-steps S`
every point trains S steps instead (`scale<N>x<S>-...`), which separates "more data" from
"more steps";
`--seeds 43,44` adds `seed<S>-<arm>`: each arm's data trained again with another seed.
Captions: one per Flickr8k *train* image, decontaminated against the STS/SICK test sentences,
shuffled with a fixed seed. Each arm is a `syncse run` folder under --out (resumable: re-run the
command after an interruption). Evaluation: STS (7 tasks) and Flickr8kCaptionRerank (MAP);
`--transfer` adds the transfer tasks (slow on CPU).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

from syncse.pipeline.layout import RunLayout
from syncse.synthesis.summary import SynthesisSummary
from syncse.training.summary import TrainingSummary

ROOT = Path(__file__).resolve().parents[1]
#: Published triplet sets (small JSONL files with a dataset card each): an arm whose set is
#: here trains on it instead of synthesizing, so every table reruns on a fresh clone.
DATASETS = ROOT / "datasets"
STS = ["STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"]


def data_dir() -> Path:
    from syncse.data.locations import data_dir_from_env, resolve_data_dir

    return resolve_data_dir(data_dir_from_env() or ROOT.parent / "shared/data")


def captions(n: int) -> list[str]:
    from syncse.data.corpora import flickr8k_captions

    return flickr8k_captions(data_dir(), n)


def dataset_name(arm: str) -> str:
    """`partial-<preset>` -> `flickr8k-partial-<preset>`; `scratch-<preset>` stays (no corpus)."""
    return f"flickr8k-{arm}" if arm.startswith("partial-") else arm


def published_triplets(arm: str, rows: int) -> Path | None:
    """The repository's copy of an arm's data, if it covers the `rows` inputs asked for."""
    folder = DATASETS / dataset_name(arm)
    meta = folder / "dataset.json"
    if not meta.exists():
        return None
    if json.loads(meta.read_text())["inputs"] < rows:
        return None
    return folder / "triplets.jsonl"


def start_model(args) -> dict:
    """The start model and how a raw backbone becomes an encoder (training section keys)."""
    extra = {}
    if args.layers:
        extra["layers"] = args.layers
    if args.pooling:
        extra["pooling"] = args.pooling
    return extra


def arm_config(arm: str, args, out: Path, inputs: Path) -> dict:
    if arm.startswith("seed"):  # seed<S>-<arm>: <arm>'s training data, another training seed
        seed, _, base = arm.removeprefix("seed").partition("-")
        config = arm_config(base, args, out, inputs)
        config["out"] = str(out / arm)
        config["training"]["seed"] = int(seed)
        if config.pop("synthesis", None) is not None:
            source = RunLayout(out / base).triplets
            source = published_triplets(base, args.rows) or source
            if not source.exists():
                raise SystemExit(f"{arm}: run the {base} arm first ({source} missing)")
            config["triplets"] = str(source)
        return config
    rows, fixed_steps = args.rows, ""
    if arm.startswith("scale"):  # scale<N>[x<STEPS>]-<source>: the first N rows of its data
        size, _, source_arm = arm.removeprefix("scale").partition("-")
        if not source_arm.startswith("scratch-"):  # scale<N>-<preset> means partial data
            source_arm = f"partial-{source_arm}"
        size, _, fixed_steps = size.partition("x")
        rows = int(size)
    # One pass over the rows (or --epochs passes), unless the arm fixes the steps (then small
    # sets are cycled); --steps fixes them for every arm.
    steps = int(fixed_steps) if fixed_steps else math.ceil(rows / args.batch_size * args.epochs)
    steps = args.steps or steps
    tasks = ["sts", "rerank"] + (["transfer"] if args.transfer else [])
    config: dict = {
        "out": str(out / arm),
        "model": args.model,
        "data_dir": str(data_dir()),
        "training": {
            "objective": "sup",
            "max_steps": steps,
            "batch_size": args.batch_size,
            "learning_rate": args.lr,
            "limit": rows,
            "seed": 42,
        }
        | start_model(args),
        "evaluation": {"tasks": tasks},
    }
    backend: dict = {"kind": "llama-cpp"}
    if args.llm_threads:
        backend["n_threads"] = args.llm_threads
    sampling = {"examples_per_call": 3, "max_tokens": 48}
    # The published datasets were written with per-call sampling (block size 1, the paper's);
    # kept so that their cards' commands reproduce them.
    block = {"block_size": 1}
    if arm == "unsup":
        from syncse.training.reference import write_jsonl

        rows = [{"sent0": s} for s in inputs.read_text().splitlines()]
        config["triplets"] = str(write_jsonl(rows, out / "captions.jsonl"))
        config["training"]["objective"] = "unsup"
    elif arm == "sick":
        from syncse.training.reference import sick_triplets, write_jsonl

        config["triplets"] = str(write_jsonl(sick_triplets(data_dir()), out / "sick.jsonl"))
    elif arm.startswith("scale"):
        source = published_triplets(source_arm, args.rows) or RunLayout(out / source_arm).triplets
        if not source.exists():
            raise SystemExit(f"{arm}: run the {source_arm} arm first ({source} missing)")
        config["triplets"] = str(source)
    elif (published := published_triplets(arm, args.rows)) and not args.synthesize_only:
        config["triplets"] = str(published)
    elif arm.startswith("partial-"):
        config["synthesis"] = {
            "mode": "partial",
            "input": str(inputs),
            "limit": args.rows,  # the first --rows captions, so a larger file extends a run
            "backend": backend | {"model": arm.removeprefix("partial-")},
            "sampling": sampling,
        } | block
    elif arm.startswith("scratch-"):
        config["synthesis"] = {
            "mode": "scratch",
            "n": args.rows,
            "backend": backend | {"model": arm.removeprefix("scratch-")},
            "sampling": sampling,
            # Written lines whole, as when the published scratch set was written.
            "split_sentences": False,
        } | block
    else:
        raise SystemExit(f"unknown arm {arm}")
    return config


def run_arm(arm: str, args, out: Path, inputs: Path) -> None:
    from syncse.evaluation import EvaluationConfig, evaluate_model
    from syncse.evaluation.runner import write_results
    from syncse.pipeline import run_config_from_dict, run_pipeline

    if arm == "none":
        target = RunLayout(out / "none").evaluation("trained")
        tasks = ["sts", "rerank"] + (["transfer"] if args.transfer else [])
        # Every arm's `syncse run` scores the same start model with the same settings first
        # (eval/start.json): reuse it rather than spend another evaluation.
        from syncse.evaluation.tasks import expand_task_names

        wanted = {
            "model": args.model,
            "tasks": set(expand_task_names(tasks)),
            "limit": None,
            **{"layers": None, "pooling": None} | start_model(args),
        }
        for start in sorted(RunLayout(arm_dir).evaluation("start") for arm_dir in out.iterdir()):
            if not start.exists():
                continue
            found = json.loads(start.read_text())
            found["tasks"] = set(found["tasks"])
            if not target.exists() and all(found.get(k) == v for k, v in wanted.items()):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(start, target)
        if not target.exists():
            tasks = ["sts", "rerank"] + (["transfer"] if args.transfer else [])
            config = EvaluationConfig(
                model=args.model, data_dir=data_dir(), tasks=tasks, **start_model(args)
            )
            write_results(evaluate_model(config), target)
        return
    # Built directly (no YAML text in between); `syncse run` saves it as the arm's config.yaml.
    config = run_config_from_dict(arm_config(arm, args, out, inputs), origin=f"arm {arm}")
    if args.synthesize_only:
        if config.synthesis is not None:
            from syncse.pipeline.run import StageLog, synthesize_stage

            config.out.mkdir(parents=True, exist_ok=True)
            synthesize_stage(config, StageLog(config.layout.stages), print)
        return
    run_pipeline(config)


def run_transfer(arm: str, args, out: Path, limit: int | None) -> None:
    """Transfer tasks for an arm's model, apart from its `syncse run` (which scores STS and
    reranking): on 2 CPU cores the full transfer group costs ~15 min a model, so `limit`
    subsamples each split (the same examples for every arm) to make a per-arm figure affordable."""
    from syncse.evaluation import EvaluationConfig, evaluate_model
    from syncse.evaluation.runner import write_results

    target = RunLayout(out / arm).evaluation(f"transfer-{limit or 'all'}")
    if target.exists():
        return
    options = start_model(args) if arm == "none" else {}
    model = args.model if arm == "none" else str(RunLayout(out / arm).model_dir)
    config = EvaluationConfig(
        model=model, data_dir=data_dir(), tasks=["transfer"], limit=limit, **options
    )
    write_results(evaluate_model(config), target)


def transfer_avg(out: Path, arm: str, res: dict) -> str:
    if res["summary"].get("transfer"):
        return f"{res['summary']['transfer']['avg']:.2f}"
    found = sorted(RunLayout(out / arm).evaluations.glob("transfer-*.json"))
    if not found:
        return "not run"
    sub = json.loads(found[-1].read_text())
    limit = sub.get("limit")
    return f"{sub['summary']['transfer']['avg']:.2f}" + (f" (≤{limit}/split)" if limit else "")


def tables(out: Path, arms: list[str]) -> str:
    lines = [
        "| arm | rows | steps | STS12 | STS13 | STS14 | STS15 | STS16 | STS-B | SICK-R | avg "
        "| Flickr8k MAP | transfer avg |",
        "|---|---:|---:|" + "---:|" * 10,
    ]
    for arm in arms:
        layout = RunLayout(out / arm)
        result_path = layout.evaluation("trained")
        if not result_path.exists():
            lines.append(f"| {arm} | not run |" + " |" * 11)
            continue
        res = json.loads(result_path.read_text())
        info = TrainingSummary.load(layout.model_dir)
        rows = info.data["training_examples"] if info else 0
        steps = info.global_step if info else 0
        cells = [f"{res['tasks'][t]['spearman']:.2f}" for t in STS]
        cells.append(f"**{res['summary']['sts']['avg']:.2f}**")
        rerank = res["tasks"].get("Flickr8kCaptionRerank")
        cells.append(f"{rerank['map']:.2f}" if rerank else "n/a")
        cells.append(transfer_avg(out, arm, res))
        lines.append(f"| {arm} | {rows} | {steps} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_table(out: Path, arms: list[str], seeds: list[str]) -> str:
    """STS average per arm over its training seeds (42, the arm itself, and the extra ones):
    the spread says which differences between arms one seed can resolve."""
    lines = [
        "| arm | seeds | STS avg per seed | mean | std | MAP mean |",
        "|---|---|---|---:|---:|---:|",
    ]
    for arm in arms:
        found = [(42, out / arm)] + [(int(s), out / f"seed{int(s)}-{arm}") for s in seeds]
        trained = [(seed, RunLayout(folder).evaluation("trained")) for seed, folder in found]
        results = [(seed, json.loads(path.read_text())) for seed, path in trained if path.exists()]
        if len(results) < 2:
            lines.append(f"| {arm} | {len(results)} run | | | | |")
            continue
        sts = [r["summary"]["sts"]["avg"] for _, r in results]
        maps = [r["tasks"]["Flickr8kCaptionRerank"]["map"] for _, r in results]
        lines.append(
            f"| {arm} | {','.join(str(s) for s, _ in results)} | "
            f"{' / '.join(f'{v:.2f}' for v in sts)} | {statistics.mean(sts):.2f} | "
            f"{statistics.stdev(sts):.2f} | {statistics.mean(maps):.2f} |"
        )
    return "\n".join(lines)


def preset_table(out: Path, presets: list[str]) -> str:
    lines = [
        "| preset | inputs | accepted | parse failures | positive copies input | negative "
        "copies input | positive closer | distinct-2 (pos/neg) | tok/s | rows/min |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for preset in presets:
        layout = RunLayout(out / f"partial-{preset}")
        summary = SynthesisSummary.load(layout.triplets)
        if summary is None:
            lines.append(f"| {preset} | not run |" + " |" * 8)
            continue
        stats = json.loads(layout.stats.read_text())
        answers = summary.this_run.answers
        total = sum(answers.values()) or 1
        failures = sum(v for k, v in answers.items() if k.endswith(("unparseable", "refusal")))

        def copy_rate(kind: str, answers=answers) -> str:
            n = sum(v for k, v in answers.items() if k.startswith(kind))
            return f"{answers.get(f'{kind}:copies_input', 0) / max(n, 1):.1%}"

        inputs = summary.accepted + sum(summary.rejected.values())
        run_info = summary.this_run
        seconds = max(run_info.seconds, 1e-9)
        # Calls answered from the cache (an earlier, smaller run) took no time: count only
        # the inputs whose calls reached the model.
        fresh = run_info.llm_calls / max(run_info.llm_calls + run_info.cache_hits, 1)
        tokens = run_info.prompt_tokens + run_info.completion_tokens
        lines.append(
            f"| {preset} | {inputs} | {summary.accepted} | {failures / total:.1%} | "
            f"{copy_rate('positive')} | {copy_rate('negative')} | "
            f"{stats['similarity']['positive_closer_rate']:.1%} | "
            f"{stats['distinct_2']['positive']:.2f}/{stats['distinct_2']['negative']:.2f} | "
            f"{tokens / seconds:.0f} | {inputs * fresh * 60 / seconds:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--arms", default="none,unsup,partial,scratch,sick")
    parser.add_argument("--presets", default="smollm2-135m")
    parser.add_argument(
        "--model",
        default="minilm",
        help="start model of every arm: minilm, a folder, or a raw backbone such as "
        "lm:smollm2-135m (with --layers/--pooling)",
    )
    parser.add_argument("--layers", type=int, default=None, help="raw backbones: first K layers")
    parser.add_argument("--pooling", default=None, help="raw backbones: pooling mode")
    parser.add_argument(
        "--epochs", type=float, default=1.0, help="passes over --rows (sets the steps)"
    )
    parser.add_argument("--steps", type=int, default=None, help="fixed steps for every arm")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="copy each synthesized arm's triplets into datasets/ with a dataset card",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--transfer", action="store_true")
    parser.add_argument(
        "--transfer-limit",
        type=int,
        default=None,
        help="also score transfer per arm, each split subsampled to N (0: every example)",
    )
    parser.add_argument(
        "--scaling",
        default="",
        help="data-scaling curve: comma-separated row counts (<= --rows) trained on the first N "
        "rows of each synthesized arm's data, one epoch each (steps = N / batch size)",
    )
    parser.add_argument(
        "--scaling-steps",
        type=int,
        default=None,
        help="train every scaling point this many steps (cycling small sets) instead of one "
        "pass, so that data size is the only thing that changes along the curve",
    )
    parser.add_argument(
        "--seeds",
        default="",
        help="comma-separated extra training seeds: each arm but `none` is trained again on the "
        "same data with each seed (arm seed<S>-<arm>), to measure seed-to-seed spread",
    )
    parser.add_argument(
        "--synthesize-only",
        action="store_true",
        help="only write the synthesized arms' triplets (no training or evaluation)",
    )
    parser.add_argument(
        "--llm-threads",
        type=int,
        default=None,
        help="CPU threads for the local LLM (two single-thread runs side by side waste less "
        "than one two-thread run spinning beside other work)",
    )
    parser.add_argument("--out", default=None)
    parser.add_argument("--table", action="store_true", help="only print the tables")
    args = parser.parse_args()
    default_out = f"outputs/flickr8k-{args.rows}"
    if args.model != "minilm":
        slug = args.model.replace("lm:", "").replace("/", "_")
        default_out = f"outputs/raw-{slug}-L{args.layers or 'all'}-{args.rows}"
    out = Path(args.out or default_out)
    out.mkdir(parents=True, exist_ok=True)
    presets = args.presets.split(",")
    arms: list[str] = []
    for arm in args.arms.split(","):
        arms += [f"{arm}-{p}" for p in presets] if arm in ("partial", "scratch") else [arm]
    synthesized = [a for a in arms if a.startswith(("partial-", "scratch-"))]
    steps = f"x{args.scaling_steps}" if args.scaling_steps else ""
    for size in filter(None, args.scaling.split(",")):
        if int(size) > args.rows:
            raise SystemExit(f"--scaling {size}: more than --rows {args.rows}")
        arms += [f"scale{int(size)}{steps}-" + a.removeprefix("partial-") for a in synthesized]
    base_arms = [a for a in arms if a != "none"]
    arms += [f"seed{int(s)}-{a}" for s in filter(None, args.seeds.split(",")) for a in base_arms]
    inputs = out / "captions.txt"
    if not inputs.exists():
        inputs.write_text("\n".join(captions(args.rows)) + "\n")
    if args.publish:
        from publish import publish_arm

        for arm in synthesized:
            print(f"published {publish_arm(arm, out, args, DATASETS / dataset_name(arm))}")
        return
    if not args.table:
        for arm in arms:
            print(f"=== {arm}", flush=True)
            run_arm(arm, args, out, inputs)
            if args.transfer_limit is not None:
                run_transfer(arm, args, out, args.transfer_limit or None)
    if args.synthesize_only:
        return
    print(tables(out, arms))
    if args.seeds:
        print()
        print(seed_table(out, base_arms, args.seeds.split(",")))
    if any(a.startswith("partial-") for a in arms):
        print()
        print(
            preset_table(
                out, [a.removeprefix("partial-") for a in arms if a.startswith("partial-")]
            )
        )


if __name__ == "__main__":
    main()
