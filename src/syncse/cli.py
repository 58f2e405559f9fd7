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
