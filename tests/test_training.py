import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from syncse.errors import DataError
from syncse.training import TrainingConfig, load_triplets, train
from syncse.training.reference import sick_triplets, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def triplets(senteval_dir, tmp_path_factory) -> Path:
    return write_jsonl(sick_triplets(senteval_dir), tmp_path_factory.mktemp("d") / "sick.jsonl")


def _batch_loss(model, rows) -> float:
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    loss = MultipleNegativesRankingLoss(model, scale=20.0)
    model.eval()
    with torch.no_grad():
        features = [model.preprocess([r[k] for r in rows]) for k in ("sent0", "sent1", "hard_neg")]
        return float(loss(features, labels=None))


def test_few_steps_lower_loss_change_weights_and_round_trip(triplets, tmp_path, minilm):
    from sentence_transformers import SentenceTransformer

    rows = [json.loads(line) for line in triplets.read_text().splitlines()][:64]
    before = _batch_loss(minilm, rows)
    out = tmp_path / "model"
    summary = train(
        TrainingConfig(
            data=triplets, out=out, max_steps=12, batch_size=32, learning_rate=1e-4, device="cpu"
        ),
    )
    assert summary["global_step"] == 12
    trained = SentenceTransformer(str(out), device="cpu")
    after = _batch_loss(trained, rows)
    assert after < before - 0.05, (before, after)
    start_vec = minilm.encode(["A man is playing a guitar."])
    trained_vec = trained.encode(["A man is playing a guitar."])
    assert abs(start_vec - trained_vec).max() > 1e-4  # weights changed
    # Round trip: what was saved is what was trained (reload twice, identical embeddings).
    again = SentenceTransformer(str(out), device="cpu").encode(["A man is playing a guitar."])
    assert (again == trained_vec).all()
    card = (out / "README.md").read_text()
    assert "## syncse training" in card and "367 rows" in card
    saved = json.loads((out / "syncse_training.json").read_text())
    assert saved["config"]["temperature"] == 0.05 and saved["data"]["rows"] == 367
    # Trained at 32 tokens, saved at the start model's own length (256 for all-MiniLM-L6-v2).
    assert trained.max_seq_length == minilm.max_seq_length == 256


def test_unsupervised_objective_uses_anchor_sentences_only(triplets, tmp_path):
    summary = train(
        TrainingConfig(
            data=triplets,
            out=tmp_path / "u",
            objective="unsup",
            max_steps=2,
            batch_size=16,
            device="cpu",
        ),
    )
    assert summary["data"]["training_examples"] == len(
        {json.loads(x)["sent0"] for x in triplets.read_text().splitlines()}
    )
    assert summary["global_step"] == 2


@pytest.mark.slow  # ~1 min: two dev evaluations while training and one of the saved folder
def test_dev_evaluation_keeps_best_checkpoint_and_the_records_agree(
    triplets, tmp_path, senteval_dir
):
    out = tmp_path / "m"
    summary = train(
        TrainingConfig(
            data=triplets,
            out=out,
            max_steps=4,
            batch_size=16,
            eval_steps=2,
            data_dir=senteval_dir,
            device="cpu",
            mlp_head=True,  # scored without it, as it is saved
        ),
    )
    dev_logs = [h for h in summary["log_history"] if "eval_sts-dev_spearman_cosine" in h]
    assert [h["step"] for h in dev_logs] == [2, 4]
    best = max(dev_logs, key=lambda h: h["eval_sts-dev_spearman_cosine"])
    assert summary["best_step"] == best["step"]
    # The reported figure is the best step's as logged: steps are scored as the model is
    # saved (its own 256-token length, not training's 32; without the MLP head) ...
    assert summary["dev_spearman"] == pytest.approx(100 * best["eval_sts-dev_spearman_cosine"])
    # ... no record points at the removed checkpoints ...
    saved = (out / "syncse_training.json").read_text()
    assert "checkpoint" not in saved and not (out / "checkpoints").exists()
    # ... and it is what the saved folder scores: the best checkpoint is the one shipped.
    from syncse.data.senteval import load_stsb_dev
    from syncse.evaluation.encoding import CachedEncoder
    from syncse.evaluation.sts import correlations, cosine_scores
    from syncse.models import load_encoder

    dev = load_stsb_dev(senteval_dir)
    shipped = load_encoder(str(out), device="cpu")
    rescored = correlations(cosine_scores(CachedEncoder(shipped), dev), dev.gold)["spearman"]
    assert abs(rescored - summary["dev_spearman"]) < 0.05
    assert (
        f"STS-B dev Spearman x100: {summary['dev_spearman']:.2f}" in (out / "README.md").read_text()
    )


