"""`syncse run`: config validation, stage skipping and re-running, the report."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncse.errors import SyncseError
from syncse.pipeline import load_run_config, run_pipeline
from syncse.training.reference import sick_triplets, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "out: o\nsynthesis:\n  mode: scratch\n  backend:\n    kindd: openai\n",
            r"run.yaml:5: synthesis.backend.kindd: unknown key",
        ),
        (
            "out: o\nsynthesis:\n  mode: scratch\n  sampling:\n    temperature: hot\n",
            r"run.yaml:5: synthesis.sampling.temperature: .*valid number",
        ),
        ("out: o\ntraining:\n  batch_size: [1\n", r"run.yaml:4: not valid YAML"),
        ("out: o\ntriplets: t.jsonl\ntraining:\n  out: x\n", r"run.yaml:4: training.out: set by"),
        ("out: o\nfoo: 1\ntriplets: x\n", r"run.yaml:2: foo: unknown key"),
        ("out: o\nsynthesis:\n  mode: partial\n", r"run.yaml:2: synthesis: partial mode needs"),
        ("out: o\nsynthesis:\n  mode: both\n", r"run.yaml:3: synthesis.mode: use partial or"),
        ("synthesis:\n  mode: scratch\n", r"missing `out:`"),
        ("- a\n- b\n", r"expected a mapping"),
    ],
)
def test_bad_config_names_file_line_and_key(tmp_path, body, message):
    with pytest.raises(SyncseError, match=message):
        load_run_config(_write(tmp_path, body))


def test_examples_are_valid():
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        config = load_run_config(path)
        assert config.training.temperature == 0.05, path
        if config.synthesis is None:  # trains on a data file: it must ship with the project
            assert (ROOT / config.triplets).is_file(), (path, config.triplets)


def test_stages_skip_when_up_to_date_and_rerun_when_changed(tmp_path, senteval_dir, syncse_logs):
    triplets = write_jsonl(sick_triplets(senteval_dir)[:64], tmp_path / "sick.jsonl")
    body = (
        f"out: {tmp_path / 'run'}\nmodel: minilm\ndata_dir: {senteval_dir}\n"
        f"triplets: {triplets}\n"
        "training:\n  max_steps: 3\n  batch_size: 16\n  learning_rate: {lr}\n"
        "evaluation:\n  tasks: [STSBenchmark]\n  limit: 60\n"
    )
    config_path = _write(tmp_path, body.replace("{lr}", "5.0e-5"))
    logs = syncse_logs
    report = run_pipeline(load_run_config(config_path))
    run = tmp_path / "run"
    stages = json.loads((run / "stages.json").read_text())
    assert {s: e["state"] for s, e in stages.items()} == {
        "train": "done",
        "evaluate:start": "done",
        "evaluate:trained": "done",
    }
    assert any("statistics in" in line for line in logs), logs
    text = report.read_text()
    assert "| STS-B |" in text and "plots/training.png" in text
    assert (run / "plots" / "training.png").stat().st_size > 1000
    trained = json.loads((run / "eval" / "trained.json").read_text())
    start = json.loads((run / "eval" / "start.json").read_text())
    # Weights are saved as safetensors (no pickle to load), never as a .bin
    assert (run / "model" / "model.safetensors").exists()
    assert not list((run / "model").glob("*.bin"))
    stsb = trained["tasks"]["STSBenchmark"]
    assert stsb["n_pairs"] == 60  # the limit is honoured, as the report claims
    assert stsb["spearman"] != start["tasks"]["STSBenchmark"]["spearman"]

    logs.clear()
    run_pipeline(load_run_config(config_path))
    assert sum("up to date" in line for line in logs) == 3, logs
    assert not any("statistics in" in line for line in logs), logs  # same data, same model
    assert json.loads((run / "stages.json").read_text()) == stages  # nothing re-ran

    logs.clear()
    config_path = _write(tmp_path, body.replace("{lr}", "1.0e-4"))
    run_pipeline(load_run_config(config_path))
    assert any(line.startswith("[2/4] train (") for line in logs), logs
    assert any("evaluate start model: up to date" in line for line in logs)
    assert any("evaluate trained model (" in line for line in logs)


def test_start_model_scored_once_per_machine(tmp_path, senteval_dir, monkeypatch, syncse_logs):
    """Two run folders with the same start model and evaluation settings: the second reuses the
    start model's scores; different settings score it again."""
    monkeypatch.setenv("SYNCSE_CACHE_DIR", str(tmp_path / "cache"))
    triplets = write_jsonl(sick_triplets(senteval_dir)[:32], tmp_path / "sick.jsonl")

    def run(name: str, limit: int, data_dir: str = str(senteval_dir)) -> list[str]:
        config_path = _write(
            tmp_path,
            f"out: {tmp_path / name}\nmodel: minilm\ndata_dir: {data_dir}\n"
            f"triplets: {triplets}\ntraining:\n  max_steps: 1\n  batch_size: 16\n"
            f"evaluation:\n  tasks: [STSBenchmark]\n  limit: {limit}\n",
        )
        syncse_logs.clear()
        run_pipeline(load_run_config(config_path))
        return list(syncse_logs)

    first = run("a", 40)
    assert any("evaluate start model (minilm)" in line for line in first), first
    # The same folder spelled relative to the working directory is the same data.
    second = run("b", 40, data_dir=os.path.relpath(senteval_dir))
    assert any("scored before" in line for line in second), second
    assert not any("evaluate start model (minilm)" in line for line in second)
    start_a = json.loads((tmp_path / "a" / "eval" / "start.json").read_text())
    start_b = json.loads((tmp_path / "b" / "eval" / "start.json").read_text())
    assert start_a["tasks"] == start_b["tasks"]
    assert "| start | trained | delta |" in (tmp_path / "b" / "report.md").read_text()
    third = run("c", 41)
    assert any("evaluate start model (minilm)" in line for line in third), third
    start_c = json.loads((tmp_path / "c" / "eval" / "start.json").read_text())
    assert start_c["tasks"]["STSBenchmark"]["n_pairs"] == 41


