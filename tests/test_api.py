"""The Python API as a user meets it: the README's example (in a running event loop, as in a
notebook), pair data, dataset folders, errors that name settings, quiet logging and progress,
and the core commands without the optional extras."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import syncse
from syncse.errors import SyncseError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MARK = "<!-- python-example (tests/test_api.py runs it) -->"


def readme_example() -> str:
    """The README's Python example, exactly as printed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE_MARK in text, "the README's Python example lost its marker"
    block = re.search(r"```python\n(.*?)```", text.split(EXAMPLE_MARK, 1)[1], re.S)
    assert block is not None
    return block.group(1)


def scaled_down(code: str, replacements: dict[str, str]) -> str:
    """The example with its evaluation scaled down; each replaced text must be in it, so the
    test breaks when the README changes rather than silently running something else."""
    for old, new in replacements.items():
        assert old in code, f"README example no longer contains {old!r}"
        code = code.replace(old, new)
    return code


def test_readme_python_example_runs_inside_a_running_event_loop(tmp_path, monkeypatch):
    """Real models, no mocks: SmolLM2 writes the triplets, all-MiniLM-L6-v2 trains on them and
    is evaluated; the sync API is called from inside `asyncio.run`, as in a notebook."""
    code = scaled_down(
        readme_example(),
        {'tasks=["sts"]': 'tasks=["STSBenchmark"], limit=40'},
    )
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}

    async def main() -> None:
        asyncio.get_running_loop()  # there is one: the API must cope with it
        exec(compile(code, "README.md", "exec"), namespace)

    asyncio.run(main())
    rows = [json.loads(line) for line in (tmp_path / "data.jsonl").read_text().splitlines()]
    assert len(rows) >= 2 and all(r["sent0"] and r["sent1"] and r["hard_neg"] for r in rows)
    summary, results = namespace["summary"], namespace["results"]
    assert (
        summary.model is not None and (tmp_path / "models" / "mine" / "model.safetensors").exists()
    )
    assert summary.model.encode(["A cat sleeps."]).shape == (1, 384)
    assert results.tasks["STSBenchmark"]["n_pairs"] == 40 and results.average("sts") > 50


