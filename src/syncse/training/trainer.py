"""Supervised and unsupervised SimCSE on sentence-transformers' trainer.

The loss is MultipleNegativesRankingLoss with scale = 1/temperature: InfoNCE over cosine
similarities where each anchor's candidates are every positive and hard negative in the batch,
exactly SimCSE's supervised objective. Using SentenceTransformerTrainer (a Hugging Face
Trainer) gives data-parallel training under `torchrun`/`accelerate launch`, checkpoints,
resume and bf16 without code of our own.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from syncse.data.triplets import ROLES, TripletData, load_triplets
from syncse.errors import SyncseError
from syncse.progress import progress_enabled
from syncse.training.config import TrainingConfig
from syncse.training.summary import TRAINING_SUMMARY_FILE, TrainingSummary

logger = logging.getLogger(__name__)

DEV_METRIC = "eval_sts-dev_spearman_cosine"

#: Word deletion's per-word probability. Chosen on STS-B dev (never a test set): for static
#: starts, unsupervised SimCSE's dev score rose with the deletion rate over 0.1, 0.3, 0.5 and
#: 0.7 (GloVe 50-d at lr 0.05: 50.96 at 0.3, 54.87 at 0.5, 57.14 at 0.7; SmolLM2's embeddings
#: at lr 5e-3: 59.95 at 0.1 to 64.12 at 0.7; docs/experiments.md). A bag of words needs views
#: that share few words to learn which words go together; SimCSE's "delete one word" (~0.1)
#: suits a transformer better.
WORD_DELETION_P = 0.7


def build_dataset(data: TripletData, objective: str):
    from datasets import Dataset

    if objective == "unsup":
        # Unsupervised SimCSE: the sentence paired with itself; dropout (active in training
        # mode) makes the two encodings differ. Distinct sentences only: a repeat in the
        # batch would be a false negative.
        sentences = list(dict.fromkeys(data.anchors))
        return Dataset.from_dict({role: sentences for role in ROLES[:2]})
    # Pairs have no negative column: each anchor's candidates are then the batch's positives
    # (in-batch negatives only), which MultipleNegativesRankingLoss does with two columns.
    return Dataset.from_dict(data.columns())


def resolve_augmentation(config: TrainingConfig, model) -> str | None:
    """The augmentation unsupervised SimCSE will use (None for supervised training)."""
    from syncse.static import is_static

    if config.objective != "unsup":
        return None
    if config.augmentation == "dropout" and is_static(model):
        raise SyncseError(
            f"{{}} dropout: model {config.model} is a static model and has no dropout; "
            "use word_deletion",
            "augmentation",
        )
    if config.augmentation is not None:
        return config.augmentation
    return "word_deletion" if is_static(model) else "dropout"


def delete_words(sentences: list[str], seed: int, p: float = WORD_DELETION_P) -> list[str]:
    """Each sentence with each word dropped with probability `p`, at least one word kept,
    reproducibly for a seed (so a resumed run sees the same views)."""
    import random

    rng = random.Random(seed)
    out = []
    for sentence in sentences:
        words = sentence.split()
        kept = [w for w in words if rng.random() >= p]
        out.append(" ".join(kept) if kept else (rng.choice(words) if words else sentence))
    return out


def augment(dataset, method: str | None, seed: int):
    """Unsupervised SimCSE's two views under word deletion: anchor and positive are the same
    sentence with independently deleted words. Dropout needs no change to the data."""
    if method != "word_deletion":
        return dataset
    from datasets import Dataset

    sentences = dataset[ROLES[0]]
    return Dataset.from_dict(
        {
            ROLES[0]: delete_words(sentences, seed),
            ROLES[1]: delete_words(sentences, seed + 1),
        }
    )


def set_max_length(model, length) -> None:
    """Set the truncation length, where the model has one: a static model (an embedding bag)
    reads every token and has no setting."""
    from syncse.static import is_static

    if not is_static(model):
        model.max_seq_length = length


def build_loss(model, config: TrainingConfig) -> torch.nn.Module:
    from sentence_transformers.sentence_transformer import losses

    scale = 1.0 / config.temperature
    # gather_across_devices: under DDP every rank scores against all ranks' batches, as
    # SimCSE's distributed training does; a no-op in a single process.
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if config.guide_model:
        # sentence-transformers' GISTEmbed losses, at SimCSE's temperature (their default 0.01
        # is GISTEmbed's own recipe).
        from syncse.models import load_encoder

        guide = load_encoder(config.guide_model, device=str(model.device))
        if config.mini_batch_size:
            return losses.CachedGISTEmbedLoss(
                model,
                guide,
                temperature=config.temperature,
                mini_batch_size=config.mini_batch_size,
                gather_across_devices=distributed,
            )
        return losses.GISTEmbedLoss(
            model, guide, temperature=config.temperature, gather_across_devices=distributed
        )
    if config.mini_batch_size:
        return losses.CachedMultipleNegativesRankingLoss(
            model,
            scale=scale,
            mini_batch_size=config.mini_batch_size,
            gather_across_devices=distributed,
        )
    return losses.MultipleNegativesRankingLoss(
        model, scale=scale, gather_across_devices=distributed
    )


def build_dev_evaluator(config: TrainingConfig):
    """STS-B dev, scored on the model as it will be saved (`ShippedFormEvaluator`), so the
    scores logged while training are the saved model's: the best step's is `dev_spearman`."""
    if config.eval_steps is None:
        return None
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    class ShippedFormEvaluator(EmbeddingSimilarityEvaluator):
        """Scores the model at its saved maximum length (`shipped_length`; training truncates
        to `max_seq_length`) and without SimCSE's MLP head (`head`, dropped before saving).
        Both are set by `train`, which knows them; the model is put back as it was."""

        shipped_length: int | None = None
        head: torch.nn.Module | None = None

        def __call__(self, model, *args, **kwargs):
            length = model.max_seq_length
            last = len(model) - 1
            head_on = self.head is not None and model[last] is self.head
            if head_on:
                del model[last]
            set_max_length(model, self.shipped_length or length)
            try:
                return super().__call__(model, *args, **kwargs)
            finally:
                set_max_length(model, length)
                if head_on:
                    model.append(self.head)

    from syncse.data.locations import resolve_data_dir
    from syncse.data.senteval import load_stsb_dev

    try:
        data_dir = resolve_data_dir(config.data_dir)  # --data-dir, else $SYNCSE_DATA_DIR
    except SyncseError as exc:
        # The settings of the cause stay settings, so the CLI names both as flags.
        raise SyncseError(
            "{} scores STS-B dev: " + exc.template, "eval_steps", *exc.settings
        ) from None
    pairs = load_stsb_dev(data_dir)
    return ShippedFormEvaluator(
        pairs.left,
        pairs.right,
        (pairs.gold / 5.0).tolist(),
        name="sts-dev",
        batch_size=128,
        write_csv=False,
    )


def load_model(config: TrainingConfig):
    """The start model, as the training config describes it (layers, pooling, dropout).

    Unsupervised SimCSE's only augmentation is dropout: a backbone whose config has none (the
    SmolLM2 decoder, say) would see two identical views and learn nothing, so it gets 0.1
    unless `dropout` is set.
    """
    from syncse.backbones import BackboneOptions, is_sentence_transformers_folder, model_dropout
    from syncse.models import load_encoder, resolve_encoder

    options = BackboneOptions(layers=config.layers, pooling=config.pooling, dropout=config.dropout)
    model = load_encoder(config.model, device=config.device, options=options)
    backbone = getattr(model[0], "auto_model", None)
    # Only a raw backbone takes a dropout setting; a sentence-transformers folder keeps its own.
    if (
        config.objective == "unsup"
        and config.augmentation != "word_deletion"
        and config.dropout is None
        and backbone is not None
        and not is_sentence_transformers_folder(Path(resolve_encoder(config.model)))
        and model_dropout(backbone.config) == 0.0
    ):
        logger.info(
            "model %s has no dropout, which unsupervised SimCSE needs: training with dropout "
            "0.1 (set dropout, --dropout, to choose)",
            config.model,
        )
        options = BackboneOptions(config.layers, config.pooling, 0.1)
        model = load_encoder(config.model, device=config.device, options=options)
    return model


def add_mlp_head(model) -> None:
    """SimCSE's MLP pooler: dense + tanh over the pooled vector, for training only."""
    from sentence_transformers.sentence_transformer.modules import Dense

    dim = model.get_embedding_dimension()
    model.append(Dense(dim, dim, activation_function=torch.nn.Tanh()))


