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
