"""`report.md` and PNG plots for a run folder: the outcome at a glance.

Reads only files in the run folder (`RunLayout`: the evaluation results, the data statistics,
the synthesis and training summaries, the stage log), so a report can be rebuilt at any time
without recomputing anything: `syncse report RUN_DIR`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncse.data.files import read_json_or_none, write_text_atomic
from syncse.evaluation.results import EvaluationResults
from syncse.evaluation.tasks import CATEGORIES, STS, display_name, tasks_in
from syncse.pipeline.layout import RunLayout
from syncse.synthesis.summary import SynthesisSummary
from syncse.training.summary import TrainingSummary


def _load(path: Path) -> dict[str, Any] | None:
    return read_json_or_none(path)


def comparison_tables(start: EvaluationResults, trained: EvaluationResults) -> list[str]:
    lines: list[str] = []
    for category, title in CATEGORIES.items():
        names = tasks_in(category, trained.tasks)
        if not names:
            continue
        lines += [
            f"### {title}",
            "",
            "| task | start | trained | delta |",
            "| --- | ---: | ---: | ---: |",
        ]
        rows = [(display_name(n), start.score(n), trained.score(n)) for n in names]
        if len(names) > 1:
            rows.append(("**average**", start.average(category), trained.average(category)))
        for name, a, b in rows:
            delta = f"{b - a:+.2f}" if a is not None and b is not None else "n/a"
            a_text = f"{a:.2f}" if a is not None else "n/a"
            lines.append(f"| {name} | {a_text} | {b:.2f} | {delta} |")
        lines.append("")
    return lines


# Differences in the STS average smaller than this are not called a change. Retraining the
# same 1,000 triplets with three seeds moved the average by up to 0.26 points (std 0.08-0.13;
# docs/experiments.md, "Seed spread"): one run cannot tell a smaller difference from chance.
STS_NOISE = 0.3


def outcome(start_avg: float, trained_avg: float) -> str:
    """The report's first line. Honest about noise: a +0.02 is not an improvement."""
    delta = trained_avg - start_avg
    if delta >= STS_NOISE:
        verdict = "improved the STS average"
    elif delta <= -STS_NOISE:
        verdict = "lowered the STS average"
    else:
        verdict = "left the STS average about where it was"
    return (
        f"**Outcome:** training {verdict}: {start_avg:.2f} -> {trained_avg:.2f} ({delta:+.2f}; "
        f"differences under {STS_NOISE} are within what another training seed can change)."
    )


