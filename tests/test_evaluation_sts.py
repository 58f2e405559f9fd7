import json
import subprocess
import sys

import pytest

from syncse.evaluation import EvaluationConfig, evaluate_model
from syncse.evaluation.encoding import CachedEncoder
from syncse.evaluation.sts import STS13, load_sts_subset

PUBLISHED_MINILM = {
    "STS12": 72.37,
    "STS13": 80.60,
    "STS14": 75.59,
    "STS15": 85.39,
    "STS16": 78.99,
    "STSBenchmark": 82.03,
    "SICKRelatedness": 77.15,
}


def test_sts15_skips_pairs_with_empty_gold(senteval_dir):
    directory = senteval_dir / "STS" / "STS15-en-test"
    lines = (directory / "STS.gs.answers-forums.txt").read_text().splitlines()
    pairs = load_sts_subset(directory, "answers-forums")
    assert len(pairs.gold) == sum(1 for s in lines if s.strip())
    assert len(pairs.gold) < len(lines)  # the file does have empty gold lines


def test_cached_encoder_encodes_each_sentence_once(minilm):
    encoder = CachedEncoder(minilm)
    first = encoder.encode(["a dog runs", "a cat sleeps", "a dog runs"])
    again = encoder.encode(["a cat sleeps"])
    assert encoder.sentences_encoded == 2
    assert (first[1] == again[0]).all()
    assert abs(float((first[0] ** 2).sum()) - 1.0) < 1e-5


def test_sts13_runs_and_pools_subsets(minilm, senteval_dir):
    result = STS13(senteval_dir).evaluate(CachedEncoder(minilm))
    assert set(result["subsets"]) == {"FNWN", "headlines", "OnWN"}
    assert result["n_pairs"] == sum(s["n_pairs"] for s in result["subsets"].values()) == 1500
    # The pooled figure is not the mean of the subset figures (that is the "mean" setting).
    mean = sum(s["spearman"] for s in result["subsets"].values()) / 3
    assert abs(result["spearman"] - mean) > 0.1


@pytest.mark.slow
def test_reproduces_published_minilm_figures(minilm, senteval_dir, tmp_path):
    config = EvaluationConfig(model="minilm", data_dir=senteval_dir, tasks=["sts"])
    results = evaluate_model(config, model=minilm)
    for task, expected in PUBLISHED_MINILM.items():
        got = results["tasks"][task]["spearman"]
        assert abs(got - expected) <= 0.05, f"{task}: {got:.3f} vs published {expected}"
    assert results["summary"]["sts"]["complete"]
    assert abs(results["summary"]["sts"]["avg"] - 78.87) <= 0.05
    counts = {t: results["tasks"][t]["n_pairs"] for t in PUBLISHED_MINILM}
    assert counts == {
        "STS12": 3108,
        "STS13": 1500,
        "STS14": 3750,
        "STS15": 3000,
        "STS16": 1186,
        "STSBenchmark": 1379,
        "SICKRelatedness": 4927,
    }
    # Every distinct sentence encoded once: far fewer encodings than 2 x pairs.
    assert results["timings"]["sentences_encoded"] < 2 * sum(counts.values())


def _cli(*args, env_extra=None, cwd=None):
    import os

    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "syncse", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def test_cli_missing_data_dir_is_one_line_error(tmp_path):
    proc = _cli("evaluate", "minilm", "--data-dir", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope" in lines[0] and "SentEval" in lines[0]


def test_cli_missing_task_file_names_path(tmp_path):
    (tmp_path / "STS" / "STS12-en-test").mkdir(parents=True)
    proc = _cli("evaluate", "minilm", "--tasks", "STS12", "--data-dir", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert "STS.input.MSRpar.txt" in line and "missing file" in line and "\n" not in line


def test_cli_unknown_task(senteval_dir):
    proc = _cli("evaluate", "minilm", "--tasks", "STS99", "--data-dir", str(senteval_dir))
    assert proc.returncode == 2 and "unknown task 'STS99'" in proc.stderr


def test_cli_evaluate_writes_json_and_markdown_then_compare(senteval_dir, tmp_path, syncse_cli):
    out = tmp_path / "r.json"
    code, err = syncse_cli(
        "evaluate",
        "minilm",
        "--tasks",
        "STS16,MRPC",
        "--limit",
        "300",
        "--data-dir",
        str(senteval_dir),
        "--out",
        str(out),
    )
    assert code == 0, err
    data = json.loads(out.read_text())
    assert set(data["tasks"]) == {"STS16", "MRPC"}
    assert data["versions"]["torch"].startswith("2.13")
    assert "STS16" in out.with_suffix(".md").read_text()
    # Compare against a copy with one number changed: the delta must show up.
    data["tasks"]["STS16"]["spearman"] += 1.5
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    code, err = syncse_cli("compare", out, other)
    assert code == 0, err
    row = next(line for line in syncse_cli.stdout.splitlines() if line.startswith("| STS16"))
    assert "+1.50" in row


def test_tasks_take_the_names_tables_print():
    from syncse.evaluation.runner import SHORT_NAMES
    from syncse.evaluation.tasks import expand_task_names

    assert expand_task_names("STS-B,sick-r,STS12") == ["STSBenchmark", "SICKRelatedness", "STS12"]
    assert set(SHORT_NAMES.values()) == {"STS-B", "SICK-R"}


def test_evaluate_into_an_unwritable_folder_fails_before_any_task(senteval_dir, syncse_cli):
    code, err = syncse_cli(
        "evaluate", "minilm", "--tasks", "STSBenchmark", "--limit", "20",
        "--data-dir", senteval_dir, "--out", "/sys/syncse/r.json",
    )  # fmt: skip
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith("error: /sys/syncse") and "spearman" not in err


def test_compare_needs_two_files(tmp_path, syncse_cli):
    one = tmp_path / "r.json"
    one.write_text(json.dumps({"model": "m", "tasks": {}}))
    code, err = syncse_cli("compare", one)
    assert code == 2 and "two or more results files" in err.strip().splitlines()[-1]
