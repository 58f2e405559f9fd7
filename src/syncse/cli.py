"""The `syncse` command. Subcommands stay thin: they parse flags into typed configs and call
the library, so everything here is also reachable from Python."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from syncse.data.triplets import TripletFiles
from syncse.errors import SyncseError
from syncse.evaluation.tasks import STS

if TYPE_CHECKING:
    from syncse.synthesis.summary import SynthesisSummary

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Train sentence embeddings on LLM-written triplets (SynCSE).",
)


def _echo(message: str) -> None:
    typer.echo(message, err=True)


class _TerminalHandler(logging.Handler):
    """syncse's log records as the CLI has always printed them: one line each on stderr
    (the current one, so a test's captured stream gets them), warnings as `warning: ...`."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.levelno >= logging.WARNING and not message.startswith("warning:"):
                message = f"warning: {message}"
            _echo(message)
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def terminal_logging() -> Iterator[None]:
    """Print the `syncse` loggers' INFO and above while a command runs (the library itself
    only logs; what a Python user sees is up to their logging configuration)."""
    logger = logging.getLogger("syncse")
    handler = _TerminalHandler()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


#: Settings named in library errors (as Python spells them) that are not simply their
#: flag: `if_changed` is two flags.
_FLAGS = {"if_changed='restart'": "--restart", "if_changed='append'": "--append"}


def flag(setting: str) -> str:
    """A config setting as the command line spells it: `resume=True` -> `--resume`,
    `data_dir` -> `--data-dir`."""
    if setting in _FLAGS:
        return _FLAGS[setting]
    name = setting.removesuffix("=True")
    return "--" + name.replace("_", "-")


_POOLING = Annotated[
    str | None,
    typer.Option(
        help="mean, weightedmean (position-weighted, for decoders), lasttoken, cls or max "
        "(default: the model's own; raw backbones: mean for encoders, weightedmean for decoders)."
    ),
]
_LAYERS = Annotated[
    int | None, typer.Option(help="Raw backbones: keep only the first K transformer layers.")
]


def _check_backbone_options(pooling: str | None, layers: int | None) -> None:
    from syncse.backbones import POOLING_MODES

    if pooling is not None and pooling not in POOLING_MODES:
        raise SyncseError(f"--pooling {pooling}: use {', '.join(POOLING_MODES)}")
    if layers is not None and layers < 1:
        raise SyncseError(f"--layers {layers}: must be at least 1")


@app.command()
def evaluate(
    model: Annotated[str, typer.Argument(help="Folder, hub id, or alias (minilm).")],
    tasks: Annotated[
        str,
        typer.Option(
            help="Comma-separated tasks or groups: sts, transfer, "
            "rerank, mteb-rerank, or names like STS12."
        ),
    ] = STS,
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
    pooling: _POOLING = None,
    layers: _LAYERS = None,
) -> None:
    """Evaluate an embedding model on STS, transfer and reranking tasks."""
    from syncse.data.files import check_writable
    from syncse.data.locations import resolve_data_dir
    from syncse.evaluation import EvaluationConfig, evaluate_model, write_results
    from syncse.evaluation.runner import results_markdown

    _check_backbone_options(pooling, layers)
    check_writable(out)  # now, not after the whole evaluation
    check_writable(out.with_suffix(".md"))
    config = EvaluationConfig(
        model=model,
        pooling=pooling,  # type: ignore[arg-type]
        layers=layers,
        data_dir=resolve_data_dir(data_dir),
        tasks=tasks.split(","),
        rerank_files=list(rerank_file or []),
        limit=limit,
        batch_size=batch_size,
        device=device,
    )
    results = evaluate_model(config)
    md = write_results(results, out)
    typer.echo(results_markdown(results))
    _echo(f"wrote {out} and {md}")


@app.command()
def compare(
    results: Annotated[list[Path], typer.Argument(help="Two or more results JSON files.")],
) -> None:
    """Print models side by side with deltas against the first."""
    from syncse.evaluation.compare import compare_markdown

    if len(results) < 2:
        raise SyncseError("compare: give two or more results files (the first is the baseline)")
    typer.echo(compare_markdown(results), nl=False)


@app.command()
def train(
    data: Annotated[
        Path,
        typer.Option(
            help="Triplets or (anchor, positive) pairs: .jsonl, .csv or a save_to_disk "
            "folder; columns sent0, sent1[, hard_neg] or anchor, positive[, negative]."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (a SentenceTransformer model).")],
    model: Annotated[
        str,
        typer.Option(
            help="Start model: sentence-transformers folder, any Hugging Face model folder or "
            "hub id (raw backbone), alias (minilm), lm:NAME (smollm2-135m, qwen2.5-0.5b, "
            "gemma-270m: a bundled GGUF language model), or static:NAME (static embeddings: "
            "a bundled LM's input embeddings, or glove-6b-50d; train with --lr 0.05)."
        ),
    ] = "minilm",
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
    max_seq_length: Annotated[
        int, typer.Option(help="Truncation while training; the saved model keeps its own.")
    ] = 32,
    pooling: _POOLING = None,
    layers: _LAYERS = None,
    dropout: Annotated[
        float | None,
        typer.Option(help="Raw backbones: dropout in the model config (unsup default 0.1)."),
    ] = None,
    augmentation: Annotated[
        str | None,
        typer.Option(
            help="unsup only: dropout (SimCSE) or word_deletion (default for static models)."
        ),
    ] = None,
    mlp_head: Annotated[
        bool, typer.Option(help="SimCSE's MLP head while training, dropped before saving.")
    ] = False,
    mlm_weight: Annotated[
        float, typer.Option(help="Auxiliary masked-LM loss weight (SynCSE: 0.1; BERT-like only).")
    ] = 0.0,
    guide_model: Annotated[
        str | None,
        typer.Option(
            help="GISTEmbed: an encoder that masks in-batch negatives it scores above the "
            "positive (likely false negatives)."
        ),
    ] = None,
    temperature: Annotated[float, typer.Option()] = 0.05,
    seed: Annotated[int, typer.Option()] = 42,
    eval_steps: Annotated[
        int | None,
        typer.Option(help="Evaluate on STS-B dev every N steps; keep the best checkpoint."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="SentEval folder for STS-B dev (default: $SYNCSE_DATA_DIR).")
    ] = None,
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
    if augmentation not in (None, "dropout", "word_deletion"):
        raise SyncseError(f"--augmentation {augmentation}: use 'dropout' or 'word_deletion'")
    _check_backbone_options(pooling, layers)
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
        pooling=pooling,  # type: ignore[arg-type]
        layers=layers,
        dropout=dropout,
        augmentation=augmentation,  # type: ignore[arg-type]
        mlp_head=mlp_head,
        mlm_weight=mlm_weight,
        guide_model=guide_model,
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
    summary = run_training(config)
    if summary is not None:
        dev = summary.dev_spearman
        _echo(
            f"saved {out} ({summary.global_step} steps, loss {summary.train_loss:.4f}"
            + (f", STS-B dev {dev:.2f})" if dev is not None else ")")
        )


synthesize_app = typer.Typer(no_args_is_help=True, help="Have an LLM write training triplets.")
app.add_typer(synthesize_app, name="synthesize")


_BACKEND = Annotated[
    str,
    typer.Option(
        help="llama-cpp (local GGUF, in-process), llama-server (local GGUF behind llama.cpp's "
        "batching server, which syncse starts and stops) or openai (any OpenAI-compatible "
        "server)."
    ),
]
_MODEL = Annotated[
    str | None,
    typer.Option(help="llama-cpp, llama-server: preset or .gguf path; openai: model name."),
]
_BASE_URL = Annotated[
    str | None, typer.Option(help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1.")
]
_KEY_ENV = Annotated[
    str | None,
    typer.Option(
        help="Name of the env variable holding the key for --base-url's server (default: "
        "OPENAI_API_KEY, sent to OpenAI's own API only)."
    ),
]
_CONCURRENCY = Annotated[
    int | None,
    typer.Option(
        help="Requests in flight: openai, HTTP requests (default 8); llama-cpp, model contexts "
        "sharing the CPU threads (default 1); llama-server, server slots decoded in one batch "
        "(default 2)."
    ),
]
_EXAMPLES = Annotated[int, typer.Option(help="Exemplars per call (k).")]
_TEMPERATURE = Annotated[
    float, typer.Option(help="Sampling temperature of the positive and negative calls.")
]
_MAX_TOKENS = Annotated[
    int, typer.Option(help="Most tokens per annotation answer (one positive or negative).")
]
_BLOCK_SIZE = Annotated[
    int,
    typer.Option(
        help="Consecutive inputs sharing one sampled prompt and exemplar set, so the LLM "
        "runtime reuses the cached prompt prefix (1 = fresh sampling per call, as the paper)."
    ),
]
_RESTART = Annotated[
    bool,
    typer.Option(help="--out was written with other settings or inputs: start a fresh file."),
]
_APPEND = Annotated[
    bool,
    typer.Option(help="--out was written with other settings or inputs: add to it anyway."),
]
_SEED = Annotated[int, typer.Option(help="Seeds prompt/exemplar sampling and the LLM.")]
_POOLS = Annotated[Path | None, typer.Option(help="Your own prompt/example pools (YAML).")]
_DATA_DIR = Annotated[
    Path | None,
    typer.Option(help="SentEval folder: its test sentences are kept out of the data."),
]
_EXCLUDE = Annotated[list[Path] | None, typer.Option(help="More sentences to keep out.")]
_NO_DECONTAMINATE = Annotated[bool, typer.Option("--no-decontaminate")]
_JUDGE = Annotated[
    bool,
    typer.Option(
        help="The LLM judges each finished row (one more call): kept only if the positive "
        "is entailed and the negative contradicts."
    ),
]
_NLI_JUDGE = Annotated[
    str | None,
    typer.Option(
        help="NLI judge for each finished row (two scored calls): kept only if the anchor "
        "entails the positive and contradicts the negative. 'writer' = the writing LLM, or a "
        "local preset / .gguf (e.g. qwen2.5-coder-1.5b)."
    ),
]
_NLI_REWRITES = Annotated[
    int,
    typer.Option(
        help="With --nli-judge: write the side the judge rejects again (another sampled "
        "template), up to this many times, before the row is rejected."
    ),
]
_AGREEMENT = Annotated[
    str | None,
    typer.Option(
        help="Keep only rows where this encoder puts the positive closer to the anchor than "
        "the negative (and not a near copy). A human-trained encoder makes the data no longer "
        "'from scratch'; reports say so."
    ),
]
_PRICE = Annotated[
    str | None, typer.Option(help="USD per 1M tokens 'IN,OUT' for the cost estimate.")
]
_TIMEOUT = Annotated[float, typer.Option(help="Seconds per request.")]
_MAX_RETRIES = Annotated[int, typer.Option(help="Retries of a failed request, with backoff.")]
_FORMAT = Annotated[str, typer.Option(help="jsonl, or csv to also export SimCSE CSV.")]


def _check_backend(kind: str) -> None:
    from syncse.synthesis.config import BACKEND_KINDS

    if kind not in BACKEND_KINDS:
        raise SyncseError(f"--backend {kind}: use {', '.join(BACKEND_KINDS)}")


def _backend_config(**settings: Any):
    """A BackendConfig from command-line values, its complaints as one-line errors."""
    from syncse.synthesis.config import BackendConfig

    try:
        return BackendConfig(**settings)
    except ValueError as exc:
        raise SyncseError(f"--backend {settings['kind']}: {exc}") from None


def _synthesis_config(options: dict[str, Any], limit: int | None = None):
    """Build a SynthesisConfig from the options both synthesize commands share.

    Typer needs each option in each command's signature, so the commands pass their
    `locals()` here rather than repeating eighteen arguments in two places.
    """
    from syncse.synthesis import FilterConfig, SamplingConfig, SynthesisConfig

    o = SimpleNamespace(**options)
    _check_backend(o.backend)
    price_pair = None
    if o.price:
        try:
            a, b = (float(x) for x in o.price.split(","))
        except ValueError as exc:
            raise SyncseError(
                f"--price {o.price}: expected INPUT,OUTPUT USD per 1M tokens"
            ) from exc
        price_pair = (a, b)
    if o.block_size < 1:
        raise SyncseError(f"--block-size {o.block_size}: must be at least 1")
    if o.max_tokens < 1:
        raise SyncseError(f"--max-tokens {o.max_tokens}: must be at least 1")
    if o.restart and o.append:
        raise SyncseError("--restart and --append: choose one")
    if o.backend == "openai" and o.base_url and not o.model:
        raise SyncseError(
            f"--model: name the model {o.base_url} serves (no default off OpenAI's own API)"
        )
    if o.nli_rewrites and not o.nli_judge:
        raise SyncseError(f"--nli-rewrites {o.nli_rewrites}: needs --nli-judge")
    if o.nli_rewrites < 0:
        raise SyncseError(f"--nli-rewrites {o.nli_rewrites}: must be 0 or more")
    filters = FilterConfig(
        exclude_files=list(o.exclude or []),
        decontaminate=not o.no_decontaminate,
        judge=o.judge,
        nli_judge=o.nli_judge,
        nli_rewrites=o.nli_rewrites,
        agreement_encoder=o.agreement_encoder,
        max_anchor_words=getattr(o, "max_anchor_words", FilterConfig.max_anchor_words),
    )
    from syncse.data.locations import data_dir_from_env

    data_dir = o.data_dir or data_dir_from_env()
    return SynthesisConfig(
        out=o.out,
        backend=_backend_config(
            kind=o.backend,
            model=o.model,
            base_url=o.base_url,
            api_key_env=o.api_key_env,
            concurrency=o.concurrency,
            timeout=o.timeout,
            max_retries=o.max_retries,
            price_per_million=price_pair,
        ),
        sampling=SamplingConfig(
            temperature=o.temperature, examples_per_call=o.examples, max_tokens=o.max_tokens
        ),
        filters=filters,
        pools=o.pools,
        seed=o.seed,
        data_dir=data_dir,
        limit=limit,
        if_changed="restart" if o.restart else "append" if o.append else "error",
        block_size=o.block_size,
    )


@contextlib.contextmanager
def _resumable(out: Path) -> Iterator[None]:
    """Ctrl-C during synthesis: one line saying the rows so far are kept and how to resume,
    exit code 130. Said here because typer turns a KeyboardInterrupt that leaves a command
    into a silent exit 130, so `main` never sees it."""
    try:
        yield
    except KeyboardInterrupt:
        kept = f"the rows so far are in {out}" if out.exists() else "no row was written yet"
        _echo(f"interrupted: {kept}; run the same command again to resume")
        raise typer.Exit(130) from None


def _report(summary: SynthesisSummary, fmt: str, out: Path) -> None:
    if fmt == "csv":
        from syncse.synthesis.export import export_csv

        csv_path = export_csv(out)
        _echo(f"wrote {csv_path}")
    if summary.wanted and summary.accepted < summary.wanted:
        _echo(f"note: {summary.accepted} of {summary.wanted} wanted; re-run to top up")
    _echo(
        f"{summary.accepted} rows in {out}; rejected: {summary.rejected or 'none'}; "
        f"LLM calls {summary.this_run.llm_calls}, cache hits "
        f"{summary.this_run.cache_hits}; summary in {TripletFiles(out).summary}"
    )
    nli = summary.checks.get("nli") or {}
    if nli.get("rows_judged"):
        low, high = nli["valid_rate_95"]
        line = (
            f"NLI judge ({nli['judge']}), this run's rows as first written: "
            f"valid {nli['valid_rate']:.1%} (95% {low:.1%}-{high:.1%}), "
            f"negative entailed {nli['negative_entailed_rate']:.1%} of {nli['rows_judged']}"
        )
        if nli.get("rewrites"):
            r = nli["rewrites"]
            line += f"; rewritten rows {r['rows_judged']}, {r['valid']} of them then valid"
        _echo(line)


@synthesize_app.command("partial")
def synthesize_partial_cmd(
    input: Annotated[
        str,
        typer.Option(
            help="Sentences: .txt (one per line), .csv/.jsonl "
            "(--column), or a hub dataset name (online)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output JSONL (resumable; one configuration each).")],
    column: Annotated[str | None, typer.Option(help="Column of the sentences (csv/jsonl).")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N inputs.")] = None,
    backend: _BACKEND = "llama-cpp",
    model: _MODEL = None,
    base_url: _BASE_URL = None,
    api_key_env: _KEY_ENV = None,
    concurrency: _CONCURRENCY = None,
    examples: _EXAMPLES = 5,
    block_size: _BLOCK_SIZE = 32,
    temperature: _TEMPERATURE = 1.0,
    max_tokens: _MAX_TOKENS = 80,
    seed: _SEED = 42,
    pools: _POOLS = None,
    data_dir: _DATA_DIR = None,
    exclude: _EXCLUDE = None,
    no_decontaminate: _NO_DECONTAMINATE = False,
    judge: _JUDGE = False,
    nli_judge: _NLI_JUDGE = None,
    nli_rewrites: _NLI_REWRITES = 0,
    agreement_encoder: _AGREEMENT = None,
    price: _PRICE = None,
    timeout: _TIMEOUT = 60.0,
    max_retries: _MAX_RETRIES = 6,
    format: _FORMAT = "jsonl",
    restart: _RESTART = False,
    append: _APPEND = False,
) -> None:
    """For each input sentence, the LLM writes an entailed positive and a hard negative."""
    from syncse.synthesis import synthesize_partial
    from syncse.synthesis.inputs import read_sentences

    config = _synthesis_config(locals(), limit=limit)
    sentences = read_sentences(input, column)
    with _resumable(out):
        summary = synthesize_partial(config, sentences)
    _report(summary, format, out)


@synthesize_app.command("scratch")
def synthesize_scratch_cmd(
    n: Annotated[int, typer.Option(help="Number of triplets wanted.")],
    out: Annotated[Path, typer.Option(help="Output JSONL (resumable; one configuration each).")],
    genres: Annotated[Path | None, typer.Option(help="Genre list, one per line.")] = None,
    topics: Annotated[Path | None, typer.Option(help="Topic list, one per line.")] = None,
    domain: Annotated[
        str | None, typer.Option(help="Let the LLM propose topics for this domain first.")
    ] = None,
    per_call: Annotated[int, typer.Option(help="Sentences written per generation call.")] = 10,
    generation_temperature: Annotated[
        float, typer.Option(help="Sampling temperature of the sentence-writing calls.")
    ] = 1.3,
    max_anchor_words: Annotated[
        int, typer.Option(help="Written sentences longer than this are not annotated.")
    ] = 32,
    split_sentences: Annotated[
        bool,
        typer.Option(
            help="Each sentence of a written line is an anchor (small models write "
            "paragraphs); --no-split-sentences: a line is one, as in the paper."
        ),
    ] = True,
    backend: _BACKEND = "llama-cpp",
    model: _MODEL = None,
    base_url: _BASE_URL = None,
    api_key_env: _KEY_ENV = None,
    concurrency: _CONCURRENCY = None,
    examples: _EXAMPLES = 5,
    block_size: _BLOCK_SIZE = 32,
    temperature: _TEMPERATURE = 1.0,
    max_tokens: _MAX_TOKENS = 80,
    seed: _SEED = 42,
    pools: _POOLS = None,
    data_dir: _DATA_DIR = None,
    exclude: _EXCLUDE = None,
    no_decontaminate: _NO_DECONTAMINATE = False,
    judge: _JUDGE = False,
    nli_judge: _NLI_JUDGE = None,
    nli_rewrites: _NLI_REWRITES = 0,
    agreement_encoder: _AGREEMENT = None,
    price: _PRICE = None,
    timeout: _TIMEOUT = 60.0,
    max_retries: _MAX_RETRIES = 6,
    format: _FORMAT = "jsonl",
    restart: _RESTART = False,
    append: _APPEND = False,
) -> None:
    """No corpus: the LLM writes sentences for sampled (genre, topic) pairs, then annotates."""
    from syncse.synthesis import synthesize_scratch

    if n < 1:
        raise SyncseError("--n must be at least 1")
    config = _synthesis_config(locals())
    with _resumable(out):
        summary = synthesize_scratch(
            config,
            n,
            genres,
            topics,
            domain,
            per_call,
            temperature=generation_temperature,
            split_sentences=split_sentences,
        )
    _report(summary, format, out)


@app.command("filter")
def filter_cmd(
    data: Annotated[
        Path,
        typer.Argument(help="Triplets or pairs (.jsonl, .csv or a save_to_disk folder)."),
    ],
    out: Annotated[Path, typer.Option(help="Kept rows (JSONL); rejected and summary beside it.")],
    judge: _JUDGE = False,
    nli_judge: _NLI_JUDGE = None,
    agreement_encoder: _AGREEMENT = None,
    max_positive_similarity: Annotated[
        float, typer.Option(help="Agreement: a positive this similar to its anchor is a copy.")
    ] = 0.98,
    backend: _BACKEND = "llama-cpp",
    model: _MODEL = None,
    base_url: _BASE_URL = None,
    api_key_env: _KEY_ENV = None,
    timeout: _TIMEOUT = 60.0,
    max_retries: _MAX_RETRIES = 6,
    seed: _SEED = 42,
    pools: _POOLS = None,
) -> None:
    """Check an existing triplets file with the LLM judge and/or an encoder's agreement."""
    from syncse.synthesis.config import FilterConfig
    from syncse.synthesis.refilter import filter_triplets

    _check_backend(backend)
    if backend == "openai" and base_url and not model:
        raise SyncseError(f"--model: name the model {base_url} serves")
    filters = FilterConfig(
        judge=judge,
        nli_judge=nli_judge,
        agreement_encoder=agreement_encoder,
        agreement_max_positive_similarity=max_positive_similarity,
    )
    backend_config = _backend_config(
        kind=backend,
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        timeout=timeout,
        max_retries=max_retries,
    )
    summary = filter_triplets(data, out, filters, backend_config, seed=seed, pools=pools)
    for note in summary.warnings:
        _echo(f"warning: {note}")
    _echo(
        f"kept {summary.kept} of {summary.rows} rows in {out}; "
        f"rejected: {summary.rejected or 'none'}; summary in {TripletFiles(out).summary}"
    )


@app.command()
def stats(
    data: Annotated[
        Path,
        typer.Argument(help="Triplets or pairs (.jsonl, .csv or a save_to_disk folder)."),
    ],
    model: Annotated[
        str | None, typer.Option(help="Encoder for similarity figures (e.g. minilm).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
    nli_judge: Annotated[
        str | None,
        typer.Option(
            help="Local LLM (preset or .gguf) that judges rows for the valid-triplet rate, "
            "e.g. qwen2.5-coder-1.5b; verdicts are cached beside the file."
        ),
    ] = None,
    nli_sample: Annotated[
        int, typer.Option(help="Rows the NLI judge labels (a fixed draw; 0 = every row).")
    ] = 200,
) -> None:
    """Counts, lengths, distinct-n, duplicates, templates, the valid-triplet rate by the NLI
    judge, and anchor similarities."""

    from syncse.synthesis.config import BackendConfig
    from syncse.synthesis.stats import stats_markdown, triplet_stats

    encoder = None
    if model:
        from syncse.models import load_encoder

        encoder = load_encoder(model)
    judge = BackendConfig(kind="llama-cpp", model=nli_judge) if nli_judge else None
    result = triplet_stats(data, encoder, judge, nli_sample or None)
    if json_out:
        from syncse.data.files import write_json_atomic

        write_json_atomic(json_out, result)
    typer.echo(stats_markdown(result, data))


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Run configuration (YAML); see examples/.")],
) -> None:
    """Synthesize -> train -> evaluate -> report; stages already up to date are skipped."""
    from syncse.pipeline import load_run_config, run_pipeline

    run_pipeline(load_run_config(config))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A `syncse run` output folder.")],
) -> None:
    """Rebuild report.md and the plots of a run folder from its files."""
    from syncse.pipeline.layout import RunLayout
    from syncse.pipeline.report import write_report

    stages = RunLayout(run_dir).stages
    if not stages.exists():
        raise SyncseError(f"{run_dir}: not a syncse run folder (no {stages.name})")
    _echo(f"wrote {write_report(run_dir)}")


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2, not a traceback."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        with terminal_logging():
            app()
    except SyncseError as exc:
        # The library names the settings to change as Python spells them; here, as flags.
        typer.echo(f"error: {exc.spelled(flag)}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        # A full disk, a read-only folder, a directory where a file belongs: the machine's
        # state, not a bug; name the file and the problem on one line.
        where = exc.filename or "an output or input file"
        typer.echo(f"error: {where}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
