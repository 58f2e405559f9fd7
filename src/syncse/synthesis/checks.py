"""Checks on finished rows, beyond the cheap text filters: the LLM judge and encoder agreement.

Each check looks at one (anchor, positive, negative) row and returns a reject reason (or None)
and what it found, which the row records under the check's name. The same checks run inline
during synthesis (`--judge`, `--agreement-encoder`) and over any existing triplets file
(`syncse filter`), so a set written earlier, or by another tool, can be checked the same way.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, Protocol

from syncse.synthesis.judge import LLMJudge

#: What every report says when an encoder agreement filter shaped the data.
HUMAN_ENCODER_NOTE = (
    "a human-trained encoder ({encoder}) filtered these rows (agreement filter), so this "
    "data is no longer written from scratch by the LLM alone"
)


class RowCheck(Protocol):
    #: The key under which a row records what the check found.
    name: str

    async def check(
        self, anchor: str, positive: str, negative: str
    ) -> tuple[str | None, dict[str, Any]]: ...


class JudgeCheck:
    """The LLM judges its own row (see `judge.py`); label-free, one call per row."""

    name = "judge"

    def __init__(self, judge: LLMJudge) -> None:
        self.judge = judge
        #: Verdicts by the order the two sentences were shown in ("pn": positive first): a
        #: judge whose kept share depends on the order, not the content, is reading positions.
        self.by_order: Counter[tuple[str, bool]] = Counter()
        #: Verdicts as (positive label, negative label): one pair for nearly every row means
        #: the judge is not reading the rows either.
        self.verdicts: Counter[str] = Counter()

    async def check(self, anchor: str, positive: str, negative: str):
        judgement = await self.judge.judge(anchor, positive, negative)
        reason = judgement.reject_reason
        self.by_order[(judgement.order, reason is None)] += 1
        self.verdicts[f"{judgement.positive}/{judgement.negative}"] += 1
        return reason, judgement.record()

    def position_bias(self) -> dict[str, Any]:
        """Kept share per order and the verdicts given, with a warning when the judge answers
        by position or gives one verdict to nearly every row."""
        found = position_bias(self.by_order)
        found["verdicts"] = dict(self.verdicts.most_common())
        total = sum(self.verdicts.values())
        if "warning" not in found and total >= 40:
            verdict, count = self.verdicts.most_common(1)[0]
            if count / total > 0.95:
                found["warning"] = (
                    f"the LLM judge gave one verdict (positive/negative: {verdict}) to "
                    f"{count / total:.0%} of {total} rows: it is not telling rows apart, so its "
                    "filtering says nothing about their quality (turn it off: --no-judge, or "
                    "judge: false in a run config)"
                )
        return found


def position_bias(by_order: Counter[tuple[str, bool]]) -> dict[str, Any]:
    """The judge's kept share when the positive was shown first ("pn") and second ("np").

    Orders are drawn at random per row, so a judge that reads content keeps about the same
    share in both; a judge that answers by position ("A: entailment" whatever A is) keeps
    nearly all of one order and none of the other, which is a random filter. The warning
    fires when the shares differ by more than 50 points over at least 20 rows per order.
    """
    shares: dict[str, float | None] = {}
    for order in ("pn", "np"):
        total = by_order[(order, True)] + by_order[(order, False)]
        shares[order] = by_order[(order, True)] / total if total else None
    counts = {o: by_order[(o, True)] + by_order[(o, False)] for o in ("pn", "np")}
    result: dict[str, Any] = {"kept_share_by_order": shares, "rows_by_order": counts}
    pn, np_ = shares["pn"], shares["np"]
    if pn is not None and np_ is not None and min(counts.values()) >= 20 and abs(pn - np_) > 0.5:
        result["warning"] = (
            f"the LLM judge kept {pn:.0%} of rows shown positive-first and {np_:.0%} of rows "
            "shown negative-first: its verdicts follow the position of the sentences, not "
            "their meaning, so its filtering is close to random (turn it off: --no-judge, or "
            "judge: false in a run config)"
        )
    return result


class EncoderAgreement:
    """Drop rows where an encoder puts the negative at least as close to the anchor as the
    positive, or the positive nearly on top of the anchor (a copy in other words).

    Opt-in: the encoder is usually human-trained, which makes the data no longer "from
    scratch"; every report of a run that used it says so (`HUMAN_ENCODER_NOTE`).
    """

    name = "agreement"

    def __init__(self, encoder_name: str, max_positive_similarity: float = 0.98) -> None:
        from syncse.models import load_encoder

        self.encoder_name = encoder_name
        self.max_positive_similarity = max_positive_similarity
        self.encoder = load_encoder(encoder_name)

    def similarities(self, anchor: str, positive: str, negative: str) -> tuple[float, float]:
        a, p, n = self.encoder.encode(
            [anchor, positive, negative], normalize_embeddings=True, convert_to_numpy=True
        )
        return float(a @ p), float(a @ n)

    async def check(self, anchor: str, positive: str, negative: str):
        sim_p, sim_n = await asyncio.to_thread(self.similarities, anchor, positive, negative)
        record = {"positive": round(sim_p, 4), "negative": round(sim_n, 4)}
        if sim_n >= sim_p:
            return "agreement_negative_closer", record
        if sim_p >= self.max_positive_similarity:
            return "agreement_positive_near_copy", record
        return None, record

    @property
    def note(self) -> str:
        return HUMAN_ENCODER_NOTE.format(encoder=self.encoder_name)


async def run_checks(
    checks: list[RowCheck], anchor: str, positive: str, negative: str
) -> tuple[str | None, dict[str, Any]]:
    """Run the checks in order, stopping at the first rejection (a later check's call is
    not paid for a row that is already out). Returns the reason and every record made."""
    records: dict[str, Any] = {}
    for check in checks:
        reason, record = await check.check(anchor, positive, negative)
        records[check.name] = record
        if reason is not None:
            return reason, records
    return None, records
