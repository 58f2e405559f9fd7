"""Typed training configuration, shared by the CLI, the pipeline and tests."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal


@dataclass
class TrainingConfig:
    """What `train` trains on, from which start model, with which hyperparameters.

    Defaults follow the SynCSE recipe where it fits a CPU: temperature 0.05, max length 32,
    lr 5e-5, seed 42; batch 64 rather than 512 (use `mini_batch_size` for a large batch in
    bounded memory). Each field is documented where it is declared; the `syncse train` flags
    are the same names with dashes (`max_steps` is `--max-steps`).

    Example:
        >>> from syncse import TrainingConfig
        >>> config = TrainingConfig(data="data.jsonl", out="models/mine", max_steps=100)
        >>> config.temperature, config.objective
        (0.05, 'sup')
    """

    #: Training rows: a .jsonl/.csv file or a `save_to_disk` folder (a path), or in memory a
    #: `datasets.Dataset` or a list of rows; triplets or (anchor, positive) pairs, with
    #: SimCSE's or sentence-transformers' column names (`syncse.data.triplets.load_triplets`).
    data: Path | Any
    #: The folder the trained model is saved to (a `SentenceTransformer` folder).
    out: Path
    model: str = "minilm"
    objective: Literal["sup", "unsup"] = "sup"
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 64
    #: Set to use CachedMultipleNegativesRankingLoss (GradCache): the batch's in-batch
    #: negatives at the memory cost of `mini_batch_size`.
    mini_batch_size: int | None = None
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.0
    #: Truncation while training only (SynCSE's 32 tokens); the saved model keeps the start
    #: model's own maximum length, since a user's sentences may be longer.
    max_seq_length: int = 32
    #: None keeps a sentence-transformers folder's pooling, or picks the raw backbone's default
    #: (mean for encoders, position-weighted mean for decoders).
    pooling: Literal["mean", "weightedmean", "lasttoken", "cls", "max"] | None = None
    #: Raw backbones only: keep the first K transformer layers.
    layers: int | None = None
    #: Raw backbones only: dropout probability written into the model config. None keeps the
    #: config's, except that unsupervised SimCSE on a model without dropout gets 0.1 (dropout
    #: is its only augmentation; without it the two views are identical).
    dropout: float | None = None
    #: Unsupervised SimCSE's augmentation. "dropout" (SimCSE's): the sentence twice, the
    #: model's dropout makes the two views differ. "word_deletion": each view drops each word
    #: with probability `WORD_DELETION_P` (one word always stays), which SimCSE's paper
    #: compares against. None: dropout, except for static models (`static:` names), which
    #: have no dropout. Supervised training ignores it.
    augmentation: Literal["dropout", "word_deletion"] | None = None
    #: SimCSE's MLP head (dense + tanh) over the pooled vector, trained and then dropped before
    #: saving, as SimCSE evaluates without it.
    mlp_head: bool = False
    #: Weight of the auxiliary masked-language-model loss on the anchors (SynCSE: 0.1); masked
    #: LM backbones only (BERT, RoBERTa). 0 = off.
    mlm_weight: float = 0.0
    temperature: float = 0.05
    #: Guided false-negative masking (GISTEmbed): this encoder (alias, folder or hub id) judges
    #: the in-batch candidates, and any it scores above the anchor's own positive is masked out
    #: of the loss, since it is probably another true paraphrase. Usually human-trained, so
    #: the report says one took part. None = plain in-batch negatives.
    guide_model: str | None = None
    seed: int = 42
    #: Evaluate on STS-B dev every N steps and keep the best checkpoint (needs `data_dir`).
    eval_steps: int | None = None
    data_dir: Path | None = None
    save_steps: int = 200
    resume: bool = False
    overwrite: bool = False
    bf16: bool | None = None  # None: on when a bf16-capable GPU is present
    device: str | None = None
    limit: int | None = None  # use only the first N rows

    def to_json(self) -> dict[str, Any]:
        # Field by field rather than `asdict`, which would deep-copy data held in memory.
        found = {f.name: getattr(self, f.name) for f in fields(self)}
        found["data"] = _describe(self.data)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in found.items()}


def _describe(data: Any) -> str:
    """The data setting as the record (and a stage key) holds it: a path as given, rows in
    memory by their kind and size."""
    if isinstance(data, (str, Path)):
        return str(data)
    size = f", {len(data)} rows" if hasattr(data, "__len__") else ""
    return f"<{type(data).__name__} in memory{size}>"