def test_the_suite_keeps_its_scores_out_of_the_users_cache(tmp_path_factory, user_cache_dir):
    from syncse.data.locations import cache_dir
    from syncse.pipeline.run import shared_start_scores

    assert shared_start_scores("k").is_relative_to(tmp_path_factory.getbasetemp())
    assert not shared_start_scores("k").is_relative_to(user_cache_dir)
    # Assembled and de-quantized models are still the user's (minutes to rebuild in CI).
    for reusable in ("models", "backbones"):
        assert (cache_dir() / reusable).resolve() == (user_cache_dir / reusable).resolve()


def test_start_scores_of_another_syncse_version_are_not_reused(
    tmp_path, senteval_dir, monkeypatch, syncse_logs
):
    """After an upgrade the start model is scored again: the report must not compare fresh
    trained scores with start scores from older code."""
    import syncse

    triplets = write_jsonl(sick_triplets(senteval_dir)[:32], tmp_path / "sick.jsonl")

    def run(name: str) -> list[str]:
        config_path = _write(
            tmp_path,
            f"out: {tmp_path / name}\nmodel: minilm\ndata_dir: {senteval_dir}\n"
            f"triplets: {triplets}\ntraining:\n  max_steps: 1\n  batch_size: 16\n"
            "evaluation:\n  tasks: [STSBenchmark]\n  limit: 30\n",
        )
        syncse_logs.clear()
        run_pipeline(load_run_config(config_path))
        return list(syncse_logs)

    run("a")
    monkeypatch.setattr(syncse, "__version__", syncse.__version__ + ".post1")
    from syncse.evaluation.runner import scoring_identity

    scoring_identity.cache_clear()  # computed once per process; an upgrade is a new process
    upgraded = run("b")
    assert any("evaluate start model (minilm)" in line for line in upgraded), upgraded
    assert not any("scored before" in line for line in upgraded)
    # In the run folder of the old version, both models are scored again, not only one.
    again = run("a")
    assert not any("up to date" in line and "evaluate" in line for line in again), again


