"""Running syncse's async work from synchronous code, including inside a running event loop.

Why: the synchronous entry points (`synthesize_partial`, `filter_triplets`, ...) used to call
`asyncio.run`, which raises inside a running loop — that is, in every Jupyter notebook. When a
loop is already running in this thread, the coroutine runs on a fresh loop in a worker thread
and the caller waits for it; otherwise `asyncio.run` as before. (nest_asyncio patches the
running loop instead; a thread of its own changes nothing global.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion and return its result, from any synchronous caller.

    Example:
        >>> async def answer():
        ...     return 42
        >>> run_sync(answer())
        42
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="syncse") as pool:
        return pool.submit(asyncio.run, coroutine).result()
