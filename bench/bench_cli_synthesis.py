"""What a user's `syncse synthesize partial` command costs, whole process, by block size.

    python bench/bench_cli_synthesis.py [--inputs 64] [--repeats 2] [--arms ...]

Each run is the CLI in a fresh process and a fresh output folder (no cache hits), on the first
N decontaminated Flickr8k train captions, with the default model and settings unless the arm
says otherwise. Per arm: whole-process seconds (what `time` shows), the synthesis loop's own
seconds (`this_run.seconds` in the summary, counted from when the model is loaded), their
difference (start-up: interpreter, imports, model load, the decontamination set), rows, rows
per minute of the whole process, generated tokens per call, and the ratio against the first
arm. `syncse --help` is timed too: the floor every command pays. Medians over the repeats.

Arms are `name=flags`: the defaults are `block1=--block-size 1` and `default=` (block 32),
plus the same two with the sampling of `bench_block_size.py` (3 exemplars, 48 tokens), which
separates the settings from the command.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYNCSE = str(Path(sys.executable).with_name("syncse"))
ARMS = (
    "block1=--block-size 1;default=;"
    "block1-e3t48=--block-size 1 --examples 3 --max-tokens 48;default-e3t48=--examples 3 "
    "--max-tokens 48"
)


def captions_file(n: int, folder: Path) -> Path:
    from syncse.data.corpora import flickr8k_captions
    from syncse.data.locations import data_dir_from_env, resolve_data_dir

    senteval = resolve_data_dir(data_dir_from_env() or ROOT.parent / "shared/data")
    path = folder / f"captions-{n}.txt"
    path.write_text("\n".join(flickr8k_captions(senteval, n)) + "\n")
    return path


def run(flags: str, inputs: Path, folder: Path) -> dict:
    out = folder / "o.jsonl"
    command = [SYNCSE, "synthesize", "partial", "--input", str(inputs), "--out", str(out)]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "SYNCSE_PROGRESS": "0"}
    started = time.perf_counter()
    subprocess.run(command + shlex.split(flags), check=True, env=env, capture_output=True)
    wall = time.perf_counter() - started
    summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
    this_run = summary["this_run"]
    return {
        "wall": wall,
        "loop": this_run["seconds"],
        "rows": summary["accepted"],
        "tokens_per_call": this_run["completion_tokens"] / max(1, this_run["llm_calls"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--arms", default=ARMS, help="name=flags;name=flags")
    args = parser.parse_args()
    arms = [a.split("=", 1) for a in args.arms.split(";") if a]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        inputs = captions_file(args.inputs, tmp_path)
        helps = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([SYNCSE, "--help"], check=True, capture_output=True)
            helps.append(time.perf_counter() - started)
        results: dict[str, list[dict]] = {}
        for repeat in range(args.repeats):
            for name, flags in arms:
                folder = tmp_path / f"{name}-{repeat}"
                folder.mkdir()
                results.setdefault(name, []).append(run(flags, inputs, folder))
                print(f"{name} #{repeat}: {results[name][-1]}", file=sys.stderr, flush=True)
    print(f"`syncse --help`: {statistics.median(helps):.2f} s (median of 3)\n")
    print(f"{args.inputs} captions, median of {args.repeats} runs each:\n")
    print(
        "| arm | flags | whole process s | loop s | start-up s | rows | rows/min (whole) "
        "| tokens/call | x first arm |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for name, flags in arms:
        runs = results[name]
        wall = statistics.median(r["wall"] for r in runs)
        loop = statistics.median(r["loop"] for r in runs)
        rows = statistics.median(r["rows"] for r in runs)
        rate = rows / wall * 60
        base = base or rate
        tokens = statistics.median(r["tokens_per_call"] for r in runs)
        print(
            f"| {name} | `{flags or '(defaults)'}` | {wall:.1f} | {loop:.1f} | {wall - loop:.1f} "
            f"| {rows:.0f} | {rate:.1f} | {tokens:.1f} | {rate / base:.2f} |"
        )


if __name__ == "__main__":
    main()
