"""The `syncse` command. Subcommands stay thin: they parse flags into typed configs and call
the library, so everything here is also reachable from Python."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from syncse.errors import SyncseError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Train sentence embeddings on LLM-written triplets (SynCSE).",
)


def _echo(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
def evaluate(
    model: Annotated[str, typer.Argument(help="Folder, hub id, or alias (minilm).")],
    tasks: Annotated[
        str,
        typer.Option(
            help="Comma-separated tasks or groups: sts, transfer, "
            "rerank, mteb-rerank, or names like STS12."
        ),
    ] = "sts",
    data_dir: Annotated[
        Path | None,
        typer.Option(help="SentEval data/downstream folder (default: $SYNCSE_DATA_DIR)."),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Results JSON; a .md table is written beside it.")
    ] = Path("results.json"),
    rerank_file: Annotated[
        list[Path] | None,
        typer.Option(help="Extra MTEB-format reranking file (.jsonl/.parquet); repeatable."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(help="At most N examples per split (quick check; not comparable to papers)."),
    ] = None,
    batch_size: Annotated[int, typer.Option()] = 128,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, mps (default: auto).")] = None,
) -> None:
    """Evaluate an embedding model on STS, transfer and reranking tasks."""
    from syncse.evaluation import EvaluationConfig, evaluate_model, write_results
    from syncse.evaluation.datadir import resolve_data_dir
    from syncse.evaluation.runner import results_markdown

    config = EvaluationConfig(
        model=model,
        data_dir=resolve_data_dir(data_dir),
        tasks=tasks.split(","),
        rerank_files=list(rerank_file or []),
        limit=limit,
        batch_size=batch_size,
        device=device,
    )
    results = evaluate_model(config, log=_echo)
    md = write_results(results, out)
    typer.echo(results_markdown(results))
    _echo(f"wrote {out} and {md}")


@app.command()
def compare(
    results: Annotated[list[Path], typer.Argument(help="Two or more results JSON files.")],
) -> None:
    """Print models side by side with deltas against the first."""
    from syncse.evaluation.compare import compare_markdown

    typer.echo(compare_markdown(results), nl=False)


@app.command()
def train(
    data: Annotated[
        Path, typer.Option(help="Triplets: .jsonl or SimCSE .csv (sent0, sent1, hard_neg).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder (a SentenceTransformer model).")],
    model: Annotated[str, typer.Option(help="Start model: folder, hub id, or alias.")] = "minilm",
    objective: Annotated[
        str, typer.Option(help="sup (SynCSE) or unsup (SimCSE baseline).")
    ] = "sup",
    epochs: Annotated[float, typer.Option()] = 1.0,
    max_steps: Annotated[int, typer.Option(help="Overrides --epochs when > 0.")] = -1,
    batch_size: Annotated[int, typer.Option()] = 64,
    mini_batch_size: Annotated[
        int | None,
        typer.Option(
            help="Use the cached (GradCache) loss with this mini-batch: big batches, small memory."
        ),
    ] = None,
    lr: Annotated[float, typer.Option("--lr", "--learning-rate")] = 5e-5,
    warmup_ratio: Annotated[float, typer.Option()] = 0.0,
    max_seq_length: Annotated[int, typer.Option()] = 32,
    pooling: Annotated[str | None, typer.Option(help="mean, cls or max (default: keep).")] = None,
    temperature: Annotated[float, typer.Option()] = 0.05,
    seed: Annotated[int, typer.Option()] = 42,
    eval_steps: Annotated[
        int | None,
        typer.Option(help="Evaluate on STS-B dev every N steps; keep the best checkpoint."),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="SentEval folder for STS-B dev.")] = None,
    save_steps: Annotated[int, typer.Option()] = 200,
    resume: Annotated[bool, typer.Option(help="Continue from the last checkpoint.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Train into a non-empty folder.")] = False,
    bf16: Annotated[bool | None, typer.Option(help="Default: on for bf16 GPUs.")] = None,
    device: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N rows.")] = None,
) -> None:
    """Train an embedding model with (un)supervised SimCSE on triplets."""
    from syncse.training import TrainingConfig
    from syncse.training import train as run_training

    if objective not in ("sup", "unsup"):
        raise SyncseError(f"--objective {objective}: use 'sup' or 'unsup'")
    if pooling not in (None, "mean", "cls", "max"):
        raise SyncseError(f"--pooling {pooling}: use mean, cls or max")
    config = TrainingConfig(
        data=data,
        out=out,
        model=model,
        objective=objective,
        epochs=epochs,  # type: ignore[arg-type]
        max_steps=max_steps,
        batch_size=batch_size,
        mini_batch_size=mini_batch_size,
        learning_rate=lr,
        warmup_ratio=warmup_ratio,
        max_seq_length=max_seq_length,
        pooling=pooling,
        temperature=temperature,
        seed=seed,
        eval_steps=eval_steps,  # type: ignore[arg-type]
        data_dir=data_dir,
        save_steps=save_steps,
        resume=resume,
        overwrite=overwrite,
        bf16=bf16,
        device=device,
        limit=limit,
    )
    summary = run_training(config, log=_echo)
    if summary:
        dev = summary["dev_spearman"]
        _echo(
            f"saved {out} ({summary['global_step']} steps, loss {summary['train_loss']:.4f}"
            + (f", STS-B dev {dev:.2f})" if dev is not None else ")")
        )


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2, not a traceback."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except SyncseError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