class _StepCounter(TrainerCallback):
    """Counts optimizer steps run in *this* process, so a resumed run can prove it did not
    start over (global_step alone looks the same either way)."""

    steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1


def _prepare_out(config: TrainingConfig) -> Path:
    out = Path(config.out)
    checkpoints = out / "checkpoints"
    if out.exists() and any(out.iterdir()) and not (config.resume or config.overwrite):
        raise SyncseError(
            f"{out}: output folder is not empty; set {{}} to continue a run or {{}} to start over",
            "resume=True",
            "overwrite=True",
        )
    out.mkdir(parents=True, exist_ok=True)
    return checkpoints


def _expected_steps(config: TrainingConfig, dataset) -> int:
    if config.max_steps > 0:
        return config.max_steps
    return int(math.ceil(len(dataset) / config.batch_size) * config.epochs)


def train(config: TrainingConfig, model: Any = None) -> TrainingSummary | None:
    """Train a sentence-embedding model with (un)supervised SimCSE and save it to `config.out`.

    Supervised SimCSE (`objective="sup"`) learns from triplets (anchor, positive, hard
    negative) or pairs (anchor, positive; in-batch negatives only); unsupervised SimCSE
    (`objective="unsup"`) from the anchors alone. The saved folder loads with
    `SentenceTransformer(config.out)`; its model card ends with the data, the settings and
    the dev score.

    Args:
        config: the data (`config.data`: a file, a `save_to_disk` folder, a
            `datasets.Dataset` or a list of rows; see `load_triplets`), the start model and
            the hyperparameters.
        model: an already loaded start model (a `SentenceTransformer`) to train in place of
            loading `config.model`, for callers that hold one (notebooks, tests,
            benchmarks); it must match `config`'s layers and pooling, which only describe
            it then.

    Returns:
        The `TrainingSummary` (also saved as `syncse_training.json` in the folder), whose
        `model` is the trained `SentenceTransformer`, ready to encode. Ranks other than 0 of
        a distributed run return None (rank 0 saves and reports).

    Raises:
        SyncseError: bad data (naming file and line), or `config.out` not empty without
            `resume=True` or `overwrite=True`.

    Example:
        >>> from syncse import TrainingConfig, train
        >>> summary = train(TrainingConfig(data="data.jsonl", out="models/mine", max_steps=50))
        >>> summary.model.encode(["A man is playing a guitar."]).shape
        (1, 384)
    """
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    from transformers.trainer_utils import get_last_checkpoint

    data = load_triplets(config.data, need_pairs=config.objective == "sup")
    if config.limit is not None:
        data = data.head(config.limit)
    dataset = build_dataset(data, config.objective)
    if len(dataset) < 2:
        raise SyncseError(f"{data.source}: need at least 2 rows for in-batch negatives")
    evaluator = build_dev_evaluator(config)  # a missing dev set fails before the output exists
    checkpoints = _prepare_out(config)
    model = model if model is not None else load_model(config)
    augmentation = resolve_augmentation(config, model)
    dataset = augment(dataset, augmentation, config.seed)
    # Train on short inputs (SynCSE's 32 tokens) but save and evaluate at the start model's
    # own length: truncation at 32 is a training economy, not a property of the model.
    start_max_length = model.max_seq_length
    set_max_length(model, config.max_seq_length)
    if config.mlp_head:
        add_mlp_head(model)
    if evaluator is not None:
        evaluator.shipped_length = start_max_length
        evaluator.head = model[len(model) - 1] if config.mlp_head else None
    loss = build_loss(model, config)
    if config.mlm_weight > 0:
        from syncse.training.losses import AuxiliaryMLMLoss

        loss = AuxiliaryMLMLoss(model, loss, weight=config.mlm_weight)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    use_bf16 = (
        config.bf16
        if config.bf16 is not None
        else (torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    )
    args = SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # transformers v5: a float < 1 is a ratio
        seed=config.seed,
        data_seed=config.seed,
        bf16=use_bf16,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy="steps" if evaluator else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.eval_steps or config.save_steps,
        save_total_limit=2,
        load_best_model_at_end=evaluator is not None,
        metric_for_best_model=DEV_METRIC if evaluator else None,
        greater_is_better=True,
        # About ten loss points for a short run (the report's curve), every 10 steps otherwise.
        logging_steps=max(
            1, min(10, config.eval_steps or 10, _expected_steps(config, dataset) // 10)
        ),
        report_to="none",
        # gloo for CPU-only data parallelism under torchrun; setting it in a single process
        # would make accelerate expect a process group.
        ddp_backend="gloo" if distributed and not torch.cuda.is_available() else None,
        # accelerate only sets up CPU data parallelism (MULTI_CPU) when told to use the CPU;
        # without it, torchrun ranks train independently and silently diverge.
        use_cpu=config.device == "cpu" or (distributed and not torch.cuda.is_available()),
        dataloader_drop_last=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=not progress_enabled(),
    )
    counter = _StepCounter()
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=loss,
        evaluator=evaluator,
        callbacks=[counter],
    )
    resume_from = None
    if config.resume and checkpoints.exists():
        resume_from = get_last_checkpoint(str(checkpoints))
        if resume_from:
            logger.info("resuming from %s", resume_from)
    if config.resume and resume_from is None:
        logger.info("no checkpoint found; starting from the beginning")
    result = trainer.train(resume_from_checkpoint=resume_from)
    if not trainer.is_world_process_zero():
        return None
    if config.mlp_head:
        del model[len(model) - 1]  # SimCSE evaluates and ships the encoder without its MLP
    set_max_length(model, start_max_length)
    dev_score = None
    if evaluator is not None:
        dev_score = evaluator(model)[evaluator.primary_metric] * 100
    summary = TrainingSummary(
        config=config.to_json() | {"augmentation": augmentation},
        data=data.stats()
        | {
            "path": data.source,
            "columns": list(data.roles),
            "training_examples": len(dataset),
        },
        global_step=trainer.state.global_step,
        resumed_from=resume_from,
        steps_this_run=counter.steps,
        train_loss=result.training_loss,
        dev_spearman=dev_score,
        best_step=trainer.state.best_global_step if evaluator is not None else None,
        log_history=trainer.state.log_history,
    )
    out = Path(config.out)
    model.save(str(out))
    summary.save(out)
    _append_card(out, summary)
    # Checkpoints (with pickled optimizer and RNG states) exist to resume a killed run; the
    # folder a user ships should hold safetensors and configs only.
    shutil.rmtree(checkpoints, ignore_errors=True)
    summary.model = model
    return summary


