"""Package attributes imported on first use (PEP 562), so importing a package stays cheap:
`syncse.training` without torch, `syncse.synthesis` without llama-cpp-python or datasketch."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` that imports `name` from the module `exports[name]` names.

    Example:
        >>> __getattr__ = lazy_exports(__name__, {"train": "syncse.training.trainer"})
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__
