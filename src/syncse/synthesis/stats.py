"""`syncse stats`: the numbers that tell a user whether a triplet file is any good."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from syncse.data.jsonl import iter_jsonl
from syncse.data.text import match_key
from syncse.data.triplets import TripletFiles, load_triplets
from syncse.errors import DataError
from syncse.synthesis.config import BackendConfig
from syncse.synthesis.quality import judge_rates, rates_by_template, recorded_rates
from syncse.synthesis.summary import SynthesisSummary


def distinct_n(texts: list[str], n: int) -> float:
    grams: Counter[tuple[str, ...]] = Counter()
    for t in texts:
        words = match_key(t).split()
        grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def triplet_stats(
    path: Path,
    encoder: Any = None,
    nli_judge: BackendConfig | None = None,
    nli_sample: int | None = 200,
) -> dict[str, Any]:
    """The figures `syncse stats` prints for a triplets file.

    Args:
        path: triplets or (anchor, positive) pairs (.jsonl, .csv or a `save_to_disk`
            folder); pairs get no negative figures.
        encoder: a SentenceTransformer for the similarity figures (secondary: an encoder
            cannot tell a contradiction from a paraphrase that changes one word).
        nli_judge: the LLM that judges rows for the valid-triplet rate; None: only verdicts
            already recorded in the rows are reported.
        nli_sample: rows the judge labels (a fixed draw; None: all). Verdicts are cached
            beside the file, so a second look is free.
    """
    path = Path(path)
    data = load_triplets(path)
    raw = data.records if path.suffix == ".jsonl" else []
    columns = data.columns()  # anchor, positive[, negative]
    lengths = {k: float(np.mean([len(s.split()) for s in v])) for k, v in columns.items()}
    rows = list(zip(*columns.values(), strict=True))
    norm_rows = [tuple(match_key(x) for x in r) for r in rows]
    written = {k: v for k, v in columns.items() if k != "anchor"}
    stats: dict[str, Any] = {
        "rows": len(rows),
        "mean_words": lengths,
        "distinct_1": {k: distinct_n(v, 1) for k, v in written.items()},
        "distinct_2": {k: distinct_n(v, 2) for k, v in written.items()},
        "duplicate_row_rate": 1 - len(set(norm_rows)) / len(rows),
        "duplicate_anchor_rate": 1 - len({r[0] for r in norm_rows}) / len(rows),
        "positive_copies_anchor_rate": float(np.mean([r[0] == r[1] for r in norm_rows])),
        **(
            {"negative_copies_anchor_rate": float(np.mean([r[0] == r[2] for r in norm_rows]))}
            if data.negatives is not None
            else {}
        ),
        "pos_templates": dict(Counter(r.get("pos_template") for r in raw if "pos_template" in r)),
        "neg_templates": dict(Counter(r.get("neg_template") for r in raw if "neg_template" in r)),
    }
    recorded = recorded_rates(raw)
    if recorded is not None:
        stats["nli"] = recorded
        stats["nli_by_template"] = rates_by_template(raw)
    if nli_judge is not None and data.negatives is None:
        raise DataError(
            path, "pairs without negatives; the NLI judge's valid-triplet rate needs them"
        )
    if nli_judge is not None:
        assert data.negatives is not None
        stats["nli"] = judge_rates(
            data.anchors,
            data.positives,
            data.negatives,
            nli_judge,
            TripletFiles(path).cache,
            nli_sample,
            judge_anchors=SynthesisSummary.is_scratch(path),
        )
    judged = [r["judge"] for r in raw if isinstance(r.get("judge"), dict)]
    if judged:
        stats["judge_labels"] = {
            kind: dict(Counter(str(j.get(kind)) for j in judged))
            for kind in ("positive", "negative")
        }
    rejected_file = TripletFiles(path).rejected
    if rejected_file.is_file():
        reasons: Counter[str] = Counter()
        with rejected_file.open(encoding="utf-8") as handle:
            for _, row in iter_jsonl(rejected_file, handle):
                reasons[str(row.get("reason"))] += 1
        stats["rejected_reasons"] = dict(sorted(reasons.items()))
    if encoder is not None:
        a = encoder.encode(data.anchors, normalize_embeddings=True, convert_to_numpy=True)
        p = encoder.encode(data.positives, normalize_embeddings=True, convert_to_numpy=True)
        sim_p = (a * p).sum(1)
        stats["similarity"] = {"anchor_positive_mean": float(sim_p.mean())}
        if data.negatives is not None:
            n = encoder.encode(data.negatives, normalize_embeddings=True, convert_to_numpy=True)
            sim_n = (a * n).sum(1)
            stats["similarity"] |= {
                "anchor_negative_mean": float(sim_n.mean()),
                "positive_closer_rate": float((sim_p > sim_n).mean()),
            }
    return stats


def stats_markdown(stats: dict[str, Any], path: Path) -> str:
    lines = [
        f"# Data statistics: {path.name}",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| rows | {stats['rows']} |",
    ]
    for k, v in stats["mean_words"].items():
        lines.append(f"| mean words, {k} | {v:.1f} |")
    for key in ("distinct_1", "distinct_2"):
        for k, v in stats[key].items():
            lines.append(f"| {key.replace('_', '-')}, {k} | {v:.3f} |")
    for key in (
        "duplicate_row_rate",
        "duplicate_anchor_rate",
        "positive_copies_anchor_rate",
        "negative_copies_anchor_rate",
    ):
        if key not in stats:  # pairs: no negatives
            continue
        lines.append(f"| {key.replace('_', ' ')} | {stats[key]:.3f} |")
    nli = stats.get("nli")
    if nli and nli.get("rows_judged") and nli.get("source") == "recorded in the rows":
        # Verdicts are written into rows only by a judge that filtered them (`--nli-judge` in
        # synthesis or `syncse filter`), so every recorded verdict passed: a "valid rate" from
        # them would be 1.000 by construction and read like a measurement of quality.
        lines.append(
            f"| valid triplets (NLI judge) | all {nli['rows_judged']} rows were kept by "
            f"{nli['judge']}, so 1.000 by construction; its rate before filtering is in the "
            "summary of the run that filtered them |"
        )
    elif nli and nli.get("rows_judged"):
        low, high = nli["valid_rate_95"]
        where = f"{nli['judge']}, {nli['rows_judged']} rows, {nli['source']}"
        lines += [
            f"| **valid triplets (NLI judge: {where})** | **{nli['valid_rate']:.3f}** "
            f"(95% {low:.2f}-{high:.2f}) |",
            f"| positive not entailed (NLI judge) | {nli['positive_not_entailed_rate']:.3f} |",
            f"| negative entailed: false negatives (NLI judge) | "
            f"{nli['negative_entailed_rate']:.3f} |",
        ]
        if "bad_anchor_rate" in nli:
            lines.append(
                f"| anchor not a standalone sentence (judge) | {nli['bad_anchor_rate']:.3f} |"
            )
    else:
        lines.append(
            "| valid triplets (NLI judge) | not measured: `syncse stats FILE --nli-judge "
            "qwen2.5-coder-1.5b` |"
        )
    for key, found in stats.get("nli_by_template", {}).items():
        side, template = key.split(":", 1)
        wanted = "entailed" if side == "positive" else "contradicts"
        lines.append(
            f"| template {template}: {side} {wanted} (NLI judge, {found['rows']} rows) | "
            f"{found['as_wanted_rate']:.3f} |"
        )
    for k, v in stats.get("similarity", {}).items():
        label = (
            "positive closer than negative (encoder, secondary)"
            if k == ("positive_closer_rate")
            else k.replace("_", " ")
        )
        lines.append(f"| {label} | {v:.3f} |")
    for kind, labels in stats.get("judge_labels", {}).items():
        lines.append(
            f"| LLM judge, {kind} | "
            + ", ".join(f"{label}: {n}" for label, n in sorted(labels.items()))
            + " |"
        )
    if stats.get("rejected_reasons"):
        lines.append(
            "| rejected (beside the file) | "
            + ", ".join(f"{r}: {n}" for r, n in stats["rejected_reasons"].items())
            + " |"
        )
    for key in ("pos_templates", "neg_templates"):
        if stats[key]:
            lines.append(
                f"| {key.replace('_', ' ')} | "
                + ", ".join(f"{t}: {c}" for t, c in sorted(stats[key].items()))
                + " |"
            )
    return "\n".join(lines) + "\n"
