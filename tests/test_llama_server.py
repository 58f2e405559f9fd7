"""The llama-server backend against the real llama.cpp server binary (built by `make install`).

Each test starts the real `llama-server` through syncse with the bundled SmolLM2 GGUF. Without
the binary the tests skip on a developer's machine and fail under CI (where `make install`
builds it), so CI cannot go green by testing nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncse.synthesis.backends.llama_server import BINARY_ENV

sys.path.insert(0, str(Path(__file__).parent / "helpers"))

CAPTIONS = [
    "A man is riding a horse on the beach.",
    "A woman is cooking pasta in a kitchen.",
    "A dog jumps over a log in the forest.",
    "Three girls are dancing on a stage.",
]


@pytest.fixture(scope="module")
def binary(llama_server_binary) -> Path:
    return llama_server_binary


def _servers_of(pid: int) -> list[int]:
    """PIDs of llama-server processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        state = stat.rsplit(")", 1)[1].split()[0]
        if parent == pid and state != "Z" and cmdline[0].endswith(b"llama-server"):
            found.append(int(entry.name))
    return found


def _one_caption_via_server(syncse_cli, tmp_path: Path, *options) -> tuple[int, str]:
    """`syncse synthesize partial` of one caption with `--backend llama-server`."""
    inputs = tmp_path / "in.txt"
    inputs.write_text(CAPTIONS[0] + "\n")
    return syncse_cli(
        "synthesize", "partial", "--input", inputs, "--out", tmp_path / "o.jsonl",
        "--backend", "llama-server", "--no-decontaminate", *options,
    )  # fmt: skip


def test_partial_through_llama_server_caches_and_stops_the_server(binary, tmp_path, syncse_cli):
    inputs = tmp_path / "in.txt"
    inputs.write_text("\n".join(CAPTIONS) + "\n")
    out = tmp_path / "out.jsonl"
    argv = ["synthesize", "partial", "--input", inputs, "--out", out, "--backend"]
    argv += ["llama-server", "--concurrency", "2", "--examples", "2", "--no-decontaminate"]
    code, err = syncse_cli(*argv)
    assert code == 0, err
    summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
    assert summary["accepted"] + sum(summary["rejected"].values()) == len(CAPTIONS)
    assert summary["accepted"] >= 1, summary
    assert summary["this_run"]["llm_calls"] >= len(CAPTIONS)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {row["backend"] for row in rows} == {"llama-server:smollm2-135m"}
    assert all(row["sent0"] in CAPTIONS and row["sent1"] and row["hard_neg"] for row in rows)
    assert _servers_of(os.getpid()) == [], "the server outlived the run"
    # The same run again: every answer from the cache, so no server is even needed.
    out.unlink()
    out.with_name(out.name + ".rejected.jsonl").unlink(missing_ok=True)
    code, err = syncse_cli(*argv)
    assert code == 0, err
    again = json.loads(out.with_name(out.name + ".summary.json").read_text())
    assert again["this_run"]["llm_calls"] == 0 and again["this_run"]["cache_hits"] > 0
    assert again["accepted"] == summary["accepted"]


def test_slots_answer_concurrent_requests(binary):
    """Two slots: two requests in flight are answered, by one server that then stops."""
    from syncse.synthesis.backends import ChatRequest, create_backend
    from syncse.synthesis.config import BackendConfig

    backend = create_backend(BackendConfig(kind="llama-server", concurrency=2))

    async def ask() -> tuple[list, int | None, int | None]:
        await backend.check()
        server = backend._server
        requests = [
            ChatRequest(messages=(("user", f"Say the number {n}."),), max_tokens=8, seed=n)
            for n in range(4)
        ]
        answers = await asyncio.gather(*(backend.complete(r) for r in requests))
        await backend.aclose()
        return answers, server.proc, server.port

    answers, proc, port = asyncio.run(ask())
    assert len(answers) == 4 and all(a.completion_tokens > 0 for a in answers)
    assert proc is None  # stopped and released
    with pytest.raises(OSError):
        import urllib.request

        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)


def test_a_file_llama_server_cannot_load_is_one_line_error(binary, tmp_path, syncse_cli):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)  # right magic bytes, no model
    code, err = _one_caption_via_server(syncse_cli, tmp_path, "--model", broken)
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "llama-server exited" in lines[0], err
    assert "Traceback" not in err
    assert _servers_of(os.getpid()) == []


def test_missing_binary_is_named(tmp_path, syncse_cli, monkeypatch):
    monkeypatch.setenv(BINARY_ENV, str(tmp_path / "nowhere" / "llama-server"))
    code, err = _one_caption_via_server(syncse_cli, tmp_path)
    assert code == 2
    assert f"${BINARY_ENV}=" in err and "not an executable file" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["ctrl-c-while-loading", "ctrl-c", "kill-9"])
