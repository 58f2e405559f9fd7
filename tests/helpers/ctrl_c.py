"""Starting a command the way a terminal does, so that a test's SIGINT is a real Ctrl-C.

A shell without job control starts background commands (`make test &`, `nohup pytest &`, many
CI and agent runners) with SIGINT ignored, every child inherits that, and Python keeps an
ignored SIGINT ignored: no KeyboardInterrupt, and `asyncio.run` installs no handler. A Ctrl-C
test run that way sends a SIGINT nobody sees; it then "passes" when the run happens to finish
within its timeout and fails when it does not, which made the llama-server Ctrl-C test flaky.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path


def _as_in_a_terminal() -> None:  # in the child, before exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_interruptible(command: list[str], stderr) -> subprocess.Popen:
    """`command` in a process group of its own (what the test's SIGINT goes to), with SIGINT's
    default action whatever this process inherited."""
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=_as_in_a_terminal,
    )


def answers_cached(out: Path) -> int:
    """Answers in a synthesis run's response cache so far (0 before the model's first)."""
    path = out.with_name(out.name + ".cache.sqlite")
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # the table is not there yet
        return 0
