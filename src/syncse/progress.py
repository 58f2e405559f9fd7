"""Progress bars that a library user can turn off.

On by default: a synthesis or evaluation run takes minutes and must not look hung. Off for a
whole process with `syncse.set_progress(False)` or the environment variable
`SYNCSE_PROGRESS=0` (CI logs, notebooks that log elsewhere); `set_progress(None)` goes back to
the environment's choice. Every bar syncse draws goes through `progress_bar`, and the
trainer's and the encoders' bars follow the same setting.
"""

from __future__ import annotations

import os
from typing import Any

#: The environment variable read when `set_progress` has not chosen: 0, false, off or no
#: turn the bars off.
PROGRESS_ENV = "SYNCSE_PROGRESS"
_chosen: bool | None = None


def set_progress(enabled: bool | None) -> None:
    """Show (True) or hide (False) syncse's progress bars in this process; None: as
    `SYNCSE_PROGRESS` says (shown when unset).

    Example:
        >>> import syncse
        >>> syncse.set_progress(False)  # quiet from here on
    """
    global _chosen
    _chosen = enabled


def progress_enabled() -> bool:
    """Whether progress bars are shown (see `set_progress`)."""
    if _chosen is not None:
        return _chosen
    return os.environ.get(PROGRESS_ENV, "1").strip().lower() not in ("0", "false", "off", "no")


def progress_bar(*args: Any, **kwargs: Any) -> Any:
    """A `tqdm` bar, hidden when progress is off (`disable=` given explicitly wins)."""
    from tqdm import tqdm

    kwargs.setdefault("disable", not progress_enabled())
    return tqdm(*args, **kwargs)