def test_the_server_stops_with_syncse(binary, tmp_path, how):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while the server loads
    its model or mid-run, and kill -9 of syncse, all leave no llama-server behind; Ctrl-C ends
    with one `interrupted` line and exit code 130.

    While loading: the SIGINT reaches the server too, and syncse's wait for /health used to
    block the event loop, deaf to the cancellation `asyncio.run` makes of a SIGINT: it
    reported the server's death as an error ("llama-server exited with code -2 while
    loading", exit 2), and a server that outlived the SIGINT without answering kept it
    polling for up to 120 s. The child is started with SIGINT's default action
    (`start_interruptible`): run from a background shell, the test used to send a SIGINT the
    child ignored, and passed or timed out depending on how fast the whole run went."""
    inputs = tmp_path / "in.txt"
    inputs.write_text("\n".join(CAPTIONS * 10) + "\n")
    out = tmp_path / "o.jsonl"
    command = [sys.executable, "-m", "syncse", "synthesize", "partial", "--input", str(inputs)]
    command += ["--out", str(out), "--backend", "llama-server"]
    command += ["--no-decontaminate", "--block-size", "1"]
    from ctrl_c import answers_cached, start_interruptible

    err_path = tmp_path / "stderr.txt"
    with err_path.open("wb") as err:  # a file, not a pipe nobody reads while waiting
        proc = start_interruptible(command, err)
        try:
            deadline = time.monotonic() + 120
            servers: list[int] = []
            while not servers and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
                servers = _servers_of(proc.pid)
            assert servers, "syncse never started llama-server"
            if how == "ctrl-c":  # mid-run: the model is loaded and answering
                while not answers_cached(out) and time.monotonic() < deadline:
                    assert proc.poll() is None, err_path.read_text()[-2000:]
                    time.sleep(0.05)
            if how == "kill-9":
                time.sleep(3)  # mid-run
                proc.send_signal(signal.SIGKILL)
            else:
                os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in servers):
        time.sleep(0.2)
    alive = [p for p in servers if _alive(p)]
    assert alive == [], f"llama-server {alive} outlived syncse ({how})"
    if how != "kill-9":
        stderr = err_path.read_text(errors="replace")
        assert code == 130, f"exit code {code}\n{stderr[-2000:]}"
        lines = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()]
        said = [line for line in lines if line.startswith("interrupted")]
        assert len(said) == 1 and lines[-1] == said[0], stderr[-2000:]
        assert "Traceback" not in stderr and "error:" not in stderr, stderr[-2000:]


def test_a_server_that_dies_mid_run_stops_the_run(binary, tmp_path):
    """The server killed under a running synthesis (a crash, the OOM killer): one error line
    naming it and exit code 2, not every input left turned into a retryable backend error
    after the client's retries against the closed port, with exit code 0."""
    from ctrl_c import answers_cached

    inputs = tmp_path / "in.txt"
    inputs.write_text("\n".join(f"{c} ({n})" for n in range(5) for c in CAPTIONS) + "\n")
    out = tmp_path / "o.jsonl"
    command = [sys.executable, "-m", "syncse", "synthesize", "partial", "--input", str(inputs)]
    command += ["--out", str(out), "--backend", "llama-server", "--no-decontaminate"]
    command += ["--block-size", "1", "--max-retries", "1"]
    err_path = tmp_path / "stderr.txt"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while not answers_cached(out) and time.monotonic() < deadline:
                assert proc.poll() is None, err_path.read_text()[-2000:]
                time.sleep(0.05)
            for server in _servers_of(proc.pid):
                os.kill(server, signal.SIGKILL)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stderr = err_path.read_text(errors="replace")
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, stderr[-2000:]
    assert "llama-server exited with code -9" in errors[0]
    rejected = out.with_name(out.name + ".rejected.jsonl").read_text().splitlines()
    assert sum('"backend_error"' in line for line in rejected) <= 2  # one call per slot


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_extra_server_arguments_reach_the_server(binary, tmp_path, syncse_cli, monkeypatch):
    """$SYNCSE_LLAMA_SERVER_ARGS goes onto the server's command line: a flag it does not know
    makes it exit, and the user sees that as one line naming the server."""
    from syncse.synthesis.backends.llama_server import EXTRA_ARGS_ENV

    monkeypatch.setenv(EXTRA_ARGS_ENV, "--no-such-flag-for-syncse")
    code, err = _one_caption_via_server(syncse_cli, tmp_path)
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "llama-server exited" in lines[0], err
    assert not (tmp_path / "o.jsonl").exists()
    assert _servers_of(os.getpid()) == []


def test_a_server_too_slow_to_start_is_named_with_its_last_output(binary):
    """Past `startup_timeout` the error says what the server last printed. It used to name the
    server's log file, which `stop()` had already deleted by the time the user read it."""
    import re

    from syncse.errors import SyncseError
    from syncse.synthesis.backends import create_backend
    from syncse.synthesis.backends.llama_server import LlamaServerProcess
    from syncse.synthesis.config import BackendConfig

    model = create_backend(BackendConfig(kind="llama-server")).path
    server = LlamaServerProcess(model, slots=1, n_ctx=512, binary=binary, startup_timeout=0.01)
    with pytest.raises(SyncseError) as caught:
        asyncio.run(server.start())
    message = str(caught.value)
    assert "did not answer /health" in message and "last output:" in message, message
    assert "no output" not in message, message  # the server had printed something
    named = re.findall(r"/\S+\.log", message)
    assert all(Path(path).exists() for path in named), f"names a deleted file: {message}"
    assert server.proc is None and _servers_of(os.getpid()) == []
