"""The package's shape (docs/architecture.md): data flows one way, each file name and record
has one owner, and backends take only their own settings."""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "syncse"


def _imports(folder: Path) -> dict[str, set[str]]:
    """Module file -> every `syncse.*` module it imports (top level or inside functions)."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        found[str(path.relative_to(SRC))] = {n for n in names if n.startswith("syncse")}
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("data", ("syncse.synthesis", "syncse.training", "syncse.evaluation", "syncse.pipeline")),
        ("synthesis", ("syncse.training", "syncse.evaluation", "syncse.pipeline")),
        ("training", ("syncse.evaluation", "syncse.pipeline")),
        ("evaluation", ("syncse.synthesis", "syncse.training", "syncse.pipeline")),
    ],
)
def test_data_flows_one_way(folder, forbidden):
    wrong = {
        module: sorted(n for n in names if n.startswith(forbidden))
        for module, names in _imports(SRC / folder).items()
    }
    assert not {m: n for m, n in wrong.items() if n}


def test_run_folder_and_side_file_names_have_one_owner():
    owners = {
        "pipeline/layout.py": re.compile(r'"(stages|stats)\.json"|"config\.yaml"|"eval"'),
        "data/triplets.py": re.compile(r'"\.(rejected\.jsonl|summary\.json|manifest\.json)"'),
        "training/summary.py": re.compile(r'"syncse_training\.json"'),
    }
    for owner, pattern in owners.items():
        spelled = [
            str(p.relative_to(SRC))
            for p in SRC.rglob("*.py")
            if pattern.search(p.read_text(encoding="utf-8"))
        ]
        assert spelled == [owner], pattern.pattern


def test_summaries_round_trip_and_tolerate_newer_files():
    from syncse.synthesis.summary import RunUsage, SynthesisSummary

    summary = SynthesisSummary(
        output="t.jsonl",
        rejected_file="t.jsonl.rejected.jsonl",
        accepted=3,
        rejected={"copies_input": 1},
        this_run=RunUsage(llm_calls=7, answers={"positive:ok": 3}),
        backend="llama-cpp:smollm2-135m",
        config_fingerprint="abc",
        mode="scratch",
        wanted=4,
    )
    data = summary.to_json()
    assert SynthesisSummary.from_json(data) == summary
    newer = data | {"a_key_from_a_later_version": 1}
    again = SynthesisSummary.from_json(newer)
    assert again.this_run.llm_calls == 7 and again["accepted"] == 3
    with pytest.raises(KeyError):
        again["a_key_from_a_later_version"]


def test_a_setting_of_another_backend_is_a_one_line_error(syncse_cli, tmp_path):
    source = tmp_path / "s.txt"
    source.write_text("A dog runs on the beach.\n")
    code, err = syncse_cli(
        "synthesize",
        "partial",
        "--input",
        source,
        "--out",
        tmp_path / "o.jsonl",
        "--backend",
        "llama-cpp",
        "--base-url",
        "http://127.0.0.1:9/v1",
    )
    assert code == 2
    message = err.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "base_url" in message and "openai" in message
    assert not (tmp_path / "o.jsonl").exists()


def test_docstrings_cite_commands_and_test_files_that_exist():
    from syncse import cli

    commands = {g.name for g in cli.app.registered_groups} | {
        c.name or c.callback.__name__.replace("_", "-") for c in cli.app.registered_commands
    }
    assert {"synthesize", "filter", "train", "evaluate", "compare", "run"} <= commands
    root = SRC.parents[1]
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for command in re.findall(r"`syncse ([a-z][a-z-]*)", text):
            assert command in commands, f"{path.relative_to(root)}: `syncse {command}`"
        for cited in re.findall(r"\btests/[\w/]+\.py", text):
            assert (root / cited).is_file(), f"{path.relative_to(root)}: {cited}"


def test_the_python_server_module_is_named_for_it_and_the_old_name_imports():
    """`llama_cpp_python_server` starts llama-cpp-python's Python server; `llama_server` is
    the backend that runs llama.cpp's native binary."""
    import inspect

    from syncse.synthesis.backends import llama_cpp_python_server, llama_server, local_server

    assert local_server.llama_server is llama_cpp_python_server.python_server
    assert '"llama_cpp.server"' in inspect.getsource(llama_cpp_python_server)
    assert "llama_cpp.server" not in inspect.getsource(llama_server)
