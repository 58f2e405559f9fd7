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
from syncse.synthesis.nli import AnchorJudge, NLIJudge

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


class NLICheck:
    """SynCSE's own criterion, asked one hypothesis at a time (`nli.py`): kept only if the
    anchor entails the positive and contradicts the negative.

    Both sides are judged even when the positive already fails, so every judged row tells
    the valid, false-negative (negative entailed) and positive-not-entailed rates that the
    summaries report; the second call costs little, since it shares the first one's prefix
    up to the hypothesis.
    """

    name = "nli"

    def __init__(self, judge: NLIJudge, judge_id: str, anchors: AnchorJudge | None = None) -> None:
        self.judge = judge
        self.judge_id = judge_id
        #: Scratch: the anchor is the LLM's own sentence, so it is judged too (standalone
        #: sentence about the world, or meta-text / a fragment).
        self.anchors = anchors
        self.labels: Counter[tuple[str | None, str | None]] = Counter()
        self.anchor_labels: Counter[str | None] = Counter()
        #: Verdicts on rows with a side written again (`nli_rewrites`), kept apart so that
        #: `labels` stays the writer's first-try rates.
        self.rewrite_labels: Counter[tuple[str | None, str | None]] = Counter()

    async def check(self, anchor: str, positive: str, negative: str):
        return await self._check(anchor, positive, negative, self.labels, count_anchor=True)

    async def recheck(self, anchor: str, positive: str, negative: str):
        """`check` for a row with a rewritten side: the unchanged side's verdict comes from
        the response cache, and the counts go to `rewrite_labels`."""
        return await self._check(anchor, positive, negative, self.rewrite_labels)

    async def _check(
        self,
        anchor: str,
        positive: str,
        negative: str,
        counts: Counter[tuple[str | None, str | None]],
        count_anchor: bool = False,
    ):
        record: dict[str, Any] = {"judge": self.judge_id}
        if self.anchors is not None:
            verdict = await self.anchors.label(anchor)
            if count_anchor:
                self.anchor_labels[verdict.label] += 1
            record["anchor"] = verdict.record()
        pos = await self.judge.label(anchor, positive)
        neg = await self.judge.label(anchor, negative)
        counts[(pos.label, neg.label)] += 1
        record |= {"positive": pos.record(), "negative": neg.record()}
        if self.anchors is not None and record["anchor"]["label"] != "yes":
            return "nli_bad_anchor", record
        if pos.label is None or neg.label is None:
            return "nli_unreadable", record
        if pos.label != "entailment":
            return f"nli_positive_{pos.label}", record
        if neg.label != "contradiction":
            return f"nli_negative_{neg.label}", record
        return None, record

    def summary(self) -> dict[str, Any]:
        """The rates over every row this check judged (kept and rejected alike), as first
        written; with rewrites, how many rewritten rows became valid."""
        rates = nli_rates(self.labels, self.judge_id, self.anchor_labels)
        if self.rewrite_labels:
            rewritten = sum(self.rewrite_labels.values())
            valid = self.rewrite_labels[("entailment", "contradiction")]
            rates["rewrites"] = {
                "rows_judged": rewritten,
                "valid": valid,
                "valid_rate": valid / rewritten,
            }
        return rates


def nli_rates(
    labels: Counter[tuple[str | None, str | None]],
    judge_id: str,
    anchors: Counter[str | None] | None = None,
) -> dict[str, Any]:
    """Valid-triplet, false-negative and positive-not-entailed rates from (positive label,
    negative label) counts, with a 95% interval for the valid rate (Wilson); with anchor
    verdicts (scratch), the share of anchors that are not a standalone sentence."""
    n = sum(labels.values())
    if not n:
        return {"judge": judge_id, "rows_judged": 0}
    valid = labels[("entailment", "contradiction")]
    pos_ok = sum(c for (p, _), c in labels.items() if p == "entailment")
    neg_ok = sum(c for (_, q), c in labels.items() if q == "contradiction")
    neg_ent = sum(c for (_, q), c in labels.items() if q == "entailment")
    rates = {
        "judge": judge_id,
        "rows_judged": n,
        "valid_rate": valid / n,
        "valid_rate_95": wilson(valid, n),
        "positive_entailed_rate": pos_ok / n,
        "positive_not_entailed_rate": 1 - pos_ok / n,
        "negative_contradicts_rate": neg_ok / n,
        "negative_entailed_rate": neg_ent / n,
    }
    if anchors:
        rates["bad_anchor_rate"] = 1 - anchors["yes"] / sum(anchors.values())
    return rates


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion: honest at small n and near 0 or 1."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


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

    async def check(self, anchor: str, positive: str, negative: str | None):
        if negative is None:  # a pair: only the near-copy test applies
            sim_p, _ = await asyncio.to_thread(self.similarities, anchor, positive, positive)
            record = {"positive": round(sim_p, 4)}
            near_copy = sim_p >= self.max_positive_similarity
            return ("agreement_positive_near_copy" if near_copy else None), record
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
    checks: list[RowCheck],
    anchor: str,
    positive: str,
    negative: str | None,
    rewrite: bool = False,
) -> tuple[str | None, dict[str, Any]]:
    """Run the checks in order, stopping at the first rejection (a later check's call is
    not paid for a row that is already out). Returns the reason and every record made.
    `rewrite`: the row has a side written again; a check with a `recheck` counts it apart."""
    records: dict[str, Any] = {}
    for check in checks:
        method = getattr(check, "recheck", check.check) if rewrite else check.check
        reason, record = await method(anchor, positive, negative)
        records[check.name] = record
        if reason is not None:
            return reason, records
    return None, records