def _cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "syncse", *args], capture_output=True, text=True, timeout=900, **kw
    )


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ("", ".jsonl", "no training rows"),
        (
            '{"sent0": "a", "sent1": "b", "hard_neg": "c"}\n{"sent0": "a", "sent1": "", '
            '"hard_neg": "c"}\n',
            ".jsonl",
            ":2: empty or missing positive",
        ),
        ('{"sent0": "a", "hard_neg": "c"}\n', ".jsonl", ":1: no positive column"),
        (
            '{"anchor": "a", "positive": "b", "negative": "c"}\n{"anchor": "a", "positive": "b"}\n',
            ".jsonl",
            ":2: empty or missing negative",
        ),
        ('{"sent0": "a", "sent1": "b", "hard_neg": "c"}\n{broken\n', ".jsonl", ":2: invalid JSON"),
        ("sent0,hard_neg\nx,y\n", ".csv", "no positive column"),
        ("sent0,sent1,hard_neg\nx,y,z\nx,,z\n", ".csv", ":3: empty or missing positive"),
        ("", ".csv", "empty file"),
        ("a\tb", ".txt", "unknown file type"),
    ],
)
def test_bad_training_input_is_one_line_error(tmp_path, syncse_cli, content, suffix, expected):
    data = tmp_path / f"data{suffix}"
    data.write_text(content)
    code, err = syncse_cli("train", "--data", data, "--out", tmp_path / "o")
    assert code == 2, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [f"error: {data}" + err.split(str(data), 1)[1].strip()]
    assert expected in err
    assert not (tmp_path / "o").exists()  # nothing left that looks like output


def test_eval_steps_without_dev_data_is_one_line_error_naming_both_ways(
    triplets, tmp_path, syncse_cli, monkeypatch
):
    """README's `syncse train ... --eval-steps 50`: the dev set comes from --data-dir or
    $SYNCSE_DATA_DIR, and without either the user learns why it is needed, before any output."""
    monkeypatch.delenv("SYNCSE_DATA_DIR", raising=False)
    out = tmp_path / "o"
    code, err = syncse_cli("train", "--data", triplets, "--out", out, "--eval-steps", "50")
    [line] = err.strip().splitlines()
    assert code == 2 and "--eval-steps" in line and "--data-dir" in line, err
    assert "SYNCSE_DATA_DIR" in line and not out.exists()
    readme = (ROOT / "README.md").read_text()
    assert all("--data-dir" in cmd for cmd in readme.splitlines() if "--eval-steps" in cmd)


def test_binary_file_is_rejected(tmp_path):
    data = tmp_path / "x.jsonl"
    data.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match="x.jsonl: not UTF-8 text"):
        load_triplets(data)


@pytest.mark.slow
def test_resume_after_kill_continues_from_checkpoint(triplets, tmp_path):
    out = tmp_path / "model"
    args = [
        "train",
        "--data",
        str(triplets),
        "--out",
        str(out),
        "--max-steps",
        "10",
        "--save-steps",
        "3",
        "--batch-size",
        "16",
        "--device",
        "cpu",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncse", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 600
    checkpoint = out / "checkpoints" / "checkpoint-6"
    while not (checkpoint / "trainer_state.json").exists():
        assert proc.poll() is None and time.time() < deadline, "training ended before step 6"
        time.sleep(0.2)
    time.sleep(0.5)
    proc.kill()  # SIGKILL mid-run: no clean shutdown
    proc.wait()
    assert not (out / "syncse_training.json").exists()
    done = _cli(*args, "--resume")
    assert done.returncode == 0, done.stderr
    assert "resuming from" in done.stderr and "checkpoint-" in done.stderr
    summary = json.loads((out / "syncse_training.json").read_text())
    assert summary["global_step"] == 10
    resumed_step = int(Path(summary["resumed_from"]).name.split("-")[1])
    assert resumed_step >= 6
    assert summary["steps_this_run"] == 10 - resumed_step  # continued, did not start over
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(out), device="cpu").encode(["ok"]).shape == (1, 384)


@pytest.mark.slow
def test_two_process_data_parallel_on_cpu_keeps_ranks_in_sync(triplets, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            "29517",
            str(ROOT / "tests" / "helpers" / "ddp_train.py"),
            str(triplets),
            str(tmp_path / "m"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests = [(tmp_path / f"rank{r}-of-2.sha256").read_text() for r in (0, 1)]
    assert digests[0] == digests[1]
    summary = json.loads((tmp_path / "m" / "syncse_training.json").read_text())
    assert summary["global_step"] == 3
