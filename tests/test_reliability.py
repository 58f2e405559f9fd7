"""Reliability: bad input to every command, faults from the server, kill -9, and secrets.

Bad synthesis inputs (binary, non-UTF-8, 1 MB line, missing column, broken JSONL, missing or
fake GGUF, unreachable URL) are in test_synthesis.py; this file covers the other commands.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "helpers"))

GOOD_ROW = '{"sent0": "A dog runs.", "sent1": "A dog is running.", "hard_neg": "A cat sleeps."}\n'


def _files(tmp: Path) -> dict[str, Path]:
    """Bad files of every kind, written once per test."""
    files = {
        "empty.jsonl": b"",
        "binary.jsonl": bytes(range(256)) * 8,
        "latin1.csv": "sent0,sent1,hard_neg\ncaf\xe9,b,c\n".encode("latin-1"),
        "long.jsonl": (
            json.dumps({"sent0": "x" * 1_000_000, "sent1": "a b", "hard_neg": "c d"}) + "\n"
        ).encode(),
        "nocol.csv": b"text,label\nA dog runs.,1\n",
        "broken.jsonl": (GOOD_ROW + '{"sent0": "A cat", \n').encode(),
        "bad.yaml": b"out: o\ntraining: [1\n",
        "unknown.yaml": b"out: o\ntriplets: t.jsonl\ntraining:\n  epochz: 3\n",
        "good.jsonl": (GOOD_ROW * 4).encode(),
        "notjson.json": b"{not json",
        "latin1.yaml": "out: o\n# caf\xe9\n".encode("latin-1"),
    }
    paths = {}
    for name, payload in files.items():
        paths[name] = tmp / name
        paths[name].write_bytes(payload)
    return paths


CASES = [
    # (command line with {file} placeholders, expected text in the one-line error)
    ("train --data {empty.jsonl} --out {out}", "empty.jsonl: no training rows"),
    ("train --data {binary.jsonl} --out {out}", "binary.jsonl: not UTF-8 text (byte 128)"),
    ("train --data {latin1.csv} --out {out}", "latin1.csv: not UTF-8"),
    ("train --data {long.jsonl} --out {out}", "long.jsonl:1: anchor of 1000000 characters"),
    ("train --data {nocol.csv} --out {out}", "nocol.csv:2: no positive column"),
    ("train --data {broken.jsonl} --out {out}", "broken.jsonl:2: invalid JSON"),
    ("train --data {good.jsonl} --out {out} --model /no/such/model", "model /no/such/model"),
    ("stats {empty.jsonl}", "empty.jsonl: no training rows"),
    ("stats {broken.jsonl}", "broken.jsonl:2: invalid JSON"),
    ("stats {binary.jsonl}", "binary.jsonl: not UTF-8 text (byte 128)"),
    ("run {bad.yaml}", "bad.yaml:3: not valid YAML"),
    ("run {unknown.yaml}", "unknown.yaml:4: training.epochz: unknown key"),
    ("run {tmp}/missing.yaml", "missing.yaml: no such config file"),
    ("evaluate minilm --data-dir {tmp}/nowhere --out {out}/r.json", "nowhere: data folder does"),
    ("evaluate minilm --data-dir {tmp} --out {out}/r.json", "missing file for task STS12"),
    (
        "evaluate /no/such/model --tasks STSBenchmark --data-dir {data} --out {out}/r.json",
        "model /no/such/model",
    ),
    ("compare {notjson.json} {notjson.json}", "notjson.json: not a results JSON file"),
    ("report {tmp}", "not a syncse run folder"),
    # The machine's state: a full disk, a folder nobody may write, a file where a folder goes.
    ("stats {good.jsonl} --json /dev/full", "/dev/full: No space left on device"),
    ("stats {good.jsonl} --json /sys/syncse.json", "/sys/syncse.json: "),
    ("train --data {good.jsonl} --out {good.jsonl}/m", "good.jsonl/m: Not a directory"),
    # A folder where a file belongs.
    ("train --data {tmp} --out {out}", "is a folder; pass a triplets file"),
    ("stats {tmp}", "is a folder; pass a triplets file"),
    ("run {tmp}", "no such config file"),
    # Found before any task spends its time: an empty reranking file (MAP would be NaN), an
    # MTEB set that is neither in the data folder nor reachable offline.
    (
        "evaluate minilm --tasks STSBenchmark --rerank-file {empty.jsonl} --data-dir {data} "
        "--out {out}/r.json",
        "empty.jsonl: no reranking samples",
    ),
    (
        "evaluate minilm --tasks sts,mteb-rerank --data-dir {data} --out {out}/r.json",
        "the hub (mteb/askubuntudupquestions-reranking) is offline",
    ),
    ("run {latin1.yaml}", "latin1.yaml:2: not UTF-8"),
]


@pytest.mark.parametrize(("command", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_error_and_no_output(
    tmp_path, syncse_cli, senteval_dir, command, expected
):
    paths = _files(tmp_path)
    out = tmp_path / "out"
    for name, path in paths.items():  # names hold dots, so no str.format
        command = command.replace("{" + name + "}", str(path))
    command = command.replace("{data}", str(senteval_dir))
    argv = command.replace("{tmp}", str(tmp_path)).replace("{out}", str(out)).split()
    code, err = syncse_cli(*argv)
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0], err[-1500:]
    assert not [line for line in err.splitlines() if line.startswith("STS12 ")]  # no task ran
    # Nothing left that looks like a finished result.
    left = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not [p for p in left if p.name in ("model.safetensors", "r.json", "report.md")], left


def _captions(n: int) -> list[str]:
    from syncse.data.corpora import flickr8k_captions

    default = Path(__file__).parents[2] / "shared/data/senteval"
    return flickr8k_captions(Path(os.environ.get("SYNCSE_DATA_DIR", default)), n)


def _keys(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["key"] for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    """Kill the synthesis process 5 times at random moments, tear its last line once as a kill
    mid-write would, resume: every input ends in the output or the rejected file exactly once."""
    inputs = tmp_path / "in.txt"
    inputs.write_text("\n".join(_captions(40)) + "\n")
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "syncse", "synthesize", "partial", "--input", str(inputs)]
    command += ["--out", str(out), "--examples", "1", "--no-decontaminate", "--concurrency", "2"]
    rng = random.Random(7)
    kills = 0
    while kills < 5:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(4.0, 12.0))  # imports take ~4 s; then calls are ~0.5 s each
        if proc.poll() is not None:
            break  # finished before the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        if kills == 3 and out.exists():
            with out.open("ab") as handle:  # a torn write, as a kill inside write() leaves
                handle.write(b'{"sent0": "half a line')
    assert kills >= 3, "the run finished too fast to be killed; raise the input count"
    final = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert final.returncode == 0, final.stderr[-2000:]
    for line in out.read_text().splitlines():
        json.loads(line)  # no corrupt line survives
    accepted = _keys(out)
    assert len(accepted) == len(set(accepted)), "duplicated rows"
    rejected = set(_keys(tmp_path / "out.jsonl.rejected.jsonl"))
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert summary["accepted"] + sum(summary["rejected"].values()) == 40
    assert len(set(accepted) | rejected) == 40
    print(f"kill -9 x{kills}: {len(accepted)} accepted, {len(rejected - set(accepted))} rejected")


@pytest.mark.slow
def test_faults_from_the_server_lose_and_duplicate_nothing(tmp_path):
    """~30% of requests faulted between the openai backend and a real llama.cpp server."""
    from fault_proxy import FaultProxy

    from syncse.synthesis import BackendConfig, SamplingConfig, SynthesisConfig, synthesize_partial
    from syncse.synthesis.backends.llama_cpp_backend import resolve_gguf
    from syncse.synthesis.backends.llama_cpp_python_server import python_server
    from syncse.synthesis.config import FilterConfig

    n = int(os.environ.get("SYNCSE_FAULT_INPUTS", "300"))
    sentences = _captions(n)
    out = tmp_path / "f.jsonl"
    secret = "sk-test-DO-NOT-LEAK-7f3a9c"
    os.environ["SYNCSE_TEST_KEY"] = secret
    with python_server(resolve_gguf("smollm2-135m"), alias="smollm2", n_ctx=1024) as url:
        with FaultProxy(url, fault_rate=0.3, slow_seconds=9.0, seed=1) as proxy:
            config = SynthesisConfig(
                out=out,
                backend=BackendConfig(
                    kind="openai",
                    model="smollm2",
                    base_url=proxy.url,
                    api_key_env="SYNCSE_TEST_KEY",
                    # One request at a time per worker reaches a server that decodes one at a
                    # time: the timeout must cover queueing behind the other worker.
                    concurrency=2,
                    timeout=8.0,
                    max_retries=3,
                ),
                sampling=SamplingConfig(examples_per_call=1, max_tokens=32),
                filters=FilterConfig(decontaminate=False),
            )
            first = synthesize_partial(config, sentences)
            faults = dict(proxy.counts)
        # Resume without faults: what failed for transport reasons is asked again.
        config.backend.base_url = url
        second = synthesize_partial(config, sentences)

    accepted = _keys(out)
    assert len(accepted) == len(set(accepted)), "duplicated rows"
    assert first["accepted"] + sum(first["rejected"].values()) == n  # nothing silently dropped
    assert second["accepted"] + sum(second["rejected"].values()) == n
    assert "backend_error" not in second["rejected"]
    assert faults.get("requests", 0) > 1.5 * n
    injected = sum(v for k, v in faults.items() if k != "requests")
    assert 0.2 < injected / faults["requests"] < 0.4
    # The API key is in no file the run wrote.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    report = {
        "inputs": n,
        "requests": faults["requests"],
        "faults_injected": injected,
        "faults": {k: v for k, v in sorted(faults.items()) if k != "requests"},
        "first_run": {"accepted": first["accepted"], "rejected": first["rejected"]},
        "after_resume": {"accepted": second["accepted"], "rejected": second["rejected"]},
        "duplicated": len(accepted) - len(set(accepted)),
        "lost": n - second["accepted"] - sum(second["rejected"].values()),
    }
    print(json.dumps(report, indent=1))
    target = os.environ.get("SYNCSE_FAULT_REPORT")
    if target:
        Path(target).write_text(json.dumps(report, indent=2) + "\n")


def test_ctrl_c_on_the_default_backend_exits_130_and_the_rerun_resumes(tmp_path):
    """A real SIGINT to the process group (what a terminal's Ctrl-C sends) while the default
    backend (llama-cpp, SmolLM2) decodes in its worker thread: one `interrupted` line with the
    resume hint, exit code 130, no crash; the same command then finishes the file. Before the
    fix the contexts were freed under the running decode: exit -11 in libggml-cpu.so."""
    # Enough work that the run is still decoding when the signal lands, on an idle machine
    # too: per-call prompts (block size 1) are not served from the cached prefix.
    n = 12
    inputs = tmp_path / "in.txt"
    inputs.write_text("\n".join(_captions(n)) + "\n")
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "syncse", "synthesize", "partial", "--input", str(inputs)]
    command += ["--out", str(out), "--examples", "3", "--block-size", "1", "--no-decontaminate"]
    err_path = tmp_path / "stderr.txt"
    from ctrl_c import answers_cached, start_interruptible

    with err_path.open("wb") as err:  # a file, not a pipe nobody reads while waiting
        proc = start_interruptible(command, err)
        try:
            deadline = time.monotonic() + 120
            while answers_cached(out) < 1 and proc.poll() is None:
                assert time.monotonic() < deadline, "no answer within 120 s"
                time.sleep(0.05)
            assert proc.poll() is None, err_path.read_text()[-2000:]
            time.sleep(0.3)  # the next answer is being decoded in the worker thread now
            os.killpg(proc.pid, signal.SIGINT)
            sent = time.monotonic()
            code = proc.wait(timeout=60)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    stderr = err_path.read_text(errors="replace")
    assert code == 130, f"exit code {code}\n{stderr[-2000:]}"
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr[-2000:]
    lines = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("interrupted")]
    assert len(said) == 1, stderr[-2000:]
    assert lines[-1] == said[0]  # the last word, on a line of its own
    assert f"{out}" in said[0] and "run the same command again to resume" in said[0]
    assert took < 30, f"{took:.1f} s from SIGINT to exit"
    # The same command resumes: every input ends in the output or the rejected file once.
    final = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    accepted = _keys(out)
    assert len(accepted) == len(set(accepted)), "duplicated rows"
    rejected = {
        json.loads(line)["key"]
        for line in (tmp_path / "out.jsonl.rejected.jsonl").read_text().splitlines()
        if not json.loads(line)["retryable"]
    }
    assert len(set(accepted) | rejected) == n
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert summary["accepted"] + sum(summary["rejected"].values()) == n