def test_synthesis_stage_key_is_the_effective_settings(tmp_path, monkeypatch, syncse_logs):
    """A default that changes under an unchanged section re-runs the stage (as for training);
    spelling a default out does not."""
    from syncse.pipeline.config import load_run_config
    from syncse.pipeline.run import StageLog, synthesize_stage

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCSE_DATA_DIR", raising=False)
    sentences = [
        "A man is riding a horse on the beach.",
        "A woman is cooking pasta in a kitchen.",
        "A dog jumps over a log in the forest.",
        "Two children are building a sandcastle.",
    ]
    (tmp_path / "s.txt").write_text("\n".join(sentences) + "\n")
    body = (
        "out: run\nsynthesis:\n  mode: partial\n  input: s.txt\n"
        "  filters: {decontaminate: false}\n  sampling: {examples_per_call: 1, %s}\n"
    )
    config_path = _write(tmp_path, body % "max_tokens: 32")
    stages = StageLog(tmp_path / "stages.json")
    logs = syncse_logs
    synthesize_stage(load_run_config(config_path), stages)
    # The same settings with a default spelled out: up to date.
    _write(tmp_path, body % "max_tokens: 32, top_p_negative: 0.95")
    logs.clear()
    synthesize_stage(load_run_config(config_path), stages)
    assert any("up to date" in line for line in logs), logs
    # The same YAML under another default (`block_size`, which it does not set): not up to
    # date.
    config = load_run_config(config_path)
    config.synthesis.block_size = 16
    logs.clear()
    synthesize_stage(config, stages)
    assert not any("up to date" in line for line in logs), logs


def test_run_without_data_dir_says_how_to_point_at_one(
    tmp_path, senteval_dir, monkeypatch, syncse_logs
):
    monkeypatch.delenv("SYNCSE_DATA_DIR", raising=False)
    triplets = write_jsonl(sick_triplets(senteval_dir)[:32], tmp_path / "sick.jsonl")
    config_path = _write(
        tmp_path,
        f"out: {tmp_path / 'run'}\ntriplets: {triplets}\ntraining:\n  max_steps: 1\n"
        "  batch_size: 16\n",
    )
    logs = syncse_logs
    report = run_pipeline(load_run_config(config_path))
    assert any("SYNCSE_DATA_DIR" in line for line in logs)
    assert "SYNCSE_DATA_DIR" in report.read_text()


@pytest.mark.slow
def test_cli_run_scratch_end_to_end(tmp_path, senteval_dir):
    """The real thing, scaled down: SmolLM2 writes data, MiniLM trains on it, both evaluated."""
    config_path = _write(
        tmp_path,
        f"out: {tmp_path / 'run'}\ndata_dir: {senteval_dir}\n"
        "synthesis:\n  mode: scratch\n  n: 6\n  per_call: 6\n"
        "  backend:\n    model: smollm2-135m\n    concurrency: 2\n"
        "  sampling:\n    examples_per_call: 2\n    max_tokens: 40\n"
        "training:\n  max_steps: 2\n  batch_size: 4\n"
        "evaluation:\n  tasks: [STSBenchmark, SICKRelatedness]\n  limit: 100\n",
    )
    result = subprocess.run(
        [sys.executable, "-m", "syncse", "run", str(config_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run = tmp_path / "run"
    rows = [json.loads(x) for x in (run / "data" / "triplets.jsonl").read_text().splitlines()]
    assert len(rows) >= 2 and all(r["sent0"] and r["sent1"] and r["hard_neg"] for r in rows)
    report = (run / "report.md").read_text()
    assert "SICK-R" in report and "Written by `llama-cpp:smollm2-135m`" in report
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(run / "model")).encode(["a test"]).shape == (1, 384)


@pytest.mark.parametrize(
    ("trained", "verdict"),
    [
        (80.0, "improved the STS average"),
        (78.90, "left the STS average about where it was"),  # +0.03: a seed's worth
        (78.70, "left the STS average about where it was"),
        (77.75, "lowered the STS average"),
    ],
)
def test_report_outcome_does_not_call_noise_a_change(trained, verdict):
    from syncse.pipeline.report import outcome

    line = outcome(78.87, trained)
    assert verdict in line
    assert f"{trained - 78.87:+.2f}" in line