def _append_card(out: Path, summary: TrainingSummary) -> None:
    """Add syncse's own section (data stats, configuration, dev score) to the model card that
    sentence-transformers wrote, so the folder documents how it was made."""
    card = out / "README.md"
    cfg = summary.config
    stats = summary.data
    dev = summary.dev_spearman
    lines = [
        "",
        "## syncse training",
        "",
        f"- objective: {'supervised' if cfg['objective'] == 'sup' else 'unsupervised'} SimCSE, "
        f"temperature {cfg['temperature']}, start model `{cfg['model']}`",
        f"- data: `{Path(stats['path']).name}`, {stats['rows']} rows "
        f"({stats['distinct_anchors']} distinct anchors), mean words "
        + ", ".join(f"{k} {v}" for k, v in stats["mean_words"].items()),
        *(
            ["- pairs without hard negatives: in-batch negatives only"]
            if cfg["objective"] == "sup" and "negative" not in stats.get("columns", ROLES)
            else []
        ),
        f"- steps: {summary.global_step}, batch {cfg['batch_size']}, lr {cfg['learning_rate']}, "
        f"max length {cfg['max_seq_length']}, seed {cfg['seed']}",
        *([f"- augmentation: {cfg['augmentation']}"] if cfg.get("augmentation") else []),
        f"- final training loss: {summary.train_loss:.4f}",
        *(
            [f"- in-batch false negatives masked by the guide model `{cfg['guide_model']}`"]
            if cfg.get("guide_model")
            else []
        ),
        f"- STS-B dev Spearman x100: {dev:.2f}" if dev is not None else "- STS-B dev: not run",
        "",
        f"Full configuration and log: `{TRAINING_SUMMARY_FILE}`.",
        "",
    ]
    previous = card.read_text(encoding="utf-8") if card.exists() else "# Model\n"
    card.write_text(previous + "\n".join(lines), encoding="utf-8")
