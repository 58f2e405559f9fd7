"""llama.cpp's own server (`llama-server`) for a local GGUF model, started and stopped by syncse.

Why a second local backend: llama-cpp-python decodes one sequence per context, so on a few
CPU cores each call waits for its answer to be generated one token at a time. `llama-server`
batches the next token of every busy slot into one forward pass (continuous batching, `-np`
slots) and keeps each slot's prompt in its KV cache, so `--block-size` ordering (one shared
prompt prefix per block) is reused per slot. syncse starts it on 127.0.0.1 on a free port,
waits for `/health`, talks to it through the `openai` backend (the same client, retries and
error handling as any hosted API) and stops it on exit, on an error and on Ctrl-C (`aclose`
and an `atexit` hook terminate it; the server runs in a session of its own, so a Ctrl-C reaches
syncse only, which then stops it).

The binary is not on PyPI (no registry package ships `llama-server`; see docs/synthesis.md),
so `make install` compiles it from the llama.cpp sources inside llama-cpp-python's own sdist,
the same llama.cpp version as the `llama-cpp` backend, into `.venv/bin/llama-server`.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from syncse.errors import SyncseError
from syncse.local_models import get_preset
from syncse.synthesis.backends.base import BackendError, ChatRequest, Completion
from syncse.synthesis.config import LlamaServerOptions, OpenAIOptions

#: Where a user's own build can be named; otherwise the venv's, then PATH.
BINARY_ENV = "SYNCSE_LLAMA_SERVER"
#: Extra command-line arguments for the server (shell syntax), for tuning without a code
#: change: e.g. "--spec-type ngram-simple" or "--flash-attn on". syncse's own (model, host,
#: port, slots, context, threads) come first; llama-server takes the last of a repeated flag.
EXTRA_ARGS_ENV = "SYNCSE_LLAMA_SERVER_ARGS"
ALIAS = "local"


def find_llama_server() -> Path:
    """The `llama-server` binary: $SYNCSE_LLAMA_SERVER, the one `make install` built into this
    environment's bin folder, or the first on PATH."""
    named = os.environ.get(BINARY_ENV)
    if named:
        path = Path(named).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SyncseError(f"${BINARY_ENV}={named}: not an executable file")
        return path
    beside = Path(sys.executable).parent / "llama-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("llama-server")
    if found:
        return Path(found)
    raise SyncseError(
        "llama-server not found: build it with `make llama-server` (compiles llama.cpp's "
        f"server from llama-cpp-python's sources), or set {BINARY_ENV} to a llama-server binary"
    )


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask the kernel to send SIGTERM when the parent
    goes, so a `kill -9` of syncse (no atexit, no finally) leaves no server holding the CPU."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class LlamaServerProcess:
    """One `llama-server` child on 127.0.0.1: started, health-checked, stopped."""

    def __init__(
        self,
        model: Path,
        slots: int,
        n_ctx: int,
        n_threads: int | None = None,
        binary: Path | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        self.model = model
        self.slots = slots
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.binary = binary or find_llama_server()
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="syncse-llama-server-", suffix=".log", delete=False
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        threads = str(self.n_threads)
        return [
            str(self.binary),
            *("--model", str(self.model), "--alias", ALIAS),
            *("--host", "127.0.0.1", "--port", str(self.port)),
            # Every slot gets the context a single llama-cpp context would have.
            *("--parallel", str(self.slots), "--ctx-size", str(self.n_ctx * self.slots)),
            *("--threads", threads, "--threads-batch", threads),
            "--no-webui",
            *shlex.split(os.environ.get(EXTRA_ARGS_ENV, "")),
        ]

    async def start(self) -> str:
        """Start the server and return its base URL once /health answers 200.

        A coroutine that waits with `asyncio.sleep`, so a Ctrl-C during the model's loading
        ends the wait at once: `asyncio.run` answers SIGINT by cancelling the main task, and a
        wait that blocked the event loop (as this one did, with `time.sleep`) never saw that
        cancellation. It went on polling a server the same SIGINT had reached until the server
        died ("exited with code -2 while loading", exit 2 instead of 130) or, for a server
        that survives the SIGINT without answering, for `startup_timeout` (120 s)."""
        from syncse.synthesis.backends.llama_cpp_python_server import free_port

        self.port = free_port()
        self.proc = subprocess.Popen(
            self.command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Out of the terminal's process group: Ctrl-C reaches syncse only, which stops the
            # server itself (`aclose`, or `start` when it comes while the model loads). In the
            # group, the server got the same SIGINT and raced syncse: killed while loading
            # (reported as its failure), a lost or hanging shutdown that needed SIGKILL 10 s
            # later, a segfault; and where syncse ignores SIGINT (started in the background
            # by a shell without job control) the server still stopped on it, and syncse went
            # on retrying every input against the closed port.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        atexit.register(self.stop)
        try:
            return await self._wait_until_healthy()
        except BaseException:  # an error, or Ctrl-C (CancelledError) while it loads
            self.stop()
            raise

    async def _wait_until_healthy(self) -> str:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        health = f"http://127.0.0.1:{self.port}/health"
        while True:
            # First in each round: a Ctrl-C that came while the last poll ran ends the wait
            # here, before its effect on the server (killed by the same SIGINT) is reported
            # as the server's failure.
            await asyncio.sleep(0.2)
            if self.proc.poll() is not None:
                raise SyncseError(
                    f"llama-server exited with code {self.proc.returncode} while loading "
                    f"{self.model.name}: {self._last_line()}"
                )
            # The deadline is checked before the poll, not after it: a poll that answered
            # after the deadline used to count as in time, so a small model that loads in
            # under one round never timed out however short `startup_timeout` was.
            if time.monotonic() > deadline:
                # The log's last line goes into the message: `stop()` deletes the log file,
                # so naming its path would point the user at a file that is gone.
                raise SyncseError(
                    f"llama-server did not answer /health within {self.startup_timeout:g} s "
                    f"while loading {self.model.name}; its last output: {self._last_line()}"
                )
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        return self.base_url
            except (urllib.error.URLError, OSError):
                pass  # not listening yet, or 503 while the model loads

    def _last_line(self) -> str:
        self._log.flush()
        lines = [
            line.strip()
            for line in Path(self._log.name).read_text(errors="replace").splitlines()
            if line.strip()
        ]
        errors = [line for line in lines if "error" in line.lower()]
        return (errors or lines or ["no output"])[-1][:300]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        atexit.unregister(self.stop)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


class LlamaServerBackend:
    """A GGUF model behind a `llama-server` that this backend owns.

    `slots` is both the server's slot count and the requests in flight: each slot decodes
    one request, and the server batches their tokens together.
    """

    def __init__(self, config: LlamaServerOptions, seed: int = 42) -> None:
        from syncse.synthesis.backends.llama_cpp_backend import resolve_gguf

        self.config = config
        self.path = resolve_gguf(config.model or "smollm2-135m")
        preset = get_preset(config.model or "")
        if not (preset.chat if preset else config.chat_template):
            raise SyncseError(
                f"{self.path.name}: llama-server serves chat models only here; use "
                "--backend llama-cpp for a base model (few-shot completion)"
            )
        # Its sampler is not llama-cpp-python's: the same request may answer differently, so
        # the response cache keeps the two apart.
        self.backend_id = f"llama-server:{preset.name if preset else self.path.name}"
        self.cache_id = self.backend_id
        self.concurrency = max(1, config.slots)
        self._seed = seed
        self._server: LlamaServerProcess | None = None
        self._client = None
        self._starting = asyncio.Lock()

    async def check(self) -> None:
        from syncse.synthesis.backends.openai_backend import OpenAIBackend

        async with self._starting:
            if self._client is not None:
                return
            server = LlamaServerProcess(
                self.path, self.concurrency, self.config.n_ctx, self.config.n_threads
            )
            self._server = server
            # Started from this (the main) thread on purpose, not a worker thread: the child
            # is told to die with the thread that started it (see `_die_with_parent`).
            url = await server.start()
            client_config = OpenAIOptions(
                model=ALIAS,
                base_url=url,
                concurrency=self.concurrency,
                timeout=self.config.timeout,
                max_retries=self.config.max_retries,
            )
            self._client = OpenAIBackend(client_config)

    async def complete(self, request: ChatRequest) -> Completion:
        await self.check()
        assert self._client is not None
        self._check_alive()
        try:
            return await self._client.complete(request)
        except BackendError:
            self._check_alive()  # refused or cut off because the server is gone
            raise

    def _check_alive(self) -> None:
        """Stop the run when the server has exited (crashed, killed): no retry brings it
        back, and otherwise every input left was rejected as a retryable backend error, each
        after all the client's retries against the closed port, and the run ended with exit
        code 0."""
        server = self._server
        if server is not None and server.proc is not None and server.proc.poll() is not None:
            code = server.proc.returncode
            raise SyncseError(f"llama-server exited with code {code}: {server._last_line()}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._server is not None:
            self._server.stop()
            self._server = None