def _pairs(path: Path, senteval_dir: Path, n: int = 24) -> Path:
    from syncse.training.reference import sick_triplets

    rows = sick_triplets(senteval_dir)[:n]
    lines = ["anchor,positive"] + [f'"{r["sent0"]}","{r["sent1"]}"' for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_pairs_csv_trains_with_in_batch_negatives(tmp_path, senteval_dir, syncse_cli):
    data = _pairs(tmp_path / "pairs.csv", senteval_dir)
    out = tmp_path / "model"
    code, err = syncse_cli(
        "train", "--data", data, "--out", out, "--max-steps", "2", "--batch-size", "8"
    )
    assert code == 0, err
    assert f"saved {out} (2 steps" in err
    record = json.loads((out / "syncse_training.json").read_text())
    assert record["data"]["columns"] == ["anchor", "positive"]
    assert record["data"]["training_examples"] == 24
    assert "in-batch negatives only" in (out / "README.md").read_text()


def test_pairs_and_dataset_folders_in_stats_filter_and_the_reader(tmp_path, syncse_cli):
    from datasets import Dataset

    rows = {
        "anchor": ["A dog runs on the beach.", "A man plays the guitar.", "Kids play in a park."],
        "positive": ["A dog is running.", "A person plays music.", "Children are playing."],
    }
    folder = tmp_path / "pairs_ds"
    Dataset.from_dict(rows).save_to_disk(str(folder))
    data = syncse.load_triplets(folder)
    assert len(data) == 3 and not data.has_negatives and data.path == folder
    assert syncse.load_triplets(Dataset.from_dict(rows)).anchors == rows["anchor"]
    code, err = syncse_cli("stats", folder)
    assert code == 0, err
    out = syncse_cli.stdout
    assert "| rows | 3 |" in out and "negative" not in out.split("valid triplets")[0]
    # `filter` reads the same: pairs get the encoder's near-copy check; the judges need
    # negatives and say so.
    kept = tmp_path / "kept.jsonl"
    code, err = syncse_cli("filter", folder, "--out", kept, "--agreement-encoder", "minilm")
    assert code == 0, err
    assert [json.loads(x)["anchor"] for x in kept.read_text().splitlines()] == rows["anchor"]
    code, err = syncse_cli("filter", folder, "--out", kept, "--judge")
    assert code == 2 and "no negative column" in err


def test_triplets_with_sentence_transformers_names_are_filtered_and_kept_as_written(
    tmp_path, syncse_cli
):
    source = tmp_path / "st.jsonl"
    row = {"anchor": "A dog runs.", "positive": "A dog is running.", "negative": "A dog sleeps."}
    source.write_text(json.dumps(row | {"id": 7}) + "\n")
    out = tmp_path / "kept.jsonl"
    code, err = syncse_cli("filter", source, "--out", out, "--agreement-encoder", "minilm")
    assert code == 0, err
    (written,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert written == row | {"id": 7, "agreement": written["agreement"]}  # as read, plus
    assert written["agreement"]["positive"] > written["agreement"]["negative"]


def test_api_errors_name_config_fields_and_the_cli_names_flags(tmp_path, syncse_cli):
    data = tmp_path / "t.jsonl"
    data.write_text(
        "".join(
            json.dumps({"sent0": f"a{i} b", "sent1": f"c{i} d", "hard_neg": f"e{i} f"}) + "\n"
            for i in range(3)
        )
    )
    out = tmp_path / "busy"
    out.mkdir()
    (out / "something").write_text("x")
    with pytest.raises(SyncseError) as caught:
        syncse.train(syncse.TrainingConfig(data=data, out=out))
    message = str(caught.value)
    assert "`resume=True`" in message and "`overwrite=True`" in message
    assert "--resume" not in message
    code, err = syncse_cli("train", "--data", data, "--out", out)
    assert code == 2 and "--resume" in err and "--overwrite" in err and "resume=True" not in err


def test_library_output_goes_through_loggers_and_progress_can_be_turned_off(monkeypatch):
    from syncse.progress import progress_bar, progress_enabled, set_progress

    try:
        monkeypatch.setenv("SYNCSE_PROGRESS", "0")
        assert not progress_enabled() and progress_bar(total=1).disable
        monkeypatch.delenv("SYNCSE_PROGRESS")
        assert progress_enabled()
        syncse.set_progress(False)
        assert progress_bar(range(3)).disable
    finally:
        set_progress(None)
    # Library code prints nothing itself: no print(), no writes to sys.stderr, no `log=`
    # parameters; the CLI alone decides what reaches the terminal.
    import ast

    src = ROOT / "src" / "syncse"
    offenders = []
    for path in src.rglob("*.py"):
        if path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(src)}:{node.lineno} print")
            if isinstance(node, ast.arguments):
                defaults = [*node.defaults, *(d for d in node.kw_defaults if d is not None)]
                if any(getattr(d, "id", None) == "print" for d in defaults):
                    offenders.append(f"{path.relative_to(src)}:{node.defaults[0].lineno} =print")
            # local_models.py only flushes it, around redirecting llama.cpp's C output.
            writes = path.name != "local_models.py"
            if isinstance(node, ast.Attribute) and node.attr == "stderr" and writes:
                offenders.append(f"{path.relative_to(src)}:{node.lineno} sys.stderr")
    assert not offenders


def test_the_cli_prints_log_records_as_it_always_printed_messages(capsys):
    import logging

    from syncse.cli import terminal_logging

    logger = logging.getLogger("syncse.synthesis.pipeline")
    with terminal_logging():
        logger.info("[1/4] synthesize: up to date (t.jsonl)")
        logger.warning("decontamination is off: no evaluation data folder")
        logging.getLogger("syncse.x").debug("not shown")
    logger.warning("after the command: not the CLI's to print")
    err = capsys.readouterr().err
    assert err.splitlines()[:2] == [
        "[1/4] synthesize: up to date (t.jsonl)",
        "warning: decontamination is off: no evaluation data folder",
    ]
    assert "not shown" not in err and "after the command" not in err.split("folder", 1)[1]


def test_import_syncse_is_cheap_and_exports_the_entry_points():
    code = (
        "import sys, syncse\n"
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules\n"
        "syncse.TrainingConfig, syncse.SynthesisConfig, syncse.BackendConfig\n"
        "assert 'torch' not in sys.modules, 'configs must not import torch'\n"
        "missing = [n for n in syncse.__all__ if not hasattr(syncse, n)]\n"
        "assert not missing, missing\n"
        "assert syncse.evaluate is syncse.evaluate_model\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert set(syncse.__all__) == {"__version__", *syncse._EXPORTS}


def test_core_commands_run_without_the_optional_extras(tmp_path):
    """`stats` and `report` with the synthesis and report extras unavailable (datasketch,
    openai, llama-cpp-python, pysbd, matplotlib): a `None` in sys.modules makes each import
    fail as if the package were not installed."""
    data = tmp_path / "t.jsonl"
    data.write_text(
        json.dumps({"sent0": "A dog runs.", "sent1": "A dog is running.", "hard_neg": "No dog."})
        + "\n"
        + json.dumps(
            {"sent0": "A man sings.", "sent1": "A man is singing.", "hard_neg": "Silence."}
        )
        + "\n"
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "stages.json").write_text("{}")
    blocked = ("datasketch", "openai", "llama_cpp", "pysbd", "matplotlib")
    script = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None\n"
        "from syncse.cli import main\n"
        "sys.argv = ['syncse', *sys.argv[1:]]\n"
        "main()\n"
    )
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    for args in (["stats", str(data)], ["report", str(run_dir)]):
        proc = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
    assert (run_dir / "report.md").exists()