def _pyplot():
    """matplotlib is the optional `report` extra: without it the report has tables only."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_scores(start: EvaluationResults, trained: EvaluationResults, target: Path) -> Path | None:
    plt = _pyplot()
    if plt is None:
        return None

    names = tasks_in(STS, trained.tasks)
    if not names:
        return None
    labels = [display_name(n) for n in names] + ["avg"]
    a = [start.score(n) or 0 for n in names] + [start.average(STS) or 0]
    b = [trained.score(n) or 0 for n in names] + [trained.average(STS) or 0]
    x = range(len(labels))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar([i - 0.2 for i in x], a, width=0.4, label=f"start ({start.model})", color="#999")
    ax.bar([i + 0.2 for i in x], b, width=0.4, label="trained", color="#2a7")
    for i, (u, v) in enumerate(zip(a, b, strict=True)):
        ax.annotate(f"{v - u:+.1f}", (i + 0.2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("Spearman x100")
    ax.set_ylim(min(a + b) - 10, max(a + b) + 5)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("STS: start vs trained model")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def plot_training(history: list[dict[str, Any]], target: Path) -> Path | None:
    plt = _pyplot()
    if plt is None:
        return None

    loss = [(h["step"], h["loss"]) for h in history if "loss" in h and "step" in h]
    dev = [
        (h["step"], 100 * v)
        for h in history
        for k, v in h.items()
        if k.endswith("spearman_cosine") and "step" in h
    ]
    if not loss and not dev:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    if loss:
        ax.plot(*zip(*loss, strict=True), color="#c44", label="training loss")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
    if dev:
        other = ax.twinx()
        other.plot(*zip(*dev, strict=True), "o-", color="#27a", label="STS-B dev")
        other.set_ylabel("STS-B dev Spearman x100")
    ax.set_title("Training")
    fig.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def write_report(run_dir: Path) -> Path:
    layout = RunLayout(Path(run_dir))
    run_dir = layout.root
    plots = layout.plots
    plots.mkdir(exist_ok=True)
    start = EvaluationResults.load(layout.evaluation("start"))
    trained = EvaluationResults.load(layout.evaluation("trained"))
    stats = _load(layout.stats)
    synthesis = SynthesisSummary.load(layout.triplets)
    training = TrainingSummary.load(layout.model_dir)
    stages = _load(layout.stages) or {}

    lines = [f"# syncse run: {run_dir.name}", ""]
    if start and trained:
        sts_a, sts_b = start.average(STS), trained.average(STS)
        if sts_a is not None and sts_b is not None:
            lines += [outcome(sts_a, sts_b), ""]
        if trained.limit:
            lines += [f"Evaluated on at most {trained.limit} examples per split.", ""]
        lines += ["## Evaluation", ""] + comparison_tables(start, trained)
        if plot_scores(start, trained, plots / "scores.png"):
            lines += [f"![STS start vs trained]({layout.relative(plots / 'scores.png')})", ""]
    else:
        lines += [
            "## Evaluation",
            "",
            "Not run: no evaluation data was found. Set `data_dir:` in the config or "
            "SYNCSE_DATA_DIR to a SentEval data/downstream folder and run again.",
            "",
        ]

    lines += ["## Training data", ""]
    if synthesis:
        run = synthesis.this_run
        rejected = ", ".join(
            f"{count} {reason.replace('_', ' ')}"
            for reason, count in sorted(synthesis.rejected.items(), key=lambda kv: -kv[1])
        )
        rejected_file = layout.relative(layout.triplet_files.rejected)
        lines += [
            f"Written by `{synthesis.backend}`: {synthesis.accepted} rows accepted; "
            f"rejected: {rejected or 'none'} (each listed in `{rejected_file}`)."
            f" Last run: {run.llm_calls} LLM calls, "
            f"{run.cache_hits} cache hits, {run.prompt_tokens + run.completion_tokens} "
            "tokens.",
            "",
        ]
        lines += [f"**Warning:** {w}." for w in synthesis.warnings]
        lines += [""] if synthesis.warnings else []
    if stats:
        from syncse.synthesis.stats import stats_markdown

        table = stats_markdown(stats, layout.triplets).splitlines()[2:]
        lines += table + [""]

    if training:
        cfg = training.config
        dev = training.dev_spearman
        backbone = [
            f"{cfg[k]} {label}"
            for k, label in (("layers", "layers"), ("pooling", "pooling"))
            if cfg.get(k) is not None
        ]
        start = f"`{cfg['model']}`" + (f" ({', '.join(backbone)})" if backbone else "")
        lines += [
            "## Training",
            "",
            f"{cfg['objective']} SimCSE from {start}: {training.global_step} steps, "
            f"batch {cfg['batch_size']}, lr {cfg['learning_rate']}, temperature "
            f"{cfg['temperature']}; final training loss {training.train_loss:.4f}"
            + (f"; STS-B dev {dev:.2f}" if dev is not None else "")
            + ".",
            "",
        ]
        if cfg.get("guide_model"):
            lines += [
                f"**Warning:** a guide encoder (`{cfg['guide_model']}`) masked in-batch false "
                "negatives (GISTEmbed); if it is human-trained, this model did not learn from "
                "LLM-written data alone.",
                "",
            ]
        if plot_training(training.log_history, plots / "training.png"):
            lines += [f"![training curve]({layout.relative(plots / 'training.png')})", ""]

    if stages:
        lines += [
            "## Stages",
            "",
            "| stage | state | seconds | finished |",
            "| --- | --- | ---: | --- |",
        ]
        for name, entry in stages.items():
            lines.append(
                f"| {name} | {entry['state']} | {entry.get('seconds') or ''} | {entry['at']} |"
            )
        lines.append("")
    lines.append(
        f"Configuration: `{layout.relative(layout.config_copy)}`; model: "
        f"`{layout.relative(layout.model_dir)}/` (loads with `SentenceTransformer`)."
    )
    target = layout.report
    write_text_atomic(target, "\n".join(lines) + "\n")
    return target
