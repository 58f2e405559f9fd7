"""Shared fixtures: the real bundled encoder and the real evaluation data beside the project.

Tests run against `../shared/data` (or $SYNCSE_DATA_DIR); they fail, not skip, when it is
missing, so CI can never go green by silently testing nothing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


#: Cache subfolders the suite shares with the user's cache: models assembled from chunk
#: packages and backbones de-quantized from GGUF, which take minutes to rebuild and are the same
#: bytes whoever builds them (checked by sha256 where assembled).
SHARED_CACHE = ("models", "backbones")


@pytest.fixture(scope="session")
def user_cache_dir() -> Path:
    """The cache syncse would use outside the suite ($SYNCSE_CACHE_DIR, else ~/.cache/syncse)."""
    from syncse.data.locations import cache_dir

    return cache_dir()


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(user_cache_dir: Path, tmp_path_factory) -> Path:
    """The suite's own $SYNCSE_CACHE_DIR: scores and verdicts the tests compute (the shared
    start-model scores, say) never land in the user's cache, nor do the user's stale ones
    answer a test. Only `SHARED_CACHE` is linked to the user's cache, so CI does not assemble
    and de-quantize models again in every session."""
    ours = tmp_path_factory.mktemp("syncse-cache")
    for name in SHARED_CACHE:
        try:
            (user_cache_dir / name).mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only home: the suite builds its own copies
            continue
        (ours / name).symlink_to(user_cache_dir / name, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNCSE_CACHE_DIR", str(ours))
        yield ours


@pytest.fixture(scope="session")
def senteval_dir() -> Path:
    path = Path(os.environ.get("SYNCSE_DATA_DIR", ROOT.parent / "shared" / "data" / "senteval"))
    assert (path / "STS").is_dir(), f"evaluation data missing at {path}; set SYNCSE_DATA_DIR"
    return path


@pytest.fixture(scope="session")
def flickr8k_dir(senteval_dir: Path) -> Path:
    path = senteval_dir.parent / "flickr8k"
    assert (path / "Flickr8k.token.txt").exists(), f"Flickr8k missing at {path}"
    return path


@pytest.fixture(scope="session")
def llama_server_binary() -> Path:
    """The llama-server binary `make install` builds. Without it the test skips on a
    developer's machine and fails under CI, so CI cannot go green by testing nothing."""
    from syncse.errors import SyncseError
    from syncse.synthesis.backends.llama_server import find_llama_server

    try:
        return find_llama_server()
    except SyncseError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{exc} (make install builds it)")


@pytest.fixture(scope="session")
def minilm():
    from syncse.models import load_encoder

    return load_encoder("minilm", device="cpu")


@pytest.fixture
def syncse_logs(caplog):
    """What the `syncse` loggers said (INFO and above) during the test, message by message:
    iterate it, test `in`, or `clear()` it between steps."""
    caplog.set_level(logging.INFO, logger="syncse")

    class Logs:
        def __iter__(self):
            return iter(caplog.messages)

        def __repr__(self) -> str:
            return repr(caplog.messages)

        def clear(self) -> None:
            caplog.clear()

    return Logs()


@pytest.fixture
def syncse_cli(capsys):
    """Run the real `syncse` entry point in this process (imports are paid once per test
    session, not once per case as with a subprocess); return (exit code, stderr). What it
    printed on stdout is then in `syncse_cli.stdout`."""
    import sys

    from syncse import cli

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()  # drop what earlier steps of the test printed
        old = sys.argv
        sys.argv = ["syncse", *map(str, argv)]
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = old
        captured = capsys.readouterr()
        run.stdout = captured.out
        return code, captured.err

    return run
