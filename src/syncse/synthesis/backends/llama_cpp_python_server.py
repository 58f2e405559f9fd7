"""Start llama-cpp-python's OpenAI-compatible *Python* server (`python -m llama_cpp.server`) on
127.0.0.1 for a GGUF file.

Not a backend: used by the tests, the benchmark and the fault-injection checks, so that the
`openai` backend is always exercised against a real server; also handy for users who want one
local endpoint shared by several runs. The `llama-server` backend (`llama_server.py`) is
another program: llama.cpp's native batching server, which that backend starts and stops.
(This module was `local_server.py`, which still imports.)
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def python_server(
    model: Path | str,
    alias: str = "local",
    n_ctx: int = 2048,
    n_threads: int | None = None,
    startup_timeout: float = 120.0,
) -> Iterator[str]:
    """Yield the server's base URL (`http://127.0.0.1:PORT/v1`) once it answers /models."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]
    command += ["--model_alias", alias]
    if n_threads:
        command += ["--n_threads", str(n_threads)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + startup_timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError as exc:
                if proc.poll() is not None:
                    raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}") from exc
                if time.time() > deadline:
                    raise RuntimeError("llama_cpp.server did not start in time") from exc
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
