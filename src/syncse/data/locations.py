"""Where data and caches live: the SentEval `data/downstream` folder (a flag or
`$SYNCSE_DATA_DIR`), the Flickr8k folder beside it, and syncse's cache folder. The only module
that reads these environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from syncse.errors import SyncseError

ENV_VAR = "SYNCSE_DATA_DIR"
LAYOUT_HINT = (
    "expected the SentEval data/downstream layout (STS/STS12-en-test, STS/STSBenchmark, SICK, "
    "MR, ...); set {} or SYNCSE_DATA_DIR"
)


def data_dir_from_env() -> Path | None:
    """`$SYNCSE_DATA_DIR` as given (unchecked), or None when unset or empty."""
    raw = os.environ.get(ENV_VAR)
    return Path(raw).expanduser() if raw else None


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """Return the SentEval folder from the argument, else `$SYNCSE_DATA_DIR`.

    A parent folder holding `senteval/` (like `../shared/data`) is accepted too, so the same
    path serves the Flickr8k corpus beside it.
    """
    raw = data_dir if data_dir is not None else data_dir_from_env()
    if raw is None or str(raw) == "":
        raise SyncseError(f"no evaluation data folder given; {LAYOUT_HINT}", "data_dir")
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise SyncseError(f"{path}: data folder does not exist; {LAYOUT_HINT}", "data_dir")
    if (path / "senteval").is_dir() and not (path / "STS").is_dir():
        path = path / "senteval"
    return path


def find_flickr8k_dir(senteval_dir: Path) -> Path:
    """Flickr8k sits beside the SentEval folder here (`shared/data/flickr8k`) or inside it."""
    env = os.environ.get("SYNCSE_FLICKR8K_DIR")
    candidates = [Path(env)] if env else []
    candidates += [senteval_dir / "flickr8k", senteval_dir.parent / "flickr8k"]
    for candidate in candidates:
        if (candidate / "Flickr8k.token.txt").exists():
            return candidate
    return candidates[0] if env else senteval_dir.parent / "flickr8k"


def cache_dir() -> Path:
    """Where assembled models, backbones and start-model scores live: $SYNCSE_CACHE_DIR, else
    $XDG_CACHE_HOME/syncse, else ~/.cache/syncse (the convention of Hugging Face's and pip's
    caches)."""
    if os.environ.get("SYNCSE_CACHE_DIR"):
        return Path(os.environ["SYNCSE_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "syncse"
