"""Where each input ends: a stored row, or a rejection with its reason. Counted per reason (the
summary's `counts`) and shown on the progress bar, so every path that drops an input goes
through one place and none can drop it silently."""

from __future__ import annotations

from collections import Counter
from typing import Any

from syncse.data.triplets import WRITTEN
from syncse.synthesis.caller import Usage
from syncse.synthesis.rows import Item
from syncse.synthesis.store import ResultStore


class Outcomes:
    def __init__(
        self, store: ResultStore, usage: Usage, price: tuple[float, float] | None = None
    ) -> None:
        self.store, self.usage, self.price = store, usage, price
        self.counts: Counter[str] = Counter()
        #: The run's progress bar (`syncse.progress.progress_bar`), while one is drawn.
        self.progress: Any = None

    def accept(self, row: dict[str, Any]) -> None:
        self.store.add(row)
        self.counts["accepted"] += 1
        self._tick()

    def reject(self, item: Item, reason: str, retryable: bool = False, **info: Any) -> None:
        """Store the input as rejected; `retryable` ones are asked again by the next run
        (a glitching server's empty answer, a backend error), the rest stay decided."""
        self.store.reject(
            item.key,
            reason,
            retryable=retryable,
            **{WRITTEN["anchor"]: item.sentence},
            input_index=item.index,
            **info,
            **item.meta,
        )
        self.counts[reason] += 1
        self._tick()

    def _tick(self) -> None:
        if self.progress is None:
            return
        self.progress.update(1)
        postfix = {
            "ok": self.counts["accepted"],
            "tok": self.usage.prompt_tokens + self.usage.completion_tokens,
            "cached": self.usage.cache_hits,
        }
        cost = self.usage.cost(self.price)
        if cost is not None:
            postfix["$"] = f"{cost:.3f}"
        self.progress.set_postfix(postfix, refresh=False)
