"""Print several result files side by side, with deltas against the first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from syncse.errors import DataError
from syncse.evaluation.tasks import CATEGORIES, display_name


def load_results(path: Path) -> dict[str, Any]:
    """A results file as its JSON mapping, with one-line errors for a file that is not one
    (`EvaluationResults.load` is the typed reader; this one must explain what is wrong)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(path, "no such results file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(path, f"not a results JSON file ({exc})") from exc
    if not isinstance(data, dict) or "tasks" not in data:
        raise DataError(path, "not a syncse results file (no 'tasks' key)")
    return data


def compare_markdown(paths: list[Path]) -> str:
    runs = [load_results(p) for p in paths]
    labels = [f"{r.get('model', p.stem)} ({p.name})" for r, p in zip(runs, paths, strict=True)]
    tasks: list[str] = list(dict.fromkeys(t for r in runs for t in r["tasks"]))
    header = ["task"] + [labels[0]] + [x for lab in labels[1:] for x in (lab, "Δ")]
    rows = []

    def cell(run: dict[str, Any], task: str) -> float | None:
        result = run["tasks"].get(task)
        return None if result is None else result[result["main_metric"]]

    def row(name: str, values: list[float | None]) -> list[str]:
        out = [name, "—" if values[0] is None else f"{values[0]:.2f}"]
        for v in values[1:]:
            out.append("—" if v is None else f"{v:.2f}")
            base = values[0]
            out.append("" if v is None or base is None else f"{v - base:+.2f}")
        return out

    for task in tasks:
        rows.append(row(display_name(task), [cell(r, task) for r in runs]))
    for category in CATEGORIES:
        averages = [r.get("summary", {}).get(category, {}).get("avg") for r in runs]
        if any(a is not None for a in averages):
            rows.append(row(f"**{category} avg**", averages))
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    limits = {r.get("limit") for r in runs}
    if len(limits) > 1:
        lines.append("\nWarning: the runs used different --limit values; not comparable.")
    return "\n".join(lines) + "\n"
